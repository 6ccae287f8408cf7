import Foundation
import Testing

/// Designing a campaign in a real terminal with keys only, from a store made of CSV files.
@Suite(.serialized) struct DesignerTests {
    /// A store with customers (the profile, with email and phone) and nothing else.
    func shop(_ scratch: Scratch) throws -> String {
        _ = scratch.file(
            "customers.csv",
            """
            customer_id,first_name,email,phone,country
            1,Ada,ada@example.com,+33612345678,FR
            2,Ben,ben@example.com,,DE
            3,Chloé,chloe@example.com,+33698765432,FR
            4,Dev,,+4915112345678,DE

            """)
        for arguments in [
            ["import", "customers.csv", "--db", "shop.db", "--table", "customers", "--key", "customer_id"],
            ["catalog", "profile", "customers", "--email", "email", "--phone", "phone", "--db", "shop.db"],
        ] {
            let result = try Herald.run(arguments, in: scratch.path)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
        }
        return scratch.path + "/shop.db"
    }

    /// Fills the form field on row `row` (0 is the label) with `text`, starting from the top.
    func fill(_ tmux: TmuxSession, row: Int, _ text: String) throws {
        try tmux.keys("g")  // no command in the form: harmless, and a fixed point for the eye
        for _ in 0..<12 { try tmux.keys("k") }
        for _ in 0..<row { try tmux.keys("j") }
        try tmux.keys("e", "C-u")  // e types the field, whatever its widget
        try tmux.keys("-l", text)
        try tmux.keys("C-s")
    }

    @Test func aCampaignDesignedWithKeysOnly() throws {
        let scratch = Scratch()
        let db = try shop(scratch)
        let tmux = try TmuxSession(width: 100, height: 32, arguments: [db], environment: ["LANG": "C.UTF-8"])
        try tmux.waitFor("No campaigns in this store")
        try tmux.keys("n")
        try tmux.waitFor("From scratch")
        try tmux.keys("Enter")
        try tmux.waitFor("Name of the new campaign")
        try tmux.keys("-l", "Spring welcome")
        try tmux.keys("Enter")
        try tmux.waitFor("An empty campaign")
        // Build audience, its rule typed in the rule language; the count appears as it is typed.
        try tmux.keys("A")
        try tmux.waitFor("Read audience")
        try tmux.keys("Enter")
        // The entity picked from the catalog's.
        try tmux.keys("j", "j", "Enter")
        try tmux.waitFor("entity of 'buildAudience'")
        try tmux.keys("-l", "cust")
        try tmux.keys("Enter")
        try fill(tmux, row: 3, "country = \"FR\"")
        try tmux.waitFor("2 customers match")
        // Then changed in the tree: a condition on the country from the catalog, and any of.
        try tmux.keys("t")
        try tmux.waitFor("Rule on customers")
        try tmux.keys("a")
        try tmux.waitFor("Condition on")
        try tmux.keys("-l", "country")
        try tmux.keys("Enter")
        try tmux.waitFor("country …")
        try tmux.keys("=", "Enter")
        try tmux.keys("-l", "DE")
        try tmux.keys("Enter")
        try tmux.waitFor("0 customers match")
        try tmux.keys("t")
        try tmux.waitFor("4 customers match")
        try tmux.keys("Escape")
        try tmux.keys("w")
        try tmux.waitFor("add Build audience")
        // Split 50/50 after it.
        try tmux.keys("a")
        try tmux.keys("-l", "split")
        try tmux.keys("Enter")
        try tmux.waitFor("New Split node")
        // Its subsets one by one in the list editor: a adds an item, w keeps it, Esc goes back.
        for _ in 0..<12 { try tmux.keys("k") }
        try tmux.keys("j", "j", "j", "Enter")
        try tmux.waitFor("no items yet")
        for label in ["A", "B"] {
            try tmux.keys("a")
            try tmux.waitFor("item of subsets")
            try fill(tmux, row: 0, label)
            try fill(tmux, row: 1, "50")
            try tmux.keys("w")
            try tmux.waitFor("\(label) · percent 50")
        }
        try tmux.keys("Escape")
        try tmux.waitFor("2 items: A · percent 50 | B · percent 50")
        try tmux.keys("w")
        try tmux.waitFor("add Split")
        // Wait 2 days on subset A, then an email.
        try tmux.keys("a")
        try tmux.keys("-l", "wait")
        try tmux.keys("Enter")
        try fill(tmux, row: 2, "2d")
        try tmux.keys("w")
        try tmux.waitFor("add Wait")
        try tmux.keys("a")
        try tmux.keys("-l", "email")
        try tmux.keys("Enter")
        try fill(tmux, row: 4, "Hello {{profile.first_name}}")
        try fill(tmux, row: 5, "Spring is here, {{profile.first_name}}.")
        try tmux.keys("w")
        try tmux.waitFor("add Email")
        // An SMS on subset B, with a field the catalog does not have.
        try tmux.keys("/")
        try tmux.keys("-l", "Split")
        try tmux.keys("Enter")
        // Subset A leads on already: Herald asks which port.
        try tmux.keys("a")
        try tmux.waitFor("Add after which port of 'Split'?")
        try tmux.waitFor("free: the new node ends this branch")
        try tmux.keys("-l", "subset2")
        try tmux.keys("Enter")
        try tmux.keys("-l", "sms")
        try tmux.keys("Enter")
        try fill(tmux, row: 4, "Hi {{profile.nickname}}")
        try tmux.waitFor("unknown attribute 'nickname'")
        try tmux.keys("w")
        try tmux.waitFor("add SMS")
        // Saving is refused; the panel names the problem and Enter goes to the node.
        try tmux.keys("w")
        try tmux.waitFor("not saved: 1 problem")
        try tmux.waitFor("nickname")
        try tmux.keys("Enter", "Enter")
        try tmux.waitFor("SMS 'sms'")
        try fill(tmux, row: 4, "Hi {{profile.first_name}}, spring offers inside")
        try tmux.waitFor("the node reads and validates")
        try tmux.keys("w")
        try tmux.keys("w")
        try tmux.waitFor("saved 'Spring welcome' as version 1")
        try tmux.keys("q")
        try tmux.waitFor("LAST RUN")
        try tmux.keys("Q")
        #expect(try tmux.waitFor("EXIT=").contains("EXIT=0"))
        // Reopened, the same graph; exported, the checked-in file.
        let again = try TmuxSession(width: 100, height: 32, arguments: [db], environment: ["LANG": "C.UTF-8"])
        try again.waitFor("Spring welcome")
        try again.keys("Enter")
        try again.waitFor("Spring welcome v1")
        try again.waitFor("SMS")
        try again.keys("Q")
        try again.waitFor("EXIT=0")
        let export = try Herald.run(["campaign", "export", "Spring welcome", "--db", db])
        #expect(export.status == 0, "\(export.stderr)")
        let fixture = Herald.root.appendingPathComponent("Tests/HeraldEndToEndTests/Fixtures/spring-welcome.json")
        if ProcessInfo.processInfo.environment["HERALD_RECORD"] == "1" { try Data(export.stdout.utf8).write(to: fixture) }
        #expect(export.stdout == (try String(contentsOf: fixture, encoding: .utf8)), "\(export.stdout)")
    }

