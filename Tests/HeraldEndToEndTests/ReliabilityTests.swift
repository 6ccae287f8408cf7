import Foundation
import Testing

/// What a reliability review found: outputs never remove a directory, a full disk is reported
/// (exit 1) rather than crashing, and a failed write leaves no partial file.
@Suite struct ReliabilityTests {
    /// Runs `herald ARGUMENTS` through the shell with `redirect` appended (`> /dev/full`,
    /// a `ulimit` before it); its status and standard error.
    static func shell(_ script: String, in directory: String) throws -> (status: Int32, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", script]
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var env = ProcessInfo.processInfo.environment
        env["HERALD"] = Herald.binary
        process.environment = env
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let data = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func aDirectoryAtTheOutputPathIsRefusedAndKept() throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        let folder = scratch.path + "/d"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        _ = scratch.file("d/keep", "kept")
        for arguments in [
            ["audience", "export", "VIP travellers", "-o", folder, "--db", db],
            ["campaign", "export", "Win-back", "-o", folder, "--db", db],
            ["demo", "--out", folder, "--force", "--profiles", "10"],
        ] {
            let result = try Herald.run(arguments)
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("is a directory"), "\(result.stderr)")
            #expect(try String(contentsOfFile: folder + "/keep", encoding: .utf8) == "kept")
        }
        // --force replaces a file.
        let file = scratch.file("old.db", "not a store")
        let replaced = try Herald.run(["demo", "--out", file, "--force", "--profiles", "10"])
        #expect(replaced.status == 0)
        // Nothing said on the way out: the closed temporary store is not checkpointed again.
        #expect(replaced.stderr.isEmpty, "\(replaced.stderr)")
        #expect(try Herald.run(["campaign", "list", "--db", file]).status == 0)
    }

    @Test(arguments: [
        "campaign list", "audience export 'VIP travellers'", "campaign export Win-back", "runs list", "audience list --json",
    ])
    func aFullDiskIsReportedNotACrash(command: String) throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        let result = try Self.shell("\"$HERALD\" \(command) --db '\(db)' > /dev/full", in: scratch.path)
        #expect(result.status == 1, "\(command): \(result.status) \(result.stderr)")
        #expect(result.stderr.contains("No space left on device"), "\(result.stderr)")
    }

    @Test func aFileTooLargeToWriteLeavesNoPartialFileAndKeepsTheOldOne() throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        _ = scratch.file("out.csv", "old")
        // A read first leaves SQLite's -shm beside the store; then files of at most 48 KiB: the
        // export of 10,000 profiles does not fit.
        #expect(try Herald.run(["campaign", "list", "--db", db]).status == 0)
        let result = try Self.shell(
            "ulimit -f 48; \"$HERALD\" audience export --entity profiles --rule 'id > 0' -o out.csv --db '\(db)'", in: scratch.path)
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("cannot write"), "\(result.stderr)")
        #expect(try String(contentsOfFile: scratch.path + "/out.csv", encoding: .utf8) == "old")
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/out.csv.partial"))
    }
}

/// A finished command leaves its changes in the database file itself: a copy of the `.db`
/// alone (or a commit of it) holds them, as after the `sqlite3` shell.
@Suite struct CheckpointTests {
    @Test func aCopyOfTheDatabaseFileAloneHoldsWhatACommandSaved() throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        func copyAlone(_ sql: String) throws -> String {
            let copy = scratch.path + "/alone-\(UUID().uuidString).db"
            try FileManager.default.copyItem(atPath: db, toPath: copy)
            return try Herald.sqlite(copy, sql)
        }
        for arguments in [
            ["audience", "save", "Bretons", "--entity", "profiles", "--rule", "language = \"fr\""],
            ["audience", "save", "Frozen", "--entity", "profiles", "--rule", "id <= 5", "--snapshot"],
        ] {
            let result = try Herald.run(arguments + ["--db", db])
            #expect(result.status == 0, "\(result.stderr)")
        }
        #expect(try copyAlone("SELECT count(*) FROM herald_audiences WHERE name IN ('Bretons', 'Frozen')") == "2")
        let members =
            "SELECT count(*) FROM herald_audience_members m JOIN herald_audiences a ON a.id = m.audience_id WHERE a.name = 'Frozen'"
        #expect(try copyAlone(members) == "5")
        try Herald.sqlite(db, "DELETE FROM profiles WHERE id = 1")
        #expect(try Herald.run(["audience", "refresh", "Frozen", "--db", db]).status == 0)
        #expect(try copyAlone(members) == "4")
        #expect(try Herald.run(["catalog", "indexes", "--apply", "--db", db]).status == 0)
        #expect(Int(try copyAlone("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name LIKE 'herald_idx_%'")) ?? 0 > 0)
    }
}

