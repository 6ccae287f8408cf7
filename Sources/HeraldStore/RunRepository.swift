public import Foundation
public import GRDB
public import HeraldCore

/// Execution state of a run or of one node in it.
///
/// As a run's state, the moves are declared here once (``canMove(to:)``) and every write of a
/// run's state goes through ``RunRepository/move(_:runID:to:error:)``, which refuses any other:
///
/// ```
/// pending ──▶ running ──▶ completed | failed | stopped
///   │  ▲         │ ▲
///   │  └─reopen──┤ └──reopen── waiting, paused
///   │            ├──▶ waiting (every branch ended or waits; the ledger has deferred messages)
///   │            └──▶ paused (asked, or a node failed)
///   └──▶ failed (cannot start) | stopped;  waiting, paused ──▶ stopped; waiting ──▶ paused
/// ```
/// `skipped` is a node's state only.
public enum RunState: String, Sendable, Codable, CaseIterable {
    case pending, running, waiting, paused, completed, failed, stopped, skipped

    /// Whether a run in this state can still go on (and so keeps its work tables).
    public var isUnfinished: Bool { Self.unfinished.contains(self) }

    public static let unfinished: [RunState] = [.pending, .running, .waiting, .paused]
    public static let finished: [RunState] = [.completed, .failed, .stopped]

    /// The moves a run's state may make (a state may also be written again as it is).
    public func canMove(to next: RunState) -> Bool {
        if self == next { return true }
        switch (self, next) {
        case (.pending, .running), (.pending, .failed), (.pending, .stopped), (.pending, .paused): return true
        case (.running, .waiting), (.running, .paused), (.running, .completed), (.running, .failed), (.running, .stopped): return true
        case (.waiting, .running), (.waiting, .paused), (.waiting, .stopped): return true
        case (.paused, .running), (.paused, .stopped): return true
        default: return false
        }
    }

    /// `'pending', 'running', …` for an SQL `IN` list: the store's values, from the enum.
    static func sqlList(_ states: [RunState]) -> String { states.map { "'\($0.rawValue)'" }.joined(separator: ", ") }
}

/// One structured line of a run's log: what happened, in words and as a stable code with
/// figures. Never addresses or message bodies.
public struct RunLogLine: Sendable, Equatable {
    public var level: String
    /// A stable name for what happened (`dimension.unmatched`, `channel.not-available`).
    public var code: String
    public var message: String
    public var figures: [String: Int]

    public init(level: String = "info", code: String, _ message: String, figures: [String: Int] = [:]) {
        self.level = level
        self.code = code
        self.message = message
        self.figures = figures
    }
}

/// A run's headline facts.
public struct RunSummary: Sendable, Equatable {
    public var id: Int64
    public var campaignID: Int64
    public var campaignName: String
    public var version: Int
    public var dryRun: Bool
    public var state: RunState
    public var startedAt: String
    public var finishedAt: String?
    public var error: String?
    /// When a waiting run's first Wait node is due (canonical UTC text).
    public var wakeAt: String?
    /// What started the run when it was not a person: `schedule`, or the run whose End node did.
    public var startedBy: String?
    /// The executor holding the run (`host/pid/token`) and until when, while one does.
    public var leaseOwner: String?
    public var leaseExpiresAt: String?

    /// Why a person should look at the run, or nil: it paused on a failure, or it is `running`
    /// with no live executor (one that stopped without being able to record why).
    public func attention(now: Date = Date()) -> String? {
        switch state {
        case .paused where error != nil:
            return "stopped on a failure; 'herald runs show \(id)' says why"
        case .running:
            let live =
                leaseOwner != nil && (leaseExpiresAt ?? "") > Store.timestamp(now) && !RunLease.isDeadHereProcess(leaseOwner ?? "")
            return live ? nil : "no executor; 'herald runs resume \(id)' or a scheduler continues it"
        default:
            return nil
        }
    }

