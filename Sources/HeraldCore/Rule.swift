/// A dotted reference from an entity: zero or more link names, then an attribute.
/// `home_destination.country` follows the `home_destination` link and reads `country`.
public struct AttributePath: Hashable, Sendable, CustomStringConvertible {
    public var segments: [String]

    public init(_ segments: [String]) {
        precondition(!segments.isEmpty, "an attribute path needs at least one segment")
        self.segments = segments
    }

    public init(_ dotted: String) {
        self.init(dotted.split(separator: ".").map(String.init))
    }

    public var links: ArraySlice<String> { segments.dropLast() }
    public var attribute: String { segments[segments.count - 1] }
    public var description: String { segments.map(RulePrinter.identifier).joined(separator: ".") }
}

/// A constant written in a rule, or a campaign variable resolved when the rule is compiled.
public enum Literal: Hashable, Sendable {
    case integer(Int64)
    case real(Double)
    case text(String)
    case boolean(Bool)
    case variable(String)
}

public enum ComparisonOperator: String, Sendable, CaseIterable {
    case equal = "="
    case notEqual = "!="
    case less = "<"
    case lessOrEqual = "<="
    case greater = ">"
    case greaterOrEqual = ">="
}

public enum TextMatch: String, Sendable, CaseIterable {
    case startsWith = "starts with"
    case contains = "contains"
    case like = "like"
}

/// A condition over the rows of one entity (the rule's *dimension*).
///
/// Empty values (SQL NULL, and the empty string for text) follow one documented rule
/// (see docs/rules.md): a positive test on an empty value is false, its negation is true,
/// so `not` always means "the rows the inner rule does not select".
public indirect enum Rule: Hashable, Sendable {
    /// Every row.
    case all
    case and([Rule])
    case or([Rule])
    case not(Rule)
    case compare(AttributePath, ComparisonOperator, Literal)
    case inList(AttributePath, [Literal], negated: Bool)
    case isEmpty(AttributePath, negated: Bool)
    case text(AttributePath, TextMatch, Literal, negated: Bool)

    /// Every attribute path the rule mentions, in reading order.
    public var paths: [AttributePath] {
        switch self {
        case .all: []
        case .and(let rules), .or(let rules): rules.flatMap(\.paths)
        case .not(let rule): rule.paths
        case .compare(let p, _, _), .inList(let p, _, _), .isEmpty(let p, _), .text(let p, _, _, _): [p]
        }
    }

    /// Parses the textual syntax; errors carry the position of the problem.
    public init(parsing source: String) throws(RuleSyntaxError) {
        self = try RuleParser.parse(source)
    }

    /// The canonical textual form; `Rule(parsing: rule.text) == rule`.
    public var text: String { RulePrinter.print(self) }
}

/// A syntax error with the offset (in characters) where it was found.
public struct RuleSyntaxError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public var offset: Int
    public var source: String

    public init(message: String, offset: Int, source: String) {
        self.message = message
        self.offset = offset
        self.source = source
    }

    /// The message, then the rule with a caret under the offending position.
    public var description: String {
        let line = String(source.map { $0 == "\n" ? " " : $0 })
        let shown = String(line.prefix(200))
        let caret = String(repeating: " ", count: min(offset, shown.count)) + "^"
        return "\(message) at column \(offset + 1)\n  \(shown)\n  \(caret)"
    }
}
