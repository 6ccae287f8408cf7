import ArgumentParser
import Foundation
import HeraldCore
import HeraldEngine
import HeraldStore
import HeraldTUI

/// `[NAME] [--entity E] [--rule R]`: a saved audience, a rule, or both (the audience narrowed by the rule).
struct AudienceSourceOptions: ParsableArguments {
    @Argument(help: ArgumentHelp("A saved audience (optional when --entity and --rule are given).", valueName: "audience"))
    var audience: String?

    @Option(name: .long, help: "The entity to target (profiles, bookings, …).")
    var entity: String?

    @OptionGroup var rule: RuleInput

    @Option(name: .customLong("time-limit"), help: ArgumentHelp("Stop a query running longer than this.", valueName: "seconds"))
    var timeLimit: Double?

    func validate() throws {
        if let timeLimit, !(timeLimit > 0) {
            throw ValidationError("--time-limit: expected a positive number of seconds, found \(timeLimit)")
        }
    }

    func source(_ service: AudienceService) throws -> AudienceSource {
        try service.source(audience: audience, entity: entity, rule: try rule.text())
    }
}

/// `--rule TEXT` or `--rule-file PATH` (`-` for standard input): a command line caps one argument
/// at 128 KB, and a long rule fits in a file.
struct RuleInput: ParsableArguments {
    @Option(name: .long, help: "A rule in Herald's rule language (docs/rules.md).")
    var rule: String?

    @Option(
        name: .customLong("rule-file"), help: ArgumentHelp("Read the rule from this file ('-': standard input).", valueName: "path"))
    var ruleFile: String?

    func validate() throws {
        if rule != nil && ruleFile != nil { throw ValidationError("--rule and --rule-file: give one of them") }
    }

    /// The rule's text, or nil when neither option is given.
    func text() throws -> String? {
        guard let ruleFile else { return rule }
        let data: Data?
        if ruleFile == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: ruleFile, isDirectory: &isDirectory), !isDirectory.boolValue else {
                throw HeraldError(.notFound, "--rule-file: \(ruleFile) is not a file")
            }
            data = FileManager.default.contents(atPath: ruleFile)
        }
        guard let data, let text = String(data: data, encoding: .utf8) else {
            throw HeraldError(.invalidInput, "--rule-file: \(ruleFile == "-" ? "standard input" : ruleFile) is not readable UTF-8 text")
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The rule's text; refuses when neither option is given.
    func requiredText() throws -> String {
        guard let text = try text() else { throw HeraldError(.invalidInput, "--rule: give a rule, or --rule-file with one") }
        return text
    }
}

