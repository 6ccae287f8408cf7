public import Foundation
import GRDB
public import HeraldCore
public import HeraldDelivery
public import HeraldStore
import Logging

/// Something that happened during a run, for progress displays.
public enum RunEvent: Sendable, Equatable {
    case started(runID: Int64)
    case nodeStarted(NodeID)
    /// A node finished; `outputs` maps each output port to its population size.
    case nodeFinished(NodeID, state: RunState, inputCount: Int?, outputs: [PortName: Int], detail: String?)
    /// The run's messages so far, per channel node, while the delivery worker sends (at most
    /// every ``Executor/deliveryProgressEvery``; never when that is nil).
    case delivering([NodeID: MessageCounts])
    case finished(RunDetail)
}

/// Whether a run only counts (dry) or acts (live: saves audiences, holds populations in waits,
/// starts campaigns, and channel nodes deliver through the configured providers).
public enum RunMode: String, Sendable, CaseIterable {
    case dry, live
}

/// Executes campaigns inside the store. Set nodes run as SQL (`INSERT … SELECT` into one work
/// table per transition); no population row is decoded in Swift.
public struct Executor: Sendable {
    public let store: Store
    public let dialect: any SQLDialect
    /// Forces the form of one-to-many predicates (see ``AudienceService/oneToManyForm``).
    public var oneToManyForm: OneToManyForm?
    /// For tests of recovery: after this many nodes have committed, the executor stops as a
    /// killed process would, leaving the run as it is (running, leased, with its tables).
    var simulatedCrashAfterNodes: Int?

    struct SimulatedCrash: Error {}
    /// For tests of failure handling: this node's work fails inside its transaction.
    var simulatedFailureAt: NodeID?
    /// For tests: a crash after this node's work committed in the run's file and before its
    /// result was recorded in the store.
    var simulatedCrashBeforeBookkeeping: NodeID?

    /// Polled like a cancellation; when it says so, the executor stops without finishing the
    /// run: the node in progress is rolled back, the lease is released, and the run stays
    /// unfinished for another executor to resume (a scheduler asked to terminate does this).
    public var halt: (@Sendable () -> Bool)?
    /// The run's clock: when waits start and whether they have ended (a scheduler passes its own).
    public var clock: @Sendable () -> Date = { Date() }
    /// The providers live runs deliver through; nil: the configuration's defaults (the outbox
    /// and extracts beside the store).
    public var delivery: DeliverySetup?
    /// How often a live run reports its messages while delivering (``RunEvent/delivering(_:)``);
    /// nil: never (each report counts the run's ledger rows again).
    public var deliveryProgressEvery: TimeInterval?

    struct Halted: Error {
        var runID: Int64
    }

    /// Looks for a pause or stop request for the run every quarter of a second (a file beside
    /// the store, see `RunRequest.file`), so the executing connection's progress handler can
    /// see it without touching the database.
    final class RequestWatcher: @unchecked Sendable {
        private let lock = NSLock()
        private var current: RunRequest?
        private var done = false
        private let finished = DispatchSemaphore(value: 0)
        let path: String
        let runID: Int64

        init(path: String, runID: Int64) {
            self.path = path
            self.runID = runID
            Thread.detachNewThread { [self] in
                defer { finished.signal() }
                while !isDone {
                    if let request = RunRequest.pending(store: path, runID: runID) { set(request) }
                    Thread.sleep(forTimeInterval: 0.25)
                }
            }
        }

        var value: RunRequest? {
            lock.lock()
            defer { lock.unlock() }
            return current
        }

        private var isDone: Bool {
            lock.lock()
            defer { lock.unlock() }
            return done
        }

        private func set(_ request: RunRequest) {
            lock.lock()
            current = request
            lock.unlock()
        }

        /// Stops watching; whatever was asked has been handled (or the run ended), so the
        /// request is removed.
        func finish() {
            lock.lock()
            done = true
            lock.unlock()
            finished.wait()
            RunRequest.clear(store: path, runID: runID)
        }
    }

    public init(store: Store, dialect: any SQLDialect = SQLiteDialect(), oneToManyForm: OneToManyForm? = .fromEnvironment) {
        self.store = store
        self.dialect = dialect
        self.oneToManyForm = oneToManyForm
    }

    /// Runs every node of the campaign's current version without sending anything, storing
    /// per-node and per-transition counts on a new run.
    ///
    /// - Parameters:
    ///   - events: called (on the executing thread) as the run progresses.
    ///   - isCancelled: polled between nodes and while a node's statements run (through SQLite's
    ///     progress handler); a cancelled run is stored as stopped.
    /// The campaign's time zone; an unknown one stops the run (validation reports it first).
    static func timeZone(_ campaign: Campaign) throws -> TimeZone {
        guard let zone = TimeZone(identifier: campaign.timeZone) else {
            throw HeraldError(.validation, "campaign '\(campaign.name)': '\(campaign.timeZone)' is not an IANA time zone")
        }
        return zone
    }

    public func dryRun(
        _ stored: StoredCampaign, events: @Sendable (RunEvent) -> Void = { _ in },
        isCancelled: @escaping @Sendable () -> Bool = { false }
    ) throws -> RunDetail {
        try run(stored, mode: .dry, events: events, isCancelled: isCancelled)
    }

    /// Starts a run of the campaign version and executes it until it ends or waits.
    public func run(
        _ stored: StoredCampaign, mode: RunMode, events: @Sendable (RunEvent) -> Void = { _ in },
        isCancelled: @escaping @Sendable () -> Bool = { false }
    ) throws -> RunDetail {
        guard let detail = try run(stored, mode: mode, claiming: { _, _ in true }, events: events, isCancelled: isCancelled) else {
            throw HeraldError(.internalFailure, "a run without a claim was not started")
        }
        return detail
    }

