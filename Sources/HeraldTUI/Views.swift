import HeraldCore
import HeraldStore

/// Pure rendering: state in, frame out. No curses here.
public enum AppView {
    public static let minimumWidth = 60
    public static let minimumHeight = 20

    public static func render(_ state: AppState, glyphs: GlyphSet) -> CellGrid {
        var grid = CellGrid(width: state.width, height: state.height)
        if state.isTooSmall {
            let notice =
                "Herald needs at least \(minimumWidth)×\(minimumHeight) cells; this terminal is \(state.width)×\(state.height). Enlarge it, or press Q to quit (an unsaved campaign is kept as a draft)."
            // Wrapped to the screen it is shown on, however small.
            for (i, line) in DisplayWidth.wrap(notice, to: state.width).prefix(state.height).enumerated() {
                grid.put(line, x: 0, y: i, role: .warning)
            }
            return grid
        }
        let title: String
        switch state.screen {
        case .campaignList: title = "Campaigns"
        case .canvas:
            let name = state.canvas?.draft.name ?? "Canvas"
            let version = state.canvas?.stored.map { " v\($0.version)" } ?? " (new)"
            title = name + version + (state.canvas?.isDirty == true ? " [modified]" : "")
        }
        grid.fill(Rect(x: 0, y: 0, width: state.width, height: 1), role: .titlebar)
        grid.put(DisplayWidth.truncate(" Herald  \(state.storeName)  ›  \(title)", to: state.width), x: 0, y: 0, role: .titlebar)
        if state.busy > 0 {
            let label = " working… "
            grid.put(label, x: state.width - DisplayWidth.of(label), y: 0, role: .running)
        }
        let content = Rect(x: 0, y: 1, width: state.width, height: state.height - 3)
        switch state.screen {
        case .campaignList: CampaignListView.render(state, into: &grid, rect: content)
        case .canvas: CanvasView.render(state, into: &grid, rect: content, glyphs: glyphs)
        }
        grid.resolveLines(glyphs: glyphs)
        grid.put(DisplayWidth.truncate(state.status, to: state.width), x: 0, y: state.height - 2, role: .status)
        KeyBar.render(state, into: &grid, y: state.height - 1)
        // Each level of the focus stack over the one below it. A list or a part's form hides
        // the form it was opened from; menus and questions leave it in sight.
        var covered = 0
        // The problems of the form a list belongs to, shown with the list.
        var problems: [String] = []
        for mode in state.modes {
            switch mode {
            case .inspector(let id): InspectorView.render(state, node: id, into: &grid, glyphs: glyphs)
            case .menu(let menu): MenuScreen.render(menu, into: &grid, glyphs: glyphs)
            case .confirm(let question): ConfirmScreen.render(question, into: &grid, glyphs: glyphs)
            case .prompt(let prompt): PromptScreen.render(prompt, into: &grid, glyphs: glyphs)
            case .nodeForm(let form):
                NodeFormScreen.render(form, covering: form.target == .node ? 0 : covered, into: &grid, glyphs: glyphs)
                covered = max(covered, NodeFormScreen.lines(form, width: Dialog.width(grid)))
                problems = form.messages
            case .problems(let selection): ProblemsScreen.render(state, selection: selection, into: &grid, glyphs: glyphs)
            case .preview(let preview): PreviewScreen.render(preview, into: &grid, glyphs: glyphs)
            case .ruleBuilder(let builder): RuleBuilderScreen.render(builder, state: state, into: &grid, glyphs: glyphs)
            case .commandLine(let buffer): CommandLineScreen.render(buffer, state: state, into: &grid)
            case .listEditor(let list):
                ListEditorScreen.render(list, problems: problems, covering: covered, into: &grid, glyphs: glyphs)
                covered = max(covered, ListEditorScreen.lines(list, messages: problems, width: Dialog.width(grid)))
            case .weekdays(let picker): WeekdayScreen.render(picker, into: &grid, glyphs: glyphs)
            case .calendar(let picker): CalendarScreen.render(picker, covering: covered, into: &grid, glyphs: glyphs)
            case .connect: break  // drawn on the canvas itself
            }
        }
        return grid
    }
}

