import Foundation
import HeraldCore
import HeraldStore

/// The `:` command line: every command of the screen by name (the last part of its id:
/// `:undo`, `:save`, `:outline`), with completion, and the commands that take an argument —
/// `:add KIND`, `:goto NODE`, `:zoom full|compact|auto|outline`, `:rename LABEL`,
/// `:timezone ZONE` — whose arguments complete too.
enum CommandLineScreen {
    static let commands: [Command] = [
        Command(
            id: "commandLine", title: "command", help: "Type a command by name, with completion (Tab)", group: "General",
            keys: [.char(":")], keyLabel: ":", scope: .global, inKeyBar: false,
            perform: { state in
                state.modes.append(.commandLine(TextBuffer()))
                return []
            }),
        Command(
            id: "commandLine.run", title: "run", help: "Run the command", group: "Command line", keys: [.enter], keyLabel: "enter",
            scope: .commandLine, inKeyBar: true, perform: { state in run(&state) }),
        Command(
            id: "commandLine.complete", title: "complete", help: "Complete the command or its argument", group: "Command line",
            keys: [.tab], keyLabel: "tab", scope: .commandLine, inKeyBar: true,
            perform: { state in
                guard case .commandLine(var buffer) = state.modes.last else { return [] }
                let options = completions(buffer.text, state: state)
                guard let first = options.first else { return [] }
                let (head, word) = split(buffer.text)
                let common = options.dropFirst().reduce(first) { prefix, option in
                    String(zip(prefix, option).prefix { $0.0.lowercased() == $0.1.lowercased() }.map(\.0))
                }
                let completed = options.count == 1 ? first + (head.isEmpty ? " " : "") : (common.count > word.count ? common : word)
                buffer = TextBuffer((head.isEmpty ? "" : head + " ") + completed)
                state.modes[state.modes.count - 1] = .commandLine(buffer)
                return []
            }),
        Command(
            id: "commandLine.cancel", title: "cancel", help: "Close the command line", group: "Command line",
            keys: [.escape, .ctrl("c")], keyLabel: "esc", scope: .commandLine, inKeyBar: true,
            perform: { state in
                state.modes.removeLast()
                return []
            }),
        TextEntry.command(scope: .commandLine, group: "Command line"),
    ]

    /// The commands that take an argument, and what their argument can be.
    static let withArgument = ["add", "goto", "zoom", "rename", "timezone"]

    /// The screen's commands by name: the last part of the id, or the whole id where two share it.
    static func named(_ state: AppState) -> [(String, Command)] {
        // Clicks have no name to type; the command line does not name itself.
        let commands = CommandRegistry.screenCommands(for: state).filter { $0.id != "commandLine" && !$0.takesPointer }
        let last = commands.map { String($0.id.split(separator: ".").last ?? Substring($0.id)) }
        return zip(last, commands).map { name, command in (last.filter { $0 == name }.count > 1 ? command.id : name, command) }
    }

    /// The text before the word being typed, and that word.
    static func split(_ text: String) -> (String, String) {
        guard let space = text.firstIndex(of: " ") else { return ("", text) }
        return (String(text[..<space]), String(text[text.index(after: space)...]))
    }

    static func completions(_ text: String, state: AppState) -> [String] {
        let (head, word) = split(text)
        let needle = word.lowercased()
        if head.isEmpty {
            let names = Set(named(state).map(\.0)).union(state.screen == .canvas ? withArgument : []).sorted()
            return names.filter { $0.lowercased().hasPrefix(needle) }
        }
        let options: [String]
        switch head {
        case "add": options = NodeKind.allCases.map(\.rawValue)
        case "goto": options = state.canvas?.draft.nodes.map(\.id.name) ?? []
        case "zoom": options = ["auto", "full", "compact", "outline"]
        case "timezone": options = TimeZone.knownTimeZoneIdentifiers.sorted()
        default: options = []
        }
        return options.filter { $0.lowercased().hasPrefix(needle) || $0.lowercased().contains("/" + needle) }
    }