    /// Starts a run whose creation `claim` may veto in the same transaction (a scheduler
    /// claiming an occurrence: false when another scheduler has it, and then nil).
    func run(
        _ stored: StoredCampaign, mode: RunMode, claiming claim: (Database, Int64) throws -> Bool, startedBy: String? = nil,
        events: @Sendable (RunEvent) -> Void = { _ in }, isCancelled: @escaping @Sendable () -> Bool = { false }
    ) throws -> RunDetail? {
        try requireRunnable(stored)
        let owner = RunLease.newOwner()
        let runID: Int64
        do {
            runID = try store.write { db -> Int64 in
                let id = try RunRepository.createRun(
                    db, campaign: stored, dryRun: mode == .dry, leaseOwner: owner, startedBy: startedBy)
                // Another scheduler launched this occurrence: nothing of this one is kept.
                guard try claim(db, id) else { throw ClaimLost() }
                return id
            }
        } catch let error as HeraldError where error.cause is ClaimLost {
            return nil  // the store wraps what a transaction's body throws
        }
        store.logger.info(
            "\(mode.rawValue) run started", metadata: ["run": "\(runID)", "campaign": "\(stored.id)", "version": "\(stored.version)"])
        return try execute(runID: runID, stored, mode: mode, owner: owner, events: events, isCancelled: isCancelled, halt: halt)
    }

    struct ClaimLost: Error {}

    /// Continues an unfinished run with the campaign version it started with: one whose
    /// executor was killed (or the machine stopped), a paused one (its failed node is retried),
    /// a waiting one (waits that have ended let their populations through) or a pending one
    /// (started by another campaign's End node). Nodes whose result was recorded are not
    /// recomputed; a node that was in progress is redone from its inputs. Refused while another
    /// live executor holds the run's lease.
    public func resume(
        runID: Int64, events: @Sendable (RunEvent) -> Void = { _ in }, isCancelled: @escaping @Sendable () -> Bool = { false }
    ) throws -> RunDetail {
        let summary = try store.runDetail(runID).summary
        guard summary.state.isUnfinished else {
            throw HeraldError(
                .conflict,
                "run #\(runID) is \(summary.state.rawValue); only an unfinished run can be resumed (start a new one with 'herald run' or 'herald runs restart')"
            )
        }
        let stored = try store.loadCampaign(id: summary.campaignID, version: summary.version)
        do { try requireRunnable(stored) } catch let error as HeraldError where summary.state == .pending {
            // A run nobody started cannot start: it ends, failed, with the reason, instead of
            // being retried by every scheduler tick.
            try store.write { db in
                try RunRepository.log(db, runID: runID, nodeID: nil, RunLogLine(level: "error", code: "run.not-runnable", error.message))
                try RunRepository.finishRun(db, runID: runID, state: .failed, error: error.message)
            }
            throw HeraldError(
                .validation, "run #\(runID) of '\(stored.campaign.name)' cannot start, so it failed: \(error.message)", cause: error)
        }
        // Refused before anything is written, when the delivery is known to go elsewhere.
        if !summary.dryRun, let delivery,
            let conflict = Self.conflict(
                runID: runID, campaign: stored.campaign,
                recorded: try store.read { db in try RunRepository.deliveryDestinations(db, runID: runID) },
                setup: delivery)
        {
            throw conflict
        }
        if summary.state != .running { try store.write { db in try RunRepository.reopen(db, runID: runID) } }
        store.logger.info("run resumed", metadata: ["run": "\(runID)", "campaign": "\(stored.id)", "version": "\(stored.version)"])
        return try execute(
            runID: runID, stored, mode: summary.dryRun ? .dry : .live, owner: RunLease.newOwner(), events: events, isCancelled: isCancelled,
            halt: halt)
    }

    /// Where `setup` delivers each of `channels`.
    static func destinations(of setup: DeliverySetup, channels: Set<Channel>) -> [Channel: String] {
        Dictionary(uniqueKeysWithValues: channels.map { ($0, setup.providers[$0]?.destination ?? "none") })
    }

    /// Why `setup` must not continue the run: a run delivers to one place for its whole life,
    /// since only that place can say what it already has of the messages an executor left
    /// claimed; a continuation configured to deliver elsewhere could send them again.
    static func conflict(runID: Int64, campaign: Campaign, recorded: [Channel: String]?, setup: DeliverySetup) -> HeraldError? {
        guard let recorded else { return nil }
        let channels = Set(campaign.nodes.compactMap(\.definition.sendsOn))
        let destinations = destinations(of: setup, channels: channels)
        guard let channel = channels.sorted(by: { $0.rawValue < $1.rawValue }).first(where: { recorded[$0] != destinations[$0] }) else {
            return nil
        }
        return HeraldError(
            .invalidInput,
            "run #\(runID) of '\(campaign.name)' delivers \(channel.rawValue) to \(recorded[channel] ?? "nothing"), but this configuration (\(setup.source)) delivers it to \(destinations[channel] ?? "nothing"): continuing it here could send its messages twice; give the configuration it started with (--config or HERALD_CONFIG)"
        )
    }

    /// Fails closed on what must not run: an archived campaign, an invalid definition, a cycle.
    func requireRunnable(_ stored: StoredCampaign) throws {
        if try store.isArchived(campaignID: stored.id) {
            throw HeraldError(
                .conflict, "campaign '\(stored.campaign.name)' is archived; restore it with 'herald campaign unarchive' to run it")
        }
        try CampaignValidator(checker: try store.audienceChecker()).requireValid(stored.campaign)
        guard stored.campaign.topologicalOrder() != nil else {
            throw HeraldError(.validation, "campaign '\(stored.campaign.name)' has a cycle")
        }
        _ = try startedCampaigns(stored)
    }

