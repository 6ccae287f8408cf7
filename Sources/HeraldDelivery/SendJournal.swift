public import Foundation
public import HeraldCore
import Synchronization

/// What a network provider did with each message, kept beside the outbox so that after a crash
/// it can say what the server has (a provider that cannot ask its server otherwise).
///
/// One file per run: `B BOOT` when a process opens it (written and synced before its first
/// send), `S ID` just before a message goes on the wire, `D ID +` when the server took it (with
/// its id) and `D ID -` when it did not. Each record is one `write`, which survives the process
/// being killed; the file is synced at the end of each batch. After a machine restart (another
/// boot id) the records since the last sync may be lost, so what they would have said is
/// unknown instead.
public final class SendJournal: Sendable {
    public let directory: String
    private let open = Mutex<[Int64: Int32]>([:])

    public init(directory: String) {
        self.directory = directory
    }

    deinit { open.withLock { for fd in $0.values { close(fd) } } }

    func path(runID: Int64) -> String { "\(directory)/run-\(runID).journal" }

    /// This boot of the machine (Linux's boot id); nil where the system does not say.
    static let boot: String? = (try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8))
        .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap { $0.isEmpty ? nil : $0 }

    /// The run's file, opened (and begun, synced) at this process's first message of the run.
    private func descriptor(runID: Int64) throws -> Int32 {
        try open.withLock { open in
            if let fd = open[runID] { return fd }
            try Files.createDirectory(directory)
            let file = path(runID: runID)
            let fd = Foundation.open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw HeraldError(.io, "cannot write \(file): \(String(cString: strerror(errno)))") }
            do {
                try Self.write(fd, "B \(Self.boot ?? "-")\n", file: file)
                guard fsync(fd) == 0 else { throw HeraldError(.io, "cannot sync \(file): \(String(cString: strerror(errno)))") }
            } catch {
                close(fd)
                throw error
            }
            open[runID] = fd
            return fd
        }
    }

    private static func write(_ fd: Int32, _ line: String, file: String) throws {
        let bytes = Array(line.utf8)
        let n = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress!, bytes.count) }
        guard n == bytes.count else { throw HeraldError(.io, "cannot write \(file): \(String(cString: strerror(errno)))") }
    }

    /// Notes that `message` is about to go on the wire; throws (and it must not go) when the
    /// note cannot be written.
    public func starting(_ message: OutboundMessage) throws {
        try Self.write(try descriptor(runID: message.runID), "S \(message.id)\n", file: path(runID: message.runID))
    }

    /// Notes what became of a message noted as starting; an unknown outcome is left unnoted.
    public func finished(_ message: OutboundMessage, _ outcome: ProviderOutcome) {
        let line: String
        switch outcome {
        case .sent(let id): line = "D \(message.id) +\(id.map { " " + $0.filter { !$0.isWhitespace } } ?? "")\n"
        case .transient, .permanent: line = "D \(message.id) -\n"
        case .unknown: return
        }
        // Not being able to say it leaves the message unknown after a crash: safe.
        if let fd = try? descriptor(runID: message.runID) { try? Self.write(fd, line, file: path(runID: message.runID)) }
    }

    /// Sends `batch` over `lanes` with each message noted before and after (a message whose
    /// note cannot be written does not go), then syncs: what a network provider's `send` does.
    static func send<Lane: Sendable>(
        _ batch: [OutboundMessage], over lanes: [Lane], journal: SendJournal?, what: String,
        _ send: @escaping @Sendable (Lane, OutboundMessage) -> ProviderOutcome
    ) -> [ProviderOutcome] {
        defer { journal?.sync() }
        return Curl.send(batch, over: lanes) { lane, message in
            do { try journal?.starting(message) } catch {
                return .transient("not sent: the \(what) journal cannot be written: \(error)", retryAfter: nil)
            }
            let outcome = send(lane, message)
            journal?.finished(message, outcome)
            return outcome
        }
    }

    /// Syncs what this process wrote (at the end of a batch).
    public func sync() {
        open.withLock { for fd in $0.values { _ = fsync(fd) } }
    }

    /// What the journal says of messages an executor left claimed.
    public func reconcile(_ messages: [ClaimedMessage], runID: Int64) -> [Reconciliation] {
        guard let data = FileManager.default.contents(atPath: path(runID: runID)) else {
            // No file: no process got as far as sending a message of this run.
            return messages.map { _ in .notDelivered }
        }
        var started = Set<Int64>()
        var done: [Int64: Reconciliation] = [:]
        var lastBoot: String?
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: " ")
            guard parts.count >= 2 else { continue }
            switch parts[0] {
            case "B": lastBoot = String(parts[1])
            case "S": if let id = Int64(parts[1]) { started.insert(id) }
            case "D":
                guard let id = Int64(parts[1]), parts.count >= 3 else { continue }
                done[id] = parts[2] == "+" ? .delivered(providerID: parts.count > 3 ? String(parts[3]) : nil) : .notDelivered
            default: continue
            }
        }
        // Records written since the last sync survive a killed process, not a machine restart.
        let sameBoot = Self.boot != nil && lastBoot == Self.boot
        return messages.map { m in
            if let known = done[m.id] { return known }
            if started.contains(m.id) { return .cannotTell }
            return sameBoot ? .notDelivered : .cannotTell
        }
    }
}
