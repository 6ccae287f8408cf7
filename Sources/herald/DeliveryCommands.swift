import ArgumentParser
import Foundation
import HeraldCore
import HeraldDelivery
import HeraldEngine
import HeraldStore

/// `--config`, shared by the commands that deliver.
struct ConfigOptions: ParsableArguments {
    @Option(
        name: .customLong("config"),
        help: ArgumentHelp(
            "The delivery configuration (default: HERALD_CONFIG, ./herald.toml, then $XDG_CONFIG_HOME/herald/config.toml).",
            valueName: "path"))
    var path: String?

    init() {}

    func load() throws -> DeliveryConfig { try DeliveryConfig.load(explicit: path) }
}

extension DeliveryConfig {
    /// The providers for a store, refusing (exit 2) what cannot work: an unwritable directory,
    /// a token secret variable that is not set.
    func setup(storePath: String) throws -> DeliverySetup {
        do { return try DeliverySetup.make(self, storePath: storePath) } catch let error as HeraldError {
            throw HeraldError(.invalidInput, error.message, cause: error)
        }
    }
}

func channelArgument(_ text: String, field: String) throws -> Channel {
    guard let channel = Channel(named: text) else {
        throw HeraldError(.invalidInput, "\(field): expected email, sms, push or direct_mail, found '\(text)'")
    }
    return channel
}

func readInput(_ file: String) throws -> [UInt8] {
    if file == "-" { return Array(FileHandle.standardInput.readDataToEndOfFile()) }
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory), isDirectory.boolValue {
        throw HeraldError(.invalidInput, "\(file) is a directory; give the path of a file")
    }
    // Through a file handle: a pipe or /dev/stdin has no size to read up to.
    guard let handle = FileHandle(forReadingAtPath: file) else { throw HeraldError(.invalidInput, "\(file): cannot be read") }
    defer { try? handle.close() }
    return Array(handle.readDataToEndOfFile())
}

struct ProofCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proof", abstract: "Send one message node, rendered for a profile, to a test address through the configured provider.",
        discussion: """
            The subject (or push title) starts with [Proof]. Nothing is recorded: no history, no frequency cap, no consent; \
            the unsubscribe link names no profile. Exit 2 when the message could not be rendered or the address is not one \
            the channel takes, 1 when the provider did not accept it (with its answer).
            """)
    @Argument(help: "Campaign name or id.") var campaign: String
    @Argument(help: "The message node's id.") var node: String
    @Option(help: "The profile whose data the message is rendered with.") var profile: String
    @Option(help: "For a population of another entity (bookings): the key of the row, which must belong to the profile.")
    var entity: String?
    @Option(help: ArgumentHelp("The test address: an e-mail address, a phone number in E.164 or a push token.", valueName: "address"))
    var to: String
    @OptionGroup var store: StoreOptions
    @OptionGroup var config: ConfigOptions

    func run() throws {
        let db = try store.openForReading()
        let stored = try db.loadCampaign(.typed(campaign))
        let setup: DeliverySetup
        do { setup = try DeliverySetup.make(try config.load(), storePath: store.db, journals: false) } catch let error as HeraldError {
            throw HeraldError(.invalidInput, error.message, cause: error)
        }
        let result = try AudienceService(store: db).sendProof(
            ProofRequest(campaign: stored.campaign, node: NodeID(node), profile: profile, entity: entity, address: to), setup: setup)
        switch result.outcome {
        case .sent(let id):
            say(
                "proof of \(node) (\(result.channel.rawValue)) sent through \(result.destination)\(id.map { " (provider id \($0))" } ?? "")"
            )
        case .transient(let why, _), .permanent(let why), .unknown(let why):
            throw HeraldError(.io, "the proof was not accepted by \(result.destination): \(why)")
        }
    }
}

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Check the delivery configuration.", subcommands: [Check.self], defaultSubcommand: Check.self)

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate the configuration and print the effective one, without secrets.",
            discussion: "Exit status 2 naming the key when the file is wrong or a secret variable it names is not set.")
        @OptionGroup var config: ConfigOptions

        func run() throws {
            let loaded = try config.load()
            // The secrets' variables must be set, as a live run requires them.
            try loaded.requireSecrets(environment: ProcessInfo.processInfo.environment)
            if let (key, problem) = loaded.directoryProblems.first {
                throw HeraldError(.invalidInput, "\(loaded.source): \(key): cannot be written to: \(problem)")
            }
            Output.standardOutput(loaded.effectiveText)
        }
    }
}

