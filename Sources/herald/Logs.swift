import Foundation
import HeraldCore
import Logging

/// Where diagnostics go: standard error for commands, a file while the interface owns the
/// screen. Messages name ids, counts and timings, never addresses or message bodies.
struct LogSetup {
    var level: Logger.Level = .warning
    /// Explicit `--log-file`; nil for the default (standard error, or the state file for the interface).
    var file: String?

    static let levels = Logger.Level.allCases.map(\.rawValue)

    /// Takes `--log-level LEVEL` and `--log-file PATH` (also `--opt=value`) out of `arguments`,
    /// wherever they stand, so every command accepts them; `HERALD_LOG_LEVEL` sets the default.
    static func extract(_ arguments: inout [String], environment: [String: String]) throws -> LogSetup {
        var setup = LogSetup()
        if let text = environment["HERALD_LOG_LEVEL"], !text.isEmpty {
            guard let level = Logger.Level(rawValue: text.lowercased()) else {
                throw HeraldError(
                    .invalidInput, "HERALD_LOG_LEVEL: expected one of \(levels.joined(separator: ", ")), found '\(text)'")
            }
            setup.level = level
        }
        var kept: [String] = []
        var index = 0
        while index < arguments.count {
            let word = arguments[index]
            if word == "--" {
                kept += arguments[index...]
                break
            }
            var name = word
            var value: String?
            if let equals = word.firstIndex(of: "="), word.hasPrefix("--") {
                name = String(word[..<equals])
                value = String(word[word.index(after: equals)...])
            }
            guard name == "--log-level" || name == "--log-file" else {
                kept.append(word)
                index += 1
                continue
            }
            if value == nil {
                guard index + 1 < arguments.count else { throw HeraldError(.invalidInput, "\(name): expected a value") }
                value = arguments[index + 1]
                index += 1
            }
            index += 1
            if name == "--log-level" {
                guard let level = Logger.Level(rawValue: value!.lowercased()) else {
                    throw HeraldError(.invalidInput, "--log-level: expected one of \(levels.joined(separator: ", ")), found '\(value!)'")
                }
                setup.level = level
            } else {
                guard !value!.isEmpty else { throw HeraldError(.invalidInput, "--log-file: expected a file path") }
                setup.file = value
            }
        }
        arguments = kept
        return setup
    }

    /// The interface's default log file: `$XDG_STATE_HOME/herald/herald.log`, else
    /// `~/.local/state/herald/herald.log`.
    static func defaultFile(environment: [String: String]) -> String? {
        let base: String
        if let state = environment["XDG_STATE_HOME"], state.hasPrefix("/") {
            base = state
        } else if let home = environment["HOME"], !home.isEmpty {
            base = home + "/.local/state"
        } else {
            return nil
        }
        return base + "/herald/herald.log"
    }

    /// Sends every logger to standard error, or appends to `file` (creating its folder).
    /// - Throws: when `file` cannot be opened for appending.
    func bootstrap(toFile file: String?, createFolder: Bool = false) throws {
        let level = self.level
        guard let file else {
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
            return
        }
        let sink = try LogFile(path: file, createFolder: createFolder)
        LoggingSystem.bootstrap { label in
            var handler = FileLogHandler(label: label, sink: sink)
            handler.logLevel = level
            return handler
        }
    }
}

/// An append-only log file shared by every logger of the process.
final class LogFile: @unchecked Sendable {
    private let fd: Int32
    private let lock = NSLock()

    /// Opens `path` for appending, creating the file (mode 600) but, unless `createFolder`, not
    /// its folder: a mistyped `--log-file` folder is refused rather than made.
    init(path: String, createFolder: Bool) throws {
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            var isDirectory: ObjCBool = false
            if !FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) {
                guard createFolder else { throw HeraldError(.invalidInput, "--log-file: the folder \(folder) does not exist") }
                do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
                    throw HeraldError(.invalidInput, "--log-file: cannot create the folder \(folder): \(error.localizedDescription)")
                }
            } else if !isDirectory.boolValue {
                throw HeraldError(.invalidInput, "--log-file: \(folder) is not a folder")
            }
        }
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        if fd < 0 { throw HeraldError(.invalidInput, "--log-file: cannot write to \(path): \(Output.reason(errno))") }
    }

    /// Appends a line; a log that cannot be written (a full disk) is not a reason to stop.
    func write(_ line: String) {
        lock.lock()
        defer { lock.unlock() }
        _ = Output.write(Array(line.utf8), to: fd)
    }
}

/// One line per message: time, level, label, message, metadata.
struct FileLogHandler: LogHandler {
    let label: String
    let sink: LogFile
    var logLevel: Logger.Level = .warning
    var metadata: Logger.Metadata = [:]

    init(label: String, sink: LogFile) {
        self.label = label
        self.sink = sink
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { _, new in new }
        let fields = all.isEmpty ? "" : " " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let time = ISO8601DateFormatter.string(from: Date(), timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withInternetDateTime])
        sink.write("\(time) \(event.level) \(label): \(event.message)\(fields)\n")
    }
}
