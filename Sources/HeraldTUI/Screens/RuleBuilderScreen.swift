import Foundation
import HeraldCore
import HeraldEngine
import HeraldStore

/// The rule builder, opened with t on a rule field of a node form: the rule as a tree of groups
/// (all of, any of, not) and conditions. A condition is added by picking an attribute from the
/// catalog (links to one row followed, links to many counted), then an operator that fits its
/// type, then a value; every change goes to the form's field at once, so the form's count
/// follows. r goes back to the rule as text, without losing anything: it is the same rule.
enum RuleBuilderScreen {
    static let commands: [Command] = [
        Command(
            id: "rule.down", title: "next", help: "Select the next line", group: "Rule builder", keys: [.char("j"), .down],
            keyLabel: "j/k", scope: .ruleBuilder, inKeyBar: false, perform: { state in move(&state, by: 1) }),
        Command(
            id: "rule.up", title: "previous", help: "Select the previous line", group: "Rule builder", keys: [.char("k"), .up],
            keyLabel: "k", scope: .ruleBuilder, inKeyBar: false, perform: { state in move(&state, by: -1) }),
        Command(
            id: "rule.add", title: "add", help: "Add a condition: pick an attribute, an operator, then a value", group: "Rule builder",
            keys: [.char("a")], keyLabel: "a", scope: .ruleBuilder, inKeyBar: true,
            perform: { state in
                guard case .ruleBuilder(let builder) = state.modes.last else { return [] }
                state.modes.append(.menu(attributeMenu(builder, state: state)))
                return []
            }),
        Command(
            id: "rule.edit", title: "edit", help: "Edit the selected condition as text (on a group: switch all of / any of)",
            group: "Rule builder", keys: [.enter, .char("e")], keyLabel: "enter", scope: .ruleBuilder, inKeyBar: true,
            perform: { state in
                guard case .ruleBuilder(let builder) = state.modes.last, let row = builder.selectedRow else { return [] }
                if row.isGroup { return toggle(&state) }
                state.modes.append(.prompt(Prompt(purpose: .ruleCondition(path: row.path), title: "Condition", text: row.rule.text)))
                return []
            }),
        Command(
            id: "rule.toggle", title: "all/any", help: "Switch the selected group (or the condition's group) between all of and any of",
            group: "Rule builder", keys: [.char("t")], keyLabel: "t", scope: .ruleBuilder, inKeyBar: true,
            perform: { state in toggle(&state) }),
        Command(
            id: "rule.negate", title: "not", help: "Negate the selected line, or remove its negation", group: "Rule builder",
            keys: [.char("n"), .char("!")], keyLabel: "n", scope: .ruleBuilder, inKeyBar: true,
            perform: { state in
                change(&state) { builder in
                    guard let row = builder.selectedRow, !row.path.isEmpty else {
                        return "the whole rule cannot be negated here; negate its conditions"
                    }
                    guard
                        let rule = RuleTree.updating(
                            builder.rule, row.path, { r in if case .not(let inner) = r { inner } else { .not(r) } })
                    else { return "nothing to negate" }
                    builder.rule = rule
                    return nil
                }
            }),
        Command(
            id: "rule.group", title: "group",
            help: "Put the selected condition in a group of its own (any of inside all of, and the reverse)",
            group: "Rule builder", keys: [.char("g")], keyLabel: "g", scope: .ruleBuilder, inKeyBar: false,
            perform: { state in
                change(&state) { builder in
                    guard let row = builder.selectedRow, !row.path.isEmpty else { return "select a condition first" }
                    let parent = RuleTree.get(builder.rule, Array(row.path.dropLast()))
                    let isAll = if case .and = parent { true } else { false }
                    guard let rule = RuleTree.updating(builder.rule, row.path, { isAll ? .or([$0]) : .and([$0]) }) else {
                        return "nothing to group"
                    }
                    builder.rule = rule
                    return nil
                }
            }),
        Command(
            id: "rule.delete", title: "delete", help: "Delete the selected line", group: "Rule builder", keys: [.char("d")], keyLabel: "d",
            scope: .ruleBuilder, inKeyBar: true,
            perform: { state in
                change(&state) { builder in
                    guard let row = builder.selectedRow, !row.path.isEmpty else { return "the whole rule cannot be deleted" }
                    guard let rule = RuleTree.updating(builder.rule, row.path, { _ in nil }) else { return "nothing to delete" }
                    // The related rows' rule may go: the count then takes every related row.
                    if builder.filterOf == nil, RuleTree.rows(rule).allSatisfy(\.isGroup) {
                        return "a rule needs at least one condition; add another one first"
                    }
                    builder.rule = rule
                    builder.selection = max(0, min(builder.selection - 1, RuleTree.rows(rule).count - 1))
                    return nil
                }
            }),
        Command(
            id: "rule.filter", title: "which rows",
            help: "Say which related rows a count, any(), none() or sum… takes: a rule of its own on the linked entity",
            group: "Rule builder", keys: [.char("f")], keyLabel: "f", scope: .ruleBuilder, inKeyBar: true,
            disabledReason: { state in
                guard case .ruleBuilder(let builder) = state.modes.last, let row = builder.selectedRow else { return "select a condition" }
                return related(row.rule) == nil ? "select a count, any(), none() or aggregate of a one-to-many link" : nil
            },
            perform: { state in openFilter(&state) }),
        Command(
            id: "rule.distribution", title: "values", help: "Chart the values of the selected condition's attribute over every row",
            group: "Rule builder", keys: [.char("D")], keyLabel: "D", scope: .ruleBuilder, inKeyBar: true,
            perform: { state in
                guard case .ruleBuilder(var builder) = state.modes.last, let row = builder.selectedRow,
                    let path = row.rule.paths.first
                else {
                    state.status = "values: select a condition on an attribute"
                    return []
                }
                state.lastRequest += 1
                builder.request = state.lastRequest
                builder.panelTitle = "\(path) over every row of \(builder.entity)"
                builder.panel = nil
                state.modes[state.modes.count - 1] = .ruleBuilder(builder)
                return [.distribution(request: state.lastRequest, entity: builder.entity, attribute: path.description)]
            }),
        Command(
            id: "rule.sql", title: "SQL", help: "Show the SQL the rule compiles to", group: "Rule builder", keys: [.char("S")],
            keyLabel: "S", scope: .ruleBuilder, inKeyBar: true,
            perform: { state in
                guard case .ruleBuilder(var builder) = state.modes.last else { return [] }
                state.lastRequest += 1
                builder.request = state.lastRequest
                builder.panelTitle = "SQL"
                builder.panel = nil
                state.modes[state.modes.count - 1] = .ruleBuilder(builder)
                return [.explainRule(request: state.lastRequest, entity: builder.entity, rule: RuleTree.simplified(builder.rule))]
            }),
        Command(
            id: "rule.raw", title: "as text", help: "Edit the whole rule as text (the same rule; t comes back to the tree)",
            group: "Rule builder", keys: [.char("r")], keyLabel: "r", scope: .ruleBuilder, inKeyBar: true,
            perform: { state in
                guard case .ruleBuilder(let builder) = state.modes.last else { return [] }
                state.modes.removeLast()
                // The related rows' condition is part of a condition: that condition, as text.
                if let path = builder.filterOf, case .ruleBuilder(let parent) = state.modes.last,
                    let condition = RuleTree.get(parent.rule, path)
                {
                    state.modes.append(.prompt(Prompt(purpose: .ruleCondition(path: path), title: "Condition", text: condition.text)))
                    return []
                }
                return NodeFormScreen.update(&state) { form in
                    guard let index = form.rows.firstIndex(where: { $0.name == "rule" }) else { return }
                    form.selection = index
                    form.editing = TextBuffer(form.rows[index].text)
                }
            }),
        Command(
            id: "rule.close", title: "done", help: "Back to the form (every change is in it already)", group: "Rule builder",
            keys: [.escape, .char("w"), .char("q")], keyLabel: "esc", scope: .ruleBuilder, inKeyBar: true,
            perform: { state in
                state.modes.removeLast()
                return []
            }),
    ]

