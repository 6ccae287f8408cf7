import ArgumentParser
import Foundation
import HeraldCore
import HeraldDelivery
import HeraldEngine
import HeraldStore

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run a campaign headless, as a dry run or a live one.",
        discussion: """
            A dry run computes every node's population and counts it, and sends nothing. A live run also saves \
            audiences, holds populations in Wait nodes (the run then waits, and 'herald scheduler' continues it when \
            the wait ends), starts the campaigns End nodes name, and delivers: each channel node queues its \
            messages in the ledger with the eligibility gates' verdicts, and the delivery worker sends them through \
            the configured providers (by default the outbox and extracts beside the store). On a terminal each node is reported as it finishes; the final table goes \
            to standard output. Exit status 1 when a node fails (the run is paused and 'herald runs retry' retries it).
            """)

    @Argument(help: "Campaign name or id.") var campaign: String
    @Flag(name: .long, help: "Compute every node's population and count it; send nothing.") var dryRun = false
    @Flag(name: .long, help: "Run for real: save audiences, wait, start campaigns and deliver messages.")
    var live = false
    @OptionGroup var store: StoreOptions
    @OptionGroup var config: ConfigOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        guard dryRun != live else {
            throw HeraldError(
                .invalidInput,
                dryRun
                    ? "--dry-run and --live: choose one"
                    : "choose --dry-run (count every node, send nothing) or --live (run for real and deliver)"
            )
        }
        let mode: RunMode = live ? .live : .dry
        // A broken configuration, a missing secret or an unwritable directory refuses a live run
        // before the store is opened for writing (which would upgrade an older one); a dry run
        // delivers nothing and does not read the configuration. (A store that is not there is
        // said by opening it, before any directory is made for it.)
        let config = live ? try config.load() : nil
        let early = FileManager.default.fileExists(atPath: store.db) ? try config?.setup(storePath: store.db) : nil
        let db = try store.openForWriting()
        let stored = try db.loadCampaign(.typed(campaign))
        try startRun(stored, mode: mode, db: db, json: output.json, delivery: try early ?? config?.setup(storePath: db.path))
    }
}

/// A thread-safe counter for progress callbacks.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    var value: Int {
        lock.lock()
        defer { lock.unlock() }
        return count
    }
    func increment() -> Int {
        lock.lock()
        defer { lock.unlock() }
        count += 1
        return count
    }
}

struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs", abstract: "List, show, resolve, pause, resume, retry, restart, stop and purge runs.",
        subcommands: [
            List.self, Show.self, LogsCommand.self, Resolve.self, Pause.self, Resume.self, Retry.self, Restart.self, Stop.self, Purge.self,
        ],
        defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List runs, newest first ('herald runs RUN' shows one).")
        @Argument(help: ArgumentHelp("Show this run's per-node figures.", valueName: "run")) var runID: Int64?
        @Option(name: .long, help: "Only runs of this campaign (name or id).") var campaign: String?
        @Option(name: .long, help: "How many runs to list.") var limit: Int = 20
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let db = try store.openForReading()
            if let run = runID {
                try showRun(run, db: db, json: output.json)
                return
            }
            guard limit > 0 else { throw HeraldError(.invalidInput, "--limit: expected a positive number, found \(limit)") }
            let campaignID = try campaign.map { try db.loadCampaign(.typed($0)).id }
            let runs = try db.listRuns(campaignID: campaignID, limit: limit)
            if output.json {
                printJSON(.array(runs.map(RunJSON.summary)))
                return
            }
            if runs.isEmpty {
                say("no runs yet; try 'herald run CAMPAIGN --dry-run'")
                return
            }
            say(
                table(
                    ["RUN", "CAMPAIGN", "VERSION", "MODE", "STATE", "STARTED", "FINISHED", "NEEDS ATTENTION"],
                    runs.map { r in
                        [
                            "#\(r.id)", r.campaignName, String(r.version), r.dryRun ? "dry" : "live",
                            r.state == .waiting ? "waiting until \(r.wakeAt ?? "?")" : r.state.rawValue, r.startedAt,
                            r.finishedAt ?? "", r.attention().map { "! " + $0 } ?? "",
                        ]
                    }))
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one run's per-node figures.")
        @Argument(help: ArgumentHelp("The run id.", valueName: "run")) var runID: Int64
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() throws { try showRun(runID, db: try store.openForReading(), json: output.json) }
    }

    struct Resume: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Continue an unfinished run: paused, waiting, pending, or one whose executor stopped (killed, or the machine went down).",
            discussion: """
                Nodes whose result was recorded are not recomputed; the node that was in progress, or that failed and \
                paused the run, is redone from its inputs, with the campaign version the run started with. A waiting run \
                lets through the populations whose wait has ended and keeps waiting for the others. Refused while \
                another live process executes the run. Exit status 1 when the run fails again.
                """)
        @Argument(help: ArgumentHelp("The run id.", valueName: "run")) var runID: Int64
        @OptionGroup var store: StoreOptions
        @OptionGroup var config: ConfigOptions
        @OptionGroup var output: OutputOptions

        func run() throws { try continueRun(runID, store: store, config: config, json: output.json, requireFailed: false) }
    }

    struct Retry: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Retry the failed node of a paused run, from its inputs, and go on with the run.",
            discussion: "Refused when the run has no failed node (use 'runs resume'). Exit status 1 when the node fails again.")
        @Argument(help: ArgumentHelp("The run id.", valueName: "run")) var runID: Int64
        @OptionGroup var store: StoreOptions
        @OptionGroup var config: ConfigOptions
        @OptionGroup var output: OutputOptions

        func run() throws { try continueRun(runID, store: store, config: config, json: output.json, requireFailed: true) }
    }

    struct Restart: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start a new run of the same campaign version, in the same mode, as a finished run.",
            discussion: "Refused while the run is unfinished (stop it first, or resume it): two live runs must not act twice.")
        @Argument(help: ArgumentHelp("The run id.", valueName: "run")) var runID: Int64
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let db = try store.openForWriting()
            let summary = try db.runDetail(runID).summary
            guard !summary.state.isUnfinished else {
                throw HeraldError(
                    .conflict,
                    "run #\(runID) is \(summary.state.rawValue); stop it ('herald runs stop \(runID)') or resume it before starting it again"
                )
            }
            let stored = try db.loadCampaign(id: summary.campaignID, version: summary.version)
            let mode: RunMode = summary.dryRun ? .dry : .live
            try startRun(stored, mode: mode, db: db, json: output.json, restarting: runID)
        }
    }
}

