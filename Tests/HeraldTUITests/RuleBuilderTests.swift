import Foundation
import HeraldCore
import HeraldEngine
import HeraldStore
import HeraldTUI
import Testing

/// The rule as a tree: rows, insertion, negation, deletion, and the rule it stands for.
@Suite struct RuleTreeTests {
    let rule = try! Rule(parsing: "country = \"FR\" and (age > 30 or vip = true)")

    @Test func rowsFollowTheTree() {
        let rows = RuleTree.rows(RuleTree.root(rule))
        #expect(rows.map(\.path) == [[], [0], [1], [1, 0], [1, 1]])
        #expect(rows.map(RuleTree.label) == ["all of these", "country = \"FR\"", "any of these", "age > 30", "vip = true"])
        // A lone condition gets a root group, and reads back alone.
        let single = RuleTree.root(try! Rule(parsing: "age > 3"))
        #expect(RuleTree.rows(single).count == 2)
        #expect(RuleTree.simplified(single).text == "age > 3")
    }

    @Test func insertingGoesInsideAGroupOrAfterACondition() throws {
        let root = RuleTree.root(rule)
        let extra = try Rule(parsing: "city = \"Lyon\"")
        let (afterFirst, at) = try #require(RuleTree.inserting(extra, in: root, at: [0]))
        #expect(at == [1])
        #expect(RuleTree.simplified(afterFirst).text == "country = \"FR\" and city = \"Lyon\" and (age > 30 or vip = true)")
        let (inGroup, at2) = try #require(RuleTree.inserting(extra, in: root, at: [1]))
        #expect(at2 == [1, 2])
        #expect(RuleTree.simplified(inGroup).text == "country = \"FR\" and (age > 30 or vip = true or city = \"Lyon\")")
    }

    @Test func negatingAndDeleting() throws {
        let root = RuleTree.root(rule)
        let negated = try #require(RuleTree.updating(root, [1, 0]) { .not($0) })
        #expect(RuleTree.simplified(negated).text == "country = \"FR\" and (not age > 30 or vip = true)")
        let back = try #require(RuleTree.updating(negated, [1, 0]) { r in if case .not(let inner) = r { inner } else { r } })
        #expect(back == root)
        let deleted = try #require(RuleTree.updating(root, [1, 1]) { _ in nil })
        #expect(RuleTree.simplified(deleted).text == "country = \"FR\" and age > 30")
        // Text and tree are the same rule: reading the text back gives the tree's rule.
        #expect(try Rule(parsing: RuleTree.simplified(deleted).text) == RuleTree.simplified(deleted))
    }
}

/// The builder in a session on sample.db: a condition added from the catalog's attributes, the
/// form's count following, all of / any of switched, and back to the text.
@Suite struct RuleBuilderSessionTests {
    /// A session on a copy of sample.db with a new campaign's first node, a Build audience on
    /// profiles, in its form.
    static func newBuildAudience(in campaign: String) throws -> (HeadlessSession, Store, String) {
        let (store, folder) = try HeadlessTests.sampleCopy()
        let session = HeadlessSession(store: store, width: 100, height: 30)
        #expect(session.waitUntilIdle())
        session.press(.char("n"))
        session.type("scratch\n")
        session.type(campaign + "\n")
        #expect(session.waitUntilIdle())
        session.press(.char("A"), .enter)  // Build audience
        // The entity, picked from the catalog's.
        session.press(.char("j"), .char("j"), .enter)
        session.type("profiles\n")
        return (session, store, folder)
    }

