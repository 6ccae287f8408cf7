import Foundation
import GRDB
import HeraldCore
import HeraldStore
import Testing

@testable import HeraldEngine

/// The statement guard on the connections that run generated SQL: what SQLite lets through
/// while materialising, and how running work is stopped.
@Suite(.serialized) struct GuardTests {
    let store: Store

    init() throws { store = try Scratch.demoCopy() }

    func workPolicy(run: Int64) throws -> StatementGuard.Policy {
        var policy = AudienceService.readPolicy(try store.catalog())
        policy.workPrefix = "herald_work_\(run)_"
        return policy
    }

    func tables(like pattern: String) throws -> [String] {
        try store.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE name LIKE ? ORDER BY name", arguments: [pattern])
        }
    }

    /// A run's connection gets the work cache (its sorters are bounded by it), a reading one
    /// the larger read cache.
    @Test func aRunsConnectionHasTheWorkCacheAndAReadingOneTheReadCache() throws {
        func cacheKiB(_ connection: GuardedConnection) throws -> Int {
            try connection.queue.inDatabase { db in
                try connection.guardian.trusting { -(try Int.fetchOne(db, sql: "PRAGMA main.cache_size") ?? 0) }
            }
        }
        let work = try GuardedConnection(path: store.path, readOnly: false)
        let read = try GuardedConnection(path: store.path, readOnly: true)
        #expect(try cacheKiB(work) == ReadTuning.current(path: store.path, purpose: .work).cacheKiB)
        #expect(try cacheKiB(read) == ReadTuning.current(path: store.path, purpose: .reads).cacheKiB)
        if ProcessInfo.processInfo.environment["HERALD_CACHE_MB"] == nil { #expect(try cacheKiB(work) < cacheKiB(read)) }
    }

    @Test func aDryRunConnectionWritesOnlyItsOwnWorkTables() throws {
        let work = try GuardedConnection(path: store.path, readOnly: false)
        let policy = try workPolicy(run: 7)
        try work.run(policy, what: "the test") { db in
            try db.execute(sql: "CREATE TABLE herald_work_7_1 (key INTEGER PRIMARY KEY)")
            try db.execute(sql: "INSERT INTO herald_work_7_1 SELECT id FROM profiles WHERE country = 'NL'")
            #expect(db.changesCount > 0)
            try db.execute(sql: "CREATE TABLE herald_work_7_2 (key PRIMARY KEY) WITHOUT ROWID")
            try db.execute(sql: "INSERT INTO herald_work_7_2 SELECT key FROM herald_work_7_1 WHERE key % 2 = 0")
        }
        #expect(try tables(like: "herald_work_7_%") == ["herald_work_7_1", "herald_work_7_2"])
        for (sql, refused) in [
            ("DELETE FROM profiles", "write to table 'profiles'"),
            ("UPDATE profiles SET country = 'XX'", "write to table 'profiles'"),
            ("INSERT INTO herald_runs (campaign_id) VALUES (1)", "write to table 'herald_runs'"),
            ("DROP TABLE profiles", "drop table 'profiles'"),
            ("CREATE TABLE stolen AS SELECT * FROM profiles", "create table 'stolen'"),
            ("CREATE TABLE herald_work_8_1 (key)", "create table 'herald_work_8_1'"),
            ("SELECT count(*) FROM herald_consent", "read table 'herald_consent'"),
            ("CREATE INDEX sneaky ON profiles(email)", "change index 'sneaky' on 'profiles'"),
            ("PRAGMA writable_schema = 1", "not a read"),
            ("ATTACH DATABASE ':memory:' AS other", "not a read"),
        ] {
            do {
                try work.run(policy, what: "the test") { db in try db.execute(sql: sql) }
                Issue.record("ran: \(sql)")
            } catch let error as HeraldError {
                #expect(error.message.contains(refused), "\(sql): \(error.message)")
            }
        }
        // A refused statement rolls its transaction back and leaves the connection usable.
        try work.run(policy, what: "the test") { db in
            for table in ["herald_work_7_1", "herald_work_7_2"] { try db.execute(sql: "DROP TABLE \(table)") }
        }
        #expect(try tables(like: "herald_work_%").isEmpty)
        #expect(try store.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM profiles WHERE country = 'XX'") } == 0)
    }

    @Test func snapshotFillsAreVettedBeforeTheyRun() throws {
        let service = AudienceService(store: store)
        let catalog = try store.catalog()
        try service.vetSnapshotFill(
            "INSERT INTO herald_audience_members (audience_id, member_key) SELECT 1, id FROM profiles", catalog: catalog)
        for (sql, refused) in [
            ("INSERT INTO herald_audience_members (audience_id, member_key) SELECT 1, id FROM profiles; DROP TABLE profiles", "drop table"),
            ("DELETE FROM herald_audience_members", "write to table 'herald_audience_members'"),
            ("INSERT INTO herald_audience_members (audience_id, member_key) SELECT 1, id FROM herald_runs", "read table 'herald_runs'"),
        ] {
            do {
                try service.vetSnapshotFill(sql, catalog: catalog)
                Issue.record("vetted: \(sql)")
            } catch let error as HeraldError {
                #expect(error.message.contains(refused), "\(sql): \(error.message)")
            }
        }
    }

    @Test func aDryRunIsStoppedInTheMiddleOfANode() throws {
        try store.addSlowNodes()
        let stored = try store.saveAudienceThenEnd("Slow", entity: "nodes", rule: "nodes.count(weight > 2) > 1")
        let cancellation = QueryCancellation()
        let started = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            // Cancel only once the heavy node is running, so the stop lands inside its statement.
            started.wait()
            usleep(200_000)
            cancellation.cancel()
        }
        do {
            _ = try Executor(store: store, oneToManyForm: .correlated).dryRun(
                stored,
                events: { event in if case .nodeStarted("a") = event { started.signal() } },
                isCancelled: { cancellation.isCancelled })
            Issue.record("the dry run finished instead of stopping")
        } catch let error as HeraldError {
            #expect(error.code == .cancelled, "\(error.message)")
        }
        let run = try #require(try store.listRuns(limit: 1).first)
        #expect(run.state == .stopped)
        let detail = try store.runDetail(run.id)
        #expect(detail.nodes.first { $0.nodeID == "a" }?.state == .stopped)
        #expect(try tables(like: "herald_work_%").isEmpty)
        #expect(try store.runLogs(run.id).map(\.line.message) == ["run stopped by the user"])
    }
}
