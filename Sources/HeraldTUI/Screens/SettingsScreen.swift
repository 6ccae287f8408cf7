import Foundation
import HeraldCore
import HeraldStore

/// The campaign's settings beside its graph: description, time zone (a searchable list of
/// every IANA zone), variables and, for a saved campaign, its schedule with the next launches
/// shown as it is typed. All but the schedule are edits of the draft.
enum SettingsScreen {
    static let commands: [Command] = [
        Command(
            id: "canvas.settings", title: "settings", help: "Edit the campaign's description, time zone, variables and schedule",
            group: "Edit", keys: [.char("s")], keyLabel: "s", scope: .canvas, inKeyBar: false,
            disabledReason: { $0.canvas == nil ? "open a campaign first" : nil },
            perform: { state in
                guard let canvas = state.canvas else { return [] }
                let draft = canvas.draft
                let variables = draft.variables.isEmpty ? "none" : CampaignFormat.variablesJSON(draft.variables).compact()
                let schedule = canvas.stored == nil ? "save the campaign first" : canvas.schedule.map(describe) ?? "none"
                let items = [
                    MenuItem(
                        title: "Description", detail: draft.description.isEmpty ? "none" : draft.description, value: .setting(.description)),
                    MenuItem(title: "Time zone", detail: draft.timeZone, value: .setting(.timeZone)),
                    MenuItem(title: "Variables", detail: variables, value: .setting(.variables)),
                    MenuItem(title: "Schedule", detail: schedule, value: .setting(.schedule)),
                ]
                state.modes.append(.menu(Menu(purpose: .settings, title: "Settings of '\(draft.name)'", items: items)))
                return []
            })
    ]

    static func describe(_ schedule: CampaignSchedule) -> String { "\(schedule.schedule.text) in \(schedule.timeZone)" }

    /// Opens the picked setting.
    static func open(_ setting: CampaignSetting, _ state: inout AppState) -> [Effect] {
        guard let canvas = state.canvas else { return [] }
        switch setting {
        case .description:
            state.modes.append(.prompt(Prompt(purpose: .description, title: "Description", text: canvas.draft.description)))
        case .variables:
            let text = canvas.draft.variables.isEmpty ? "" : CampaignFormat.variablesJSON(canvas.draft.variables).compact()
            state.modes.append(.prompt(Prompt(purpose: .variables, title: "Variables, as {\"name\": value, …}", text: text)))
        case .timeZone:
            let now = Date()
            // Foundation's list has no UTC here; without it, typing UTC found the first zone
            // whose offset reads UTC+00:00 (Africa/Abidjan).
            let known = TimeZone.knownTimeZoneIdentifiers.sorted()
            let zones = (known.contains("UTC") ? known : ["UTC"] + known).compactMap { id -> MenuItem? in
                guard let zone = TimeZone(identifier: id) else { return nil }
                let offset = zone.secondsFromGMT(for: now)
                let sign = offset < 0 ? "-" : "+"
                let text = String(format: "UTC%@%02d:%02d", sign, abs(offset) / 3600, abs(offset) % 3600 / 60)
                return MenuItem(title: id, detail: text + (id == canvas.draft.timeZone ? "  (current)" : ""), value: .zone(id))
            }
            state.modes.append(.menu(Menu(purpose: .timeZone, title: "Time zone — type to search", items: zones)))
        case .schedule:
            guard let stored = canvas.stored else {
                state.status = "schedule: save the campaign first (w); a schedule launches a saved version"
                return []
            }
            var prompt = Prompt(
                purpose: .schedule(campaignID: stored.id), title: "Schedule (empty: none), in \(canvas.draft.timeZone); Tab ticks its days",
                text: canvas.schedule?.schedule.text ?? "")
            prompt.detail = launches(prompt.buffer.text, zone: canvas.schedule?.timeZone ?? canvas.draft.timeZone)
            state.modes.append(.prompt(prompt))
        }
        return []
    }

    /// The next five launches of `text` in `zone`, or why it does not read.
    static func launches(_ text: String, zone: String) -> [String] {
        guard !text.trimmingCharacters(in: .whitespaces).isEmpty else { return ["no schedule: the campaign launches only when started"] }
        do {
            let schedule = try Schedule(parsing: text)
            guard let timeZone = TimeZone(identifier: zone) else { return ["the time zone '\(zone)' is unknown"] }
            let next = CampaignSchedule(schedule: schedule, timeZone: zone).launches(after: Int(Date().timeIntervalSince1970), count: 5)
            if next.isEmpty { return ["it never launches again"] }
            return ["next launches:"] + next.map { "  " + TemporalText.local(utcSeconds: $0.utcSeconds, zone: timeZone) }
        } catch {
            return ["\(error)"]
        }
    }

    /// Applies a settings prompt; nil when the prompt is not a settings one.
    static func submit(_ prompt: Prompt, text: String, _ state: inout AppState) -> [Effect]? {
        switch prompt.purpose {
        case .description:
            state.modes.removeLast()
            return CanvasEditing.edit(&state, "change the description") { campaign in
                campaign.description = text
                return nil
            }
        case .variables:
            var variables: [(String, Literal)] = []
            if !text.isEmpty {
                do {
                    variables = try CampaignFormat.variables(try JSONValue.parse(text))
                } catch {
                    var refused = prompt
                    refused.error = "\(error)"
                    state.modes[state.modes.count - 1] = .prompt(refused)
                    return []
                }
            }
            state.modes.removeLast()
            return CanvasEditing.edit(&state, "change the variables") { campaign in
                campaign.variables = variables
                return nil
            }
        case .schedule(let id):
            guard let canvas = state.canvas else { return [] }
            if text.isEmpty {
                state.modes.removeLast()
                return [.setSchedule(campaignID: id, nil)]
            }
            do {
                let schedule = try Schedule(parsing: text)
                state.modes.removeLast()
                return [
                    .setSchedule(
                        campaignID: id, CampaignSchedule(schedule: schedule, timeZone: canvas.schedule?.timeZone ?? canvas.draft.timeZone))
                ]
            } catch {
                var refused = prompt
                refused.error = "\(error)"
                state.modes[state.modes.count - 1] = .prompt(refused)
                return []
            }
        default:
            return nil
        }
    }
}