enum KeyBar {
    static func render(_ state: AppState, into grid: inout CellGrid, y: Int) {
        var x = 0
        for command in CommandRegistry.active(for: state) where command.inKeyBar {
            let enabled = command.disabledReason(state) == nil
            let key = " \(command.keyLabel(in: state)) "
            let label = " \(command.title)  "
            if x + DisplayWidth.of(key) + DisplayWidth.of(label) > grid.width { break }
            x += grid.put(key, x: x, y: y, role: enabled ? .keybarKey : .dim)
            x += grid.put(label, x: x, y: y, role: enabled ? .keybarLabel : .dim)
        }
    }
}

enum CampaignListView {
    static func render(_ state: AppState, into grid: inout CellGrid, rect: Rect) {
        if state.listCount == 0 {
            grid.put(
                DisplayWidth.truncate(
                    "No campaigns in this store. Press n to create one, or import a file: herald campaign import FILE", to: rect.width - 2),
                x: 2, y: rect.y + 1, role: .dim)
            return
        }
        func row(_ cells: [(String, Int)]) -> String {
            cells.map { DisplayWidth.pad($0.0, to: $0.1) }.joined(separator: " ")
        }
        // The name takes every column the others leave (a leading space, one between each).
        let others = [("NODES", 5), ("VER", 3), ("LAST RUN", 19), ("MESSAGES", 9), ("NEXT LAUNCH", 16)]
        let nameWidth = max(16, rect.width - 1 - others.reduce(0) { $0 + $1.1 + 1 })
        let columns = [("NAME", nameWidth)] + others
        grid.put(" " + row(columns), x: 0, y: rect.y, role: .header)
        let visible = rect.height - 4
        let first = max(0, state.listSelection - visible + 1)
        let rows: [[String]] =
            state.campaigns.map { c in
                let lastRun = c.lastRun.map { "#\($0.id) \($0.dryRun ? "dry " : "")\($0.state.rawValue)" } ?? "never run"
                // Exact where it fits the column, compact otherwise; never cut.
                let messages =
                    c.lastRunMessages.map { n in Names.groupedCount(n).count <= 9 ? Names.groupedCount(n) : Names.compactCount(n)
                    }
                    ?? "-"
                // Edits kept as a draft, not saved as a version yet.
                let name = state.draftedCampaigns.contains(c.id) ? c.name + " (draft)" : c.name
                return [name, String(c.nodeCount), String(c.version), lastRun, messages, state.nextLaunches[c.id] ?? "-"]
            } + state.newDrafts.map { d in [d.campaign.name, String(d.campaign.nodes.count), "-", "unsaved draft", "-", "-"] }
        for (i, cells) in rows.enumerated().dropFirst(first).prefix(visible) {
            let y = rect.y + 1 + i - first
            let text =
                " "
                + row(zip(cells, columns.map(\.1)).map { (DisplayWidth.truncate($0, to: $1), $1) })
            let selected = i == state.listSelection
            if selected { grid.fill(Rect(x: 0, y: y, width: rect.width, height: 1), role: .selection) }
            grid.put(text, x: 0, y: y, role: selected ? .selection : .text)
        }
        if let c = state.selectedCampaign, !c.description.isEmpty {
            // Whole where the rows below the list leave room (up to three lines), cut only
            // where they do not.
            let shown = min(rows.count - first, visible)
            let room = max(1, min(3, rect.maxY - 2 - (rect.y + 1 + shown)))
            var lines = DisplayWidth.wrap(c.description, to: rect.width - 2)
            if lines.count > room {
                lines = Array(lines.prefix(room))
                lines[room - 1] = DisplayWidth.truncate(lines[room - 1] + " …", to: rect.width - 2)
            }
            for (i, line) in lines.enumerated() {
                grid.put(line, x: 1, y: rect.maxY - 1 - lines.count + i, role: .dim)
            }
        }
    }
}

public enum CanvasView {
    /// The canvas area of the screen, below the title bar and above the status and key bars.
    public static func viewport(_ state: AppState) -> Rect {
        Rect(x: 0, y: 1, width: state.width, height: max(0, state.height - 3))
    }

    /// Where the layout's (0, 0) is on the screen: narrow graphs centred, wide ones scrolled.
    static func origin(_ state: AppState) -> (Int, Int) {
        guard let canvas = state.canvas else { return (0, 0) }
        let rect = viewport(state)
        return (rect.x - canvas.scrollX + max(0, (rect.width - canvas.layout.width) / 2), rect.y + 1 - canvas.scrollY)
    }

