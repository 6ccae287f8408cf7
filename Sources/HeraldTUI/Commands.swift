import HeraldCore
import HeraldEngine
import HeraldStore

/// Where a command applies: a screen, or the mode on top of the focus stack (which takes every
/// key while it is there).
public enum CommandScope: Sendable, Equatable {
    case global, campaignList, canvas
    case inspector, menu, confirm, prompt, connect, problems, preview, ruleBuilder, commandLine, listEditor, weekdays, calendar
    /// The node form, moving between fields.
    case nodeForm
    /// A field of the node form being typed in.
    case formField
    /// The help before its filter is started: j/k move, / filters.
    case helpBrowse

    /// What a person calls this level, in the help's title.
    public var title: String {
        switch self {
        case .global: "screen"
        case .campaignList: "campaign list"
        case .canvas: "canvas"
        case .inspector: "inspector"
        case .menu: "menu"
        case .confirm: "question"
        case .prompt: "prompt"
        case .connect: "connection"
        case .problems: "problems panel"
        case .preview: "preview"
        case .ruleBuilder: "rule builder"
        case .commandLine: "command line"
        case .listEditor: "list editor"
        case .weekdays: "day checklist"
        case .calendar: "calendar"
        case .nodeForm: "node form"
        case .formField: "field"
        case .helpBrowse: "help"
        }
    }
}

/// One entry of the action registry. Key dispatch, the key bar and the help screen are all
/// generated from the registry, so they cannot disagree.
public struct Command: Sendable {
    /// The same command on other keys (the help on F1 alone where a level takes text).
    /// The key the key bar shows for it in `state`.
    func keyLabel(in state: AppState) -> String { currentKeyLabel?(state) ?? keyLabel }

    /// The same command with its key bar label chosen by the state.
    func labelled(_ label: @escaping @Sendable (AppState) -> String) -> Command {
        var copy = self
        copy.currentKeyLabel = label
        return copy
    }

    func withKeys(_ keys: [Key]) -> Command {
        var copy = self
        copy.keys = keys
        copy.keyLabel = keys.map(KeyNames.name).joined(separator: " ")
        return copy
    }

    public var id: String
    public var title: String
    public var help: String
    public var group: String
    public var keys: [Key]
    public var keyLabel: String
    public var scope: CommandScope
    public var inKeyBar: Bool
    /// Whether it also takes the keys that edit text (printable characters, Backspace, arrows):
    /// the one way typing reaches a text field.
    public var takesText: Bool
    /// Whether it takes mouse clicks and the wheel (`--mouse`): the key says where.
    public var takesPointer = false
    /// The key to show when it depends on the state (a multi-line field finishes with ^S, not
    /// Enter); nil: `keyLabel`.
    public var currentKeyLabel: (@Sendable (AppState) -> String)?
    /// Why the command cannot run now, or nil when it can.
    public var disabledReason: @Sendable (AppState) -> String?
    /// Carries the command out for the key that was pressed.
    public var run: @Sendable (inout AppState, Key) -> [Effect]

    public init(
        id: String, title: String, help: String, group: String, keys: [Key], keyLabel: String, scope: CommandScope,
        inKeyBar: Bool, takesText: Bool = false, disabledReason: @escaping @Sendable (AppState) -> String? = { _ in nil },
        perform: @escaping @Sendable (inout AppState) -> [Effect]
    ) {
        self.init(
            id: id, title: title, help: help, group: group, keys: keys, keyLabel: keyLabel, scope: scope, inKeyBar: inKeyBar,
            takesText: takesText, disabledReason: disabledReason, run: { state, _ in perform(&state) })
    }

