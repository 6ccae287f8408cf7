public import Foundation

/// An attribute path resolved against the catalog: the links followed and the final attribute.
public struct ResolvedPath: Sendable, Equatable {
    public var path: AttributePath
    /// Links in order, each with the entity it starts from.
    public var hops: [(from: String, link: Link)]
    public var entity: String
    public var attribute: Attribute

    public static func == (a: ResolvedPath, b: ResolvedPath) -> Bool {
        a.path == b.path && a.entity == b.entity && a.attribute == b.attribute
            && a.hops.map(\.link) == b.hops.map(\.link)
    }
}

/// Checks a rule against the catalog: names exist, links can be navigated, values fit the types.
public struct RuleChecker: Sendable {
    public var catalog: Catalog
    public var variables: [String: Literal]
    /// Saved audiences by name with their entity; nil when they are not known here.
    public var audiences: [String: String]?
    /// Live saved audiences whose own rule no longer parses or checks, by lowercased name, with
    /// the problem: a rule that uses one is refused rather than given a guessed population.
    public var brokenAudiences: [String: String]
    /// Lowercased names of the saved audiences that are live (their members are their rule's).
    public var liveAudiences: Set<String> = []

    public init(
        catalog: Catalog, variables: [String: Literal] = [:], audiences: [String: String]? = nil, brokenAudiences: [String: String] = [:]
    ) {
        self.catalog = catalog
        self.variables = variables
        self.audiences = audiences
        self.brokenAudiences = brokenAudiences
    }

    /// The problem with a saved live audience's stored rule, or nil when it parses and checks
    /// against the catalog; `checker` knows the other audiences (and which of them are broken).
    public static func problem(ofAudience rule: String, entity: String, checker: RuleChecker) -> String? {
        guard let target = checker.catalog.entity(entity) else {
            return "its entity '\(entity)' is no longer in the catalog"
        }
        let parsed: Rule
        do { parsed = try Rule(parsing: rule) } catch { return "its rule no longer parses (\(error))" }
        let problems = checker.problems(in: parsed, on: target)
        guard !problems.isEmpty else { return nil }
        return "its rule no longer fits the catalog (\(problems.map(Self.withoutPrefix).joined(separator: "; ")))"
    }

    static func withoutPrefix(_ message: String) -> String {
        message.hasPrefix("rule: ") ? String(message.dropFirst(6)) : message
    }

    /// Follows `link` from `entity`: N-1/1-1 hops, then one one-to-many link at the end.
    public func resolveOneToMany(
        _ link: [String], from entity: Entity
    ) throws -> (hops: [(from: String, link: Link)], last: Link, target: Entity) {
        var current = entity
        var hops: [(from: String, link: Link)] = []
        for (i, name) in link.enumerated() {
            guard let l = current.link(name) else {
                throw HeraldError(
                    .invalidInput,
                    "rule: '\(current.name)' has no link '\(name)'\(Names.suggestion(for: name, in: current.links.map(\.name)))")
            }
            guard let next = catalog.entity(l.target) else {
                throw HeraldError(.invalidInput, "rule: link '\(name)' points to '\(l.target)', which is not in the catalog")
            }
            if i == link.count - 1 {
                guard l.cardinality == .oneToMany else {
                    throw HeraldError(
                        .invalidInput,
                        "rule: '\(name)' is a \(l.cardinality.rawValue) link; any, none and aggregates apply to one-to-many links (compare its attributes directly: \(name).<attribute>)"
                    )
                }
                return (hops, l, next)
            }
            guard l.cardinality != .oneToMany else {
                throw HeraldError(.invalidInput, "rule: '\(name)' is one-to-many; only the last link before any/none/count may be")
            }
            hops.append((current.name, l))
            current = next
        }
        throw HeraldError(.invalidInput, "rule: a link is needed before any, none or an aggregate")
    }

