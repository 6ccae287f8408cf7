import Foundation
import HeraldCore
import HeraldEngine
import HeraldStore
import HeraldTUI
import Testing

/// Designing campaigns with keys only, on a copy of sample.db, through the same reducer, views
/// and effect interpreter as the terminal.
@Suite struct EditingSessionTests {
    func session() throws -> (HeadlessSession, Store, String) {
        let (store, folder) = try HeadlessTests.sampleCopy()
        let session = HeadlessSession(store: store, width: 100, height: 30)
        #expect(session.waitUntilIdle())
        return (session, store, folder)
    }

    /// Fills the form field named `name` of the form on top with `text`.
    func fill(_ session: HeadlessSession, _ name: String, _ text: String) throws {
        guard case .nodeForm(let form) = session.state.modes.last else {
            Issue.record("no node form open: \(session.state.modes)")
            return
        }
        let index = try #require(form.rows.firstIndex { $0.name == name }, "no field \(name)")
        for _ in 0..<form.rows.count { session.press(.char("k")) }
        for _ in 0..<index { session.press(.char("j")) }
        session.press(.char("e"), .ctrl("u"))
        session.type(text)
        session.press(.ctrl("s"))
    }

    /// n → From scratch → name; A → Build audience; a → Email; w saves; reopening shows it.
    @Test func aCampaignFromScratch() throws {
        let (session, store, folder) = try session()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        session.press(.char("n"))
        session.type("scratch")  // filters the menu to "From scratch"
        session.press(.enter)
        #expect(session.state.modes.last.map { if case .prompt = $0 { true } else { false } } == true)
        session.type("French welcome")  // q and j are text here, not commands
        session.press(.enter)
        #expect(session.waitUntilIdle())
        #expect(session.state.screen == .canvas)
        #expect(session.screen().contains("An empty campaign"))
        // The first node: a Build audience.
        session.press(.char("A"))
        session.type("build")
        session.press(.enter)
        try fill(session, "entity", "profiles")
        try fill(session, "rule", "country = \"FR\" and email is not empty")
        guard case .nodeForm(let form) = session.state.modes.last else { Issue.record("form closed"); return }
        #expect(form.messages.isEmpty, "\(form.messages)")
        session.press(.char("w"))
        #expect(session.state.modes.isEmpty)
        #expect(session.state.canvas?.draft.nodes.map(\.id) == ["buildAudience"])
        // An email after it, with a field the catalog does not know: the form says so.
        session.press(.char("a"))
        session.type("email")
        session.press(.enter)
        try fill(session, "subject", "Bonjour {{profile.nickname}}")
        try fill(session, "text", "Bienvenue")
        guard case .nodeForm(let email) = session.state.modes.last else { Issue.record("form closed"); return }
        #expect(email.messages.contains { $0.contains("nickname") }, "\(email.messages)")
        try fill(session, "subject", "Bonjour {{profile.first_name}}")
        guard case .nodeForm(let fixed) = session.state.modes.last else { Issue.record("form closed"); return }
        #expect(fixed.messages.isEmpty, "\(fixed.messages)")
        session.press(.char("w"))
        let draft = try #require(session.state.canvas?.draft)
        #expect(draft.edges == [Edge(from: "buildAudience", to: "email")])
        // Kept in the store after every edit, before any save.
        #expect(session.waitUntilIdle())
        #expect(try store.newCampaignDrafts().map(\.campaign) == [draft])
        session.press(.char("w"))
        #expect(session.waitUntilIdle())
        #expect(session.state.status == "saved 'French welcome' as version 1", "\(session.state.status)")
        #expect(try store.loadCampaign("French welcome").campaign == draft)
        #expect(try store.newCampaignDrafts().isEmpty)
        // Back to the list and open it again: the same graph.
        session.press(.char("q"))
        #expect(session.waitUntilIdle())
        #expect(session.state.screen == .campaignList)
        #expect(session.screen().contains("French welcome"))
        session.close()
    }

