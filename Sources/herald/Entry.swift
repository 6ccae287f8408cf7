import ArgumentParser
import Foundation
import HeraldCore
import HeraldEngine
import HeraldStore
import HeraldTUI
import Logging

@main
struct Entry {
    static func main() {
        // Before any connection opens.
        SQLiteProcess.prepare()
        let environment = ProcessInfo.processInfo.environment
        // A file over the size limit fails its write (reported, exit 1) instead of killing Herald.
        signal(SIGXFSZ, SIG_IGN)
        var arguments = Array(CommandLine.arguments.dropFirst())
        do {
            if let form = environment["HERALD_ONE_TO_MANY"], !form.isEmpty, OneToManyForm(rawValue: form) == nil {
                throw HeraldError(.invalidInput, "HERALD_ONE_TO_MANY: expected 'correlated' or 'set-wise', found '\(form)'")
            }
            if let text = environment["HERALD_BUSY_TIMEOUT"], !text.isEmpty, (TimeInterval(text) ?? -1) <= 0 {
                throw HeraldError(.invalidInput, "HERALD_BUSY_TIMEOUT: expected a number of seconds above 0, found '\(text)'")
            }
            // The connection settings fall back to their defaults silently otherwise.
            for (name, least) in [("HERALD_MMAP_MB", 0), ("HERALD_CACHE_MB", 1)] {
                if let text = environment[name], !text.isEmpty, (Int(text) ?? -1) < least {
                    throw HeraldError(.invalidInput, "\(name): expected a whole number of megabytes, at least \(least), found '\(text)'")
                }
            }
            let logs = try LogSetup.extract(&arguments, environment: environment)
            // The interface owns the screen, so its logs go to a file; commands log to stderr.
            let opensInterface = Herald.opensInterface(arguments)
            var file = logs.file
            if opensInterface && file == nil { file = LogSetup.defaultFile(environment: environment) }
            do {
                // Herald makes the default log folder; a folder someone named must exist.
                try logs.bootstrap(toFile: file, createFolder: logs.file == nil)
            } catch  where logs.file == nil {
                // The default log folder is not writable: the interface runs without a log.
                try logs.bootstrap(toFile: "/dev/null")
            }
        } catch let error as HeraldError {
            Output.standardError("herald: \(Names.visible(error.message))\n")
            exit(2)
        } catch {
            Output.standardError("herald: \(Names.visible("\(error)"))\n")
            exit(2)
        }
        arguments = Herald.joiningNegativeNumbers(arguments)
        if let message = Herald.unknownSubcommand(arguments) {
            Output.standardError("herald: \(Names.visible(message))\n")
            exit(2)
        }
        do {
            var command = try Herald.parseAsRoot(arguments)
            // Whatever the command wrote is in the database file when it exits, even on failure.
            defer { for problem in Store.checkpointWritten() { Output.standardError("herald: \(problem)\n") } }
            try command.run()
        } catch let interrupted as Interruption.Interrupted {
            Output.standardError("herald: \(interrupted.message)\n")
            exit(128 + interrupted.signal)
        } catch let error as HeraldError {
            Output.standardError("herald: \(Names.visible(error.message))\n")
            exit(error.exitStatus)
        } catch {
            let code = Herald.exitCode(for: error)
            if code == .success {
                Herald.exit(withError: error)  // --help and --version print and exit 0
            }
            if code == .validationFailure {
                // Bad command-line input: the same status as every other user error.
                Output.standardError(Names.visible(Herald.fullMessage(for: error)) + "\n")
                exit(2)
            }
            Herald.exit(withError: error)
        }
    }
}

extension Herald {
    /// `--limit -5` as `--limit=-5`: the parser takes a word starting with `-` for an option and
    /// would say the value is missing, where the value's own check says what is wrong with it.
    static func joiningNegativeNumbers(_ arguments: [String]) -> [String] {
        var result: [String] = []
        var i = 0
        while i < arguments.count {
            let word = arguments[i]
            if word.hasPrefix("--"), !word.contains("="), word != "--", i + 1 < arguments.count,
                arguments[i + 1].wholeMatch(of: /-[0-9][0-9.]*/) != nil
            {
                result.append(word + "=" + arguments[i + 1])
                i += 2
                continue
            }
            result.append(word)
            i += 1
        }
        return result
    }
}

struct Herald: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "herald",
        abstract: "Design and run orchestrated marketing campaigns on one SQLite file.",
        discussion: """
            Run 'herald [STORE]' to open the terminal interface (default ./sample.db). Every command also takes \
            --log-level trace|debug|info|notice|warning|error|critical (or HERALD_LOG_LEVEL; default warning) \
            and --log-file PATH. Commands log to standard error; the interface logs to \
            $XDG_STATE_HOME/herald/herald.log (~/.local/state/herald/herald.log). Logs name ids, counts and \
            timings, never addresses or message bodies.
            """,
        version: "0.1.0",
        subcommands: [
            OpenCommand.self, DemoCommand.self, ImportCommand.self, CatalogCommand.self, CampaignCommand.self,
            AudienceCommand.self, InitCommand.self, RunCommand.self, RunsCommand.self, LogsCommand.self, ScheduleCommand.self,
            SchedulerCommand.self, ConsentCommand.self, SuppressionCommand.self, HistoryCommand.self, ConfigCommand.self,
            ProofCommand.self, ServeCommand.self, ThemeCommand.self, ScriptCommand.self,
        ],
        defaultSubcommand: OpenCommand.self
    )
}