    /// Resolves `path` from `entity`, or throws naming the unknown part and the closest match.
    public func resolve(_ path: AttributePath, from entity: Entity) throws -> ResolvedPath {
        var current = entity
        var hops: [(from: String, link: Link)] = []
        for name in path.links {
            guard let link = current.link(name) else {
                let hint =
                    current.attribute(name) != nil
                    ? "; '\(name)' is an attribute, not a link" : Names.suggestion(for: name, in: current.links.map(\.name))
                throw HeraldError(.invalidInput, "rule: '\(current.name)' has no link '\(name)'\(hint)")
            }
            if link.cardinality == .oneToMany {
                throw HeraldError(
                    .invalidInput,
                    "rule: '\(name)' is a one-to-many link from '\(current.name)'; '\(path)' would match many rows per \(current.name) row"
                )
            }
            guard let next = catalog.entity(link.target) else {
                throw HeraldError(.invalidInput, "rule: link '\(name)' points to '\(link.target)', which is not in the catalog")
            }
            hops.append((current.name, link))
            current = next
        }
        guard let attribute = current.attribute(path.attribute), !attribute.hidden else {
            var message = "rule: unknown attribute '\(path.attribute)' on '\(current.name)'"
            message += Names.suggestion(for: path.attribute, in: current.referenceableNames)
            if current.link(path.attribute) != nil {
                message = "rule: '\(path.attribute)' is a link; name one of its attributes, such as '\(path).<attribute>'"
            }
            throw HeraldError(.invalidInput, message)
        }
        return ResolvedPath(path: path, hops: hops, entity: current.name, attribute: attribute)
    }

    /// Replaces `$name` with the campaign variable's value.
    public func substitute(_ value: Literal) throws -> Literal {
        guard case .variable(let name) = value else { return value }
        guard let bound = variables[name] else {
            throw HeraldError(
                .invalidInput,
                "rule: unknown variable $\(name)\(Names.suggestion(for: name, in: Array(variables.keys)))"
            )
        }
        return bound
    }

    /// Throws when `value` cannot be compared with an attribute of `type`.
    public func checkValue(_ value: Literal, for resolved: ResolvedPath) throws {
        let value = try substitute(value)
        let type = resolved.attribute.type
        let name = resolved.path.description
        try checkValue(value, type: type, name: name)
    }

    /// Throws when `value` cannot be compared with a value of `type` named `name`.
    public func checkValue(_ value: Literal, type: AttributeType, name: String) throws {
        let value = try substitute(value)
        if case .text(let t) = value, t.contains("\u{0}") {
            throw HeraldError(
                .invalidInput, "rule: the value for '\(name)' contains a NUL character, which SQLite text cannot hold reliably")
        }
        func mismatch(_ expected: String) -> HeraldError {
            HeraldError(
                .invalidInput,
                "rule: '\(name)' is \(type.rawValue); expected \(expected), found \(RulePrinter.literal(value))"
            )
        }
        switch (type, value) {
        case (.date, .relative), (.datetime, .relative):
            return
        case (_, .relative):
            throw mismatch("a \(type == .text ? "text" : "number") value; now() and today() compare with dates")
        case (.integer, .integer), (.real, .integer), (.real, .real), (.text, .text), (.boolean, .boolean):
            return
        case (.integer, .real):
            return
        case (.boolean, .integer(let v)) where v == 0 || v == 1:
            return
        case (.date, .text(let s)):
            guard TemporalText.isDate(s) else { throw mismatch("a date such as \"2026-01-31\"") }
        case (.datetime, .text(let s)):
            guard TemporalText.isDate(s) || TemporalText.isDateTime(s) else {
                throw mismatch("a date-time such as \"2026-01-31T09:30:00Z\"")
            }
        case (.integer, _), (.real, _): throw mismatch("a number")
        case (.text, _): throw mismatch("text in quotes")
        case (.boolean, _): throw mismatch("true or false")
        case (.date, _): throw mismatch("a date such as \"2026-01-31\"")
        case (.datetime, _): throw mismatch("a date-time such as \"2026-01-31T09:30:00Z\"")
        }
    }

    /// Checks the whole rule over `entity`; throws naming every problem (two unknown attributes
    /// are both named).
    public func check(_ rule: Rule, on entity: Entity) throws {
        let found = problems(in: rule, on: entity)
        guard !found.isEmpty else { return }
        throw HeraldError(.invalidInput, found.count == 1 ? found[0] : "rule: " + found.map(Self.withoutPrefix).joined(separator: "; "))
    }

    /// Conditions one rule may hold: each is a bound value or more in the SQL it compiles to,
    /// and SQLite binds at most 32,766 values in one statement.
    public static let maximumConditions = 10_000

