/// The help: every command of the screen under it, from the registry, with its keys and why it
/// cannot run now. Typing filters it; Enter runs the highlighted command.
enum HelpScreen {
    static func menu(for state: AppState) -> Menu {
        let items = CommandRegistry.screenCommands(for: state).map { command in
            let keys = command.keys.isEmpty ? command.keyLabel : command.keys.map(KeyNames.name).joined(separator: " ")
            let reason = command.disabledReason(state).map { "(\($0)) " } ?? ""
            return MenuItem(title: keys, detail: reason + command.help, value: .command(command.id))
        }
        return Menu(purpose: .help, title: "Help — type to filter, Enter runs, Esc closes", items: items)
    }

    /// Runs the command `id` of the screen, as its first key would.
    static func run(_ id: String, _ state: inout AppState) -> [Effect] {
        guard let command = CommandRegistry.screenCommands(for: state).first(where: { $0.id == id }) else { return [] }
        if let reason = command.disabledReason(state) {
            state.status = "\(command.title): \(reason)"
            return []
        }
        return command.run(&state, command.keys.first ?? .enter)
    }
}
