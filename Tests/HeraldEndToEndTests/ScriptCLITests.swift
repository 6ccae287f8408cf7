import Foundation
import Testing

/// `herald script`: the interface driven by a script of keys, its screens printed as text.
@Suite struct ScriptCLITests {
    func write(_ text: String, in scratch: Scratch) throws -> String {
        let path = scratch.path + "/steps.txt"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func aLookingScriptPrintsScreensAndWritesNothing() throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        let script = try write(
            """
            # the list, then the welcome series' canvas
            screen
            press j j j enter
            screen
            """, in: scratch)
        let before = try Data(contentsOf: URL(fileURLWithPath: db))
        let result = try Herald.run(["script", script, "--db", db, "--width", "100", "--height", "30"])
        #expect(result.status == 0, "\(result.stderr)")
        let screens = result.stdout.components(separatedBy: " Herald  ")
        #expect(screens.count == 3, "two screens: \(result.stdout)")
        #expect(screens[1].contains("Welcome series"))
        #expect(screens[2].contains("New sign-ups"), "\(screens[2])")
        #expect(try Data(contentsOf: URL(fileURLWithPath: db)) == before)
    }

    @Test func anEditingScriptKeepsItsDraft() throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        // A new campaign with one Build audience, its entity picked from the catalog; no save.
        let script = try write(
            """
            press n
            type scratch
            press enter
            type Scripted
            press enter
            wait
            press A enter j j enter
            type profiles
            press enter w
            """, in: scratch)
        let result = try Herald.run(["script", script, "--db", db, "--ascii"], in: scratch.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Scripted (new)"), "\(result.stdout)")
        #expect(!result.stdout.contains("╭"), "ASCII glyphs only")
        let drafts = try Herald.sqlite(db, "SELECT name FROM herald_drafts").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(drafts == "Scripted")
    }

    @Test func aScriptThatDoesNotReadRunsNothing() throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        let before = try Data(contentsOf: URL(fileURLWithPath: db))
        for (text, message) in [
            ("press j\npress nokey\n", "script line 2: unknown key 'nokey'"),
            ("press n\njump 3\n", "script line 2: unknown step 'jump': expected press, type, wait, screen or resize"),
            ("resize 80\n", "script line 1: resize needs a width and a height"),
            ("type\n", "script line 1: type needs text"),
        ] {
            let result = try Herald.run(["script", try write(text, in: scratch), "--db", db])
            #expect(result.status == 2, "\(text)")
            #expect(result.stderr.contains(message), "\(result.stderr)")
            #expect(result.stdout.isEmpty)
        }
        let missing = try Herald.run(["script", scratch.path + "/none.txt", "--db", db])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("cannot be read"))
        let narrow = try Herald.run(["script", "-", "--db", db, "--width", "5"])
        #expect(narrow.status == 2)
        #expect(narrow.stderr.contains("--width: expected 20 to 1000 cells, found 5"), "\(narrow.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: db)) == before)
    }
}