    /// The node drawn at a cell of the screen, if any (the outline's line, in the outline).
    static func node(at x: Int, _ y: Int, in state: AppState) -> NodeID? {
        guard let canvas = state.canvas else { return nil }
        let rect = viewport(state)
        if canvas.zoom == .outline {
            let line = y - rect.y - 1 + canvas.scrollY
            let lines = OutlineView.lines(canvas.draft)
            return lines.indices.contains(line) && !lines[line].repeated ? lines[line].node : nil
        }
        let (ox, oy) = origin(state)
        return canvas.layout.boxes.first { _, box in
            x >= box.x + ox && x < box.maxX + ox && y >= box.y + oy && y < box.maxY + oy
        }?.key
    }

    static func render(_ state: AppState, into grid: inout CellGrid, rect: Rect, glyphs: GlyphSet) {
        guard let canvas = state.canvas else { return }
        let layout = canvas.layout
        let campaign = canvas.draft
        if campaign.nodes.isEmpty {
            grid.put(
                DisplayWidth.truncate("An empty campaign. Press A to add its first node (a Build or Read audience).", to: rect.width - 2),
                x: 2, y: rect.y + 1, role: .dim)
            return
        }
        if canvas.zoom == .outline {
            OutlineView.render(state, into: &grid, rect: rect, glyphs: glyphs)
            return
        }
        var connectTarget: NodeID?
        if case .connect(let connect) = state.modes.last { connectTarget = connect.target }
        let selectedSource = canvas.selectedSource
        // Centre narrow graphs; scroll wide ones.
        let (ox, oy) = origin(state)
        let run = canvas.run

        for route in layout.routes {
            let count = run?.edgeCounts[route.edge.source]
            // Lines keep one colour as counts arrive (an empty transition is dimmed): the count beside
            // the arrow is what changes.
            let role: StyleRole = count == 0 ? .emptyEdge : .edge
            for (a, b) in zip(route.points, route.points.dropFirst()) {
                drawSegment(&grid, Point(x: a.x + ox, y: a.y + oy), Point(x: b.x + ox, y: b.y + oy), role: role, clip: rect)
            }
            if let last = route.points.last {
                grid.put(glyphs.arrowDown, x: last.x + ox, y: last.y + oy, role: role, clip: rect)
            }
            // Port name and live count beside the final drop, within its lane and the screen.
            let node = campaign.node(route.edge.from)
            let port = node?.outputPorts.count ?? 0 > 1 ? (node?.portLabel(route.edge.port) ?? route.edge.port.name) : ""
            let x = route.labelAnchor.x + ox
            let label = EdgeLabel.text(port: port, count: count, room: min(route.labelWidth, rect.maxX - x), ellipsis: glyphs.ellipsis)
            if !label.isEmpty {
                let chosen = canvas.selectedPort != nil && route.edge.source == selectedSource
                grid.put(
                    label, x: x, y: route.labelAnchor.y + oy,
                    role: chosen ? .selection : (count == nil ? .port : .count),
                    clip: rect)
            }
        }
        for node in campaign.nodes {
            guard let box = layout.boxes[node.id] else { continue }
            let b = Rect(x: box.x + ox, y: box.y + oy, width: box.width, height: box.height)
            let selected = canvas.selected == node.id || connectTarget == node.id
            let state = run?.nodeStates[node.id]
            // A box keeps its kind's colour while it runs: the state shows in its mark, so a count
            // changing redraws a few cells, not the box (only a failure colours the whole box).
            let border: StyleRole = state == .failed ? .failed : .node(node.kind)
            let markRole: StyleRole
            switch state {
            case .running, .waiting: markRole = .running
            case .completed: markRole = .done
            case .failed: markRole = .failed
            case .skipped: markRole = .skipped
            default: markRole = .kind(node.kind)
            }
            if layout.metrics.isCompact {
                drawCompact(
                    &grid, node, b, glyphs: glyphs, role: border, labelRole: selected ? .selection : border, markRole: markRole,
                    state: state, run: run, clip: rect)
                continue
            }
            drawBox(&grid, b, glyphs: glyphs, role: border, clip: rect)
            if !campaign.outbound(node.id).isEmpty {
                grid.put(glyphs.teeDown, x: b.midX, y: b.maxY - 1, role: border, clip: rect)
            }
            let inner = b.width - 4
            // The selection is the label in reverse: moving it redraws two labels, not two boxes.
            let label = DisplayWidth.truncate(node.label, to: inner, ellipsis: glyphs.ellipsis)
            let used = grid.put(label, x: b.x + 2, y: b.y + 1, role: selected ? .selection : .canvasTitle, clip: rect)
            grid.put(String(repeating: " ", count: max(0, inner - used)), x: b.x + 2 + used, y: b.y + 1, role: .canvasTitle, clip: rect)
            var second = node.kind.title
            let mark: String
            switch state {
            case .running: mark = glyphs.running + " running"
            case .completed:
                mark = glyphs.done + (Self.finishedCount(node, run: run).map { " " + Names.compactCount($0.count) + $0.unit } ?? "")
            case .failed: mark = glyphs.failed + " failed"
            case .skipped: mark = glyphs.skipped + " skipped"
            case .waiting: mark = glyphs.running + " waiting"
            default: mark = ""
            }
            if !mark.isEmpty { second = DisplayWidth.truncate(second, to: inner - DisplayWidth.of(mark) - 1, ellipsis: glyphs.ellipsis) }
            let kindText = DisplayWidth.pad(second, to: inner - DisplayWidth.of(mark))
            let x = b.x + 2 + grid.put(kindText, x: b.x + 2, y: b.y + 2, role: .kind(node.kind), clip: rect)
            grid.put(mark, x: x, y: b.y + 2, role: markRole, clip: rect)
        }
        if let error = run?.error {
            grid.put(DisplayWidth.truncate("error: " + error, to: rect.width), x: 0, y: rect.maxY - 1, role: .failed)
        }
    }

