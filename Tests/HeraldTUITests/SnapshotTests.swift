import Foundation
import HeraldCore
import HeraldEngine
import HeraldStore
import HeraldTUI
import Testing

@Suite struct SnapshotTests {
    func state(width: Int = 100, height: Int = 40) -> AppState {
        var state = AppState(storeName: "sample.db")
        state.width = width
        state.height = height
        _ = Reducer.reduce(&state, .campaignsLoaded(ReducerTests.summaries))
        return state
    }

    @Test func campaignList() {
        let grid = AppView.render(state(), glyphs: .light)
        assertSnapshot(grid.text, named: "campaign-list")
        var legend: [StyleRole: Character] = [:]
        let styles = grid.styleText(legend: &legend)
        assertSnapshot(
            styles + "\n" + legend.sorted { $0.value < $1.value }.map { "\($0.value) \($0.key)" }.joined(separator: "\n"),
            named: "campaign-list.styles")
    }

    @Test func canvasBeforeAndDuringARun() {
        var s = state()
        _ = Reducer.reduce(&s, .campaignOpened(welcome))
        assertSnapshot(AppView.render(s, glyphs: .rounded).text, named: "canvas-welcome")
        _ = Reducer.reduce(&s, .keyPressed(.char("r")))
        _ = Reducer.reduce(&s, .runProgressed(RunTarget(welcome), .started(runID: 3)))
        for (id, outputs): (NodeID, [PortName: Int]) in [("signups", [.out: 1380]), ("welcome", [.out: 1380]), ("wait", [.out: 1380])] {
            _ = Reducer.reduce(
                &s,
                .runProgressed(RunTarget(welcome), .nodeFinished(id, state: .completed, inputCount: 1380, outputs: outputs, detail: nil)))
        }
        _ = Reducer.reduce(&s, .runProgressed(RunTarget(welcome), .nodeStarted("split")))
        assertSnapshot(AppView.render(s, glyphs: .rounded).text, named: "canvas-welcome-running")
    }

    @Test func asciiGlyphsAndHelp() {
        var s = state(width: 90, height: 30)
        _ = Reducer.reduce(&s, .campaignOpened(welcome))
        _ = Reducer.reduce(&s, .keyPressed(.char("?")))
        assertSnapshot(AppView.render(s, glyphs: .ascii).text, named: "canvas-help-ascii")
    }

    @Test func tooSmallSaysSo() {
        let grid = AppView.render(state(width: 50, height: 12), glyphs: .light)
        #expect(grid.text.contains("Herald needs at least 60×20"))
        #expect(grid.text.contains("50×12"))
        #expect(grid.text.split(separator: "\n").allSatisfy { DisplayWidth.of(String($0)) <= 50 })
    }

    @Test func wideCharactersTakeTwoCellsAndTruncateByWidth() {
        var grid = CellGrid(width: 10, height: 1)
        let used = grid.put("東京タワー tower", x: 0, y: 0, role: .text)
        #expect(used == 10)
        #expect(grid.text == "東京タワー")
        #expect(DisplayWidth.truncate("東京タワー", to: 5) == "東京…")
        #expect(DisplayWidth.of("Chloé") == 5)
    }

    /// Widths come from the C library's wcwidth, as ncurses measures them, under a UTF-8 locale
    /// (which the interface sets); without one, the built-in table answers.
    @Test func widthsFollowWcwidthUnderAUTF8Locale() throws {
        let saved = setlocale(LC_CTYPE, nil).map { String(cString: $0) } ?? "C"
        defer { setlocale(LC_CTYPE, saved) }
        try #require(setlocale(LC_CTYPE, "C.UTF-8") != nil)
        #expect(DisplayWidth.of(Character("a")) == 1)
        #expect(DisplayWidth.of(Character("東")) == 2)
        #expect(DisplayWidth.of(Character("\u{1F600}")) == 2)
        // A zero-width space takes no cell to the terminal; the table would have said one.
        #expect(DisplayWidth.of(Character("\u{200B}")) == 0)
        setlocale(LC_CTYPE, "C")
        #expect(DisplayWidth.of(Character("\u{200B}")) == 1)
        #expect(DisplayWidth.of(Character("東")) == 2)
    }
}

/// The value chart the command line and the rule builder draw.
@Suite struct BarChartTests {
    @Test func barsScaleToTheLargestAndColumnsAlignByCells() {
        let lines = BarChart.lines([("FR", 300), ("東京", 100), ("", 0)], barWidth: 30)
        #expect(lines.count == 3)
        // Labels are padded by display width: the two-cell characters take as much room as FR plus two.
        #expect(lines[0].hasPrefix("FR           300   75.0%  "))
        #expect(lines[1].hasPrefix("東京         100   25.0%  "))
        #expect(lines[0].filter { $0 == "█" }.count == 30)
        #expect(lines[1].filter { $0 == "█" }.count == 10)
        #expect(lines[2].filter { $0 == "█" }.isEmpty)
        #expect(Set(lines.map { DisplayWidth.of(String($0.prefix { $0 != "%" })) }).count == 1, "the percentages end in one column")
        // Long labels are cut, with an ellipsis, to the limit.
        let long = BarChart.lines([(String(repeating: "x", count: 50), 1)], labelLimit: 10)
        #expect(DisplayWidth.of(String(long[0].prefix { $0 != " " })) == 10)
    }
}
