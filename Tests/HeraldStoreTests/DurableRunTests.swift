import Foundation
import GRDB
import HeraldCore
import HeraldStore
import Testing

@testable import HeraldEngine

@Suite struct DurableRunTests {
    static func counts(_ detail: RunDetail) -> [String: Int] {
        Dictionary(uniqueKeysWithValues: detail.edges.map { ("\($0.fromNode).\($0.port)", $0.count) })
    }

    func workTables(_ store: Store) throws -> [String] {
        try store.allWorkTables()
    }

    /// One executor per run: a live holder keeps the lease, an expired one or a process that
    /// has exited loses it, and the loser's next renewal fails.
    @Test func leasesGoToOneExecutorAtATime() throws {
        let store = try Scratch.demoCopy()
        let stored = try store.loadCampaign("Win-back")
        let runID = try store.write { db in try RunRepository.createRun(db, campaign: stored, dryRun: true) }
        let me = RunLease.newOwner()
        let other = RunLease.newOwner()  // this process too: alive
        let mine = try store.write { db in try RunLease.acquire(db, runID: runID, owner: me) }
        do {
            _ = try store.write { db in try RunLease.acquire(db, runID: runID, owner: other) }
            Issue.record("a live executor's lease was taken")
        } catch let error as HeraldError {
            #expect(error.code == .conflict && error.message.contains("is being executed by \(me)"), "\(error.message)")
        }
        try store.write { db in try mine.renew(db) }
        // After expiry the lease goes to whoever asks; the old holder finds out at its next renewal.
        let later = Date().addingTimeInterval(RunLease.lifetime + 1)
        let theirs = try store.write { db in try RunLease.acquire(db, runID: runID, owner: other, now: later) }
        #expect(throws: HeraldError.self) { try store.write { db in try mine.renew(db) } }
        try store.write { db in try theirs.renew(db) }

        // A holder on this machine whose process has exited (a kill -9) loses it at once.
        let exited = Process()
        exited.executableURL = URL(fileURLWithPath: "/bin/true")
        try exited.run()
        exited.waitUntilExit()
        let dead = "\(ProcessInfo.processInfo.hostName)/\(exited.processIdentifier)/gone"
        try store.write { db in
            try db.execute(
                sql: "UPDATE herald_runs SET lease_owner = ?, lease_expires_at = ? WHERE id = ?",
                arguments: [dead, Store.timestamp(Date().addingTimeInterval(3600)), runID])
        }
        let taken = try store.write { db in try RunLease.acquire(db, runID: runID, owner: me) }
        #expect(taken.owner == me)
    }

