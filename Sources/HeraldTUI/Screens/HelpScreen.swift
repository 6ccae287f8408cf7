/// The help: every command of the focus level under it (or of the screen), from the registry,
/// with its keys and why it cannot run now. j/k move, '/' filters, Enter runs the highlighted one.
enum HelpScreen {
    /// The help's own keys while it is browsed, as lazygit's and less's: j/k move, / starts the
    /// filter (then it is a menu that takes text); Enter runs, Esc closes.
    static let commands: [Command] = [
        Command(
            id: "help.run", title: "run", help: "Run the highlighted command", group: "Help", keys: [.enter], keyLabel: "enter",
            scope: .helpBrowse, inKeyBar: true, perform: { state in MenuScreen.pick(&state) }),
        Command(
            id: "help.close", title: "close", help: "Close the help", group: "Help", keys: [.escape, .char("q")], keyLabel: "esc",
            scope: .helpBrowse, inKeyBar: true,
            perform: { state in
                state.modes.removeLast()
                return []
            }),
        Command(
            id: "help.down", title: "next", help: "Highlight the next command", group: "Help", keys: [.char("j"), .down],
            keyLabel: "j", scope: .helpBrowse, inKeyBar: true, perform: { state in MenuScreen.move(&state, by: 1) }),
        Command(
            id: "help.up", title: "previous", help: "Highlight the previous command", group: "Help", keys: [.char("k"), .up],
            keyLabel: "k", scope: .helpBrowse, inKeyBar: false, perform: { state in MenuScreen.move(&state, by: -1) }),
        Command(
            id: "help.filter", title: "filter", help: "Type to filter the commands", group: "Help", keys: [.char("/")],
            keyLabel: "/", scope: .helpBrowse, inKeyBar: true,
            perform: { state in
                if case .menu(var menu) = state.modes.last {
                    menu.filtering = true
                    state.modes[state.modes.count - 1] = .menu(menu)
                }
                return []
            }),
    ]

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
