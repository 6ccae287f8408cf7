import Foundation
import HeraldCore
import HeraldStore
import HeraldTUI
import Testing

/// Compact nodes, the outline, and layouts of every example and of a large graph.
@Suite struct ZoomTests {
    static let examples = ["Welcome series", "Departure reminder", "Win-back", "Summer sale", "Beach brochure"]
    let layoutTests = LayoutTests()

    /// Labels sit beside their arrow and never on a box or another route's line.
    func checkLabels(_ layout: LayoutResult, _ campaign: Campaign, sourceLocation: SourceLocation = #_sourceLocation) {
        for route in layout.routes {
            let label = Rect(x: route.labelAnchor.x, y: route.labelAnchor.y, width: max(route.labelWidth, 1), height: 1)
            for (id, box) in layout.boxes {
                let hits = label.x < box.maxX && box.x < label.maxX && label.y >= box.y && label.y < box.maxY
                #expect(!hits, "label of \(route.edge) on \(id)", sourceLocation: sourceLocation)
            }
            for other in layout.routes where other.edge != route.edge {
                for (a, b) in zip(other.points, other.points.dropFirst()) where a.x == b.x {
                    let crosses = (label.x..<label.maxX).contains(a.x) && (min(a.y, b.y)...max(a.y, b.y)).contains(label.y)
                    #expect(!crosses, "label of \(route.edge) on the line of \(other.edge)", sourceLocation: sourceLocation)
                }
            }
        }
    }

    @Test(arguments: examples)
    func everyExampleLaysOutInBothZooms(_ name: String) throws {
        let campaign = try HeraldTUITestsData.campaign(named: name)
        for metrics in [LayoutMetrics.full, .compact] {
            let layout = GraphLayout.layout(campaign, metrics: metrics)
            #expect(layout.boxes.count == campaign.nodes.count)
            #expect(layout.routes.count == campaign.edges.count)
            #expect(layout.boxes.values.allSatisfy { $0.width == metrics.boxWidth && $0.height == metrics.boxHeight })
            layoutTests.checkRoutes(layout, campaign)
            checkLabels(layout, campaign)
        }
    }

    /// At 80×24 the outline shows every node of every example on its own line, label whole.
    @Test(arguments: examples)
    func everyExampleReadsWholeInTheOutlineAt80x24(_ name: String) throws {
        let campaign = try HeraldTUITestsData.campaign(named: name)
        var state = AppState(storeName: "sample.db")
        _ = Reducer.reduce(&state, .campaignOpened(StoredCampaign(id: 1, version: 1, campaign: campaign)))
        _ = Reducer.reduce(&state, .keyPressed(.char("o")))
        #expect(state.canvas?.zoom == .outline)
        let screen = AppView.render(state, glyphs: .rounded).text
        let lines = OutlineView.lines(campaign)
        #expect(lines.count <= 20, "\(name) needs \(lines.count) lines")
        for node in campaign.nodes { #expect(screen.contains("\(node.label) · \(node.kind.title)"), "\(node.id) in \(name):\n\(screen)") }
        // j walks the outline line by line.
        _ = Reducer.reduce(&state, .keyPressed(.char("j")))
        #expect(state.canvas?.selected == lines.first { !$0.repeated && $0.node != campaign.nodes.first?.id }?.node)
    }

    /// Automatic zoom uses full boxes while the graph fits and compact nodes when it does not;
    /// z forces one, and the Welcome series reads whole in compact nodes at 80×24.
    @Test func automaticZoomFollowsTheScreen() {
        var state = AppState(storeName: "sample.db")
        state.width = 200
        state.height = 60
        _ = Reducer.reduce(&state, .campaignOpened(welcome))
        #expect(state.canvas?.layout.metrics == .full)
        _ = Reducer.reduce(&state, .resized(width: 80, height: 24))
        #expect(state.canvas?.layout.metrics == .compact)
        let screen = AppView.render(state, glyphs: .rounded).text
        for node in welcome.campaign.nodes {
            let shown = String(node.label.prefix(6))
            #expect(screen.contains("[" + shown), "\(node.id):\n\(screen)")
        }
        _ = Reducer.reduce(&state, .keyPressed(.char("z")))
        #expect(state.canvas?.zoom == .full && state.canvas?.layout.metrics == .full)
        _ = Reducer.reduce(&state, .keyPressed(.char("z")))
        #expect(state.canvas?.zoom == .compact)
        _ = Reducer.reduce(&state, .keyPressed(.char("z")))
        #expect(state.canvas?.zoom == .automatic)
    }

    /// 200 nodes: ten audiences, each down a chain of waits and splits to its emails.
    @Test func aTwoHundredNodeGraphLaysOut() {
        var nodes: [Node] = []
        var edges: [Edge] = []
        for branch in 0..<10 {
            let start = NodeID("a\(branch)")
            nodes.append(
                Node(id: start, label: "Audience \(branch)", config: .buildAudience(entity: "p", rule: .all, emitWhenEmpty: false)))
            var last = start
            for step in 0..<9 {
                let wait = NodeID("w\(branch)_\(step)")
                nodes.append(Node(id: wait, label: "Wait \(step)", config: .wait(duration: "1d")))
                edges.append(Edge(from: last, to: wait))
                last = wait
            }
            let split = NodeID("s\(branch)")
            nodes.append(
                Node(
                    id: split, label: "Split \(branch)",
                    config: .split(
                        seed: 1, subsets: (1...8).map { SplitSubset(label: "S\($0)", limit: .percent(10)) }, overlap: false,
                        skipEmpty: false)))
            edges.append(Edge(from: last, to: split))
            for subset in 1...9 {
                let end = NodeID("e\(branch)_\(subset)")
                nodes.append(Node(id: end, label: "End \(subset)", config: .end))
                edges.append(Edge(from: split, port: subset == 9 ? .complement : .subset(subset), to: end))
            }
        }
        let campaign = Campaign(name: "Big", nodes: nodes, edges: edges)
        #expect(campaign.nodes.count == 200)
        for metrics in [LayoutMetrics.full, .compact] {
            let layout = GraphLayout.layout(campaign, metrics: metrics)
            #expect(layout.boxes.count == 200 && layout.routes.count == edges.count)
            layoutTests.checkRoutes(layout, campaign)
            var cells = Set<Point>()
            for box in layout.boxes.values {
                for x in box.x..<box.maxX {
                    for y in box.y..<box.maxY { #expect(cells.insert(Point(x: x, y: y)).inserted, "boxes overlap at \(x),\(y)") }
                }
            }
        }
    }
}
