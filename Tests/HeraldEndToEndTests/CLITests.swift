import Foundation
import Testing

@Suite struct CLITests {
    @Test func campaignListAndCatalogAsJSON() throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        let list = try Herald.run(["campaign", "list", "--db", db, "--json"])
        #expect(list.status == 0, "\(list.stderr)")
        let campaigns = try #require(try json(list.stdout) as? [[String: Any]])
        #expect(
            campaigns.compactMap { $0["name"] as? String } == [
                "Beach brochure", "Departure reminder", "Summer sale", "Welcome series", "Win-back",
            ])
        let catalog = try Herald.run(["catalog", "--db", db, "--json"])
        let object = try #require(try json(catalog.stdout) as? [String: Any])
        #expect(object["profileEntity"] as? String == "profiles")
        let names = (object["entities"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
        #expect(names == ["bookings", "destinations", "loyalty_memberships", "profiles"])
        let human = try Herald.run(["catalog", "--db", db])
        #expect(human.stdout.contains("→ bookings  1-N bookings  (profiles.id = bookings.profile_id)"))
    }

    @Test func dryRunPrintsCountsPerNode() throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        let result = try Herald.run(["run", "Win-back", "--db", db, "--dry-run", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try json(result.stdout) as? [String: Any])
        let transitions = try #require(object["transitions"] as? [[String: Any]])
        let counts = Dictionary(uniqueKeysWithValues: transitions.map { ("\($0["from"]!).\($0["port"]!)", $0["count"] as! Int) })
        #expect(counts["lapsed.out"] == counts["tier.subset1"]! + counts["tier.complement"]!)
        #expect(counts["lapsed.out"]! > 0)
        let text = try Herald.run(["run", "Win-back", "--db", db, "--dry-run"])
        #expect(text.stdout.contains("Members \(grouped(counts["tier.subset1"]!))"))
        let runs = try Herald.run(["runs", "--db", db, "--json"])
        #expect((try json(runs.stdout) as? [Any])?.count == 2)
    }

    func grouped(_ n: Int) -> String {
        let f = NumberFormatter()
        f.numberStyle = .decimal
        f.groupingSeparator = ","
        f.usesGroupingSeparator = true
        return f.string(from: NSNumber(value: n))!
    }

    @Test func exportImportRoundTrip() throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        let exported = try Herald.run(["campaign", "export", "Welcome series", "--db", db])
        #expect(exported.status == 0)
        let file = scratch.file("welcome.json", exported.stdout)
        let again = try Herald.run(["campaign", "import", file, "--db", db])
        #expect(again.status == 2)
        #expect(again.stderr.contains("already exists; use --replace"))
        let replaced = try Herald.run(["campaign", "import", file, "--db", db, "--replace", "--json"])
        #expect(replaced.status == 0, "\(replaced.stderr)")
        #expect((try json(replaced.stdout) as? [String: Any])?["version"] as? Int == 2)
        #expect(try Herald.run(["campaign", "export", "Welcome series", "--db", db]).stdout == exported.stdout)
        // Examples/ is the demo's source (embedded when Herald is built) and holds each campaign
        // in its canonical form: exactly what sample.db's campaign exports as.
        let folder = Herald.root.appendingPathComponent("Examples")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") }.sorted()
        #expect(files.count == 5)
        for file in files {
            let shipped = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            let name = try #require((try json(shipped) as? [String: Any])?["name"] as? String)
            let fresh = try Herald.run(["campaign", "export", name, "--db", db])
            #expect(fresh.status == 0, "Examples/\(file): \(fresh.stderr)")
            #expect(shipped == fresh.stdout, "Examples/\(file) must match '\(name)' in sample.db")
        }
    }

    @Test(arguments: [
        (["campaign", "show", "Welcom"], "no campaign named 'Welcom'; did you mean 'Welcome series'?"),
        (["run", "Win-back"], "choose --dry-run (count every node, send nothing) or --live"),
        (["run", "Win-back", "--dry-run", "--live"], "--dry-run and --live: choose one"),
        (["runs", "retry", "1"], "no run with id 1"),
        (["runs", "restart", "abc"], "abc"),
        (["campaign", "list", "--frobnicate"], "Unknown option '--frobnicate'"),
        (["catalog", "hide", "profiles.emial"], "did you mean 'email'?"),
        (["import", "missing.csv", "--table", "t"], "file: missing.csv does not exist"),
        (["import", "DIR", "--table", "t"], "is a directory; give the path of a CSV file"),
        (["runs", "99999"], "no run with id 99999"),
        (
            ["import", "BAD", "--table", "things", "--type", "n=integer"],
            "bad.csv:3:2 (column 'n'): expected an integer, found 'x'; nothing was imported"
        ),
        (["demo", "--out", "DB"], "already exists; add --force"),
        (["demo", "--out", "x.db", "--profiles", "0"], "--profiles: expected a number from 1 to 50000000"),
        (["import", "BAD", "--table", "things", "--type", "n=number"], "--type: expected COLUMN=TYPE"),
    ])
    func badInputExitsTwoWithAClearMessage(arguments: [String], message: String) throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        let bad = scratch.file("bad.csv", "id,n\n1,2\n2,x\n")
        let args = arguments.map { $0 == "BAD" ? bad : $0 == "DB" ? db : $0 == "DIR" ? scratch.path : $0 }
        let result = try Herald.run(args + (args.first == "demo" ? [] : ["--db", db]), in: scratch.path)
        #expect(result.status == 2, "\(args): \(result.stdout) \(result.stderr)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }

    @Test func renameArchiveAndDeleteCampaigns() throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        func herald(_ arguments: String...) throws -> Herald.Result { try Herald.run(arguments + ["--db", db]) }
        #expect(try herald("campaign", "rename", "Win-back", "Come back").stdout == "renamed 'Win-back' to 'Come back'\n")
        #expect(try herald("campaign", "show", "Win-back").status == 2)
        #expect(try herald("run", "Come back", "--dry-run").status == 0)
        #expect(try herald("campaign", "archive", "Come back").status == 0)
        #expect(!(try herald("campaign", "list").stdout.contains("Come back")))
        #expect(try herald("campaign", "list", "--archived").stdout.contains("Come back (archived)"))
        let refused = try herald("run", "Come back", "--dry-run")
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("is archived; restore it with 'herald campaign unarchive'"))
        #expect(try herald("campaign", "unarchive", "Come back").status == 0)
        let withRuns = try herald("campaign", "delete", "Come back")
        #expect(withRuns.status == 2)
        #expect(withRuns.stderr.contains("has 1 run; add --yes"))
        #expect(try herald("campaign", "delete", "Come back", "--yes").stdout == "deleted 'Come back' and its 1 run\n")
        #expect(try herald("campaign", "list", "--archived").stdout.contains("Come back") == false)
        // Beach brochure's End node starts Departure reminder: a rename carries it along, a deletion is refused.
        #expect(
            try herald("campaign", "rename", "Departure reminder", "Reminder").stdout
                == "renamed 'Departure reminder' to 'Reminder'; 'Beach brochure' starts it and follows\n")
        #expect(try herald("campaign", "export", "Beach brochure").stdout.contains("\"start\": \"Reminder\""))
        let started = try herald("campaign", "delete", "Reminder")
        #expect(started.status == 2 && started.stderr.contains("is started by 'Beach brochure'"), "\(started.stderr)")
        #expect(try herald("campaign", "delete", "Summer sale").stdout == "deleted 'Summer sale'\n")
    }

    @Test func storesThatAreNotSQLiteAreRefusedAndKept() throws {
        let scratch = Scratch()
        let notes = scratch.file("notes.txt", "not a database\n")
        let result = try Herald.run(["campaign", "list", "--db", notes])
        #expect(result.status == 2)
        #expect(result.stderr.contains("is not a SQLite database"))
        #expect(try String(contentsOfFile: notes, encoding: .utf8) == "not a database\n")
        let missing = try Herald.run(["campaign", "list", "--db", scratch.path + "/nothing.db"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("no store at"))
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/nothing.db"))
    }

    @Test func validateListsEveryProblem() throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        let file = scratch.file(
            "broken.json",
            """
            {"format": "herald.campaign/1", "name": "Broken", "nodes": [
              {"id": "a", "kind": "buildAudience", "entity": "profiles", "rule": "contry = \\"FR\\""},
              {"id": "m", "kind": "email", "subject": ""}
            ], "edges": [{"from": "a", "to": "m"}, {"from": "a", "to": "m"}]}
            """)
        let result = try Herald.run(["campaign", "validate", file, "--db", db])
        #expect(result.status == 2)
        #expect(result.stderr.contains("'Broken' has 5 problems"), "\(result.stderr)")
        #expect(result.stderr.contains("node 'a', rule: unknown attribute 'contry' on 'profiles'; did you mean 'country'?"))
        #expect(result.stderr.contains("node 'm', subject: the Email content needs 'subject'"))
        let stored = try Herald.run(["campaign", "validate", "Win-back", "--db", db])
        #expect(stored.status == 0)
        #expect(stored.stdout.contains("'Win-back' is valid"))
    }

    @Test func themesAreListedAndChecked() throws {
        let list = try Herald.run(["theme", "list"], in: Herald.root.path)
        #expect(list.stdout.contains("default  dark  rounded lines"))
        let check = try Herald.run(["theme", "check"], in: Herald.root.path)
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.stdout.contains("mono: ok"))
        let scratch = Scratch()
        _ = scratch.file("odd.toml", "[styles]\n\"ui.text\" = \"nowhere\"\n")
        let odd = try Herald.run(["theme", "check", "odd"], environment: ["HERALD_THEMES": scratch.path])
        #expect(odd.status == 2)
        #expect(odd.stderr.contains("'nowhere' is neither a palette name, a colour nor an attribute"))
        // A file by its path, with a bad colour and an unknown key.
        let file = scratch.file("mine.toml", "[palette]\nfg = \"#12345\"\n[glyphs]\nset = \"rounded\"\nshape = 1\n")
        let checked = try Herald.run(["theme", "check", file])
        #expect(checked.status == 2)
        #expect(checked.stderr.contains("palette.fg: '#12345' is not a colour"), "\(checked.stderr)")
        #expect(checked.stderr.contains("unknown key glyphs.shape"), "\(checked.stderr)")
        let missing = try Herald.run(["theme", "check", scratch.path + "/none.toml"])
        #expect(missing.status == 2 && missing.stderr.contains("cannot be read"))
    }

    @Test func importCreatesATableTheCatalogSees() throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        let csv = scratch.file("reviews.csv", "id,profile_id,stars,written_on\n1,1,5,2026-10-02\n2,2,3,2026-10-05\n")
        let result = try Herald.run(["import", csv, "--db", db, "--table", "reviews", "--ref", "profile_id=profiles"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("created table reviews: 2 rows inserted, 0 updated, 0 deleted"))
        let catalog = try Herald.run(["catalog", "--db", db])
        #expect(catalog.stdout.contains("→ profile  N-1 profiles  (reviews.profile_id = profiles.id)  declared"))
        #expect(catalog.stdout.contains("written_on"))
    }
}
