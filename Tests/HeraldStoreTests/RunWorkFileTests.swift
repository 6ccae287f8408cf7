import Foundation
import GRDB
import HeraldCore
import HeraldStore
import Testing

@testable import HeraldEngine

/// A run's work tables live in a file of its own: a node's long statement holds that file's
/// write lock, not the store's, so other writers go on; a kill between a node's two commits is
/// redone cleanly.
@Suite struct RunWorkFileTests {
    @Test func theStoreTakesWritesWhileANodeComputes() throws {
        let durable = DurableRunTests()
        let (store, stored) = try durable.slowStore()
        let path = store.path
        let cancel = QueryCancellation()
        let (outcome, id) = try durable.startSlowRun(store, stored, isCancelled: { cancel.isCancelled })
        // The heavy node computes (about two minutes of work): a writer with a short patience
        // saves a campaign, an audience and rows of its own meanwhile.
        let other = try Store.open(path: path, busyTimeout: 0.5)
        var campaign = stored.campaign
        campaign.name = "Saved meanwhile"
        _ = try other.saveCampaign(campaign, replace: false)
        try other.write { db in try db.execute(sql: "CREATE TABLE meanwhile(a); INSERT INTO meanwhile VALUES (1)") }
        #expect(try store.runDetail(id).nodes.contains { $0.state == .running }, "the node finished before the writes")
        cancel.cancel()
        #expect(outcome.done.wait(timeout: .now() + 30) == .success, "the executor did not stop")
        #expect(try store.runDetail(id).summary.state == .stopped)
        // A stopped run's file goes with its populations.
        #expect(!FileManager.default.fileExists(atPath: RunRepository.workFile(store: path, runID: id)))
    }

    @Test func aKillBetweenANodesWorkAndItsRecordIsRedoneCleanly() throws {
        let store = try Scratch.demoCopy()
        let stored = try store.loadCampaign("Welcome series")
        let expected = try Executor(store: store).dryRun(stored)
        var crashing = Executor(store: store)
        crashing.simulatedCrashBeforeBookkeeping = "split"
        #expect(throws: (any Error).self) { try crashing.run(stored, mode: .dry) }
        let crashed = try #require(try store.listRuns().first { $0.state == .running })
        // The split's tables are in the run's file, but nothing records them.
        let left = try store.readRunWork(runID: crashed.id) { db in
            try String.fetchAll(db, sql: "SELECT name FROM herald_work.sqlite_master WHERE type = 'table'")
        }
        #expect(try store.runDetail(crashed.id).nodes.first { $0.nodeID == "split" }?.state != .completed)
        #expect(left.count > 1, "\(left)")
        // Once the crashed executor's lease is given up, a resume redoes the split and finishes
        // with the counts of a run that never crashed.
        try store.write { db in try db.execute(sql: "UPDATE herald_runs SET lease_expires_at = '2000-01-01T00:00:00Z'") }
        let resumed = try Executor(store: store).resume(runID: crashed.id)
        #expect(resumed.summary.state == .completed)
        func counts(_ detail: RunDetail) -> Set<String> { Set(detail.edges.map { "\($0.fromNode).\($0.port)=\($0.count)" }) }
        #expect(counts(resumed) == counts(expected))
        #expect(!FileManager.default.fileExists(atPath: RunRepository.workFile(store: store.path, runID: crashed.id)))
    }
}
