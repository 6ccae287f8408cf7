import ArgumentParser
import Foundation
import HeraldCore
import HeraldEngine
import HeraldStore

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run a campaign headless (this version: --dry-run only).")

    @Argument(help: "Campaign name or id.") var campaign: String
    @Flag(name: .long, help: "Compute every node's population and count it; send nothing.") var dryRun = false
    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        guard dryRun else {
            throw HeraldError(
                .notImplemented,
                "live runs are not implemented yet: this version has no delivery providers; use --dry-run to compute every node's counts")
        }
        let db = try store.openForWriting()
        let stored = try db.loadCampaign(campaign)
        let detail = try runWithProgress(total: stored.campaign.nodes.count, title: "dry run") { events, cancellation in
            try Executor(store: db).dryRun(stored, events: events, isCancelled: { cancellation.isCancelled })
        }
        try report(detail, db: db, json: output.json, verb: "dry run #\(detail.summary.id)")
    }
}

/// A thread-safe counter for progress callbacks.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func increment() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return value
    }
}

struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs", abstract: "List, show, pause, resume, stop and purge runs.",
        subcommands: [List.self, Show.self, LogsCommand.self, Pause.self, Resume.self, Stop.self, Purge.self],
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
            let campaignID = try campaign.map { try db.loadCampaign($0).id }
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
                    ["RUN", "CAMPAIGN", "VERSION", "MODE", "STATE", "STARTED", "FINISHED"],
                    runs.map { r in
                        [
                            "#\(r.id)", r.campaignName, String(r.version), r.dryRun ? "dry" : "live", r.state.rawValue, r.startedAt,
                            r.finishedAt ?? "",
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
            abstract: "Continue a paused run, or an unfinished one whose executor stopped (killed, or the machine went down).",
            discussion: """
                Nodes whose result was recorded are not recomputed; the node that was in progress, or that failed and \
                paused the run, is redone from its inputs, with the campaign version the run started with. Refused while \
                another live process executes the run. Exit status 1 when the run fails again.
                """)
        @Argument(help: ArgumentHelp("The run id.", valueName: "run")) var runID: Int64
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let db = try store.openForWriting()
            let summary = try db.runDetail(runID).summary
            let total = try db.loadCampaign(id: summary.campaignID, version: summary.version).campaign.nodes.count
            let detail = try runWithProgress(total: total, title: "resuming run #\(runID)") { events, cancellation in
                try Executor(store: db).resume(runID: runID, events: events, isCancelled: { cancellation.isCancelled })
            }
            try report(detail, db: db, json: output.json, verb: "run #\(runID)")
        }
    }
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
    let (tables, bytes) = try db.workTables(runID: run)
    let size = bytes.map { " (\(Names.groupedCount(($0 + 1023) / 1024)) KiB)" } ?? ""
    say(
        tables.isEmpty
            ? "work tables: none (\(detail.summary.dryRun ? "a dry run keeps its counts only" : "purged"))"
            : "work tables: \(tables.count)\(size)")
}

/// Runs an executor with a progress bar on standard error that is cleared however it ends.
func runWithProgress(
    total: Int, title: String,
    _ body: (@escaping @Sendable (RunEvent) -> Void, QueryCancellation) throws -> RunDetail
) throws -> RunDetail {
    let bar = ProgressBar(title: title)
    let finished = Counter()
    defer { bar.finish() }
    let detail = try Interruption.cancellable { cancellation in
        try body(
            { event in
                if case .nodeFinished = event { bar.update(Double(finished.increment()) / Double(max(total, 1))) }
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
                            ("at", .string(l.at)), ("node", l.node.map(JSONValue.string) ?? .null), ("level", .string(l.level)),
                            ("message", .string(l.message)),
                        ])
                    }))
            return
        }
        if logs.isEmpty { say("run #\(run) has no log lines") }
        for l in logs { say("\(l.at)  \(l.level.padding(toLength: 7, withPad: " ", startingAt: 0))  \(l.node ?? "-")  \(l.message)") }
    }
}

enum RunJSON {
    static func summary(_ r: RunSummary) -> JSONValue {
        .object([
            ("id", .integer(r.id)), ("campaign", .string(r.campaignName)), ("campaignId", .integer(r.campaignID)),
            ("version", .integer(Int64(r.version))), ("mode", .string(r.dryRun ? "dry" : "live")), ("state", .string(r.state.rawValue)),
            ("startedAt", .string(r.startedAt)), ("finishedAt", r.finishedAt.map(JSONValue.string) ?? .null),
            ("error", r.error.map(JSONValue.string) ?? .null),
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
                            ("id", .string(n.nodeID)), ("state", .string(n.state.rawValue)),
                            ("inputCount", n.inputCount.map { .integer(Int64($0)) } ?? .null),
                            ("durationMs", n.durationMS.map { .integer(Int64($0)) } ?? .null),
                        ]
                        pairs.append(
                            (
                                "outputs",
                                .object(d.edges.filter { $0.fromNode == n.nodeID }.map { ($0.port, .integer(Int64($0.count))) })
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
                            ("from", .string(e.fromNode)), ("port", .string(e.port)), ("to", e.toNode.map(JSONValue.string) ?? .null),
                            ("count", .integer(Int64(e.count))),
                        ])
                    })
            ),
        ])
    }
}

enum RunText {
    static func nodeTable(_ detail: RunDetail, campaign: Campaign) -> String {
        table(
            ["NODE", "KIND", "STATE", "IN", "OUT", "MS"],
            detail.nodes.map { n in
                let node = campaign.node(n.nodeID)
                let outs = detail.edges.filter { $0.fromNode == n.nodeID }.map { e in
                    "\(node?.portLabel(e.port) ?? e.port) \(Names.groupedCount(e.count))"
                }
                return [
                    n.nodeID, node?.kind.title ?? "?", n.state.rawValue, n.inputCount.map(Names.groupedCount) ?? "-",
                    outs.joined(separator: ", "), n.durationMS.map(String.init) ?? "-",
                ]
            })
            + (detail.nodes.compactMap(\.error).isEmpty
                ? "" : "\n" + detail.nodes.compactMap { n in n.error.map { "\(n.nodeID): \($0)" } }.joined(separator: "\n"))
    }
}
