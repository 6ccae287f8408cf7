import CNCursesW
import Foundation

/// Display width of text in terminal cells: wide East Asian characters take two, combining
/// marks none. Never `String.count`.
///
/// The width is the C library's `wcwidth` of the character's first scalar, which is what
/// ncurses itself uses, so the frame diff and the terminal agree on where a character ends. When
/// `wcwidth` cannot say (the process's locale is not UTF-8, as before the interface sets it, or a
/// scalar it calls unprintable), a built-in table of the wide ranges answers instead.
public enum DisplayWidth {
    public static func of(_ character: Character) -> Int {
        guard let first = character.unicodeScalars.first else { return 0 }
        if first.value == 0 { return 0 }
        let measured = herald_wcwidth(first.value)
        if measured >= 0 { return Int(measured) }
        return table(first)
    }

    /// The width without the C library: combining marks 0, the East Asian wide ranges 2.
    static func table(_ first: Unicode.Scalar) -> Int {
        let v = first.value
        if v == 0 { return 0 }
        if first.properties.generalCategory == .nonspacingMark || first.properties.generalCategory == .enclosingMark { return 0 }
        if v < 0x1100 { return 1 }
        if (0x1100...0x115F).contains(v) || (0x2E80...0xA4CF).contains(v) || (0xAC00...0xD7A3).contains(v)
            || (0xF900...0xFAFF).contains(v) || (0xFE30...0xFE4F).contains(v) || (0xFF00...0xFF60).contains(v)
            || (0xFFE0...0xFFE6).contains(v) || (0x1F300...0x1F64F).contains(v) || (0x1F900...0x1F9FF).contains(v)
            || (0x20000...0x3FFFD).contains(v)
        {
            return 2
        }
        return 1
    }

    public static func of(_ text: String) -> Int { text.reduce(0) { $0 + of($1) } }

    /// Lines of at most `width` cells, broken at spaces (a word longer than a line is cut).
    public static func wrap(_ text: String, to width: Int) -> [String] {
        guard width > 0 else { return [] }
        // Each line of the text on its own; one that fits stays as written (a caret under a
        // rule keeps its indentation).
        if text.contains("\n") {
            return text.split(separator: "\n", omittingEmptySubsequences: false).flatMap { line in
                of(String(line)) <= width ? [String(line)] : wrap(String(line), to: width)
            }
        }
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ").map(String.init) {
            var word = word
            while of(word) > width {
                if !line.isEmpty {
                    lines.append(line)
                    line = ""
                }
                // At least one character per line, so a wide one in a one-cell screen still moves on.
                let fitted = truncate(word, to: width, ellipsis: "")
                let head = fitted.isEmpty ? String(word.prefix(1)) : fitted
                lines.append(head)
                word = String(word.dropFirst(head.count))
            }
            if line.isEmpty {
                line = word
            } else if of(line) + 1 + of(word) <= width {
                line += " " + word
            } else {
                lines.append(line)
                line = word
            }
        }
        if !line.isEmpty { lines.append(line) }
        return lines
    }

    /// Truncates to `width` cells, ending with an ellipsis when something was cut.
    public static func truncate(_ text: String, to width: Int, ellipsis: String = "…") -> String {
        guard width > 0 else { return "" }
        if of(text) <= width { return text }
        let room = width - of(ellipsis)
        var out = ""
        var used = 0
        for c in text {
            let w = of(c)
            if used + w > room { break }
            out.append(c)
            used += w
        }
        return out + ellipsis
    }

    /// Pads with spaces (or truncates) to exactly `width` cells.
    public static func pad(_ text: String, to width: Int) -> String {
        let t = truncate(text, to: width)
        return t + String(repeating: " ", count: max(0, width - of(t)))
    }
}

/// Text attributes independent of colour.
public struct TextAttributes: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let bold = TextAttributes(rawValue: 1)
    public static let dim = TextAttributes(rawValue: 2)
    public static let underline = TextAttributes(rawValue: 4)
    public static let reverse = TextAttributes(rawValue: 8)
}

