public import Foundation
public import HeraldCore

/// Writes files the way delivery needs: a whole file appears at once (temporary name, fsync,
/// rename), and appended lines land in one `write` and are synced before the call returns.
enum Files {
    static func createDirectory(_ path: String) throws {
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            // Say why in words, as a check before any write would have said it.
            let why = problem(directory: path) ?? String(cString: strerror(errno))
            throw HeraldError(.io, "cannot create the directory \(path): \(why)")
        }
    }

    /// Writes `bytes` to `path` atomically and durably.
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let temporary = path + ".partial"
        try append(bytes, to: temporary, truncate: true)
        guard rename(temporary, path) == 0 else {
            throw HeraldError(.io, "cannot move \(temporary) to \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Appends `bytes` to `path` in one write, then syncs it.
    static func append(_ bytes: [UInt8], to path: String, truncate: Bool = false) throws {
        let fd = open(path, O_WRONLY | O_CREAT | (truncate ? O_TRUNC : O_APPEND) | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw HeraldError(.io, "cannot write \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, bytes.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                throw HeraldError(.io, "cannot write \(path): \(String(cString: strerror(errno)))")
            }
            written += n
        }
        guard fsync(fd) == 0 else { throw HeraldError(.io, "cannot sync \(path): \(String(cString: strerror(errno)))") }
    }

    /// Why Herald could not write to the directory `path`, without creating anything: it, or the
    /// first part of it that exists, is a file or not writable; nil when it looks usable.
    static func problem(directory path: String) -> String? {
        var isDirectory: ObjCBool = false
        var existing = path
        while !FileManager.default.fileExists(atPath: existing, isDirectory: &isDirectory) {
            let parent = (existing as NSString).deletingLastPathComponent
            if parent.isEmpty || parent == existing {
                existing = "."
                _ = FileManager.default.fileExists(atPath: existing, isDirectory: &isDirectory)
                break
            }
            existing = parent
        }
        if !isDirectory.boolValue { return "\(existing) is a file, not a directory" }
        return access(existing, W_OK) == 0 ? nil : "\(existing) is not writable"
    }

    /// Refuses a directory Herald could not write to, before anything is claimed, without
    /// creating it (a refused command leaves nothing behind; it is made at the first write).
    static func requireWritable(_ path: String, what: String) throws {
        if let problem = problem(directory: path) { throw HeraldError(.invalidInput, "\(what): cannot be written to: \(problem)") }
    }

    /// `path` made absolute against the working directory, with `.` and `..` resolved: a run
    /// records where it delivers, and a store named `s.db`, `./s.db` or `/x/s.db` is one place.
    static func absolute(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }
}

/// The default provider: one `.eml` file per e-mail (`email/run-R/ID.eml`) and JSON lines for
/// SMS and push (`sms/run-R.jsonl`, `push/run-R.jsonl`) in the outbox directory. Nothing leaves
/// the machine.
public struct OutboxProvider: ChannelProvider {
    public let name = "outbox"
    public let directory: String
    public let email: EmailSettings
    public var destination: String { "outbox \(directory)" }

    public init(directory: String, email: EmailSettings) throws {
        self.directory = directory
        self.email = email
        try Files.requireWritable(directory, what: "outbox.directory")
    }

    func emailFile(runID: Int64, id: Int64) -> String { "\(directory)/email/run-\(runID)/\(id).eml" }
    func linesFile(_ channel: Channel, runID: Int64) -> String { "\(directory)/\(channel.rawValue)/run-\(runID).jsonl" }

    /// The outbox knows: an e-mail is there when its file is (a file cut short by the stop
    /// stays under its temporary name and is removed), an SMS or push when its line is.
    public func reconcile(_ messages: [ClaimedMessage], runID: Int64) -> [Reconciliation] {
        var lines: [Channel: Set<Int64>] = [:]
        return messages.map { m in
            switch m.channel {
            case .email:
                let file = emailFile(runID: runID, id: m.id)
                if FileManager.default.fileExists(atPath: file) { return .delivered(providerID: nil) }
                try? FileManager.default.removeItem(atPath: file + ".partial")
                return .notDelivered
            case .sms, .push, .directMail:
                if lines[m.channel] == nil {
                    guard let data = FileManager.default.contents(atPath: linesFile(m.channel, runID: runID)) else {
                        lines[m.channel] = []
                        return .notDelivered
                    }
                    lines[m.channel] = JSONLine.ids(in: data)
                }
                return lines[m.channel]!.contains(m.id) ? .delivered(providerID: nil) : .notDelivered
            }
        }
    }

    public func send(_ batch: [OutboundMessage]) -> [ProviderOutcome] {
        var outcomes: [ProviderOutcome] = []
        var lines: [String: [UInt8]] = [:]
        var order: [(Int, String)] = []
        for (i, message) in batch.enumerated() {
            switch message.channel {
            case .email:
                let file = emailFile(runID: message.runID, id: message.id)
                do {
                    try Files.createDirectory((file as NSString).deletingLastPathComponent)
                    let mime = EmailMIME.build(message, settings: email, date: Date())
                    try Files.writeAtomically(Array(mime.utf8), to: file)
                    outcomes.append(.sent(providerID: EmailMIME.messageID(message, from: EmailMIME.sender(message, settings: email))))
                } catch {
                    outcomes.append(.transient("the outbox cannot be written: \(error)", retryAfter: nil))
                }
            case .sms, .push, .directMail:
                let file = linesFile(message.channel, runID: message.runID)
                lines[file, default: []] += Array((JSONLine.encode(message) + "\n").utf8)
                order.append((i, file))
                outcomes.append(.sent(providerID: nil))
            }
        }
        // Each file's lines of the batch in one write: a message is in the file whole or not at all.
        for (file, bytes) in lines {
            do {
                try Files.createDirectory((file as NSString).deletingLastPathComponent)
                try Files.append(bytes, to: file)
            } catch {
                for (i, f) in order where f == file { outcomes[i] = .unknown("the outbox file could not be completed: \(error)") }
            }
        }
        return outcomes
    }
}

/// One CSV extract per run and node (`run-R-NODE.csv`), built as `….csv.partial` batch by batch
/// and renamed when the node has nothing left to deliver. Columns: the message id, the profile
/// and entity keys, the postal address, then the node's `columns` template split at `;`.
public struct DirectMailProvider: ChannelProvider {
    public let name = "direct_mail"
    public let directory: String
    public var destination: String { "direct_mail \(directory)" }

    public init(directory: String) throws {
        self.directory = directory
        try Files.requireWritable(directory, what: "channels.direct_mail.directory")
    }

    func path(runID: Int64, nodeID: NodeID) -> String { "\(directory)/run-\(runID)-\(nodeID.name).csv" }

    public func send(_ batch: [OutboundMessage]) -> [ProviderOutcome] {
        var files: [String: [UInt8]] = [:]
        for message in batch {
            let file = path(runID: message.runID, nodeID: message.nodeID) + ".partial"
            var text = ""
            if files[file] == nil && !FileManager.default.fileExists(atPath: file) {
                let count = (message.field("columns") ?? "").split(separator: ";", omittingEmptySubsequences: false).count
                text +=
                    (["message_id", "profile", "entity", "address"] + (0..<count).map { "column_\($0 + 1)" }).map(CSV.field).joined(
                        separator: ",") + "\r\n"
            }
            let columns = (message.field("columns") ?? "").split(separator: ";", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            text +=
                ([String(message.id), message.profileKey, message.entityKey ?? "", message.address] + columns).map(CSV.field).joined(
                    separator: ",") + "\r\n"
            files[file, default: []] += Array(text.utf8)
        }
        do { try Files.createDirectory(directory) } catch {
            return batch.map { _ in .transient("the extracts directory cannot be made: \(error)", retryAfter: nil) }
        }
        for (file, bytes) in files {
            do { try Files.append(bytes, to: file) } catch {
                return batch.map { _ in .unknown("the extract could not be completed: \(error)") }
            }
        }
        return batch.map { _ in .sent(providerID: nil) }
    }

    /// The extract in progress knows: a message is there when its row is.
    public func reconcile(_ messages: [ClaimedMessage], runID: Int64) -> [Reconciliation] {
        var rows: [NodeID: Set<Int64>] = [:]
        return messages.map { m in
            if rows[m.nodeID] == nil {
                let text = FileManager.default.contents(atPath: path(runID: runID, nodeID: m.nodeID) + ".partial").map {
                    String(decoding: $0, as: UTF8.self)
                }
                rows[m.nodeID] = Set((text ?? "").split(separator: "\r\n").dropFirst().compactMap { Int64($0.prefix { $0 != "," }) })
            }
            return rows[m.nodeID]!.contains(m.id) ? .delivered(providerID: nil) : .notDelivered
        }
    }

    public func complete(runID: Int64, nodeID: NodeID) throws {
        let final = path(runID: runID, nodeID: nodeID)
        guard FileManager.default.fileExists(atPath: final + ".partial") else { return }
        guard rename(final + ".partial", final) == 0 else {
            throw HeraldError(.io, "cannot finish the extract \(final): \(String(cString: strerror(errno)))")
        }
    }
}

/// Accepts every message and keeps nothing: for measuring the pipeline.
public struct DiscardProvider: ChannelProvider {
    public let name = "discard"
    public init() {}
    public func send(_ batch: [OutboundMessage]) -> [ProviderOutcome] { batch.map { _ in .sent(providerID: nil) } }
    /// Nothing left the machine: sending again is harmless.
    public func reconcile(_ messages: [ClaimedMessage], runID: Int64) -> [Reconciliation] { messages.map { _ in .notDelivered } }
}

enum CSV {
    static func field(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
            ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }
}

/// The outbox's JSON line for an SMS or push message.
enum JSONLine {
    static func encode(_ m: OutboundMessage) -> String {
        var pairs: [(String, JSONValue)] = [
            ("id", .integer(m.id)), ("run", .integer(m.runID)), ("campaign", .string(m.campaignName)), ("node", .string(m.nodeID.name)),
            ("channel", .string(m.channel.rawValue)), ("category", .string(m.category.rawValue)), ("to", .string(m.address)),
        ]
        for field in m.fields {
            // Push data goes as the JSON object it is (the renderer refused any other).
            if m.channel == .push, field.name == "data", let object = try? JSONValue.parse(field.text), case .object = object {
                pairs.append((field.name, object))
            } else {
                pairs.append((field.name, .string(field.text)))
            }
        }
        if let segments = m.fields.first(where: { $0.name == "text" })?.segments {
            pairs.append(("encoding", .string(segments.encoding.rawValue)))
            pairs.append(("segments", .integer(Int64(segments.parts))))
        }
        return JSONValue.object(pairs).compact()
    }

    /// The message ids of an outbox file's lines.
    static func ids(in data: Data) -> Set<Int64> {
        var ids = Set<Int64>()
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            guard case .object(let pairs)? = try? JSONValue.parse(String(line)),
                case .integer(let id)? = pairs.first(where: { $0.0 == "id" })?.1
            else { continue }
            ids.insert(id)
        }
        return ids
    }
}
