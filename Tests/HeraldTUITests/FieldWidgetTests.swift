import Foundation
import HeraldCore
import HeraldStore
import HeraldTUI
import Testing

/// The node form's widgets, driven with keys on a copy of sample.db: pickers for values from
/// the catalog and the store, true/false toggles, lists edited item by item, and objects
/// edited field by field.
@Suite struct FieldWidgetTests {
    /// A session on the welcome series' canvas, with `node` selected.
    func canvas(selecting node: NodeID) throws -> (HeadlessSession, String) {
        try canvas(of: "Welcome series", selecting: node)
    }

    /// A session on the canvas of `campaign`, `width`×`height`, with `node` selected.
    func canvas(of campaign: String, selecting node: NodeID, width: Int = 100, height: Int = 30) throws -> (HeadlessSession, String) {
        let (store, folder) = try HeadlessTests.sampleCopy()
        let session = HeadlessSession(store: store, width: width, height: height)
        #expect(session.waitUntilIdle())
        while session.state.selectedCampaign?.name != campaign && session.state.listSelection < session.state.campaigns.count {
            session.press(.char("j"))
        }
        session.press(.enter)
        #expect(session.waitUntilIdle())
        #expect(session.state.screen == .canvas)
        goto(session, node)
        return (session, folder)
    }

    /// Selects `node` on the canvas with `:goto`.
    func goto(_ session: HeadlessSession, _ node: NodeID) {
        session.press(.char(":"))
        session.type("goto \(node)")
        session.press(.enter)
        #expect(session.state.canvas?.selected == node)
    }

    /// The form on top of the focus stack.
    func form(_ session: HeadlessSession, sourceLocation: SourceLocation = #_sourceLocation) throws -> NodeForm {
        guard case .nodeForm(let form) = session.state.modes.last else {
            throw FormMissing(modes: "\(session.state.modes)")
        }
        return form
    }

    struct FormMissing: Error { var modes: String }

    /// Selects the row named `name` of the form on top.
    func select(_ session: HeadlessSession, _ name: String) throws {
        let form = try form(session)
        let index = try #require(form.rows.firstIndex { $0.name == name }, "no field \(name)")
        for _ in 0..<form.rows.count { session.press(.char("k")) }
        for _ in 0..<index { session.press(.char("j")) }
    }

    /// Types `text` into the row named `name` of the form on top.
    func fill(_ session: HeadlessSession, _ name: String, _ text: String) throws {
        try select(session, name)
        session.press(.char("e"), .ctrl("u"))
        session.type(text)
        session.press(.ctrl("s"))
    }

    func list(_ session: HeadlessSession) -> ListEditor? {
        if case .listEditor(let list) = session.state.modes.last { list } else { nil }
    }