/// One terminal cell: a grapheme, its display width (0 for the right half of a wide
/// character) and the semantic style role it is drawn with.
public struct Cell: Equatable, Sendable {
    public var text: String
    public var width: UInt8
    public var role: StyleRole

    public static let blank = Cell(text: " ", width: 1, role: .text)
}

/// Line directions for junction glyphs.
public struct Directions: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let north = Directions(rawValue: 1)
    public static let east = Directions(rawValue: 2)
    public static let south = Directions(rawValue: 4)
    public static let west = Directions(rawValue: 8)
}

/// A frame as a value: views draw into it; the terminal driver diffs it against the last one.
public struct CellGrid: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public private(set) var cells: [Cell]
    /// Line segments drawn so far, merged per cell into junction glyphs by ``resolveLines(glyphs:)``.
    var lines: [Int: (Directions, StyleRole)] = [:]

    public init(width: Int, height: Int) {
        self.width = max(0, width)
        self.height = max(0, height)
        cells = Array(repeating: .blank, count: self.width * self.height)
    }

    public static func == (a: CellGrid, b: CellGrid) -> Bool {
        a.width == b.width && a.height == b.height && a.cells == b.cells
    }

    public subscript(x: Int, y: Int) -> Cell {
        get { cells[y * width + x] }
        set { cells[y * width + x] = newValue }
    }

    /// Writes text at (x, y) clipped to `clip` (default: the grid), returning the width used.
    @discardableResult
    public mutating func put(_ text: String, x: Int, y: Int, role: StyleRole, clip: Rect? = nil) -> Int {
        let bounds = clip ?? Rect(x: 0, y: 0, width: width, height: height)
        guard y >= bounds.y, y < bounds.maxY, y >= 0, y < height else { return 0 }
        var col = x
        for original in text {
            // Control characters in user text never reach the terminal: they show as a space.
            let c: Character = original.unicodeScalars.contains { $0.value < 32 || $0.value == 127 } ? " " : original
            let w = DisplayWidth.of(c)
            if w == 0 { continue }
            if col >= bounds.maxX || col >= width { break }
            if col >= bounds.x && col >= 0 && col + w <= min(bounds.maxX, width) {
                self[col, y] = Cell(text: String(c), width: UInt8(w), role: role)
                if w == 2 { self[col + 1, y] = Cell(text: "", width: 0, role: role) }
                lines[y * width + col] = nil
            }
            col += w
        }
        return col - x
    }

    /// Fills a rectangle with spaces in `role` (backgrounds, dialogs).
    public mutating func fill(_ rect: Rect, role: StyleRole) {
        for y in max(0, rect.y)..<min(height, rect.maxY) {
            for x in max(0, rect.x)..<min(width, rect.maxX) {
                self[x, y] = Cell(text: " ", width: 1, role: role)
                lines[y * width + x] = nil
            }
        }
    }

    /// Adds line directions to a cell; glyphs are chosen when the frame is finished.
    public mutating func addLine(x: Int, y: Int, _ directions: Directions, role: StyleRole, clip: Rect? = nil) {
        let bounds = clip ?? Rect(x: 0, y: 0, width: width, height: height)
        guard bounds.contains(x: x, y: y), x >= 0, y >= 0, x < width, y < height else { return }
        let index = y * width + x
        let existing = lines[index]?.0 ?? []
        lines[index] = (existing.union(directions), role)
    }

    /// Turns merged line directions into box-drawing glyphs.
    public mutating func resolveLines(glyphs: GlyphSet) {
        for (index, (dirs, role)) in lines {
            cells[index] = Cell(text: glyphs.junction(dirs), width: 1, role: role)
        }
        lines.removeAll()
    }

    /// The frame as plain text, one line per row with trailing spaces removed.
    public var text: String {
        (0..<height).map { y in
            var line = ""
            for x in 0..<width where self[x, y].width > 0 { line += self[x, y].text }
            while line.hasSuffix(" ") { line.removeLast() }
            return line
        }.joined(separator: "\n")
    }

    /// The style layer: one letter per cell naming its role via `legend`, for snapshots.
    public func styleText(legend: inout [StyleRole: Character]) -> String {
        let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
        return (0..<height).map { y in
            var line = ""
            for x in 0..<width where self[x, y].width > 0 {
                let role = self[x, y].role
                if role == .text && self[x, y].text == " " {
                    line.append(".")
                    continue
                }
                if legend[role] == nil { legend[role] = letters[legend.count % letters.count] }
                line.append(legend[role]!)
            }
            return line
        }.joined(separator: "\n")
    }
}

