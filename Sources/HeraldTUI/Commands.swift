import HeraldCore
import HeraldEngine
import HeraldStore

/// Where a command applies.
public enum CommandScope: Sendable, Equatable {
    case global, campaignList, canvas
    /// The help overlay, which takes every key while it is open.
    case help
    /// The node inspector overlay, likewise.
    case inspector
}

/// One entry of the action registry. Key dispatch, the key bar and the help screen are all
/// generated from the registry, so they cannot disagree.
public struct Command: Sendable {
    public var id: String
    public var title: String
    public var help: String
    public var group: String
    public var keys: [Key]
    public var keyLabel: String
    public var scope: CommandScope
    public var inKeyBar: Bool
    /// Why the command cannot run now, or nil when it can.
    public var disabledReason: @Sendable (AppState) -> String?
    public var perform: @Sendable (inout AppState) -> [Effect]
}

/// The commands Herald's interface offers: each screen registers its own, from its own file.
public enum CommandRegistry {
    public static let all: [Command] =
        HelpScreen.commands + InspectorScreen.commands + CampaignListScreen.commands + CanvasScreen.commands + GlobalCommands.commands

    /// The commands available on `state`'s screen (or its top overlay), global ones last.
    public static func active(for state: AppState) -> [Command] {
        // An overlay takes every key: only its own commands and quitting work under it.
        switch state.overlays.last {
        case .help: return all.filter { $0.scope == .help || $0.id == "quit" }
        case .inspector: return all.filter { $0.scope == .inspector || $0.id == "quit" }
        case nil: break
        }
        return screenCommands(for: state)
    }

    /// The commands of the screen under any overlay, global ones last: what the help lists.
    public static func screenCommands(for state: AppState) -> [Command] {
        let scope: CommandScope = state.screen == .canvas ? .canvas : .campaignList
        return all.filter { $0.scope == scope } + all.filter { $0.scope == .global }
    }

    public static func command(for key: Key, in state: AppState) -> Command? {
        active(for: state).first { $0.keys.contains(key) }
    }
}

/// The pure update function: the new state and the effects to run. Every key goes through the
/// registry; each screen reduces the results that belong to it.
public enum Reducer {
    public static func reduce(_ state: inout AppState, _ action: Action) -> [Effect] {
        switch action {
        case .keyPressed(.resize):
            return []
        case .keyPressed(let key):
            guard let command = CommandRegistry.command(for: key, in: state) else {
                state.status = "no command on this key; press ? for help"
                return []
            }
            if let reason = command.disabledReason(state) {
                state.status = "\(command.title): \(reason)"
                return []
            }
            state.status = ""
            return command.perform(&state)
        case .resized(let width, let height):
            state.width = width
            state.height = height
            CanvasNavigation.ensureVisible(&state)
            return []
        case .effectFinished:
            state.busy = max(0, state.busy - 1)
            return []
        case .effectFailed(let message):
            state.status = message
            return []
        default:
            return CampaignListScreen.reduce(&state, action) ?? CanvasScreen.reduce(&state, action) ?? []
        }
    }
}
