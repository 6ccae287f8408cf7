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
        for route in layout.routes {
            let from = layout.boxes[route.edge.from]!
            let to = layout.boxes[route.edge.to]!
            #expect(route.points.first == Point(x: from.midX, y: from.maxY))
            #expect(route.points.last == Point(x: to.midX, y: to.y - 1))
            for (a, b) in zip(route.points, route.points.dropFirst()) {
                #expect(a.x == b.x || a.y == b.y, "diagonal segment in \(route.edge)")
            }
            // No segment passes through a box other than where it starts.
            for (a, b) in zip(route.points, route.points.dropFirst()) {
                for (id, box) in layout.boxes where id != route.edge.from && id != route.edge.to {
                    let xs = min(a.x, b.x)...max(a.x, b.x)
                    let ys = min(a.y, b.y)...max(a.y, b.y)
                    let hits = xs.overlaps(box.x...(box.maxX - 1)) && ys.overlaps(box.y...(box.maxY - 1))
                    #expect(!hits, "\(route.edge) crosses \(id)")
                }
            }
        }
    }

    @Test func longEdgesGoAroundThroughLanes() {
        // a → b → c and a → c: the long edge needs a lane beside b.
        let campaign = Campaign(
            name: "Skip",
            nodes: [
                Node(id: "a", label: "A", config: .buildAudience(entity: "p", rule: .all, emitWhenEmpty: false)),
                Node(
                    id: "s", label: "S",
                    config: .split(seed: 1, subsets: [SplitSubset(label: "x", limit: .count(1))], overlap: false, skipEmpty: false)),
                Node(id: "b", label: "B", config: .wait(duration: "1d")),
                Node(id: "c", label: "C", config: .end),
                Node(id: "d", label: "D", config: .end),
            ],
            edges: [
                Edge(from: "a", to: "s"), Edge(from: "s", port: "subset1", to: "b"), Edge(from: "b", to: "c"),
                Edge(from: "s", port: "complement", to: "d"),
            ])
        let result = GraphLayout.layout(campaign)
        #expect(result.layers.map { $0.sorted() } == [["a"], ["s"], ["b", "d"], ["c"]])
        let withLongEdge = Campaign(
            name: "Long",
            nodes: [
                Node(id: "a", label: "A", config: .buildAudience(entity: "p", rule: .all, emitWhenEmpty: false)),
                Node(
                    id: "s", label: "S",
                    config: .split(seed: 1, subsets: [SplitSubset(label: "x", limit: .count(1))], overlap: false, skipEmpty: false)),
                Node(id: "w", label: "W", config: .wait(duration: "1d")),
                Node(id: "w2", label: "W2", config: .wait(duration: "1d")),
                Node(id: "e", label: "E", config: .end),
            ],
            edges: [
                Edge(from: "a", to: "s"), Edge(from: "s", port: "subset1", to: "w"), Edge(from: "w", to: "w2"),
                Edge(from: "s", port: "complement", to: "e"),
            ])
        let long = GraphLayout.layout(withLongEdge)
        #expect(long.routes.count == 4)
    }

    @Test func addingANodeDoesNotReshuffleTheOthers() {
        var campaign = welcome.campaign
        campaign.nodes.append(Node(id: "extra", label: "Extra", config: .end))
        campaign.edges.append(Edge(from: "push", to: "extra"))
        let next = GraphLayout.layout(campaign, previous: layout)
        for id in ["push", "cityBreaks", "beaches"] {
            #expect(next.order[id] == layout.order[id], "\(id) moved")
        }
    }
}
