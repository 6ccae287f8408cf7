/// The help: every command of the focus level under it (or of the screen), from the registry,
/// with its keys and why it cannot run now. j/k move, '/' filters, Enter runs the highlighted one.
enum HelpScreen {
    /// The commands the help lists: those of the focus level on top (a form, a picker, a
    /// prompt…) with quitting, else the screen's.
    static func commands(for state: AppState) -> [Command] {
        guard let mode = state.modes.last else { return CommandRegistry.screenCommands(for: state) }
        return CommandRegistry.all.filter { $0.scope == mode.scope && !$0.keys.isEmpty || $0.scope == mode.scope && $0.takesText }
            + CommandRegistry.all.filter { $0.id == "quit" }
    }

    static func menu(for state: AppState) -> Menu {
        let items = commands(for: state).map { command in
            let keys = command.keys.isEmpty ? command.keyLabel : command.keys.map(KeyNames.name).joined(separator: " ")
            // What it does first; why it cannot run now after, where a narrow screen may cut it.
            let reason = command.disabledReason(state).map { " (not now: \($0))" } ?? ""
            return MenuItem(title: keys, detail: command.help + reason, value: .command(command.id))
        }
        let level = state.modes.last.map { " of this \($0.scope.title)" } ?? ""
        var menu = Menu(purpose: .help, title: "Keys\(level) — j/k move, / filters, Enter runs, Esc closes", items: items)
        menu.filtering = false
        return menu
    }

    /// Runs the command `id` of the level the help was opened over, as its first key would.
    static func run(_ id: String, _ state: inout AppState) -> [Effect] {
        guard let command = commands(for: state).first(where: { $0.id == id }) else { return [] }
        if let reason = command.disabledReason(state) {
            state.status = "\(command.title): \(reason)"
            return []
        }
        return command.run(&state, command.keys.first ?? .enter)
    }
}