extension Herald {
    /// Whether these arguments open the terminal interface (`herald`, `herald STORE`, `herald open`).
    static func opensInterface(_ arguments: [String]) -> Bool {
        guard let first = arguments.first(where: { !$0.hasPrefix("-") }) else {
            return !arguments.contains { ["-h", "--help", "--version"].contains($0) }
        }
        func name<C: ParsableCommand>(_ type: C.Type) -> String { C._commandName }
        let names = Herald.configuration.subcommands.map { name($0) }
        return first == "open" || (!names.contains(first) && first != "help")
    }

    /// A message for a misspelled subcommand (`herald campain list`, `herald campaign lst`),
    /// which the parser would otherwise read as a store path or an unexpected argument; nil
    /// when the words name commands (or a store file, for the default command).
    static func unknownSubcommand(_ arguments: [String]) -> String? {
        // Generic helpers: asking an existential metatype directly crashes this compiler.
        func configuration<C: ParsableCommand>(_ type: C.Type) -> CommandConfiguration { C.configuration }
        func name<C: ParsableCommand>(_ type: C.Type) -> String { C._commandName }
        var command: any ParsableCommand.Type = Herald.self
        var path = ["herald"]
        for (index, word) in arguments.enumerated() {
            // Options, help, and numbers (run ids) end the words that can name commands.
            guard !word.hasPrefix("-"), word != "help", Int64(word) == nil else { return nil }
            let current = configuration(command)
            let subcommands = current.subcommands
            guard !subcommands.isEmpty else { return nil }
            let names = subcommands.map { name($0) }
            if let next = names.firstIndex(of: word) {
                command = subcommands[next]
                path.append(word)
                continue
            }
            let suggestion = Names.suggestion(for: word, in: names)
            if current.defaultSubcommand != nil {
                // `herald STORE` opens the interface: a word that is a file, or is not close to
                // a command and comes alone, is a store path.
                if FileManager.default.fileExists(atPath: word) { return nil }
                if suggestion.isEmpty && index == arguments.count - 1 { return nil }
            }
            return
                "unknown command '\(word)' for '\(path.joined(separator: " "))'\(suggestion) (commands: \(names.joined(separator: ", ")))"
        }
        return nil
    }
}

/// `--db PATH`, shared by every command that works on a store.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The store file.", valueName: "path"))
    var db: String = ProcessInfo.processInfo.environment["HERALD_DB"] ?? "sample.db"

    init() {}
    init(db: String) { self.db = db }

    /// The store, read-only: commands that only look leave the file byte-for-byte unchanged.
    func openForReading() throws -> Store { try Store.openForReading(path: db) }

    /// The store, writable and up to date; says so when this adds Herald's tables to a file.
    func openForWriting(create: Bool = false) throws -> Store {
        let store = try Store.open(path: db, create: create)
        if store.adopted { warn("herald: \(db) had no Herald tables; added them (it is now a Herald store)") }
        return store
    }
}

/// `--json`, shared by every read command.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false
}

/// Writes a line to standard output.
func say(_ text: String) {
    Output.standardOutput(Names.visible(text) + "\n")
}

/// Writes a line to standard error.
func warn(_ text: String) {
    Output.standardError(Names.visible(text) + "\n")
}

/// Prints a JSON document on one line per value (pretty for objects).
func printJSON(_ value: JSONValue) {
    Output.standardOutput(value.pretty())
}

/// Whether standard error is a terminal (progress bars go there).
var stderrIsTerminal: Bool { isatty(2) == 1 }

/// The width of the terminal on standard error (80 when it cannot tell).
var terminalColumns: Int {
    var size = winsize()
    guard ioctl(2, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
    return Int(size.ws_col)
}

/// Draws a one-line progress bar on standard error when it is a terminal.
final class ProgressBar: @unchecked Sendable {
    private let title: String
    private let enabled: Bool
    private let lock = NSLock()
    private var last = -1

    init(title: String) {
        self.title = title
        self.enabled = stderrIsTerminal
    }

    private var note: String?

    /// Redraws the bar at `fraction`, with `note` (the node in progress) after it.
    func update(_ fraction: Double, note: String? = nil) {
        guard enabled else { return }
        let percent = Int((min(max(fraction, 0), 1) * 100).rounded(.down))
        lock.lock()
        defer { lock.unlock() }
        self.note = note
        last = percent
        draw()
    }

    /// Prints a line above the bar (which is drawn again under it).
    func line(_ text: String) {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        Output.standardError("\r\u{1B}[K\(text)\n")
        if last >= 0 { draw() }
    }

    private func draw() {
        let width = 30
        let filled = width * last / 100
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        // One terminal line: a longer one would wrap, and the next redraw clears only its last row.
        let text = "\(title) [\(bar)] \(last)%\(note.map { " " + $0 } ?? "")"
        Output.standardError("\r\u{1B}[K" + DisplayWidth.truncate(text, to: max(terminalColumns - 1, 20)))
    }

    /// Clears the bar; calling it again does nothing.
    func finish() {
        lock.lock()
        defer { lock.unlock() }
        guard enabled, last >= 0 else { return }
        last = -1
        Output.standardError("\r\u{1B}[K")
    }
}

/// A plain text table with aligned columns, measured in display cells (wide characters count two).
func table(_ header: [String], _ rows: [[String]]) -> String {
    var widths = header.map(DisplayWidth.of)
    for row in rows {
        for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], DisplayWidth.of(cell)) }
    }
    func line(_ cells: [String]) -> String {
        cells.enumerated().map { i, c in i == cells.count - 1 ? c : DisplayWidth.pad(c, to: widths[i]) }.joined(separator: "  ")
    }
    return ([line(header)] + rows.map(line)).joined(separator: "\n")
}

/// One line of a table cell: line breaks flattened, cut to `width` cells with an ellipsis.
func cell(_ text: String, _ width: Int) -> String {
    DisplayWidth.truncate(String(text.map { $0 == "\n" || $0 == "\r" ? " " : $0 }), to: width)
}