    @Test func buildARuleFromTheCatalog() throws {
        let (session, _, folder) = try Self.newBuildAudience(in: "Markets")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // The rule as text.
        session.press(.char("j"), .enter)
        session.type("country = \"FR\"")
        session.press(.enter)
        #expect(session.waitUntilIdle())
        func form() -> NodeForm? {
            session.state.modes.compactMap { if case .nodeForm(let f) = $0 { f } else { nil } }.last
        }
        guard case .counted(let france) = form()?.count else { Issue.record("no count: \(String(describing: form()?.count))"); return }
        // The tree: add country in (DE), as any of.
        session.press(.char("t"))
        guard case .ruleBuilder = session.state.modes.last else { Issue.record("no builder: \(session.state.status)"); return }
        session.press(.char("a"))
        session.type("country")
        session.press(.enter)  // the attribute
        session.type("in")
        session.press(.enter)  // the operator
        session.type("DE\n")
        #expect(form()?.rows.first { $0.name == "rule" }?.text == "country = \"FR\" and country in (\"DE\")")
        #expect(session.waitUntilIdle())
        #expect(form()?.count == .counted(0))
        session.press(.char("t"))
        #expect(form()?.rows.first { $0.name == "rule" }?.text == "country = \"FR\" or country in (\"DE\")")
        #expect(session.waitUntilIdle())
        guard case .counted(let both) = form()?.count else { Issue.record("no count"); return }
        #expect(both > france)
        #expect(session.screen().contains("\(Names.groupedCount(both)) profiles match"))
        // The values of the selected attribute, as bars.
        session.press(.char("D"))
        #expect(session.waitUntilIdle())
        #expect(session.screen().contains("country over every row of profiles"))
        #expect(session.screen().contains("FR "))
        // Aggregates over a 1-N link: the sum of an attribute of the related rows, and any().
        session.press(.char("a"))
        session.type("bookings\n")
        session.type("sum\n")
        session.type("amount\n")
        session.type(">=\n")
        session.type("500\n")
        #expect(
            form()?.rows.first { $0.name == "rule" }?.text.hasSuffix("bookings.sum(amount) >= 500") == true,
            "\(form()?.rows.first { $0.name == "rule" }?.text ?? "")")
        session.press(.char("a"))
        session.type("bookings\n")
        session.type("any\n")
        #expect(form()?.rows.first { $0.name == "rule" }?.text.hasSuffix("bookings.any()") == true)
        for _ in 0..<2 { session.press(.char("d")) }
        #expect(session.waitUntilIdle())
        // As text again: the same rule, in the field being edited.
        session.press(.char("r"))
        guard case .nodeForm(let raw) = session.state.modes.last, let buffer = raw.editing else { Issue.record("not editing"); return }
        #expect(buffer.text == "country = \"FR\" or country in (\"DE\")")
        session.close()
    }
}

/// Which related rows a count or any() takes, built as a rule of its own on the linked entity.
@Suite struct RelatedRowsTests {
    @Test func aCountAndAnAnyTakeOnlyTheRowsTheirOwnRuleSelects() throws {
        let (session, store, folder) = try RuleBuilderSessionTests.newBuildAudience(in: "Careful travellers")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        session.press(.char("j"), .char("t"))
        func rule() -> String? {
            session.state.modes.compactMap { if case .nodeForm(let f) = $0 { f } else { nil } }.last?.row("rule")?.text
        }
        // At least one booking…
        session.press(.char("a"))
        session.type("bookings\n")
        session.type(">=\n")
        session.type("1\n")
        #expect(rule() == "bookings.count() >= 1")
        // …that is completed: f opens a builder on bookings, whose changes go into the count.
        session.press(.char("f"))
        guard case .ruleBuilder(let related) = session.state.modes.last else { Issue.record("no builder: \(session.state.status)"); return }
        #expect(related.entity == "bookings")
        #expect(session.screen().contains("Which bookings count"))
        session.press(.char("a"))
        session.type("status\n")
        session.type("=\n")
        session.type("completed\n")
        #expect(rule() == "bookings.count(status = \"completed\") >= 1")
        #expect(session.waitUntilIdle())
        #expect(session.screen().contains("profiles match"), "the count is of the whole rule's entity")
        session.press(.escape)
        // And none cancelled: none() with a rule of its own, opened again from the condition.
        session.press(.char("a"))
        session.type("bookings\n")
        session.type("none\n")
        session.press(.char("f"), .char("a"))
        session.type("status\n")
        session.type("=\n")
        session.type("cancelled\n")
        session.press(.escape)
        #expect(rule() == "bookings.count(status = \"completed\") >= 1 and bookings.none(status = \"cancelled\")")
        // Reopened, the related rows' builder shows the rule it has; emptied, the condition takes every row.
        session.press(.char("f"))
        guard case .ruleBuilder(let again) = session.state.modes.last else { Issue.record("no builder"); return }
        #expect(RuleTree.simplified(again.rule).text == "status = \"cancelled\"")
        session.press(.char("j"), .char("d"))
        #expect(rule() == "bookings.count(status = \"completed\") >= 1 and bookings.none()")
        session.press(.char("a"))
        session.type("status\n")
        session.type("=\n")
        session.type("cancelled\n")
        // r there edits the whole condition as text.
        session.press(.char("r"))
        guard case .prompt(let prompt) = session.state.modes.last else { Issue.record("no prompt"); return }
        #expect(prompt.buffer.text == "bookings.none(status = \"cancelled\")")
        session.press(.escape)
        // f on a condition with no related rows says why not.
        session.press(.char("k"), .char("k"))
        session.press(.char("f"))
        #expect(session.state.status.contains("select a count, any(), none() or aggregate"), "\(session.state.status)")
        #expect(session.waitUntilIdle())
        let expected = try AudienceServiceCount.of(
            store, "bookings.count(status = \"completed\") >= 1 and bookings.none(status = \"cancelled\")")
        #expect(session.state.modes.compactMap { if case .nodeForm(let f) = $0 { f.count } else { nil } }.last == .counted(expected))
        session.close()
    }
}