    /// Opens the builder on the form's selected rule field; refused while the rule does not read.
    static func open(_ state: inout AppState) -> [Effect] {
        guard case .nodeForm(let form) = state.modes.last else { return [] }
        let row = form.rows[form.selection]
        let text = row.text.trimmingCharacters(in: .whitespaces)
        let rule: Rule
        if text.isEmpty {
            rule = .and([])
        } else {
            do { rule = try Rule(parsing: text) } catch {
                state.status =
                    "rule builder: the rule does not read yet; fix it as text first (\(error.message) at column \(error.offset + 1))"
                return []
            }
        }
        // A Build audience names its entity; a split subset's rule is over what arrives.
        let named = form.row("entity")?.text ?? ""
        guard let entity = named.isEmpty && form.target != .node ? NodeFormScreen.arrivingEntity(form, in: state) : named,
            !entity.isEmpty, state.canvas?.context?.catalog.entity(entity) != nil
        else {
            state.status =
                form.row("entity") == nil
                ? "rule builder: the node's input is not connected, so the entity its rule is over is not known"
                : "rule builder: choose the entity first (its attributes are what conditions use)"
            return []
        }
        state.modes.append(.ruleBuilder(RuleBuilder(rule: rule, entity: entity, field: row.name)))
        return []
    }