    public init(
        id: Int64, campaignID: Int64, campaignName: String, version: Int, dryRun: Bool, state: RunState, startedAt: String,
        finishedAt: String?, error: String?, wakeAt: String? = nil, startedBy: String? = nil, leaseOwner: String? = nil,
        leaseExpiresAt: String? = nil
    ) {
        self.leaseOwner = leaseOwner
        self.leaseExpiresAt = leaseExpiresAt
        self.wakeAt = wakeAt
        self.startedBy = startedBy
        self.id = id
        self.campaignID = campaignID
        self.campaignName = campaignName
        self.version = version
        self.dryRun = dryRun
        self.state = state
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.error = error
    }
}

/// One node's state in a run.
public struct RunNodeState: Sendable, Equatable {
    public var nodeID: NodeID
    public var state: RunState
    public var inputCount: Int?
    public var durationMS: Int?
    public var detail: String?
    public var error: String?
    /// When a waiting node's wait ends (canonical UTC text).
    public var wakeAt: String?

    public init(
        nodeID: NodeID, state: RunState, inputCount: Int?, durationMS: Int?, detail: String?, error: String?, wakeAt: String? = nil
    ) {
        self.wakeAt = wakeAt
        self.nodeID = nodeID
        self.state = state
        self.inputCount = inputCount
        self.durationMS = durationMS
        self.detail = detail
        self.error = error
    }
}

/// One transition's population size in a run.
public struct RunEdgeCount: Sendable, Equatable {
    public var fromNode: NodeID
    public var port: PortName
    public var toNode: NodeID?
    public var count: Int

    public init(fromNode: NodeID, port: PortName, toNode: NodeID?, count: Int) {
        self.fromNode = fromNode
        self.port = port
        self.toNode = toNode
        self.count = count
    }
}

/// A run with all its per-node and per-transition figures.
public struct RunDetail: Sendable, Equatable {
    public var summary: RunSummary
    public var nodes: [RunNodeState]
    public var edges: [RunEdgeCount]
    /// A live run's messages per channel node, by state and reason.
    public var messages: [NodeID: MessageCounts]

    public init(summary: RunSummary, nodes: [RunNodeState], edges: [RunEdgeCount], messages: [NodeID: MessageCounts] = [:]) {
        self.summary = summary
        self.nodes = nodes
        self.edges = edges
        self.messages = messages
    }
}

/// A run's recorded node states and outputs.
public struct RunProgress: Sendable {
    public struct Output: Sendable, Equatable {
        public var table: String?
        public var count: Int
    }

    public var nodes: [NodeID: RunNodeState] = [:]
    public var ports: [NodeID: [PortName: Output]] = [:]

    public init() {}
}