/// Starts a run of `stored` with progress and a report (`restarting`: the run it repeats).
func startRun(
    _ stored: StoredCampaign, mode: RunMode, db: Store, json: Bool, restarting: Int64? = nil, delivery: DeliverySetup? = nil
)
    throws
{
    let detail = try runWithProgress(stored.campaign, title: "\(mode.rawValue) run") { events, cancellation in
        var executor = Executor(store: db)
        executor.delivery = delivery
        if stderrIsTerminal { executor.deliveryProgressEvery = 1 }
        return try executor.run(stored, mode: mode, events: events, isCancelled: { cancellation.isCancelled })
    }
    let again = restarting.map { " (restarting #\($0))" } ?? ""
    try report(detail, db: db, json: json, verb: "\(mode.rawValue) run #\(detail.summary.id)\(again)")
}

/// Resumes a run (or, with `requireFailed`, retries its failed node) with progress and a report.
func continueRun(_ runID: Int64, store: StoreOptions, config: ConfigOptions, json: Bool, requireFailed: Bool) throws {
    let db = try store.openForWriting()
    let detail = try db.runDetail(runID)
    if requireFailed {
        guard detail.summary.state == .paused, let failed = detail.nodes.first(where: { $0.state == .failed }) else {
            throw HeraldError(
                .conflict,
                "run #\(runID) has no failed node to retry (it is \(detail.summary.state.rawValue))"
                    + (detail.summary.state.isUnfinished ? "; 'herald runs resume \(runID)' continues it" : "")
            )
        }
        warn("retrying node '\(failed.nodeID)' of run #\(runID)")
    }
    let campaign = try db.loadCampaign(id: detail.summary.campaignID, version: detail.summary.version).campaign
    let resumed = try runWithProgress(campaign, title: "run #\(runID)") { events, cancellation in
        var executor = Executor(store: db)
        if !detail.summary.dryRun { executor.delivery = try config.load().setup(storePath: db.path) }
        if stderrIsTerminal { executor.deliveryProgressEvery = 1 }
        return try executor.resume(runID: runID, events: events, isCancelled: { cancellation.isCancelled })
    }
    try report(resumed, db: db, json: json, verb: "run #\(runID)")
}

extension RunsCommand {
    struct Pause: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Pause a running run: its executor rolls back the node in progress and the run waits for 'runs resume'.")
        @Argument(help: ArgumentHelp("The run id.", valueName: "run")) var runID: Int64
        @OptionGroup var store: StoreOptions

