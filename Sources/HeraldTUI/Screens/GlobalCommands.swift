import HeraldCore
import HeraldEngine
import HeraldStore

/// Commands every screen offers: help, back, quit, redraw.
enum GlobalCommands {
    static let commands: [Command] = [
        Command(
            id: "help", title: "help", help: "Show every command with its keys", group: "General", keys: [.char("?"), .function(1)],
            keyLabel: "?", scope: .global, inKeyBar: true,
            perform: { state in
                state.modes.append(.menu(HelpScreen.menu(for: state)))
                return []
            }),
        Command(
            id: "close", title: "back", help: "Leave the canvas (asks about unsaved changes); quit from the campaign list",
            group: "General", keys: [.char("q")], keyLabel: "q", scope: .global, inKeyBar: true,
            perform: { state in
                if state.screen == .canvas { return CanvasEditing.leave(&state, to: .campaignList) }
                state.quit = true
                return []
            }),
        Command(
            id: "escape", title: "up", help: "Go back one level (never quits)", group: "General", keys: [.escape], keyLabel: "esc",
            scope: .global, inKeyBar: false,
            perform: { state in
                guard state.screen == .canvas else { return [] }
                return CanvasEditing.leave(&state, to: .campaignList)
            }),
        Command(
            id: "theme", title: "theme", help: "Choose the theme, seeing each one on the screen as you move", group: "General",
            keys: [.char("T")], keyLabel: "T", scope: .global, inKeyBar: false,
            disabledReason: { $0.themeNames.isEmpty ? "no theme files were found (herald theme list says where it looks)" : nil },
            perform: { state in
                let items = state.themeNames.map { MenuItem(title: $0, detail: $0 == state.theme ? "(current)" : "", value: .theme($0)) }
                var menu = Menu(purpose: .theme(previous: state.theme), title: "Theme — ↑/↓ shows it, Enter keeps it", items: items)
                menu.selection = state.themeNames.firstIndex(of: state.theme) ?? 0
                state.modes.append(.menu(menu))
                return []
            }),
        Command(
            id: "redraw", title: "redraw", help: "Redraw the whole screen", group: "General", keys: [.ctrl("l")], keyLabel: "^L",
            scope: .global, inKeyBar: false, perform: { _ in [.redraw] }),
        Command(
            id: "quit", title: "quit", help: "Quit Herald (asks about unsaved changes)", group: "General",
            keys: [.char("Q"), .ctrl("c")], keyLabel: "Q", scope: .global, inKeyBar: false,
            perform: { state in
                // A question about unsaved changes could not be seen on a screen too small to
                // show it; the draft kept after every edit is offered back next time.
                if state.screen == .canvas && !state.isTooSmall { return CanvasEditing.leave(&state, to: .quit) }
                state.quit = true
                return []
            }),
    ]
}
