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
    /// `now()` or `today()` shifted by a duration: `now() - 30d`, `today() + 2w`.
    case relative(TimeBase, offset: Int, unit: DurationUnit)
}

/// The moment a relative time is measured from, taken when the rule is compiled.
public enum TimeBase: String, Hashable, Sendable, CaseIterable {
    /// The current date and time (UTC).
    case now
    /// The current date in the campaign's time zone, at midnight.
    case today
}

/// Units of the durations written after a number (`30d`).
public enum DurationUnit: String, Hashable, Sendable, CaseIterable {
    case minutes = "m"
    case hours = "h"
    case days = "d"
    case weeks = "w"

    public var seconds: Int {
        switch self {
        case .minutes: 60
        case .hours: 3600
        case .days: 86400
        case .weeks: 7 * 86400
        }
    }
}

/// A function over the related rows of a one-to-many link.
public enum AggregateFunction: String, Hashable, Sendable, CaseIterable {
    case count, sum, min, max, avg, latest

    /// Whether the function takes a column (`sum(amount …)`); `count` takes only a filter.
    public var takesColumn: Bool { self != .count }
}

/// `bookings.sum(amount where status = "confirmed")`: a value computed over related rows.
public struct Aggregate: Hashable, Sendable {
    /// Links from the rule's entity; the last one is one-to-many.
    public var link: [String]
    public var function: AggregateFunction
    public var column: String?
    public var filter: Rule?

    public init(link: [String], function: AggregateFunction, column: String? = nil, filter: Rule? = nil) {
        self.link = link
        self.function = function
        self.column = column
        self.filter = filter
    }
}

public enum ComparisonOperator: String, Sendable, CaseIterable {
    case equal = "="
    case notEqual = "!="
    case less = "<"
    case lessOrEqual = "<="
    case greater = ">"
    case greaterOrEqual = ">="
}

/// Text tests. The `i` forms ignore the case of ASCII letters; `like` patterns use `%` for any
/// run of characters and `_` for one character, `\\` escapes them.
public enum TextMatch: String, Sendable, CaseIterable {
    case startsWith = "starts with"
    case contains = "contains"
    case like = "like"
    case startsWithIgnoringCase = "istarts with"
    case containsIgnoringCase = "icontains"
    case likeIgnoringCase = "ilike"

    public var ignoresCase: Bool { [.startsWithIgnoringCase, .containsIgnoringCase, .likeIgnoringCase].contains(self) }
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
    /// `amount between 10 and 20`: both bounds included.
    case between(AttributePath, Literal, Literal, negated: Bool)
    /// `bookings.any(rule)` (`negated`: `bookings.none(rule)`); `.all` means any related row.
    case exists(link: [String], Rule, negated: Bool)
    /// `bookings.count(status = "confirmed") >= 2` and the other aggregates.
    case aggregate(Aggregate, ComparisonOperator, Literal)
    /// Membership in a saved audience, by name.
    case inAudience(String)

    /// Every attribute path the rule mentions at its own level, in reading order.
    public var paths: [AttributePath] {
        switch self {
        case .all, .exists, .aggregate, .inAudience: []
        case .and(let rules), .or(let rules): rules.flatMap(\.paths)
        case .not(let rule): rule.paths
        case .compare(let p, _, _), .inList(let p, _, _), .isEmpty(let p, _), .text(let p, _, _, _), .between(let p, _, _, _): [p]
        }
    }

    /// Names of the saved audiences the rule refers to.
    public var audiences: [String] {
        switch self {
        case .inAudience(let name): [name]
        case .and(let rules), .or(let rules): rules.flatMap(\.audiences)
        case .not(let rule): rule.audiences
        case .exists(_, let rule, _): rule.audiences
        case .aggregate(let a, _, _): a.filter?.audiences ?? []
        default: []
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
