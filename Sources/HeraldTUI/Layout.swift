public import HeraldCore

/// A point on the canvas, in cells.
public struct Point: Equatable, Hashable, Sendable {
    public var x: Int
    public var y: Int
    public init(x: Int, y: Int) {
        self.x = x
        self.y = y
    }
}

/// Where one transition is drawn: an orthogonal polyline from the source's bottom to just
/// above the target, plus where its label (port name and count) goes.
public struct EdgeRoute: Equatable, Sendable {
    public var edge: Edge
    public var points: [Point]
    public var labelAnchor: Point
    public var labelWidth: Int
}

/// The result of laying out a campaign graph; a pure value tests can assert on.
public struct LayoutResult: Equatable, Sendable {
    public var boxes: [NodeID: Rect]
    public var layers: [[NodeID]]
    public var routes: [EdgeRoute]
    public var width: Int
    public var height: Int
    /// Orders used, kept so the next layout can start from them and stay stable.
    public var order: [NodeID: Int]
    public var metrics: LayoutMetrics = .full
}

/// A vertex of the layered graph: a node, or a stand-in where an edge crosses a layer.
enum Vertex: Hashable, Comparable {
    case node(NodeID)
    /// Edge number `edge`'s passage through layer `layer`.
    case dummy(edge: Int, layer: Int)

    var isDummy: Bool { nodeID == nil }
    var nodeID: NodeID? { if case .node(let id) = self { id } else { nil } }

    /// Stand-ins before nodes, each by position or id (a tie-break only).
    static func < (a: Vertex, b: Vertex) -> Bool {
        switch (a, b) {
        case (.node(let x), .node(let y)): x < y
        case (.node, .dummy): false
        case (.dummy, .node): true
        case (.dummy(let e1, let l1), .dummy(let e2, let l2)): (e1, l1) < (e2, l2)
        }
    }
}

/// The sizes a layout uses: full boxes (label and kind on two lines) or compact one-line nodes.
public struct LayoutMetrics: Equatable, Sendable {
    public var boxWidth: Int
    public var boxHeight: Int
    public var gap: Int
    /// Rows between a layer's boxes and its first horizontal track (the stub under a box).
    public var stub: Int

    public static let full = LayoutMetrics(boxWidth: 26, boxHeight: 4, gap: 4, stub: 1)
    public static let compact = LayoutMetrics(boxWidth: 18, boxHeight: 1, gap: 2, stub: 0)

    public var isCompact: Bool { boxHeight == 1 }
}

/// Layered (Sugiyama-style) top-down layout with a fixed box size, so live counts never
/// move anything.
public enum GraphLayout {
    public static let boxWidth = LayoutMetrics.full.boxWidth
    public static let boxHeight = LayoutMetrics.full.boxHeight
    static let dummyWidth = 1

