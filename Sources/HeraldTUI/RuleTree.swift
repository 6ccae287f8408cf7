public import HeraldCore

/// A rule as a tree the builder edits: groups (all of, any of, not) and conditions, each
/// addressed by its index path from the root. The root is always a group, so a condition can
/// be added beside the first one; the rule it stands for drops a group of one.
public enum RuleTree {
    /// One line of the tree.
    public struct Row: Equatable, Sendable {
        public var path: [Int]
        public var depth: Int
        public var rule: Rule
        public var isGroup: Bool
    }

    /// The root group for `rule`: a rule that is not `and`/`or` becomes the one condition of an
    /// `and`.
    public static func root(_ rule: Rule) -> Rule {
        switch rule {
        case .and, .or: rule
        default: .and([rule])
        }
    }

    /// The rule a tree stands for: groups of one are their member; an empty group is every row
    /// only where the user left it so (validation then says so, and nothing widens silently).
    public static func simplified(_ rule: Rule) -> Rule {
        switch rule {
        case .and(let parts):
            let inner = parts.map(simplified)
            return inner.count == 1 ? inner[0] : .and(inner)
        case .or(let parts):
            let inner = parts.map(simplified)
            return inner.count == 1 ? inner[0] : .or(inner)
        case .not(let inner):
            return .not(simplified(inner))
        default:
            return rule
        }
    }

    public static func children(_ rule: Rule) -> [Rule] {
        switch rule {
        case .and(let parts), .or(let parts): parts
        case .not(let inner): [inner]
        default: []
        }
    }

    static func isGroup(_ rule: Rule) -> Bool {
        switch rule {
        case .and, .or, .not: true
        default: false
        }
    }

    public static func rows(_ rule: Rule) -> [Row] {
        var rows: [Row] = []
        func walk(_ r: Rule, _ path: [Int]) {
            rows.append(Row(path: path, depth: path.count, rule: r, isGroup: isGroup(r)))
            for (i, child) in children(r).enumerated() { walk(child, path + [i]) }
        }
        walk(rule, [])
        return rows
    }

    /// How a row reads in the tree.
    public static func label(_ row: Row) -> String {
        switch row.rule {
        case .and: "all of these"
        case .or: "any of these"
        case .not: "not"
        default: row.rule.text
        }
    }

    public static func get(_ rule: Rule, _ path: [Int]) -> Rule? {
        guard let first = path.first else { return rule }
        let kids = children(rule)
        guard kids.indices.contains(first) else { return nil }
        return get(kids[first], Array(path.dropFirst()))
    }

    /// `rule` with the node at `path` replaced by `change` applied to it.
    public static func updating(_ rule: Rule, _ path: [Int], _ change: (Rule) -> Rule?) -> Rule? {
        guard let first = path.first else { return change(rule) }
        var kids = children(rule)
        guard kids.indices.contains(first) else { return nil }
        let rest = Array(path.dropFirst())
        if rest.isEmpty, change(kids[first]) == nil {
            kids.remove(at: first)
        } else {
            guard let updated = updating(kids[first], rest, change) else { return nil }
            kids[first] = updated
        }
        return rebuilt(rule, kids)
    }

    static func rebuilt(_ rule: Rule, _ kids: [Rule]) -> Rule {
        switch rule {
        case .and: .and(kids)
        case .or: .or(kids)
        case .not: kids.first.map { .not($0) } ?? .and([])
        default: rule
        }
    }

    /// Where a new condition goes for the row at `path`: inside a group (last), or after a
    /// condition in its group. Returns the new tree and the new condition's path.
    public static func inserting(_ condition: Rule, in rule: Rule, at path: [Int]) -> (Rule, [Int])? {
        guard let target = get(rule, path) else { return nil }
        switch target {
        case .and, .or:
            let count = children(target).count
            return updating(rule, path) { rebuilt($0, children($0) + [condition]) }.map { ($0, path + [count]) }
        default:
            break
        }
        guard let index = path.last else { return nil }
        let parentPath = Array(path.dropLast())
        guard let parent = get(rule, parentPath) else { return nil }
        if case .not = parent {
            // Beside a negated condition: the not and the new condition become a group of two.
            return updating(rule, parentPath) { .and([$0, condition]) }.map { ($0, parentPath + [1]) }
        }
        var kids = children(parent)
        kids.insert(condition, at: index + 1)
        return updating(rule, parentPath) { rebuilt($0, kids) }.map { ($0, parentPath + [index + 1]) }
    }
}