    /// The count a finished node's mark shows: a live channel node's sent messages, or the
    /// population a node that starts a branch found; nil for the others.
    static func finishedCount(_ node: Node, run: RunView?) -> (count: Int, unit: String)? {
        if let sent = run?.messages[node.id]?[.sent] { return (sent, " sent") }
        guard node.startsBranch else { return nil }
        return (run?.edgeCounts.filter { $0.key.node == node.id }.values.reduce(0, +) ?? 0, "")
    }

    /// A node on one line: `[label  ✓ 138]`, coloured by its kind or its run state.
    static func drawCompact(
        _ grid: inout CellGrid, _ node: Node, _ b: Rect, glyphs: GlyphSet, role: StyleRole, labelRole: StyleRole, markRole: StyleRole,
        state: RunState?, run: RunView?, clip: Rect
    ) {
        let mark: String
        switch state {
        case .running, .waiting: mark = glyphs.running
        case .completed:
            mark = glyphs.done + (Self.finishedCount(node, run: run).map { Names.compactCount($0.count) } ?? "")
        case .failed: mark = glyphs.failed
        case .skipped: mark = glyphs.skipped
        default: mark = ""
        }
        let inner = b.width - 2
        let labelRoom = inner - (mark.isEmpty ? 0 : DisplayWidth.of(mark) + 1)
        let label = DisplayWidth.pad(DisplayWidth.truncate(node.label, to: labelRoom, ellipsis: glyphs.ellipsis), to: labelRoom)
        // Only the label shows the selection, so moving it redraws two labels.
        var x = b.x + grid.put("[", x: b.x, y: b.y, role: role, clip: clip)
        x += grid.put(label, x: x, y: b.y, role: labelRole, clip: clip)
        if !mark.isEmpty {
            x += grid.put(" ", x: x, y: b.y, role: role, clip: clip)
            x += grid.put(mark, x: x, y: b.y, role: markRole, clip: clip)
        }
        grid.put("]", x: x, y: b.y, role: role, clip: clip)
    }

    static func drawSegment(_ grid: inout CellGrid, _ a: Point, _ b: Point, role: StyleRole, clip: Rect) {
        if a.x == b.x {
            let (y0, y1) = (min(a.y, b.y), max(a.y, b.y))
            for y in y0...y1 {
                var d: Directions = []
                if y > y0 { d.insert(.north) }
                if y < y1 { d.insert(.south) }
                // A route's first point, right below its node, where compact nodes turn at once:
                // it joins the node above, and nothing below.
                if y0 == y1 { d = [.north] }
                grid.addLine(x: a.x, y: y, d, role: role, clip: clip)
            }
        } else {
            let (x0, x1) = (min(a.x, b.x), max(a.x, b.x))
            for x in x0...x1 {
                var d: Directions = []
                if x > x0 { d.insert(.west) }
                if x < x1 { d.insert(.east) }
                grid.addLine(x: x, y: a.y, d, role: role, clip: clip)
            }
        }
    }