    @Test func aSplitsSubsetsEditedItemByItem() throws {
        let (session, folder) = try canvas(selecting: "split")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        session.press(.enter)
        try select(session, "subsets")
        #expect(session.screen().contains("2 items: App users · rule push_token is not empty | Variant"))
        session.press(.enter)
        let opened = try #require(list(session))
        #expect(opened.items.count == 2)
        #expect(session.screen().contains("1. App users · rule push_token is not empty"))
        // a adds after the highlighted item: a subset with both a count and a percentage is refused as you type.
        session.press(.char("a"))
        #expect(try form(session).target == .listItem(field: "subsets", index: 1, adding: true))
        try fill(session, "label", "Variant B")
        try fill(session, "percent", "50")
        try fill(session, "count", "100")
        #expect(try form(session).messages.contains { $0.contains("give either 'count' or 'percent'") }, "\(session.state.modes)")
        try fill(session, "count", "")
        #expect(try form(session).messages.isEmpty, "\(session.state.modes)")
        session.press(.char("w"))
        var edited = try #require(list(session))
        #expect(
            edited.items.map(edited.summary) == [
                "App users · rule push_token is not empty", "Variant B · percent 50", "Variant A · percent 50",
            ])
        #expect(edited.selection == 1)
        // K moves it up, J down again; the order is the split's.
        session.press(.char("K"))
        edited = try #require(list(session))
        #expect(edited.items.map(edited.summary).first == "Variant B · percent 50")
        #expect(edited.selection == 0)
        session.press(.char("K"))
        #expect(session.state.status == "the item is first already")
        // Edit the last one in place, then remove the first.
        session.press(.char("j"), .char("j"), .enter)
        #expect(try form(session).target == .listItem(field: "subsets", index: 2, adding: false))
        try fill(session, "percent", "25")
        session.press(.char("w"))
        session.press(.char("k"), .char("k"), .char("d"))
        edited = try #require(list(session))
        #expect(edited.items.map(edited.summary) == ["App users · rule push_token is not empty", "Variant A · percent 25"])
        #expect(session.screen().contains("the node reads and validates"))
        // Every change is in the node form beneath already.
        guard case .nodeForm(let beneath) = session.state.modes.first else {
            Issue.record("no form beneath")
            return
        }
        #expect(
            beneath.row("subsets")?.text == #"[{"label":"App users","rule":"push_token is not empty"},{"label":"Variant A","percent":25}]"#)
        // The list shows the node's problems as it changes: a split with no subsets is refused.
        session.press(.char("d"), .char("d"))
        #expect(list(session)?.items.isEmpty == true)
        #expect(session.screen().contains("subsets"), "\(session.screen())")
        #expect(!session.screen().contains("the node reads and validates"))
        session.press(.escape)
        #expect(session.state.modes.map(\.scope) == [.nodeForm], "\(session.state.modes.map(\.scope))")
        try fill(session, "subsets", #"[{"label":"App users","rule":"push_token is not empty"},{"label":"Variant A","percent":25}]"#)
        // What the form holds is what w applies to the draft.
        #expect(
            try form(session).row("subsets")?.text
                == #"[{"label":"App users","rule":"push_token is not empty"},{"label":"Variant A","percent":25}]"#)
        session.press(.char("w"))
        #expect(session.state.modes.isEmpty)
        guard case .split(_, let subsets, _, _) = session.state.canvas?.draft.nodes.first(where: { $0.id == "split" })?.config else {
            Issue.record("no split")
            return
        }
        #expect(subsets.map(\.label) == ["App users", "Variant A"])
        #expect(subsets.last?.limit == .percent(25))
        session.close()
    }

    @Test func anObjectFieldIsAFormOfItsOwn() throws {
        let (session, folder) = try canvas(selecting: "welcome")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        session.press(.enter)
        try select(session, "frequencyCap")
        session.press(.enter)
        #expect(try form(session).target == .object(field: "frequencyCap"))
        try fill(session, "max", "3")
        // Half a cap does not make a node: the form says which field is missing.
        #expect(try form(session).messages.contains { $0.contains("days") }, "\(session.state.modes)")
        try fill(session, "days", "7")
        #expect(try form(session).messages.isEmpty)
        session.press(.char("w"))
        #expect(try form(session).row("frequencyCap")?.text == #"{"max":3,"days":7}"#)
        #expect(session.screen().contains("max 3 · days 7"))
        // Esc on a changed part asks; n drops the change.
        session.press(.enter)
        try fill(session, "max", "5")
        session.press(.escape)
        session.press(.char("n"))
        #expect(try form(session).row("frequencyCap")?.text == #"{"max":3,"days":7}"#)
        session.press(.char("w"))
        let node = try #require(session.state.canvas?.draft.nodes.first { $0.id == "welcome" })
        guard case .message(_, let settings) = node.config else {
            Issue.record("not a message: \(node.config)")
            return
        }
        #expect(settings.frequencyCap == FrequencyCap(maxMessages: 3, days: 7))
        session.close()
    }

