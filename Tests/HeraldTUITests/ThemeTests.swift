import Foundation
import HeraldTUI
import Testing

@Suite struct ThemeTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Themes").path

    @Test(arguments: ["default", "light", "mono", "ascii", "nord", "gruvbox"])
    func shippedThemesLoadWithoutWarnings(name: String) throws {
        let theme = try Theme.load(named: name, paths: [Self.folder])
        #expect(theme.warnings == [], "\(theme.warnings)")
    }

    @Test func rolesFallBackFromSpecificToGeneral() throws {
        let theme = try Theme.load(named: "default", paths: [Self.folder])
        let email = theme.resolve("canvas.node.email", depth: .palette256)
        let unknownKind = theme.resolve("canvas.node.somethingNew", depth: .palette256)
        let node = theme.resolve("canvas.node", depth: .palette256)
        #expect(email != node)
        #expect(unknownKind == node)
        #expect(theme.resolve("canvas.title", depth: .palette256).attributes.contains(.bold))
    }

    @Test func colourDepthPicksTheFirstUsableToken() throws {
        let theme = Theme(name: "t", palette: ["accent": "#88c0d0 110 cyan"], styles: ["x": "accent on default bold"])
        #expect(theme.resolve("x", depth: .palette256).foreground == Theme.quantizedForTests(0x88, 0xc0, 0xd0))
        #expect(theme.resolve("x", depth: .basic).foreground == 6)  // cyan
        #expect(theme.resolve("x", depth: .mono) == ResolvedStyle(foreground: -1, background: -1, attributes: [.bold]))
        #expect(ColorDepth.detect(colors: 256, environment: ["NO_COLOR": "1"]) == .mono)
        #expect(ColorDepth.detect(colors: 256, environment: [:]) == .palette256)
        #expect(ColorDepth.detect(colors: 8, environment: [:]) == .basic)
    }

    @Test func badThemesWarnInsteadOfFailing() throws {
        let dir = NSTemporaryDirectory() + "herald-themes-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data(
            """
            [meta]
            name = "odd"
            colour = "x"
            [palette]
            accent = "#12345 chartreuse"
            [styles]
            "ui.text" = "accent on nowhere blink"
            [glyphs]
            set = "curly"
            [extras]
            """.utf8
        ).write(to: URL(fileURLWithPath: dir + "/odd.toml"))
        let theme = try Theme.load(named: "odd", paths: [dir])
        let text = theme.warnings.joined(separator: "\n")
        for expected in [
            "unknown key meta.colour", "'#12345' is not a colour", "'chartreuse' is not a colour", "'nowhere' is neither",
            "'blink' is neither", "glyphs.set 'curly'", "unknown section [extras]",
        ] {
            #expect(text.contains(expected), "missing warning: \(expected)\n\(text)")
        }
        #expect(throws: Theme.ThemeError.self) { try Theme.load(named: "missing", paths: [dir]) }
    }
}