/// Reads and writes run bookkeeping (`herald_runs`, `herald_run_nodes`, `herald_run_edges`, logs).
public enum RunRepository {
    static func summary(_ db: Database, runID: Int64) throws -> RunSummary? {
        guard
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT r.*, c.name AS campaign_name FROM herald_runs r JOIN herald_campaigns c ON c.id = r.campaign_id WHERE r.id = ?
                    """, arguments: [runID])
        else { return nil }
        return RunSummary(
            id: row["id"], campaignID: row["campaign_id"], campaignName: row["campaign_name"], version: row["version"],
            dryRun: (row["mode"] as String) == "dry", state: RunState(rawValue: row["state"]) ?? .failed,
            startedAt: row["started_at"], finishedAt: row["finished_at"], error: row["error"], wakeAt: row["wake_at"],
            startedBy: row["started_by"], leaseOwner: row["lease_owner"], leaseExpiresAt: row["lease_expires_at"])
    }

    /// A new run of a campaign version, its nodes pending; with `leaseOwner`, leased to that
    /// executor from the start, so no other process takes it before it begins.
    /// With `pending`, the run waits for a scheduler (or `runs resume`) to start it.
    public static func createRun(
        _ db: Database, campaign: StoredCampaign, dryRun: Bool, leaseOwner: String? = nil, pending: Bool = false,
        startedBy: String? = nil
    ) throws -> Int64 {
        try db.execute(
            sql: """
                INSERT INTO herald_runs (campaign_id, version, mode, state, started_at, lease_owner, lease_expires_at, started_by)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                campaign.id, campaign.version, dryRun ? "dry" : "live", pending ? "pending" : "running", Store.timestamp(), leaseOwner,
                leaseOwner.map { _ in RunLease.expiry(after: Date()) }, startedBy,
            ])
        let runID = db.lastInsertedRowID
        for node in campaign.campaign.nodes {
            try db.execute(
                sql: "INSERT INTO herald_run_nodes (run_id, node_id, state) VALUES (?, ?, 'pending')", arguments: [runID, node.id])
        }
        return runID
    }

    public static func markNodeRunning(_ db: Database, runID: Int64, nodeID: NodeID) throws {
        try db.execute(
            sql: "UPDATE herald_run_nodes SET state = 'running', started_at = ? WHERE run_id = ? AND node_id = ?",
            arguments: [Store.timestamp(), runID, nodeID])
    }

    /// Records a node's end (or, `waiting`, that it holds its population until `wakeAt`).
    public static func markNodeFinished(
        _ db: Database, runID: Int64, nodeID: NodeID, state: RunState, inputCount: Int?, durationMS: Int, detail: String?,
        error: String?, wakeAt: String? = nil
    ) throws {
        try db.execute(
            sql: """
                UPDATE herald_run_nodes SET state = ?, input_count = ?, finished_at = ?, duration_ms = ?, detail = ?, error = ?, wake_at = ?
                WHERE run_id = ? AND node_id = ?
                """,
            arguments: [state.rawValue, inputCount, Store.timestamp(), durationMS, detail, error, wakeAt, runID, nodeID])
    }

    /// A run whose branches all ended or wait: it waits, unleased, until `wakeAt`, when a
    /// scheduler resumes it.
    public static func wait(_ db: Database, runID: Int64, until wakeAt: String) throws {
        try move(db, runID: runID, to: .waiting)
        try db.execute(sql: "UPDATE herald_runs SET wake_at = ? WHERE id = ?", arguments: [wakeAt, runID])
    }

    /// Moves a run to `state`, refusing a move ``RunState/canMove(to:)`` does not allow: the one
    /// place a run's state is written. A finished state also sets the finishing time.
    public static func move(_ db: Database, runID: Int64, to state: RunState, error: String? = nil, keepError: Bool = false) throws {
        guard let raw = try String.fetchOne(db, sql: "SELECT state FROM herald_runs WHERE id = ?", arguments: [runID]) else {
            throw HeraldError(.notFound, "no run #\(runID)")
        }
        guard let current = RunState(rawValue: raw), current.canMove(to: state) else {
            throw HeraldError(.internalFailure, "run #\(runID) cannot go from \(raw) to \(state.rawValue)")
        }
        let finishing = RunState.finished.contains(state)
        try db.execute(
            sql: """
                UPDATE herald_runs SET state = ?, error = CASE WHEN ? THEN error ELSE ? END,
                  finished_at = CASE WHEN ? THEN ? ELSE finished_at END
                WHERE id = ?
                """,
            arguments: [state.rawValue, keepError, error, finishing, Store.timestamp(), runID])
    }

    /// When the first waiting run wakes, if one does.
    public static func nextWake(_ db: Database) throws -> String? {
        try String.fetchOne(db, sql: "SELECT min(wake_at) FROM herald_runs WHERE state = ?", arguments: [RunState.waiting.rawValue])
    }

    /// Runs whose work tables are kept: unfinished ones, and live ones not stopped (until purged).
    public static func runsKeepingWork(_ db: Database) throws -> Set<Int64> {
        Set(
            try Int64.fetchAll(
                db,
                sql: """
                    SELECT id FROM herald_runs
                    WHERE state IN (\(RunState.sqlList(RunState.unfinished))) OR (mode = 'live' AND state <> '\(RunState.stopped.rawValue)')
                    """))
    }

    /// The campaign's first unfinished run, if any.
    public static func unfinishedRun(_ db: Database, campaignID: Int64) throws -> Int64? {
        try Int64.fetchOne(
            db,
            sql:
                "SELECT id FROM herald_runs WHERE campaign_id = ? AND state IN (\(RunState.sqlList(RunState.unfinished))) ORDER BY id LIMIT 1",
            arguments: [campaignID])
    }

    /// Runs a scheduler should start or continue at `now`: pending ones, and waiting ones whose
    /// wait is over, oldest first.
    public static func dueRuns(_ db: Database, now: Date) throws -> [Int64] {
        try Int64.fetchAll(
            db,
            sql: "SELECT id FROM herald_runs WHERE state = ? OR (state = ? AND wake_at <= ?) ORDER BY id",
            arguments: [RunState.pending.rawValue, RunState.waiting.rawValue, Store.timestamp(now)])
    }

    public static func recordEdge(
        _ db: Database, runID: Int64, fromNode: NodeID, port: PortName, toNode: NodeID?, workTable: String?, count: Int
    ) throws {
        try db.execute(
            sql: """
                INSERT INTO herald_run_edges (run_id, from_node, port, to_node, work_table, row_count) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (run_id, from_node, port) DO UPDATE SET row_count = excluded.row_count, work_table = excluded.work_table
                """, arguments: [runID, fromNode, port, toNode, workTable, count])
    }

    public static func log(_ db: Database, runID: Int64, nodeID: NodeID?, _ line: RunLogLine) throws {
        let figures =
            line.figures.isEmpty
            ? nil : JSONValue.object(line.figures.sorted { $0.key < $1.key }.map { ($0.key, .integer(Int64($0.value))) }).compact()
        try db.execute(
            sql: "INSERT INTO herald_run_logs (run_id, node_id, at, level, code, message, figures) VALUES (?, ?, ?, ?, ?, ?, ?)",
            arguments: [runID, nodeID, Store.timestamp(), line.level, line.code, line.message, figures])
    }

    /// What a run has recorded so far: each node's state, and each finished node's outputs
    /// (work table and count per port), for an executor that resumes it.
    public static func progress(_ db: Database, runID: Int64) throws -> RunProgress {
        var progress = RunProgress()
        for row in try Row.fetchAll(db, sql: "SELECT * FROM herald_run_nodes WHERE run_id = ?", arguments: [runID]) {
            let id: NodeID = row["node_id"]
            progress.nodes[id] = RunNodeState(
                nodeID: id, state: RunState(rawValue: row["state"]) ?? .failed, inputCount: row["input_count"],
                durationMS: row["duration_ms"], detail: row["detail"], error: row["error"], wakeAt: row["wake_at"])
        }
        for row in try Row.fetchAll(db, sql: "SELECT * FROM herald_run_edges WHERE run_id = ?", arguments: [runID]) {
            progress.ports[row["from_node"], default: [:]][row["port"]] = RunProgress.Output(
                table: row["work_table"], count: row["row_count"] ?? 0)
        }
        return progress
    }

    /// The file holding a run's work tables, beside the store: a node's long statement then
    /// holds that file's write lock, never the store's (`STORE-work/run-ID.db`).
    public static func workFile(store path: String, runID: Int64) -> String { "\(path)-work/run-\(runID).db" }

    /// The folder of the runs' work files.
    public static func workFolder(store path: String) -> String { "\(path)-work" }

    /// Removes a run's work file (its populations), and the folder when it is left empty.
    public static func removeWorkFile(store path: String, runID: Int64) {
        let file = workFile(store: path, runID: runID)
        for suffix in ["", "-journal", "-wal", "-shm"] { unlink(file + suffix) }
        rmdir(workFolder(store: path))  // only when empty
    }

    /// The runs that have a work file, by id.
    public static func runsWithWorkFiles(store path: String) -> [Int64] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: workFolder(store: path))) ?? []
        return names.compactMap { name in
            guard name.hasPrefix("run-"), name.hasSuffix(".db") else { return nil }
            return Int64(name.dropFirst(4).dropLast(3))
        }
    }

    /// The work tables of one run (`herald_work_<run>_…`), or with nil of every run, by name.
    public static func workTableNames(_ db: Database, runID: Int64?) throws -> [String] {
        let pattern = runID.map { "herald\\_work\\_\($0)\\_%" } ?? "herald\\_work\\_%"
        return try String.fetchAll(
            db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE ? ESCAPE '\\' ORDER BY name",
            arguments: [pattern])
    }

    /// Makes a paused, pending or waiting run runnable again: its state `running`, its failed or
    /// stopped nodes back to `pending` (they are redone), its error cleared. Waiting nodes keep
    /// their wake time.
    public static func reopen(_ db: Database, runID: Int64) throws {
        try move(db, runID: runID, to: .running)
        try db.execute(
            sql:
                "UPDATE herald_run_nodes SET state = 'pending', error = NULL WHERE run_id = ? AND state IN ('failed', 'stopped', 'running')",
            arguments: [runID])
    }

    /// Pauses a run (asked to, or with the error of the node that failed): it keeps its finished
    /// nodes and work tables and waits for a resume.
    public static func pause(_ db: Database, runID: Int64, error: String?) throws {
        try move(db, runID: runID, to: .paused, error: error)
    }

    /// The log code of the line that records where a live run delivers.
    static let destinationsCode = "delivery.destinations"
    static let destinationsPrefix = "delivers to "

    /// Where the run's channels deliver, as recorded (in its log) when it first delivered; nil
    /// before that.
    public static func deliveryDestinations(_ db: Database, runID: Int64) throws -> [Channel: String]? {
        guard
            let message = try String.fetchOne(
                db, sql: "SELECT message FROM herald_run_logs WHERE run_id = ? AND code = ? ORDER BY id LIMIT 1",
                arguments: [runID, destinationsCode])
        else { return nil }
        guard message.hasPrefix(destinationsPrefix),
            let object = try? JSONDecoder().decode([String: String].self, from: Data(message.dropFirst(destinationsPrefix.count).utf8))
        else {
            throw HeraldError(.internalFailure, "run #\(runID) has an unreadable '\(destinationsCode)' log line")
        }
        var destinations: [Channel: String] = [:]
        for (name, destination) in object {
            guard let channel = Channel(rawValue: name) else {
                throw HeraldError(.internalFailure, "run #\(runID) delivers on an unknown channel '\(name)'")
            }
            destinations[channel] = destination
        }
        return destinations
    }

    /// Records where the run's channels deliver, as a line of its log (JSON after `delivers to `).
    public static func recordDeliveryDestinations(_ db: Database, runID: Int64, _ destinations: [Channel: String]) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let object = Dictionary(uniqueKeysWithValues: destinations.map { ($0.key.rawValue, $0.value) })
        let text = String(decoding: try encoder.encode(object), as: UTF8.self)
        try log(db, runID: runID, nodeID: nil, RunLogLine(code: destinationsCode, destinationsPrefix + text))
    }

    public static func finishRun(_ db: Database, runID: Int64, state: RunState, error: String?) throws {
        try move(db, runID: runID, to: state, error: error)
    }

    static func detail(_ db: Database, runID: Int64) throws -> RunDetail? {
        guard let summary = try summary(db, runID: runID) else { return nil }
        let order = try Row.fetchAll(
            db,
            sql: """
                SELECT rn.* FROM herald_run_nodes rn
                LEFT JOIN herald_runs r ON r.id = rn.run_id
                LEFT JOIN herald_nodes n ON n.campaign_id = r.campaign_id AND n.version = r.version AND n.node_id = rn.node_id
                WHERE rn.run_id = ? ORDER BY n.position
                """, arguments: [runID])
        let nodes = order.map { row in
            RunNodeState(
                nodeID: row["node_id"], state: RunState(rawValue: row["state"]) ?? .failed, inputCount: row["input_count"],
                durationMS: row["duration_ms"], detail: row["detail"], error: row["error"], wakeAt: row["wake_at"])
        }
        let edges = try Row.fetchAll(
            db,
            sql: """
                SELECT e.* FROM herald_run_edges e
                LEFT JOIN herald_runs r ON r.id = e.run_id
                LEFT JOIN herald_nodes n ON n.campaign_id = r.campaign_id AND n.version = r.version AND n.node_id = e.from_node
                WHERE e.run_id = ? ORDER BY n.position, e.port = 'complement', e.port
                """, arguments: [runID]
        ).map { row in
            RunEdgeCount(fromNode: row["from_node"], port: row["port"], toNode: row["to_node"], count: row["row_count"] ?? 0)
        }
        // A store from before the ledger (read as it is) has sent nothing through Herald.
        let messages = try SQLiteMessageLedger.hasLedger(db) && !summary.dryRun ? try SQLiteMessageLedger.counts(db, runID: runID) : [:]
        return RunDetail(summary: summary, nodes: nodes, edges: edges, messages: messages)
    }
}