/// A rectangle of cells.
public struct Rect: Equatable, Hashable, Sendable {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    public var maxX: Int { x + width }
    public var maxY: Int { y + height }
    public var midX: Int { x + width / 2 }
    public var midY: Int { y + height / 2 }

    public func contains(x px: Int, y py: Int) -> Bool { px >= x && px < maxX && py >= y && py < maxY }
}

/// Box-drawing characters for one line style.
public struct GlyphSet: Equatable, Sendable {
    public var name: String
    public var horizontal, vertical, topLeft, topRight, bottomLeft, bottomRight: String
    public var teeDown, teeUp, teeRight, teeLeft, cross: String
    public var arrowDown: String
    public var running, done, failed, skipped, pending: String
    public var ellipsis: String

    public static let light = GlyphSet(
        name: "light", horizontal: "─", vertical: "│", topLeft: "┌", topRight: "┐", bottomLeft: "└", bottomRight: "┘",
        teeDown: "┬", teeUp: "┴", teeRight: "├", teeLeft: "┤", cross: "┼", arrowDown: "▼",
        running: "●", done: "✓", failed: "✗", skipped: "·", pending: "○", ellipsis: "…")
    public static let rounded: GlyphSet = {
        var g = light
        g.name = "rounded"
        g.topLeft = "╭"
        g.topRight = "╮"
        g.bottomLeft = "╰"
        g.bottomRight = "╯"
        return g
    }()
    public static let heavy = GlyphSet(
        name: "heavy", horizontal: "━", vertical: "┃", topLeft: "┏", topRight: "┓", bottomLeft: "┗", bottomRight: "┛",
        teeDown: "┳", teeUp: "┻", teeRight: "┣", teeLeft: "┫", cross: "╋", arrowDown: "▼",
        running: "●", done: "✓", failed: "✗", skipped: "·", pending: "○", ellipsis: "…")
    public static let ascii = GlyphSet(
        name: "ascii", horizontal: "-", vertical: "|", topLeft: "+", topRight: "+", bottomLeft: "+", bottomRight: "+",
        teeDown: "+", teeUp: "+", teeRight: "+", teeLeft: "+", cross: "+", arrowDown: "v",
        running: ">", done: "*", failed: "x", skipped: ".", pending: "o", ellipsis: "~")

    public static func named(_ name: String) -> GlyphSet? {
        [light, rounded, heavy, ascii].first { $0.name == name }
    }

    /// The glyph joining the given directions (tig-style bitmask lookup).
    public func junction(_ d: Directions) -> String {
        let n = d.contains(.north), e = d.contains(.east), s = d.contains(.south), w = d.contains(.west)
        switch (n, e, s, w) {
        case (true, true, true, true): return cross
        case (true, true, true, false): return teeRight
        case (true, false, true, true): return teeLeft
        case (false, true, true, true): return teeDown
        case (true, true, false, true): return teeUp
        case (false, true, true, false): return topLeft
        case (false, false, true, true): return topRight
        case (true, true, false, false): return bottomLeft
        case (true, false, false, true): return bottomRight
        case (true, false, true, false), (true, false, false, false), (false, false, true, false): return vertical
        default: return horizontal
        }
    }
}