    /// Lays out `campaign`; `previous` seeds the ordering so small edits do not reshuffle.
    /// - Complexity: O(*sweeps* × (*n* + *e*) log *n*) for *n* nodes (dummies included).
    public static func layout(_ campaign: Campaign, previous: LayoutResult? = nil, metrics: LayoutMetrics = .full) -> LayoutResult {
        let boxWidth = metrics.boxWidth
        let boxHeight = metrics.boxHeight
        let gap = metrics.gap
        let ids = campaign.nodes.map(\.id)
        let known = Set(ids)
        let edges = campaign.edges.filter { known.contains($0.from) && known.contains($0.to) && $0.from != $0.to }
        // 1. Layers by longest path from the sources (cycles are broken by declaration order).
        var layer: [Vertex: Int] = [:]
        let order = campaign.topologicalOrder() ?? ids
        var predecessors: [NodeID: [NodeID]] = [:]
        for e in edges { predecessors[e.to, default: []].append(e.from) }
        for id in order {
            let preds = (predecessors[id] ?? []).compactMap { layer[.node($0)] }
            layer[.node(id)] = preds.isEmpty ? 0 : (preds.max()! + 1)
        }
        let layerCount = (layer.values.max() ?? -1) + 1

        // 2. Dummy vertices for edges spanning several layers.
        var segments: [(from: Vertex, to: Vertex, edgeIndex: Int)] = []
        for (i, e) in edges.enumerated() {
            let a = layer[.node(e.from)]!, b = layer[.node(e.to)]!
            guard b > a else { continue }
            var previousVertex = Vertex.node(e.from)
            for l in (a + 1)..<b {
                let dummy = Vertex.dummy(edge: i, layer: l)
                layer[dummy] = l
                segments.append((previousVertex, dummy, i))
                previousVertex = dummy
            }
            segments.append((previousVertex, .node(e.to), i))
        }

        // Segments by their ends, so no step scans them all per vertex.
        var outgoing: [Vertex: [Int]] = [:]
        var incoming: [Vertex: [Int]] = [:]
        for (i, s) in segments.enumerated() {
            outgoing[s.from, default: []].append(i)
            incoming[s.to, default: []].append(i)
        }

        // 3. Ordering: DFS from sources following ports in order, seeded by the previous layout.
        var initial: [Vertex: Int] = [:]
        var counter = 0
        func visit(_ v: Vertex) {
            guard initial[v] == nil else { return }
            initial[v] = v.nodeID.flatMap { previous?.order[$0] }.map { $0 * 1000 } ?? (1_000_000 + counter)
            counter += 1
            for i in outgoing[v] ?? [] { visit(segments[i].to) }
        }
        for id in ids where predecessors[id] == nil { visit(.node(id)) }
        for id in ids { visit(.node(id)) }
        var layers: [[Vertex]] = Array(repeating: [], count: max(layerCount, 0))
        for (v, l) in layer { layers[l].append(v) }
        for l in layers.indices { layers[l].sort { (initial[$0] ?? 0, $0) < (initial[$1] ?? 0, $1) } }

        func crossings(_ layers: [[Vertex]]) -> Int {
            var total = 0
            for l in 0..<max(0, layers.count - 1) {
                let pos = Dictionary(uniqueKeysWithValues: layers[l + 1].enumerated().map { ($1, $0) })
                let upper = Dictionary(uniqueKeysWithValues: layers[l].enumerated().map { ($1, $0) })
                let pairs = segments.compactMap { s -> (Int, Int)? in
                    guard let a = upper[s.from], let b = pos[s.to] else { return nil }
                    return (a, b)
                }
                for i in pairs.indices {
                    for j in pairs.indices where j > i {
                        if (pairs[i].0 - pairs[j].0) * (pairs[i].1 - pairs[j].1) < 0 { total += 1 }
                    }
                }
            }
            return total
        }
        var best = layers
        var bestCrossings = crossings(layers)
        for sweep in 0..<4 {
            let down = sweep % 2 == 0
            let range: [Int] =
                down ? Array(stride(from: 1, to: layers.count, by: 1)) : Array(stride(from: layers.count - 2, through: 0, by: -1))
            for l in range {
                let neighbour = layers[down ? l - 1 : l + 1]
                let pos = Dictionary(uniqueKeysWithValues: neighbour.enumerated().map { ($1, Double($0)) })
                let current = Dictionary(uniqueKeysWithValues: layers[l].enumerated().map { ($1, Double($0)) })
                func barycenter(_ v: Vertex) -> Double {
                    let linked = ((down ? incoming[v] : outgoing[v]) ?? []).compactMap { i -> Double? in
                        down ? pos[segments[i].from] : pos[segments[i].to]
                    }
                    return linked.isEmpty ? current[v]! : linked.reduce(0, +) / Double(linked.count)
                }
                let centres = Dictionary(uniqueKeysWithValues: layers[l].map { ($0, barycenter($0)) })
                layers[l].sort { (centres[$0]!, current[$0]!) < (centres[$1]!, current[$1]!) }
            }
            let c = crossings(layers)
            if c < bestCrossings {
                bestCrossings = c
                best = layers
            }
        }
        layers = best

        // 4. Coordinates: fixed box size, layers centred on the widest one.
        func slotWidth(_ v: Vertex) -> Int { v.isDummy ? dummyWidth : boxWidth }
        func layerWidth(_ l: [Vertex]) -> Int { l.map(slotWidth).reduce(0, +) + max(0, l.count - 1) * gap }
        let canvasWidth = max(boxWidth, layers.map(layerWidth).max() ?? 0) + 2

        // Rows: each layer's boxes, then a channel sized by the horizontal tracks it needs.
        var position: [Vertex: Rect] = [:]
        var y = 0
        var routes: [EdgeRoute] = []
        var pendingPoints: [Int: [Point]] = [:]  // edge index → points so far
        for (l, vs) in layers.enumerated() {
            var x = 1 + (canvasWidth - 2 - layerWidth(vs)) / 2
            for v in vs {
                position[v] = Rect(x: x, y: y, width: slotWidth(v), height: boxHeight)
                x += slotWidth(v) + gap
            }
            y += boxHeight
            guard l < layers.count - 1 else { break }
            let next = layers[l + 1]
            var nx = 1 + (canvasWidth - 2 - layerWidth(next)) / 2
            var nextX: [Vertex: Int] = [:]
            for v in next {
                nextX[v] = nx + slotWidth(v) / 2
                nx += slotWidth(v) + gap
            }
            // A node with several inputs (Combine, And-join) takes each transition at its own
            // column, spread across its top in the order of the sources, so arrows and counts
            // stay apart.
            var entryX: [Int: Int] = [:]
            var labelRoom: [Int: Int] = [:]
            let here = Set(vs)
            for target in next where !target.isDummy {
                let arriving = (incoming[target] ?? []).map { segments[$0] }.filter { here.contains($0.from) }
                    .sorted { position[$0.from]!.midX < position[$1.from]!.midX }
                guard arriving.count > 1 else { continue }
                let left = nextX[target]! - boxWidth / 2
                let step = boxWidth / arriving.count
                for (i, seg) in arriving.enumerated() {
                    entryX[seg.edgeIndex] = left + step * i + step / 2
                    labelRoom[seg.edgeIndex] = max(step - step / 2 - 3, 1)
                }
            }
            // One track per source; overlapping spans get different rows.
            var tracks: [[ClosedRange<Int>]] = []
            var trackOf: [Vertex: Int] = [:]
            for s in vs {
                let outs = (outgoing[s] ?? []).map { segments[$0] }
                guard !outs.isEmpty else { continue }
                let xs = [position[s]!.midX] + outs.map { entryX[$0.edgeIndex] ?? nextX[$0.to]! }
                let span = xs.min()!...xs.max()!
                if span.lowerBound == span.upperBound {
                    trackOf[s] = -1
                    continue
                }
                var t = 0
                while t < tracks.count && tracks[t].contains(where: { $0.overlaps(span.lowerBound - 1...span.upperBound + 1) }) { t += 1 }
                if t == tracks.count { tracks.append([]) }
                tracks[t].append(span)
                trackOf[s] = t
            }
            let trackRows = max(tracks.count, 1)
            let channelHeight = metrics.stub + trackRows + 2  // stub, tracks, label row, arrow row
            for s in vs {
                let sx = position[s]!.midX
                let sourceBottom = s.isDummy ? y - 1 : y  // first row below the box
                for seg in (outgoing[s] ?? []).map({ segments[$0] }) {
                    let tx = entryX[seg.edgeIndex] ?? nextX[seg.to]!
                    let track = trackOf[s] ?? 0
                    let busY = y + metrics.stub + max(track, 0)
                    var pts = pendingPoints[seg.edgeIndex] ?? []
                    if pts.isEmpty { pts.append(Point(x: sx, y: sourceBottom)) }
                    if tx != sx {
                        pts.append(Point(x: sx, y: busY))
                        pts.append(Point(x: tx, y: busY))
                    }
                    let arrowY = y + channelHeight - 1
                    pts.append(Point(x: tx, y: arrowY))
                    if seg.to.isDummy {
                        // Continue straight through the dummy's layer.
                        pts.append(Point(x: tx, y: y + channelHeight + boxHeight - 1))
                        pendingPoints[seg.edgeIndex] = pts
                    } else {
                        let e = edges[seg.edgeIndex]
                        routes.append(
                            EdgeRoute(
                                edge: e, points: pts, labelAnchor: Point(x: tx + 2, y: arrowY - 1),
                                labelWidth: labelRoom[seg.edgeIndex] ?? boxWidth / 2 + gap - 2))
                        pendingPoints[seg.edgeIndex] = nil
                    }
                }
            }
            y += channelHeight
        }
        var boxes: [NodeID: Rect] = [:]
        for id in ids { boxes[id] = position[.node(id)] }
        var finalOrder: [NodeID: Int] = [:]
        for vs in layers {
            for (i, v) in vs.enumerated() { if let id = v.nodeID { finalOrder[id] = i } }
        }
        let edgeIndex = Dictionary(edges.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        routes.sort { (edgeIndex[$0.edge] ?? 0) < (edgeIndex[$1.edge] ?? 0) }
        routes = widenLabels(routes, boxes: Array(boxes.values))
        return LayoutResult(
            boxes: boxes, layers: layers.map { $0.compactMap(\.nodeID) }, routes: routes, width: canvasWidth,
            height: max(y, boxHeight), order: finalOrder, metrics: metrics)
    }

    /// Gives each transition's label the room up to the next thing on its row (a line, another
    /// label, a box) instead of a fixed share of the gap, so `complement` is not cut to
    /// `compleme…` with free columns beside it; at the right of everything, up to `maximum`
    /// cells (the screen's edge cuts it further).
    static func widenLabels(_ routes: [EdgeRoute], boxes: [Rect], maximum: Int = 40) -> [EdgeRoute] {
        routes.enumerated().map { i, route in
            let x = route.labelAnchor.x
            let y = route.labelAnchor.y
            var next = Int.max
            for (j, other) in routes.enumerated() where j != i {
                for (a, b) in zip(other.points, other.points.dropFirst()) {
                    if a.x == b.x, min(a.y, b.y) <= y, y <= max(a.y, b.y), a.x >= x { next = min(next, a.x) }
                    if a.y == y, b.y == y, max(a.x, b.x) >= x { next = min(next, max(min(a.x, b.x), x)) }
                }
                // One blank cell before another label.
                if other.labelAnchor.y == y, other.labelAnchor.x >= x { next = min(next, other.labelAnchor.x - 1) }
            }
            for box in boxes where box.y <= y && y < box.y + box.height && box.x + box.width > x { next = min(next, max(box.x, x)) }
            var widened = route
            let room = next == Int.max ? maximum : next - x - 1
            widened.labelWidth = max(route.labelWidth, min(room, maximum))
            return widened
        }
    }
}