    /// How many conditions (comparisons, tests, links) `rule` holds, however nested.
    public static func conditionCount(_ rule: Rule) -> Int {
        switch rule {
        case .all: 0
        case .and(let rules), .or(let rules): rules.reduce(0) { $0 + conditionCount($1) }
        case .not(let inner): conditionCount(inner)
        case .exists(_, let inner, _): 1 + conditionCount(inner)
        case .aggregate(let aggregate, _, _): 1 + (aggregate.filter.map(conditionCount) ?? 0)
        default: 1
        }
    }

    /// Every problem in `rule` over `entity`, one message per faulty part, in reading order;
    /// first, a rule too large for SQLite to run.
    public func problems(in rule: Rule, on entity: Entity) -> [String] {
        let size = Self.conditionCount(rule)
        if size > Self.maximumConditions {
            return [
                "rule: \(size) conditions, more than the \(Self.maximumConditions) one rule can hold; list many values with 'in (…)' (one condition) or import them as a snapshot audience ('herald audience import')"
            ]
        }
        return partProblems(in: rule, on: entity)
    }

    func partProblems(in rule: Rule, on entity: Entity) -> [String] {
        func attempt(_ body: () throws -> Void) -> [String] {
            do {
                try body()
                return []
            } catch {
                return ["\(error)"]
            }
        }
        switch rule {
        case .and(let rules), .or(let rules):
            return rules.flatMap { partProblems(in: $0, on: entity) }
        case .not(let inner):
            return partProblems(in: inner, on: entity)
        case .exists(let link, let inner, _):
            do {
                let (_, _, target) = try resolveOneToMany(link, from: entity)
                return partProblems(in: inner, on: target)
            } catch {
                return ["\(error)"]
            }
        case .aggregate(var aggregate, let op, let value):
            guard let filter = aggregate.filter else { return attempt { try checkPart(rule, on: entity) } }
            let target: Entity
            do { target = try resolveOneToMany(aggregate.link, from: entity).target } catch { return ["\(error)"] }
            aggregate.filter = nil
            return partProblems(in: filter, on: target) + attempt { try checkPart(.aggregate(aggregate, op, value), on: entity) }
        default:
            return attempt { try checkPart(rule, on: entity) }
        }
    }

    /// Checks one part of a rule (its sub-rules too, stopping at the first problem).
    func checkPart(_ rule: Rule, on entity: Entity) throws {
        switch rule {
        case .all:
            return
        case .and(let rules), .or(let rules):
            for r in rules { try checkPart(r, on: entity) }
        case .not(let inner):
            try checkPart(inner, on: entity)
        case .compare(let path, _, let value):
            try checkValue(value, for: try resolve(path, from: entity))
        case .inList(let path, let values, _):
            let resolved = try resolve(path, from: entity)
            for v in values { try checkValue(v, for: resolved) }
        case .isEmpty(let path, _):
            _ = try resolve(path, from: entity)
        case .text(let path, let match, let value, _):
            let resolved = try resolve(path, from: entity)
            try checkValue(value, type: .text, name: path.description)
            guard case .text(let needle) = try substitute(value) else {
                throw HeraldError(.invalidInput, "rule: '\(match.rawValue)' needs text in quotes after '\(path)'")
            }
            if needle.isEmpty {
                throw HeraldError(.invalidInput, "rule: '\(path) \(match.rawValue)' needs non-empty text (test emptiness with 'is empty')")
            }
            if resolved.attribute.type.isNumeric || resolved.attribute.type == .boolean {
                throw HeraldError(
                    .invalidInput,
                    "rule: '\(match.rawValue)' applies to text; '\(path)' is \(resolved.attribute.type.rawValue)"
                )
            }
        case .between(let path, let low, let high, _):
            let resolved = try resolve(path, from: entity)
            try checkValue(low, for: resolved)
            try checkValue(high, for: resolved)
        case .exists(let link, let inner, _):
            let (_, _, target) = try resolveOneToMany(link, from: entity)
            try checkPart(inner, on: target)
        case .aggregate(let aggregate, _, let value):
            let type = try type(of: aggregate, on: entity)
            let subject = "\(aggregate.link.joined(separator: ".")).\(aggregate.function.rawValue)(…)"
            // A sum or an average compares with any number.
            try checkValue(value, type: aggregate.function == .sum || aggregate.function == .avg ? .real : type, name: subject)
        case .inAudience(let name):
            guard let audiences else { return }
            guard let audienceEntity = audiences.first(where: { $0.key.lowercased() == name.lowercased() })?.value else {
                throw HeraldError(
                    .invalidInput, "rule: no saved audience named '\(name)'\(Names.suggestion(for: name, in: Array(audiences.keys)))")
            }
            guard audienceEntity == entity.name else {
                throw HeraldError(
                    .invalidInput, "rule: the saved audience '\(name)' is on '\(audienceEntity)', not '\(entity.name)'")
            }
            if let problem = brokenAudiences[name.lowercased()] {
                throw HeraldError(.invalidInput, "rule: the saved audience '\(name)' cannot be used: \(problem)")
            }
        }
    }
}