    static func move(_ state: inout AppState, by delta: Int) -> [Effect] {
        guard case .ruleBuilder(var builder) = state.modes.last else { return [] }
        builder.selection = min(max(builder.selection + delta, 0), builder.rows.count - 1)
        state.modes[state.modes.count - 1] = .ruleBuilder(builder)
        return []
    }

    static func toggle(_ state: inout AppState) -> [Effect] {
        change(&state) { builder in
            guard let row = builder.selectedRow else { return "nothing selected" }
            var path = row.path
            if !row.isGroup || { if case .not = row.rule { true } else { false } }() { path = Array(path.dropLast()) }
            guard
                let rule = RuleTree.updating(
                    builder.rule, path,
                    { r in
                        switch r {
                        case .and(let parts): .or(parts)
                        case .or(let parts): .and(parts)
                        default: r
                        }
                    })
            else { return "no group to switch" }
            builder.rule = rule
            return nil
        }
    }

    /// Changes the builder on top (`change` returns why it refused, or nil), then writes the
    /// rule into the form's field.
    static func change(_ state: inout AppState, _ change: (inout RuleBuilder) -> String?) -> [Effect] {
        guard case .ruleBuilder(var builder) = state.modes.last else { return [] }
        if let refusal = change(&builder) {
            state.status = refusal
            return []
        }
        builder.selection = min(builder.selection, builder.rows.count - 1)
        state.modes[state.modes.count - 1] = .ruleBuilder(builder)
        return apply(builder, &state)
    }

    /// Writes the builder's rule into the field of the form under it, or into the condition of
    /// the builder beneath whose related rows it chooses (and that one on into the form).
    static func apply(_ builder: RuleBuilder, _ state: inout AppState) -> [Effect] {
        apply(builder, at: state.modes.count - 1, &state)
    }

    /// The same for the builder at `index` of the focus stack.
    static func apply(_ builder: RuleBuilder, at index: Int, _ state: inout AppState) -> [Effect] {
        let simplified = RuleTree.simplified(builder.rule)
        if let path = builder.filterOf {
            guard index >= 1, case .ruleBuilder(var parent) = state.modes[index - 1],
                let rule = RuleTree.updating(parent.rule, path, { withFilter($0, builder.isEmpty ? nil : simplified) })
            else { return [] }
            parent.rule = rule
            state.modes[index - 1] = .ruleBuilder(parent)
            return apply(parent, at: index - 1, &state)
        }
        guard let index = state.modes.lastIndex(where: { if case .nodeForm = $0 { true } else { false } }) else { return [] }
        let text = builder.isEmpty ? "" : simplified.text
        return NodeFormScreen.update(&state, at: index) { form in
            guard let row = form.rows.firstIndex(where: { $0.name == builder.field }) else { return }
            form.rows[row].text = text
        }
    }

    /// The one-to-many link path a count, any(), none() or aggregate reads, and the rule its
    /// related rows are chosen by; nil for other conditions.
    static func related(_ rule: Rule) -> (link: [String], filter: Rule?)? {
        switch rule {
        case .exists(let link, let filter, _): (link, filter == .all ? nil : filter)
        case .aggregate(let aggregate, _, _): (aggregate.link, aggregate.filter)
        default: nil
        }
    }