        func run() throws { try ask(.pause, runID: runID, store: store) }
    }

    struct Stop: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stop a running or paused run for good; its populations are dropped, its figures kept.")
        @Argument(help: ArgumentHelp("The run id.", valueName: "run")) var runID: Int64
        @OptionGroup var store: StoreOptions

        func run() throws { try ask(.stop, runID: runID, store: store) }
    }

    struct Purge: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete finished runs older than a retention period, with their figures, logs and work tables.",
            discussion: "Unfinished runs are kept (they can be resumed). Messages the runs sent stay in the history.")
        @Option(name: .customLong("older-than"), help: ArgumentHelp("Age of the runs to delete: 30d, 12h.", valueName: "age"))
        var olderThan = "30d"
        @OptionGroup var store: StoreOptions

        func run() throws {
            let units: [Character: Double] = ["d": 86_400, "h": 3_600]
            guard let unit = olderThan.last.flatMap({ units[$0] }), let n = Int(olderThan.dropLast()), n >= 0 else {
                throw HeraldError(.invalidInput, "--older-than: expected an age such as 30d or 12h, found '\(olderThan)'")
            }
            let (runs, tables) = try store.openForWriting().purgeRuns(startedBefore: Date().addingTimeInterval(-Double(n) * unit))
            say("purged \(Names.counted(runs, "run")) started more than \(olderThan) ago (\(Names.counted(tables, "work table")))")
        }
    }
}

/// Hands a pause or stop to the run's executor, or applies it when none is alive.
func ask(_ request: RunRequest, runID: Int64, store: StoreOptions) throws {
    let handed = try store.openForWriting().request(request, runID: runID)
    let done = request == .pause ? "paused" : "stopped"
    say(handed ? "asked run #\(runID) to \(request.rawValue); its executor stops within a second" : "run #\(runID) \(done)")
}

/// Prints one run: its state and per-node figures, with the campaign version it ran.
func showRun(_ run: Int64, db: Store, json: Bool) throws {
    let detail = try db.runDetail(run)
    try report(detail, db: db, json: json, verb: "run #\(run)")
    if json { return }
    // The messages whose fate is unknown, by id, for 'herald runs resolve'.
    if detail.messages.values.contains(where: { $0[.unknown] > 0 }) {
        let unknown = try db.ledger.messages(MessageFilter(runID: run, state: .unknown, limit: 50))
        let more = detail.messages.values.reduce(0) { $0 + $1[.unknown] } - unknown.count
        say("unknown messages: \(unknown.map { String($0.id) }.joined(separator: " "))\(more > 0 ? " and \(more) more" : "")")
    }
    let (tables, bytes) = try db.workTables(runID: run)
    let size = bytes.map { " (\(Names.groupedCount(($0 + 1023) / 1024)) KiB)" } ?? ""
    say(
        tables.isEmpty
            ? "work tables: none (\(detail.summary.dryRun ? "a dry run keeps its counts only" : "purged"))"
            : "work tables: \(tables.count)\(size)")
}

/// Runs an executor with a per-node progress display on standard error (when it is a terminal):
/// a line for each node as it finishes, under a bar naming the node in progress. It is cleared
/// however the run ends.
func runWithProgress(
    _ campaign: Campaign, title: String,
    _ body: (@escaping @Sendable (RunEvent) -> Void, QueryCancellation) throws -> RunDetail
) throws -> RunDetail {
    let total = campaign.nodes.count
    let bar = ProgressBar(title: title)
    let finished = Counter()
    defer { bar.finish() }
    let detail = try Interruption.cancellable { cancellation in
        try body(
            { event in
                switch event {
                case .nodeStarted(let id):
                    bar.update(Double(finished.value) / Double(max(total, 1)), note: "node '\(id)'")
                case .nodeFinished(let id, let state, let inputCount, let outputs, _):
                    let done = finished.increment()
                    let node = campaign.node(id)
                    let outs = (node?.outputPorts ?? []).compactMap { port in
                        outputs[port].map { "\(node?.portLabel(port) ?? port.name) \(Names.groupedCount($0))" }
                    }
                    let figures = ([inputCount.map { "in \(Names.groupedCount($0))" }].compactMap { $0 } + outs).joined(separator: ", ")
                    bar.line(
                        "\(state.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)) \(id) (\(node?.kind.title ?? "?"))\(figures.isEmpty ? "" : ": " + figures)"
                    )
                    bar.update(Double(done) / Double(max(total, 1)), note: nil)
                case .delivering(let counts):
                    // Per channel node: sent, excluded by reason, deferred, failed, unknown.
                    let total = counts.values.reduce(0) { $0 + $1.total }
                    let done = counts.values.reduce(0) { $0 + $1.total - $1.remaining }
                    bar.update(
                        Double(done) / Double(max(total, 1)),
                        note: counts.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value.line)" }.joined(separator: "; "))
                default:
                    break
                }
            }, cancellation)
    }
    bar.finish()  // before the report, which goes to standard output
    return detail
}