extension Store {
    /// Runs, newest first; optionally of one campaign.
    public func listRuns(campaignID: Int64? = nil, limit: Int = 50) throws -> [RunSummary] {
        try read { db in
            let ids = try Int64.fetchAll(
                db,
                sql: "SELECT id FROM herald_runs WHERE (? IS NULL OR campaign_id = ?) ORDER BY id DESC LIMIT ?",
                arguments: [campaignID, campaignID, limit])
            return try ids.compactMap { try RunRepository.summary(db, runID: $0) }
        }
    }

    public func runDetail(_ runID: Int64) throws -> RunDetail {
        guard let detail = try read({ db in try RunRepository.detail(db, runID: runID) }) else {
            throw HeraldError(.notFound, "run: no run with id \(runID)")
        }
        return detail
    }

    /// The run's log lines, oldest first.
    /// A run's log, oldest first; lines written before codes existed have the code `note`.
    public func runLogs(_ runID: Int64) throws -> [(at: String, node: String?, line: RunLogLine)] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM herald_run_logs WHERE run_id = ? ORDER BY id", arguments: [runID]).map { row in
                var figures: [String: Int] = [:]
                if let text = row["figures"] as String?, case .object(let pairs)? = try? JSONValue.parse(text) {
                    for (key, value) in pairs { if case .integer(let n) = value { figures[key] = Int(n) } }
                }
                return (
                    row["at"], row["node_id"],
                    RunLogLine(level: row["level"], code: row["code"] ?? "note", row["message"], figures: figures)
                )
            }
        }
    }
}

