import Foundation
import HeraldCore

/// A month of days for a date-time field (a Wait's `until`): h/l move a day, j/k a week, [ and
/// ] a month, t goes to today, Enter puts the day into the field with the time it had (09:00 for
/// a new one), Esc leaves it as it was. The time is typed in the field (e).
enum CalendarScreen {
    static let commands: [Command] =
        [
            ("calendar.left", "previous day", [Key.char("h"), .left], -1, "h/l"),
            ("calendar.right", "next day", [.char("l"), .right], 1, "l"),
            ("calendar.up", "a week earlier", [.char("k"), .up], -7, "j/k"),
            ("calendar.down", "a week later", [.char("j"), .down], 7, "j"),
        ].map { id, title, keys, days, label in
            Command(
                id: id, title: title, help: "Highlight the \(title)", group: "Calendar", keys: keys, keyLabel: label,
                scope: .calendar, inKeyBar: label.contains("/"), perform: { state in change(&state) { $0.day += days } })
        }
        + [
            Command(
                id: "calendar.previousMonth", title: "month", help: "The same day a month earlier (the month's last, if shorter)",
                group: "Calendar", keys: [.char("["), .pageUp], keyLabel: "[/]", scope: .calendar, inKeyBar: true,
                perform: { state in change(&state) { $0.day = CivilDate.adding(months: -1, to: $0.day) } }),
            Command(
                id: "calendar.nextMonth", title: "next month", help: "The same day a month later (the month's last, if shorter)",
                group: "Calendar", keys: [.char("]"), .pageDown], keyLabel: "]", scope: .calendar, inKeyBar: false,
                perform: { state in change(&state) { $0.day = CivilDate.adding(months: 1, to: $0.day) } }),
            Command(
                id: "calendar.today", title: "today", help: "Highlight today (UTC)", group: "Calendar", keys: [.char("t")], keyLabel: "t",
                scope: .calendar, inKeyBar: true, perform: { state in change(&state) { $0.day = today() } }),
            Command(
                id: "calendar.pick", title: "pick", help: "Put the highlighted day into the field, keeping its time", group: "Calendar",
                keys: [.enter], keyLabel: "enter", scope: .calendar, inKeyBar: true,
                perform: { state in
                    guard case .calendar(let picker) = state.modes.last else { return [] }
                    state.modes.removeLast()
                    return NodeFormScreen.update(&state) { form in form.set(picker.field, to: CivilDate.text(picker.day) + picker.time) }
                }),
            Command(
                id: "calendar.cancel", title: "cancel", help: "Back to the form, the field as it was", group: "Calendar",
                keys: [.escape, .char("q")], keyLabel: "esc", scope: .calendar, inKeyBar: true,
                perform: { state in
                    state.modes.removeLast()
                    return []
                }),
        ]

    /// The day number of today, in UTC.
    static func today() -> Int { Int((Date().timeIntervalSince1970 / 86_400).rounded(.down)) }

    static func change(_ state: inout AppState, _ body: (inout CalendarPicker) -> Void) -> [Effect] {
        guard case .calendar(var picker) = state.modes.last else { return [] }
        body(&picker)
        state.modes[state.modes.count - 1] = .calendar(picker)
        return []
    }

    /// Opens the calendar on the field's date (today when it has none that reads).
    static func open(_ state: inout AppState, text: String, field: String) -> [Effect] {
        let text = text.trimmingCharacters(in: .whitespaces)
        let day = CivilDate.validDays(from: String(text.prefix(10)))
        let time = day == nil || text.count <= 10 ? "T09:00" : String(text.dropFirst(10))
        state.modes.append(.calendar(CalendarPicker(field: field, day: day ?? today(), time: time)))
        return []
    }

    /// Draws the month, at least `covering` lines tall (to hide the form it was opened from).
    static func render(_ picker: CalendarPicker, covering: Int, into grid: inout CellGrid, glyphs: GlyphSet) {
        let (year, month, _) = CivilDate.civil(days: picker.day)
        let first = CivilDate.days(year: year, month: month, day: 1)
        let length = TemporalText.daysIn(month: month, year: year)
        // Monday first, as ISO 8601 numbers the week.
        let lead = Weekday(days: first).rawValue - 1
        let weeks = (lead + length + 6) / 7
        let box = Dialog.draw(
            &grid, lines: max(covering, weeks + 3), title: " \(picker.field): \(CivilDate.monthName(month)) \(year) ", glyphs: glyphs)
        let x = box.x + 2
        grid.put("Mo  Tu  We  Th  Fr  Sa  Su", x: x, y: box.y + 2, role: .header)
        for offset in 0..<length {
            let cell = lead + offset
            let text = offset + 1 < 10 ? " \(offset + 1)" : "\(offset + 1)"
            grid.put(text, x: x + (cell % 7) * 4, y: box.y + 3 + cell / 7, role: first + offset == picker.day ? .selection : .dialog)
        }
        let reading = NodeFieldValue.dateTime.reading(CivilDate.text(picker.day) + picker.time) ?? CivilDate.text(picker.day)
        grid.put(reading + " (the time is typed in the field: e)", x: x, y: box.y + 4 + weeks, role: .dim)
    }
}