/// Recognises the ISO-8601 shapes Herald stores dates and date-times in.
public enum TemporalText {
    /// `YYYY-MM-DD` with a valid month and day.
    public static func isDate(_ s: String) -> Bool {
        // Cheap rejections first: imports call this for every value of a column.
        guard s.utf8.count == 10 else { return false }
        // Native strings are contiguous UTF-8: read them in place, without an array.
        if let answer = s.utf8.withContiguousStorageIfAvailable({ isDate(bytes: $0) }) { return answer }
        return Array(s.utf8).withUnsafeBufferPointer { isDate(bytes: $0) }
    }

    /// `isDate` on UTF-8 bytes.
    public static func isDate(bytes u: UnsafeBufferPointer<UInt8>) -> Bool {
        guard u.count == 10, u[4] == 45, u[7] == 45 else { return false }
        func number(_ range: Range<Int>) -> Int? {
            var v = 0
            for i in range {
                guard (48...57).contains(u[i]) else { return nil }
                v = v * 10 + Int(u[i] - 48)
            }
            return v
        }
        guard let y = number(0..<4), let m = number(5..<7), let d = number(8..<10) else { return false }
        return y > 0 && (1...12).contains(m) && d >= 1 && d <= daysIn(month: m, year: y)
    }

    /// `YYYY-MM-DD[T ]HH:MM[:SS[.fff]][Z|±HH:MM]`.
    public static func isDateTime(_ s: String) -> Bool {
        guard s.utf8.count >= 16 else { return false }
        if let answer = s.utf8.withContiguousStorageIfAvailable({ isDateTime(bytes: $0) }) { return answer }
        return Array(s.utf8).withUnsafeBufferPointer { isDateTime(bytes: $0) }
    }

    /// `isDateTime` on UTF-8 bytes.
    public static func isDateTime(bytes u: UnsafeBufferPointer<UInt8>) -> Bool {
        guard u.count >= 16, isDate(bytes: UnsafeBufferPointer(rebasing: u[0..<10])) else { return false }
        guard u[10] == 84 || u[10] == 32, u[13] == 58 else { return false }
        guard let h = digits(u[11..<13]), let mi = digits(u[14..<16]), h < 24, mi < 60 else { return false }
        var i = 16
        if i < u.count && u[i] == 58 {
            guard i + 3 <= u.count, let sec = digits(u[(i + 1)..<(i + 3)]), sec < 61 else { return false }
            i += 3
            if i < u.count && u[i] == 46 {
                i += 1
                let start = i
                while i < u.count && (48...57).contains(u[i]) { i += 1 }
                if i == start { return false }
            }
        }
        if i == u.count { return true }
        if u[i] == 90 { return i + 1 == u.count }
        if u[i] == 43 || u[i] == 45 {
            guard u.count == i + 6, u[i + 3] == 58, let oh = digits(u[(i + 1)..<(i + 3)]),
                let om = digits(u[(i + 4)..<(i + 6)])
            else { return false }
            return oh < 24 && om < 60
        }
        return false
    }

    /// The one form Herald stores and compares date-times in: UTC to the second,
    /// `YYYY-MM-DDTHH:MM:SSZ`. Text order is then time order, so comparisons stay
    /// index-friendly.
    public static let canonicalDateTimeGlob = "[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z"
    /// Dates are stored as `YYYY-MM-DD`.
    public static let canonicalDateGlob = "[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]"