    /// A hung-up terminal mid-edit leaves the draft; the next session offers it back.
    /// The interface on `db` in tmux, with the Welcome series opened from the list (Beach
    /// brochure, Departure reminder, Summer sale, then it).
    static func openWelcomeSeries(_ db: String) throws -> TmuxSession {
        let tmux = try TmuxSession(arguments: [db], environment: ["LANG": "C.UTF-8"])
        try tmux.waitFor("Welcome series")
        try tmux.keys("j", "j", "j", "Enter")
        return tmux
    }

    @Test func aDroppedConnectionLeavesTheDraftOfferedBack() throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        let tmux = try Self.openWelcomeSeries(db)
        try tmux.waitFor("New sign-ups")
        try tmux.keys("n", "C-u")
        try tmux.keys("-l", "October sign-ups")
        try tmux.keys("Enter")
        try tmux.waitFor("[modified]")
        try tmux.signalHerald("HUP")
        #expect(try tmux.waitFor("EXIT=").contains("EXIT=129"))
        #expect(try Herald.sqlite(db, "SELECT count(*) FROM herald_drafts").trimmingCharacters(in: .whitespacesAndNewlines) == "1")
        let again = try Self.openWelcomeSeries(db)
        try again.waitFor("Take them back?")
        try again.keys("r")
        let screen = try again.waitFor("October sign-ups")
        #expect(screen.contains("[modified]"))
        try again.keys("w")
        try again.waitFor("saved 'Welcome series' as version 2")
        #expect(try Herald.sqlite(db, "SELECT count(*) FROM herald_drafts").trimmingCharacters(in: .whitespacesAndNewlines) == "0")
        try again.keys("Q")
        try again.waitFor("EXIT=0")
    }

    /// A hang-up with a node form open keeps what was typed in it, not yet applied.
    @Test func aDroppedConnectionKeepsAnOpenFormsValues() throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        let tmux = try Self.openWelcomeSeries(db)
        try tmux.waitFor("New sign-ups")
        try tmux.keys("Enter")  // the form of the selected node, New sign-ups
        try tmux.waitFor("the name shown on the canvas")
        try tmux.keys("e", "C-u")
        try tmux.keys("-l", "Typed, not applied")
        try tmux.waitFor("Typed, not applied")
        try tmux.signalHerald("HUP")
        #expect(try tmux.waitFor("EXIT=").contains("EXIT=129"))
        #expect(try Herald.sqlite(db, "SELECT count(*) FROM herald_drafts WHERE document LIKE '%Typed, not applied%'") == "1")
    }

    /// A form whose fields make no node yet (a rule half typed) is kept as typed, and reopened
    /// when the draft is taken back.
    @Test func aDroppedConnectionKeepsAHalfTypedForm() throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        let tmux = try Self.openWelcomeSeries(db)
        try tmux.waitFor("New sign-ups")
        try tmux.keys("Enter")
        try tmux.waitFor("the name shown on the canvas")
        try tmux.keys("j", "j", "j")  // label, note, entity, rule
        try tmux.waitFor("a rule, e.g.")
        try tmux.keys("e", "C-u")
        try tmux.keys("-l", "country = \"FR\" and (")
        try tmux.waitFor("and (")
        try tmux.signalHerald("HUP")
        #expect(try tmux.waitFor("EXIT=").contains("EXIT=129"))
        #expect(try Herald.sqlite(db, "SELECT count(*) FROM herald_drafts WHERE form LIKE '%and (%'") == "1")
        let again = try Self.openWelcomeSeries(db)
        try again.waitFor("Take them back?")
        try again.keys("r")
        let screen = try again.waitFor("the form that was open")
        #expect(screen.contains("country = \"FR\" and ("), "\(screen)")
        try again.keys("Q")
    }
}