struct ConsentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consent", abstract: "Record, show and import profiles' consent per channel.",
        subcommands: [Set.self, Show.self, Import.self])

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record a profile's consent for a channel.")
        @Argument(help: "The profile's key.") var profile: String
        @Argument(help: "email, sms, push or direct_mail.") var channel: String
        @Argument(help: "opted_in, opted_out or unknown.") var status: String
        @Option(help: "Where the consent came from.") var source = "cli"
        @OptionGroup var store: StoreOptions

        func run() throws {
            let channel = try channelArgument(channel, field: "channel")
            guard let status = ConsentStatus(rawValue: status) else {
                throw HeraldError(.invalidInput, "status: expected opted_in, opted_out or unknown, found '\(status)'")
            }
            try store.openForWriting().setConsent(profileKey: profile, channel: channel, status: status, source: source)
            say("profile \(Names.visible(profile)): \(channel.commandName) \(status.rawValue)")
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a profile's consent per channel.")
        @Argument(help: "The profile's key.") var profile: String
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let records = try store.openForReading().consent(profileKey: profile)
            let given = Dictionary(records.map { ($0.channel, $0) }, uniquingKeysWith: { a, _ in a })
            if output.json {
                // Every channel, as the table lists them: one with no record is unknown.
                printJSON(
                    .array(
                        Channel.allCases.map { c in
                            .object([
                                ("channel", .string(c.rawValue)), ("status", .string(given[c]?.status.rawValue ?? "unknown")),
                                ("recorded", .bool(given[c] != nil)),
                                ("source", given[c].map { .string($0.source) } ?? .null),
                                ("updatedAt", given[c].map { .string($0.updatedAt) } ?? .null),
                            ])
                        }))
                return
            }
            say(
                table(
                    ["CHANNEL", "STATUS", "SOURCE", "UPDATED"],
                    Channel.allCases.map { c in
                        [
                            c.commandName, given[c]?.status.rawValue ?? "unknown (no record)", Names.visible(given[c]?.source ?? ""),
                            given[c]?.updatedAt ?? "",
                        ]
                    }))
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import consent from CSV (columns profile, channel, status[, source, updated_at]); all or nothing.")
        @Argument(help: "The CSV file, or - for standard input.") var file: String
        @Option(help: "The source recorded for rows without one.") var source = "import"
        @OptionGroup var store: StoreOptions

        func run() throws {
            let bytes = try readInput(file)
            let n = try store.openForWriting().importConsent(csv: bytes, source: source)
            say("imported \(Names.counted(n, "consent record"))")
        }
    }
}

