import HeraldCore
import HeraldStore

/// The read-only node inspector: Enter on a node opens it over the canvas; Esc, q or Enter
/// closes it. It shows the node as the open version defines it, with the shown run's counts.
enum InspectorScreen {
    static let commands: [Command] = [
        Command(
            id: "inspector.close", title: "close", help: "Close the inspector", group: "Inspector",
            keys: [.escape, .char("q"), .enter], keyLabel: "esc", scope: .inspector, inKeyBar: true, disabledReason: { _ in nil },
            perform: { state in
                state.modes.removeLast()
                return []
            })
    ]

    /// The inspector's lines for `id` on the open canvas: kind and label, configuration, ports
    /// with the shown run's counts (exact), and the run's state of the node.
    static func lines(_ state: AppState, node id: NodeID) -> [String] {
        guard let canvas = state.canvas, let node = canvas.draft.node(id) else { return [] }
        var lines = ["\(node.kind.title) '\(node.label)'  (id \(node.id))"]
        if let note = node.note, !note.isEmpty { lines.append(note) }
        let summary = node.definition.summary
        if !summary.isEmpty { lines += ["", summary] }
        let inputs = node.inputPorts
        if !inputs.isEmpty { lines += ["", "inputs: " + inputs.map(\.name).joined(separator: ", ")] }
        let run = canvas.run
        if !node.outputPorts.isEmpty {
            lines.append("")
            for port in node.outputPorts {
                let to = canvas.draft.edges.first { $0.source == PortRef(node: id, port: port) }?.to
                let count = run?.edgeCounts[PortRef(node: id, port: port)].map { Names.groupedCount($0) } ?? "-"
                lines.append("\(node.portLabel(port)) → \(to.map { "\($0)" } ?? "(not connected)"): \(count)")
            }
        }
        if let runID = run?.runID, let nodeState = run?.nodeStates[id] {
            lines += ["", "run #\(runID): \(nodeState.rawValue)"]
        }
        return lines
    }
}
