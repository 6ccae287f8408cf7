import Foundation
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

extension NavigationTests {
    /// In compact zoom a line that turns right below a node joins it and nothing below: no
    /// junction glyph draws a line that is not there.
    @Test func compactJunctionsDrawOnlyTheirLines() throws {
        let (session, folder) = try FieldWidgetTests().canvas(of: "Summer sale", selecting: "customers", width: 80, height: 24)
        defer {
            session.close()
            try? FileManager.default.removeItem(atPath: folder)
        }
        session.press(.char("z"), .char("z"))
        #expect(session.state.canvas?.layout.metrics == .compact)
        let screen = session.screen()
        #expect(screen.contains("╰────╮") && screen.contains("╭─────╯"), "\(screen)")
        #expect(!screen.contains("├") && !screen.contains("┤") && !screen.contains("┼"), "\(screen)")
    }
}
