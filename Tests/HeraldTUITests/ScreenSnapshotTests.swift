import Foundation
import HeraldCore
import HeraldEngine
import HeraldStore
import HeraldTUI
import Testing

/// Every screen and form at 80×24 and 160×48, in the default (rounded) and the ASCII glyph sets.
@Suite struct ScreenSnapshotTests {
    static let context: EditingContext = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let store = try! Store.openForReading(path: root.appendingPathComponent("sample.db").path)
        return EditingContext(catalog: try! store.catalog(), audiences: try! store.listAudiences())
    }()

    /// The state of each screen, from the canvas of the welcome series.
    static func screen(_ name: String, width: Int, height: Int) -> AppState {
        var state = AppState(storeName: "sample.db")
        state.width = width
        state.height = height
        _ = Reducer.reduce(&state, .campaignsLoaded(ReducerTests.summaries))
        if name == "list" { return state }
        _ = Reducer.reduce(&state, .campaignOpened(welcome))
        _ = Reducer.reduce(&state, .contextLoaded(context))
        func press(_ keys: Key...) { for key in keys { _ = Reducer.reduce(&state, .keyPressed(key)) } }
        func type(_ text: String) { for c in text { press(.char(c)) } }
        switch name {
        case "canvas": break
        case "help": press(.char("?"))
        case "inspector": press(.char("i"))
        case "kind-menu": press(.char("a"))
        case "form-email":
            press(.char("j"), .enter)
        case "form-field":
            press(.enter, .char("j"), .char("j"), .char("j"), .enter)
            type(" and country = \"F")
        case "form-new-split":
            press(.char("a"))
            type("split")
            press(.enter)
        case "list-editor":
            state.canvas?.selected = "split"
            press(.enter, .char("j"), .char("j"), .char("j"), .enter)
        case "item-form":
            state.canvas?.selected = "split"
            press(.enter, .char("j"), .char("j"), .char("j"), .enter, .char("j"), .enter)
        case "field-picker":
            state.canvas?.selected = "welcome"
            press(.enter, .char("j"), .char("j"), .enter)
        case "calendar":
            state.canvas?.selected = "wait"
            press(.enter, .char("j"), .char("j"), .char("j"), .char("e"))
            type("2027-03-28T09:00")
            press(.ctrl("s"), .enter)
        case "confirm-delete": press(.char("d"))
        case "prompt-rename": press(.char("n"))
        case "problems":
            press(.char("j"), .char("X"), .char("v"))
        case "settings": press(.char("s"))
        case "rule-builder":
            press(.enter, .char("j"), .char("j"), .char("j"), .char("t"))
        case "preview":
            press(.char("j"), .enter, .char("p"))
            type("1")
            press(.enter)
            _ = Reducer.reduce(
                &state,
                .recipientsFound(
                    request: state.lastRequest, .profiles("1"),
                    .success([AudienceService.Match(key: "1", title: "Hugo Martin", detail: "hugo@example.test")])))
            press(.enter)
            guard case .preview(let preview) = state.modes.last else { break }
            _ = Reducer.reduce(
                &state,
                .messagePreviewed(
                    request: preview.request,
                    .success(
                        RenderedMessage(
                            fields: [
                                RenderedField(name: "subject", text: "Welcome aboard, Hugo!", segments: nil),
                                RenderedField(name: "text", text: "Hello Hugo, thanks for joining Herald Travel.", segments: nil),
                            ], missing: []))))
        default: Issue.record("no screen \(name)")
        }
        return state
    }

    static let screens = [
        "list", "canvas", "help", "inspector", "kind-menu", "form-email", "form-field", "form-new-split", "list-editor", "item-form",
        "field-picker", "calendar", "confirm-delete",
        "prompt-rename", "problems", "settings", "preview", "rule-builder",
    ]

    @Test(arguments: screens)
    func eachScreen(_ name: String) {
        for (width, height) in [(80, 24), (160, 48)] {
            let state = Self.screen(name, width: width, height: height)
            for (glyphs, set) in [(GlyphSet.rounded, "rounded"), (.ascii, "ascii")] {
                let text = AppView.render(state, glyphs: glyphs).text
                #expect(text.split(separator: "\n", omittingEmptySubsequences: false).allSatisfy { DisplayWidth.of(String($0)) <= width })
                assertSnapshot(text, named: "screen-\(name)-\(width)x\(height)-\(set)")
            }
        }
    }
}