enum AudienceServiceCount {
    static func of(_ store: Store, _ rule: String) throws -> Int {
        try AudienceService(store: store).count(AudienceSource(entity: "profiles", rule: try Rule(parsing: rule)))
    }
}

/// The `:` command line: commands by name with completion, and commands with arguments.
@Suite struct CommandLineTests {
    func canvas() -> AppState {
        var state = AppState(storeName: "sample.db")
        state.width = 100
        state.height = 30
        _ = Reducer.reduce(&state, .campaignOpened(welcome))
        return state
    }

    func type(_ state: inout AppState, _ text: String) {
        for c in text { _ = Reducer.reduce(&state, .keyPressed(.char(c))) }
    }

    @Test func completionAndRunning() {
        var state = canvas()
        _ = Reducer.reduce(&state, .keyPressed(.char(":")))
        type(&state, "outl")
        _ = Reducer.reduce(&state, .keyPressed(.tab))
        guard case .commandLine(let buffer) = state.modes.last else { Issue.record("no command line"); return }
        #expect(buffer.text == "outline ")
        _ = Reducer.reduce(&state, .keyPressed(.enter))
        #expect(state.modes.isEmpty && state.canvas?.zoom == .outline)
        // Arguments complete too: :goto with a node id.
        _ = Reducer.reduce(&state, .keyPressed(.char(":")))
        type(&state, "goto wa")
        _ = Reducer.reduce(&state, .keyPressed(.tab))
        _ = Reducer.reduce(&state, .keyPressed(.enter))
        #expect(state.canvas?.selected == "wait")
        // :rename renames the selection, as one undoable edit.
        _ = Reducer.reduce(&state, .keyPressed(.char(":")))
        type(&state, "rename Two days")
        _ = Reducer.reduce(&state, .keyPressed(.enter))
        #expect(state.canvas?.draft.node("wait")?.label == "Two days")
        _ = Reducer.reduce(&state, .keyPressed(.char("u")))
        #expect(state.canvas?.draft.node("wait")?.label == "Wait 3 days")
    }

    /// An empty answer is refused with what was expected, and the prompt stays open.
    @Test func emptyAnswersSayWhatIsMissing() {
        var state = canvas()
        for key in [Key.char("n"), .ctrl("u"), .enter] { _ = Reducer.reduce(&state, .keyPressed(key)) }
        guard case .prompt(let prompt) = state.modes.last else { Issue.record("the prompt closed"); return }
        #expect(prompt.error == "the label is empty; a node needs a name on the canvas")
        #expect(state.canvas?.draft == welcome.campaign)
    }

