import HeraldCore

/// Typing into the text field of the mode on top (a menu's filter, a prompt, a form field):
/// one command per such mode, so typing goes through the registry like every other key.
enum TextEntry {
    static func command(scope: CommandScope, group: String) -> Command {
        Command(
            id: "\(group.lowercased()).type", title: "type",
            help: "Type text (←/→ Home/End move, Backspace, ^D deletes, ^U clears to the start)",
            group: group, keys: [], keyLabel: "text", scope: scope, inKeyBar: false, takesText: true,
            run: { state, key in
                if case .nodeForm = state.modes.last {
                    return NodeFormScreen.update(&state) { form in
                        form.editing?.apply(key)
                        form.completions = []
                    }
                }
                guard var mode = state.modes.popLast() else { return [] }
                defer { state.modes.append(mode) }
                switch mode {
                case .menu(var menu):
                    menu.filter.apply(key)
                    menu.selection = 0
                    mode = .menu(menu)
                case .commandLine(var buffer):
                    buffer.apply(key)
                    mode = .commandLine(buffer)
                case .prompt(var prompt):
                    prompt.buffer.apply(key)
                    prompt.error = nil
                    if case .schedule = prompt.purpose, let canvas = state.canvas {
                        prompt.detail = SettingsScreen.launches(
                            prompt.buffer.text, zone: canvas.schedule?.timeZone ?? canvas.draft.timeZone)
                    }
                    mode = .prompt(prompt)
                default:
                    break
                }
                return []
            })
    }
}
