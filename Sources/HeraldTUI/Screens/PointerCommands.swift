import HeraldCore
import HeraldStore

/// The mouse (`herald --mouse`): a click selects the node or campaign under it, a double click
/// opens it, the wheel scrolls. Each goes through the registry like a key.
enum PointerCommands {
    static func pointer(_ scope: CommandScope, _ help: String, _ run: @escaping @Sendable (inout AppState, Key) -> [Effect]) -> Command {
        var command = Command(
            id: "\(scope).pointer", title: "mouse", help: help, group: "Mouse", keys: [], keyLabel: "mouse", scope: scope, inKeyBar: false,
            run: run)
        command.takesPointer = true
        return command
    }

    static let commands: [Command] = [
        pointer(.canvas, "Click selects a node, double click opens its form, the wheel scrolls") { state, key in
            switch key {
            case .click(let x, let y, let double):
                guard let id = CanvasView.node(at: x, y, in: state) else { return [] }
                state.canvas?.selected = id
                state.canvas?.selectedPort = nil
                guard double, let command = CommandRegistry.all.first(where: { $0.id == "edit.open" }) else { return [] }
                return command.disabledReason(state) == nil ? command.run(&state, .enter) : []
            case .wheel(let delta):
                guard let canvas = state.canvas else { return [] }
                state.canvas?.scrollY = canvas.zoom == .outline ? max(0, canvas.scrollY + delta * 3) : canvas.scrollY + delta * 3
                return []
            default:
                return []
            }
        },
        pointer(.campaignList, "Click selects a campaign, double click opens it, the wheel moves") { state, key in
            switch key {
            case .click(_, let y, let double):
                // Rows start under the title bar and the header; the list scrolls with the selection.
                let visible = state.height - 3 - 4
                let first = max(0, state.listSelection - visible + 1)
                let row = y - 2 + first
                guard row >= 0, row < state.listCount else { return [] }
                state.listSelection = row
                guard double else { return [] }
                if let draft = state.selectedNewDraft { return CampaignListScreen.openDraft(&state, draft) }
                return state.selectedCampaign.map { [.openCampaign(id: $0.id)] } ?? []
            case .wheel(let delta):
                state.listSelection = min(max(state.listSelection + delta, 0), max(0, state.listCount - 1))
                return []
            default:
                return []
            }
        },
    ]
}
