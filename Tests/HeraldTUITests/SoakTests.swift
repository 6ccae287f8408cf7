import Foundation
import HeraldCore
import HeraldStore
import HeraldTUI
import Synchronization
import Testing

/// Several processes on one store for a bounded time (`HERALD_SOAK_SECONDS`, 60 by default):
/// the interface copies and edits campaigns in a loop while `herald run`, `herald scheduler`,
/// `herald import` and the `sqlite3` shell write to the same file. Afterwards every save the
/// interface reported is in the file, no run failed, the file is intact, and no process ever
/// held a `-wal` or `-shm` that another had deleted.
@Suite(.serialized) struct SoakTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var herald: String {
        ProcessInfo.processInfo.environment["HERALD_BIN"] ?? root.appendingPathComponent(".build/debug/herald").path
    }

    /// What the other processes did: each command's exit statuses, and anything seen wrong.
    final class Ledger: Sendable {
        let failures = Mutex<[String]>([])
        let finished = Mutex<[String: Int]>([:])
        let running = Mutex<Set<Int32>>([])

        func fail(_ text: String) { failures.withLock { $0.append(text) } }
        func done(_ name: String) { finished.withLock { $0[name, default: 0] += 1 } }
    }

    /// Runs `executable` with `arguments` to its end, its pid watched meanwhile; the failure is
    /// recorded unless the status is 0.
    static func runChild(_ executable: String, _ arguments: [String], name: String, ledger: Ledger) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let err = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch {
            ledger.fail("\(name) did not start: \(error)")
            return
        }
        let pid = process.processIdentifier
        ledger.running.withLock { _ = $0.insert(pid) }
        let message = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        ledger.running.withLock { _ = $0.remove(pid) }
        if process.terminationStatus != 0 {
            ledger.fail("\(name) exited \(process.terminationStatus): \(String(decoding: message, as: UTF8.self).prefix(300))")
        } else {
            ledger.done(name)
        }
    }

    /// The deleted `-wal` or `-shm` files under `folder` that process `pid` holds open.
    static func deletedJournals(pid: String, under folder: String) -> [String] {
        let dir = "/proc/\(pid)/fd"
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return fds.compactMap { fd in
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(dir)/\(fd)") else { return nil }
            return target.hasPrefix(folder) && target.hasSuffix("(deleted)") ? "pid \(pid): \(target)" : nil
        }
    }

    @Test func theInterfaceSchedulerRunsImportsAndTheShellShareOneStore() throws {
        let seconds = Double(ProcessInfo.processInfo.environment["HERALD_SOAK_SECONDS"] ?? "") ?? 60
        let folder = NSTemporaryDirectory() + "herald-soak-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/sample.db"
        try FileManager.default.copyItem(atPath: Self.root.appendingPathComponent("sample.db").path, toPath: path)
        let csv = folder + "/visits.csv"
        try Data(("id,page,seen\n" + (1...2000).map { "\($0),/p/\($0 % 37),\($0 % 5)" }.joined(separator: "\n") + "\n").utf8)
            .write(to: URL(fileURLWithPath: csv))
        try SharedStoreTests.sqlite(
            path, "CREATE TABLE soak_counter(id INTEGER PRIMARY KEY, n INTEGER); INSERT INTO soak_counter VALUES (1, 0);")
        let ledger = Ledger()
        let scheduled = Process()
        scheduled.executableURL = URL(fileURLWithPath: Self.herald)
        scheduled.arguments = ["campaign", "schedule", "Welcome series", "every 1 minute", "--db", path]
        scheduled.standardOutput = FileHandle.nullDevice
        try scheduled.run()
        scheduled.waitUntilExit()
        #expect(scheduled.terminationStatus == 0)

        let deadline = Date().addingTimeInterval(seconds)
        let stop = Atomic<Bool>(false)
        // A scheduler for the whole soak, polling every second.
        let scheduler = Process()
        scheduler.executableURL = URL(fileURLWithPath: Self.herald)
        scheduler.arguments = ["scheduler", "--poll", "1", "--db", path]
        scheduler.standardOutput = FileHandle.nullDevice
        scheduler.standardError = FileHandle.nullDevice
        try scheduler.run()
        // Whatever ends the test early, the scheduler does not outlive it.
        defer { if scheduler.isRunning { scheduler.terminate() } }
        ledger.running.withLock { _ = $0.insert(scheduler.processIdentifier) }

        let group = DispatchGroup()
        func loop(_ name: String, _ body: @escaping @Sendable (Int) -> Void) {
            DispatchQueue.global().async(group: group) {
                var i = 0
                while Date() < deadline {
                    i += 1
                    body(i)
                }
            }
        }
        let herald = Self.herald
        loop("run") { _ in Self.runChild(herald, ["run", "Summer sale", "--dry-run", "--db", path], name: "run", ledger: ledger) }
        loop("import") { _ in
            Self.runChild(herald, ["import", csv, "--table", "visits", "--db", path], name: "import", ledger: ledger)
        }
        loop("sqlite3") { _ in
            // A person in the shell sets a busy timeout, as Herald has one.
            Self.runChild(
                "/usr/bin/sqlite3", ["-cmd", ".timeout 10000", path, "UPDATE soak_counter SET n = n + 1 WHERE id = 1;"],
                name: "sqlite3", ledger: ledger)
        }
        // Watches every process on the store for a journal deleted under it, until the end.
        let watcher = DispatchGroup()
        DispatchQueue.global().async(group: watcher) {
            while !stop.load(ordering: .relaxed) {
                let pids = ["self"] + ledger.running.withLock { $0.map(String.init) }
                for pid in pids {
                    for held in Self.deletedJournals(pid: pid, under: folder) { ledger.fail("held a deleted journal: \(held)") }
                }
                Thread.sleep(forTimeInterval: 0.01)
            }
        }

        // The interface, in this process: copy the first campaign, then open it, rename its
        // first node and save a new version; again and again.
        let reading = try Store.openForReading(path: path)
        let session = HeadlessSession(store: reading, width: 100, height: 30)
        #expect(session.waitUntilIdle())
        var copies: [String] = []
        var versions: [Int] = []
        var round = 0
        while Date() < deadline {
            round += 1
            session.press(.char("g"), .char("y"), .enter)
            #expect(session.waitUntilIdle())
            let copied = session.state.status
            if let name = copied.firstMatch(of: /copied as '(.+)'/)?.1 {
                copies.append(String(name))
            } else {
                Issue.record("round \(round): the copy was not reported: \(copied)")
            }
            session.press(.char("g"), .enter)
            #expect(session.waitUntilIdle())
            session.press(.char("n"), .ctrl("u"))
            session.type("Soak \(round)\n")
            session.press(.char("w"))
            #expect(session.waitUntilIdle())
            let saved = session.state.status
            if let version = saved.firstMatch(of: /saved 'Beach brochure' as version (\d+)/)?.1 {
                versions.append(Int(version)!)
            } else {
                Issue.record("round \(round): the save was not reported: \(saved)")
            }
            session.press(.escape)
            #expect(session.waitUntilIdle())
        }
        group.wait()
        scheduler.terminate()
        scheduler.waitUntilExit()
        #expect(scheduler.terminationStatus == 0, "the scheduler exited \(scheduler.terminationStatus)")
        ledger.running.withLock { _ = $0.remove(scheduler.processIdentifier) }
        stop.store(true, ordering: .relaxed)
        watcher.wait()
        session.close()
        try reading.close()

        for failure in ledger.failures.withLock({ $0 }) { Issue.record("\(failure)") }
        let finished = ledger.finished.withLock { $0 }
        for name in ["run", "import", "sqlite3"] { #expect(finished[name, default: 0] > 0, "no \(name) finished: \(finished)") }
        #expect(!copies.isEmpty && !versions.isEmpty)
        print("soak: \(seconds) s, \(copies.count) copies and \(versions.count) versions saved by the interface, finished: \(finished)")

        // Every save the interface reported is in the file, read by another process.
        let names = Set(try SharedStoreTests.sqlite(path, "SELECT name FROM herald_campaigns").split(separator: "\n").map(String.init))
        for copy in copies { #expect(names.contains(copy), "the copy '\(copy)' is missing") }
        let kept = try SharedStoreTests.sqlite(
            path,
            "SELECT v.version FROM herald_campaign_versions v JOIN herald_campaigns c ON c.id = v.campaign_id WHERE c.name = 'Beach brochure'"
        ).split(separator: "\n").compactMap { Int($0) }
        for version in versions { #expect(kept.contains(version), "version \(version) is missing") }
        #expect(try SharedStoreTests.sqlite(path, "SELECT n FROM soak_counter") == String(finished["sqlite3", default: 0]))
        // Every run ended or can go on; none failed.
        let states = try SharedStoreTests.sqlite(path, "SELECT DISTINCT state FROM herald_runs").split(separator: "\n").map(String.init)
        for state in states { #expect(RunState(rawValue: state).map { $0 != .failed && $0 != .stopped } == true, "a run is \(state)") }
        #expect(try SharedStoreTests.sqlite(path, "PRAGMA integrity_check") == "ok")
    }
}
