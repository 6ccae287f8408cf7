import HeraldCore
import HeraldEngine
import HeraldStore

/// Commands every screen offers: help, back, quit, redraw.
enum GlobalCommands {
    static let commands: [Command] = [
        Command(
            id: "help", title: "help", help: "Show every command with its keys", group: "General", keys: [.char("?"), .function(1)],
            keyLabel: "?", scope: .global, inKeyBar: true, disabledReason: { _ in nil },
            perform: { state in
                if state.overlays.last != .help { state.overlays.append(.help) }
                return []
            }),
        Command(
            id: "close", title: "back", help: "Close the current view (quit from the campaign list)", group: "General",
            keys: [.char("q")], keyLabel: "q", scope: .global, inKeyBar: true, disabledReason: { _ in nil },
            perform: { state in
                if !state.overlays.isEmpty {
                    state.overlays.removeLast()
                } else if state.screen == .canvas {
                    state.screen = .campaignList
                    return [.loadCampaigns]
                } else {
                    state.quit = true
                }
                return []
            }),
        Command(
            id: "escape", title: "up", help: "Go back one level (never quits)", group: "General", keys: [.escape], keyLabel: "esc",
            scope: .global, inKeyBar: false, disabledReason: { _ in nil },
            perform: { state in
                guard state.screen == .canvas else { return [] }
                state.screen = .campaignList
                return [.loadCampaigns]
            }),
        Command(
            id: "redraw", title: "redraw", help: "Redraw the whole screen", group: "General", keys: [.ctrl("l")], keyLabel: "^L",
            scope: .global, inKeyBar: false, disabledReason: { _ in nil }, perform: { _ in [.redraw] }),
        Command(
            id: "quit", title: "quit", help: "Quit Herald", group: "General", keys: [.char("Q"), .ctrl("c")], keyLabel: "Q",
            scope: .global, inKeyBar: false, disabledReason: { _ in nil },
            perform: { state in
                state.quit = true
                return []
            }),
    ]
}
