import Foundation
import HeraldCore

/// The days of the week of a schedule, as a checklist: Tab in the schedule prompt opens it with
/// the schedule's days ticked, space ticks or clears a day, Enter puts the days into the
/// schedule (a daily one becomes weekly; every day makes it daily again), Esc leaves it as it was.
enum WeekdayScreen {
    static let commands: [Command] = [
        Command(
            id: "weekdays.toggle", title: "tick", help: "Tick or clear the highlighted day", group: "Days",
            keys: [.char(" "), .char("x")], keyLabel: "space", scope: .weekdays, inKeyBar: true,
            perform: { state in
                change(&state) { picker in
                    let day = Weekday.allCases[picker.selection]
                    if picker.days.contains(day) { picker.days.remove(day) } else { picker.days.insert(day) }
                }
            }),
        Command(
            id: "weekdays.down", title: "next", help: "Highlight the next day", group: "Days", keys: [.char("j"), .down],
            keyLabel: "j/k", scope: .weekdays, inKeyBar: true,
            perform: { state in change(&state) { $0.selection = min($0.selection + 1, Weekday.allCases.count - 1) } }),
        Command(
            id: "weekdays.up", title: "previous", help: "Highlight the previous day", group: "Days", keys: [.char("k"), .up],
            keyLabel: "k", scope: .weekdays, inKeyBar: false,
            perform: { state in change(&state) { $0.selection = max($0.selection - 1, 0) } }),
        Command(
            id: "weekdays.workdays", title: "mon-fri", help: "Tick Monday to Friday only", group: "Days", keys: [.char("w")],
            keyLabel: "w", scope: .weekdays, inKeyBar: true,
            perform: { state in change(&state) { $0.days = Set(Weekday.allCases.filter { $0 < .saturday }) } }),
        Command(
            id: "weekdays.all", title: "every day", help: "Tick every day", group: "Days", keys: [.char("a")], keyLabel: "a",
            scope: .weekdays, inKeyBar: true, perform: { state in change(&state) { $0.days = Set(Weekday.allCases) } }),
        Command(
            id: "weekdays.done", title: "use", help: "Put the ticked days into the schedule", group: "Days", keys: [.enter],
            keyLabel: "enter", scope: .weekdays, inKeyBar: true, perform: { state in done(&state) }),
        Command(
            id: "weekdays.cancel", title: "cancel", help: "Back to the schedule as it was", group: "Days", keys: [.escape, .char("q")],
            keyLabel: "esc", scope: .weekdays, inKeyBar: true,
            perform: { state in
                state.modes.removeLast()
                return []
            }),
    ]

    static func change(_ state: inout AppState, _ body: (inout WeekdayPicker) -> Void) -> [Effect] {
        guard case .weekdays(var picker) = state.modes.last else { return [] }
        body(&picker)
        state.modes[state.modes.count - 1] = .weekdays(picker)
        return []
    }

    /// The schedule typed so far: none yet, or one that reads.
    static func typed(_ prompt: Prompt) -> Result<Schedule?, ScheduleSyntaxError> {
        let text = prompt.buffer.text.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty else { return .success(nil) }
        do { return .success(try Schedule(parsing: text)) } catch { return .failure(error) }
    }

    static func open(_ state: inout AppState) -> [Effect] {
        guard case .prompt(let prompt) = state.modes.last else { return [] }
        switch typed(prompt) {
        case .failure(let error):
            state.status = "days: the schedule does not read yet (\(error)); fix it first"
        case .success(nil):
            // A new schedule: working days, as most campaigns go.
            state.modes.append(.weekdays(WeekdayPicker(days: Set(Weekday.allCases.filter { $0 < .saturday }))))
        case .success(let schedule?):
            guard let days = schedule.weekdays else {
                state.status = "days: a once, monthly or cron schedule is not chosen by days of the week"
                return []
            }
            state.modes.append(.weekdays(WeekdayPicker(days: days.days)))
        }
        return []
    }

    static func done(_ state: inout AppState) -> [Effect] {
        guard case .weekdays(let picker) = state.modes.last, state.modes.count >= 2,
            case .prompt(var prompt) = state.modes[state.modes.count - 2], let canvas = state.canvas
        else { return [] }
        guard !picker.days.isEmpty else {
            state.status = "days: tick at least one day (Esc leaves the schedule as it was)"
            return []
        }
        let days = WeekdaySet(picker.days)
        let schedule: Schedule?
        switch typed(prompt) {
        case .failure: schedule = nil
        case .success(nil): schedule = Schedule.weekly(on: WeekdaySet.everyDay, at: [LocalTime(hour: 9, minute: 0)]).onWeekdays(days)
        case .success(let typed?): schedule = typed.onWeekdays(days)
        }
        guard let schedule else { return [] }
        state.modes.removeLast()
        prompt.buffer = TextBuffer(schedule.text)
        prompt.error = nil
        prompt.detail = SettingsScreen.launches(schedule.text, zone: canvas.schedule?.timeZone ?? canvas.draft.timeZone)
        state.modes[state.modes.count - 1] = .prompt(prompt)
        return []
    }

    static func render(_ picker: WeekdayPicker, into grid: inout CellGrid, glyphs: GlyphSet) {
        let width = Dialog.width(grid)
        let box = Dialog.draw(&grid, lines: Weekday.allCases.count + 2, title: " Days of the week ", glyphs: glyphs)
        for (i, day) in Weekday.allCases.enumerated() {
            let mark = picker.days.contains(day) ? "[x] " : "[ ] "
            grid.put(
                DisplayWidth.pad(mark + day.name, to: width - 4), x: box.x + 2, y: box.y + 2 + i,
                role: i == picker.selection ? .selection : .dialog)
        }
        let text = picker.days.isEmpty ? "no day ticked" : "on " + WeekdaySet(picker.days).text
        grid.put(text, x: box.x + 2, y: box.y + 3 + Weekday.allCases.count, role: .dim)
    }
}