    public init(
        id: String, title: String, help: String, group: String, keys: [Key], keyLabel: String, scope: CommandScope,
        inKeyBar: Bool, takesText: Bool = false, disabledReason: @escaping @Sendable (AppState) -> String? = { _ in nil },
        run: @escaping @Sendable (inout AppState, Key) -> [Effect]
    ) {
        self.id = id
        self.title = title
        self.help = help
        self.group = group
        self.keys = keys
        self.keyLabel = keyLabel
        self.scope = scope
        self.inKeyBar = inKeyBar
        self.takesText = takesText
        self.disabledReason = disabledReason
        self.run = run
    }

    /// Whether `key` invokes the command.
    public func matches(_ key: Key) -> Bool {
        keys.contains(key) || (takesText && key.editsText) || (takesPointer && key.isPointer)
    }
}

extension Key {
    /// Clicks and the wheel.
    public var isPointer: Bool {
        switch self {
        case .click, .wheel: true
        default: false
        }
    }

    /// Keys a text field takes: printable characters and the editing keys.
    public var editsText: Bool {
        switch self {
        case .char, .backspace, .left, .right, .up, .down, .home, .end, .enter, .tab: true
        case .ctrl(let c): ["a", "e", "d", "u"].contains(c)
        default: false
        }
    }
}

/// The commands Herald's interface offers: each screen registers its own, from its own file.
public enum CommandRegistry {
    public static let all: [Command] =
        InspectorScreen.commands + MenuScreen.commands + ConfirmScreen.commands + PromptScreen.commands
        + NodeFormScreen.commands + ListEditorScreen.commands + WeekdayScreen.commands + CalendarScreen.commands + ConnectScreen.commands
        + ProblemsScreen.commands
        + PreviewScreen.commands + HelpScreen.commands
        + RuleBuilderScreen.commands + CommandLineScreen.commands + PointerCommands.commands + CampaignListScreen.commands
        + CanvasScreen.commands + CanvasEditing.commands + SettingsScreen.commands + GlobalCommands.commands

    /// The commands available on `state`'s screen (or its top mode), global ones last.
    public static func active(for state: AppState) -> [Command] {
        // Keys act only on what is shown: while the screen is too small for anything but its
        // notice, only quitting and redrawing do.
        if state.isTooSmall { return all.filter { $0.id == "quit" || $0.id == "redraw" } }
        // A mode takes every key: only its own commands work under it, and where it takes no
        // text, quitting.
        if let mode = state.modes.last {
            // Every level lists its own keys: F1 where the level takes text (a '?' is typed), ? and
            // F1 elsewhere. The help does not open over itself.
            var help = all.filter { $0.id == "help" }
            if case .menu(let menu) = mode, case .help = menu.purpose { help = [] }
            if mode.takesText { help = help.map { $0.withKeys([.function(1)]) } }
            return all.filter { $0.scope == mode.scope } + (mode.takesText ? [] : all.filter { $0.id == "quit" }) + help
        }
        return screenCommands(for: state)
    }

    /// The commands of the screen under any overlay, global ones last: what the help lists.
    public static func screenCommands(for state: AppState) -> [Command] {
        let scope: CommandScope = state.screen == .canvas ? .canvas : .campaignList
        return all.filter { $0.scope == scope } + all.filter { $0.scope == .global }
    }

    public static func command(for key: Key, in state: AppState) -> Command? {
        // Exact keys first, so a field's own keys (Enter, Esc) win over typing.
        let commands = active(for: state)
        return commands.first { $0.keys.contains(key) } ?? commands.first { $0.matches(key) }
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
            return command.run(&state, key)
        case .resized(let width, let height):
            state.width = width
            state.height = height
            CanvasNavigation.relayout(&state)
            return []
        case .effectFinished:
            state.busy = max(0, state.busy - 1)
            return []
        case .effectFailed(let message):
            state.status = message
            return []
        default:
            return CampaignListScreen.reduce(&state, action) ?? CanvasScreen.reduce(&state, action)
                ?? CanvasEditing.reduce(&state, action) ?? NodeFormScreen.reduce(&state, action)
                ?? PreviewScreen.reduce(&state, action) ?? RuleBuilderScreen.reduce(&state, action) ?? []
        }
    }
}
