import ArgumentParser
import Foundation
import HeraldCore
import HeraldEngine
import HeraldStore

struct CampaignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "campaign", abstract: "List, show, export, import, validate, copy, rename, schedule, archive and delete campaigns.",
        subcommands: [
            List.self, Show.self, Preview.self, Export.self, Import.self, Validate.self, Duplicate.self, Rename.self, ScheduleSet.self,
            Archive.self,
            Unarchive.self, Delete.self,
        ])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List campaigns with their latest run.")
        @Flag(name: .long, help: "Include archived campaigns.") var archived = false
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let campaigns = try store.openForReading().listCampaigns(includeArchived: archived)
            if output.json {
                printJSON(
                    .array(
                        campaigns.map { c in
                            .object([
                                ("id", .integer(c.id)), ("name", .string(c.name)), ("version", .integer(Int64(c.version))),
                                ("nodes", .integer(Int64(c.nodeCount))), ("updatedAt", .string(c.updatedAt)),
                                ("lastRun", c.lastRun.map(RunJSON.summary) ?? .null),
                                ("archivedAt", c.archivedAt.map(JSONValue.string) ?? .null),
                            ])
                        }))
                return
            }
            if campaigns.isEmpty {
                say("no campaigns; import one with 'herald campaign import FILE'")
                return
            }
            say(
                table(
                    ["ID", "NAME", "VERSION", "NODES", "LAST RUN"],
                    campaigns.map { c in
                        [
                            String(c.id), c.name + (c.archivedAt == nil ? "" : " (archived)"), String(c.version), String(c.nodeCount),
                            c.lastRun.map { "#\($0.id) \($0.dryRun ? "dry " : "")\($0.state.rawValue) \($0.startedAt)" } ?? "never",
                        ]
                    }))
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a campaign's nodes and transitions.")
        @Argument(help: "Campaign name or id.") var campaign: String
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let db = try store.openForReading()
            let stored = try db.loadCampaign(.typed(campaign))
            if output.json {
                printJSON(CampaignFormat.encode(stored.campaign))
                return
            }
            let c = stored.campaign
            say("\(c.name)  (id \(stored.id), version \(stored.version), time zone \(c.timeZone))")
            if !c.description.isEmpty { say(c.description) }
            say("")
            say(
                table(
                    ["NODE", "KIND", "LABEL", "DETAIL"],
                    c.nodes.map { n in [n.id.name, n.kind.title, n.label, n.definition.summary] }))
            say("")
            for e in c.edges {
                let from = c.node(e.from)
                say("  \(e.from) [\(from?.portLabel(e.port) ?? e.port.name)] → \(e.to)\(e.toPort == "in" ? "" : " [\(e.toPort)]")")
            }
            let problems = CampaignValidator(checker: try db.audienceChecker()).validate(c)
            say("")
            try showSchedule(try db.schedule(campaignID: stored.id), name: c.name, json: false)
            say("")
            say(problems.isEmpty ? "valid" : "\(problems.count) problem(s):\n" + problems.map { "  - \($0)" }.joined(separator: "\n"))
        }
    }

    struct Preview: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Render a message node's content for one profile (and, per entity, one of its rows), as it would be sent.",
            discussion: """
                Prints each content field rendered with the profile's data, the tags that have no value and no \
                declared default (such a message would not be sent), and an SMS text's encoding and parts. \
                The output holds that profile's personal data: it is shown, never logged.
                """)
        @Argument(help: "Campaign name or id.") var campaign: String
        @Argument(help: "The message node's id.") var node: String
        @Option(name: .long, help: "The recipient's profile key.") var profile: String
        @Option(name: .long, help: "For a population of another entity (bookings): the key of the row, which must belong to the profile.")
        var entity: String?
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let db = try store.openForReading()
            let stored = try db.loadCampaign(.typed(campaign))
            let message = try AudienceService(store: db).preview(stored.campaign, node: NodeID(node), profile: profile, entity: entity)
            if output.json {
                printJSON(
                    .object([
                        (
                            "fields",
                            .array(
                                message.fields.map { field in
                                    var pairs: [(String, JSONValue)] = [("name", .string(field.name)), ("text", .string(field.text))]
                                    if let s = field.segments {
                                        pairs.append(
                                            (
                                                "sms",
                                                .object([
                                                    ("encoding", .string(s.encoding.rawValue)), ("units", .integer(Int64(s.units))),
                                                    ("parts", .integer(Int64(s.parts))),
                                                ])
                                            ))
                                    }
                                    return .object(pairs)
                                })
                        ),
                        ("missing", .array(message.missing.map(JSONValue.string))),
                    ]))
                return
            }
            for field in message.fields {
                let lines = field.text.split(separator: "\n", omittingEmptySubsequences: false)
                say("\(field.name): \(lines.first ?? "")")
                for line in lines.dropFirst() { say(String(repeating: " ", count: field.name.count + 2) + line) }
                if let s = field.segments { say("  (\(s))") }
            }
            if !message.missing.isEmpty {
                warn("no value and no default for: \(message.missing.joined(separator: ", ")); this message would not be sent")
                warn("declare defaults in the node (\"defaults\": {\"\(message.missing[0])\": \"…\"})")
            }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a campaign as a campaign file (herald.campaign/2 JSON).")
        @Argument(help: "Campaign name or id.") var campaign: String
        @Option(name: .shortAndLong, help: ArgumentHelp("Write to this file instead of standard output.", valueName: "file")) var out:
            String?
        @OptionGroup var store: StoreOptions

        func run() throws {
            let db = try store.openForReading()
            let stored = try db.loadCampaign(.typed(campaign))
            let text = CampaignFormat.encodeText(stored.campaign, schedule: try db.schedule(campaignID: stored.id))
            if let out {
                let file = try OutputFile(out, option: "--out")
                try file.write(text.utf8)
                try file.commit()
                say("wrote \(out)")
            } else {
                Output.standardOutput(text)
            }
        }
    }

    static func readFile(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw HeraldError(.notFound, "file: cannot read \(path)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw HeraldError(.invalidInput, "file: \(path) is not UTF-8 text")
        }
        return text
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a campaign file and save it (a new campaign, or with --replace a new version).")
        @Argument(help: "The campaign file.") var file: String
        @Flag(name: .long, help: "Save as a new version when a campaign with this name exists.") var replace = false
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let decoded = try CampaignFormat.decodeAll(text: try CampaignCommand.readFile(file))
            let campaign = decoded.campaign
            let db = try store.openForWriting()
            try CampaignValidator(checker: try db.audienceChecker()).requireValid(decoded)
            let stored = try db.saveCampaign(decoded, replace: replace)
            if output.json {
                printJSON(
                    .object([("id", .integer(stored.id)), ("name", .string(campaign.name)), ("version", .integer(Int64(stored.version)))]))
            } else {
                say("saved '\(campaign.name)' (id \(stored.id), version \(stored.version))")
            }
        }
    }

    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a campaign file or a stored campaign; lists every problem and exits 2 if there is one.")
        @Argument(help: "A campaign file, or the name or id of a stored campaign.") var target: String
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let decoded: CampaignFormat.Decoded
            let looksLikeFile = target.hasSuffix(".json") || target.contains("/")
            if FileManager.default.fileExists(atPath: target) {
                decoded = try CampaignFormat.decodeAll(text: try CampaignCommand.readFile(target))
            } else if looksLikeFile {
                throw HeraldError(.notFound, "file: \(target) does not exist")
            } else {
                let db = try store.openForReading()
                decoded = CampaignFormat.Decoded(campaign: try db.loadCampaign(.typed(target)).campaign, problems: [], undecodedNodes: [])
            }
            let campaign = decoded.campaign
            let problems = CampaignValidator(checker: try store.openForReading().audienceChecker()).validate(decoded)
            if output.json {
                printJSON(
                    .object([
                        ("campaign", .string(campaign.name)), ("valid", .bool(problems.isEmpty)),
                        (
                            "problems",
                            .array(
                                problems.map { p in
                                    .object([
                                        ("node", p.node.map { .string($0.name) } ?? .null),
                                        ("field", p.field.map(JSONValue.string) ?? .null),
                                        ("message", .string(p.message)),
                                    ])
                                })
                        ),
                    ]))
            } else if problems.isEmpty {
                say("'\(campaign.name)' is valid")
            } else {
                warn("'\(campaign.name)' has \(problems.count) problem\(problems.count == 1 ? "" : "s"):")
                for p in problems { warn("  - \(p)") }
            }
            if !problems.isEmpty { throw ExitCode(2) }
        }
    }

    struct Duplicate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Copy a campaign under a new name.")
        @Argument(help: "Campaign name or id.") var campaign: String
        @Option(name: .customLong("as"), help: "The new campaign's name.") var newName: String
        @OptionGroup var store: StoreOptions

        func run() throws {
            guard !newName.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw HeraldError(.invalidInput, "--as: the new name is empty")
            }
            let stored = try store.openForWriting().duplicateCampaign(.typed(campaign), as: newName)
            say("saved '\(stored.campaign.name)' (id \(stored.id), version 1)")
        }
    }

    struct Rename: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Rename a campaign; its versions and runs follow it.")
        @Argument(help: "Campaign name or id.") var campaign: String
        @Argument(help: "The new name.") var newName: String
        @OptionGroup var store: StoreOptions

        func run() throws {
            let renamed = try store.openForWriting().renameCampaign(.typed(campaign), to: newName)
            say(renameReport(old: renamed.old, new: newName.trimmingCharacters(in: .whitespacesAndNewlines), startedBy: renamed.startedBy))
        }
    }

    struct Archive: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Archive a campaign: kept with its runs, hidden from the list (see --archived), and not run.")
        @Argument(help: "Campaign name or id.") var campaign: String
        @OptionGroup var store: StoreOptions

        func run() throws {
            say("archived '\(try store.openForWriting().setArchived(.typed(campaign), archived: true))'")
        }
    }

    struct Unarchive: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Restore an archived campaign.")
        @Argument(help: "Campaign name or id.") var campaign: String
        @OptionGroup var store: StoreOptions

        func run() throws {
            say("restored '\(try store.openForWriting().setArchived(.typed(campaign), archived: false))'")
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a campaign with its versions and runs; the messages it sent stay in the history.",
            discussion: "Refused while a run is active. A campaign that has runs needs --yes.")
        @Argument(help: "Campaign name or id.") var campaign: String
        @Flag(name: .long, help: "Also delete its runs.") var yes = false
        @OptionGroup var store: StoreOptions

        func run() throws {
            let (name, runs) = try store.openForWriting().deleteCampaign(.typed(campaign), withRuns: yes)
            say("deleted '\(name)'" + (runs > 0 ? " and its \(Names.counted(runs, "run"))" : ""))
        }
    }
}
