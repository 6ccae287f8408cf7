import Foundation
import GRDB
import HeraldCore
import HeraldEngine
import HeraldStore
import Synchronization
import Testing

/// A run that stops because the store is locked too long by another process says why, on the
/// run and in its log, and shows as needing attention; it never stays `running` in silence.
@Suite struct RunStopReasonTests {
    @Test func aLockHeldTooLongPausesTheRunWithTheReason() throws {
        let copy = try Scratch.demoCopy()
        let store = try Store.open(path: copy.path, busyTimeout: 0.3)
        let stored = try store.loadCampaign("Welcome series")
        // Another process's write transaction, taken as soon as the first node has committed and
        // held for a second: the next node cannot commit, nor can the run record it at once.
        var unsafe = Configuration()
        unsafe.allowsUnsafeTransactions = true
        let blocker = try DatabaseQueue(path: copy.path, configuration: unsafe)
        let taken = Atomic<Bool>(false)
        var error: HeraldError?
        do {
            _ = try Executor(store: store).run(
                stored, mode: .dry,
                events: { event in
                    guard case .nodeFinished = event, !taken.exchange(true, ordering: .relaxed) else { return }
                    try? blocker.writeWithoutTransaction { db in try db.execute(sql: "BEGIN IMMEDIATE; CREATE TABLE held(a)") }
                    DispatchQueue.global().asyncAfter(deadline: .now() + 1) {
                        try? blocker.writeWithoutTransaction { db in try db.execute(sql: "ROLLBACK") }
                    }
                })
        } catch let failure as HeraldError {
            error = failure
        }
        let failure = try #require(error, "the run did not fail while the store was locked")
        #expect(failure.code == .runFailed && failure.exitStatus == 1, "\(failure.code): \(failure.message)")
        #expect(failure.message.contains("is paused"), "\(failure.message)")
        let run = try #require(try store.listRuns().first)
        #expect(run.state == .paused)
        #expect(run.error?.contains("locked") == true, "\(run.error ?? "no error")")
        #expect(run.attention() != nil)
        // In a node's transaction or in the bookkeeping between nodes: either way the log says so.
        #expect(try store.runLogs(run.id).contains { ["node.failed", "run.failed"].contains($0.line.code) && $0.line.level == "error" })
        // Once the lock is gone, the run goes on from where it stopped.
        let resumed = try Executor(store: store).resume(runID: run.id)
        #expect(resumed.summary.state == .completed)
    }
}

extension RunStopReasonTests {
    /// A running run with a live executor needs nothing; one whose executor is gone (no lease,
    /// an expired one) is marked, and so is a run paused on a failure.
    @Test func whichRunsNeedAttention() {
        func run(_ state: RunState, owner: String?, expires: String?, error: String? = nil) -> RunSummary {
            RunSummary(
                id: 7, campaignID: 1, campaignName: "C", version: 1, dryRun: true, state: state, startedAt: "", finishedAt: nil,
                error: error, leaseOwner: owner, leaseExpiresAt: expires)
        }
        let live = RunLease.newOwner()
        #expect(run(.running, owner: live, expires: "2999-01-01T00:00:00Z").attention() == nil)
        #expect(run(.running, owner: nil, expires: nil).attention()?.contains("no executor") == true)
        #expect(run(.running, owner: live, expires: "2000-01-01T00:00:00Z").attention()?.contains("no executor") == true)
        #expect(run(.paused, owner: nil, expires: nil, error: "locked").attention()?.contains("stopped on a failure") == true)
        #expect(run(.paused, owner: nil, expires: nil).attention() == nil)
        #expect(run(.completed, owner: nil, expires: nil).attention() == nil)
    }
}
