import Foundation
import HeraldCore
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
        let email = theme.resolve(.node(.email), depth: .palette256)
        // The default theme has no style of its own for these kinds: canvas.node serves them.
        let deduplicate = theme.resolve(.node(.deduplicate), depth: .palette256)
        let fork = theme.resolve(.node(.fork), depth: .palette256)
        #expect(theme.styles["canvas.node.deduplicate"] == nil && theme.styles["canvas.node"] != nil)
        #expect(email != deduplicate)
        #expect(deduplicate == fork)
        #expect(theme.resolve(.canvasTitle, depth: .palette256).attributes.contains(.bold))
    }

    @Test func colourDepthPicksTheFirstUsableToken() throws {
        let theme = Theme(name: "t", palette: ["accent": "#88c0d0 110 cyan"], styles: ["ui.text": "accent on default bold"])
        #expect(theme.resolve(.text, depth: .palette256).foreground == Theme.quantizedForTests(0x88, 0xc0, 0xd0))
        #expect(theme.resolve(.text, depth: .basic).foreground == 6)  // cyan
        #expect(theme.resolve(.text, depth: .mono) == ResolvedStyle(foreground: -1, background: -1, attributes: [.bold]))
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
            "ui.dialogue" = "accent"
            "canvas.node.email" = "accent"
            "canvas" = "accent"
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
            "unknown key styles.ui.dialogue ignored; did you mean 'ui.dialog'?",
        ] {
            #expect(text.contains(expected), "missing warning: \(expected)\n\(text)")
        }
        // A kind's own style and a group of roles are known keys.
        #expect(!text.contains("styles.canvas.node.email") && !text.contains("styles.canvas "), "\(text)")
        #expect(throws: Theme.ThemeError.self) { try Theme.load(named: "missing", paths: [dir]) }
    }
}

/// The default theme styles every role the views draw with (itself or through a group), so no
/// role added to the views goes unstyled.
@Suite struct StyleRoleTests {
    @Test func theDefaultThemeStylesEveryRole() throws {
        let theme = try Theme.load(named: "default", paths: [ThemeTests.folder])
        for role in StyleRole.all {
            var name = Substring(role.name)
            var styled = theme.styles[String(name)] != nil
            while !styled, let dot = name.lastIndex(of: ".") {
                name = name[..<dot]
                styled = theme.styles[String(name)] != nil
            }
            #expect(styled, "\(role) has no style in the default theme")
        }
    }
}
