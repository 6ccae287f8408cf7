import Foundation
import HeraldCore
import HeraldStore

/// A node's form: one row per field of its kind. j/k choose a field, Enter edits it (every key
/// rechecks the whole node and says what is wrong), w applies the form to the draft, Esc
/// closes it (asking when something changed).
enum NodeFormScreen {
    static let commands: [Command] = [
        Command(
            id: "form.edit", title: "edit field", help: "Edit the selected field", group: "Node form", keys: [.enter, .char("e")],
            keyLabel: "enter", scope: .nodeForm, inKeyBar: true,
            perform: { state in
                update(&state) { form in
                    let row = form.rows[form.selection]
                    form.editing = TextBuffer(row.text, multiline: row.shape == .multiline)
                }
            }),
        Command(
            id: "form.down", title: "next", help: "Select the next field", group: "Node form", keys: [.char("j"), .down, .tab],
            keyLabel: "j/k", scope: .nodeForm, inKeyBar: true,
            perform: { state in update(&state) { $0.selection = min($0.selection + 1, $0.rows.count - 1) } }),
        Command(
            id: "form.up", title: "previous", help: "Select the previous field", group: "Node form", keys: [.char("k"), .up],
            keyLabel: "k", scope: .nodeForm, inKeyBar: false,
            perform: { state in update(&state) { $0.selection = max($0.selection - 1, 0) } }),
        Command(
            id: "form.apply", title: "apply", help: "Apply the form to the draft (refused while the values do not make a node)",
            group: "Node form", keys: [.char("w"), .ctrl("s")], keyLabel: "w", scope: .nodeForm, inKeyBar: true,
            perform: { state in apply(&state) }),
        Command(
            id: "form.close", title: "close", help: "Close the form (asks when something changed)", group: "Node form",
            keys: [.escape, .char("q")], keyLabel: "esc", scope: .nodeForm, inKeyBar: true,
            perform: { state in
                guard case .nodeForm(let form) = state.modes.last else { return [] }
                guard form.isChanged else {
                    state.modes.removeLast()
                    return []
                }
                state.modes.append(
                    .confirm(
                        Confirmation(
                            question: form.adding
                                ? "Add this \(form.kind.title) node to the campaign?" : "Apply the changes to '\(form.id)'?",
                            choices: [
                                Choice(key: "y", title: form.adding ? "add" : "apply", action: .applyForm),
                                Choice(key: "n", title: "drop them", action: .dropForm),
                            ])))
                return []
            }),
        Command(
            id: "field.done", title: "done", help: "Finish the field (Enter adds a line in a multi-line field; ^S finishes it)",
            group: "Node form field", keys: [.enter, .ctrl("s")], keyLabel: "enter", scope: .formField, inKeyBar: true,
            run: { state, key in
                update(&state) { form in
                    guard var buffer = form.editing else { return }
                    if key == .enter && buffer.multiline {
                        buffer.insert("\n")
                        form.editing = buffer
                        return
                    }
                    form.rows[form.selection].text = buffer.text
                    form.editing = nil
                }
            }),
        Command(
            id: "field.cancel", title: "cancel", help: "Leave the field as it was", group: "Node form field", keys: [.escape, .ctrl("c")],
            keyLabel: "esc", scope: .formField, inKeyBar: true, perform: { state in update(&state) { $0.editing = nil } }),
        TextEntry.command(scope: .formField, group: "Field"),
    ]

    /// Changes the form on top and rechecks it.
    static func update(_ state: inout AppState, _ change: (inout NodeForm) -> Void) -> [Effect] {
        guard case .nodeForm(var form) = state.modes.last else { return [] }
        change(&form)
        recheck(&form, in: state)
        state.modes[state.modes.count - 1] = .nodeForm(form)
        return []
    }

    /// The values as they would be applied, with the field being typed in.
    static func current(_ form: NodeForm) -> NodeForm {
        var form = form
        if let buffer = form.editing { form.rows[form.selection].text = buffer.text }
        return form
    }

