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
            id: "form.tree", title: "rule builder",
            help: "Edit the selected rule as a tree of conditions (attributes from the catalog, operators by type, values)",
            group: "Node form", keys: [.char("t")], keyLabel: "t", scope: .nodeForm, inKeyBar: true,
            disabledReason: { state in
                guard case .nodeForm(let form) = state.modes.last else { return "open a node form first" }
                return form.rows[form.selection].name == "rule" ? nil : "select a rule field first"
            },
            perform: { state in RuleBuilderScreen.open(&state) }),
        Command(
            id: "form.preview", title: "preview", help: "Render the message for a profile of the store, as it would be sent",
            group: "Node form", keys: [.char("p")], keyLabel: "p", scope: .nodeForm, inKeyBar: true,
            disabledReason: { state in
                guard case .nodeForm(let form) = state.modes.last else { return "open a node form first" }
                return form.kind.isChannel ? nil : "only message nodes have content to preview"
            },
            perform: { state in PreviewScreen.start(&state) }),
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
            id: "field.complete", title: "complete",
            help: "Complete the word before the cursor: entities, saved audiences, attributes and links of the catalog, allowed values",
            group: "Node form field", keys: [.tab], keyLabel: "tab", scope: .formField, inKeyBar: true,
            run: { state, _ in
                let choices = NodeFormScreen.choices(state)
                return update(&state) { form in
                    guard var buffer = form.editing else { return }
                    let word = buffer.wordBeforeCursor
                    // The last segment of a path completes among what its links reach.
                    let segment = word.split(separator: ".", omittingEmptySubsequences: false).last.map(String.init) ?? word
                    let options = (choices[word.contains(".") ? String(word.dropLast(segment.count)) : ""] ?? [])
                        .filter { $0.lowercased().hasPrefix(segment.lowercased()) }
                    form.completions = options
                    guard !options.isEmpty else { return }
                    let common = options.dropFirst().reduce(options[0]) { prefix, option in
                        String(zip(prefix, option).prefix { $0.0 == $0.1 }.map(\.0))
                    }
                    if common.count > segment.count { buffer.insert(String(common.dropFirst(segment.count))) }
                    if options.count == 1 { form.completions = [] }
                    form.editing = buffer
                }
            }),
        Command(
            id: "field.cancel", title: "cancel", help: "Leave the field as it was", group: "Node form field", keys: [.escape, .ctrl("c")],
            keyLabel: "esc", scope: .formField, inKeyBar: true, perform: { state in update(&state) { $0.editing = nil } }),
        TextEntry.command(scope: .formField, group: "Field"),
    ]

    /// What the selected field's words can be, by the path before the word ("" for the first
    /// segment, "bookings." after a link): the catalog's entities, saved audiences,
    /// attributes and links, or the values the field allows.
    static func choices(_ state: AppState) -> [String: [String]] {
        guard case .nodeForm(let form) = state.modes.last, let context = state.canvas?.context else { return [:] }
        let catalog = context.catalog
        let row = form.rows[form.selection].name
        func paths(from entityName: String?, under root: String = "") -> [String: [String]] {
            var result: [String: [String]] = [:]
            // Two links deep is as far as completion looks.
            func walk(_ entity: Entity, prefix: String, depth: Int) {
                result[prefix] = entity.referenceableNames
                guard depth < 2 else { return }
                for link in entity.links {
                    if let target = catalog.entity(link.target) { walk(target, prefix: prefix + link.name + ".", depth: depth + 1) }
                }
            }
            if let name = entityName, let entity = catalog.entity(name) { walk(entity, prefix: root, depth: 0) }
            return result
        }
        let arriving: String? = {
            guard let draft = state.canvas?.draft else { return nil }
            let audiences = Dictionary(context.audiences.map { ($0.name, $0.entity) }, uniquingKeysWith: { a, _ in a })
            return draft.inboundEntities(catalog: catalog, audiences: audiences)[form.id]
                ?? (form.after.flatMap { draft.inboundEntities(catalog: catalog, audiences: audiences)[$0.node] })
        }()
        switch (form.kind, row) {
        case (_, "entity"): return ["": catalog.entities.map(\.name)]
        case (.readAudience, "audience"): return ["": context.audiences.map(\.name)]
        case (.saveAudience, "audience"): return ["": context.audiences.filter(\.snapshot).map(\.name)]
        case (_, "operation"): return ["": CombineOperation.allCases.map(\.rawValue)]
        case (_, "category"): return ["": MessageCategory.allCases.map(\.rawValue)]
        case (_, "messagePer"): return ["": MessageGranularity.allCases.map(\.rawValue)]
        case (.changeDimension, "link"):
            return ["": arriving.flatMap(catalog.entity)?.links.map(\.name) ?? []]
        case (.buildAudience, "rule"):
            return paths(from: form.rows.first { $0.name == "entity" }?.text)
        case (let kind, let field)
        where kind.isChannel && (kind.channel?.requiredFields ?? []).contains(field)
            || (kind.channel?.optionalFields ?? []).contains(field):
            // Templates: {{profile.…}}, {{target.…}} and the fields Enrichment nodes added.
            var result = paths(from: catalog.profileEntity, under: "profile.").merging(
                paths(from: arriving, under: "target."), uniquingKeysWith: { a, _ in a })
            let audiences = Dictionary(context.audiences.map { ($0.name, $0.entity) }, uniquingKeysWith: { a, _ in a })
            let added =
                state.canvas.map { canvas in
                    canvas.draft.enrichmentColumns(catalog: catalog, audiences: audiences)[form.after?.node ?? form.id] ?? []
                } ?? []
            result[""] = ["profile", "target"] + added.map(\.name)
            return result
        default:
            return paths(from: arriving)
        }
    }

    /// Changes the form on top, rechecks it and asks for its live count when what it counts
    /// changed.
    static func update(_ state: inout AppState, _ change: (inout NodeForm) -> Void) -> [Effect] {
        guard case .nodeForm = state.modes.last else { return [] }
        return update(&state, at: state.modes.count - 1, change)
    }

    /// The same for the form at `index` of the focus stack (under a rule builder, say).
    static func update(_ state: inout AppState, at index: Int, _ change: (inout NodeForm) -> Void) -> [Effect] {
        guard state.modes.indices.contains(index), case .nodeForm(var form) = state.modes[index] else { return [] }
        change(&form)
        recheck(&form, in: state)
        var effects: [Effect] = []
        if case .success(let node) = current(form).node(), case .buildAudience(let entity, let rule, _) = node.config,
            form.messages.isEmpty
        {
            if entity != form.countedEntity || rule != form.countedRule {
                state.lastRequest += 1
                form.countRequest = state.lastRequest
                form.countedEntity = entity
                form.countedRule = rule
                form.count = .counting
                let variables = state.canvas?.draft.variableBindings ?? [:]
                effects.append(.countAudience(request: state.lastRequest, entity: entity, rule: rule, variables: variables))
            }
        } else if form.count != nil {
            // Nothing countable now: the figure shown would be of other values.
            form.count = nil
            form.countRequest = nil
            form.countedEntity = nil
            form.countedRule = nil
        }
        state.modes[index] = .nodeForm(form)
        return effects
    }

    /// The form's part of the reducer: live counts, applied only to the request they answer.
    static func reduce(_ state: inout AppState, _ action: Action) -> [Effect]? {
        guard case .audienceCounted(let request, let result) = action else { return nil }
        guard let index = state.modes.lastIndex(where: { if case .nodeForm = $0 { true } else { false } }),
            case .nodeForm(var form) = state.modes[index], form.countRequest == request
        else { return [] }
        switch result {
        case .success(let n): form.count = .counted(n)
        case .failure(let failure): form.count = .failed(failure.message)
        }
        state.modes[index] = .nodeForm(form)
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
        let lines = form.rows.count + editingLines - 1 + 2 + max(1, messages.count) + (form.count == nil ? 0 : 1)
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
        let hint =
            form.editing != nil && !form.completions.isEmpty
            ? "tab: " + form.completions.joined(separator: "  ") : form.rows[form.selection].hint
        grid.put(DisplayWidth.truncate(hint, to: width - 4, ellipsis: glyphs.ellipsis), x: box.x + 2, y: y + 1, role: "ui.dim")
        y += 2
        if messages.isEmpty {
            grid.put(glyphs.done + " the node reads and validates", x: box.x + 2, y: y, role: "exec.done")
        }
        for line in messages where y < box.maxY - 1 {
            grid.put(line, x: box.x + 2, y: y, role: "ui.error")
            y += 1
        }
        if let count = form.count, y < box.maxY - 1 {
            let text: String
            switch count {
            case .counting: text = "counting…"
            case .counted(let n): text = "\(Names.groupedCount(n)) \(form.rows.first { $0.name == "entity" }?.text ?? "rows") match"
            case .failed(let message): text = "not counted: \(message)"
            }
            grid.put(
                DisplayWidth.truncate(text, to: width - 4, ellipsis: glyphs.ellipsis), x: box.x + 2, y: y + (messages.isEmpty ? 1 : 0),
                role: "canvas.count")
        }
    }
}