    /// `rule` (a count, any(), none() or aggregate) taking only the related rows `filter`
    /// selects (every related row when nil).
    static func withFilter(_ rule: Rule, _ filter: Rule?) -> Rule {
        switch rule {
        case .exists(let link, _, let negated): return .exists(link: link, filter ?? .all, negated: negated)
        case .aggregate(var aggregate, let op, let value):
            aggregate.filter = filter
            return .aggregate(aggregate, op, value)
        default: return rule
        }
    }

    /// Opens a builder on the related rows of the selected count or any(): its rule is over
    /// the linked entity, and every change goes into the condition.
    static func openFilter(_ state: inout AppState) -> [Effect] {
        guard case .ruleBuilder(let builder) = state.modes.last, let row = builder.selectedRow, let (link, filter) = related(row.rule),
            let catalog = state.canvas?.context?.catalog
        else { return [] }
        var entity = catalog.entity(builder.entity)
        for name in link { entity = entity?.link(name).flatMap { catalog.entity($0.target) } }
        guard let target = entity else {
            state.status = "which rows: \(link.joined(separator: ".")) does not lead to an entity of the catalog"
            return []
        }
        state.modes.append(
            .ruleBuilder(RuleBuilder(rule: filter ?? .and([]), entity: target.name, field: builder.field, filterOf: row.path)))
        state.status = "the \(target.name) that \(row.rule.text) takes: a adds a condition, Esc goes back"
        return []
    }

    /// Adds `condition` after the selection (inside it, for a group), selected.
    static func insert(_ condition: Rule, _ state: inout AppState) -> [Effect] {
        change(&state) { builder in
            let path = builder.selectedRow?.path ?? []
            guard let (rule, added) = RuleTree.inserting(condition, in: builder.rule, at: path) else { return "cannot add here" }
            builder.rule = rule
            builder.selection = RuleTree.rows(rule).firstIndex { $0.path == added } ?? builder.selection
            return nil
        }
    }

    /// The attributes a condition can test, from the catalog: the entity's own, those of the
    /// entities its N-1 and 1-1 links reach, and the number of rows of each 1-N link.
    static func attributeMenu(_ builder: RuleBuilder, state: AppState) -> Menu {
        var items: [MenuItem] = []
        if let catalog = state.canvas?.context?.catalog, let entity = catalog.entity(builder.entity) {
            for attribute in entity.attributes where !attribute.hidden {
                items.append(
                    MenuItem(title: attribute.name, detail: attribute.type.rawValue, value: .attribute(attribute.name, attribute.type)))
            }
            for link in entity.links {
                guard let target = catalog.entity(link.target) else { continue }
                if link.cardinality == .oneToMany {
                    items.append(
                        MenuItem(title: link.name, detail: "how many related \(target.name) (1-N)", value: .attribute(link.name, nil)))
                    continue
                }
                for attribute in target.attributes where !attribute.hidden {
                    let path = "\(link.name).\(attribute.name)"
                    items.append(
                        MenuItem(
                            title: path, detail: "\(attribute.type.rawValue), via \(link.name)", value: .attribute(path, attribute.type)))
                }
            }
        }
        return Menu(purpose: .ruleAttribute, title: "Condition on… (type to search)", items: items)
    }

    /// The operators that fit an attribute's type (or a count of related rows).
    static func operatorMenu(path: String, type: AttributeType?) -> Menu {
        let operators: [(String, String)]
        switch type {
        case nil:
            operators = [
                (">=", "at least N related rows"), (">", "more than N"), ("=", "exactly N"), ("<", "fewer than N"), ("<=", "at most N"),
                ("any()", "has at least one related row"), ("none()", "has no related row"),
                ("sum", "the sum of an attribute of the related rows…"), ("avg", "their average…"), ("min", "their smallest…"),
                ("max", "their largest…"), ("latest", "the latest value of a date or date-time…"),
            ]
        case .text:
            operators = [
                ("=", "is"), ("!=", "is not"), ("in", "is one of"), ("not in", "is none of"), ("contains", "contains"),
                ("starts with", "starts with"), ("icontains", "contains, any case"), ("like", "matches a % _ pattern"),
                ("is empty", "has no value"), ("is not empty", "has a value"),
            ]
        case .integer, .real:
            operators = [
                ("=", "equals"), ("!=", "differs from"), (">", "greater than"), (">=", "at least"), ("<", "less than"), ("<=", "at most"),
                ("between", "between two bounds, included"), ("in", "is one of"), ("is empty", "has no value"),
                ("is not empty", "has a value"),
            ]
        case .boolean:
            operators = [("= true", "is true"), ("= false", "is false"), ("is empty", "has no value")]
        case .date, .datetime:
            operators = [
                ("=", "on"), (">=", "on or after"), (">", "after"), ("<=", "on or before"), ("<", "before"),
                ("between", "between two dates, included"), ("is empty", "has no value"), ("is not empty", "has a value"),
            ]
        }
        return Menu(
            purpose: .ruleOperator(path: path, type: type), title: "\(type == nil ? "Number of \(path)" : path) …",
            items: operators.map { MenuItem(title: $0.0, detail: $0.1, value: .ruleOperator($0.0)) })
    }