    /// The campaigns the End nodes of `stored` start, by node: the ones saved with the version,
    /// by id (under their names of today), so a rename never breaks the link. Refuses a node
    /// whose campaign was deleted since or, in a store from before ids were kept, whose name
    /// names none.
    func startedCampaigns(_ stored: StoredCampaign) throws -> [NodeID: StoredCampaign] {
        let targets = try store.startTargets(of: stored)
        var started: [NodeID: StoredCampaign] = [:]
        for node in stored.campaign.nodes {
            guard case .endAndStart(let other) = node.config else { continue }
            let problem = "campaign '\(stored.campaign.name)': node '\(node.id)' starts '\(other)', which does not exist"
            switch targets[node.id] {
            case .some(.some(let id)):
                started[node.id] = try store.loadCampaign(id: id)
            case .some(.none):
                throw HeraldError(.validation, problem + " any more (it was deleted)")
            case .none:
                do {
                    started[node.id] = try store.loadCampaign(.name(other))
                } catch {
                    throw HeraldError(.validation, problem, cause: error)
                }
            }
        }
        return started
    }

    /// Detaches and removes the run's own file: its populations are no longer needed.
    func removeWorkFile(_ work: GuardedConnection, runID: Int64) {
        try? work.detach(Self.workSchema)
        RunRepository.removeWorkFile(store: store.path, runID: runID)
    }

    /// The schema the run's own file is attached under.
    static let workSchema = "herald_work"

    /// Drops the tables a node left in the run's file without its result being recorded (an
    /// executor killed between the node's two commits), before the node is done again.
    func dropLeftovers(_ db: Database, runID: Int64, position: Int) throws {
        let names = try String.fetchAll(
            db,
            sql: """
                SELECT name FROM \(dialect.quote(Self.workSchema)).sqlite_master
                WHERE type = 'table' AND (name LIKE ? ESCAPE '\\' OR name LIKE ? ESCAPE '\\')
                """,
            arguments: ["herald\\_work\\_\(runID)\\_n\(position)\\_%", "herald\\_work\\_\(runID)\\_tmp\(position)\\_%"])
        for name in names { try db.execute(sql: "DROP TABLE \(dialect.quote(Self.workSchema)).\(dialect.quote(name))") }
    }

    /// The name of one output of a node in a run: `herald_work_<run>_n<position>_<k>`, or while
    /// the node is being computed `herald_work_<run>_tmp<position>_<k>`.
    static func workTable(run: Int64, position: Int, index: Int, temporary: Bool) -> String {
        "herald_work_\(run)_\(temporary ? "tmp" : "n")\(position)_\(index)"
    }

