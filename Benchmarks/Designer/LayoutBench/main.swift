// Layout time of campaign graphs of 10, 50 and 200 nodes, full and compact, in this process:
//   swift run -c release herald-layout-bench [ROUNDS]
// Prints the median and the worst of ROUNDS layouts (default 50) and the median as a share of
// a 60 Hz frame (16.7 ms), the budget a layout after an edit must fit in.
import Foundation
import HeraldCore
import HeraldTUI

/// `branches` audiences, each down a chain of waits to a split with eight subsets and a complement
/// ending in End nodes: 20 nodes per branch (`nodes` / 20 branches; 10 nodes is half a branch).
func graph(nodes count: Int) -> Campaign {
    var nodes: [Node] = []
    var edges: [Edge] = []
    var branch = 0
    while nodes.count < count {
        let start = NodeID("a\(branch)")
        nodes.append(Node(id: start, label: "Audience \(branch)", config: .buildAudience(entity: "p", rule: .all, emitWhenEmpty: false)))
        var last = start
        let waits = count - nodes.count >= 19 ? 9 : max(0, (count - nodes.count) / 2 - 1)
        for step in 0..<waits {
            let wait = NodeID("w\(branch)_\(step)")
            nodes.append(Node(id: wait, label: "Wait \(step)", config: .wait(duration: "1d")))
            edges.append(Edge(from: last, to: wait))
            last = wait
        }
        let room = count - nodes.count - 1
        guard room >= 2 else {
            while nodes.count < count {
                let end = NodeID("x\(nodes.count)")
                nodes.append(Node(id: end, label: "End", config: .end))
                edges.append(Edge(from: last, to: end))
                last = end
            }
            break
        }
        let subsets = min(8, room - 1)
        let split = NodeID("s\(branch)")
        nodes.append(
            Node(
                id: split, label: "Split \(branch)",
                config: .split(
                    seed: 1, subsets: (1...subsets).map { SplitSubset(label: "S\($0)", limit: .percent(10)) }, overlap: false,
                    skipEmpty: false)))
        edges.append(Edge(from: last, to: split))
        for subset in 1...(subsets + 1) {
            let end = NodeID("e\(branch)_\(subset)")
            nodes.append(Node(id: end, label: "End \(subset)", config: .end))
            edges.append(Edge(from: split, port: subset == subsets + 1 ? .complement : .subset(subset), to: end))
        }
        branch += 1
    }
    return Campaign(name: "Bench \(count)", nodes: nodes, edges: edges)
}

let rounds = CommandLine.arguments.count > 1 ? max(1, Int(CommandLine.arguments[1]) ?? 50) : 50
print("Benchmark: layout time (\(rounds) rounds each, release build)")
print("NODES  EDGES  ZOOM      MEDIAN ms  WORST ms  MEDIAN / 16.7 ms FRAME")
for size in [10, 50, 200] {
    let campaign = graph(nodes: size)
    for (name, metrics) in [("full", LayoutMetrics.full), ("compact", .compact)] {
        var times: [Double] = []
        var previous: LayoutResult?
        for _ in 0..<rounds {
            let start = DispatchTime.now().uptimeNanoseconds
            // As after an edit: seeded by the layout before it.
            let layout = GraphLayout.layout(campaign, previous: previous, metrics: metrics)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            previous = layout
        }
        times.sort()
        let median = times[times.count / 2]
        let zoom = name.padding(toLength: 8, withPad: " ", startingAt: 0)
        print(
            String(format: "%5d  %5d  ", campaign.nodes.count, campaign.edges.count) + zoom
                + String(format: "  %9.2f  %8.2f  %.3f", median, times.last ?? 0, median / 16.7))
    }
}