    /// Adding, renaming, deleting and undoing all of it, back to the saved version.
    @Test func undoAndRedoEveryEdit() throws {
        let (session, _, folder) = try session()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try open(session, "Welcome series")
        let saved = try #require(session.state.canvas?.draft)
        let layout = try #require(session.state.canvas?.layout)
        // Insert a Wait after the welcome email (its out port leads to the 3-day wait).
        session.press(.char("j"))
        #expect(session.state.canvas?.selected == "welcome")
        session.press(.char("a"))
        session.type("wait")
        session.press(.enter)
        try fill(session, "duration", "1h")
        session.press(.char("w"))
        let added = try #require(session.state.canvas?.draft)
        #expect(added.outbound("welcome").map(\.to) == ["wait2"])
        #expect(added.outbound("wait2").map(\.to) == ["wait"])
        // Adding a node moves no other box of the layout's first layers.
        #expect(session.state.canvas?.layout.boxes["signups"] == layout.boxes["signups"])
        // Rename it, then delete it: the neighbours are bridged again.
        session.press(.char("n"), .ctrl("u"))
        session.type("One hour")
        session.press(.enter)
        #expect(session.state.canvas?.draft.node("wait2")?.label == "One hour")
        session.press(.char("d"), .char("y"))
        #expect(session.state.canvas?.draft.node("wait2") == nil)
        #expect(session.state.canvas?.draft.outbound("welcome").map(\.to) == ["wait"])
        // Three undos take it back to as saved; redo brings the rename back.
        session.press(.char("u"), .char("u"))
        #expect(session.state.canvas?.draft.node("wait2")?.label == "Wait")
        session.press(.char("u"))
        #expect(session.state.canvas?.draft == saved)
        #expect(session.state.canvas?.isDirty == false)
        session.press(.ctrl("r"), .ctrl("r"))
        #expect(session.state.canvas?.draft.node("wait2")?.label == "One hour")
        session.close()
    }

    /// Saving a draft with problems is refused and opens the panel; Enter goes to the node.
    @Test func savingIsRefusedWhileTheDraftHasProblems() throws {
        let (session, store, folder) = try session()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try open(session, "Welcome series")
        session.press(.char("j"))  // the welcome email
        session.press(.char("X"))  // its transition to the wait goes: the wait has no inbound
        session.press(.char("w"))
        guard case .problems = session.state.modes.last else {
            Issue.record("no problems panel: \(session.state.modes) \(session.state.status)")
            return
        }
        #expect(session.state.status.hasPrefix("not saved: 1 problem"), "\(session.state.status)")
        #expect(session.screen().contains("nothing leads to this Wait node"), "\(session.screen())")
        session.press(.enter)
        #expect(session.state.canvas?.selected == "wait")
        // Connect the email back to the wait: c, move to the wait, Enter.
        select(session, "Welcome email")
        #expect(session.state.canvas?.selected == "welcome")
        session.press(.char("c"), .char("/"))
        session.type("Wait 3")
        session.press(.enter)
        #expect(session.state.canvas?.problems == [])
        let saved = try store.loadCampaign("Welcome series")
        #expect(saved.version == 1)  // nothing was saved
        #expect(Set(session.state.canvas?.draft.edges ?? []) == Set(saved.campaign.edges))
        session.press(.char("w"))
        #expect(session.waitUntilIdle())
        #expect(try store.loadCampaign("Welcome series").version == 2)
        session.close()
    }