func splitColumns(_ text: String?) -> [String] {
    (text ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
}

struct AudienceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audience", abstract: "Count, explore and save audiences over any entity.",
        subcommands: [
            Count.self, Show.self, Distribution.self, Explain.self, Save.self, List.self, Refresh.self, Rename.self, Delete.self,
            Export.self, Import.self,
        ])

    struct Count: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The exact number of rows matching a rule or in a saved audience.")
        @OptionGroup var source: AudienceSourceOptions
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let service = AudienceService(store: try store.openForReading())
            let resolved = try source.source(service)
            let n = try Interruption.cancellable { try service.count(resolved, cancellation: $0, timeLimit: source.timeLimit) }
            if output.json {
                printJSON(
                    .object([("count", .integer(Int64(n))), ("entity", .string(resolved.entity)), ("rule", .string(resolved.rule.text))]))
            } else {
                say(Names.counted(n, entity: resolved.entity))
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sample rows of a rule or saved audience (and a saved audience's definition).")
        @OptionGroup var source: AudienceSourceOptions
        @Option(help: "Columns to show, comma-separated (links allowed: destination.city).") var columns: String?
        @Option(help: "How many rows.") var limit: Int = 20
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let db = try store.openForReading()
            let service = AudienceService(store: db)
            let saved = try source.audience.map { try db.audience(named: $0) }
            let resolved = try source.source(service)
            let sample = try Interruption.cancellable {
                try service.sample(resolved, columns: splitColumns(columns), limit: limit, cancellation: $0, timeLimit: source.timeLimit)
            }
            if output.json {
                var pairs: [(String, JSONValue)] = []
                if let saved { pairs.append(("audience", AudienceJSON.encode(saved))) }
                pairs.append(("columns", .array(sample.columns.map(JSONValue.string))))
                pairs.append(("rows", .array(sample.rows.map { .array($0.map(JSONValue.string)) })))
                printJSON(.object(pairs))
                return
            }
            if let saved {
                say("\(saved.name)  (\(saved.snapshot ? "snapshot" : "live") audience of \(saved.entity))")
                if !saved.description.isEmpty { say(saved.description) }
                say("rule: \(saved.rule)")
                say(
                    "members: \(saved.memberCount.map(Names.groupedCount) ?? "not counted yet")\(saved.refreshedAt.map { " at \($0)" } ?? "")"
                )
                say("")
            }
            say(table(sample.columns.map { $0.uppercased() }, sample.rows.map { $0.map { cell($0, 40) } }))
        }
    }

    struct Distribution: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Values of an attribute with their counts (every value, or buckets for numbers and dates).")
        @OptionGroup var source: AudienceSourceOptions
        @Option(help: "The attribute (links allowed: destination.country).") var attribute: String
        @Option(help: "Buckets for numeric attributes.") var buckets: Int = 10
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            guard (1...100).contains(buckets) else { throw HeraldError(.invalidInput, "--buckets: expected 1 to 100, found \(buckets)") }
            let service = AudienceService(store: try store.openForReading())
            let resolved = try source.source(service)
            let result = try Interruption.cancellable {
                try service.distribution(resolved, attribute: attribute, buckets: buckets, cancellation: $0, timeLimit: source.timeLimit)
            }
            if output.json {
                printJSON(
                    .object([
                        ("attribute", .string(attribute)), ("kind", .string(result.kind)),
                        (
                            "buckets",
                            .array(result.buckets.map { .object([("label", .string($0.label)), ("count", .integer(Int64($0.count)))]) })
                        ),
                    ]))
                return
            }
            for line in BarChart.lines(result.buckets.map { ($0.label, $0.count) }) { say(line) }
        }
    }

    struct Explain: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The SQL, its bound values, SQLite's query plan and index advice.")
        @OptionGroup var source: AudienceSourceOptions
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let service = AudienceService(store: try store.openForReading())
            let e = try service.explain(try source.source(service))
            if output.json {
                printJSON(
                    .object([
                        ("sql", .string(e.sql)), ("arguments", .array(e.arguments.map { .string($0.description) })),
                        ("plan", .array(e.plan.map(JSONValue.string))), ("hints", .array(e.hints.map(JSONValue.string))),
                        ("forms", .array(e.forms.map(JSONValue.string))),
                        (
                            "connection",
                            .object([
                                ("mmapBytes", .integer(e.tuning.mmapBytes)), ("cacheKiB", .integer(Int64(e.tuning.cacheKiB))),
                                ("tempStore", .string(e.tuning.tempStoreInMemory ? "memory" : "default")),
                            ])
                        ),
                    ]))
                return
            }
            say("SQL:\n  \(e.sql)")
            say("values: \(e.arguments.isEmpty ? "none" : e.arguments.map(\.description).joined(separator: ", "))")
            for form in e.forms { say("form: \(form)") }
            say("plan:")
            for line in e.plan { say("  \(line)") }
            say("connection: \(e.tuning.summary)")
            for hint in e.hints { say("hint: \(hint)") }
        }
    }

    struct Save: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Save a rule as a named audience: live (re-evaluated when read) or, with --snapshot, its current keys.")
        @Argument(help: "The audience name.") var name: String
        @Option(name: .long, help: "The entity to target.") var entity: String
        @OptionGroup var rule: RuleInput
        @Flag(help: "Store the matching keys now instead of the definition.") var snapshot = false
        @Option(help: "A description shown in lists.") var description: String = ""
        @Flag(help: "Overwrite an audience with this name.") var replace = false
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let service = AudienceService(store: try store.openForWriting())
            let saved = try service.save(
                name: name, source: AudienceSource(entity: entity, rule: try AudienceService.parse(try rule.requiredText())),
                snapshot: snapshot,
                description: description, replace: replace)
            if output.json {
                printJSON(AudienceJSON.encode(saved))
            } else {
                say(
                    "saved \(saved.snapshot ? "snapshot" : "live") audience '\(saved.name)': \(Names.counted(saved.memberCount ?? 0, entity: saved.entity))"
                )
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The saved audiences.")
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let audiences = try store.openForReading().listAudiences()
            if output.json {
                printJSON(.array(audiences.map(AudienceJSON.encode)))
                return
            }
            if audiences.isEmpty {
                say("no saved audiences; save one with 'herald audience save NAME --entity E --rule R'")
                return
            }
            say(
                table(
                    ["NAME", "ENTITY", "KIND", "MEMBERS", "RULE"],
                    audiences.map { a in
                        [
                            a.name, a.entity, a.snapshot ? "snapshot" : "live", a.memberCount.map(Names.groupedCount) ?? "-",
                            cell(a.rule, 60),
                        ]
                    }))
        }
    }

    struct Refresh: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Recompute a snapshot's keys, or a live audience's size.")
        @Argument(help: "The audience name.") var name: String
        @OptionGroup var store: StoreOptions

        func run() throws {
            let saved = try AudienceService(store: try store.openForWriting()).refresh(name: name)
            say("refreshed '\(saved.name)': \(Names.counted(saved.memberCount ?? 0, entity: saved.entity))")
        }
    }

    struct Rename: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Rename a saved audience (refused while a campaign uses it).")
        @Argument(help: "The audience name.") var name: String
        @Argument(help: "The new name.") var newName: String
        @OptionGroup var store: StoreOptions

        func run() throws {
            try store.openForWriting().renameAudience(named: name, to: newName)
            say("renamed '\(name)' to '\(newName)'")
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a saved audience (refused while a campaign uses it).")
        @Argument(help: "The audience name.") var name: String
        @OptionGroup var store: StoreOptions

        func run() throws {
            try store.openForWriting().deleteAudience(named: name)
            say("deleted '\(name)'")
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write the keys (and columns) of an audience as CSV.")
        @OptionGroup var source: AudienceSourceOptions
        @Option(help: "Extra columns, comma-separated.") var columns: String?
        @Option(name: .shortAndLong, help: ArgumentHelp("Write to this file instead of standard output.", valueName: "file")) var out:
            String?
        @OptionGroup var store: StoreOptions

        func run() throws {
            let service = AudienceService(store: try store.openForReading())
            let resolved = try source.source(service)
            // An export that does not finish leaves no file behind (an existing one is kept).
            let file = try out.map { try OutputFile($0, option: "--out") }
            var buffer: [UInt8] = []
            func flush() throws {
                if let file {
                    try file.write(buffer)
                } else if let failure = Output.write(buffer, to: 1) {
                    throw HeraldError(.io, "cannot write to standard output: \(Output.reason(failure)); the export is incomplete")
                }
                buffer.removeAll(keepingCapacity: true)
            }
            let n = try Interruption.cancellable { cancellation in
                try service.exportCSV(resolved, columns: splitColumns(columns), cancellation: cancellation) { line in
                    buffer.append(contentsOf: line.utf8)
                    if buffer.count > 1 << 16 { try flush() }
                }
            }
            try flush()
            if let out, let file {
                try file.commit()
                warn("wrote \(Names.counted(n, "row")) to \(out)")
            }
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a snapshot audience from a CSV list of keys.")
        @Argument(help: "The CSV file (header row; keys in --key-column or the first column).") var file: String
        @Option(help: "The audience name.") var name: String
        @Option(help: "The entity the keys belong to.") var entity: String
        @Option(name: .customLong("key-column"), help: "The column holding the keys.") var keyColumn: String?
        @Flag(help: "Overwrite an audience with this name.") var replace = false
        @OptionGroup var store: StoreOptions

        func run() throws {
            let saved = try AudienceService(store: try store.openForWriting()).importKeys(
                name: name, entity: entity, file: file, keyColumn: keyColumn, replace: replace)
            say("saved snapshot audience '\(saved.name)': \(Names.counted(saved.memberCount ?? 0, entity: saved.entity))")
        }
    }
}

enum AudienceJSON {
    static func encode(_ a: SavedAudience) -> JSONValue {
        .object([
            ("name", .string(a.name)), ("entity", .string(a.entity)), ("kind", .string(a.snapshot ? "snapshot" : "live")),
            ("rule", .string(a.rule)), ("description", .string(a.description)),
            ("members", a.memberCount.map { .integer(Int64($0)) } ?? .null), ("refreshedAt", a.refreshedAt.map(JSONValue.string) ?? .null),
        ])
    }
}
