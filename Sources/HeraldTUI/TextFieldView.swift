/// Draws a text buffer in a rectangle, scrolled so the cursor stays in view, with the cursor's
/// cell highlighted.
enum TextFieldView {
    static func draw(_ buffer: TextBuffer, into grid: inout CellGrid, x: Int, y: Int, width: Int, height: Int, role: StyleRole = .field) {
        guard width > 0, height > 0 else { return }
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
}
