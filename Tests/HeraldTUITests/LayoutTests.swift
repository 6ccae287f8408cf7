import HeraldCore
import HeraldStore
import HeraldTUI
import Testing

@Suite struct LayoutTests {
    let layout = GraphLayout.layout(welcome.campaign)

    @Test func layersFollowTheLongestPath() {
        #expect(layout.layers.map { $0.sorted() } == [["signups"], ["welcome"], ["wait"], ["split"], ["beaches", "cityBreaks", "push"]])
    }

    @Test func splitBranchesKeepPortOrderLeftToRight() {
        let xs = ["push", "cityBreaks", "beaches"].map { layout.boxes[$0]!.x }
        #expect(xs == xs.sorted())
    }

    @Test func boxesNeverOverlapAndHaveTheFixedSize() {
        let boxes = Array(layout.boxes.values)
        for (i, a) in boxes.enumerated() {
            #expect(a.width == GraphLayout.boxWidth && a.height == GraphLayout.boxHeight)
            for b in boxes[(i + 1)...] {
                let apart = a.maxX <= b.x || b.maxX <= a.x || a.maxY <= b.y || b.maxY <= a.y
                #expect(apart, "\(a) overlaps \(b)")
            }
            #expect(a.x >= 0 && a.maxX <= layout.width)
        }
    }

    @Test func routesAreOrthogonalAndConnectTheirBoxes() {
        #expect(layout.routes.count == welcome.campaign.edges.count)
        checkRoutes(layout, welcome.campaign)
    }

    /// Every route starts under its source, ends just above its target, only turns at right angles
    /// and never passes through another node's box.
    func checkRoutes(_ layout: LayoutResult, _ campaign: Campaign, sourceLocation: SourceLocation = #_sourceLocation) {
        for route in layout.routes {
            let from = layout.boxes[route.edge.from]!
            let to = layout.boxes[route.edge.to]!
            #expect(route.points.first == Point(x: from.midX, y: from.maxY), sourceLocation: sourceLocation)
            // Into the middle of the target's top, or, for a node with several inputs, each at
            // its own column inside the top edge.
            let inputs = campaign.edges.filter { $0.to == route.edge.to }.count
            let end = route.points.last!
            #expect(end.y == to.y - 1, sourceLocation: sourceLocation)
            if inputs == 1 {
                #expect(end.x == to.midX, sourceLocation: sourceLocation)
            } else {
                #expect(end.x > to.x && end.x < to.maxX - 1, sourceLocation: sourceLocation)
            }
            for (a, b) in zip(route.points, route.points.dropFirst()) {
                #expect(a.x == b.x || a.y == b.y, "diagonal segment in \(route.edge)", sourceLocation: sourceLocation)
                for (id, box) in layout.boxes where id != route.edge.from && id != route.edge.to {
                    let xs = min(a.x, b.x)...max(a.x, b.x)
                    let ys = min(a.y, b.y)...max(a.y, b.y)
                    let hits = xs.overlaps(box.x...(box.maxX - 1)) && ys.overlaps(box.y...(box.maxY - 1))
                    #expect(!hits, "\(route.edge) crosses \(id)", sourceLocation: sourceLocation)
                }
            }
        }
    }

    /// A Combine takes two inputs: both audiences sit on the first layer, side by side, and
    /// both transitions reach the Combine box.
    @Test func aCombineDrawsBothInputs() {
        let campaign = Campaign(
            name: "Combine",
            nodes: [
                Node(id: "a", label: "A", config: .buildAudience(entity: "p", rule: .all, emitWhenEmpty: false)),
                Node(id: "b", label: "B", config: .buildAudience(entity: "p", rule: .all, emitWhenEmpty: false)),
                Node(id: "c", label: "C", config: .combine(.exclusion)),
                Node(id: "e", label: "E", config: .end),
            ],
            edges: [
                Edge(from: "a", to: "c", toPort: "primary"), Edge(from: "b", to: "c", toPort: "secondary"), Edge(from: "c", to: "e"),
            ])
        let result = GraphLayout.layout(campaign)
        #expect(result.layers.map { $0.sorted() } == [["a", "b"], ["c"], ["e"]])
        #expect(result.routes.count == 3)
        checkRoutes(result, campaign)
        // Each input arrives at its own column on the Combine's top, so counts do not overwrite.
        let ends = result.routes.filter { $0.edge.to == "c" }.map { $0.points.last!.x }
        #expect(Set(ends).count == 2)
        let box = result.boxes["c"]!
        #expect(ends.allSatisfy { $0 > box.x && $0 < box.maxX })
    }