/// The final table of a run, as JSON or text.
func report(_ detail: RunDetail, db: Store, json: Bool, verb: String) throws {
    if json {
        printJSON(RunJSON.detail(detail))
        return
    }
    let campaign = try db.loadCampaign(id: detail.summary.campaignID, version: detail.summary.version).campaign
    say("\(verb) of '\(detail.summary.campaignName)' v\(detail.summary.version): \(detail.summary.state.rawValue)")
    say(RunText.nodeTable(detail, campaign: campaign))
    for line in RunText.notes(detail, campaign: campaign, messages: try db.ledger.counts(runID: detail.summary.id)) { say(line) }
}

struct LogsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logs", abstract: "Print a run's log.")
    @Argument(help: ArgumentHelp("The run id.", valueName: "run")) var runID: Int64
    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let run = runID
        let db = try store.openForReading()
        _ = try db.runDetail(run)
        let logs = try db.runLogs(run)
        if output.json {
            printJSON(
                .array(
                    logs.map { l in
                        .object([
                            ("at", .string(l.at)), ("node", l.node.map(JSONValue.string) ?? .null), ("level", .string(l.line.level)),
                            ("code", .string(l.line.code)), ("message", .string(l.line.message)),
                            ("figures", .object(l.line.figures.sorted { $0.key < $1.key }.map { ($0.key, .integer(Int64($0.value))) })),
                        ])
                    }))
            return
        }
        if logs.isEmpty { say("run #\(run) has no log lines") }
        for l in logs {
            say(
                "\(l.at)  \(l.line.level.padding(toLength: 7, withPad: " ", startingAt: 0))  \(l.node ?? "-")  \(l.line.code)  \(l.line.message)"
            )
        }
    }
}

enum RunJSON {
    static func summary(_ r: RunSummary) -> JSONValue {
        .object([
            ("id", .integer(r.id)), ("campaign", .string(r.campaignName)), ("campaignId", .integer(r.campaignID)),
            ("version", .integer(Int64(r.version))), ("mode", .string(r.dryRun ? "dry" : "live")), ("state", .string(r.state.rawValue)),
            ("startedAt", .string(r.startedAt)), ("finishedAt", r.finishedAt.map(JSONValue.string) ?? .null),
            ("error", r.error.map(JSONValue.string) ?? .null), ("wakeAt", r.wakeAt.map(JSONValue.string) ?? .null),
            ("startedBy", r.startedBy.map(JSONValue.string) ?? .null),
            ("needsAttention", r.attention().map(JSONValue.string) ?? .null),
        ])
    }

    static func detail(_ d: RunDetail) -> JSONValue {
        .object([
            ("run", summary(d.summary)),
            (
                "nodes",
                .array(
                    d.nodes.map { n in
                        var pairs: [(String, JSONValue)] = [
                            ("id", .string(n.nodeID.name)), ("state", .string(n.state.rawValue)),
                            ("inputCount", n.inputCount.map { .integer(Int64($0)) } ?? .null),
                            ("durationMs", n.durationMS.map { .integer(Int64($0)) } ?? .null),
                        ]
                        pairs.append(
                            (
                                "outputs",
                                .object(d.edges.filter { $0.fromNode == n.nodeID }.map { ($0.port.name, .integer(Int64($0.count))) })
                            ))
                        if let e = n.error { pairs.append(("error", .string(e))) }
                        return .object(pairs)
                    })
            ),
            (
                "transitions",
                .array(
                    d.edges.map { e in
                        .object([
                            ("from", .string(e.fromNode.name)), ("port", .string(e.port.name)),
                            ("to", e.toNode.map { .string($0.name) } ?? .null),
                            ("count", .integer(Int64(e.count))),
                        ])
                    })
            ),
        ])
    }
}