    static func drawBox(_ grid: inout CellGrid, _ b: Rect, glyphs: GlyphSet, role: StyleRole, clip: Rect) {
        let h = String(repeating: glyphs.horizontal, count: max(0, b.width - 2))
        grid.put(glyphs.topLeft + h + glyphs.topRight, x: b.x, y: b.y, role: role, clip: clip)
        for y in (b.y + 1)..<(b.maxY - 1) {
            grid.put(glyphs.vertical, x: b.x, y: y, role: role, clip: clip)
            grid.put(" ", x: b.x + 1, y: y, role: role, clip: clip)
            grid.put(" ", x: b.maxX - 2, y: y, role: role, clip: clip)
            grid.put(glyphs.vertical, x: b.maxX - 1, y: y, role: role, clip: clip)
        }
        grid.put(glyphs.bottomLeft + h + glyphs.bottomRight, x: b.x, y: b.maxY - 1, role: role, clip: clip)
    }
}

/// A dialog over the screen: a framed box near the top, as wide as fits (78 at most).
enum Dialog {
    static func width(_ grid: CellGrid) -> Int { min(grid.width - 4, 78) }

    /// Draws the frame for `lines` lines of content with `title`, and returns its box.
    static func draw(_ grid: inout CellGrid, lines: Int, title: String, glyphs: GlyphSet) -> Rect {
        let width = width(grid)
        let box = Rect(x: (grid.width - width) / 2, y: 1, width: width, height: min(grid.height - 2, lines + 4))
        grid.fill(box, role: .dialog)
        CanvasView.drawBox(
            &grid, box, glyphs: glyphs, role: .dialogBorder, clip: Rect(x: 0, y: 0, width: grid.width, height: grid.height))
        grid.put(title, x: box.x + 2, y: box.y, role: .dialogTitle)
        return box
    }
}

enum InspectorView {
    static func render(_ state: AppState, node id: NodeID, into grid: inout CellGrid, glyphs: GlyphSet) {
        // Long lines wrap; the box grows to hold them, up to the screen.
        let lines = InspectorScreen.lines(state, node: id).flatMap { $0.isEmpty ? [""] : DisplayWidth.wrap($0, to: Dialog.width(grid) - 4) }
        let box = Dialog.draw(&grid, lines: lines.count, title: " Node — Esc closes ", glyphs: glyphs)
        for (i, line) in lines.prefix(box.height - 4).enumerated() {
            grid.put(line, x: box.x + 2, y: box.y + 2 + i, role: .dialog)
        }
    }
}

/// Human names of keys for the help screen.
public enum KeyNames {
    public static func name(_ key: Key) -> String {
        switch key {
        case .char(let c): String(c)
        case .ctrl(let c): "Ctrl-\(c.uppercased())"
        case .enter: "Enter"
        case .escape: "Esc"
        case .up: "↑"
        case .down: "↓"
        case .left: "←"
        case .right: "→"
        case .pageUp: "PgUp"
        case .pageDown: "PgDn"
        case .home: "Home"
        case .end: "End"
        case .backspace: "Backspace"
        case .tab: "Tab"
        case .function(let n): "F\(n)"
        case .resize: "resize"
        case .click(_, _, let double): double ? "double click" : "click"
        case .wheel: "wheel"
        }
    }
}

/// The label of a transition: its port's name and its count, fitted to `room` cells. The count
/// is never cut: the exact figure when it fits, else the compact one (2.1k); the name gives way
/// first, shortened with an ellipsis, and goes when not even one letter of it fits.
public enum EdgeLabel {
    public static func text(port: String, count: Int?, room: Int, ellipsis: String) -> String {
        guard let count else { return DisplayWidth.truncate(port, to: max(room, 0), ellipsis: ellipsis) }
        let exact = Names.groupedCount(count)
        let compact = Names.compactCount(count)
        for figure in exact == compact ? [exact] : [exact, compact] {
            if port.isEmpty {
                if DisplayWidth.of(figure) <= room { return figure }
                continue
            }
            let full = port + " " + figure
            if DisplayWidth.of(full) <= room { return full }
            // At least one letter and the ellipsis before the figure.
            let nameRoom = room - DisplayWidth.of(figure) - 1
            if nameRoom >= 1 + DisplayWidth.of(ellipsis) {
                return DisplayWidth.truncate(port, to: nameRoom, ellipsis: ellipsis) + " " + figure
            }
        }
        // No room for the name: the count alone, compact, even if it runs past the lane.
        return DisplayWidth.of(exact) <= room ? exact : compact
    }
}
