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
                    // The help moves with j/k and filters after '/', as lazygit and less do; any
                    // other letter starts the filter with it.
                    if case .help = menu.purpose, !menu.filtering, case .char(let c) = key {
                        let count = menu.visible.count
                        switch c {
                        case "j" where count > 0: menu.selection = (menu.selection + 1) % count
                        case "k" where count > 0: menu.selection = (menu.selection - 1 + count) % count
                        case "/": menu.filtering = true
                        default:
                            menu.filtering = true
                            menu.filter.apply(key)
                            menu.selection = 0
                        }
                        mode = .menu(menu)
                        break
                    }
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
