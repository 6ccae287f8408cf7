import HeraldCore
import Testing

@testable import HeraldTUI

/// Moving between nodes on the canvas.
@Suite struct NavigationTests {
    /// Compact nodes sit close together vertically and far apart across: down goes to the
    /// node's children (the nearest across among them), not to a node two layers below that
    /// happens to be straight under it.
    @Test func downGoesToTheNextLayerFirst() {
        let boxes: [NodeID: Rect] = [
            "a": Rect(x: 30, y: 0, width: 20, height: 1),
            "b": Rect(x: 0, y: 4, width: 20, height: 1),
            "c": Rect(x: 60, y: 4, width: 20, height: 1),
            "d": Rect(x: 30, y: 8, width: 20, height: 1),
        ]
        let layout = LayoutResult(
            boxes: boxes, layers: [["a"], ["b", "c"], ["d"]], routes: [], width: 80, height: 9, order: [:], metrics: .compact)
        #expect(CanvasNavigation.nearest(from: "a", dx: 0, dy: 1, in: layout) == "b")
        #expect(CanvasNavigation.nearest(from: "c", dx: 0, dy: 1, in: layout) == "d")
        #expect(CanvasNavigation.nearest(from: "d", dx: 0, dy: -1, in: layout) == "b")
        #expect(CanvasNavigation.nearest(from: "a", dx: 0, dy: -1, in: layout) == nil)
    }
}