/// A run whose terminal hangs up (SIGHUP) stops as it would on Ctrl-C: recorded as stopped,
/// with a log line, never left `running` in silence.
@Suite struct HangUpTests {
    @Test func aHangUpStopsTheRunAndRecordsIt() throws {
        let scratch = Scratch()
        let db = try Herald.slowStoreCopy(in: scratch.path)
        let run = try Herald.run(
            ["run", "Slow", "--dry-run", "--db", db], environment: Herald.slowEnvironment, interruptAfter: 3, signal: SIGHUP)
        #expect(run.status == 128 + SIGHUP, "\(run.stderr)")
        let runs = try Herald.run(["runs", "--campaign", "Slow", "--db", db, "--json"])
        let first = (try json(runs.stdout) as? [[String: Any]])?.first
        #expect(first?["state"] as? String == "stopped")
        let id = try #require(first?["id"] as? Int)
        #expect(try Herald.run(["runs", "logs", String(id), "--db", db]).stdout.contains("stopped"))
    }
}

/// Herald's tables are created or brought up to date all at once, or not at all.
@Suite struct AtomicMigrationTests {
    @Test func initOnAFullDiskLeavesNoHalfMigratedStore() throws {
        let scratch = Scratch()
        // Files of at most 12 KiB: the first migrations fit, not all of them.
        let result = try ReliabilityTests.shell("ulimit -f 12; \"$HERALD\" init new.db", in: scratch.path)
        #expect(result.status == 1, "\(result.status): \(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/new.db"))
        // An existing plain file keeps its own tables, and gains none of Herald's.
        let plain = scratch.path + "/plain.db"
        try Herald.sqlite(plain, "CREATE TABLE t(a); INSERT INTO t VALUES (1);")
        let adopt = try ReliabilityTests.shell("ulimit -f 12; \"$HERALD\" init plain.db", in: scratch.path)
        #expect(adopt.status == 1, "\(adopt.status): \(adopt.stderr)")
        let heraldTables = "SELECT count(*) FROM sqlite_master WHERE name LIKE 'herald_%' OR name = 'grdb_migrations'"
        #expect(try Herald.sqlite(plain, heraldTables) == "0")
        #expect(try Herald.sqlite(plain, "SELECT a FROM t") == "1")
        #expect(try Herald.run(["init", plain]).status == 0)
    }
}

/// Names with control characters: refused when given, and never printed raw when a store
/// already holds one (from the sqlite3 shell, say).
@Suite struct ControlCharacterTests {
    static let escape = "\u{1B}"

    @Test(arguments: ["Evil\\u001b[2J", "Cut\\u0000here"])
    func aCampaignFileNamedWithAControlCharacterIsRefused(name: String) throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        let file = scratch.file(
            "evil.json",
            """
            {"format": "herald.campaign/2", "name": "\(name)", "nodes": [
              {"id": "a", "kind": "buildAudience", "label": "All", "entity": "profiles", "rule": "id > 0"}], "edges": []}
            """)
        for arguments in [["campaign", "import", file, "--db", db], ["campaign", "validate", file, "--db", db]] {
            let result = try Herald.run(arguments)
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("control character"), "\(result.stderr)")
            #expect(!result.stderr.contains(Self.escape) && !result.stdout.contains(Self.escape))
            #expect(!result.stderr.contains("\u{0}"))
        }
        #expect(try Herald.sqlite(db, "SELECT count(*) FROM herald_campaigns WHERE name LIKE 'Evil%' OR name LIKE 'Cut%'") == "0")
    }

    @Test func namesAlreadyStoredArePrintedWithTheirControlCharactersVisible() throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        try Herald.sqlite(db, "UPDATE herald_campaigns SET name = 'Win' || char(27) || '[2Jback' WHERE name = 'Win-back'")
        for arguments in [["campaign", "list"], ["runs", "list"], ["campaign", "show", "Summer sale"]] {
            let result = try Herald.run(arguments + ["--db", db])
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            #expect(!result.stdout.contains(Self.escape), "\(arguments)")
        }
        let list = try Herald.run(["campaign", "list", "--db", db])
        #expect(list.stdout.contains("Win\\u{1B}[2Jback"), "\(list.stdout)")
        let missing = try Herald.run(["campaign", "show", "Win\u{1B}[2Jback!", "--db", db])
        #expect(missing.status == 2 && !missing.stderr.contains(Self.escape))
        let renamed = try Herald.run(["campaign", "rename", "Summer sale", "Bad\u{1B}name", "--db", db])
        #expect(renamed.status == 2 && renamed.stderr.contains("control character"), "\(renamed.stderr)")
    }
}

