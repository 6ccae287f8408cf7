public import HeraldCore
import HeraldStore

/// The read-only node inspector: Enter on a node opens it over the canvas; Esc, q or Enter
/// closes it. It shows the node as the open version defines it, with the shown run's counts.
public enum InspectorScreen {
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
    public static func lines(_ state: AppState, node id: NodeID) -> [String] {
        guard let canvas = state.canvas, let node = canvas.draft.node(id) else { return [] }
        var lines = ["\(node.kind.title) '\(node.label)'  (id \(node.id))"]
        if let note = node.note, !note.isEmpty { lines.append(note) }
        let summary = node.definition.summary
        if !summary.isEmpty { lines += ["", summary] }
        // Every setting as the campaign file writes it: nothing the node does is left out (a
        // deduplication's preference, a Read audience's audience).
        if case .object(let pairs) = CampaignFormat.encode(node) {
            let settings = pairs.filter { !["id", "kind", "label", "note"].contains($0.0) }
            if !settings.isEmpty {
                lines.append("")
                for (key, value) in settings {
                    let text: String = if case .string(let s) = value { s } else { value.compact() }
                    lines.append("\(key): \(text)")
                }
            }
        }
        // What a Read audience reads: the saved audience's entity and rule (or its snapshot).
        if case .readAudience(let name, _) = node.config {
            if let audience = canvas.context?.audiences.first(where: { $0.name == name }) {
                lines.append("reads \(audience.snapshot ? "a snapshot of " : "")\(audience.entity)")
                lines.append(audience.snapshot ? "from: \(audience.rule)" : "rule: \(audience.rule)")
                if let members = audience.memberCount { lines.append("members: \(Names.groupedCount(members))") }
            } else {
                lines.append("the saved audience '\(name)' does not exist")
            }
        }
        // Which node feeds each input (a Combine's primary set, an And-join's branches).
        let inputs = node.inputPorts
        if !inputs.isEmpty {
            lines.append("")
            for port in inputs {
                let from = canvas.draft.edges.first { $0.to == id && $0.toPort == port }.map { "\($0.from).\($0.port)" }
                lines.append("input \(port.name) ← \(from ?? "(not connected)")")
            }
        }
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
        // A live run's messages: by state, then each exclusion and failure with its reason.
        if let messages = run?.messages[id] {
            lines.append("messages: \(Names.groupedCount(messages.total))")
            for state in MessageState.allCases where messages[state] > 0 {
                lines.append("  \(state.rawValue): \(Names.groupedCount(messages[state]))")
                let reasons = state == .excluded ? messages.excluded : state == .failed ? messages.failed : [:]
                for (reason, n) in reasons.sorted(by: { ($1.value, $0.key) < ($0.value, $1.key) }) {
                    lines.append("    \(reason): \(Names.groupedCount(n))")
                }
            }
        }
        return lines
    }
}
