/// Draws a text buffer in a rectangle, scrolled so the cursor stays in view, with the cursor's
/// cell highlighted.
enum TextFieldView {
    static func draw(_ buffer: TextBuffer, into grid: inout CellGrid, x: Int, y: Int, width: Int, height: Int, role: StyleRole = .field) {
        guard width > 0, height > 0 else { return }
        if buffer.multiline {
            drawWrapped(buffer, into: &grid, x: x, y: y, width: width, height: height, role: role)
            return
        }
        let firstLine = max(0, buffer.row - height + 1)
        for (i, line) in buffer.lines.indices.dropFirst(firstLine).prefix(height).enumerated() {
            let window = buffer.window(line: line, width: width)
            grid.fill(Rect(x: x, y: y + i, width: width, height: 1), role: role)
            grid.put(window.text, x: x, y: y + i, role: role)
            if let cursor = window.cursor {
                let under =
                    buffer.lines[line].indices.contains(buffer.column) && line == buffer.row
                    ? String(buffer.lines[line][buffer.column]) : " "
                grid.put(under, x: x + cursor, y: y + i, role: .cursor)
            }
        }
    }

    /// One screen row of a wrapped buffer: which line, and which of its characters.
    struct VisualRow {
        var line: Int
        var start: Int
        var end: Int
    }

    /// The rows a multi-line buffer takes when its lines wrap at `width` cells, one cell kept
    /// at the right for the cursor after a full row.
    static func wrap(_ buffer: TextBuffer, width: Int) -> [VisualRow] {
        var rows: [VisualRow] = []
        let room = max(1, width - 1)
        for (index, line) in buffer.lines.enumerated() {
            var start = 0
            repeat {
                var used = 0
                var end = start
                while end < line.count, used + DisplayWidth.of(line[end]) <= room {
                    used += DisplayWidth.of(line[end])
                    end += 1
                }
                if end == start && end < line.count { end += 1 }  // a character wider than the field
                rows.append(VisualRow(line: index, start: start, end: end))
                start = end
            } while start < line.count
        }
        return rows
    }

    /// A multi-line buffer with its long lines wrapped rather than cut at the field's edge,
    /// scrolled so the cursor's row shows.
    static func drawWrapped(_ buffer: TextBuffer, into grid: inout CellGrid, x: Int, y: Int, width: Int, height: Int, role: StyleRole) {
        let rows = wrap(buffer, width: width)
        // The cursor's row: the one of its line that holds its column (the last at the line's end).
        let cursorRow =
            rows.indices.last { rows[$0].line == buffer.row && rows[$0].start <= buffer.column }
            ?? 0
        let first = max(0, cursorRow - height + 1)
        for (i, index) in rows.indices.dropFirst(first).prefix(height).enumerated() {
            let row = rows[index]
            let text = String(buffer.lines[row.line][row.start..<row.end])
            grid.fill(Rect(x: x, y: y + i, width: width, height: 1), role: role)
            grid.put(text, x: x, y: y + i, role: role)
            if index == cursorRow {
                let before = DisplayWidth.of(String(buffer.lines[row.line][row.start..<min(buffer.column, row.end)]))
                let under = buffer.column < buffer.lines[row.line].count ? String(buffer.lines[row.line][buffer.column]) : " "
                grid.put(under, x: x + before, y: y + i, role: .cursor)
            }
        }
    }
}