    /// Executors racing for one run: exactly one gets it.
    @Test func racingExecutorsGetOneLease() async throws {
        let store = try Scratch.demoCopy()
        let stored = try store.loadCampaign("Win-back")
        let runID = try store.write { db in try RunRepository.createRun(db, campaign: stored, dryRun: true) }
        let path = store.path
        let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<6 {
                group.addTask {
                    let own = try Store.open(path: path)
                    do {
                        _ = try own.write { db in try RunLease.acquire(db, runID: runID, owner: RunLease.newOwner()) }
                        return true
                    } catch let error as HeraldError where error.code == .conflict {
                        return false
                    }
                }
            }
            var wins = 0
            for try await won in group where won { wins += 1 }
            return wins
        }
        #expect(winners == 1)
    }

    /// A run interrupted after some nodes resumes from there: recorded nodes are not
    /// recomputed, leftovers under temporary names are swept, the lease of an executor that is
    /// still alive is respected, and the final counts are those of an uninterrupted run.
    @Test func anInterruptedRunResumesWhereItStopped() throws {
        let store = try Scratch.demoCopy()
        let stored = try store.loadCampaign("Welcome series")
        let baseline = Self.counts(try Executor(store: store).dryRun(stored))
        #expect(try workTables(store).isEmpty)

        var crashing = Executor(store: store)
        crashing.simulatedCrashAfterNodes = 2
        #expect(throws: Executor.SimulatedCrash.self) { try crashing.dryRun(stored) }
        let runID = try #require(try store.listRuns().first?.id)
        let interrupted = try store.runDetail(runID)
        #expect(interrupted.summary.state == .running)
        #expect(interrupted.nodes.filter { $0.state == .completed }.count == 2)
        #expect(!(try workTables(store).isEmpty))
        try store.write { db in try db.execute(sql: "CREATE TABLE herald_work_\(runID)_tmp5_1 (key INTEGER PRIMARY KEY)") }

        // The crashed executor's lease is still valid (its process, this one, is alive).
        #expect(throws: HeraldError.self) { try Executor(store: store).resume(runID: runID) }
        try store.write { db in
            try db.execute(sql: "UPDATE herald_runs SET lease_expires_at = '2000-01-01T00:00:00Z' WHERE id = ?", arguments: [runID])
        }
        let started = Started()
        let resumed = try Executor(store: store).resume(runID: runID, events: { if case .nodeStarted(let id) = $0 { started.add(id) } })
        #expect(Self.counts(resumed) == baseline)
        #expect(resumed.summary.state == .completed)
        let order = try #require(stored.campaign.topologicalOrder())
        #expect(started.ids.allSatisfy { !order.prefix(2).contains($0) }, "recomputed: \(started.ids)")
        #expect(!started.ids.isEmpty)
        #expect(try workTables(store).isEmpty)
        let lease = try store.read { db in try Row.fetchOne(db, sql: "SELECT lease_owner FROM herald_runs WHERE id = ?", arguments: [runID])
        }
        #expect((lease?["lease_owner"] as String?) == nil)
        // A finished run cannot be resumed.
        #expect(throws: HeraldError.self) { try Executor(store: store).resume(runID: runID) }
    }

    /// An unfinished run's tables are measured and kept by a purge; finished runs go.
    @Test func purgeKeepsWhatCanStillResume() throws {
        let store = try Scratch.demoCopy()
        let stored = try store.loadCampaign("Welcome series")
        let finished = try Executor(store: store).dryRun(stored).summary.id
        var crashing = Executor(store: store)
        crashing.simulatedCrashAfterNodes = 1
        #expect(throws: Executor.SimulatedCrash.self) { try crashing.dryRun(stored) }
        let unfinished = try #require(try store.listRuns().first?.id)
        let (tables, bytes) = try store.workTables(runID: unfinished)
        #expect(tables.count == 1)
        #expect((bytes ?? 0) > 0)
        #expect(try store.workTables(runID: finished).tables.isEmpty)
        let purged = try store.purgeRuns(startedBefore: Date().addingTimeInterval(60))
        #expect(purged.runs == 1)
        #expect(try store.listRuns().map(\.id) == [unfinished])
        #expect(try store.workTables(runID: unfinished).tables.count == 1)
    }

    /// A failed node pauses the run with the error and keeps what finished; a resume retries it.
    @Test func aFailedNodePausesTheRunAndResumeRetriesIt() throws {
        let store = try Scratch.demoCopy()
        let stored = try store.loadCampaign("Welcome series")
        let baseline = Self.counts(try Executor(store: store).dryRun(stored))
        let order = try #require(stored.campaign.topologicalOrder())
        var failing = Executor(store: store)
        failing.simulatedFailureAt = order[2]
        do {
            _ = try failing.dryRun(stored)
            Issue.record("the failure was not reported")
        } catch let error as HeraldError {
            #expect(error.code == .runFailed && error.exitStatus == 1, "\(error)")
            #expect(error.message.contains("is paused, and 'herald runs retry"), "\(error.message)")
        }
        let runID = try #require(try store.listRuns().first?.id)
        let paused = try store.runDetail(runID)
        #expect(paused.summary.state == .paused)
        #expect(paused.summary.error?.contains("simulated failure of node '\(order[2])'") == true)
        #expect(paused.nodes.first { $0.nodeID == order[2] }?.state == .failed)
        let kept = try workTables(store)
        #expect(!kept.isEmpty)  // the finished nodes' populations stay
        // Another run's sweep leaves a paused run's tables alone.
        _ = try Executor(store: store).dryRun(try store.loadCampaign("Win-back"))
        #expect(try workTables(store) == kept)
        let retried = try Executor(store: store).resume(runID: runID)
        #expect(retried.summary.state == .completed)
        #expect(Self.counts(retried) == baseline)
        #expect(try workTables(store).isEmpty)
    }

    /// A campaign whose one node takes minutes in the correlated form, on a copy of the demo.
    func slowStore() throws -> (Store, StoredCampaign) {
        let store = try Scratch.demoCopy()
        try store.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE nodes (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES nodes(id), weight INTEGER);
                    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60000)
                    INSERT INTO nodes SELECT i, CASE WHEN i < 3 THEN NULL ELSE i / 3 END, i % 7 FROM n;
                    """)
        }
        var campaign = Campaign(name: "Slow")
        campaign.nodes = [
            Node(
                id: "heavy", label: "Heavy",
                config: .buildAudience(entity: "nodes", rule: try Rule(parsing: "nodes.count(weight > 2) > 1"), emitWhenEmpty: false))
        ]
        return (store, try store.saveCampaign(campaign, replace: false))
    }

    /// Starts a dry run of `stored` (correlated, so its node is slow) on another thread, in a
    /// store opened by that thread, and returns once the node is running: its outcome and run id.
    func startSlowRun(
        _ store: Store, _ stored: StoredCampaign, isCancelled: @escaping @Sendable () -> Bool = { false }
    ) throws -> (Outcome, Int64) {
        let outcome = Outcome()
        let path = store.path
        let thread = Thread {
            do {
                let own = try Store.open(path: path)
                _ = try Executor(store: own, oneToManyForm: .correlated).dryRun(
                    try own.loadCampaign(id: stored.id), isCancelled: isCancelled)
            } catch let error as HeraldError {
                outcome.error = error
            } catch {}
            outcome.done.signal()
        }
        thread.start()
        var runID: Int64?
        for _ in 0..<200 where runID == nil {
            Thread.sleep(forTimeInterval: 0.05)
            runID = try store.listRuns().first { try store.runDetail($0.id).nodes.contains { $0.state == .running } }?.id
        }
        return (outcome, try #require(runID))
    }

    /// Asks for `request` once a slow run is under way, and returns the error the executor
    /// ended with.
    func interrupt(_ store: Store, _ stored: StoredCampaign, _ request: RunRequest) throws -> HeraldError? {
        let (outcome, id) = try startSlowRun(store, stored)
        #expect(try store.request(request, runID: id))  // handed to the live executor
        #expect(outcome.done.wait(timeout: .now() + 30) == .success, "the executor did not stop")
        return outcome.error
    }

    final class Outcome: @unchecked Sendable {
        var error: HeraldError?
        let done = DispatchSemaphore(value: 0)
    }

    @Test func anotherProcessCanPauseAndStopARun() throws {
        let (store, stored) = try slowStore()
        let paused = try interrupt(store, stored, .pause)
        #expect(paused?.message.contains("paused; 'herald runs resume") == true, "\(String(describing: paused))")
        let runID = try #require(try store.listRuns().first?.id)
        #expect(try store.runDetail(runID).summary.state == .paused)
        // Resumed set-wise: quick, and the same population.
        let resumed = try Executor(store: store, oneToManyForm: .setWise).resume(runID: runID)
        #expect(resumed.summary.state == .completed)

        let stopped = try interrupt(store, stored, .stop)
        #expect(stopped?.code == .cancelled)
        let second = try #require(try store.listRuns().first?.id)
        #expect(try store.runDetail(second).summary.state == .stopped)
        #expect(try workTables(store).isEmpty)
        #expect(throws: HeraldError.self) { try store.request(.pause, runID: second) }  // finished
    }

    /// With no live executor, a stop or pause takes effect at once.
    @Test func requestsToAnAbandonedRunTakeEffectAtOnce() throws {
        let store = try Scratch.demoCopy()
        let stored = try store.loadCampaign("Welcome series")
        var crashing = Executor(store: store)
        crashing.simulatedCrashAfterNodes = 1
        #expect(throws: Executor.SimulatedCrash.self) { try crashing.dryRun(stored) }
        let runID = try #require(try store.listRuns().first?.id)
        try store.write { db in
            try db.execute(sql: "UPDATE herald_runs SET lease_expires_at = '2000-01-01T00:00:00Z' WHERE id = ?", arguments: [runID])
        }
        #expect(try store.request(.pause, runID: runID) == false)
        #expect(try store.runDetail(runID).summary.state == .paused)
        #expect(try store.request(.stop, runID: runID) == false)
        #expect(try store.runDetail(runID).summary.state == .stopped)
        #expect(try workTables(store).isEmpty)
    }

    /// A version keeps its time zone and variables: a run (or a resume) of version 1 does not
    /// see what version 2 changed.
    @Test func aVersionKeepsItsSettings() throws {
        let store = try Scratch.demoCopy()
        var campaign = try store.loadCampaign("Summer sale").campaign
        let first = try store.loadCampaign("Summer sale")
        campaign.timeZone = "America/New_York"
        campaign.variables = [("minimum", .integer(1_000_000))]
        let second = try store.saveCampaign(campaign, replace: true)
        #expect(second.version == first.version + 1)
        let old = try store.loadCampaign(id: first.id, version: first.version).campaign
        #expect(old.timeZone == "Europe/Paris")
        #expect(old.variableBindings["minimum"] == .integer(100))
        #expect(try store.loadCampaign(id: first.id, version: second.version).campaign.timeZone == "America/New_York")
    }

    /// Deduplication against hand-written SQL: one profile per city (the highest lifetime
    /// value), profiles without a city never merged; a seed makes a random choice repeatable.
    @Test func deduplicationKeepsOnePerGroup() throws {
        let store = try Scratch.demoCopy()
        func campaign(_ prefer: DedupPreference, keep: Int = 1) throws -> StoredCampaign {
            var c = Campaign(name: "Dedup \(UUID().uuidString.prefix(6))")
            c.nodes = [
                Node(
                    id: "a", label: "A",
                    config: .buildAudience(entity: "profiles", rule: try Rule(parsing: #"country = "FR""#), emitWhenEmpty: false)),
                Node(id: "d", label: "D", config: .deduplicate(by: ["city"], keep: keep, prefer: prefer)),
                Node(id: "e", label: "E", config: .end),
            ]
            c.edges = [Edge(from: "a", to: "d"), Edge(from: "d", to: "e")]
            return try store.saveCampaign(c, replace: false)
        }
        func sql(_ text: String) throws -> Int { try store.read { db in try Int.fetchOne(db, sql: text) ?? -1 } }
        /// The keys kept, read from the run's work table (the run is stopped after the node).
        func kept(_ stored: StoredCampaign) throws -> [Int64] {
            var executor = Executor(store: store)
            executor.simulatedCrashAfterNodes = 2
            #expect(throws: Executor.SimulatedCrash.self) { try executor.dryRun(stored) }
            let run = try #require(try store.listRuns().first?.id)
            return try store.readRunWork(runID: run) { db in
                try Int64.fetchAll(db, sql: "SELECT key FROM herald_work_\(run)_n1_1 ORDER BY key")
            }
        }
        let counts = Self.counts(try Executor(store: store).dryRun(try campaign(.highest("lifetime_value"))))
        let groups = try sql(
            "SELECT (SELECT count(DISTINCT city) FROM profiles WHERE country = 'FR' AND city <> '') + (SELECT count(*) FROM profiles WHERE country = 'FR' AND (city IS NULL OR city = ''))"
        )
        let french = try sql("SELECT count(*) FROM profiles WHERE country = 'FR'")
        #expect(counts["d.out"] == groups && counts["d.complement"] == french - groups, "\(counts)")
        #expect(groups > 0 && french > groups)
        // Each kept profile has its city's highest lifetime value.
        let highest = try kept(try campaign(.highest("lifetime_value")))
        let notHighest = try store.read { db in
            try Int.fetchOne(
                db,
                sql: """
                    SELECT count(*) FROM profiles p WHERE p.id IN (SELECT value FROM json_each(?)) AND p.city <> ''
                    AND p.lifetime_value < (SELECT max(q.lifetime_value) FROM profiles q WHERE q.country = 'FR' AND q.city = p.city)
                    """, arguments: ["[" + highest.map(String.init).joined(separator: ",") + "]"])
        }
        #expect(notHighest == 0)
        let seven = try kept(try campaign(.random(seed: 7)))
        #expect(try kept(try campaign(.random(seed: 7))) == seven)
        #expect(try kept(try campaign(.random(seed: 8))) != seven)
        let two = Self.counts(try Executor(store: store).dryRun(try campaign(.preferred("language", order: [.text("fr")]), keep: 2)))
        #expect((two["d.out"] ?? 0) > groups)
        var bad = try campaign(.highest("nope")).campaign
        bad.nodes[1].config = .deduplicate(by: ["town"], keep: 0, prefer: .highest("nope"))
        let problems = CampaignValidator(checker: try store.audienceChecker()).validate(bad).map(\.message)
        #expect(problems.contains { $0.contains("no attribute 'town'") } && problems.contains { $0.contains("no attribute 'nope'") })
        #expect(problems.contains { $0.contains("must be at least 1") })
        #expect(try CampaignFormat.decode(text: CampaignFormat.encodeText(bad)) == bad)
    }

    final class Started: @unchecked Sendable {
        private let lock = NSLock()
        private var list: [NodeID] = []
        func add(_ id: NodeID) {
            lock.lock()
            list.append(id)
            lock.unlock()
        }
        var ids: [NodeID] {
            lock.lock()
            defer { lock.unlock() }
            return list
        }
    }
}