    /// Executes the nodes of a run that have no recorded result, in order. Each node's work
    /// tables, state, port counts, log lines and the lease's renewal are one transaction, so a
    /// kill at any point leaves either the whole result or nothing of it.
    func execute(
        runID: Int64, _ stored: StoredCampaign, mode: RunMode, owner: String, events: @Sendable (RunEvent) -> Void,
        isCancelled: @escaping @Sendable () -> Bool, halt: (@Sendable () -> Bool)?
    ) throws -> RunDetail {
        let campaign = stored.campaign
        let live = mode == .live
        let catalog = try store.catalog()
        let zone = try Self.timeZone(campaign)
        // The campaigns live End nodes start, read before any node holds the write lock.
        let targets = live ? try startedCampaigns(stored) : [:]
        let order = campaign.topologicalOrder() ?? []
        let lease = try store.write { db in try RunLease.acquire(db, runID: runID, owner: owner) }
        let setup = live ? try deliverySetup(runID: runID, campaign: campaign, lease: lease) : nil
        // Pauses and stops asked by other processes (`herald runs pause|stop`).
        let requests = RequestWatcher(path: store.path, runID: runID)
        defer { requests.finish() }
        let halting: @Sendable () -> Bool = { halt?() ?? false || requests.value == .pause }
        let stopping: @Sendable () -> Bool = { isCancelled() || requests.value == .stop || halting() }
        events(.started(runID: runID))
        // The same compiler counts use: saved audiences, broken-definition and date-time checks.
        var compiler: RuleCompiler
        do {
            compiler = try AudienceService(store: store, oneToManyForm: oneToManyForm).compiler(
                variables: campaign.variableBindings, timeZone: zone)
        } catch {
            try? store.write { db in try lease.release(db) }
            throw error
        }
        compiler.dialect = dialect
        let audienceEntities = compiler.audiences.values.reduce(into: [String: String]()) { $0[$1.name] = $1.entity }
        let entities = campaign.inboundEntities(catalog: catalog, audiences: audienceEntities)

        let (work, policy) = try openWork(runID: runID, catalog: catalog, lease: lease)

        let pass = RunPass(
            runID: runID, stored: stored, live: live, catalog: catalog, zone: zone, targets: targets, lease: lease, work: work,
            policy: policy, compiler: compiler, entities: entities, stopping: stopping)
        // What earlier executors of this run recorded.
        let recorded = try store.read { db in try RunRepository.progress(db, runID: runID) }
        sweep(work, policy: policy, resuming: runID)

        // Per node and input port: the work table of the population arriving there. A node whose
        // first input receives none (an empty or skipped branch) is skipped; an empty secondary
        // input of a Combine is an empty set.
        var inputs: [NodeID: [PortName: String]] = [:]
        func reached(_ node: Node) -> Bool {
            // An And-join goes on with whichever of its branches brought a population.
            if case .andJoin = node.config { return !(inputs[node.id] ?? [:]).isEmpty }
            return node.startsBranch || node.inputPorts.first.map { inputs[node.id]?[$0] != nil } == true
        }
        var failure: HeraldError?
        var finished = false
        var committed = 0
        var stopped = false
        func stop() throws {
            try store.write { db in
                try RunRepository.log(
                    db, runID: runID, nodeID: nil, RunLogLine(level: "warning", code: "run.stopped", "run stopped by the user"))
                try RunRepository.finishRun(db, runID: runID, state: .stopped, error: nil)
                try lease.release(db)
            }
            finished = true
            stopped = true
            failure = HeraldError(.cancelled, "\(mode.rawValue) run of '\(campaign.name)' stopped")
        }
        /// Passes a finished node's outputs to the nodes they lead to.
        func route(_ id: NodeID, tables: [PortName: String], counts: [PortName: Int], emitEmpty: Bool) {
            for e in campaign.outbound(id) {
                let count = counts[e.port] ?? 0
                if let table = tables[e.port], count > 0 || emitEmpty { inputs[e.to, default: [:]][e.toPort] = table }
            }
        }
        // Waiting nodes and everything downstream of them: left pending until the wait ends.
        var blocked = Set<NodeID>()
        var wakes: [Date] = []
        do {
            for id in order {
                if halting() { throw Halted(runID: runID) }
                if isCancelled() || requests.value == .stop {
                    try stop()
                    break
                }
                guard let node = campaign.node(id), let position = campaign.nodes.firstIndex(where: { $0.id == id }) else { continue }
                if campaign.inbound(id).contains(where: { blocked.contains($0.from) }) {
                    blocked.insert(id)
                    continue
                }
                let now = clock()
                var recordedWake: Date?
                if let done = recorded.nodes[id], done.state == .waiting {
                    let wake = done.wakeAt.flatMap(TemporalText.utcSeconds(canonical:)).map {
                        Date(timeIntervalSince1970: TimeInterval($0))
                    }
                    if let wake, wake > now {
                        blocked.insert(id)
                        wakes.append(wake)
                        events(.nodeFinished(id, state: .waiting, inputCount: done.inputCount, outputs: [:], detail: done.detail))
                        continue
                    }
                    recordedWake = wake ?? now
                }
                if let done = recorded.nodes[id], done.state == .completed || done.state == .skipped {
                    // Recorded by an earlier executor of this run: its tables and counts stand.
                    if done.state == .completed {
                        let ports = recorded.ports[id] ?? [:]
                        route(
                            id, tables: ports.compactMapValues(\.table), counts: ports.mapValues(\.count),
                            emitEmpty: node.definition.emitsWhenEmpty)
                    }
                    events(
                        .nodeFinished(
                            id, state: done.state, inputCount: done.inputCount, outputs: (recorded.ports[id] ?? [:]).mapValues(\.count),
                            detail: done.detail))
                    continue
                }
                if !reached(node) {
                    try store.write { db in
                        try RunRepository.markNodeFinished(
                            db, runID: runID, nodeID: id, state: .skipped, inputCount: nil, durationMS: 0,
                            detail: "no population reached this node", error: nil)
                    }
                    events(.nodeFinished(id, state: .skipped, inputCount: nil, outputs: [:], detail: nil))
                    continue
                }
                try store.write { db in try RunRepository.markNodeRunning(db, runID: runID, nodeID: id) }
                events(.nodeStarted(id))
                let started = DispatchTime.now()
                let result: NodeOutcome
                do {
                    result = try executeNode(
                        node, position: position, inputs: inputs[id] ?? [:], now: now, recordedWake: recordedWake, started: started,
                        in: pass)
                } catch let error as HeraldError where error.code == .cancelled {
                    // Halting leaves the node to be redone by the next executor.
                    if halting() { throw Halted(runID: runID) }
                    try store.write { db in
                        try RunRepository.markNodeFinished(
                            db, runID: runID, nodeID: id, state: .stopped, inputCount: nil, durationMS: 0, detail: nil, error: nil)
                    }
                    events(.nodeFinished(id, state: .stopped, inputCount: nil, outputs: [:], detail: nil))
                    try stop()
                    break
                } catch let error as HeraldError where error.code == .leaseLost {
                    // The lease was lost: another executor carries on; this one writes nothing more.
                    finished = true
                    failure = error
                    break
                } catch let crash as SimulatedCrash {
                    throw crash
                } catch {
                    // A failed statement, a lock held too long by another process, a full disk:
                    // the node's transaction rolled back. The run pauses with the error, its
                    // finished nodes kept, so that once the cause is fixed a resume retries the node.
                    let message = "\(error)"
                    let recorded = recordStop(runID: runID, lease: lease, node: id, message: message)
                    finished = true
                    events(.nodeFinished(id, state: .failed, inputCount: nil, outputs: [:], detail: message))
                    // The message stays in the run's own log; diagnostics name the node only.
                    store.logger.error("node failed", metadata: ["run": "\(runID)", "node": "\(id)", "kind": "\(node.kind.rawValue)"])
                    failure = HeraldError(
                        .runFailed,
                        "\(mode.rawValue) run of '\(campaign.name)' failed at node '\(id)': \(message); "
                            + (recorded
                                ? "run #\(runID) is paused, and 'herald runs retry \(runID)' retries the node"
                                : "the failure could not be recorded either, so run #\(runID) shows as running until its lease ends; then 'herald runs resume \(runID)' or a scheduler retries the node"),
                        cause: error)
                    break
                }
                committed += 1
                if let limit = simulatedCrashAfterNodes, committed >= limit { throw SimulatedCrash() }
                if !result.samples.isEmpty { try renderSamples(result.samples, node: id, runID: runID, stored: stored) }
                if result.state == .waiting {
                    blocked.insert(id)
                    if let wake = result.wakeAt { wakes.append(wake) }
                } else {
                    route(id, tables: result.tables, counts: result.counts, emitEmpty: result.emitEmpty)
                }
                events(.nodeFinished(id, state: result.state, inputCount: result.inputCount, outputs: result.counts, detail: result.detail))
                store.logger.debug(
                    "node finished",
                    metadata: ["run": "\(runID)", "node": "\(id)", "kind": "\(node.kind.rawValue)", "in": "\(result.inputCount ?? 0)"])
            }
            if !finished, let setup {
                let report = try deliverMessages(
                    runID: runID, stored: stored, setup: setup, lease: lease, owner: owner, events: events, stopping: stopping)
                if report.stopped {
                    if halting() { throw Halted(runID: runID) }
                    try stop()
                } else if let due = try store.ledger.nextDue(runID: runID) {
                    wakes.append(Date(timeIntervalSince1970: TimeInterval(due)))
                }
            }
            if !finished {
                try end(runID: runID, live: live, zone: zone, wake: wakes.min(), work: work, policy: policy, lease: lease)
            } else if stopped {
                try removeWorkTables(work, policy: policy, runID: runID)
            }
        } catch let crash as SimulatedCrash {
            throw crash
        } catch let halted as Halted {
            if requests.value == .pause {
                // Asked to pause: the run waits, paused, for 'herald runs resume'.
                try? store.write { db in
                    try RunRepository.pause(db, runID: runID, error: nil)
                    try lease.release(db)
                }
                store.logger.notice("run paused", metadata: ["run": "\(runID)"])
                throw HeraldError(.cancelled, "run #\(halted.runID) paused; 'herald runs resume \(halted.runID)' continues it")
            }
            // The run stays unfinished, free for the next executor to resume.
            try? store.write { db in try lease.release(db) }
            store.logger.notice("run halted", metadata: ["run": "\(runID)"])
            throw HeraldError(
                .cancelled,
                "run #\(halted.runID) was halted before it finished; 'herald runs resume \(halted.runID)' or a scheduler continues it")
        } catch let error as HeraldError where error.code == .leaseLost {
            throw error
        } catch {
            // Whatever failed between nodes (the store itself, most likely), the run must not
            // stay `running` under this executor with nothing said: it pauses with the reason,
            // or at least is released for a resume.
            let recorded = recordStop(runID: runID, lease: lease, node: nil, message: "\(error)")
            throw HeraldError(
                .runFailed,
                "\(mode.rawValue) run #\(runID) of '\(campaign.name)' stopped: \(error); "
                    + (recorded ? "it is paused, and 'herald runs resume \(runID)' continues it" : "it continues when resumed"),
                cause: error)
        }
        let detail = try store.runDetail(runID)
        events(.finished(detail))
        if let failure { throw failure }
        return detail
    }