    /// Leaving with unsaved changes asks; a new session finds the kept draft and offers it back.
    @Test func unsavedEditsAreKeptAndOfferedBack() throws {
        let (session, store, folder) = try session()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try open(session, "Welcome series")
        session.press(.char("n"), .ctrl("u"))
        session.type("Sign-ups since October")
        session.press(.enter)
        #expect(session.waitUntilIdle())
        session.press(.char("q"))
        guard case .confirm(let question) = session.state.modes.last else { Issue.record("did not ask"); return }
        #expect(question.choices.map(\.key) == ["s", "d", "c"])
        session.press(.char("c"))  // cancel: still on the canvas with the edit
        #expect(session.state.screen == .canvas && session.state.canvas?.isDirty == true)
        // As if the connection dropped here: a second session on the same file.
        let again = HeadlessSession(store: try Store.open(path: store.path), width: 100, height: 30)
        #expect(again.waitUntilIdle())
        try open(again, "Welcome series")
        guard case .confirm(let offer) = again.state.modes.last else { Issue.record("no draft offered: \(again.state.modes)"); return }
        #expect(offer.question.contains("Unsaved edits"))
        again.press(.char("r"))
        #expect(again.state.canvas?.draft.node("signups")?.label == "Sign-ups since October")
        #expect(again.state.canvas?.isDirty == true)
        session.close()
        again.close()
    }

    /// Picks the entry for `key` from the recipient menu on top.
    func pick(_ session: HeadlessSession, key: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        guard case .menu(let menu) = session.state.modes.last, case .previewRecipient = menu.purpose else {
            Issue.record("no recipient menu: \(session.state.modes.last.map { "\($0)" } ?? "")", sourceLocation: sourceLocation)
            return
        }
        let index = try #require(menu.items.firstIndex { $0.value == .text(key) }, "no entry for \(key)", sourceLocation: sourceLocation)
        for _ in 0..<index { session.press(.down) }
        session.press(.enter)
        #expect(session.waitUntilIdle())
    }