    /// After an operator: a condition that needs no value is added; the others ask for it.
    static func picked(operator op: String, path: String, type: AttributeType?, _ state: inout AppState) -> [Effect] {
        if type == nil, op == "any()" || op == "none()" {
            guard let rule = try? Rule(parsing: "\(path).\(op)") else { return [] }
            return insert(rule, &state)
        }
        if type == nil, ["sum", "avg", "min", "max", "latest"].contains(op) {
            // Which attribute of the related rows the aggregate reads.
            guard case .ruleBuilder(let builder) = state.modes.last, let catalog = state.canvas?.context?.catalog,
                let link = catalog.entity(builder.entity)?.link(path), let target = catalog.entity(link.target)
            else { return [] }
            let fits: (AttributeType) -> Bool = { t in
                op == "latest"
                    ? (t == .date || t == .datetime)
                    : (t == .integer || t == .real || (op != "sum" && op != "avg" && (t == .date || t == .datetime)))
            }
            let items = target.attributes.filter { !$0.hidden && fits($0.type) }.map { attribute in
                MenuItem(
                    title: "\(path).\(op)(\(attribute.name))", detail: attribute.type.rawValue,
                    value: .attribute("\(path).\(op)(\(attribute.name))", op == "sum" || op == "avg" ? .real : attribute.type))
            }
            state.modes.append(.menu(Menu(purpose: .ruleAttribute, title: "\(op) of which attribute of \(path)?", items: items)))
            return []
        }
        if ["is empty", "is not empty", "= true", "= false"].contains(op) {
            guard let rule = try? Rule(parsing: "\(path) \(op)") else { return [] }
            return insert(rule, &state)
        }
        let hint: String
        switch type {
        case nil: hint = "a whole number"
        case .text: hint = op.hasSuffix("in") ? "values separated by commas" : "text (quotes are added)"
        case .integer, .real: hint = op == "between" ? "two numbers: 10 and 20" : (op == "in" ? "numbers separated by commas" : "a number")
        case .date: hint = op == "between" ? "2026-01-01 and 2026-03-31" : "a date such as 2026-10-01, or today() - 30d"
        case .datetime: hint = op == "between" ? "two date-times joined by and" : "a date-time such as 2026-10-01T09:00, or now() - 12h"
        case .boolean: hint = "true or false"
        }
        let subject = type == nil ? "\(path).count()" : path
        state.modes.append(
            .prompt(Prompt(purpose: .ruleValue(path: path, operator: op, type: type), title: "\(subject) \(op) … (\(hint))")))
        return []
    }

    /// The condition's text from the prompt's value, quoting text and dates where needed.
    static func condition(path: String, operator op: String, type: AttributeType?, value: String) -> String {
        func literal(_ v: String) -> String {
            let v = v.trimmingCharacters(in: .whitespaces)
            let quoted = v.hasPrefix("\"") || v.hasPrefix("'") || v.hasPrefix("$") || v.hasPrefix("now()") || v.hasPrefix("today()")
            switch type {
            case .text, .date, .datetime:
                return quoted
                    ? v : "\"" + v.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
            default: return v
            }
        }
        if type == nil { return "\(path).count() \(op) \(value.trimmingCharacters(in: .whitespaces))" }
        switch op {
        case "in", "not in":
            return "\(path) \(op) (" + value.split(separator: ",").map { literal(String($0)) }.joined(separator: ", ") + ")"
        case "between":
            let parts = value.components(separatedBy: " and ")
            guard parts.count == 2 else { return "\(path) between \(value)" }
            return "\(path) between \(literal(parts[0])) and \(literal(parts[1]))"
        default:
            return "\(path) \(op) \(literal(value))"
        }
    }