    /// The providers a live run delivers through, when it has a channel node; a configuration
    /// that cannot work pauses the run, with the reason, before any node runs.
    func deliverySetup(runID: Int64, campaign: Campaign, lease: RunLease) throws -> DeliverySetup? {
        let channels = Set(campaign.nodes.compactMap(\.definition.sendsOn))
        guard !channels.isEmpty else { return nil }
        let setup: DeliverySetup
        do {
            setup = try delivery ?? DeliverySetup.make(.defaults, storePath: store.path)
        } catch {
            try? store.write { db in
                try RunRepository.pause(db, runID: runID, error: "delivery cannot start: \(error)")
                try lease.release(db)
            }
            throw HeraldError(.invalidInput, "run #\(runID) of '\(campaign.name)' cannot deliver: \(error); it is paused", cause: error)
        }
        let destinations = Self.destinations(of: setup, channels: channels)
        let recorded = try store.write { db in
            let recorded = try RunRepository.deliveryDestinations(db, runID: runID)
            if recorded == nil { try RunRepository.recordDeliveryDestinations(db, runID: runID, destinations) }
            return recorded
        }
        if let conflict = Self.conflict(runID: runID, campaign: campaign, recorded: recorded, setup: setup) {
            try? store.write { db in try lease.release(db) }
            throw conflict
        }
        return setup
    }

    /// The run's guarded connection, with its work file attached, and what it may touch; when
    /// either cannot be had, the run fails with the reason.
    ///
    /// Generated SQL runs on a guarded connection of its own: it may read the catalog's tables
    /// and snapshot members, and create, fill, read and drop this run's work tables, nothing
    /// else; a cancellation stops the statement in progress. Herald's own bookkeeping runs on
    /// the same connection, trusted, so that it commits with the node's tables. The work tables
    /// live in a file of their own, attached: a node's long statement holds that file's write
    /// lock, and the store's only for the node's short bookkeeping.
    func openWork(runID: Int64, catalog: Catalog, lease: RunLease) throws -> (GuardedConnection, StatementGuard.Policy) {
        func fail(_ error: any Error) {
            try? store.write { db in
                try RunRepository.finishRun(db, runID: runID, state: .failed, error: "\(error)")
                try lease.release(db)
            }
        }
        let work: GuardedConnection
        do { work = try GuardedConnection(path: store.path, readOnly: false, busyTimeout: store.busyTimeout) } catch {
            fail(error)
            throw error
        }
        var policy = AudienceService.readPolicy(catalog)
        policy.workPrefix = "herald_work_\(runID)_"
        do {
            try FileManager.default.createDirectory(
                atPath: RunRepository.workFolder(store: store.path), withIntermediateDirectories: true)
            try work.attach(RunRepository.workFile(store: store.path, runID: runID), as: Self.workSchema)
        } catch {
            fail(error)
            throw HeraldError(.io, "run #\(runID) cannot keep its work tables beside \(store.path): \(error)", cause: error)
        }
        return (work, policy)
    }

