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
