/// Text being edited, one line or several, with a cursor. Positions count characters
/// (grapheme clusters), so a cursor never lands inside one.
public struct TextBuffer: Equatable, Sendable {
    public private(set) var lines: [[Character]]
    public private(set) var row = 0
    public private(set) var column = 0
    /// Whether Enter breaks the line (a message body) or belongs to the field (a name).
    public let multiline: Bool

    public init(_ text: String = "", multiline: Bool = false) {
        self.multiline = multiline
        let split = text.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0) }
        lines = multiline ? (split.isEmpty ? [[]] : split) : [Array(text.map { $0 == "\n" ? " " : $0 })]
        row = lines.count - 1
        column = lines[row].count
    }

    public var text: String { lines.map { String($0) }.joined(separator: "\n") }
    public var isEmpty: Bool { lines.count == 1 && lines[0].isEmpty }

    public mutating func insert(_ c: Character) {
        if c == "\n" {
            guard multiline else { return }
            let rest = Array(lines[row][column...])
            lines[row].removeSubrange(column...)
            lines.insert(rest, at: row + 1)
            row += 1
            column = 0
            return
        }
        lines[row].insert(c, at: column)
        column += 1
    }

    public mutating func insert(_ s: String) { for c in s { insert(c) } }

    /// The word that ends at the cursor: letters, digits, `_` and `.` (an attribute path).
    public var wordBeforeCursor: String {
        var start = column
        let line = lines[row]
        while start > 0, line[start - 1].isLetter || line[start - 1].isNumber || line[start - 1] == "_" || line[start - 1] == "." {
            start -= 1
        }
        return String(line[start..<column])
    }

    /// Deletes the character before the cursor (joining lines at a line's start).
    public mutating func backspace() {
        if column > 0 {
            lines[row].remove(at: column - 1)
            column -= 1
        } else if row > 0 {
            column = lines[row - 1].count
            lines[row - 1] += lines[row]
            lines.remove(at: row)
            row -= 1
        }
    }

    /// Deletes the character under the cursor.
    public mutating func deleteForward() {
        if column < lines[row].count {
            lines[row].remove(at: column)
        } else if row + 1 < lines.count {
            lines[row] += lines[row + 1]
            lines.remove(at: row + 1)
        }
    }

    /// Deletes from the line's start to the cursor (Ctrl-U).
    public mutating func deleteToLineStart() {
        lines[row].removeSubrange(0..<column)
        column = 0
    }

    public mutating func moveLeft() {
        if column > 0 {
            column -= 1
        } else if row > 0 {
            row -= 1
            column = lines[row].count
        }
    }

    public mutating func moveRight() {
        if column < lines[row].count {
            column += 1
        } else if row + 1 < lines.count {
            row += 1
            column = 0
        }
    }

    public mutating func moveUp() {
        guard row > 0 else { return }
        row -= 1
        column = min(column, lines[row].count)
    }

    public mutating func moveDown() {
        guard row + 1 < lines.count else { return }
        row += 1
        column = min(column, lines[row].count)
    }

    public mutating func moveToLineStart() { column = 0 }
    public mutating func moveToLineEnd() { column = lines[row].count }

    /// Applies an editing key; false when the key does not edit text.
    @discardableResult
    public mutating func apply(_ key: Key) -> Bool {
        switch key {
        case .char(let c): insert(c)
        case .enter where multiline: insert("\n")
        case .tab where multiline: insert("    ")
        case .backspace: backspace()
        case .ctrl("d"): deleteForward()
        case .ctrl("u"): deleteToLineStart()
        case .left: moveLeft()
        case .right: moveRight()
        case .up where multiline: moveUp()
        case .down where multiline: moveDown()
        case .home, .ctrl("a"): moveToLineStart()
        case .end, .ctrl("e"): moveToLineEnd()
        default: return false
        }
        return true
    }

    /// The visible part of one line `width` cells wide that keeps the cursor in view: the line's
    /// text from `offset` and the cursor's cell within it (nil on other lines).
    public func window(line: Int, width: Int) -> (text: String, cursor: Int?) {
        let chars = lines[line]
        guard width > 0 else { return ("", nil) }
        // Scroll horizontally on the cursor's line only; other lines show from their start.
        var start = 0
        if line == row {
            var used = 0
            start = column
            while start > 0 {
                let w = DisplayWidth.of(String(chars[start - 1]))
                if used + w >= width { break }
                used += w
                start -= 1
            }
        }
        var text = ""
        var used = 0
        var cursorCell: Int?
        for (i, c) in chars.enumerated().dropFirst(start) {
            if line == row && i == column { cursorCell = used }
            let w = DisplayWidth.of(String(c))
            if used + w > width { break }
            text.append(c)
            used += w
        }
        if line == row && cursorCell == nil { cursorCell = min(used, width - 1) }
        return (text, cursorCell)
    }
}
