public import Foundation
import HeraldCore
import TOMLKit

/// How many colours the terminal can show, decided once at start-up.
public enum ColorDepth: String, Sendable {
    case mono, basic, palette256

    /// `NO_COLOR` wins; then the terminal's colour count.
    public static func detect(colors: Int, environment: [String: String]) -> ColorDepth {
        if let noColor = environment["NO_COLOR"], !noColor.isEmpty { return .mono }
        if colors >= 256 { return .palette256 }
        if colors >= 8 { return .basic }
        return .mono
    }
}

/// A colour resolved for the terminal: -1 is the terminal's own default.
public struct ResolvedStyle: Equatable, Hashable, Sendable {
    public var foreground: Int
    public var background: Int
    public var attributes: TextAttributes

    public init(foreground: Int, background: Int, attributes: TextAttributes) {
        self.foreground = foreground
        self.background = background
        self.attributes = attributes
    }

    public static let plain = ResolvedStyle(foreground: -1, background: -1, attributes: [])
}

/// A theme from `Themes/*.toml`: palette, semantic styles and glyphs.
public struct Theme: Sendable {
    public var name: String
    public var variant: String
    public var palette: [String: String]
    public var styles: [String: String]
    public var glyphs: GlyphSet
    /// Problems found while loading (unknown keys, bad colours); never fatal.
    public var warnings: [String]

    public init(
        name: String, variant: String = "dark", palette: [String: String] = [:], styles: [String: String] = [:],
        glyphs: GlyphSet = .light, warnings: [String] = []
    ) {
        self.name = name
        self.variant = variant
        self.palette = palette
        self.styles = styles
        self.glyphs = glyphs
        self.warnings = warnings
    }

    /// Used when no theme file can be found: terminal colours, light lines.
    public static let fallback = Theme(
        name: "built-in",
        styles: [
            "ui.selection": "default on default reverse", "ui.titlebar": "default bold", "ui.dim": "default dim",
            "ui.keybar.key": "default reverse", "exec.running": "default bold", "exec.failed": "default bold underline",
            "canvas.count": "default bold",
        ])

    static let basicNames = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"]
    static let attributeNames: [String: TextAttributes] = [
        "bold": .bold, "dim": .dim, "underline": .underline, "reverse": .reverse,
    ]

    /// Where themes are looked for, in order: `$HERALD_THEMES`, `./Themes`, the user's config.
    public static func searchPaths(environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        var paths: [String] = []
        if let dir = environment["HERALD_THEMES"] { paths.append(dir) }
        paths.append(FileManager.default.currentDirectoryPath + "/Themes")
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        // A build in .build/<config>/herald finds the checkout's Themes folder.
        var dir = executable.deletingLastPathComponent()
        for _ in 0..<4 {
            paths.append(dir.appendingPathComponent("Themes").path)
            dir = dir.deletingLastPathComponent()
        }
        if let home = environment["HOME"] { paths.append(home + "/.config/herald/themes") }
        var seen = Set<String>()
        return paths.filter { seen.insert(URL(fileURLWithPath: $0).standardizedFileURL.path).inserted }
    }

    /// Names of the themes found on the search paths.
    public static func available(paths: [String] = searchPaths()) -> [String] {
        var names = Set<String>()
        for dir in paths {
            for file in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where file.hasSuffix(".toml") {
                names.insert(String(file.dropLast(5)))
            }
        }
        return names.sorted()
    }

    /// Loads a theme by name, following `inherits`; a missing theme is an error naming the paths.
    /// Loads a theme file by its path (what `herald theme check FILE` checks); `inherits` is
    /// looked up on the search paths.
    public static func load(file: String, paths: [String] = searchPaths()) throws -> Theme {
        guard let data = FileManager.default.contents(atPath: file) else { throw ThemeError(message: "file: \(file) cannot be read") }
        guard let text = String(data: data, encoding: .utf8) else { throw ThemeError(message: "file: \(file) is not UTF-8 text") }
        let name = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        return try parse(text, name: name, source: file, paths: paths, depth: 0)
    }

