/// The help overlay: it is read, then closed with Esc or q; other keys do nothing under it.
enum HelpScreen {
    static let commands: [Command] = [
        Command(
            id: "help.close", title: "close help", help: "Close the help", group: "Help", keys: [.escape, .char("q"), .char("?")],
            keyLabel: "esc", scope: .help, inKeyBar: true, disabledReason: { _ in nil },
            perform: { state in
                state.overlays.removeLast()
                return []
            })
    ]
}