/// Long rules: read from a file or standard input, compiled so SQLite accepts them, and refused
/// at validation, naming the rule, when no statement could hold them.
@Suite struct LongRuleTests {
    @Test func longRulesRunFromAFileAndTooLongOnesAreRefusedByValidation() throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        // 1,200 alternatives: SQLite refused the chain as an expression tree deeper than 1,000.
        let wide = (1...1200).map { "id = \($0)" }.joined(separator: " or ")
        let file = scratch.file("wide.rule", wide)
        let count = try Herald.run(["audience", "count", "--entity", "profiles", "--rule-file", file, "--db", db])
        #expect(count.status == 0, "\(count.stderr)")
        #expect(count.stdout.hasPrefix("1,200 profiles"), "\(count.stdout)")
        let piped = try ReliabilityTests.shell(
            "\"$HERALD\" audience save Wide --entity profiles --rule-file - --db '\(db)' < wide.rule", in: scratch.path)
        #expect(piped.status == 0, "\(piped.stderr)")
        // More conditions than a statement can bind: validation names the node and the rule.
        let huge = (1...12_000).map { "id = \($0)" }.joined(separator: " or ")
        let campaign = scratch.file(
            "huge.json",
            """
            {"format": "herald.campaign/2", "name": "Huge", "nodes": [
              {"id": "a", "kind": "buildAudience", "label": "All", "entity": "profiles", "rule": "\(huge)"}], "edges": []}
            """)
        let validate = try Herald.run(["campaign", "validate", campaign, "--db", db])
        #expect(validate.status == 2)
        #expect(validate.stderr.contains("node 'a', rule: 12000 conditions"), "\(validate.stderr)")
        let both = try Herald.run(["audience", "count", "--entity", "profiles", "--rule", "id = 1", "--rule-file", file, "--db", db])
        #expect(both.status == 2 && both.stderr.contains("give one of them"), "\(both.stderr)")
    }
}

/// A store in a folder the user cannot write to is read as it is (SQLite's immutable open), and
/// left byte-for-byte unchanged with nothing added beside it.
@Suite struct ReadOnlyFolderTests {
    @Test func aStoreInAReadOnlyFolderCanBeRead() throws {
        let scratch = Scratch()
        let folder = scratch.path + "/ro"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let db = folder + "/sample.db"
        try FileManager.default.copyItem(atPath: Herald.root.appendingPathComponent("sample.db").path, toPath: db)
        let before = try Data(contentsOf: URL(fileURLWithPath: db))
        // Readable by that user whatever the umask the checkout was made with.
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: db)
        // Root writes anywhere: the folder is closed to an unprivileged user instead.
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: folder)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: scratch.path)
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder) }
        // The checkout may sit where that user cannot reach: a copy of the executable can be.
        let binary = scratch.path + "/herald"
        try FileManager.default.copyItem(atPath: Herald.binary, toPath: binary)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: binary)
        let user = getuid() == 0 ? "runuser -u nobody -- " : ""
        for command in ["campaign list", "audience count 'VIP travellers'", "runs list", "audience list --json"] {
            let result = try ReliabilityTests.shell("\(user)'\(binary)' \(command) --db '\(db)'", in: "/")
            #expect(result.status == 0, "\(command): \(result.stderr)")
        }
        let write = try ReliabilityTests.shell("\(user)'\(binary)' campaign rename Win-back Other --db '\(db)'", in: "/")
        #expect(write.status == 2 && write.stderr.contains("read-only"), "\(write.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["sample.db"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: db)) == before)
    }
}

