import Foundation
import HeraldCore
import HeraldStore

/// A node's form: one row per field of its kind. j/k choose a field, Enter edits it (every key
/// rechecks the whole node and says what is wrong), w applies the form to the draft, Esc
/// closes it (asking when something changed).
enum NodeFormScreen {
    static let commands: [Command] = [
        Command(
            id: "form.open", title: "open field",
            help: "Open the selected field: pick its value from a list, toggle true/false, edit a list item by item, or type it",
            group: "Node form", keys: [.enter], keyLabel: "enter", scope: .nodeForm, inKeyBar: true,
            perform: { state in open(&state) }),
        Command(
            id: "form.edit", title: "type", help: "Edit the selected field as text (a list or object as JSON)", group: "Node form",
            keys: [.char("e")], keyLabel: "e", scope: .nodeForm, inKeyBar: true,
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
            id: "form.more", title: "step up",
            help:
                "Step the selected value up: a number by 1, a percentage by 5, a duration by one unit, a time by 15 minutes, a date by a day",
            group: "Node form", keys: [.char("+"), .char("=")], keyLabel: "+/-", scope: .nodeForm, inKeyBar: false,
            disabledReason: { state in steppable(state) }, perform: { state in step(&state, by: 1) }),
        Command(
            id: "form.less", title: "step down", help: "Step the selected value down", group: "Node form", keys: [.char("-")],
            keyLabel: "-", scope: .nodeForm, inKeyBar: false, disabledReason: { state in steppable(state) },
            perform: { state in step(&state, by: -1) }),
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
                guard form.target == .node else { return "preview from the node's own form" }
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
                            question: form.target != .node
                                ? (form.adding ? "Add this item to the list?" : "Keep the changes to this \(title(form))?")
                                : form.adding
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
            }
        ).labelled { state in
            // Enter adds a line in a multi-line field: the key bar says what finishes it.
            if case .nodeForm(let form) = state.modes.last, form.editing?.multiline == true { "^S" } else { "enter" }
        },
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
        let arriving = arrivingEntity(form, in: state)
        // A field with known values completes among what its picker offers.
        if let pick = form.rows[form.selection].field.pick, pick != .flag {
            return [
                "": pickItems(pick, form: form, in: state).compactMap { item in
                    if case .text(let value) = item.value, !value.isEmpty { value } else { nil }
                }
            ]
        }
        switch (form.kind, row) {
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

    /// Why the selected field cannot be stepped, or nil.
    static func steppable(_ state: AppState) -> String? {
        guard case .nodeForm(let form) = state.modes.last else { return "open a node form first" }
        let row = form.rows[form.selection]
        guard let value = row.field.value else { return "\(row.name) is not a number, duration or time; Enter edits it" }
        return value.step(row.text, by: 1) == nil ? "\(row.name) does not read as a value yet; e types it" : nil
    }

    static func step(_ state: inout AppState, by steps: Int) -> [Effect] {
        update(&state) { form in
            let row = form.rows[form.selection]
            if let stepped = row.field.value?.step(row.text, by: steps) { form.rows[form.selection].text = stepped }
        }
    }

    /// The selected field's hint, with what its value means and how to step it.
    static func hint(_ row: FormRow) -> String {
        guard let value = row.field.value else { return row.hint }
        return [value.reading(row.text), row.hint, "+/- steps it"].compactMap { $0 }.joined(separator: " · ")
    }

    /// The entity of the population arriving at the form's node (for a new node, at the port
    /// it is added after).
    static func arrivingEntity(_ form: NodeForm, in state: AppState) -> String? {
        guard let draft = state.canvas?.draft, let context = state.canvas?.context else { return nil }
        let audiences = Dictionary(context.audiences.map { ($0.name, $0.entity) }, uniquingKeysWith: { a, _ in a })
        if let entity = draft.inboundEntities(catalog: context.catalog, audiences: audiences)[form.id] { return entity }
        return form.after.flatMap { draft.entity(leaving: $0, catalog: context.catalog, audiences: audiences) }
    }

    /// What a part form edits, for its title and questions.
    static func title(_ form: NodeForm) -> String {
        switch form.target {
        case .node: "\(form.kind.title) '\(form.id)'"
        case .object(let field): "\(field) of '\(form.id)'"
        case .listItem(let field, let index, let adding): "\(adding ? "new item" : "item \(index + 1)") of \(field) of '\(form.id)'"
        }
    }

    /// Enter on a field: its widget. A list opens item by item, an object as a form of its
    /// own, a true/false field toggles, a field with known values offers them; anything else
    /// is typed.
    static func open(_ state: inout AppState) -> [Effect] {
        guard case .nodeForm(let form) = state.modes.last else { return [] }
        let row = form.rows[form.selection]
        switch row.field.structure {
        case .list, .values:
            switch parts(of: row) {
            case .failure(let reason):
                state.status = "\(row.name): \(reason.message); e edits it as text"
            case .success(let items):
                state.modes.append(.listEditor(ListEditor(field: row.field, items: items)))
            }
            return []
        case .object(let fields):
            switch parts(of: row) {
            case .failure(let reason):
                state.status = "\(row.name): \(reason.message); e edits it as text"
                return []
            case .success(let parts):
                let pairs: [(String, JSONValue)]
                if case .object(let p) = parts.first { pairs = p } else { pairs = [] }
                state.modes.append(
                    .nodeForm(
                        NodeForm(
                            part: .object(field: row.name), of: form, fields: fields,
                            texts: CampaignFormat.texts(of: pairs, fields: fields))))
                return update(&state) { _ in }
            }
        case .whole:
            break
        }
        switch row.field.pick {
        case .flag:
            return update(&state) { form in
                form.rows[form.selection].text =
                    form.rows[form.selection].text.trimmingCharacters(in: .whitespacesAndNewlines) == "true" ? "false" : "true"
            }
        case .some(let pick):
            let items = pickItems(pick, form: form, in: state)
            guard !items.isEmpty else {
                // Nothing to pick from (a snapshot audience not written yet, say): typed instead.
                state.status = "\(row.name): \(nothingToPick(pick)); type the value"
                return update(&state) { form in form.editing = TextBuffer(form.rows[form.selection].text) }
            }
            var menu = Menu(purpose: .fieldValue, title: "\(row.name) of '\(form.id)'", items: items)
            // On the current value, or the first real choice: never on "(empty)" for an empty field.
            menu.selection = row.text.isEmpty ? 0 : items.firstIndex { $0.value == .text(row.text) } ?? 0
            state.modes.append(.menu(menu))
            return []
        case nil:
            if row.field.value == .dateTime { return CalendarScreen.open(&state, text: row.text, field: row.name) }
            return update(&state) { form in
                let row = form.rows[form.selection]
                form.editing = TextBuffer(row.text, multiline: row.shape == .multiline)
            }
        }
    }

    /// The parts of a list or object field's text: the items of a list, or the one object;
    /// refused when the text is not that shape or holds fields the form does not know, so
    /// nothing is dropped by opening it.
    static func parts(of row: FormRow) -> Result<[JSONValue], HeraldError> {
        let text = row.text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { return .success([]) }
        let value: JSONValue
        do { value = try JSONValue.parse(text) } catch {
            return .failure(HeraldError(.invalidInput, "not a JSON value (\(error.message) at column \(error.column))"))
        }
        func known(_ item: JSONValue, _ fields: [NodeField]) -> HeraldError? {
            guard case .object(let pairs) = item else { return HeraldError(.invalidInput, "expected objects, found \(item.compact())") }
            let names = Set(fields.map(\.name))
            let unknown = pairs.map(\.0).filter { !names.contains($0) }
            return unknown.isEmpty
                ? nil : HeraldError(.invalidInput, "holds fields the form does not know (\(unknown.joined(separator: ", ")))")
        }
        switch (row.field.structure, value) {
        case (.list(let fields), .array(let items)):
            if let problem = items.lazy.compactMap({ known($0, fields) }).first { return .failure(problem) }
            return .success(items)
        case (.values, .array(let items)):
            return .success(items)
        case (.object(let fields), .object):
            if let problem = known(value, fields) { return .failure(problem) }
            return .success([value])
        case (.object, _):
            return .failure(HeraldError(.invalidInput, "expected an object"))
        default:
            return .failure(HeraldError(.invalidInput, "expected a list"))
        }
    }

    /// What a field of `pick` can be, for its menu; the current draft and catalog say.
    static func pickItems(_ pick: NodeFieldPick, form: NodeForm, in state: AppState) -> [MenuItem] {
        guard let context = state.canvas?.context else { return [] }
        let catalog = context.catalog
        // An enrichment's rows are sorted by a column of the linked entity, not the arriving one.
        var entity = arrivingEntity(form, in: state).flatMap(catalog.entity)
        if let rows = form.row("rows")?.text.trimmingCharacters(in: .whitespacesAndNewlines), !rows.isEmpty,
            let link = entity?.links.first(where: { $0.name == rows })
        {
            entity = catalog.entity(link.target)
        }
        let items: [MenuItem]
        switch pick {
        case .flag: return []
        case .entity:
            items = catalog.entities.map { e in
                MenuItem(
                    title: e.name, detail: "\(Names.counted(e.attributes.count, "attribute")) · \(Names.counted(e.links.count, "link"))",
                    value: .text(e.name))
            }
        case .savedAudience(let snapshotOnly):
            items = context.audiences.filter { !snapshotOnly || $0.snapshot }.map { a in
                MenuItem(
                    title: a.name,
                    detail: "\(a.snapshot ? "snapshot" : "live") · \(a.entity)"
                        + (a.memberCount.map { " · \(Names.groupedCount($0)) members" } ?? ""),
                    value: .text(a.name))
            }
        case .attribute:
            items = (entity?.attributes ?? []).filter { !$0.hidden }.map { a in
                MenuItem(title: a.name, detail: a.type.rawValue + (a.label != a.name ? " · \(a.label)" : ""), value: .text(a.name))
            }
        case .link:
            items = (entity?.links ?? []).map { l in
                MenuItem(title: l.name, detail: "→ \(l.target) (\(l.cardinality.rawValue))", value: .text(l.name))
            }
        case .campaign:
            items = state.campaigns.filter { $0.archivedAt == nil && $0.name != state.canvas?.draft.name }.map { c in
                MenuItem(title: c.name, detail: "version \(c.version) · \(Names.counted(c.nodeCount, "node"))", value: .text(c.name))
            }
        case .word(let words):
            items = words.map { MenuItem(title: $0.word, detail: $0.meaning, value: .text($0.word)) }
        }
        guard !items.isEmpty else { return [] }
        // An optional field can be left empty again.
        return items + [MenuItem(title: "(empty)", detail: "leave the field empty", value: .text(""))]
    }

    static func nothingToPick(_ pick: NodeFieldPick) -> String {
        switch pick {
        case .entity: "the catalog has no entities"
        case .savedAudience(let snapshotOnly): snapshotOnly ? "the store has no snapshot audiences" : "the store has no saved audiences"
        case .attribute, .link: "the node's input is not connected, so what arrives is not known"
        case .campaign: "the store has no other campaign"
        case .word, .flag: "nothing to pick"
        }
    }

    /// The value a part form makes: its object (nil when every field is empty), or the one
    /// value of a list of values.
    static func partValue(_ form: NodeForm, holdsValues: Bool) throws -> JSONValue? {
        let form = current(form)
        if holdsValues, let row = form.rows.first {
            guard !row.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw HeraldError(.invalidInput, "\(row.name): give a value")
            }
            return try CampaignFormat.value(of: row.text, field: row.field)
        }
        let texts = Dictionary(form.rows.map { ($0.name, $0.text) }, uniquingKeysWith: { a, _ in a })
        let pairs = try CampaignFormat.pairs(of: form.rows.map(\.field), texts: texts)
        return pairs.isEmpty ? nil : .object(pairs)
    }

    /// The node the form at `index` of the focus stack makes with `form`'s values: a part is
    /// put into the list or object it belongs to, and that into the form under it.
    static func composedNode(_ form: NodeForm, at index: Int, in state: AppState) -> Result<Node, HeraldError> {
        let lost = HeraldError(.invalidInput, "the form this part belongs to is no longer open")
        do {
            switch form.target {
            case .node:
                return current(form).node()
            case .object(let field):
                guard index >= 1, case .nodeForm(var parent) = state.modes[index - 1] else { return .failure(lost) }
                parent.set(field, to: try partValue(form, holdsValues: false)?.compact() ?? "")
                return composedNode(parent, at: index - 1, in: state)
            case .listItem(let field, let position, let adding):
                guard index >= 2, case .listEditor(var list) = state.modes[index - 1], case .nodeForm(var parent) = state.modes[index - 2]
                else { return .failure(lost) }
                guard let item = try partValue(form, holdsValues: list.holdsValues) else {
                    return .failure(HeraldError(.invalidInput, "the item is empty"))
                }
                if adding { list.items.insert(item, at: min(position, list.items.count)) } else { list.items[position] = item }
                parent.set(field, to: ListEditor.text(of: list.items))
                return composedNode(parent, at: index - 2, in: state)
            }
        } catch let error as HeraldError {
            return .failure(error)
        } catch {
            return .failure(HeraldError(.invalidInput, "\(error)"))
        }
    }

    /// Changes the form on top, rechecks it and asks for its live count when what it counts
    /// changed.
    /// The draft to keep when the interface must go with a node form open (a hang-up), so what
    /// was typed is offered back next time: the node as its fields stand, added or put in place
    /// as Apply would; or, when its fields make no node yet (a half-typed rule), the draft as it
    /// is with the form's texts, reopened when the draft is taken back. Nil without a node form.
    public static func draftWithOpenForm(_ state: AppState) -> Draft? {
        guard let canvas = state.canvas else { return nil }
        // The node form itself, under any list editor, part form or rule builder opened from it.
        for mode in state.modes.reversed() {
            guard case .nodeForm(let open) = mode, open.target == .node else { continue }
            let form = current(open)
            var draft = canvas.draft
            var kept = Draft(key: canvas.draftKey, campaignID: canvas.stored?.id, baseVersion: canvas.stored?.version, campaign: draft)
            if case .success(let node) = form.node(),
                (try? { if form.adding { try draft.add(node, after: form.after) } else { try draft.replace(form.id, with: node) } }())
                    != nil
            {
                guard draft != canvas.draft else { return nil }
                kept.campaign = draft
                return kept
            }
            guard form.rows.map(\.text) != form.initial else { return nil }
            kept.form = OpenForm(
                node: form.id, kind: form.kind, adding: form.adding, after: form.after,
                texts: Dictionary(form.rows.map { ($0.name, $0.text) }, uniquingKeysWith: { a, _ in a }))
            return kept
        }
        return nil
    }

    /// The form a kept draft had open, with its texts, over the draft's campaign.
    static func reopen(_ kept: OpenForm, in campaign: Campaign) -> NodeForm? {
        var form: NodeForm
        if kept.adding {
            form = NodeForm(newNode: kept.node, kind: kept.kind, after: kept.after)
        } else {
            guard let node = campaign.node(kept.node) else { return nil }
            form = NodeForm(node: node)
        }
        for i in form.rows.indices { if let text = kept.texts[form.rows[i].name] { form.rows[i].text = text } }
        return form
    }

    /// A value picked from a field's menu. "(empty)" is refused at once, naming the field, when
    /// the node needs the field: the form's recheck then says something of it.
    static func picked(_ text: String, _ state: inout AppState) -> [Effect] {
        guard case .nodeForm(let before) = state.modes.last else { return [] }
        let name = before.rows[before.selection].name
        let effects = update(&state) { form in form.rows[form.selection].text = text }
        guard text.isEmpty, case .nodeForm(let after) = state.modes.last,
            let problem = after.messages.first(where: { $0.hasPrefix(name + ":") || $0.hasPrefix(name + " ") || $0.contains("'\(name)'") })
        else { return effects }
        state.modes[state.modes.count - 1] = .nodeForm(before)
        state.status = "\(name) cannot be left empty (\(problem)); pick a value"
        return []
    }

    static func update(_ state: inout AppState, _ change: (inout NodeForm) -> Void) -> [Effect] {
        guard case .nodeForm = state.modes.last else { return [] }
        return update(&state, at: state.modes.count - 1, change)
    }

    /// The same for the form at `index` of the focus stack (under a rule builder, say).
    static func update(_ state: inout AppState, at index: Int, _ change: (inout NodeForm) -> Void) -> [Effect] {
        guard state.modes.indices.contains(index), case .nodeForm(var form) = state.modes[index] else { return [] }
        change(&form)
        recheck(&form, at: index, in: state)
        var effects: [Effect] = []
        if form.target == .node, case .success(let node) = current(form).node(),
            case .buildAudience(let entity, let rule, _) = node.config,
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

    /// Why the values make no node, else the node's validation problems in the draft. A part
    /// form is checked as the node it would make, put in its place.
    static func recheck(_ form: inout NodeForm, at index: Int, in state: AppState) {
        switch composedNode(form, at: index, in: state) {
        case .failure(let error):
            form.messages = [reason(error.message, id: form.id)]
        case .success(let node):
            guard let canvas = state.canvas, let context = canvas.context else {
                form.messages = []
                return
            }
            var draft = canvas.draft
            let adding = form.target == .node ? form.adding : !canvas.draft.nodes.contains { $0.id == form.id }
            if adding { try? draft.add(node, after: form.after) } else { try? draft.replace(form.id, with: node) }
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
        switch form.target {
        case .node: break
        case .object(let field):
            do {
                let text = try partValue(form, holdsValues: false)?.compact() ?? ""
                state.modes.removeLast()
                return update(&state) { $0.set(field, to: text) }
            } catch {
                state.status = "not applied: \(error)"
                return []
            }
        case .listItem(_, let position, let adding):
            guard case .listEditor(let list) = state.modes.dropLast().last else { return [] }
            do {
                guard let item = try partValue(form, holdsValues: list.holdsValues) else {
                    state.status = "not applied: the item is empty; give its fields, or Esc drops it"
                    return []
                }
                state.modes.removeLast()
                return ListEditorScreen.change(&state) { list in
                    if adding {
                        list.items.insert(item, at: min(position, list.items.count))
                    } else if list.items.indices.contains(position) {
                        list.items[position] = item
                    }
                    list.selection = min(position, list.items.count - 1)
                }
            } catch {
                state.status = "not applied: \(error)"
                return []
            }
        }
        switch current(form).node() {
        case .failure(let error):
            state.status = "not applied: \(reason(error.message, id: form.id))"
            return []
        case .success(let node):
            // The edit is tried on a copy first: refused, the form stays open with everything
            // typed, and says why in full where it wraps.
            if let canvas = state.canvas {
                var trial = canvas.draft
                do {
                    if form.adding { try trial.add(node, after: form.after) } else { try trial.replace(form.id, with: node) }
                } catch {
                    if case .nodeForm(var open) = state.modes.last {
                        open.messages.insert("not applied: \(error)", at: 0)
                        state.modes[state.modes.count - 1] = .nodeForm(open)
                    }
                    state.status = "not applied; the form says why"
                    return []
                }
            }
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

    /// A field's value in a line: a list or object by its parts (as its editor shows them),
    /// anything else as written.
    static func shown(_ row: FormRow) -> String {
        let flat = row.text.replacingOccurrences(of: "\n", with: " \\n ")
        guard case .success(let parts) = parts(of: row) else { return flat }
        switch row.field.structure {
        case .whole: return flat
        case .list, .values:
            let list = ListEditor(field: row.field, items: parts)
            return Names.counted(parts.count, "item") + ": " + parts.map(list.summary).joined(separator: list.holdsValues ? ", " : " | ")
        case .object(let fields):
            guard case .object(let pairs) = parts.first else { return flat }
            return pairs.map { key, value in
                "\(key) \(CampaignFormat.text(of: value, shape: fields.first { $0.name == key }?.shape ?? .json))"
            }.joined(separator: " · ")
        }
    }

    /// The width of the field names' column.
    static func labelWidth(_ form: NodeForm) -> Int {
        min(14, (form.rows.map { DisplayWidth.of($0.name) }.max() ?? 8) + 1)
    }

    /// The rows the field being typed takes: one, or for a multi-line field its wrapped rows
    /// (3 to 8, scrolling past that).
    static func editingHeight(_ form: NodeForm, dialogWidth width: Int) -> Int {
        guard let buffer = form.editing, buffer.multiline else { return 1 }
        return min(8, max(3, TextFieldView.wrap(buffer, width: width - 6 - labelWidth(form)).count))
    }

    /// How many lines the form's dialog holds on a grid `width` wide.
    static func lines(_ form: NodeForm, width: Int) -> Int {
        let editingLines = editingHeight(form, dialogWidth: width)
        let messages = form.messages.flatMap { DisplayWidth.wrap($0, to: width - 6) }
        return form.rows.count + editingLines - 1 + 2 + max(1, messages.count) + (form.count == nil ? 0 : 1)
    }

    /// Draws the form, at least `covering` lines tall (to hide the form it was opened from).
    static func render(_ form: NodeForm, covering: Int = 0, into grid: inout CellGrid, glyphs: GlyphSet) {
        let width = Dialog.width(grid)
        let labelWidth = Self.labelWidth(form)
        let valueWidth = width - 6 - labelWidth
        let editingLines = editingHeight(form, dialogWidth: width)
        let messages = form.messages.flatMap { DisplayWidth.wrap($0, to: width - 6) }
        let lines = max(covering, Self.lines(form, width: width))
        let title =
            form.target == .node && form.adding ? " New \(form.kind.title) node '\(form.id)' " : " \(Self.title(form)) "
        let box = Dialog.draw(&grid, lines: lines, title: title, glyphs: glyphs)
        var y = box.y + 2
        for (i, row) in form.rows.enumerated() where y < box.maxY - 3 {
            let selected = i == form.selection
            grid.put(DisplayWidth.pad(row.name, to: labelWidth), x: box.x + 2, y: y, role: selected ? .selection : .header)
            if selected, let buffer = form.editing {
                TextFieldView.draw(buffer, into: &grid, x: box.x + 3 + labelWidth, y: y, width: valueWidth, height: editingLines)
                y += editingLines
                continue
            }
            let shown = row.text.isEmpty ? "(empty)" : Self.shown(row)
            grid.put(
                DisplayWidth.truncate(shown, to: valueWidth, ellipsis: glyphs.ellipsis), x: box.x + 3 + labelWidth, y: y,
                role: row.text.isEmpty ? .dim : .dialog)
            y += 1
        }
        let hint =
            form.editing != nil && !form.completions.isEmpty
            ? "tab: " + form.completions.joined(separator: "  ") : hint(current(form).rows[form.selection])
        grid.put(DisplayWidth.truncate(hint, to: width - 4, ellipsis: glyphs.ellipsis), x: box.x + 2, y: y + 1, role: .dim)
        y += 2
        if messages.isEmpty {
            grid.put(glyphs.done + " the node reads and validates", x: box.x + 2, y: y, role: .done)
        }
        for line in messages where y < box.maxY - 1 {
            grid.put(line, x: box.x + 2, y: y, role: .error)
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
                role: .count)
        }
    }
}
