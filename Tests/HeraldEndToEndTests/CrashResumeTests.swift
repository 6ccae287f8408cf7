import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A dry run killed with SIGKILL at several points resumes to the counts of an uninterrupted
/// run, and leaves no temporary or orphaned work table.
@Suite struct CrashResumeTests {
    /// Six nodes over 8,000 self-linked rows; with the correlated form the three one-to-many
    /// nodes take about three seconds each in a debug build (nine in all), so the kills land
    /// inside the first, second and fourth nodes and on their commits.
    static let chain = #"""
        {"format": "herald.campaign/1", "name": "Chain", "nodes": [
          {"id": "heavy", "kind": "buildAudience", "label": "Heavy", "entity": "nodes", "rule": "nodes.count(weight > 2) > 1"},
          {"id": "pick", "kind": "split", "label": "Pick", "subsets": [
            {"label": "Busy", "rule": "nodes.count(weight > 4) > 0"}, {"label": "Light", "rule": "weight < 3"}]},
          {"id": "up", "kind": "changeDimension", "label": "Parents", "link": "parent"},
          {"id": "again", "kind": "split", "label": "Again", "subsets": [{"label": "Heavy parents", "rule": "nodes.count(weight > 1) > 2"}]},
          {"id": "hold", "kind": "wait", "label": "Hold", "duration": "1d"},
          {"id": "done", "kind": "end", "label": "Done"}
        ], "edges": [
          {"from": "heavy", "to": "pick"}, {"from": "pick", "port": "subset1", "to": "up"},
          {"from": "up", "to": "again"}, {"from": "pick", "port": "complement", "to": "hold"},
          {"from": "hold", "to": "done"}
        ]}
        """#

    static func counts(_ jsonText: String) throws -> [String: Int] {
        let object = try #require(try json(jsonText) as? [String: Any])
        let transitions = try #require(object["transitions"] as? [[String: Any]])
        return Dictionary(uniqueKeysWithValues: transitions.map { ("\($0["from"]!).\($0["port"]!)", $0["count"] as! Int) })
    }

    @Test func aKilledDryRunResumesToTheSameCounts() throws {
        let scratch = Scratch()
        let pristine = try Herald.nodesStoreCopy(in: scratch.path, rows: 8000, campaign: Self.chain)
        let reference = scratch.path + "/reference.db"
        try FileManager.default.copyItem(atPath: pristine, toPath: reference)
        let uninterrupted = try Herald.run(["run", "Chain", "--dry-run", "--json", "--db", reference])
        #expect(uninterrupted.status == 0, "\(uninterrupted.stderr)")
        let baseline = try Self.counts(uninterrupted.stdout)
        #expect(baseline["heavy.out"]! > 0 && baseline["up.out"]! > 0 && baseline["pick.complement"]! > 0, "\(baseline)")

        var interrupted = 0
        for (i, delay) in [0.6, 2.0, 3.8, 5.5, 7.2].enumerated() {
            let db = scratch.path + "/killed-\(i).db"
            try FileManager.default.copyItem(atPath: pristine, toPath: db)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Herald.binary)
            process.arguments = ["run", "Chain", "--dry-run", "--db", db]
            var environment = ProcessInfo.processInfo.environment
            environment["HERALD_ONE_TO_MANY"] = "correlated"
            process.environment = environment
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            Thread.sleep(forTimeInterval: delay)
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()

            let runs = try Herald.run(["runs", "--json", "--db", db])
            let list = try #require(try json(runs.stdout) as? [[String: Any]], "\(runs.stderr)")
            guard let run = list.first, let id = run["id"] as? Int, let state = run["state"] as? String else { continue }
            // Whatever the kill interrupted left no half-built table under a temporary name.
            #expect(try Herald.sqlite(db, "SELECT count(*) FROM sqlite_master WHERE name LIKE 'herald_work_%tmp%'") == "0")
            if state == "running" {
                interrupted += 1
                if i % 2 == 0 {
                    let resumed = try Herald.run(["runs", "resume", String(id), "--json", "--db", db])
                    #expect(resumed.status == 0, "kill after \(delay) s: \(resumed.stderr)")
                    #expect(try Self.counts(resumed.stdout) == baseline, "kill after \(delay) s")
                } else {
                    // The scheduler finds the abandoned run (its holder has exited) and resumes it.
                    let pass = try Herald.run(["scheduler", "--dry-run", "--once", "--db", db])
                    #expect(
                        pass.status == 0 && pass.stdout.contains("resumed run #\(id) of 'Chain': completed"), "\(pass.stdout)\(pass.stderr)"
                    )
                    let shown = try Herald.run(["runs", "show", String(id), "--json", "--db", db])
                    #expect(try Self.counts(shown.stdout) == baseline, "kill after \(delay) s")
                }
            } else {
                #expect(state == "completed", "kill after \(delay) s left the run \(state)")
            }
            #expect(
                try Herald.sqlite(db, "SELECT count(*) FROM sqlite_master WHERE name LIKE 'herald_work_%'") == "0", "kill after \(delay) s")
            #expect(
                try Herald.sqlite(db, "SELECT state || ' ' || coalesce(lease_owner, '-') FROM herald_runs WHERE id = \(id)")
                    == "completed -")
        }
        #expect(interrupted >= 2, "too few kills landed while the run was working to test resuming")
    }

    /// SIGTERM stops the scheduler cleanly (exit 0), live or dry; a bad poll interval is refused.
    @Test(arguments: [["--dry-run"], []]) func theSchedulerStopsOnSIGTERM(mode: [String]) throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        let refused = try Herald.run(["scheduler", "--poll", "0", "--db", db])
        #expect(refused.status == 2 && refused.stderr.contains("--poll: expected 1 to 3600 seconds"), "\(refused.stderr)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Herald.binary)
        process.arguments = ["scheduler"] + mode + ["--poll", "1", "--db", db]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        Thread.sleep(forTimeInterval: 1.5)
        kill(process.processIdentifier, SIGTERM)
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(text)")
        #expect(text.contains("scheduler: stopped"), "\(text)")
    }

    /// SIGTERM while the scheduler executes a run halts it: the node in progress is rolled
    /// back, the lease released, and the run left unfinished for the next executor.
    @Test func aTerminatedSchedulerLeavesItsRunToResume() throws {
        let scratch = Scratch()
        let db = try Herald.slowStoreCopy(in: scratch.path)
        func start(_ arguments: [String]) throws -> Process {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Herald.binary)
            process.arguments = arguments + ["--db", db]
            process.environment = ProcessInfo.processInfo.environment.merging(Herald.slowEnvironment) { _, new in new }
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            return process
        }
        let killed = try start(["run", "Slow", "--dry-run"])
        Thread.sleep(forTimeInterval: 1.5)
        kill(killed.processIdentifier, SIGKILL)
        killed.waitUntilExit()
        let scheduler = try start(["scheduler", "--dry-run", "--once"])
        Thread.sleep(forTimeInterval: 2)
        kill(scheduler.processIdentifier, SIGTERM)
        scheduler.waitUntilExit()
        #expect(scheduler.terminationStatus == 0)
        #expect(
            try Herald.sqlite(db, "SELECT state || ' ' || coalesce(lease_owner, '-') FROM herald_runs ORDER BY id DESC LIMIT 1")
                == "running -")
        #expect(try Herald.sqlite(db, "SELECT count(*) FROM sqlite_master WHERE name LIKE 'herald_work_%'") == "0")
        let resumed = try Herald.run(["runs", "resume", "1", "--db", db])  // set-wise: quick
        #expect(resumed.status == 0 && resumed.stdout.contains(": completed"), "\(resumed.stdout)\(resumed.stderr)")
    }

    @Test func resumeRefusesWhatCannotBeResumed() throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        let done = try Herald.run(["run", "Win-back", "--dry-run", "--db", db])
        #expect(done.status == 0, "\(done.stderr)")
        let finished = try Herald.run(["runs", "resume", "1", "--db", db])
        #expect(
            finished.status == 2 && finished.stderr.contains("run #1 is completed; only an unfinished run can be resumed"),
            "\(finished.stderr)")
        let missing = try Herald.run(["runs", "resume", "99", "--db", db])
        #expect(missing.status == 2 && missing.stderr.contains("no run with id 99"), "\(missing.stderr)")
        let pause = try Herald.run(["runs", "pause", "1", "--db", db])
        #expect(
            pause.status == 2 && pause.stderr.contains("run #1 is completed; only a running, waiting or pending run can be paused"),
            "\(pause.stderr)")
        let stop = try Herald.run(["runs", "stop", "1", "--db", db])
        #expect(stop.status == 2 && stop.stderr.contains("only a running, waiting, pending or paused run can be stopped"), "\(stop.stderr)")
        // The old spelling still shows a run.
        let shown = try Herald.run(["runs", "1", "--db", db])
        #expect(shown.status == 0 && shown.stdout.contains("run #1 of 'Win-back' v1: completed"), "\(shown.stderr)")
        let show = try Herald.run(["runs", "show", "1", "--json", "--db", db])
        #expect(show.status == 0, "\(show.stderr)")
        #expect(shown.stdout.contains("work tables: none (a dry run keeps its counts only)"), "\(shown.stdout)")
        let badAge = try Herald.run(["runs", "purge", "--older-than", "a week", "--db", db])
        #expect(badAge.status == 2 && badAge.stderr.contains("--older-than: expected an age such as 30d"), "\(badAge.stderr)")
        let kept = try Herald.run(["runs", "purge", "--db", db])
        #expect(kept.stdout.contains("purged 0 runs"), "\(kept.stdout)")
        Thread.sleep(forTimeInterval: 1.1)  // started_at is to the second
        let purged = try Herald.run(["runs", "purge", "--older-than", "0d", "--db", db])
        #expect(purged.status == 0 && purged.stdout.contains("purged 1 run "), "\(purged.stdout)\(purged.stderr)")
        #expect(try Herald.run(["runs", "show", "1", "--db", db]).status == 2)
    }
}