/// Input that was misread or silently accepted: each says what is wrong, exit 2.
@Suite struct MisreadInputTests {
    @Test(arguments: [
        (["runs", "list", "--limit", "-5"], "--limit: expected a positive number, found -5"),
        (["audience", "count", "VIP travellers", "--time-limit", "-1"], "--time-limit: expected a positive number"),
        (
            ["campaign", "list", "--log-file", "/nonexistent-herald/dir/log"],
            "--log-file: the folder /nonexistent-herald/dir does not exist"
        ),
        (["campaign", "schedule", "Win-back", "once at 2020-01-01 09:00"], "has no launch to come"),
    ])
    func saysWhatIsWrong(arguments: [String], message: String) throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        let result = try Herald.run(arguments + ["--db", db])
        #expect(result.status == 2, "\(arguments): \(result.stderr)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "/nonexistent-herald"))
        #expect(try Herald.run(["campaign", "schedule", "Win-back", "--db", db]).stdout.contains("has no schedule"))
    }
}

/// The campaign file is the whole campaign as code: its schedule goes out with it and comes
/// back in, and values left at their defaults are not written.
@Suite struct CampaignAsCodeTests {
    @Test func theScheduleTravelsWithTheCampaignFile() throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        #expect(
            try Herald.run(["campaign", "schedule", "Win-back", "weekly on mon at 09:00", "--until", "2099-01-01", "--db", db]).status == 0)
        let file = scratch.path + "/win-back.json"
        #expect(try Herald.run(["campaign", "export", "Win-back", "-o", file, "--db", db]).status == 0)
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(text.contains("\"expression\": \"weekly on mon at 09:00\""), "\(text)")
        // Until the end of that day in the campaign's zone (London), as a UTC instant.
        #expect(text.contains("\"until\": \"2099-01-02T00:00:00Z\""), "\(text)")
        // Imported under another name, it launches as the original does.
        try Data(text.replacingOccurrences(of: "\"name\": \"Win-back\"", with: "\"name\": \"Win-back again\"").utf8)
            .write(to: URL(fileURLWithPath: file))
        #expect(try Herald.run(["campaign", "import", file, "--db", db]).status == 0)
        let shown = try Herald.run(["campaign", "schedule", "Win-back again", "--db", db, "--json"])
        #expect(shown.stdout.contains("weekly on mon at 09:00"), "\(shown.stdout)")
        // A schedule with nothing to come refuses the whole import.
        let past = text.replacingOccurrences(of: "\"name\": \"Win-back\"", with: "\"name\": \"Too late\"")
            .replacingOccurrences(of: "weekly on mon at 09:00", with: "once at 2020-01-01 09:00")
        let late = scratch.file("late.json", past)
        let refused = try Herald.run(["campaign", "import", late, "--db", db])
        #expect(refused.status == 2 && refused.stderr.contains("no launch to come"), "\(refused.stderr)")
        #expect(try Herald.sqlite(db, "SELECT count(*) FROM herald_campaigns WHERE name = 'Too late'") == "0")
    }

    @Test func defaultsAreNotWritten() throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        let file = scratch.file(
            "split.json",
            """
            {"format": "herald.campaign/2", "name": "Halves", "nodes": [
              {"id": "a", "kind": "buildAudience", "label": "All", "entity": "profiles", "rule": "id > 0"},
              {"id": "s", "kind": "split", "label": "Halves", "seed": 0, "subsets": [{"label": "A", "percent": 50}]}],
             "edges": [{"from": "a", "fromPort": "out", "to": "s", "toPort": "in"}]}
            """)
        #expect(try Herald.run(["campaign", "import", file, "--db", db]).status == 0)
        let exported = try Herald.run(["campaign", "export", "Halves", "--db", db]).stdout
        #expect(!exported.contains("\"seed\""), "\(exported)")
        #expect(!exported.contains("\"schedule\""))
    }
}