    /// Why the values make no node, else the node's validation problems in the draft.
    static func recheck(_ form: inout NodeForm, in state: AppState) {
        switch current(form).node() {
        case .failure(let error):
            form.messages = [reason(error.message, id: form.id)]
        case .success(let node):
            guard let canvas = state.canvas, let context = canvas.context else {
                form.messages = []
                return
            }
            var draft = canvas.draft
            if form.adding { try? draft.add(node, after: form.after) } else { try? draft.replace(form.id, with: node) }
            form.messages = context.validator.validate(draft).filter { $0.node == form.id }.map { p in
                (p.field.map { "\($0): " } ?? "") + p.message
            }
        }
    }

    /// The decoder's message without the file path of the node (`node ('email').subject: …`).
    static func reason(_ message: String, id: NodeID) -> String {
        let prefix = "node ('\(id)')"
        guard message.hasPrefix(prefix) else { return message }
        let rest = message.dropFirst(prefix.count)
        return String(rest.hasPrefix(".") ? rest.dropFirst() : rest.drop { $0 == ":" || $0 == " " })
    }

    static func apply(_ state: inout AppState) -> [Effect] {
        guard case .nodeForm(let form) = state.modes.last else { return [] }
        switch current(form).node() {
        case .failure(let error):
            state.status = "not applied: \(reason(error.message, id: form.id))"
            return []
        case .success(let node):
            state.modes.removeLast()
            if form.adding {
                return CanvasEditing.edit(&state, "add \(node.kind.title) '\(node.id)'") { campaign in
                    try campaign.add(node, after: form.after)
                    return node.id
                }
            }
            return CanvasEditing.edit(&state, "edit '\(node.id)'") { campaign in
                try campaign.replace(form.id, with: node)
                return node.id
            }
        }
    }

    static func render(_ form: NodeForm, into grid: inout CellGrid, glyphs: GlyphSet) {
        let width = Dialog.width(grid)
        let labelWidth = min(14, (form.rows.map { DisplayWidth.of($0.name) }.max() ?? 8) + 1)
        let valueWidth = width - 6 - labelWidth
        let editingLines = form.editing.map { $0.multiline ? min(8, max(3, $0.lines.count)) : 1 } ?? 1
        let messages = form.messages.flatMap { DisplayWidth.wrap($0, to: width - 6) }
        let lines = form.rows.count + editingLines - 1 + 2 + max(1, messages.count) + 1
        let title = form.adding ? " New \(form.kind.title) node '\(form.id)' " : " \(form.kind.title) '\(form.id)' "
        let box = Dialog.draw(&grid, lines: lines, title: title, glyphs: glyphs)
        var y = box.y + 2
        for (i, row) in form.rows.enumerated() where y < box.maxY - 3 {
            let selected = i == form.selection
            grid.put(DisplayWidth.pad(row.name, to: labelWidth), x: box.x + 2, y: y, role: selected ? "ui.selection" : "ui.header")
            if selected, let buffer = form.editing {
                TextFieldView.draw(buffer, into: &grid, x: box.x + 3 + labelWidth, y: y, width: valueWidth, height: editingLines)
                y += editingLines
                continue
            }
            let shown = row.text.isEmpty ? "(empty)" : row.text.replacingOccurrences(of: "\n", with: " \\n ")
            grid.put(
                DisplayWidth.truncate(shown, to: valueWidth, ellipsis: glyphs.ellipsis), x: box.x + 3 + labelWidth, y: y,
                role: row.text.isEmpty ? "ui.dim" : "ui.dialog")
            y += 1
        }
        let hint = form.rows[form.selection].hint
        grid.put(DisplayWidth.truncate(hint, to: width - 4, ellipsis: glyphs.ellipsis), x: box.x + 2, y: y + 1, role: "ui.dim")
        y += 2
        if messages.isEmpty {
            grid.put(glyphs.done + " the node reads and validates", x: box.x + 2, y: y, role: "exec.done")
        }
        for line in messages where y < box.maxY - 1 {
            grid.put(line, x: box.x + 2, y: y, role: "ui.error")
            y += 1
        }
    }
}