    @Test func valuesArePickedFromWhatTheStoreHas() throws {
        let (session, folder) = try canvas(selecting: "welcome")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        session.press(.enter)
        // A word with its meaning.
        try select(session, "category")
        session.press(.enter)
        guard case .menu(let categories) = session.state.modes.last else {
            Issue.record("no menu: \(session.state.modes)")
            return
        }
        #expect(categories.items.map(\.title) == ["marketing", "transactional", "(empty)"])
        #expect(categories.selection == 0, "the current value is highlighted")
        session.type("trans")
        session.press(.enter)
        #expect(try form(session).row("category")?.text == "transactional")
        session.press(.escape, .char("n"))
        // The entity of a Build audience, from the catalog; a true/false field toggles.
        goto(session, "signups")
        session.press(.enter)
        try select(session, "entity")
        session.press(.enter)
        guard case .menu(let entities) = session.state.modes.last else {
            Issue.record("no menu: \(session.state.modes)")
            return
        }
        let catalog = try HeadlessTests.sampleCopy()
        defer { try? FileManager.default.removeItem(atPath: catalog.1) }
        #expect(entities.items.map(\.title) == (try catalog.0.catalog().entities.map(\.name)) + ["(empty)"])
        session.press(.escape)
        try select(session, "emitWhenEmpty")
        session.press(.enter)
        #expect(try form(session).row("emitWhenEmpty")?.text == "true")
        session.press(.enter)
        #expect(try form(session).row("emitWhenEmpty")?.text == "false")
        session.press(.escape, .char("n"))
        // A Deduplicate after the audience groups by attributes of what arrives there.
        session.press(.char("a"))
        session.type("dedup")
        session.press(.enter)
        try select(session, "by")
        session.press(.enter)
        #expect(list(session) != nil)
        session.press(.char("a"), .enter)
        guard case .menu(let attributes) = session.state.modes.last else {
            Issue.record("no menu: \(session.state.status)")
            return
        }
        let profiles = try #require(try catalog.0.catalog().entity("profiles"))
        #expect(attributes.items.map(\.title) == profiles.attributes.filter { !$0.hidden }.map(\.name) + ["(empty)"])
        session.type("city")
        session.press(.enter, .char("w"))
        let by = try #require(list(session))
        #expect(by.items == [.string("city")])
        session.press(.escape)
        #expect(try form(session).row("by")?.text == #"["city"]"#)
        #expect(try form(session).messages.isEmpty, "\(session.state.modes)")
        session.close()
    }

    @Test func aFieldWithNothingToPickFromIsTyped() throws {
        let (session, folder) = try canvas(selecting: "signups")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // sample.db has no snapshot audience yet: a Save audience names the one it creates.
        session.press(.char("a"))
        session.type("save")
        session.press(.enter)
        try select(session, "audience")
        session.press(.enter)
        #expect(try form(session).editing != nil)
        #expect(session.state.status == "audience: the store has no snapshot audiences; type the value")
        session.type("Welcome reached")
        session.press(.ctrl("s"))
        #expect(try form(session).row("audience")?.text == "Welcome reached")
        session.close()
    }