    @Test func unknownCommandsAndArgumentsSaySo() {
        var state = canvas()
        _ = Reducer.reduce(&state, .keyPressed(.char(":")))
        type(&state, "ouline")
        _ = Reducer.reduce(&state, .keyPressed(.enter))
        #expect(state.status == ":ouline: no such command here; did you mean 'outline'?", "\(state.status)")
        _ = Reducer.reduce(&state, .keyPressed(.char(":")))
        type(&state, "add postcard")
        _ = Reducer.reduce(&state, .keyPressed(.enter))
        #expect(state.status.hasPrefix(":add: unknown kind 'postcard'"))
        _ = Reducer.reduce(&state, .keyPressed(.char(":")))
        type(&state, "undo now")
        _ = Reducer.reduce(&state, .keyPressed(.enter))
        #expect(state.status == ":undo takes no argument")
        // Clicks are not commands to type.
        _ = Reducer.reduce(&state, .keyPressed(.char(":")))
        type(&state, "pointer")
        _ = Reducer.reduce(&state, .keyPressed(.enter))
        #expect(state.status.hasPrefix(":pointer: no such command here"), "\(state.status)")
        // :add with a kind opens its form after the selected port.
        _ = Reducer.reduce(&state, .keyPressed(.char(":")))
        type(&state, "add wait")
        _ = Reducer.reduce(&state, .keyPressed(.enter))
        guard case .nodeForm(let form) = state.modes.last else { Issue.record("no form"); return }
        #expect(form.kind == .wait && form.after == PortRef(node: "signups", port: .out))
    }
}

/// The theme picker shows the highlighted theme at once, keeps it on Enter, restores on Esc.
@Suite struct ThemePickerTests {
    @Test func previewKeepAndRevert() {
        var state = AppState(storeName: "sample.db")
        state.theme = "default"
        state.themeNames = ["default", "light", "mono"]
        _ = Reducer.reduce(&state, .keyPressed(.char("T")))
        _ = Reducer.reduce(&state, .keyPressed(.down))
        #expect(state.theme == "light")
        _ = Reducer.reduce(&state, .keyPressed(.down))
        #expect(state.theme == "mono")
        _ = Reducer.reduce(&state, .keyPressed(.escape))
        #expect(state.theme == "default" && state.modes.isEmpty)
        _ = Reducer.reduce(&state, .keyPressed(.char("T")))
        _ = Reducer.reduce(&state, .keyPressed(.down))
        _ = Reducer.reduce(&state, .keyPressed(.enter))
        #expect(state.theme == "light" && state.modes.isEmpty)
        #expect(state.status.hasPrefix("theme light"))
    }
}

/// The mouse: clicks select what is under them, a double click opens, the wheel scrolls.
@Suite struct PointerTests {
    @Test func clicksAndTheWheel() throws {
        var state = AppState(storeName: "sample.db")
        state.width = 100
        state.height = 30
        _ = Reducer.reduce(&state, .campaignsLoaded(ReducerTests.summaries))
        // The second row of the list (y 1 is the header under the title bar).
        _ = Reducer.reduce(&state, .keyPressed(.click(x: 5, y: 3, double: false)))
        #expect(state.listSelection == 1)
        #expect(Reducer.reduce(&state, .keyPressed(.click(x: 5, y: 2, double: true))) == [.openCampaign(id: 2)])
        _ = Reducer.reduce(&state, .campaignOpened(welcome))
        let text = AppView.render(state, glyphs: .ascii).text.split(separator: "\n", omittingEmptySubsequences: false)
        // Click the line that shows the welcome email's label.
        let y = try #require(text.firstIndex { $0.contains("Welcome email") })
        let x = try #require(text[y].range(of: "Welcome email")).lowerBound.utf16Offset(in: text[y])
        _ = Reducer.reduce(&state, .keyPressed(.click(x: x, y: y, double: false)))
        #expect(state.canvas?.selected == "welcome")
        _ = Reducer.reduce(&state, .keyPressed(.click(x: x, y: y, double: true)))
        guard case .nodeForm(let form) = state.modes.last else { Issue.record("no form"); return }
        #expect(form.id == "welcome")
        _ = Reducer.reduce(&state, .keyPressed(.escape))
        let before = state.canvas?.scrollY ?? 0
        _ = Reducer.reduce(&state, .keyPressed(.wheel(1)))
        #expect(state.canvas?.scrollY == before + 3)
    }
}