enum RunText {
    /// What the table does not say: when a waiting run goes on, what a live run could not do.
    static func notes(_ detail: RunDetail, campaign: Campaign, messages: [NodeID: MessageCounts] = [:]) -> [String] {
        var notes: [String] = []
        if detail.summary.state == .waiting, let wake = detail.summary.wakeAt {
            let zone = TimeZone(identifier: campaign.timeZone) ?? TimeZone(identifier: "UTC")!
            let local = TemporalText.utcSeconds(canonical: wake).map { TemporalText.local(utcSeconds: $0, zone: zone) } ?? wake
            notes.append(
                "waiting until \(local); 'herald scheduler' continues the run then ('herald runs resume \(detail.summary.id)' sooner lets through only what is due)"
            )
        }
        for (node, counts) in messages.sorted(by: { $0.key < $1.key }) {
            notes.append("\(node): \(counts.line)")
        }
        let unsent = messages.values.reduce(0) { $0 + $1.remaining }
        if detail.summary.state == .stopped && unsent > 0 {
            notes.append("\(Names.counted(unsent, "message")) will not be sent: the run was stopped before they went")
        }
        let retrying = detail.summary.state == .stopped ? 0 : messages.values.reduce(0) { $0 + ($1.deferred["retry"] ?? 0) }
        if retrying > 0 {
            notes.append(
                "\(Names.counted(retrying, "message")) could not be handed over (their provider failed for now) and wait for a retry: 'herald history --run \(detail.summary.id) --status deferred --json' says why"
            )
        }
        if messages.values.contains(where: { $0[.unknown] > 0 }) {
            notes.append(
                "some messages' fate is unknown (a connection was lost, or an executor stopped, while they were being sent): 'herald history --run \(detail.summary.id) --status unknown' lists them, 'herald runs resolve \(detail.summary.id) --as sent|failed|retry' decides"
            )
        }
        return notes
    }

    static func nodeTable(_ detail: RunDetail, campaign: Campaign) -> String {
        table(
            ["NODE", "KIND", "STATE", "IN", "OUT", "MS"],
            detail.nodes.map { n in
                let node = campaign.node(n.nodeID)
                let outs = detail.edges.filter { $0.fromNode == n.nodeID }.map { e in
                    "\(node?.portLabel(e.port) ?? e.port.name) \(Names.groupedCount(e.count))"
                }
                return [
                    n.nodeID.name, node?.kind.title ?? "?", n.state.rawValue, n.inputCount.map(Names.groupedCount) ?? "-",
                    outs.joined(separator: ", "), n.durationMS.map(String.init) ?? "-",
                ]
            })
            + (detail.nodes.compactMap(\.error).isEmpty
                ? "" : "\n" + detail.nodes.compactMap { n in n.error.map { "\(n.nodeID): \($0)" } }.joined(separator: "\n"))
    }
}

extension RunsCommand {
    struct Resolve: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Decide the fate of a run's messages whose outcome is unknown.",
            discussion: """
                A message is unknown when its executor stopped after claiming it and before recording what the provider \
                said: it may have gone. Herald never sends it again by itself. --as sent counts it as sent (and in the \
                history), --as failed as not sent, --as retry queues it again (the next 'herald runs resume' sends it; the \
                recipient may get it twice). Without --message, every unknown message of the run.
                """)
        @Argument(help: ArgumentHelp("The run id.", valueName: "run")) var runID: Int64
        @Option(name: .customLong("as"), help: "sent, failed or retry.") var resolution: String
        @Option(name: .customLong("message"), parsing: .upToNextOption, help: "Message ids (default: every unknown one).")
        var messages: [Int64] = []
        @OptionGroup var store: StoreOptions

        func run() throws {
            guard let resolution = Resolution(rawValue: resolution) else {
                throw HeraldError(.invalidInput, "--as: expected sent, failed or retry, found '\(resolution)'")
            }
            let db = try store.openForWriting()
            let detail = try db.runDetail(runID)
            // A finished run sends nothing more: queued again, its messages would wait for ever.
            if resolution == .retry && RunState.finished.contains(detail.summary.state) {
                throw HeraldError(
                    .invalidInput,
                    "run #\(runID) is \(detail.summary.state.rawValue) and will send nothing more; resolve its unknown messages as sent or failed"
                )
            }
            // Every id given must be one of the run's unknown messages, or nothing is changed.
            if !messages.isEmpty {
                let unknown = Set(try db.ledger.messages(MessageFilter(runID: runID, state: .unknown, ids: messages)).map(\.id))
                let others = messages.filter { !unknown.contains($0) }
                guard others.isEmpty else {
                    throw HeraldError(
                        .invalidInput,
                        "--message: \(others.map(String.init).joined(separator: ", ")) \(others.count == 1 ? "is not an unknown message" : "are not unknown messages") of run #\(runID); nothing was changed"
                    )
                }
            }
            let changed = try db.ledger.resolve(
                runID: runID, ids: messages.isEmpty ? nil : messages, as: resolution, now: Int(Date().timeIntervalSince1970))
            say("run #\(runID): \(Names.counted(changed, "unknown message")) resolved as \(resolution.rawValue)")
        }
    }
}
