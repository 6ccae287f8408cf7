/// One branch of a Test node: a label, and the condition under which the whole inbound
/// population takes it, over the inbound count and the campaign's variables.
public struct TestBranch: Sendable, Equatable {
    public var label: String
    public var condition: Rule

    public init(label: String, condition: Rule) {
        self.label = label
        self.condition = condition
    }
}

/// Conditions of Test nodes are rules over one row of facts: `count` (the inbound population's
/// size) and each campaign variable under its own name, so `count >= 1000`,
/// `count between 1 and $cap` and `region = "EU"` (with a variable `region`) read as rules do.
public enum TestFacts {
    /// The row conditions are checked against, as an entity the rule checker knows.
    public static func entity(variables: [(String, Literal)]) -> Entity {
        var attributes = [Attribute(name: "count", type: .integer)]
        for (name, value) in variables where name != "count" {
            let type: AttributeType =
                switch value {
                case .integer: .integer
                case .real: .real
                case .boolean: .boolean
                default: .text
                }
            attributes.append(Attribute(name: name, type: type))
        }
        return Entity(name: "test facts", primaryKey: "count", keyType: .integer, attributes: attributes)
    }

    /// Whether `rule` holds for an inbound population of `count` rows. A part a condition
    /// cannot use (links, saved audiences, text patterns, `now()`) is refused, not guessed.
    public static func holds(_ rule: Rule, count: Int, variables: [String: Literal]) throws -> Bool {
        func value(_ path: AttributePath) throws -> Literal? {
            guard path.segments.count == 1 else { throw unsupported("a link ('\(path.segments.joined(separator: "."))')") }
            if path.attribute == "count" { return .integer(Int64(count)) }
            guard let bound = variables[path.attribute] else {
                throw HeraldError(.invalidInput, "test condition: unknown name '\(path.attribute)'; use count or a campaign variable")
            }
            return bound
        }
        func literal(_ l: Literal) throws -> Literal {
            switch l {
            case .variable(let name):
                guard let bound = variables[name] else { throw HeraldError(.invalidInput, "test condition: unknown variable $\(name)") }
                return bound
            case .relative: throw unsupported("now() or today()")
            default: return l
            }
        }
        func order(_ a: Literal, _ b: Literal) throws -> Int {
            switch (a, b) {
            case (.text(let x), .text(let y)): return x < y ? -1 : x == y ? 0 : 1
            case (.boolean(let x), .boolean(let y)): return x == y ? 0 : (x ? 1 : -1)
            default:
                guard let x = number(a), let y = number(b) else {
                    throw HeraldError(
                        .invalidInput, "test condition: cannot compare \(RulePrinter.literal(a)) with \(RulePrinter.literal(b))")
                }
                return x < y ? -1 : x == y ? 0 : 1
            }
        }
        func number(_ l: Literal) -> Double? {
            switch l {
            case .integer(let v): Double(v)
            case .real(let v): v
            default: nil
            }
        }
        func unsupported(_ what: String) -> HeraldError {
            HeraldError(.invalidInput, "test condition: \(what) cannot be used here; a condition tests count and the campaign's variables")
        }
        func evaluate(_ rule: Rule) throws -> Bool {
            switch rule {
            case .all: return true
            case .and(let parts): return try parts.allSatisfy(evaluate)
            case .or(let parts): return try parts.contains(where: evaluate)
            case .not(let inner): return try !evaluate(inner)
            case .compare(let path, let op, let l):
                guard let v = try value(path) else { return false }
                let c = try order(v, try literal(l))
                switch op {
                case .equal: return c == 0
                case .notEqual: return c != 0
                case .less: return c < 0
                case .lessOrEqual: return c <= 0
                case .greater: return c > 0
                case .greaterOrEqual: return c >= 0
                }
            case .inList(let path, let values, let negated):
                guard let v = try value(path) else { return negated }
                let found = try values.contains { try order(v, try literal($0)) == 0 }
                return found != negated
            case .between(let path, let low, let high, let negated):
                guard let v = try value(path) else { return negated }
                let inside = try order(v, try literal(low)) >= 0 && order(v, try literal(high)) <= 0
                return inside != negated
            case .isEmpty(let path, let negated):
                let v = try value(path)
                let empty = v == nil || v == .text("")
                return empty != negated
            case .text: throw unsupported("a text pattern")
            case .exists, .aggregate: throw unsupported("a one-to-many link")
            case .inAudience: throw unsupported("a saved audience")
            }
        }
        return try evaluate(rule)
    }
}
