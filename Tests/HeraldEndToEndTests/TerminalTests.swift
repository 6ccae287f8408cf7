import Foundation
import Testing

/// One tmux server on a private socket, running Herald in a real terminal. Going away stops
/// the server and everything in it, also when the test failed.
final class TmuxSession {
    let socket = "herald-test-" + UUID().uuidString.prefix(8)
    let name = "herald"
    /// The server's and the pane's process ids, to make sure they are gone at the end.
    private var serverPID: Int32 = 0
    private var panePID: Int32 = 0

    /// Starts `herald` in a new window; after it exits the pane shows whether the terminal's echo
    /// mode was restored, then its exit status (last, so seeing `EXIT=` means both are there).
    init(width: Int = 120, height: Int = 40, arguments: [String], environment: [String: String] = [:]) throws {
        // A clean slate for the variables that change how Herald draws, then the test's own.
        let unset = ["NO_COLOR", "HERALD_THEME", "HERALD_DB"].filter { environment[$0] == nil }.map { "-u \($0)" }
        let exports = (unset + environment.map { "\($0.key)='\($0.value)'" }).joined(separator: " ")
        let command =
            "env \(exports) '\(Herald.binary)' \(arguments.map { "'\($0)'" }.joined(separator: " ")); "
            + "status=$?; stty -a | tr ' ;' '\\n\\n' | grep -x -e echo -e -echo | sed 's/^/TTY=/'; echo \"EXIT=$status\"; sleep 600"
        try tmux(["new-session", "-d", "-s", name, "-x", String(width), "-y", String(height), command])
        let pids = try tmux(["display-message", "-p", "-t", name, "#{pid} #{pane_pid}"]).split(separator: " ").compactMap {
            Int32($0.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        if pids.count == 2 {
            serverPID = pids[0]
            panePID = pids[1]
        }
    }

    deinit {
        _ = try? tmux(["kill-server"])
        // kill-server ends the panes with SIGHUP; anything still there after a moment (a process
        // that blocks signals, a server that never saw the command) is killed outright.
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline && (Self.alive(serverPID) || Self.alive(panePID)) { Thread.sleep(forTimeInterval: 0.05) }
        for pid in [panePID, serverPID] where Self.alive(pid) {
            kill(-pid, SIGKILL)  // the pane's process group: the shell, Herald, sleep
            kill(pid, SIGKILL)
        }
        try? FileManager.default.removeItem(atPath: "/tmp/tmux-\(getuid())/\(socket)")
    }

    static func alive(_ pid: Int32) -> Bool {
        guard pid > 0 else { return false }
        // A zombie has exited; its parent (init, for a daemon's children) reaps it.
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
        return !status.contains(") Z ")
    }

    @discardableResult
    func tmux(_ arguments: [String]) throws -> String {
        let process = Process()
        // tmux forks a server that would inherit every open descriptor of this test process,
        // including the ones Foundation uses to watch other child processes, and those would
        // then never see their child exit. Close everything above stderr before exec.
        // It would also inherit the test runner's blocked signals, and a server started with
        // them ignores kill-server: perl (always there, perl-base) clears the mask first.
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments =
            [
                "-c",
                #"for fd in /proc/$$/fd/*; do n=${fd##*/}; if [ "$n" -gt 2 ]; then eval "exec $n>&-"; fi; done 2>/dev/null; "#
                    + #"exec perl -MPOSIX -e 'sigprocmask(SIG_SETMASK, POSIX::SigSet->new) or die "sigprocmask"; exec { $ARGV[0] } @ARGV or die "exec"' tmux "$@""#,
                "bash", "-L", socket, "-f", "/dev/null",
            ] + arguments
        // Output goes through a file: the tmux server forked by new-session would hold a pipe open.
        let outputPath = NSTemporaryDirectory() + "herald-tmux-" + UUID().uuidString
        FileManager.default.createFile(atPath: outputPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try out.close()
        let data = FileManager.default.contents(atPath: outputPath) ?? Data()
        if process.terminationStatus != 0 && arguments.first != "kill-server" {
            throw Failure("tmux \(arguments.joined(separator: " ")) failed (is tmux installed?)")
        }
        return String(decoding: data, as: UTF8.self)
    }

    func keys(_ keys: String...) throws { try tmux(["send-keys", "-t", name] + keys) }

    func screen(colors: Bool = false) throws -> String {
        try tmux(["capture-pane", "-p", "-t", name] + (colors ? ["-e"] : []))
    }

    /// Waits for `text` to appear on screen (polling; the limit only bounds a failing test).
    @discardableResult
    func waitFor(_ text: String, seconds: Double = 30) throws -> String {
        let deadline = Date().addingTimeInterval(seconds)
        var last = ""
        while Date() < deadline {
            last = try screen()
            if last.contains(text) { return last }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw Failure("'\(text)' never appeared; the screen was:\n\(last)")
    }

    /// Sends `signal` (`TERM`, `HUP`…) to the herald the pane's shell runs.
    func signalHerald(_ signal: String) throws {
        let pid = try tmux(["list-panes", "-t", name, "-F", "#{pane_pid}"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let kill = Process()
        kill.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        kill.arguments = ["pkill", "-\(signal)", "-P", pid, "-x", "herald"]
        try kill.run()
        kill.waitUntilExit()
    }

    func resize(width: Int, height: Int) throws {
        try tmux(["resize-window", "-t", name, "-x", String(width), "-y", String(height)])
    }
}

@Suite(.serialized) struct TerminalTests {
    /// The dry-run counts the CLI computes on a copy of the same data.
    func expectedCounts(_ db: String, campaign: String) throws -> [String: Int] {
        let result = try Herald.run(["run", campaign, "--db", db, "--dry-run", "--json"])
        let object = try json(result.stdout) as! [String: Any]
        return Dictionary(
            uniqueKeysWithValues: (object["transitions"] as! [[String: Any]]).map { ("\($0["from"]!).\($0["port"]!)", $0["count"] as! Int) }
        )
    }

    func grouped(_ n: Int) -> String {
        n < 1000 ? String(n) : "\(n / 1000),\(String(n % 1000 + 1000).dropFirst())"
    }

    func compact(_ n: Int) -> String {
        if n < 1000 { return String(n) }
        let tenths = n / 100
        return tenths % 10 == 0 ? "\(tenths / 10)k" : "\(tenths / 10).\(tenths % 10)k"
    }

    @Test func openACampaignRunADryRunAndSeeCountsOnTheEdges() throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        let other = Scratch()
        let counts = try expectedCounts(try Herald.sampleCopy(in: other.path), campaign: "Welcome series")
        let tmux = try TmuxSession(arguments: [db], environment: ["LANG": "C.UTF-8"])
        try tmux.waitFor("Welcome series")
        try tmux.keys("j", "j", "j", "Enter")  // Beach brochure, Departure reminder, Summer sale, Welcome series
        try tmux.waitFor("New sign-ups")
        try tmux.keys("r")
        let screen = try tmux.waitFor("completed")
        // The exact figure where the lane has room for it, the compact one otherwise; never cut.
        for (label, port) in [("App users", "split.subset1"), ("Variant A", "split.subset2")] {
            let n = counts[port]!
            #expect(screen.contains("\(label) \(grouped(n))") || screen.contains("\(label) \(compact(n))"), "\(screen)")
        }
        #expect(screen.contains("╭"))
        try tmux.keys("q")
        try tmux.waitFor("LAST RUN")
        try tmux.keys("q")
        let after = try tmux.waitFor("EXIT=")
        #expect(after.contains("EXIT=0"))
        #expect(after.contains("TTY=echo"), "the terminal was not restored:\n\(after)")
    }

    @Test func xStopsARunningDryRun() throws {
        let scratch = Scratch()
        let db = try Herald.slowStoreCopy(in: scratch.path)
        let tmux = try TmuxSession(arguments: [db], environment: Herald.slowEnvironment.merging(["LANG": "C.UTF-8"]) { a, _ in a })
        try tmux.waitFor("Slow")
        try tmux.keys("j", "j", "Enter")  // the list is alphabetical: Beach brochure, Departure reminder, Slow, …
        try tmux.waitFor("Heavy")
        try tmux.keys("r")
        try tmux.waitFor("running")
        try tmux.keys("x")
        try tmux.waitFor("dry run of 'Slow' stopped")
        // Quitting in the middle of a second run stops it too, instead of leaving it `running`.
        try tmux.keys("r")
        try tmux.waitFor("running")
        try tmux.keys("Q")
        #expect(try tmux.waitFor("EXIT=").contains("EXIT=0"))
        let runs = try Herald.run(["runs", "--campaign", "Slow", "--db", db, "--json"])
        #expect((try json(runs.stdout) as? [[String: Any]])?.compactMap { $0["state"] as? String } == ["stopped", "stopped"])
    }

    @Test func resizingRedrawsAndTooSmallSaysSo() throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        let tmux = try TmuxSession(arguments: [db])
        try tmux.waitFor("Welcome series")
        try tmux.keys("j", "j", "j", "Enter")  // Beach brochure, Departure reminder, Summer sale, Welcome series
        try tmux.waitFor("New sign-ups")
        try tmux.resize(width: 64, height: 22)
        // tmux keeps the old frame, clipped, until Herald redraws; at 64×22 the graph no longer
        // fits in full boxes, so the compact node means the redraw happened.
        let narrow = try tmux.waitFor("[New sign-ups")
        #expect(narrow.split(separator: "\n").allSatisfy { $0.count <= 64 })
        #expect(narrow.contains("hjkl"))
        try tmux.resize(width: 50, height: 14)
        try tmux.waitFor("Herald needs at least 60×20")
        try tmux.resize(width: 100, height: 30)
        try tmux.waitFor("New sign-ups")
        try tmux.keys("Q")
        #expect(try tmux.waitFor("EXIT=").contains("EXIT=0"))
    }

    @Test func noColorMeansNoColourSequences() throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        let plain = try TmuxSession(arguments: [db], environment: ["NO_COLOR": "1", "TERM": "xterm-256color"])
        try plain.waitFor("Welcome series")
        let mono = try plain.screen(colors: true)
        let colourCodes = ["\u{1B}[38;5", "\u{1B}[48;5"] + (0...7).flatMap { ["\u{1B}[3\($0)m", "\u{1B}[4\($0)m"] }
        #expect(!colourCodes.contains { mono.contains($0) }, "colour codes with NO_COLOR")
        #expect(mono.contains("\u{1B}[7m") || mono.contains("\u{1B}[1m"), "attributes still mark the selection")
        let colored = try TmuxSession(arguments: [db], environment: ["TERM": "xterm-256color"])
        try colored.waitFor("Welcome series")
        let colours = try colored.screen(colors: true)
        #expect(colours.contains("\u{1B}[38;5"), "no 256-colour codes:\n\(colours.prefix(400).debugDescription)")
    }

    /// A broken configuration found by the usual search does not keep the interface from
    /// opening (designing needs none), and the status bar says what is wrong with it at once.
    @Test func aBrokenConfigurationIsSaidOnOpening() throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        let config = scratch.path + "/herald.toml"
        try "[channels.email]\nprovider = \"pigeon\"\n".write(toFile: config, atomically: true, encoding: .utf8)
        let tmux = try TmuxSession(width: 220, arguments: [db], environment: ["HERALD_CONFIG": config])
        let screen = try tmux.waitFor("live runs refused until this is fixed")
        #expect(screen.contains("expected outbox, discard or smtp, found 'pigeon'"), "\(screen)")
        // The list loads on its own time: the status may come first.
        try tmux.waitFor("Welcome series")
        try tmux.keys("Q")
        #expect(try tmux.waitFor("EXIT=").contains("EXIT=0"))
    }

    @Test func aNonUTF8LocaleGetsASCIIGlyphs() throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        let tmux = try TmuxSession(arguments: [db], environment: ["LANG": "C", "LC_ALL": "C"])
        try tmux.waitFor("Welcome series")
        try tmux.keys("j", "j", "j", "Enter")  // Beach brochure, Departure reminder, Summer sale, Welcome series
        let screen = try tmux.waitFor("New sign-ups")
        #expect(screen.contains("+--------"))
        #expect(!screen.contains("╭") && !screen.contains("─") && !screen.contains("▼"))
        #expect(screen.allSatisfy { $0.isASCII }, "non-ASCII output under LANG=C")
    }

    /// A run in another process shows on the open canvas: the interface polls the store's
    /// data_version and reads the run again when another connection commits.
    @Test func aRunInAnotherProcessShowsOnTheCanvas() throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        let tmux = try TmuxSession(arguments: [db], environment: ["LANG": "C.UTF-8"])
        try tmux.waitFor("Welcome series")
        try tmux.keys("j", "j", "j", "Enter")
        try tmux.waitFor("New sign-ups")
        let run = try Herald.run(["run", "Welcome series", "--dry-run", "--db", db, "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let id = try #require(((try json(run.stdout) as? [String: Any])?["run"] as? [String: Any])?["id"] as? Int)
        let screen = try tmux.waitFor("counts of dry run #\(id) (completed)")
        #expect(screen.contains("✓"), "\(screen)")
        try tmux.keys("q", "q")
        try tmux.waitFor("EXIT=0")
    }

    @Test func signalsRestoreTheTerminal() throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        let tmux = try TmuxSession(arguments: [db])
        try tmux.waitFor("Welcome series")
        try tmux.signalHerald("TERM")
        let after = try tmux.waitFor("EXIT=")
        #expect(after.contains("EXIT=143"))
        #expect(after.contains("TTY=echo"))
    }

    @Test func refusesWithoutATerminal() throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        let result = try Herald.run([db])
        #expect(result.status == 2)
        #expect(result.stderr.contains("needs a terminal"))
        let tmux = try TmuxSession(arguments: [db], environment: ["TERM": "dumb"])
        let screen = try tmux.waitFor("EXIT=")
        #expect(screen.contains("cannot move the cursor"))
        #expect(screen.contains("EXIT=2"))
    }
}
