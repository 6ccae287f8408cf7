import Foundation
import Testing

@Suite struct AudienceCLITests {
    @Test func countShowDistributionExplain() throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        let rule = "country in (\"FR\", \"DE\") and bookings.count(status = \"confirmed\") >= 2"
        let count = try Herald.run(["audience", "count", "--db", db, "--entity", "profiles", "--rule", rule, "--json"])
        #expect(count.status == 0, "\(count.stderr)")
        let n = try #require((try json(count.stdout) as? [String: Any])?["count"] as? Int)
        #expect(n > 0)
        let human = try Herald.run(["audience", "count", "--db", db, "--entity", "profiles", "--rule", rule])
        #expect(human.stdout.hasSuffix(" profiles\n"))
        let show = try Herald.run([
            "audience", "show", "--db", db, "--entity", "profiles", "--rule", rule, "--columns", "id,country,loyalty_memberships.tier",
            "--limit", "3", "--json",
        ])
        let rows = try #require((try json(show.stdout) as? [String: Any])?["rows"] as? [[String]])
        #expect(rows.count == 3)
        #expect(rows.allSatisfy { ["FR", "DE"].contains($0[1]) })
        let distribution = try Herald.run([
            "audience", "distribution", "--db", db, "--entity", "profiles", "--rule", rule, "--attribute", "country", "--json",
        ])
        let buckets = try #require((try json(distribution.stdout) as? [String: Any])?["buckets"] as? [[String: Any]])
        #expect(buckets.compactMap { $0["count"] as? Int }.reduce(0, +) == n)
        let explain = try Herald.run(["audience", "explain", "--db", db, "--entity", "profiles", "--rule", rule])
        #expect(explain.stdout.contains("plan:"))
        #expect(explain.stdout.contains("values: \"FR\", \"DE\", \"confirmed\", 2"))
    }

    /// Ctrl-C stops a long count or dry run mid-statement: exit 130, the run recorded as stopped.
    @Test func ctrlCStopsLongWork() throws {
        let scratch = Scratch()
        let db = try Herald.slowStoreCopy(in: scratch.path)
        let rule = Herald.slowRule
        let count = try Herald.run(
            ["audience", "count", "--db", db, "--entity", "nodes", "--rule", rule, "--time-limit", "300"],
            environment: Herald.slowEnvironment, interruptAfter: 3)
        #expect(count.status == 130, "\(count.stderr)")
        #expect(count.stderr == "herald: the query was cancelled\n")
        // An interrupted export to a file leaves neither the file nor its partial copy.
        let out = scratch.path + "/nodes.csv"
        let export = try Herald.run(
            ["audience", "export", "--db", db, "--entity", "nodes", "--rule", rule, "-o", out], environment: Herald.slowEnvironment,
            interruptAfter: 3)
        #expect(export.status == 130, "\(export.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out) && !FileManager.default.fileExists(atPath: out + ".partial"))

        let run = try Herald.run(["run", "Slow", "--dry-run", "--db", db], environment: Herald.slowEnvironment, interruptAfter: 3)
        #expect(run.status == 130, "\(run.stderr)")
        #expect(run.stderr.contains("stopped"))
        let runs = try Herald.run(["runs", "--campaign", "Slow", "--db", db, "--json"])
        let states = (try json(runs.stdout) as? [[String: Any]])?.compactMap { $0["state"] as? String }
        #expect(states == ["stopped"])
    }

    @Test func savedAudiencesLifecycle() throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        let save = try Herald.run([
            "audience", "save", "Dutch", "--db", db, "--entity", "profiles", "--rule", "country = \"NL\"", "--snapshot",
        ])
        #expect(save.status == 0, "\(save.stderr)")
        #expect(save.stdout.contains("saved snapshot audience 'Dutch'"))
        let list = try Herald.run(["audience", "list", "--db", db, "--json"])
        let names = (try json(list.stdout) as? [[String: Any]])?.compactMap { $0["name"] as? String }
        #expect(names?.contains("Dutch") == true && names?.contains("VIP travellers") == true)
        let export = try Herald.run(["audience", "export", "Dutch", "--db", db, "--columns", "email", "-o", scratch.path + "/dutch.csv"])
        #expect(export.status == 0, "\(export.stderr)")
        let imported = try Herald.run([
            "audience", "import", scratch.path + "/dutch.csv", "--name", "Dutch again", "--entity", "profiles", "--db", db,
        ])
        #expect(imported.status == 0, "\(imported.stderr)")
        let a = try Herald.run(["audience", "count", "Dutch", "--db", db, "--json"])
        let b = try Herald.run(["audience", "count", "Dutch again", "--db", db, "--json"])
        #expect((try json(a.stdout) as? [String: Any])?["count"] as? Int == (try json(b.stdout) as? [String: Any])?["count"] as? Int)
        let campaign = scratch.file(
            "uses.json",
            #"{"format": "herald.campaign/1", "name": "Uses Dutch", "nodes": [{"id": "a", "kind": "buildAudience", "entity": "profiles", "rule": "in_audience(\"Dutch\")"}], "edges": []}"#
        )
        #expect(try Herald.run(["campaign", "import", campaign, "--db", db]).status == 0)
        let delete = try Herald.run(["audience", "delete", "Dutch", "--db", db])
        #expect(delete.status == 2)
        #expect(delete.stderr.contains("is used by campaign 'Uses Dutch'"))
        #expect(try Herald.run(["audience", "delete", "Dutch again", "--db", db]).status == 0)
        let refresh = try Herald.run(["audience", "refresh", "VIP travellers", "--db", db])
        #expect(refresh.stdout.contains("refreshed 'VIP travellers'"))
    }

    @Test func tablesAlignWideCharactersByDisplayWidth() throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        let csv = scratch.file("offices.csv", "id,city,staff\n1,東京,12\n2,Lyon,7\n")
        #expect(try Herald.run(["import", csv, "--db", db, "--table", "offices"]).status == 0)
        let show = try Herald.run(["audience", "show", "--db", db, "--entity", "offices", "--rule", "true"])
        let lines = show.stdout.split(separator: "\n").map(String.init)
        // 東京 takes four cells: the staff column starts at the same cell on every line.
        func staffColumn(_ line: String) -> Int? {
            guard let r = line.range(of: line.hasPrefix("ID") ? "STAFF" : (line.contains("東京") ? "12" : "7")) else { return nil }
            return line[..<r.lowerBound].reduce(0) { $0 + (($1.unicodeScalars.first!.value >= 0x1100) ? 2 : 1) }
        }
        let columns = lines.compactMap(staffColumn)
        #expect(columns.count == 3 && Set(columns).count == 1, "\(show.stdout)")
    }

    @Test(arguments: [
        (
            ["audience", "count", "--entity", "profiles", "--rule", "contry = \"FR\""],
            "unknown attribute 'contry' on 'profiles'; did you mean 'country'?"
        ),
        (["audience", "count", "--entity", "profiles", "--rule", "country = "], "--rule: expected a value"),
        (["audience", "count", "--entity", "profile", "--rule", "true"], "unknown entity 'profile'; did you mean 'profiles'?"),
        (["audience", "count", "--entity", "profiles"], "--rule: write a rule"),
        (["audience", "count", "VIP travelers"], "no saved audience named 'VIP travelers'; did you mean 'VIP travellers'?"),
        (
            ["audience", "distribution", "--entity", "profiles", "--rule", "true", "--attribute", "contry"],
            "--attribute: unknown attribute 'contry'"
        ),
        (["audience", "show", "--entity", "profiles", "--rule", "true", "--columns", "id,emial"], "--columns: unknown attribute 'emial'"),
        (["audience", "count", "--entity", "profiles", "--rule", "true", "--time-limit", "0"], "--time-limit: expected a positive number"),
        (["audience", "save", "VIP travellers", "--entity", "profiles", "--rule", "true"], "already exists; use --replace"),
    ])
    func badAudienceInputExitsTwo(arguments: [String], message: String) throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        let result = try Herald.run(arguments + ["--db", db])
        #expect(result.status == 2, "\(result.stdout) \(result.stderr)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }
}