    @Test func aListInsideAnObjectIsEditedItemByItemToo() throws {
        let (session, folder) = try canvas(selecting: "signups")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // A Deduplicate that keeps French profiles before German ones in each household.
        session.press(.char("a"))
        session.type("dedup")
        session.press(.enter)
        try fill(session, "by", #"["household_id"]"#)
        try select(session, "prefer")
        session.press(.enter)
        #expect(try form(session).target == .object(field: "prefer"))
        try fill(session, "attribute", "country")
        try select(session, "order")
        session.press(.enter)
        #expect(list(session)?.holdsValues == true)
        for value in [#""FR""#, #""DE""#] {
            session.press(.char("a"))
            try fill(session, "value", value)
            session.press(.char("w"))
        }
        #expect(list(session)?.items == [.string("FR"), .string("DE")])
        session.press(.escape)
        #expect(try form(session).row("order")?.text == #"["FR","DE"]"#)
        session.press(.char("w"))
        #expect(try form(session).row("prefer")?.text == #"{"attribute":"country","order":["FR","DE"]}"#)
        #expect(try form(session).messages.filter { !$0.hasPrefix("by") }.isEmpty, "\(session.state.modes)")
        session.close()
    }

    @Test func durationsAndNumbersStepWithPlusAndMinus() throws {
        let (session, folder) = try canvas(selecting: "wait")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        session.press(.enter)
        try select(session, "duration")
        #expect(try form(session).row("duration")?.text == "3d")
        #expect(session.screen().contains("3 days · 30m, 12h, 3d or 2w"))
        session.press(.char("+"), .char("+"))
        #expect(try form(session).row("duration")?.text == "5d")
        session.press(.char("-"))
        #expect(try form(session).row("duration")?.text == "4d")
        #expect(session.screen().contains("4 days"))
        // A field that is not a value says so.
        try select(session, "label")
        session.press(.char("+"))
        #expect(session.state.status == "step up: label is not a number, duration or time; Enter edits it")
        session.press(.char("w"))
        guard case .wait(let duration) = session.state.canvas?.draft.node("wait")?.config else {
            Issue.record("not a wait")
            return
        }
        #expect(duration == "4d")
        session.close()
    }

    @Test func aDateIsPickedFromAMonthOfDays() throws {
        let (session, folder) = try canvas(selecting: "wait")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        session.press(.enter)
        try fill(session, "duration", "")
        try fill(session, "until", "2027-01-31T10:30")
        try select(session, "until")
        session.press(.enter)
        func picked() -> String? {
            guard case .calendar(let picker) = session.state.modes.last else { return nil }
            return CivilDate.text(picker.day)
        }
        #expect(picked() == "2027-01-31")
        #expect(session.screen().contains("until: January 2027"))
        #expect(session.screen().contains("Sunday 31 January 2027, 10:30"))
        // A month later is the last day of a shorter month; days and weeks move across months.
        session.press(.char("]"))
        #expect(picked() == "2027-02-28")
        session.press(.char("l"))
        #expect(picked() == "2027-03-01")
        session.press(.char("k"))
        #expect(picked() == "2027-02-22")
        session.press(.char("["), .char("["))
        #expect(picked() == "2026-12-22")
        session.press(.char("j"), .char("h"))
        #expect(picked() == "2026-12-28")
        // Esc leaves the field; Enter puts the day in, with the time it had.
        session.press(.escape)
        #expect(try form(session).row("until")?.text == "2027-01-31T10:30")
        session.press(.enter, .char("l"), .enter)
        #expect(try form(session).row("until")?.text == "2027-02-01T10:30")
        #expect(try form(session).messages.isEmpty, "\(session.state.modes)")
        session.press(.char("w"))
        guard case .waitUntil(.dateTime(let until)) = session.state.canvas?.draft.node("wait")?.config else {
            Issue.record("not a wait until")
            return
        }
        #expect(until == "2027-02-01T10:30")
        session.close()
    }

    @Test func aListWithFieldsTheFormDoesNotKnowIsNotOpened() throws {
        let (session, folder) = try canvas(selecting: "split")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        session.press(.enter)
        try fill(session, "subsets", #"[{"label": "A", "percent": 50, "colour": "red"}]"#)
        try select(session, "subsets")
        session.press(.enter)
        // Opening it would drop the unknown field, so it stays text.
        #expect(list(session) == nil)
        #expect(session.state.status == "subsets: holds fields the form does not know (colour); e edits it as text")
        try fill(session, "subsets", "3")
        session.press(.enter)
        #expect(session.state.status == "subsets: expected a list; e edits it as text")
        session.close()
    }
}

/// The schedule's days of the week, ticked in a checklist from the schedule prompt.
@Suite struct WeekdayChecklistTests {
    @Test func daysTickedInTheChecklistGoIntoTheSchedule() throws {
        let (store, folder) = try HeadlessTests.sampleCopy()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let session = HeadlessSession(store: store, width: 100, height: 30)
        #expect(session.waitUntilIdle())
        session.press(.char("j"), .char("j"), .char("j"), .enter)  // Welcome series, saved
        #expect(session.waitUntilIdle())
        session.press(.char("s"))
        session.type("Schedule")
        session.press(.enter)
        func prompt() -> Prompt? {
            session.state.modes.compactMap { if case .prompt(let p) = $0 { p } else { nil } }.last
        }
        func picker() -> WeekdayPicker? {
            if case .weekdays(let p) = session.state.modes.last { p } else { nil }
        }
        // Nothing typed: the checklist starts on working days.
        session.press(.tab)
        #expect(picker()?.days == Set(Weekday.allCases.filter { $0 < .saturday }))
        session.press(.enter)
        #expect(prompt()?.buffer.text == "weekly on mon-fri at 09:00")
        #expect(prompt()?.detail.first == "next launches:")
        // Saturday too.
        session.press(.tab)
        for _ in 0..<5 { session.press(.char("j")) }
        session.press(.char(" "), .enter)
        #expect(prompt()?.buffer.text == "weekly on mon-sat at 09:00")
        #expect(session.screen().contains("mon-sat"))
        // Every day is a daily schedule; a daily one opens with every day ticked.
        session.press(.tab, .char("a"), .enter)
        #expect(prompt()?.buffer.text == "daily at 09:00")
        session.press(.tab)
        #expect(picker()?.days == Set(Weekday.allCases))
        // No day at all is refused; Esc leaves the schedule as it was.
        for day in Weekday.allCases.indices {
            _ = day
            session.press(.char(" "), .char("j"))
        }
        session.press(.enter)
        #expect(session.state.status == "days: tick at least one day (Esc leaves the schedule as it was)")
        session.press(.escape)
        #expect(prompt()?.buffer.text == "daily at 09:00")
        // A monthly schedule is not chosen by weekdays.
        session.press(.ctrl("u"))
        session.type("monthly on day 1 at 10:00")
        session.press(.tab)
        #expect(picker() == nil)
        #expect(session.state.status == "days: a once, monthly or cron schedule is not chosen by days of the week")
        // An interval keeps its window and changes its days.
        session.press(.ctrl("u"))
        session.type("every 15 minutes from 09:00 to 17:00")
        session.press(.tab, .char("w"), .enter)
        #expect(prompt()?.buffer.text == "every 15 minutes from 09:00 to 17:00 on mon-fri")
        session.press(.enter)
        #expect(session.waitUntilIdle())
        let id = try #require(session.state.canvas?.stored?.id)
        #expect(try store.schedule(campaignID: id)?.schedule.text == "every 15 minutes from 09:00 to 17:00 on mon-fri")
        session.close()
    }
}

/// Pickers open on the current value or the first real choice, and a required field picked
/// empty is refused at once, naming it.
@Suite struct PickerTrapTests {
    @Test func aRequiredFieldCannotBePickedEmpty() throws {
        let widgets = FieldWidgetTests()
        let (session, folder) = try widgets.canvas(selecting: "signups")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        session.press(.enter)
        try widgets.select(session, "entity")
        let before = try widgets.form(session).row("entity")?.text
        session.press(.enter)
        guard case .menu(var entities) = session.state.modes.last else {
            Issue.record("no menu: \(session.state.modes)")
            return
        }
        #expect(entities.items[entities.selection].title == before)
        // Down to "(empty)", the last choice, and Enter.
        for _ in entities.items.indices where entities.items[entities.selection].title != "(empty)" {
            session.press(.down)
            guard case .menu(let moved) = session.state.modes.last else { return }
            entities = moved
        }
        #expect(entities.items[entities.selection].title == "(empty)")
        session.press(.enter)
        #expect(try widgets.form(session).row("entity")?.text == before)
        #expect(session.state.status.hasPrefix("entity cannot be left empty"), "\(session.state.status)")
        // Nothing changed: the form closes without a question.
        session.press(.escape)
        #expect(session.state.modes.isEmpty, "\(session.state.modes)")
        // An empty field's menu opens on its first real choice: a new End node's campaign.
        session.press(.char("a"))
        session.type("end")
        session.press(.enter)
        try widgets.select(session, "start")
        session.press(.enter)
        guard case .menu(let campaigns) = session.state.modes.last else {
            Issue.record("no menu: \(session.state.modes)")
            return
        }
        #expect(campaigns.selection == 0 && campaigns.items[0].title != "(empty)")
        session.close()
    }
}

/// Adding after a node with several outputs asks which port, saying where each leads; an add
/// the graph refuses keeps the form open, with everything typed and the whole reason.
@Suite struct AddAfterPortTests {
    @Test func addingAsksWhichPortAndARefusedFormIsKept() throws {
        let widgets = FieldWidgetTests()
        let (session, folder) = try widgets.canvas(selecting: "split")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        session.press(.char("a"))
        guard case .menu(let ports) = session.state.modes.last, ports.purpose == .addAfterPort else {
            Issue.record("no port question: \(session.state.modes)")
            return
        }
        #expect(ports.items.map(\.title) == ["subset1", "subset2", "complement"])
        #expect(ports.items[0].detail.contains("leads to 'App deals push'"), "\(ports.items[0].detail)")
        // Between the split and its push: an End node, which cannot carry on.
        session.press(.enter)
        session.type("end")
        session.press(.enter)
        try widgets.fill(session, "label", "Stop here")
        session.press(.char("w"))
        let form = try widgets.form(session)
        #expect(form.row("label")?.text == "Stop here")
        #expect(form.messages.first?.contains("has no 'out' port to carry on") == true, "\(form.messages)")
        // The whole reason shows, wrapped inside the form.
        #expect(session.screen().contains("not applied: an End node has no 'out' port"), "\(session.screen())")
        session.close()
    }
}
