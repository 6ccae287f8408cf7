import HeraldCore

/// A list field of the node form (a split's subsets, a test's branches, an enrichment's
/// fields, the attributes a deduplication groups by), item by item. Enter edits an item in a
/// form of its own, a adds one after the highlighted item, d removes it, J and K move it down
/// and up. Every change is written through to the node form at once, which rechecks the node;
/// Esc goes back to it.
enum ListEditorScreen {
    static let commands: [Command] = [
        Command(
            id: "items.edit", title: "edit item", help: "Edit the highlighted item in a form of its own", group: "List",
            keys: [.enter, .char("e")], keyLabel: "enter", scope: .listEditor, inKeyBar: true,
            disabledReason: { state in
                guard case .listEditor(let list) = state.modes.last else { return "open a list first" }
                return list.items.isEmpty ? "the list is empty; a adds an item" : nil
            },
            perform: { state in openItem(&state, adding: false) }),
        Command(
            id: "items.add", title: "add item", help: "Add an item after the highlighted one", group: "List", keys: [.char("a")],
            keyLabel: "a", scope: .listEditor, inKeyBar: true, perform: { state in openItem(&state, adding: true) }),
        Command(
            id: "items.delete", title: "remove item", help: "Remove the highlighted item (Esc on the node form still drops every change)",
            group: "List", keys: [.char("d"), .char("x")], keyLabel: "d", scope: .listEditor, inKeyBar: true,
            disabledReason: { state in
                guard case .listEditor(let list) = state.modes.last else { return "open a list first" }
                return list.items.isEmpty ? "the list is empty" : nil
            },
            perform: { state in
                guard case .listEditor(let list) = state.modes.last else { return [] }
                let summary = list.summary(of: list.items[list.selection])
                state.status = "removed item \(list.selection + 1) (\(summary))"
                return change(&state) { list in
                    list.items.remove(at: list.selection)
                    list.selection = max(0, min(list.selection, list.items.count - 1))
                }
            }),
        Command(
            id: "items.down", title: "next", help: "Highlight the next item", group: "List", keys: [.char("j"), .down],
            keyLabel: "j/k", scope: .listEditor, inKeyBar: true, perform: { state in move(&state, by: 1) }),
        Command(
            id: "items.up", title: "previous", help: "Highlight the previous item", group: "List", keys: [.char("k"), .up],
            keyLabel: "k", scope: .listEditor, inKeyBar: false, perform: { state in move(&state, by: -1) }),
        Command(
            id: "items.moveDown", title: "move down", help: "Move the highlighted item one place down (the order matters)",
            group: "List", keys: [.char("J")], keyLabel: "J/K", scope: .listEditor, inKeyBar: true,
            perform: { state in reorder(&state, by: 1) }),
        Command(
            id: "items.moveUp", title: "move up", help: "Move the highlighted item one place up", group: "List", keys: [.char("K")],
            keyLabel: "K", scope: .listEditor, inKeyBar: false, perform: { state in reorder(&state, by: -1) }),
        Command(
            id: "items.close", title: "back", help: "Back to the node form, with the list as it is now", group: "List",
            keys: [.escape, .char("q")], keyLabel: "esc", scope: .listEditor, inKeyBar: true,
            perform: { state in
                state.modes.removeLast()
                return []
            }),
    ]

    static func move(_ state: inout AppState, by delta: Int) -> [Effect] {
        guard case .listEditor(var list) = state.modes.last, !list.items.isEmpty else { return [] }
        list.selection = min(max(list.selection + delta, 0), list.items.count - 1)
        state.modes[state.modes.count - 1] = .listEditor(list)
        return []
    }

    static func reorder(_ state: inout AppState, by delta: Int) -> [Effect] {
        guard case .listEditor(let list) = state.modes.last else { return [] }
        let to = list.selection + delta
        guard list.items.indices.contains(list.selection), list.items.indices.contains(to) else {
            state.status = delta > 0 ? "the item is last already" : "the item is first already"
            return []
        }
        return change(&state) { list in
            list.items.swapAt(list.selection, to)
            list.selection = to
        }
    }

    /// Opens the highlighted item's form, or a new item's after it.
    static func openItem(_ state: inout AppState, adding: Bool) -> [Effect] {
        guard case .listEditor(let list) = state.modes.last, state.modes.count >= 2,
            case .nodeForm(let parent) = state.modes[state.modes.count - 2]
        else { return [] }
        let position = adding ? (list.items.isEmpty ? 0 : list.selection + 1) : list.selection
        var texts: [String: String] = [:]
        if !adding {
            let item = list.items[position]
            if list.holdsValues, let one = list.itemFields.first {
                texts[one.name] = CampaignFormat.text(of: item, shape: one.shape)
            } else if case .object(let pairs) = item {
                texts = CampaignFormat.texts(of: pairs, fields: list.itemFields)
            }
        }
        state.modes.append(
            .nodeForm(
                NodeForm(
                    part: .listItem(field: list.field.name, index: position, adding: adding), of: parent, fields: list.itemFields,
                    texts: texts)))
        return NodeFormScreen.update(&state) { _ in }
    }

    /// Changes the list on top and writes it through to the node form under it, which rechecks
    /// the node.
    static func change(_ state: inout AppState, _ body: (inout ListEditor) -> Void) -> [Effect] {
        guard case .listEditor(var list) = state.modes.last else { return [] }
        body(&list)
        let index = state.modes.count - 1
        state.modes[index] = .listEditor(list)
        let text = ListEditor.text(of: list.items)
        return NodeFormScreen.update(&state, at: index - 1) { $0.set(list.field.name, to: text) }
    }

    /// How many lines the list's dialog holds on a grid `width` wide.
    static func lines(_ list: ListEditor, messages: [String], width: Int) -> Int {
        max(1, list.items.count) + 3 + max(1, messages.flatMap { DisplayWidth.wrap($0, to: width - 6) }.count)
    }

    /// Draws the list with the problems of the node form it belongs to, at least `covering`
    /// lines tall (to hide that form).
    static func render(_ list: ListEditor, problems: [String], covering: Int, into grid: inout CellGrid, glyphs: GlyphSet) {
        let width = Dialog.width(grid)
        let messages = problems.flatMap { DisplayWidth.wrap($0, to: width - 6) }
        let lines = max(covering, Self.lines(list, messages: problems, width: width))
        let box = Dialog.draw(&grid, lines: lines, title: " \(list.field.name) ", glyphs: glyphs)
        var y = box.y + 2
        if list.items.isEmpty {
            grid.put("no items yet: a adds one", x: box.x + 2, y: y, role: .dim)
            y += 1
        }
        let rows = max(1, box.maxY - 5 - max(1, messages.count) - y + 1)
        let first = max(0, list.selection - rows + 1)
        for (i, item) in list.items.enumerated().dropFirst(first).prefix(rows) {
            let text = DisplayWidth.truncate("\(i + 1). " + list.summary(of: item), to: width - 4, ellipsis: glyphs.ellipsis)
            grid.put(
                DisplayWidth.pad(text, to: width - 4), x: box.x + 2, y: y, role: i == list.selection ? .selection : .dialog)
            y += 1
        }
        grid.put(DisplayWidth.truncate(list.field.hint, to: width - 4, ellipsis: glyphs.ellipsis), x: box.x + 2, y: y + 1, role: .dim)
        y += 3
        if messages.isEmpty { grid.put(glyphs.done + " the node reads and validates", x: box.x + 2, y: y, role: .done) }
        for line in messages where y < box.maxY - 1 {
            grid.put(line, x: box.x + 2, y: y, role: .error)
            y += 1
        }
    }
}