    /// Runs one node: its work on the run's connection, then its result recorded in the store
    /// (together, for a node that writes the store), and a channel node's messages queued.
    func executeNode(
        _ node: Node, position: Int, inputs: [PortName: String], now: Date, recordedWake: Date?, started: DispatchTime,
        in pass: RunPass
    ) throws -> NodeOutcome {
        let id = node.id
        let runID = pass.runID
        let outEdges = pass.stored.campaign.outbound(id)
        let execution = try node.execution
        // The node's figures, edges, log lines and the lease's renewal, on the store.
        func bookkeeping(_ db: Database, _ outcome: inout NodeOutcome, ms: Int) throws {
            try pass.work.guardian.trusting {
                // A waiting node has no outputs yet.
                for port in node.outputPorts where outcome.state != .waiting {
                    try RunRepository.recordEdge(
                        db, runID: runID, fromNode: id, port: port, toNode: outEdges.first { $0.port == port }?.to,
                        workTable: outcome.tables[port], count: outcome.counts[port] ?? 0)
                }
                try RunRepository.markNodeFinished(
                    db, runID: runID, nodeID: id, state: outcome.state, inputCount: outcome.inputCount, durationMS: ms,
                    detail: outcome.detail, error: nil,
                    wakeAt: outcome.wakeAt.flatMap { TemporalText.canonical(utcSeconds: Int($0.timeIntervalSince1970)) })
                if outcome.starts != nil, let target = pass.targets[id] {
                    let started = try RunRepository.createRun(
                        db, campaign: target, dryRun: false, pending: true, startedBy: "run #\(runID)")
                    let line = "started the campaign '\(target.campaign.name)' as run #\(started); a scheduler begins it"
                    outcome.detail = line
                    outcome.logs.append(RunLogLine(code: "campaign.started", line, figures: ["run": Int(started)]))
                }
                for line in outcome.logs { try RunRepository.log(db, runID: runID, nodeID: id, line) }
                try pass.lease.renew(db)
            }
        }
        // A node that writes the store (a live Save audience) commits its work and its
        // bookkeeping together, under the store's lock. Any other writes only the run's
        // file, then records its result in a short transaction of the store's own: a
        // kill between the two leaves tables nobody recorded, dropped when the node is
        // redone.
        let together = execution.writesStore
        var ms = 0
        var outcome = try pass.work.run(pass.policy, shouldStop: pass.stopping, what: "node '\(id)'", immediate: together) { db in
            try dropLeftovers(db, runID: runID, position: position)
            let counter = Counter()
            var context = NodeContext(
                db: db, compiler: pass.compiler, catalog: pass.catalog, dialect: dialect,
                input: node.inputPorts.lazy.compactMap { inputs[$0] }.first, inputs: inputs,
                entity: pass.entities[id], live: pass.live, now: now, timeZone: pass.zone,
                recordedWake: recordedWake, trusted: { body in try pass.work.guardian.trusting(body) },
                newTable: { Self.workTable(run: runID, position: position, index: counter.next(), temporary: true) })
            context.workSchema = Self.workSchema
            context.run = RunPosition(runID: runID, campaignID: pass.stored.id, node: id)
            var outcome = try execution.execute(context)
            if simulatedFailureAt == id { throw HeraldError(.io, "simulated failure of node '\(id)'") }
            ms = Int((DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1_000_000)
            try pass.work.guardian.trusting {
                // The node's tables appear under their final names once complete.
                var renamed: [String: String] = [:]
                for (i, table) in outcome.created.enumerated() {
                    let final = Self.workTable(run: runID, position: position, index: i + 1, temporary: false)
                    let source = "\(dialect.quote(Self.workSchema)).\(dialect.quote(table))"
                    try db.execute(sql: "ALTER TABLE \(source) RENAME TO \(dialect.quote(final))")
                    renamed[table] = final
                }
                outcome.created = outcome.created.map { renamed[$0] ?? $0 }
                outcome.tables = outcome.tables.mapValues { renamed[$0] ?? $0 }
                outcome.enqueue = outcome.enqueue?.renamed(renamed)
            }
            if together { try bookkeeping(db, &outcome, ms: ms) }
            return outcome
        }
        if let enqueue = outcome.enqueue {
            var copying = Stopwatch()
            try copyToLedger(
                enqueue, work: pass.work, policy: pass.policy, position: RunPosition(runID: runID, campaignID: pass.stored.id, node: id),
                now: Int(now.timeIntervalSince1970))
            // A channel node's duration includes queueing its messages; its line says how long that took.
            ms = Int((DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1_000_000)
            let ledgerMS = Int(copying.lap())
            for i in outcome.logs.indices where outcome.logs[i].code == "channel.enqueued" {
                outcome.logs[i].figures["ledger_ms"] = ledgerMS
            }
        }
        if !together {
            if simulatedCrashBeforeBookkeeping == id { throw SimulatedCrash() }
            outcome = try pass.work.run(pass.policy, what: "recording node '\(id)'") { db in
                var recorded = outcome
                try bookkeeping(db, &recorded, ms: ms)
                return recorded
            }
        }
        return outcome
    }

    /// A live run's delivery, once its nodes have run: settles what a stopped executor left
    /// claimed, then delivers every due message; both logged in the run.
    func deliverMessages(
        runID: Int64, stored: StoredCampaign, setup: DeliverySetup, lease: RunLease, owner: String,
        events: @Sendable (RunEvent) -> Void, stopping: @escaping @Sendable () -> Bool
    ) throws -> DeliveryWorker.Report {
        // The worker calls back only while it delivers, within this call.
        try withoutActuallyEscaping(events) { events in
            try runWorker(runID: runID, stored: stored, setup: setup, lease: lease, owner: owner, events: events, stopping: stopping)
        }
    }

    private func runWorker(
        runID: Int64, stored: StoredCampaign, setup: DeliverySetup, lease: RunLease, owner: String,
        events: @escaping @Sendable (RunEvent) -> Void, stopping: @escaping @Sendable () -> Bool
    ) throws -> DeliveryWorker.Report {
        var worker = DeliveryWorker(store: store, ledger: store.ledger, setup: setup, campaign: stored, runID: runID, owner: owner)
        worker.clock = clock
        let store = self.store
        let progress = deliveryProgressEvery.map { Throttle(every: $0) }
        // Renewed once a second, not after every batch: a lease lasts far longer.
        let renewal = Throttle(every: 1)
        worker.heartbeat = {
            if renewal.due() { try store.write { db in try lease.renew(db) } }
            // Counted again from the ledger (so exclusions at claim time show too), only for
            // someone watching, and not after every batch.
            if let progress, progress.due(), let counts = try? store.ledger.counts(runID: runID) { events(.delivering(counts)) }
        }
        let recovered = try worker.recover()
        if recovered.total > 0 {
            // Messages an earlier executor claimed and never recorded, settled with what their
            // providers have; what they cannot tell is unknown, never sent again by itself.
            try store.write { db in
                try RunRepository.log(
                    db, runID: runID, nodeID: nil,
                    RunLogLine(
                        level: recovered.unknown > 0 ? "warning" : "info", code: "delivery.recovered",
                        "\(Names.counted(recovered.total, "message")) left claimed by an executor that stopped: \(recovered.sent) the provider had (sent), \(recovered.requeued) it never got (queued again), \(recovered.unknown) unknown"
                            + (recovered.unknown > 0
                                ? "; 'herald history --run \(runID) --status unknown' lists them and 'herald runs resolve \(runID)' decides"
                                : ""),
                        figures: ["sent": recovered.sent, "requeued": recovered.requeued, "unknown": recovered.unknown]))
            }
        }
        let report = try worker.deliver(shouldStop: stopping)
        if report.attempted + report.renderFailed > 0 {
            var line = "handed \(Names.counted(report.attempted, "message")) to providers; \(Names.groupedCount(report.sent)) accepted"
            if report.renderFailed > 0 {
                line +=
                    "; \(Names.counted(report.renderFailed, "message")) could not be rendered for their recipient and failed"
                    + " ('herald history --run \(runID) --status failed' says why)"
            }
            try store.write { db in
                try lease.renew(db)
                try RunRepository.log(
                    db, runID: runID, nodeID: nil,
                    RunLogLine(
                        level: report.renderFailed > 0 ? "warning" : "info", code: "delivery.pass", line,
                        figures: [
                            "attempted": report.attempted, "sent": report.sent, "render_failed": report.renderFailed,
                            "claim_ms": Int(report.claimMS),
                            "render_ms": Int(report.renderMS), "send_ms": Int(report.sendMS), "record_ms": Int(report.recordMS),
                            "elapsed_ms": Int(report.elapsedMS),
                        ]))
            }
        }
        return report
    }

    /// Ends a run whose every branch has ended or waits: waiting, unleased, with its tables, for
    /// a scheduler to resume it at `wake`; or completed (a dry run's file removed: it keeps its
    /// counts, not its populations; a live run keeps them until purged).
    func end(
        runID: Int64, live: Bool, zone: TimeZone, wake: Date?, work: GuardedConnection, policy: StatementGuard.Policy, lease: RunLease
    ) throws {
        if let wake {
            let text = TemporalText.canonical(utcSeconds: Int(wake.timeIntervalSince1970.rounded(.up))) ?? ""
            try store.write { db in
                try RunRepository.wait(db, runID: runID, until: text)
                try RunRepository.log(
                    db, runID: runID, nodeID: nil,
                    RunLogLine(
                        code: "run.waiting",
                        "the run waits until \(TemporalText.local(utcSeconds: Int(wake.timeIntervalSince1970), zone: zone))"
                    ))
                try lease.release(db)
            }
            return
        }
        try work.run(policy, what: "finishing the run") { db in
            // Tables a run of an older Herald kept in the store itself.
            if !live {
                for table in try RunRepository.workTableNames(db, runID: runID) {
                    try db.execute(sql: "DROP TABLE main.\(dialect.quote(table))")
                }
            }
            try work.guardian.trusting {
                try lease.renew(db)
                try RunRepository.finishRun(db, runID: runID, state: .completed, error: nil)
                try lease.release(db)
            }
        }
        if !live { removeWorkFile(work, runID: runID) }
    }

    /// Drops a stopped run's work tables and file: it keeps no populations.
    func removeWorkTables(_ work: GuardedConnection, policy: StatementGuard.Policy, runID: Int64) throws {
        try work.run(policy, what: "removing the work tables") { db in
            for table in try RunRepository.workTableNames(db, runID: runID) {
                try db.execute(sql: "DROP TABLE main.\(dialect.quote(table))")
            }
        }
        removeWorkFile(work, runID: runID)
    }

    /// Copies a channel node's verdicts into the message ledger, in short transactions of
    /// `ledgerChunk` rows so that no other process waits long for the store. A copy redone
    /// after a crash adds only what is missing: the ledger's key is unique.
    func copyToLedger(
        _ enqueue: Enqueue, work: GuardedConnection, policy: StatementGuard.Policy, position: RunPosition, now: Int
    ) throws {
        let schema = dialect.quote(Self.workSchema) + "."
        var from: Int64 = 1
        while from <= enqueue.lastRow {
            let to = min(enqueue.lastRow, from + Self.ledgerChunk - 1)
            try work.run(policy, what: "queueing the messages of node '\(position.node)'") { db in
                try work.guardian.trusting {
                    _ = try SQLiteMessageLedger.enqueue(
                        db, verdicts: schema + dialect.quote(enqueue.verdicts), zones: enqueue.zones.map { schema + dialect.quote($0) },
                        rows: from...to, runID: position.runID, campaignID: position.campaignID, nodeID: position.node,
                        channel: enqueue.channel, category: enqueue.category, now: now)
                }
            }
            from = to + 1
        }
    }

    static let ledgerChunk: Int64 = 50_000

    /// Renders a dry channel node's sample messages and logs how many rendered, and why the
    /// others did not (the tags, never the values: logs hold no personal data).
    func renderSamples(_ samples: [ClaimedMessage], node: NodeID, runID: Int64, stored: StoredCampaign) throws {
        let renderer = try MessageRenderer(store: store, campaign: stored)
        guard let plan = renderer.plans[node] else { return }
        let (rendered, failed) = try renderer.render(samples, plan: plan, runID: runID, tokens: nil)
        var line = "\(Names.counted(rendered.count, "sample message")) rendered"
        if !rendered.isEmpty { line += " (\(plan.settings.content.map(\.0).joined(separator: ", ")))" }
        let reasons = failed.compactMap { record -> String? in
            if case .renderFailed(let why) = record.verdict { return why }
            return nil
        }
        if !reasons.isEmpty { line += "; \(reasons.count) could not be: \(Set(reasons).sorted().joined(separator: "; "))" }
        line += "; 'herald campaign preview' shows one"
        try store.write { db in
            try RunRepository.log(
                db, runID: runID, nodeID: node,
                RunLogLine(
                    level: reasons.isEmpty ? "info" : "warning", code: "channel.samples", line,
                    figures: ["rendered": rendered.count, "failed": reasons.count]))
        }
    }

    /// Records why a run stopped: the failed node (if any), an error line in its log, and the run
    /// paused with the reason and released. A store that is locked or full may refuse even that,
    /// so it is tried a few times; failing all, the lease is released at least.
    /// - Returns: whether the reason was recorded.
    func recordStop(runID: Int64, lease: RunLease, node: NodeID?, message: String) -> Bool {
        for attempt in 0..<4 {
            if attempt > 0 { Thread.sleep(forTimeInterval: 0.5 * Double(1 << (attempt - 1))) }
            do {
                try store.write { db in
                    if let node {
                        try RunRepository.markNodeFinished(
                            db, runID: runID, nodeID: node, state: .failed, inputCount: nil, durationMS: 0, detail: nil, error: message)
                    }
                    try RunRepository.log(
                        db, runID: runID, nodeID: node,
                        RunLogLine(level: "error", code: node == nil ? "run.failed" : "node.failed", message))
                    try RunRepository.pause(db, runID: runID, error: node.map { "node '\($0)': \(message)" } ?? message)
                    try lease.release(db)
                }
                return true
            } catch {
                store.logger.error("the run's failure could not be recorded", metadata: ["run": "\(runID)", "attempt": "\(attempt + 1)"])
            }
        }
        try? store.write { db in try lease.release(db) }
        return false
    }

    /// Drops what no run will read again: work tables under temporary names (a node
    /// interrupted before its commit leaves none, but an older Herald's could), the tables of
    /// runs that have finished, and tables of runs that no longer exist.
    func sweep(_ work: GuardedConnection, policy: StatementGuard.Policy, resuming runID: Int64) {
        // Best effort: a store busy with another executor's node is swept next time.
        do {
            try sweepTables(work, policy: policy)
        } catch {
            store.logger.notice("leftover work tables not swept", metadata: ["run": "\(runID)", "reason": "\(error)"])
        }
    }

    func sweepTables(_ work: GuardedConnection, policy: StatementGuard.Policy) throws {
        let kept = try work.run(policy, what: "sweeping leftover work tables") { db -> Set<Int64> in
            try work.guardian.trusting {
                // Unfinished runs may still read their tables, and live runs keep theirs until purged.
                let unfinished = try RunRepository.runsKeepingWork(db)
                for table in try RunRepository.workTableNames(db, runID: nil) {
                    let rest = table.dropFirst("herald_work_".count)
                    let run = Int64(rest.prefix { $0.isNumber })
                    let temporary = rest.drop { $0.isNumber }.hasPrefix("_tmp")
                    // Another executor's node in progress has not committed its temporary
                    // tables, so a visible one is always a leftover.
                    if let run, unfinished.contains(run), !temporary { continue }
                    try db.execute(sql: "DROP TABLE main.\(dialect.quote(table))")
                }
                return unfinished
            }
        }
        // The files of runs that are over, or no longer exist.
        for run in RunRepository.runsWithWorkFiles(store: store.path) where !kept.contains(run) {
            RunRepository.removeWorkFile(store: store.path, runID: run)
        }
    }

}

extension SQLValue {
    var databaseValue: DatabaseValue {
        switch self {
        case .null: .null
        case .integer(let v): v.databaseValue
        case .real(let v): v.databaseValue
        case .text(let s): s.databaseValue
        }
    }
}

/// Numbers a node's work tables as it creates them.
final class Counter: @unchecked Sendable {
    private var value = 0
    func next() -> Int {
        value += 1
        return value
    }
}

/// What one executor holds, unchanged, while it takes a run through its nodes.
struct RunPass {
    let runID: Int64
    let stored: StoredCampaign
    let live: Bool
    let catalog: Catalog
    let zone: TimeZone
    /// The campaigns live End nodes start.
    let targets: [NodeID: StoredCampaign]
    let lease: RunLease
    /// The run's guarded connection, with its work file attached, and what it may touch.
    let work: GuardedConnection
    let policy: StatementGuard.Policy
    let compiler: RuleCompiler
    /// The entity arriving at each node.
    let entities: [NodeID: String]
    /// Whether the node in progress should stop (asked to stop or pause).
    let stopping: @Sendable () -> Bool
}