    /// Why a date-time text cannot be stored as an instant.
    public enum InstantProblem: Error, Equatable, Sendable {
        /// Not a date or date-time Herald reads.
        case notADateTime
        /// Sub-second digits other than zeros: comparing to the second would change the value.
        case fractionOfASecond
        /// Outside years 1…9999 once converted to UTC.
        case outOfRange
    }

    /// A date-time, or a date (its midnight), as the UTC instant in the canonical form.
    /// A value without an offset is read in `zone` (a local time that falls in a daylight-saving
    /// gap moves forward by the gap; one that occurs twice is its first occurrence).
    /// - Returns: the canonical text, and whether the value carried its own offset.
    public static func instant(_ s: String, zone: TimeZone) throws(InstantProblem) -> (text: String, hadOffset: Bool) {
        let u = Array(s.utf8)
        let dateOnly = isDate(s)
        guard dateOnly || isDateTime(s), let y = digits(u[0..<4]), let mo = digits(u[5..<7]), let d = digits(u[8..<10]) else {
            throw .notADateTime
        }
        var h = 0
        var mi = 0
        var sec = 0
        var offsetSeconds: Int?
        if !dateOnly {
            h = digits(u[11..<13]) ?? 0
            mi = digits(u[14..<16]) ?? 0
            var i = 16
            if i < u.count && u[i] == 58 {
                sec = digits(u[(i + 1)..<(i + 3)]) ?? 0
                i += 3
                if i < u.count && u[i] == 46 {
                    i += 1
                    while i < u.count && (48...57).contains(u[i]) {
                        if u[i] != 48 { throw .fractionOfASecond }
                        i += 1
                    }
                }
            }
            if i < u.count {
                if u[i] == 90 {
                    offsetSeconds = 0
                } else {
                    let sign = u[i] == 45 ? -1 : 1
                    let oh = digits(u[(i + 1)..<(i + 3)]) ?? 0
                    let om = digits(u[(i + 4)..<(i + 6)]) ?? 0
                    offsetSeconds = sign * (oh * 3600 + om * 60)
                }
            }
        }
        // A leap second (:60) is read as the next second, as most systems do.
        let civil = CivilDate.days(year: y, month: mo, day: d) * 86_400 + h * 3600 + mi * 60 + sec
        let utc: Int
        if let offsetSeconds {
            utc = civil - offsetSeconds
        } else {
            utc = localToUTC(civil, zone: zone)
        }
        guard let text = canonical(utcSeconds: utc) else { throw .outOfRange }
        return (text, offsetSeconds != nil)
    }

    /// The canonical text of an instant given as seconds since 1970-01-01T00:00:00Z.
    public static func canonical(utcSeconds: Int) -> String? {
        let days = utcSeconds >= 0 ? utcSeconds / 86_400 : -((-utcSeconds + 86_399) / 86_400)
        let rest = utcSeconds - days * 86_400
        let (y, m, d) = CivilDate.civil(days: days)
        guard (1...9999).contains(y) else { return nil }
        func pad(_ v: Int, _ n: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, n - s.count)) + s
        }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(rest / 3600, 2)):\(pad(rest % 3600 / 60, 2)):\(pad(rest % 60, 2))Z"
    }

    /// The UTC seconds of a wall-clock time (`civil`, seconds since the epoch as if it were
    /// UTC) in `zone`: the offset in force just before is tried first, so a repeated hour is its
    /// first occurrence and a skipped one moves forward by the gap.
    static func localToUTC(_ civil: Int, zone: TimeZone) -> Int {
        let before = zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(civil - 86_400)))
        let after = zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(civil + 86_400)))
        // Try both offsets; keep one whose instant really shows this wall-clock time.
        for offset in [max(before, after), min(before, after)] {
            let candidate = civil - offset
            if zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(candidate))) == offset { return candidate }
        }
        // In a gap: the wall-clock time does not exist; read it with the offset from before.
        return civil - before
    }

    static func digits(_ bytes: some Collection<UInt8>) -> Int? {
        var v = 0
        for b in bytes {
            guard (48...57).contains(b) else { return nil }
            v = v * 10 + Int(b - 48)
        }
        return v
    }

    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}