    static func run(_ state: inout AppState) -> [Effect] {
        guard case .commandLine(let buffer) = state.modes.last else { return [] }
        let text = buffer.text.trimmingCharacters(in: .whitespaces)
        let (name, argument) = split(text)
        let word = name.isEmpty ? argument : name
        let value = name.isEmpty ? "" : argument.trimmingCharacters(in: .whitespaces)
        state.modes.removeLast()
        guard !word.isEmpty else { return [] }
        if let (_, command) = named(state).first(where: { $0.0 == word }) {
            if !value.isEmpty && !withArgument.contains(word) {
                state.status = ":\(word) takes no argument"
                return []
            }
            if value.isEmpty || !withArgument.contains(word) {
                if let reason = command.disabledReason(state) {
                    state.status = "\(command.title): \(reason)"
                    return []
                }
                return command.run(&state, command.keys.first ?? .enter)
            }
        }
        guard state.screen == .canvas, withArgument.contains(word) else {
            let known = named(state).map(\.0)
            state.status = ":\(word): no such command here\(Names.suggestion(for: word, in: known + withArgument))"
            return []
        }
        return argumentCommand(word, value, &state)
    }

    static func argumentCommand(_ name: String, _ value: String, _ state: inout AppState) -> [Effect] {
        guard let canvas = state.canvas else { return [] }
        switch name {
        case "add":
            guard let kind = NodeKind(rawValue: value) ?? NodeKind.allCases.first(where: { $0.title.lowercased() == value.lowercased() })
            else {
                state.status = ":add: unknown kind '\(value)'\(Names.suggestion(for: value, in: NodeKind.allCases.map(\.rawValue)))"
                return []
            }
            let after = kind.startsBranch ? nil : canvas.selectedSource
            if !kind.startsBranch && after == nil {
                state.status = ":add: select a node with an output port first"
                return []
            }
            state.modes.append(.nodeForm(NodeForm(newNode: canvas.draft.freshID(kind.rawValue), kind: kind, after: after)))
            return NodeFormScreen.update(&state) { _ in }
        case "goto":
            guard let node = canvas.draft.nodes.first(where: { $0.id.name == value || $0.label.lowercased() == value.lowercased() }) else {
                state.status = ":goto: no node '\(value)'\(Names.suggestion(for: value, in: canvas.draft.nodes.map(\.id.name)))"
                return []
            }
            state.canvas?.selected = node.id
            state.canvas?.selectedPort = nil
            CanvasNavigation.ensureVisible(&state)
            return []
        case "zoom":
            let zooms: [String: Zoom] = ["auto": .automatic, "full": .full, "compact": .compact, "outline": .outline]
            guard let zoom = zooms[value] else {
                state.status = ":zoom: expected auto, full, compact or outline"
                return []
            }
            state.canvas?.zoom = zoom
            CanvasNavigation.relayout(&state)
            return []
        case "rename":
            guard let id = canvas.selected else {
                state.status = ":rename: select a node first"
                return []
            }
            return CanvasEditing.edit(&state, "rename '\(id)' to '\(value)'") { campaign in
                guard let index = campaign.nodes.firstIndex(where: { $0.id == id }) else { throw EditRefusal("there is no node '\(id)'") }
                campaign.nodes[index].label = value
                return id
            }
        case "timezone":
            guard TimeZone(identifier: value) != nil else {
                state.status = ":timezone: '\(value)' is not an IANA time zone (for example Europe/Paris)"
                return []
            }
            return CanvasEditing.edit(&state, "set the time zone to \(value)") { campaign in
                campaign.timeZone = value
                return nil
            }
        default:
            return []
        }
    }

    static func render(_ buffer: TextBuffer, state: AppState, into grid: inout CellGrid) {
        let y = grid.height - 2
        let options = completions(buffer.text, state: state).prefix(8)
        for (i, option) in options.enumerated() {
            let row = y - options.count + i
            grid.fill(Rect(x: 0, y: row, width: min(grid.width, 40), height: 1), role: .dialog)
            grid.put(DisplayWidth.truncate(" " + option, to: min(grid.width, 40)), x: 0, y: row, role: .dialog)
        }
        grid.fill(Rect(x: 0, y: y, width: grid.width, height: 1), role: .field)
        grid.put(":", x: 0, y: y, role: .field)
        TextFieldView.draw(buffer, into: &grid, x: 1, y: y, width: grid.width - 1, height: 1)
    }
}
