import HeraldCore
import HeraldStore

/// Choosing where the selected port leads: move between nodes, Tab picks the input port of a
/// node with several (Combine, And-join), Enter connects, Esc cancels.
enum ConnectScreen {
    static let commands: [Command] =
        [
            Command(
                id: "connect.done", title: "connect", help: "Connect the port to the highlighted node", group: "Connect",
                keys: [.enter, .char("c")], keyLabel: "enter", scope: .connect, inKeyBar: true,
                perform: { state in finish(&state) }),
            Command(
                id: "connect.find", title: "find", help: "Pick the node to connect to by name", group: "Connect", keys: [.char("/")],
                keyLabel: "/", scope: .connect, inKeyBar: true,
                perform: { state in
                    guard case .connect(let connect) = state.modes.last else { return [] }
                    state.modes.append(
                        .menu(
                            MenuScreen.nodes(
                                state, purpose: .connect(from: connect.source), title: "Connect '\(connect.source.port)' to…",
                                except: connect.source.node)))
                    return []
                }),
            Command(
                id: "connect.cancel", title: "cancel", help: "Leave the port as it was", group: "Connect", keys: [.escape], keyLabel: "esc",
                scope: .connect, inKeyBar: true,
                perform: { state in
                    state.modes.removeLast()
                    state.status = ""
                    return []
                }),
            Command(
                id: "connect.input", title: "input port", help: "Pick the highlighted node's next input port", group: "Connect",
                keys: [.tab], keyLabel: "tab", scope: .connect, inKeyBar: true,
                perform: { state in
                    guard case .connect(var connect) = state.modes.last, let target = connect.target,
                        let node = state.canvas?.draft.node(target), !node.inputPorts.isEmpty
                    else { return [] }
                    let ports = node.inputPorts
                    let index = connect.targetPort.flatMap { ports.firstIndex(of: $0) } ?? -1
                    connect.targetPort = ports[(index + 1) % ports.count]
                    state.modes[state.modes.count - 1] = .connect(connect)
                    state.status = "input '\(connect.targetPort!)' of '\(node.label)'"
                    return []
                }),
        ]
        + [
            ("connect.left", "left", [Key.char("h"), .left], -1, 0), ("connect.down", "down", [.char("j"), .down], 0, 1),
            ("connect.up", "up", [.char("k"), .up], 0, -1), ("connect.right", "right", [.char("l"), .right], 1, 0),
        ].map { id, title, keys, dx, dy in
            Command(
                id: id, title: title, help: "Highlight the nearest node \(title == "left" || title == "right" ? "to the " : "")\(title)",
                group: "Connect", keys: keys, keyLabel: id == "connect.left" ? "hjkl" : title, scope: .connect,
                inKeyBar: id == "connect.left",
                perform: { state in
                    guard case .connect(var connect) = state.modes.last, let layout = state.canvas?.layout else { return [] }
                    let from = connect.target ?? connect.source.node
                    if let next = CanvasNavigation.nearest(from: from, dx: dx, dy: dy, in: layout) {
                        connect.target = next
                        connect.targetPort = nil
                        state.modes[state.modes.count - 1] = .connect(connect)
                    }
                    return []
                })
        }

    /// Connects the port to the highlighted node (its chosen input, else its first free one).
    static func finish(_ state: inout AppState) -> [Effect] {
        guard case .connect(let connect) = state.modes.last else { return [] }
        guard let target = connect.target, let node = state.canvas?.draft.node(target) else {
            state.status = "move to the node the port should lead to"
            return []
        }
        let port = connect.targetPort ?? freeInput(of: node, in: state) ?? node.inputPorts.first ?? .input
        state.modes.removeLast()
        return CanvasEditing.edit(&state, "connect '\(connect.source.port)' of '\(connect.source.node)' to '\(target)'") {
            campaign in
            try campaign.connect(connect.source, to: target, port: port)
            return connect.source.node
        }
    }

    /// The first input port of `node` that nothing reaches yet.
    static func freeInput(of node: Node, in state: AppState) -> PortName? {
        guard let draft = state.canvas?.draft else { return nil }
        return node.inputPorts.first { port in !draft.inbound(node.id).contains { $0.toPort == port } }
    }
}