    static func reduce(_ state: inout AppState, _ action: Action) -> [Effect]? {
        let request: Int
        let result: Result<[String], CountFailure>
        switch action {
        case .builderPanel(let asked, let lines):
            (request, result) = (asked, lines)
        case .distributionCounted(let asked, let buckets):
            // Empty values have a bucket of their own, with an empty label.
            (request, result) = (
                asked, buckets.map { BarChart.lines($0.map { ($0.label.isEmpty ? "(empty)" : $0.label, $0.count) }, barWidth: 30) }
            )
        default:
            return nil
        }
        guard let index = state.modes.lastIndex(where: { if case .ruleBuilder = $0 { true } else { false } }),
            case .ruleBuilder(var builder) = state.modes[index], builder.request == request
        else { return [] }
        builder.panel = result
        state.modes[index] = .ruleBuilder(builder)
        return []
    }

    static func render(_ builder: RuleBuilder, state: AppState, into grid: inout CellGrid, glyphs: GlyphSet) {
        let width = Dialog.width(grid) - 4
        let rows = builder.rows
        var panel: [(String, StyleRole)] = []
        if let title = builder.panelTitle {
            panel.append(("", .dialog))
            panel.append((title, .header))
            switch builder.panel {
            case nil: panel.append(("…", .dim))
            case .success(let lines): panel += lines.map { ($0, .dialog) }
            case .failure(let failure): panel += DisplayWidth.wrap(failure.message, to: width).map { ($0, .error) }
            }
        }
        var countLine: String?
        if let form = state.modes.compactMap({ if case .nodeForm(let f) = $0 { f } else { nil } }).last {
            switch form.count {
            case .counting: countLine = "counting…"
            case .counted(let n):
                let root = state.modes.compactMap { if case .ruleBuilder(let b) = $0 { b.entity } else { nil } }.first ?? builder.entity
                countLine = "\(Names.groupedCount(n)) \(root) match"
            case .failed(let message): countLine = "not counted: \(message)"
            case nil: countLine = form.messages.first
            }
        }
        let text =
            RuleTree.rows(builder.rule).allSatisfy(\.isGroup) ? "(no condition yet: a adds one)" : RuleTree.simplified(builder.rule).text
        // At least as tall as the form under it, which would show through below.
        let formRows = state.modes.compactMap { if case .nodeForm(let f) = $0 { f.rows.count + 4 } else { nil } }.last ?? 0
        let lines = max(rows.count + 2 + (countLine == nil ? 0 : 1) + panel.count, formRows)
        let title =
            builder.filterOf == nil
            ? " Rule on \(builder.entity) — a adds, r as text, Esc done " : " Which \(builder.entity) count — a adds, Esc back "
        let box = Dialog.draw(&grid, lines: lines, title: title, glyphs: glyphs)
        var y = box.y + 2
        for (i, row) in rows.enumerated() where y < box.maxY - 1 {
            let indent = String(repeating: "  ", count: row.depth)
            let label = DisplayWidth.truncate(indent + RuleTree.label(row), to: width, ellipsis: glyphs.ellipsis)
            grid.put(
                DisplayWidth.pad(label, to: width), x: box.x + 2, y: y,
                role: i == builder.selection ? .selection : (row.isGroup ? .header : .dialog))
            y += 1
        }
        y += 1
        if y < box.maxY - 1 {
            grid.put(DisplayWidth.truncate(text, to: width, ellipsis: glyphs.ellipsis), x: box.x + 2, y: y, role: .dim)
            y += 1
        }
        if let countLine, y < box.maxY - 1 {
            grid.put(DisplayWidth.truncate(countLine, to: width, ellipsis: glyphs.ellipsis), x: box.x + 2, y: y, role: .count)
            y += 1
        }
        for (line, role) in panel where y < box.maxY - 1 {
            grid.put(DisplayWidth.truncate(line, to: width, ellipsis: glyphs.ellipsis), x: box.x + 2, y: y, role: role)
            y += 1
        }
    }
}
