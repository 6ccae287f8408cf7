import Foundation
import Testing

/// Reads never write, bad input changes nothing, and logs never carry personal data.
@Suite struct TrustTests {
    func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    static let readCommands: [[String]] = [
        ["campaign", "list"], ["campaign", "list", "--archived", "--json"], ["campaign", "show", "Win-back"],
        ["campaign", "schedule", "Win-back"], ["campaign", "schedule", "Win-back", "--json"],
        ["campaign", "export", "Welcome series"], ["campaign", "validate", "Win-back"], ["catalog"], ["catalog", "--json"],
        ["catalog", "check"], ["catalog", "time-zone"], ["audience", "count", "--entity", "profiles", "--rule", "country = \"FR\""],
        ["audience", "count", "VIP travellers"], ["audience", "show", "French speakers"],
        ["audience", "distribution", "--entity", "bookings", "--rule", "true", "--attribute", "status"],
        ["audience", "explain", "--entity", "profiles", "--rule", "bookings.any(status = \"cancelled\")"], ["audience", "list"],
        ["audience", "export", "--entity", "profiles", "--rule", "country = \"NL\""], ["runs"], ["runs", "--json"],
    ]

    /// Every command that only looks leaves the shipped store byte-for-byte as it was.
    @Test func readCommandsLeaveTheStoreByteForByteUnchanged() throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        let before = try bytes(db)
        for command in Self.readCommands {
            let result = try Herald.run(command + ["--db", db])
            #expect(result.status == 0, "\(command): \(result.stderr)")
            #expect(try bytes(db) == before, "\(command) changed the store")
        }
        // With a run recorded, the run views only look too.
        #expect(try Herald.run(["run", "Win-back", "--dry-run", "--db", db]).status == 0)
        let withRun = try bytes(db)
        for command in [["runs"], ["runs", "1"], ["runs", "1", "--json"], ["logs", "1"], ["campaign", "list"]] {
            let result = try Herald.run(command + ["--db", db])
            #expect(result.status == 0, "\(command): \(result.stderr)")
            #expect(try bytes(db) == withRun, "\(command) changed the store")
        }
        // The shipped file in the checkout is the one tests copy; it must be a current store.
        let shipped = Herald.root.appendingPathComponent("sample.db").path
        let untouched = try bytes(shipped)
        #expect(try Herald.run(["campaign", "list", "--db", shipped]).status == 0)
        #expect(try bytes(shipped) == untouched)
    }

    /// A plain SQLite file can be counted and explored without gaining Herald's tables; the first
    /// command that writes adopts it and says so once.
    @Test func aPlainSQLiteFileIsExploredWithoutChangeAndAdoptedOnFirstWrite() throws {
        let scratch = Scratch()
        let db = scratch.path + "/shop.db"
        try Herald.sqlite(
            db,
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, country TEXT); INSERT INTO customers VALUES (1, 'FR'), (2, 'DE'), (3, 'FR');")
        let before = try bytes(db)
        let schema = try Herald.sqlite(db, "SELECT group_concat(name) FROM sqlite_master")
        let count = try Herald.run(["audience", "count", "--entity", "customers", "--rule", "country = \"FR\"", "--db", db])
        #expect(count.stdout == "2 customers\n", "\(count.stderr)")
        let one = try Herald.run(["audience", "count", "--entity", "customers", "--rule", "id = 2", "--db", db])
        #expect(one.stdout == "1 customer\n")
        for command in [["campaign", "list"], ["campaign", "show", "x"], ["catalog"], ["audience", "list"], ["runs"]] {
            _ = try Herald.run(command + ["--db", db])
        }
        #expect(try bytes(db) == before)
        #expect(try Herald.sqlite(db, "SELECT group_concat(name) FROM sqlite_master") == schema)
        let label = try Herald.run(["catalog", "label", "customers", "Customers", "--db", db])
        #expect(label.status == 0, "\(label.stderr)")
        #expect(label.stderr.contains("had no Herald tables; added them"))
        let again = try Herald.run(["catalog", "label", "customers", "Clients", "--db", db])
        #expect(!again.stderr.contains("added them"))
    }

    /// Malformed input to every command: exit 2 with a message, never a trap, and the store unchanged.
    @Test(arguments: [
        (["campaign", "validate", "FILE:dupids.json"], "share this id"),
        (["campaign", "import", "FILE:dupids.json"], "share this id"),
        (["campaign", "validate", "FILE:junk.json"], "campaign file: line 1, column 1"),
        (["campaign", "import", "FILE:leading-zero.json"], "leading zeros"),
        (["campaign", "validate", "FILE:empty.json"], "unexpected end of the document"),
        (["campaign", "validate", "FILE:binary.json"], "not UTF-8"),
        (["campaign", "validate", "nofile.json"], "file: nofile.json does not exist"),
        (["campaign", "validate", "Nope"], "no campaign named 'Nope'"),
        (["campaign", "rename", "Win-back", ""], "the campaign name is empty"),
        (["campaign", "rename", "Win-back", "Welcome series"], "already exists"),
        (["campaign", "duplicate", "Win-back", "--as", "Welcome series"], "--as: a campaign named 'Welcome series' already exists"),
        (["campaign", "delete", "Nope"], "no campaign named 'Nope'"),
        (["campaign", "archive", "Nope"], "no campaign named 'Nope'"),
        (["audience", "count", "--entity", "profiles", "--rule", "country = "], "expected a value"),
        (["audience", "count", "--entity", "profiles", "--rule", "contry = 1 and agee = 2"], "unknown attribute 'agee'"),
        (["audience", "count", "--entity", "nope", "--rule", "true"], "unknown entity 'nope'"),
        (["audience", "show", "--entity", "profiles", "--rule", "true", "--limit", "-1"], "--limit"),
        (["audience", "save", "", "--entity", "profiles", "--rule", "true"], "the audience name is empty"),
        (["audience", "delete", "Nope"], "no saved audience named 'Nope'"),
        (["audience", "import", "FILE:keys.csv", "--name", "K", "--entity", "profiles"], "keys not in profiles: 999999999"),
        (["import", "FILE:dup-keys.csv", "--table", "t"], "already appears on line 2"),
        (["import", "FILE:binary.json", "--table", "t"], "UTF-8"),
        (["import", "FILE:keys.csv", "--table", "herald_x"], "reserved"),
        (["import", "FILE:keys.csv", "--table", "t", "--time-zone", "Mars/Base"], "--time-zone: 'Mars/Base' is not an IANA time zone"),
        (["catalog", "rename-link", "bookings.destination", "dest"], "would break saved audiences or campaigns"),
        (["catalog", "hide", "profiles.first_name"], "would break saved audiences or campaigns"),
        (["catalog", "hide", "nope"], "expected ENTITY.NAME"),
        (["catalog", "profile", "profiles", "--email", ""], "would break saved audiences or campaigns"),
        (["catalog", "time-zone", "Mars/Base"], "is not an IANA time zone"),
        (["runs", "abc"], "runs"),
        (["logs", "-5"], "logs"),
        (["run", "Nope", "--dry-run"], "no campaign named 'Nope'"),
        (["campain", "list"], "did you mean 'campaign'?"),
        (["campaign", "lst"], "did you mean 'list'?"),
        (["campaign", "list", "--log-level", "loud"], "--log-level: expected one of"),
        (["ENV:HERALD_MMAP_MB=lots", "campaign", "list"], "HERALD_MMAP_MB: expected a whole number of megabytes"),
        (["ENV:HERALD_ONE_TO_MANY=fast", "campaign", "list"], "HERALD_ONE_TO_MANY: expected 'correlated' or 'set-wise'"),
        (["catalog", "indexes", "--apply", "--drop"], "--apply and --drop: choose one"),
    ])
    func malformedInputExitsTwoAndChangesNothing(arguments: [String], message: String) throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        let exported = try Herald.run(["campaign", "export", "Win-back", "--db", db]).stdout
        var document = try #require(try json(exported) as? [String: Any])
        var nodes = try #require(document["nodes"] as? [[String: Any]])
        nodes.append(nodes[0])
        document["nodes"] = nodes
        let files = [
            "dupids.json": try JSONSerialization.data(withJSONObject: document),
            "junk.json": Data("not json".utf8),
            "leading-zero.json": Data(exported.replacingOccurrences(of: "\"seed\": ", with: "\"seed\": 0").utf8),
            "empty.json": Data(),
            "binary.json": Data([0xFF, 0xFE, 0x00, 0x7B]),
            "dup-keys.csv": Data("id,name\n1,a\n1,b\n".utf8),
            "keys.csv": Data("id\n999999999\n".utf8),
        ]
        for (name, data) in files { try data.write(to: URL(fileURLWithPath: scratch.path + "/" + name)) }
        let before = try bytes(db)
        var environment: [String: String] = [:]
        for setting in arguments where setting.hasPrefix("ENV:") {
            let pair = setting.dropFirst(4).split(separator: "=", maxSplits: 1).map(String.init)
            environment[pair[0]] = pair[1]
        }
        let args = arguments.filter { !$0.hasPrefix("ENV:") }.map { $0.hasPrefix("FILE:") ? scratch.path + "/" + $0.dropFirst(5) : $0 }
        let result = try Herald.run(args + ["--db", db], environment: environment, in: scratch.path)
        #expect(result.status == 2, "\(args): status \(result.status) \(result.stdout) \(result.stderr)")
        #expect(result.stderr.contains(message), "\(args): \(result.stderr)")
        #expect(!result.stderr.contains("Fatal error") && !result.stderr.contains("crashed"), "\(result.stderr)")
        #expect(try bytes(db) == before, "\(args) changed the store")
    }

    /// Addresses and message bodies never reach the logs, even at the most detailed level.
    @Test func logsCarryNoPersonalData() throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        let canary = "zq-canary-7731@example.org"
        let body = "zq canary body text"
        _ = scratch.file(
            "people.csv", "id,email,note\n1,\(canary),\(body)\n2,other@example.org,hello\n")
        let campaign = scratch.file(
            "canary.json",
            """
            {"format": "herald.campaign/1", "name": "Canary", "nodes": [
              {"id": "a", "kind": "buildAudience", "label": "A", "entity": "profiles", "rule": "email = \\"\(canary)\\" or country = \\"FR\\""},
              {"id": "m", "kind": "email", "label": "M", "category": "marketing", "messagePer": "profile", "subject": "\(body)", "text": "\(body) {{profile.email}}"}
            ], "edges": [{"from": "a", "to": "m"}]}
            """)
        let logFile = scratch.path + "/herald.log"
        let env = ["HERALD_LOG_LEVEL": "trace"]
        var output = ""
        for command in [
            ["import", scratch.path + "/people.csv", "--table", "people"],
            ["audience", "count", "--entity", "profiles", "--rule", "email = \"\(canary)\""],
            ["audience", "save", "Canary", "--entity", "profiles", "--rule", "email = \"\(canary)\""],
            ["campaign", "import", campaign], ["run", "Canary", "--dry-run"], ["runs"],
        ] {
            let result = try Herald.run(command + ["--db", db, "--log-file", logFile], environment: env)
            #expect(result.status == 0, "\(command): \(result.stderr)")
            output += result.stderr
        }
        let stderrRun = try Herald.run(
            ["audience", "count", "--entity", "profiles", "--rule", "email = \"\(canary)\"", "--db", db], environment: env)
        output += stderrRun.stderr
        let logged = try String(contentsOfFile: logFile, encoding: .utf8)
        #expect(logged.contains("import committed"))
        #expect(logged.contains("dry run started"))
        #expect(stderrRun.stderr.contains("counted an audience"))
        for text in [logged, output] {
            #expect(!text.contains("zq-canary"), "an address reached the logs")
            #expect(!text.contains("canary body"), "a message body reached the logs")
        }
    }
}
