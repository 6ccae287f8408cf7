public import HeraldCore
import HeraldStore

/// One line of the outline: a node, how deep in its branch, and the transition reaching it.
public struct OutlineLine: Equatable, Sendable {
    public var node: NodeID
    public var depth: Int
    /// The port the node is reached from here (nil for a node that starts a branch).
    public var via: PortRef?
    /// Shown already higher up (a node with several inputs): not expanded again.
    public var repeated: Bool
}

/// The graph as an indented list in flow order: each branch's start, then what each port leads
/// to, one node per line with its exact counts. It fits any width, so every campaign reads
/// whole at 80×24.
public enum OutlineView {
    public static func lines(_ campaign: Campaign) -> [OutlineLine] {
        var lines: [OutlineLine] = []
        var shown = Set<NodeID>()
        func visit(_ id: NodeID, depth: Int, via: PortRef?) {
            guard let node = campaign.node(id) else { return }
            if shown.contains(id) {
                lines.append(OutlineLine(node: id, depth: depth, via: via, repeated: true))
                return
            }
            shown.insert(id)
            lines.append(OutlineLine(node: id, depth: depth, via: via, repeated: false))
            let outbound = campaign.outbound(id)
            for port in node.outputPorts {
                for edge in outbound where edge.port == port { visit(edge.to, depth: depth + 1, via: edge.source) }
            }
            // Ports the node does not declare (a broken file) still show.
            for edge in outbound where !node.outputPorts.contains(edge.port) { visit(edge.to, depth: depth + 1, via: edge.source) }
        }
        for node in campaign.nodes where campaign.inbound(node.id).isEmpty { visit(node.id, depth: 0, via: nil) }
        // What no branch start reaches (a loop) still shows.
        for node in campaign.nodes where !shown.contains(node.id) { visit(node.id, depth: 0, via: nil) }
        return lines
    }

    static func render(_ state: AppState, into grid: inout CellGrid, rect: Rect, glyphs: GlyphSet) {
        guard let canvas = state.canvas else { return }
        let campaign = canvas.draft
        let run = canvas.run
        let lines = lines(campaign)
        grid.put(
            DisplayWidth.truncate("Outline — o goes back to the graph", to: rect.width - 2), x: 1, y: rect.y, role: .dim)
        for (i, line) in lines.enumerated().dropFirst(canvas.scrollY).prefix(max(0, rect.height - 2)) {
            guard let node = campaign.node(line.node) else { continue }
            let y = rect.y + 1 + i - canvas.scrollY
            var text = String(repeating: "  ", count: line.depth)
            if let via = line.via, let from = campaign.node(via.node) {
                let port = from.outputPorts.count > 1 ? from.portLabel(via.port) + " " : ""
                let count = run?.edgeCounts[via].map { Names.groupedCount($0) + " " } ?? ""
                if !port.isEmpty || !count.isEmpty { text += port + count }
                text += "→ "
            }
            text += line.repeated ? "\(node.label) (above)" : "\(node.label) · \(node.kind.title)"
            if !line.repeated {
                switch run?.nodeStates[node.id] {
                case .running: text += "  " + glyphs.running + " running"
                case .waiting: text += "  " + glyphs.running + " waiting"
                case .completed: text += "  " + glyphs.done
                case .failed: text += "  " + glyphs.failed + " failed"
                case .skipped: text += "  " + glyphs.skipped + " skipped"
                default: break
                }
            }
            let selected = canvas.selected == node.id && !line.repeated
            if selected { grid.fill(Rect(x: rect.x, y: y, width: rect.width, height: 1), role: .selection) }
            grid.put(
                DisplayWidth.truncate(" " + text, to: rect.width, ellipsis: glyphs.ellipsis), x: rect.x, y: y,
                role: selected ? .selection : .kind(node.kind))
        }
    }
}
