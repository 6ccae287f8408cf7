import HeraldCore
import HeraldStore

/// The validation panel: every problem of the draft; Enter selects the problem's node.
enum ProblemsScreen {
    static let commands: [Command] = [
        Command(
            id: "problems.jump", title: "go to node", help: "Select the problem's node on the canvas", group: "Problems",
            keys: [.enter], keyLabel: "enter", scope: .problems, inKeyBar: true,
            perform: { state in
                guard case .problems(let selection) = state.modes.last, let problems = state.canvas?.problems,
                    problems.indices.contains(selection)
                else { return [] }
                state.modes.removeLast()
                if let node = problems[selection].node, state.canvas?.draft.node(node) != nil {
                    state.canvas?.selected = node
                    state.canvas?.selectedPort = nil
                    CanvasNavigation.ensureVisible(&state)
                    state.status = "\(problems[selection])"
                }
                return []
            }),
        Command(
            id: "problems.down", title: "next", help: "Select the next problem", group: "Problems", keys: [.char("j"), .down],
            keyLabel: "j/k", scope: .problems, inKeyBar: true, perform: { state in move(&state, by: 1) }),
        Command(
            id: "problems.up", title: "previous", help: "Select the previous problem", group: "Problems", keys: [.char("k"), .up],
            keyLabel: "k", scope: .problems, inKeyBar: false, perform: { state in move(&state, by: -1) }),
        Command(
            id: "problems.close", title: "close", help: "Close the panel", group: "Problems", keys: [.escape, .char("q"), .char("v")],
            keyLabel: "esc", scope: .problems, inKeyBar: true,
            perform: { state in
                state.modes.removeLast()
                return []
            }),
    ]

    static func move(_ state: inout AppState, by delta: Int) -> [Effect] {
        guard case .problems(let selection) = state.modes.last, let count = state.canvas?.problems.count, count > 0 else { return [] }
        state.modes[state.modes.count - 1] = .problems(selection: min(max(selection + delta, 0), count - 1))
        return []
    }

    static func render(_ state: AppState, selection: Int, into grid: inout CellGrid, glyphs: GlyphSet) {
        let problems = state.canvas?.problems ?? []
        let width = Dialog.width(grid)
        let title = problems.isEmpty ? " No problems " : " \(Names.counted(problems.count, "problem")) — Enter goes to the node "
        let box = Dialog.draw(&grid, lines: max(1, problems.count), title: title, glyphs: glyphs)
        if problems.isEmpty {
            let saved = state.canvas.map { $0.stored != nil && !$0.isDirty } ?? false
            let line = saved ? " this version is saved and validates" : " the draft validates; w saves it"
            grid.put(glyphs.done + line, x: box.x + 2, y: box.y + 2, role: .done)
        }
        let rows = box.height - 4
        let first = max(0, selection - rows + 1)
        for (i, problem) in problems.enumerated().dropFirst(first).prefix(rows) {
            let text = DisplayWidth.pad(DisplayWidth.truncate("\(problem)", to: width - 4, ellipsis: glyphs.ellipsis), to: width - 4)
            grid.put(text, x: box.x + 2, y: box.y + 2 + i - first, role: i == selection ? .selection : .dialog)
        }
    }
}