    public static func load(named name: String, paths: [String] = searchPaths(), depth: Int = 0) throws -> Theme {
        guard depth < 8 else { throw ThemeError(message: "theme '\(name)': 'inherits' chain is too long (a loop?)") }
        for dir in paths {
            let file = dir + "/" + name + ".toml"
            if let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) {
                return try parse(text, name: name, source: file, paths: paths, depth: depth)
            }
        }
        throw ThemeError(
            message:
                "no theme named '\(name)' (looked in \(paths.joined(separator: ", "))); available: \(available(paths: paths).joined(separator: ", "))"
        )
    }

    public struct ThemeError: Error, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    static func parse(_ text: String, name: String, source: String, paths: [String], depth: Int) throws -> Theme {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ThemeError(message: "\(source): \(error.source.begin.debugDescription): \(error.description)")
        } catch {
            throw ThemeError(message: "\(source): \(error)")
        }
        var theme = Theme(name: name)
        if let parent = table["meta"]?.table?["inherits"]?.string, !parent.isEmpty {
            theme = try load(named: parent, paths: paths, depth: depth + 1)
            theme.name = name
        }
        var warnings: [String] = theme.warnings
        for key in table.keys where !["meta", "palette", "styles", "glyphs"].contains(key) {
            warnings.append("\(source): unknown section [\(key)] ignored")
        }
        if let meta = table["meta"]?.table {
            for key in meta.keys where !["name", "variant", "inherits"].contains(key) {
                warnings.append("\(source): unknown key meta.\(key) ignored")
            }
            if let n = meta["name"]?.string { theme.name = n }
            if let v = meta["variant"]?.string { theme.variant = v }
        }
        if let palette = table["palette"]?.table {
            for key in palette.keys {
                guard let value = palette[key]?.string else {
                    warnings.append("\(source): palette.\(key) must be text such as \"#88c0d0 110 cyan\"")
                    continue
                }
                for token in value.split(separator: " ") where !isColorToken(String(token)) {
                    warnings.append("\(source): palette.\(key): '\(token)' is not a colour (use #rrggbb, 0-255 or a basic name)")
                }
                theme.palette[key] = value
            }
        }
        if let styles = table["styles"]?.table {
            for key in styles.keys {
                guard let value = styles[key]?.string else {
                    warnings.append("\(source): styles.\(key) must be text such as \"accent on default bold\"")
                    continue
                }
                theme.styles[key] = value
            }
        }
        if let glyphs = table["glyphs"]?.table {
            for key in glyphs.keys where key != "set" { warnings.append("\(source): unknown key glyphs.\(key) ignored") }
            if let set = glyphs["set"]?.string {
                if let g = GlyphSet.named(set) {
                    theme.glyphs = g
                } else {
                    warnings.append("\(source): glyphs.set '\(set)' is not one of light, rounded, heavy, ascii")
                }
            }
        }
        // Check every style's name and colours now, so `theme check` reports them.
        for role in theme.styles.keys.sorted() where !StyleRole.themeKeys.contains(role) {
            warnings.append(
                "\(source): unknown key styles.\(role) ignored\(Names.suggestion(for: role, in: StyleRole.themeKeys.sorted()))")
        }
        for (role, value) in theme.styles {
            for problem in validateStyle(value, palette: theme.palette) { warnings.append("\(source): styles.\(role): \(problem)") }
        }
        theme.warnings = warnings
        return theme
    }

    static func isColorToken(_ t: String) -> Bool {
        if t == "default" || basicNames.contains(t) || basicNames.contains(where: { "bright" + $0 == t }) { return true }
        if let n = Int(t) { return (0...255).contains(n) }
        return hexRGB(t) != nil
    }

    static func hexRGB(_ t: String) -> (Int, Int, Int)? {
        guard t.hasPrefix("#"), t.count == 7, let v = Int(t.dropFirst(), radix: 16) else { return nil }
        return ((v >> 16) & 0xFF, (v >> 8) & 0xFF, v & 0xFF)
    }

    static func validateStyle(_ value: String, palette: [String: String]) -> [String] {
        var problems: [String] = []
        var tokens = value.split(separator: " ").map(String.init)
        tokens.removeAll { attributeNames[$0] != nil || $0 == "on" }
        for t in tokens where palette[t] == nil && !isColorToken(t) {
            problems.append("'\(t)' is neither a palette name, a colour nor an attribute")
        }
        return problems
    }

    /// The style for a role, looked up from most to least specific (`canvas.node.email`,
    /// `canvas.node`, `canvas`), then resolved for the colour depth.
    public func resolve(_ role: StyleRole, depth: ColorDepth) -> ResolvedStyle {
        var key = role.name
        var spec: String?
        while true {
            if let s = styles[key] {
                spec = s
                break
            }
            guard let dot = key.lastIndex(of: ".") else { break }
            key = String(key[..<dot])
        }
        guard let spec else { return .plain }
        var result = ResolvedStyle.plain
        let tokens = spec.split(separator: " ").map(String.init)
        var colors: [String] = []
        var i = 0
        var sawOn = false
        while i < tokens.count {
            let t = tokens[i]
            if let a = Theme.attributeNames[t] {
                result.attributes.insert(a)
            } else if t == "on" {
                sawOn = true
            } else {
                if sawOn && colors.isEmpty { colors.append("default") }
                colors.append(t)
            }
            i += 1
        }
        if depth == .mono { return result }
        if let fg = colors.first { result.foreground = color(fg, depth: depth) }
        if colors.count > 1 { result.background = color(colors[1], depth: depth) }
        return result
    }

    /// A palette name or colour token at the given depth: the first usable token of the chain wins.
    func color(_ name: String, depth: ColorDepth) -> Int {
        let chain = (palette[name] ?? name).split(separator: " ").map(String.init)
        for t in chain {
            if t == "default" { return -1 }
            if let i = Theme.basicNames.firstIndex(of: t) { return i }
            if t.hasPrefix("bright"), let i = Theme.basicNames.firstIndex(of: String(t.dropFirst(6))) {
                return depth == .palette256 ? i + 8 : i
            }
            if let n = Int(t), (0...255).contains(n) {
                if depth == .palette256 || n < 8 { return n }
                continue
            }
            if let (r, g, b) = Theme.hexRGB(t) {
                if depth == .palette256 { return Theme.quantize256(r, g, b) }
                continue
            }
        }
        // Nothing in the chain fits this depth: approximate the first hex colour.
        if let hex = chain.compactMap(Theme.hexRGB).first { return Theme.nearestBasic(hex.0, hex.1, hex.2) }
        return -1
    }

    /// The xterm 6×6×6 cube or grey ramp entry closest to an RGB colour.
    static func quantize256(_ r: Int, _ g: Int, _ b: Int) -> Int {
        func level(_ v: Int) -> Int { v < 48 ? 0 : v < 115 ? 1 : (v - 35) / 40 }
        let cube = 16 + 36 * level(r) + 6 * level(g) + level(b)
        let grey = (r + g + b) / 3
        if abs(r - grey) < 10 && abs(g - grey) < 10 && abs(b - grey) < 10 {
            if grey < 8 { return 16 }
            if grey > 238 { return 231 }
            return 232 + (grey - 8) / 10
        }
        return cube
    }

    /// The 256-colour index used for an RGB colour (exposed for tests).
    public static func quantizedForTests(_ r: Int, _ g: Int, _ b: Int) -> Int { quantize256(r, g, b) }

    static func nearestBasic(_ r: Int, _ g: Int, _ b: Int) -> Int {
        let rgb = [(0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229)]
        var best = 0
        var bestDistance = Int.max
        for (i, c) in rgb.enumerated() {
            let d = (c.0 - r) * (c.0 - r) + (c.1 - g) * (c.1 - g) + (c.2 - b) * (c.2 - b)
            if d < bestDistance {
                bestDistance = d
                best = i
            }
        }
        return best
    }
}