struct SuppressionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suppression", abstract: "Keep the addresses no message goes to.",
        subcommands: [Add.self, Remove.self, Import.self, List.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Suppress addresses on a channel.")
        @Argument(help: "email, sms, push or direct_mail.") var channel: String
        @Argument(help: "Addresses.") var addresses: [String]
        @Option(help: "Why.") var reason = ""
        @OptionGroup var store: StoreOptions

        func run() throws {
            let channel = try channelArgument(channel, field: "channel")
            let n = try store.openForWriting().addSuppressions(addresses, channel: channel, reason: reason)
            say("suppressed \(Names.counted(n, "new address")) on \(channel.commandName)")
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove an address from a channel's suppression list.")
        @Argument(help: "email, sms, push or direct_mail.") var channel: String
        @Argument(help: "The address.") var address: String
        @OptionGroup var store: StoreOptions

        func run() throws {
            let channel = try channelArgument(channel, field: "channel")
            guard try store.openForWriting().removeSuppression(address, channel: channel) else {
                throw HeraldError(.notFound, "the address is not suppressed on \(channel.commandName)")
            }
            say("removed the address from the \(channel.commandName) suppression list")
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Suppress every address of a file (one per line) on a channel.")
        @Argument(help: "email, sms, push or direct_mail.") var channel: String
        @Argument(help: "The file, or - for standard input.") var file: String
        @Option(help: "Why.") var reason = "import"
        @OptionGroup var store: StoreOptions

        func run() throws {
            let channel = try channelArgument(channel, field: "channel")
            let lines = String(decoding: try readInput(file), as: UTF8.self).split(whereSeparator: \.isNewline).map {
                $0.trimmingCharacters(in: .whitespaces)
            }.filter { !$0.isEmpty }
            let n = try store.openForWriting().addSuppressions(lines, channel: channel, reason: reason)
            say("suppressed \(Names.counted(n, "new address")) on \(channel.commandName) (\(lines.count) in the file)")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List suppressed addresses.")
        @Option(help: "Only this channel.") var channel: String?
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let channel = try channel.map { try channelArgument($0, field: "--channel") }
            let list = try store.openForReading().suppressions(channel: channel)
            if output.json {
                printJSON(
                    .array(
                        list.map {
                            .object([
                                ("channel", .string($0.channel.rawValue)), ("address", .string($0.address)), ("reason", .string($0.reason)),
                                ("createdAt", .string($0.createdAt)),
                            ])
                        }))
                return
            }
            say(
                table(
                    ["CHANNEL", "ADDRESS", "REASON", "SINCE"],
                    list.map { [$0.channel.commandName, Names.visible($0.address), Names.visible($0.reason), $0.createdAt] }))
        }
    }
}

struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history", abstract: "The communication history: messages by profile, run or campaign.",
        discussion: "Addresses and bodies are not shown: they stay in the ledger and the outbox.")
    @Option(help: "A profile's key.") var profile: String?
    @Option(name: .customLong("run"), help: "A run id.") var runID: Int64?
    @Option(help: "A campaign name or id.") var campaign: String?
    @Option(help: "email, sms, push or direct_mail.") var channel: String?
    @Option(help: "queued, deferred, claimed, sent, failed, excluded or unknown.") var status: String?
    @Option(help: "At most this many messages, newest first.") var limit = 1000
    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        guard profile != nil || runID != nil || campaign != nil else {
            throw HeraldError(.invalidInput, "give --profile, --run or --campaign")
        }
        guard (1...1_000_000).contains(limit) else { throw HeraldError(.invalidInput, "--limit: expected 1 to 1000000, found \(limit)") }
        let db = try store.openForReading()
        // What is asked about must exist: an empty history of a mistyped key would mislead.
        if let runID { _ = try db.runDetail(runID) }
        if let profile { _ = try db.existingProfileKey(profile, field: "--profile") }
        var filter = MessageFilter(runID: runID, profileKey: profile, limit: limit)
        if let campaign { filter.campaignID = try db.loadCampaign(.typed(campaign)).id }
        if let channel { filter.channel = try channelArgument(channel, field: "--channel") }
        if let status {
            guard let state = MessageState(rawValue: status) else {
                throw HeraldError(
                    .invalidInput, "--status: expected \(MessageState.allCases.map(\.rawValue).joined(separator: ", ")), found '\(status)'")
            }
            filter.state = state
        }
        let messages = try db.ledger.messages(filter)
        if messages.count == limit {
            warn("showing the newest \(Names.counted(limit, "message")); there may be more (--limit N shows up to N)")
        }
        if output.json {
            printJSON(
                .array(
                    messages.map { m in
                        .object([
                            ("id", .integer(m.id)), ("run", m.runID.map { .integer($0) } ?? .null),
                            ("node", m.nodeID.map { .string($0.name) } ?? .null),
                            ("profile", .string(m.profileKey)), ("entity", m.entityKey.map(JSONValue.string) ?? .null),
                            ("channel", .string(m.channel.rawValue)), ("category", .string(m.category.rawValue)),
                            ("status", .string(m.state.rawValue)),
                            ("reason", m.reason.map(JSONValue.string) ?? .null),
                            ("notBefore", m.notBefore.flatMap { TemporalText.canonical(utcSeconds: $0) }.map(JSONValue.string) ?? .null),
                            ("zone", m.zone.map(JSONValue.string) ?? .null), ("zoneFallback", .bool(m.zoneFallback)),
                            ("attempts", .integer(Int64(m.attempts))), ("provider", m.provider.map(JSONValue.string) ?? .null),
                            ("providerId", m.providerID.map(JSONValue.string) ?? .null), ("error", m.error.map(JSONValue.string) ?? .null),
                            ("createdAt", .string(m.createdAt)), ("sentAt", m.sentAt.map(JSONValue.string) ?? .null),
                        ])
                    }))
            return
        }
        say(
            table(
                ["ID", "RUN", "NODE", "PROFILE", "ENTITY", "CHANNEL", "STATUS", "REASON", "AT"],
                messages.map { m in
                    var reason = m.reason ?? ""
                    if m.state == .deferred, let until = m.notBefore.flatMap({ TemporalText.canonical(utcSeconds: $0) }) {
                        reason += " until \(until)" + (m.zoneFallback ? " (campaign zone)" : "")
                    }
                    return [
                        String(m.id), m.runID.map { "#\($0)" } ?? "-", Names.visible(m.nodeID?.name ?? "-"), Names.visible(m.profileKey),
                        Names.visible(m.entityKey ?? ""), m.channel.commandName, m.state.rawValue, reason, m.sentAt ?? m.updatedAt,
                    ]
                }))
    }
}