    /// A profile is found by name or address, and a message per booking is previewed for one
    /// of that profile's bookings, picked from its own.
    @Test func aRecipientIsFoundByNameAndAPerBookingMessageByItsBooking() throws {
        let (session, store, folder) = try session()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // A profile with a booking, and its name.
        let row = try #require(
            try AudienceService(store: store).sample(
                AudienceSource(entity: "bookings", rule: .all), columns: ["id", "profile_id", "profile.last_name"], limit: 1
            ).rows.first)
        let (booking, profile, name) = (row[0], row[1], row[2])
        try open(session, "Departure reminder")
        select(session, "Trip reminder")
        session.press(.enter, .char("p"))
        session.type(name + "\n")
        #expect(session.waitUntilIdle())
        guard case .menu(let profiles) = session.state.modes.last else {
            Issue.record("no menu of profiles: \(session.screen())")
            return
        }
        #expect(profiles.items.contains { $0.value == .text(profile) && $0.title.contains(name) }, "\(profiles.items)")
        try pick(session, key: profile)
        // Then the profile's bookings, one of which is picked.
        guard case .menu(let bookings) = session.state.modes.last else {
            Issue.record("no menu of bookings: \(session.screen())")
            return
        }
        #expect(bookings.title.contains("bookings of profile \(profile)"))
        try pick(session, key: booking)
        guard case .preview(let preview) = session.state.modes.last, case .success = preview.result else {
            Issue.record("no preview: \(session.state.modes.last.map { "\($0)" } ?? "")")
            return
        }
        #expect(preview.recipient == "profile \(profile), row \(booking)")
        session.close()
    }

    /// p in a message's form renders it for a profile, with the values being edited.
    @Test func theFormPreviewsTheMessage() throws {
        let (session, store, folder) = try session()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try open(session, "Welcome series")
        select(session, "Welcome email")
        session.press(.enter)
        try fill(session, "subject", "Hi {{profile.first_name}} & co")
        session.press(.char("p"))
        session.type("1\n")
        #expect(session.waitUntilIdle())
        try pick(session, key: "1")
        guard case .preview(let preview) = session.state.modes.last, case .success(let message) = preview.result else {
            Issue.record("no preview: \(session.state.modes.last.map { "\($0)" } ?? "")")
            return
        }
        let name = try #require(
            try AudienceService(store: store).sample(
                AudienceSource(entity: "profiles", rule: try Rule(parsing: "id = 1")), columns: ["first_name"], limit: 1
            ).rows.first?.first)
        #expect(message.fields.first?.text == "Hi \(name) & co")
        #expect(session.screen().contains("Hi \(name) & co"))
        session.press(.escape)
        guard case .nodeForm = session.state.modes.last else { Issue.record("the form is gone"); return }
        // Again: the prompt starts empty, offering the last key for Enter alone.
        session.press(.char("p"))
        guard case .prompt(let again) = session.state.modes.last else { Issue.record("no prompt"); return }
        #expect(again.buffer.text.isEmpty && again.title.contains("Enter: 1 again"), "\(again.title)")
        session.press(.enter)
        #expect(session.waitUntilIdle())
        try pick(session, key: "1")
        guard case .preview(let second) = session.state.modes.last, case .success = second.result else {
            Issue.record("no second preview")
            return
        }
        session.press(.escape)
        session.close()
    }

    /// s in a preview sends it as a proof through the configured provider (here the outbox),
    /// marked as one, and records nothing.
    @Test func aPreviewIsSentAsAProof() throws {
        let (store, folder) = try HeadlessTests.sampleCopy()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let config = folder + "/herald.toml"
        try "[outbox]\ndirectory = \"proofs\"\n".write(toFile: config, atomically: true, encoding: .utf8)
        let session = HeadlessSession(store: store, width: 100, height: 30, deliveryConfig: config)
        #expect(session.waitUntilIdle())
        let messages = try store.ledger.messages(MessageFilter(limit: 100_000)).count
        try open(session, "Welcome series")
        select(session, "Welcome email")
        session.press(.enter, .char("p"))
        session.type("1\n")
        #expect(session.waitUntilIdle())
        try pick(session, key: "1")
        session.press(.char("s"))
        guard case .prompt(let prompt) = session.state.modes.last, case .proofAddress = prompt.purpose else {
            Issue.record("no address prompt: \(session.state.modes.last.map { "\($0)" } ?? "")")
            return
        }
        session.type("not an address\n")
        #expect(session.waitUntilIdle())
        #expect(session.state.status.contains("proof not sent"), "\(session.state.status)")
        session.press(.char("s"))
        session.type("proof@example.org\n")
        #expect(session.waitUntilIdle())
        #expect(session.state.status.hasPrefix("proof of"), "\(session.state.status)")
        let sent = folder + "/proofs/email/run-0"
        let files = try FileManager.default.contentsOfDirectory(atPath: sent)
        #expect(files.count == 1)
        let mime = try String(contentsOfFile: sent + "/" + (files.first ?? ""), encoding: .utf8)
        #expect(mime.contains("To: proof@example.org") && mime.contains("Subject: [Proof] "), "\(mime.prefix(400))")
        #expect(try store.ledger.messages(MessageFilter(limit: 100_000)).count == messages)
        session.close()
    }

    /// A preview's errors speak the interface's words, not the command line's flags.
    @Test func aPreviewErrorSpeaksTheInterfacesWords() throws {
        let (session, _, folder) = try session()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try open(session, "Welcome series")
        select(session, "Welcome email")
        session.press(.enter, .char("p"))
        session.type("999999999\n")
        #expect(session.waitUntilIdle())
        let screen = session.screen()
        #expect(screen.contains("no profile's name, address or key matches '999999999'"), "\(screen)")
        #expect(!screen.contains("--profile") && !screen.contains("--entity"))
        session.close()
    }

    /// s opens the settings: the time zone from a searchable list, variables as JSON (refused
    /// until they read), and the schedule with its next launches shown as it is typed.
    @Test func campaignSettings() throws {
        let (session, store, folder) = try session()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try open(session, "Win-back")
        session.press(.char("s"))
        session.type("time")
        session.press(.enter)
        session.type("tokyo")
        session.press(.enter)
        #expect(session.state.canvas?.draft.timeZone == "Asia/Tokyo")
        session.press(.char("s"))
        session.type("variables\n")
        session.press(.ctrl("u"))
        session.type("{\"minimum\": [1]}\n")
        guard case .prompt(let refused) = session.state.modes.last else { Issue.record("the prompt closed"); return }
        #expect(refused.error?.contains("variables.minimum: expected a number, text or true/false") == true, "\(refused.error ?? "")")
        session.press(.ctrl("u"))
        session.type("{\"minimum\": 18}\n")
        #expect(session.state.canvas?.draft.variables.map(\.0) == ["minimum"])
        session.press(.char("s"))
        session.type("schedule\n")
        session.press(.ctrl("u"))
        session.type("daily at 09:")
        guard case .prompt(let partial) = session.state.modes.last else { Issue.record("no schedule prompt"); return }
        #expect(!(partial.detail.first ?? "").hasPrefix("next launches"), "\(partial.detail)")
        session.type("30")
        guard case .prompt(let typed) = session.state.modes.last else { Issue.record("no schedule prompt"); return }
        #expect(typed.detail.count == 6 && typed.detail[1].hasSuffix("T09:30:00+09:00"), "\(typed.detail)")
        session.press(.enter)
        #expect(session.waitUntilIdle())
        let stored = try #require(try store.schedule(campaignID: try store.loadCampaign("Win-back").id))
        #expect(stored.schedule.text == "daily at 09:30" && stored.timeZone == "Asia/Tokyo")
        #expect(session.state.canvas?.schedule == stored)
        session.close()
    }

    /// E exports the selected campaign to a file (never over one), I imports a file back after
    /// validating it, refusing a name that is taken.
    @Test func exportAndImportFiles() throws {
        let (session, store, folder) = try session()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let index = try #require(session.state.campaigns.firstIndex { $0.name == "Win-back" })
        session.press(.char("g"))
        for _ in 0..<index { session.press(.char("j")) }
        let file = folder + "/win-back.json"
        session.press(.char("E"), .ctrl("u"))
        session.type(file + "\n")
        #expect(session.waitUntilIdle())
        let exported = try String(contentsOfFile: file, encoding: .utf8)
        #expect(exported == CampaignFormat.encodeText(try store.loadCampaign("Win-back").campaign))
        // Again: the file exists, so the prompt refuses.
        session.press(.char("E"), .ctrl("u"))
        session.type(file + "\n")
        guard case .prompt(let refused) = session.state.modes.last else { Issue.record("no refusal"); return }
        #expect(refused.error?.contains("exists already") == true)
        session.press(.escape)
        // Importing it as it is: the name is taken.
        session.press(.char("I"))
        session.type(file + "\n")
        #expect(session.waitUntilIdle())
        #expect(session.state.status.contains("a campaign named 'Win-back' exists"), "\(session.state.status)")
        try exported.replacingOccurrences(of: "\"Win-back\"", with: "\"Win-back copy\"").write(
            toFile: file, atomically: true, encoding: .utf8)
        session.press(.char("I"))
        session.type(file + "\n")
        #expect(session.waitUntilIdle())
        #expect(session.state.status == "imported 'Win-back copy' (version 1)", "\(session.state.status)")
        #expect(session.state.campaigns.contains { $0.name == "Win-back copy" })
        session.close()
    }

    /// Selects the node labelled `label` with / and its name.
    func select(_ session: HeadlessSession, _ label: String) {
        session.press(.char("/"))
        session.type(label)
        session.press(.enter)
    }

    func open(_ session: HeadlessSession, _ name: String) throws {
        let index = try #require(session.state.campaigns.firstIndex { $0.name == name })
        session.press(.char("g"))
        for _ in 0..<index { session.press(.char("j")) }
        session.press(.enter)
        #expect(session.waitUntilIdle())
        #expect(session.state.canvas?.draft.name == name)
    }
}
