import Foundation
import Testing

/// Live runs from the command line, as a user types them: a run that waits, its log, stopping
/// it, restarting it, and what is refused on the way.
@Suite struct LiveRunCLITests {
    @Test func aLiveRunWaitsAndCanBeStoppedAndRestarted() throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        let live = try Herald.run(["run", "Win-back", "--live", "--db", db, "--json"])
        #expect(live.status == 0, "\(live.stderr)")
        let object = try #require(try json(live.stdout) as? [String: Any])
        let run = try #require(object["run"] as? [String: Any])
        #expect(run["mode"] as? String == "live" && run["state"] as? String == "completed")
        let nodes = try #require(object["nodes"] as? [[String: Any]])
        // The channel nodes queue their messages with the gates' verdicts, and the worker delivers
        // them to the outbox beside the store.
        #expect(nodes.filter { ["sms", "email"].contains($0["id"] as? String) }.allSatisfy { $0["state"] as? String == "completed" })
        let logs = try Herald.run(["runs", "logs", "1", "--db", db, "--json"])
        let lines = try #require(try json(logs.stdout) as? [[String: Any]])
        #expect(lines.contains { $0["code"] as? String == "channel.enqueued" && ($0["figures"] as? [String: Any])?["messages"] != nil })
        let sent = try Herald.sqlite(db, "SELECT count(*) FROM herald_messages WHERE run_id = 1 AND channel = 'email' AND status = 'sent'")
        let files = try FileManager.default.contentsOfDirectory(atPath: db + "-outbox/email/run-1").filter { $0.hasSuffix(".eml") }
        #expect(Int(sent) == files.count && files.count > 0)
        // Again at once: the SMS node's cap (one in 30 days) now excludes everyone it reached before.
        let text = try Herald.run(["run", "Win-back", "--live", "--db", db])
        #expect(text.stdout.contains("sms: sent 0 · excluded 513 (frequency_cap 323"), "\(text.stdout)")

        // The sale waits until the next nine o'clock in Paris, which is always ahead.
        let sale = try Herald.run(["run", "Summer sale", "--live", "--db", db])
        #expect(sale.status == 0, "\(sale.stderr)")
        #expect(sale.stdout.contains("live run #3 of 'Summer sale' v1: waiting"))
        #expect(sale.stdout.contains("waiting until "))
        let list = try Herald.run(["runs", "--db", db])
        #expect(list.stdout.contains("waiting until "), "\(list.stdout)")
        let restartWaiting = try Herald.run(["runs", "restart", "3", "--db", db])
        #expect(restartWaiting.status == 2 && restartWaiting.stderr.contains("run #3 is waiting; stop it"), "\(restartWaiting.stderr)")
        let retry = try Herald.run(["runs", "retry", "3", "--db", db])
        #expect(retry.status == 2 && retry.stderr.contains("has no failed node to retry"), "\(retry.stderr)")
        let stop = try Herald.run(["runs", "stop", "3", "--db", db])
        #expect(stop.status == 0 && stop.stdout.contains("run #3 stopped"), "\(stop.stderr)")
        let restart = try Herald.run(["runs", "restart", "3", "--db", db])
        #expect(restart.status == 0, "\(restart.stderr)")
        #expect(restart.stdout.contains("live run #4 (restarting #3) of 'Summer sale' v1: waiting"), "\(restart.stdout)")
    }
}