    @Test func longEdgesGoAroundThroughLanes() {
        // s → b → c and s → c: the edge from s to c skips b's layer and needs a lane beside b.
        let campaign = Campaign(
            name: "Skip",
            nodes: [
                Node(id: "a", label: "A", config: .buildAudience(entity: "p", rule: .all, emitWhenEmpty: false)),
                Node(
                    id: "s", label: "S",
                    config: .split(seed: 1, subsets: [SplitSubset(label: "x", limit: .count(1))], overlap: false, skipEmpty: false)),
                Node(id: "b", label: "B", config: .wait(duration: "1d")),
                Node(id: "c", label: "C", config: .end),
            ],
            edges: [
                Edge(from: "a", to: "s"), Edge(from: "s", port: "subset1", to: "b"), Edge(from: "b", to: "c"),
                Edge(from: "s", port: "complement", to: "c"),
            ])
        let result = GraphLayout.layout(campaign)
        #expect(result.layers == [["a"], ["s"], ["b"], ["c"]])
        #expect(result.routes.count == 4)
        let long = result.routes.first { $0.edge.port == "complement" }!
        // Down from s, across to the lane, down past b's layer, across to c, down to the arrow.
        #expect(long.points.count >= 5)
        #expect(long.points.contains { $0.y > result.boxes["b"]!.maxY } && long.points.contains { $0.y < result.boxes["b"]!.y })
        checkRoutes(result, campaign)
    }

    @Test func addingANodeDoesNotReshuffleTheOthers() {
        var campaign = welcome.campaign
        campaign.nodes.append(Node(id: "extra", label: "Extra", config: .end))
        campaign.edges.append(Edge(from: "push", to: "extra"))
        let next = GraphLayout.layout(campaign, previous: layout)
        for id: NodeID in ["push", "cityBreaks", "beaches"] {
            #expect(next.order[id] == layout.order[id], "\(id) moved")
        }
    }
}

/// Transition labels never hide their count: the name gives way first, with an ellipsis.
@Suite struct EdgeLabelTests {
    @Test(arguments: [
        ("complement", 22, 20, "complement 22"),
        ("complement", 22, 12, "compleme… 22"),
        ("French speakers", 2137, 14, "French … 2,137"),
        ("French speakers", 2137, 10, "Fre… 2,137"),
        ("French speakers", 2137, 7, "F… 2.1k"),
        ("French speakers", 2137, 5, "2,137"),
        ("French speakers", 2137, 3, "2.1k"),
        ("", 1_234_567, 9, "1,234,567"),
        ("", 1_234_567, 6, "1.2M"),
    ])
    func countsStayVisible(port: String, count: Int, room: Int, expected: String) {
        #expect(EdgeLabel.text(port: port, count: count, room: room, ellipsis: "…") == expected)
    }

    @Test func withoutACountTheNameIsTruncatedWithAnEllipsis() {
        #expect(EdgeLabel.text(port: "complement", count: nil, room: 6, ellipsis: "…") == "compl…")
    }

    @Test func theTooSmallNoticeWrapsToTheScreen() {
        for (width, height) in [(30, 10), (12, 8), (1, 40)] {
            var state = AppState(storeName: "sample.db")
            state.width = width
            state.height = height
            let text = AppView.render(state, glyphs: .ascii).text
            #expect(text.contains("Q") || height * width < 120, "\(width)x\(height):\n\(text)")
            #expect(text.split(separator: "\n").allSatisfy { DisplayWidth.of(String($0)) <= width })
        }
        let lines = DisplayWidth.wrap("Herald needs at least 60×20 cells; this terminal is 30×10.", to: 30)
        #expect(lines == ["Herald needs at least 60×20", "cells; this terminal is 30×10."])
    }
}

/// Under LANG=C the state marks must not be mistaken for parts of a box.
@Suite struct GlyphTests {
    @Test func asciiMarksDifferFromBoxDrawing() {
        let g = GlyphSet.ascii
        let drawing = Set([g.horizontal, g.vertical, g.topLeft, g.topRight, g.bottomLeft, g.bottomRight, g.cross, g.arrowDown])
        for mark in [g.done, g.running, g.failed, g.skipped, g.pending] { #expect(!drawing.contains(mark), "\(mark)") }
    }
}