/// What another process can ask of a run's executor.
public enum RunRequest: String, Sendable {
    /// Stop after rolling back the node in progress, keeping the run resumable (`paused`).
    case pause
    /// End the run as `stopped`; its populations are dropped.
    case stop

    /// Where a request for a run waits for its executor: a small file beside the store, which
    /// the executor watches from a thread of its own while a node's statement runs (a live Save
    /// audience's node holds the store's write lock for as long as it takes).
    public static func file(store path: String, runID: Int64) -> String { "\(path)-requests/run-\(runID)" }

    /// The request waiting for the run, if any.
    public static func pending(store path: String, runID: Int64) -> RunRequest? {
        guard let data = FileManager.default.contents(atPath: file(store: path, runID: runID)) else { return nil }
        return RunRequest(rawValue: String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    func post(store path: String, runID: Int64) throws {
        let target = Self.file(store: path, runID: runID)
        do {
            try FileManager.default.createDirectory(
                atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(rawValue.utf8).write(to: URL(fileURLWithPath: target), options: .atomic)
        } catch {
            throw HeraldError(.io, "cannot leave the request for run #\(runID) in \(target): \(error.localizedDescription)", cause: error)
        }
    }

    /// Removes the run's request once handled (and the folder when it is empty).
    public static func clear(store path: String, runID: Int64) {
        let target = file(store: path, runID: runID)
        try? FileManager.default.removeItem(atPath: target)
        let folder = (target as NSString).deletingLastPathComponent
        if (try? FileManager.default.contentsOfDirectory(atPath: folder))?.isEmpty == true {
            try? FileManager.default.removeItem(atPath: folder)
        }
    }
}

extension Store {
    /// Asks the run's executor to pause or stop; a run no live process executes is paused or
    /// stopped at once. Refused for a finished run, and for pausing a run that is not running.
    /// - Returns: whether the request was handed to a live executor (false: done here).
    public func request(_ request: RunRequest, runID: Int64, now: Date = Date()) throws -> Bool {
        // Decided on a read: a live executor's node holds the write lock for as long as it runs.
        func liveState(_ db: Database) throws -> (state: String, live: Bool) {
            let held = try RunLease.holding(db, runID: runID)
            let state = held.state
            let allowed = request == .pause ? ["running", "waiting", "pending"] : ["running", "waiting", "pending", "paused"]
            guard allowed.contains(state) else {
                throw HeraldError(
                    .conflict,
                    "run #\(runID) is \(state); only a \(allowed.dropLast().joined(separator: ", ")) or \(allowed.last ?? "") run can be \(request == .pause ? "paused" : "stopped")"
                )
            }
            return (state, held.isLive(now: now))
        }
        let seen = try read(liveState)
        if seen.live && seen.state == "running" {
            try request.post(store: path, runID: runID)
            return true
        }
        let handed = try write { db in
            let (state, live) = try liveState(db)
            if live && state == "running" {
                try request.post(store: path, runID: runID)
                return true
            }
            // Nobody executes it: done here.
            if request == .stop {
                // What a stopped executor left claimed has no executor left to settle it with
                // its provider: unknown, for an operator to resolve ('runs resolve' reaches it).
                try SQLiteMessageLedger.abandonClaims(db, runIDs: [runID], now: Int(Date().timeIntervalSince1970), why: "stopped")
                for table in try RunRepository.workTableNames(db, runID: runID) {
                    try db.execute(sql: "DROP TABLE \(table.quotedDatabaseIdentifier)")
                }
                try RunRepository.log(
                    db, runID: runID, nodeID: nil, RunLogLine(level: "warning", code: "run.stopped", "run stopped by the user"))
            }
            try RunRepository.move(db, runID: runID, to: request == .stop ? .stopped : .paused, keepError: true)
            try db.execute(sql: "UPDATE herald_runs SET lease_owner = NULL, lease_expires_at = NULL WHERE id = ?", arguments: [runID])
            return false
        }
        // A stopped run's populations go with it.
        if !handed && request == .stop { RunRepository.removeWorkFile(store: path, runID: runID) }
        return handed
    }

    /// The run's work tables and the bytes they take in the file (nil when this SQLite has no
    /// `dbstat` table to measure them with).
    public func workTables(runID: Int64) throws -> (tables: [String], bytes: Int?) {
        // The run's own file: its tables are what its transitions hold; its size, their bytes.
        var info = stat()
        let file = RunRepository.workFile(store: path, runID: runID)
        if stat(file, &info) == 0 {
            let tables = try read { db in
                try String.fetchAll(
                    db, sql: "SELECT DISTINCT work_table FROM herald_run_edges WHERE run_id = ? AND work_table IS NOT NULL ORDER BY 1",
                    arguments: [runID])
            }
            return (tables, Int(info.st_size))
        }
        return try read { db in
            let tables = try RunRepository.workTableNames(db, runID: runID)
            guard !tables.isEmpty else { return (tables, 0) }
            // dbstat also counts each table's primary-key index pages under the table's name.
            let bytes = try? Int.fetchOne(
                db, sql: "SELECT sum(pgsize) FROM dbstat WHERE name IN (SELECT value FROM json_each(?))",
                arguments: [JSONValue.array(tables.map(JSONValue.string)).compact()])
            return (tables, bytes ?? nil)
        }
    }

    /// Reads a run's populations: `body` runs in a read transaction on a connection of its own
    /// that sees the store and, attached as `herald_work`, the run's own file (when it has one).
    public func readRunWork<T>(runID: Int64, _ body: (Database) throws -> T) throws -> T {
        let file = RunRepository.workFile(store: path, runID: runID)
        do {
            let configuration = Store.configuration(readOnly: true, busyTimeout: busyTimeout)
            let queue = try DatabaseQueue(path: connectionPath, configuration: configuration)
            return try queue.inDatabase { db in
                if access(file, F_OK) == 0 { try db.execute(sql: "ATTACH DATABASE ? AS herald_work", arguments: [file]) }
                var result: T?
                try db.inTransaction(.deferred) {
                    result = try body(db)
                    return .commit
                }
                return result!
            }
        } catch {
            throw Store.storeError(error, path: path)
        }
    }

    /// The work tables of every run: those in the runs' own files, and any a run of an older
    /// Herald left in the store itself.
    public func allWorkTables() throws -> [String] {
        var names = try read { db in try RunRepository.workTableNames(db, runID: nil) }
        for run in RunRepository.runsWithWorkFiles(store: path) {
            names += try readRunWork(runID: run) { db in
                try String.fetchAll(db, sql: "SELECT name FROM herald_work.sqlite_master WHERE type = 'table' ORDER BY name")
            }
        }
        return names.sorted()
    }

    /// Deletes finished runs (completed, failed, stopped) that started before `cutoff`, with
    /// their node states, counts, logs and any work tables left; unfinished runs are kept, since
    /// they can still be resumed. Messages they sent stay in the history.
    /// - Returns: how many runs and work tables went.
    public func purgeRuns(startedBefore cutoff: Date) throws -> (runs: Int, tables: Int) {
        let purged = try write { db -> (ids: [Int64], tables: Int) in
            let ids = try Int64.fetchAll(
                db,
                sql: "SELECT id FROM herald_runs WHERE state IN (\(RunState.sqlList(RunState.finished))) AND started_at < ? ORDER BY id",
                arguments: [Store.timestamp(cutoff)])
            var tables = 0
            for id in ids {
                // A run's own file holds the tables its transitions name.
                let recorded = try Int.fetchOne(
                    db, sql: "SELECT count(DISTINCT work_table) FROM herald_run_edges WHERE run_id = ? AND work_table IS NOT NULL",
                    arguments: [id])
                tables += recorded ?? 0
                // Runs of an older Herald kept their work tables in the store itself.
                for table in try RunRepository.workTableNames(db, runID: id) {
                    try db.execute(sql: "DROP TABLE \(table.quotedDatabaseIdentifier)")
                    tables += 1
                }
                try SQLiteMessageLedger.abandonClaims(db, runIDs: [id], now: Int(Date().timeIntervalSince1970))
                try db.execute(sql: "DELETE FROM herald_runs WHERE id = ?", arguments: [id])
            }
            return (ids, tables)
        }
        // The runs' own files go once their rows have.
        for id in purged.ids { RunRepository.removeWorkFile(store: path, runID: id) }
        return (purged.ids.count, purged.tables)
    }
}
