public import Foundation
public import HeraldCore

/// A bound SQL value. Values never appear in SQL text.
public enum SQLValue: Sendable, Equatable, CustomStringConvertible {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)

    public var description: String {
        switch self {
        case .null: "NULL"
        case .integer(let v): String(v)
        case .real(let v): String(v)
        case .text(let s): RulePrinter.literal(.text(s))
        }
    }
}

/// SQL text with its bound values, in order.
public struct CompiledSQL: Sendable, Equatable {
    public var sql: String
    public var arguments: [SQLValue]
    /// How each one-to-many predicate was compiled, and why (shown by `audience explain`).
    public var notes: [String]

    public init(sql: String, arguments: [SQLValue] = [], notes: [String] = []) {
        self.sql = sql
        self.arguments = arguments
        self.notes = notes
    }
}

/// How a one-to-many predicate (`any`, `none`, `count`, `sum`, `min`, `max`, `avg`, `latest`)
/// becomes SQL.
public enum OneToManyForm: String, Sendable, Equatable, CaseIterable {
    /// A correlated `EXISTS` or scalar subquery per outer row: best when few outer rows qualify
    /// and the link's column is indexed.
    case correlated
    /// One grouped pass over the related table, joined back as a semi-join (`key IN (…)`) or,
    /// for predicates that hold for rows with no related rows, an anti-join (`key NOT IN (…)`).
    case setWise = "set-wise"

    /// `HERALD_ONE_TO_MANY` (`correlated` or `set-wise`), or nil when unset or unknown.
    public static var fromEnvironment: OneToManyForm? {
        ProcessInfo.processInfo.environment["HERALD_ONE_TO_MANY"].flatMap(OneToManyForm.init(rawValue:))
    }
}

/// What the compiler knows of the tables' sizes and indexes, to choose a form.
public struct TableStatistics: Sendable, Equatable {
    /// Approximate row counts by table.
    public var rows: [String: Int]
    /// `table.column` for every column that leads some index (or is an integer primary key).
    public var indexed: Set<String>
    /// `table.column`: the fraction of the table's rows one value of the column matches on
    /// average, from `sqlite_stat1` (written by `ANALYZE`) when an index starts with the column.
    public var valueFraction: [String: Double]

    public init(rows: [String: Int] = [:], indexed: Set<String> = [], valueFraction: [String: Double] = [:]) {
        self.rows = rows
        self.indexed = indexed
        self.valueFraction = valueFraction
    }
}

/// A saved audience as the compiler needs it to resolve `in_audience(…)`.
public struct AudienceDefinition: Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var entity: String
    public var rule: Rule
    /// Snapshots are read from their stored keys; live audiences are re-evaluated.
    public var snapshot: Bool
    /// Why a live audience's stored rule cannot be used (it no longer parses or fits the
    /// catalog); nil when it can. A rule that uses a broken audience does not compile.
    public var problem: String?

    public init(id: Int64, name: String, entity: String, rule: Rule, snapshot: Bool, problem: String? = nil) {
        self.id = id
        self.name = name
        self.entity = entity
        self.rule = rule
        self.snapshot = snapshot
        self.problem = problem
    }
}

/// Compiles rules over one entity into SQL. Identifiers come only from the catalog; every
/// value is bound. Empty values (NULL, and '' for text) make positive tests false and negated
/// tests true, so every compiled predicate is two-valued and `not` is plain negation.
public struct RuleCompiler: Sendable {
    public var catalog: Catalog
    public var dialect: any SQLDialect
    public var variables: [String: Literal]
    public var audiences: [String: AudienceDefinition]
    /// The moment `now()` and `today()` stand for; fixed per compilation so a run is consistent.
    public var now: Date
    /// The time zone `today()` is taken in (the campaign's).
    public var timeZone: TimeZone

    /// Lists with more values than this are bound as one JSON array instead of one parameter each.
    public var inlineListLimit = 200

    /// Forces every one-to-many predicate into one form (tests, benchmarks); nil chooses per
    /// predicate from `statistics` and the outer rule's selectivity.
    public var oneToManyForm: OneToManyForm?
    public var statistics = TableStatistics()

    /// Date and date-time columns (`entity.column`) whose values are not all in one comparable
    /// form, with the problem: a rule on one fails instead of comparing text that does not
    /// order like time.
    public var temporalProblems: [String: String] = [:]

    /// Refuses a date or date-time column whose stored values do not compare as time.
    func requireComparable(entity: String, attribute: Attribute) throws {
        guard attribute.type == .date || attribute.type == .datetime,
            let problem = temporalProblems["\(entity).\(attribute.name)"]
        else { return }
        throw HeraldError(.invalidInput, "rule: '\(entity).\(attribute.name)' cannot be compared: \(problem)")
    }

    public init(
        catalog: Catalog, dialect: any SQLDialect = SQLiteDialect(), variables: [String: Literal] = [:],
        audiences: [AudienceDefinition] = [], now: Date = Date(), timeZone: TimeZone = TimeZone(identifier: "UTC")!
    ) {
        self.catalog = catalog
        self.dialect = dialect
        self.variables = variables
        self.audiences = Dictionary(audiences.map { ($0.name.lowercased(), $0) }, uniquingKeysWith: { a, _ in a })
        self.now = now
        self.timeZone = timeZone
    }

    var checker: RuleChecker {
        RuleChecker(
            catalog: catalog, variables: variables,
            audiences: Dictionary(audiences.values.map { ($0.name, $0.entity) }, uniquingKeysWith: { a, _ in a }),
            brokenAudiences: Dictionary(
                audiences.values.compactMap { a in a.snapshot ? nil : a.problem.map { (a.name.lowercased(), $0) } },
                uniquingKeysWith: { a, _ in a }))
    }

    /// `SELECT <key> AS key FROM <entity> …` selecting the keys of the rows matching `rule`.
    /// With `population`, only rows whose key is in that work table are considered.
    /// With `columns`, their values follow as `c1`, `c2`, … (N-1 and 1-1 paths allowed).
    public func selectKeys(
        entity entityName: String, rule: Rule, population: String? = nil, columns: [AttributePath] = []
    ) throws -> CompiledSQL {
        let entity = try catalog.requireEntity(entityName)
        try checker.check(rule, on: entity)
        let counter = AliasCounter()
        var context = Context(compiler: self, base: entity, alias: counter.next(), counter: counter, audienceStack: [])
        // The outer rows a correlated subquery would run for: the table, narrowed by what the
        // rule says about keys (a population's size is not known here, so it counts as the table).
        context.outerRows = max(1, Int(Double(statistics.rows[entity.name] ?? 1_000_000) * selectivity(rule, on: entity)))
        var selected = ""
        for (i, path) in columns.enumerated() {
            let (col, _) = try context.column(path)
            selected += ", \(col) AS c\(i + 1)"
        }
        try context.share(rule)
        let condition = try context.condition(rule)
        let key = "\(context.alias).\(dialect.quote(entity.primaryKey))"
        var sql: String
        if let population {
            sql = "SELECT w.key AS key\(selected) FROM \(dialect.quote(population)) w"
            if rule != .all || !context.joins.isEmpty || !columns.isEmpty {
                sql += " JOIN \(dialect.quote(entity.name)) \(context.alias) ON \(key) = w.key"
            }
        } else {
            sql = "SELECT \(key) AS key\(selected) FROM \(dialect.quote(entity.name)) \(context.alias)"
        }
        for join in context.joins { sql += " " + join }
        if rule != .all { sql += " WHERE " + condition }
        return CompiledSQL(sql: sql, arguments: context.joinArguments + context.arguments, notes: counter.notes)
    }

    /// `SELECT w.key AS key, <value> AS "<name>", … FROM population w JOIN entity …`: the
    /// population's keys with each Enrichment field computed, in the fields' order.
    public func enrichment(population: String, entity entityName: String, fields: [EnrichmentField]) throws -> CompiledSQL {
        let entity = try catalog.requireEntity(entityName)
        let counter = AliasCounter()
        var context = Context(compiler: self, base: entity, alias: counter.next(), counter: counter, audienceStack: [])
        context.keyReference = "w.key"
        var selected = ""
        for field in fields {
            _ = try checker.type(of: field.value, on: entity)
            selected += ", \(try context.enrichmentValue(field.value)) AS \(dialect.quote(field.name))"
        }
        var sql = "SELECT w.key AS key\(selected) FROM \(dialect.quote(population)) w"
        // Aggregates over links from the key correlate on w.key: the entity is joined only
        // when a field reads its columns or follows a link from it.
        if context.referencesBase {
            sql += " JOIN \(dialect.quote(entity.name)) \(context.alias) ON \(context.alias).\(dialect.quote(entity.primaryKey)) = w.key"
        }
        for join in context.joins { sql += " " + join }
        return CompiledSQL(sql: sql, arguments: context.joinArguments + context.arguments, notes: counter.notes)
    }

    /// The fraction of `entity`'s rows a rule can select at most, from what it says about the key
    /// or unique columns (`id = 42`, `id in (…)`); 1 when nothing narrows it.
    func selectivity(_ rule: Rule, on entity: Entity) -> Double {
        let rows = Double(max(statistics.rows[entity.name] ?? 1_000_000, 1))
        switch rule {
        case .and(let parts): return parts.map { selectivity($0, on: entity) }.min() ?? 1
        case .or(let parts): return min(1, parts.map { selectivity($0, on: entity) }.reduce(0, +))
        case .compare(let path, .equal, _) where path.segments == [entity.primaryKey]: return min(1, 1 / rows)
        case .inList(let path, let values, negated: false) where path.segments == [entity.primaryKey]:
            return min(1, Double(values.count) / rows)
        case .compare(let path, .equal, _) where path.segments.count == 1:
            return statistics.valueFraction["\(entity.name).\(path.attribute)"] ?? 1
        case .inList(let path, let values, negated: false) where path.segments.count == 1:
            return min(1, Double(values.count) * (statistics.valueFraction["\(entity.name).\(path.attribute)"] ?? 1))
        case .inAudience(let name):
            // A snapshot has a known size.
            if let audience = audiences[name.lowercased()], audience.snapshot, let members = statistics.rows["audience:\(audience.id)"] {
                return min(1, Double(members) / rows)
            }
            return 1
        default: return 1
        }
    }

    /// Moves a population along a link: the distinct related keys, and the population's rows that
    /// have no related row (the complement, still of the source entity), each with its reason:
    /// `empty` when the link's column has no value, `unmatched` when no related row has it.
    public func changeDimension(
        population: String, entity entityName: String, link linkName: String
    ) throws -> (
        out: CompiledSQL, complement: CompiledSQL, target: String
    ) {
        let entity = try catalog.requireEntity(entityName)
        guard let link = entity.link(linkName) else {
            throw HeraldError(
                .invalidInput, "'\(entityName)' has no link '\(linkName)'\(Names.suggestion(for: linkName, in: entity.links.map(\.name)))")
        }
        let target = try catalog.requireEntity(link.target)
        let w = dialect.quote(population)
        let source = dialect.quote(entity.name)
        let key = dialect.quote(entity.primaryKey)
        let targetColumn = "t1.\(dialect.quote(link.targetColumn))"
        let out: String
        let complement: String
        if link.sourceColumn == entity.primaryKey {
            // The link starts at the key (profiles → their bookings): the work table's keys are
            // the link's values, and each related row belongs to one of them, so no join with
            // the source table and no DISTINCT.
            out =
                "SELECT t1.\(dialect.quote(target.primaryKey)) AS key FROM \(w) w JOIN \(dialect.quote(target.name)) t1 ON \(targetColumn) = w.key"
            complement =
                "SELECT w.key AS key, CASE WHEN w.key IS NULL OR w.key = '' THEN 'empty' ELSE 'unmatched' END AS reason FROM \(w) w WHERE NOT EXISTS (SELECT 1 FROM \(dialect.quote(target.name)) t1 WHERE \(targetColumn) = w.key)"
        } else {
            let join = "JOIN \(dialect.quote(target.name)) t1 ON \(targetColumn) = t0.\(dialect.quote(link.sourceColumn))"
            out = "SELECT DISTINCT t1.\(dialect.quote(target.primaryKey)) AS key FROM \(w) w JOIN \(source) t0 ON t0.\(key) = w.key \(join)"
            let sourceColumn = "t0.\(dialect.quote(link.sourceColumn))"
            complement =
                "SELECT w.key AS key, CASE WHEN \(sourceColumn) IS NULL OR \(sourceColumn) = '' THEN 'empty' ELSE 'unmatched' END AS reason FROM \(w) w JOIN \(source) t0 ON t0.\(key) = w.key WHERE NOT EXISTS (SELECT 1 FROM \(dialect.quote(target.name)) t1 WHERE \(targetColumn) = \(sourceColumn))"
        }
        return (CompiledSQL(sql: out), CompiledSQL(sql: complement), target.name)
    }

    /// `SELECT count(*) FROM <entity> … WHERE …` for the rows of `entity` matching `rule`: the
    /// same statement one would write by hand (links are N-1 or 1-1, so joins never duplicate rows).
    ///
    /// A rule whose top level says "and no related row" (`bookings.none(…)`, alone or as a
    /// conjunct) is counted as a difference: the rows matching the rest, minus those that also
    /// have a related row. Both counts are semi-joins SQLite drives from the related table's
    /// index, where the anti-join would test every outer row; the result is the same because
    /// compiled conditions are two-valued.
    public func count(entity: String, rule: Rule) throws -> CompiledSQL {
        if let (rest, related) = Self.splitNoRelatedRow(rule) {
            let all = try plainCount(entity: entity, rule: rest)
            let with = try plainCount(entity: entity, rule: rest == .all ? related : .and([rest, related]))
            return CompiledSQL(
                sql: "SELECT (\(all.sql)) - (\(with.sql))", arguments: all.arguments + with.arguments,
                notes: with.notes + ["none(…) counted as the rows matching the rest of the rule minus those with a related row"])
        }
        return try plainCount(entity: entity, rule: rule)
    }

    func plainCount(entity: String, rule: Rule) throws -> CompiledSQL {
        var keys = try selectKeys(entity: entity, rule: rule)
        let prefix = "SELECT t0.\(dialect.quote(try catalog.requireEntity(entity).primaryKey)) AS key FROM "
        precondition(keys.sql.hasPrefix(prefix), "selectKeys changed its projection")
        keys.sql = "SELECT count(*) FROM " + keys.sql.dropFirst(prefix.count)
        return keys
    }

    /// `rest and link.none(filter)` as (`rest`, `link.any(filter)`); nil when the rule's top
    /// level has no such conjunct (`not link.any(…)` counts as one).
    static func splitNoRelatedRow(_ rule: Rule) -> (rest: Rule, related: Rule)? {
        func related(_ part: Rule) -> Rule? {
            switch part {
            case .exists(let link, let filter, negated: true): return .exists(link: link, filter, negated: false)
            case .not(.exists(let link, let filter, negated: false)): return .exists(link: link, filter, negated: false)
            default: return nil
            }
        }
        if let r = related(rule) { return (.all, r) }
        guard case .and(let parts) = rule, let i = parts.firstIndex(where: { related($0) != nil }), let r = related(parts[i]) else {
            return nil
        }
        var rest = parts
        rest.remove(at: i)
        return (rest.isEmpty ? .all : rest.count == 1 ? rest[0] : .and(rest), r)
    }

    /// The value `now()` or `today()` shifted by an offset stands for, as stored text.
    public func relativeText(_ base: TimeBase, offset: Int, unit: DurationUnit, for type: AttributeType) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = base == .today ? timeZone : TimeZone(identifier: "UTC")!
        var moment = now
        if base == .today { moment = calendar.startOfDay(for: now) }
        moment = moment.addingTimeInterval(TimeInterval(offset * unit.seconds))
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: moment)
        func pad(_ v: Int?, _ n: Int) -> String {
            let s = String(v ?? 0)
            return String(repeating: "0", count: max(0, n - s.count)) + s
        }
        let date = "\(pad(c.year, 4))-\(pad(c.month, 2))-\(pad(c.day, 2))"
        if type == .date { return date }
        if base == .today {
            // Midnight in the campaign's zone, as the UTC instant date-times are stored in.
            return TemporalText.canonical(utcSeconds: Int(moment.timeIntervalSince1970.rounded(.down))) ?? date
        }
        return date + "T\(pad(c.hour, 2)):\(pad(c.minute, 2)):\(pad(c.second, 2))Z"
    }

    /// State shared by every context of one compilation: alias numbers and the notes on the
    /// forms chosen.
    final class AliasCounter {
        var value = -1
        var notes: [String] = []
        func next() -> String {
            value += 1
            return "t\(value)"
        }
    }

    struct Context {
        let compiler: RuleCompiler
        let base: Entity
        let alias: String
        let counter: AliasCounter
        var audienceStack: [String]
        var joins: [String] = []
        var aliases: [[String]: String] = [:]
        var arguments: [SQLValue] = []
        /// Estimated rows this context's condition is evaluated for.
        var outerRows = 1_000_000
        /// Values bound inside `joins` (grouped passes shared by several predicates); they come
        /// before the condition's in the statement's text.
        var joinArguments: [SQLValue] = []
        /// One-to-many predicates answered by a shared grouped pass, with its column.
        var sharedColumns: [Rule: String] = [:]
        /// Conjuncts answered together by one grouped semi-join: the first carries the
        /// membership test and its values, the others are true.
        var sharedMembership: [Rule: (sql: String, arguments: [SQLValue])] = [:]
        /// Another expression holding the base row's primary key (a work table's `w.key`):
        /// subqueries correlated on the key use it, so the base table need not be joined.
        var keyReference: String?
        /// Whether the SQL reads the base table's alias (a column, a join from it).
        var referencesBase = false

        init(compiler: RuleCompiler, base: Entity, alias: String, counter: AliasCounter, audienceStack: [String]) {
            self.compiler = compiler
            self.base = base
            self.alias = alias
            self.counter = counter
            self.audienceStack = audienceStack
        }

        var dialect: any SQLDialect { compiler.dialect }

        /// The alias reached by following N-1/1-1 `hops`, adding each LEFT JOIN once.
        mutating func follow(_ hops: [(from: String, link: Link)]) -> String {
            referencesBase = true
            var current = alias
            var prefix: [String] = []
            for hop in hops {
                prefix.append(hop.link.name)
                if let known = aliases[prefix] {
                    current = known
                    continue
                }
                let next = counter.next()
                aliases[prefix] = next
                joins.append(
                    "LEFT JOIN \(dialect.quote(hop.link.target)) \(next) ON \(next).\(dialect.quote(hop.link.targetColumn)) = \(current).\(dialect.quote(hop.link.sourceColumn))"
                )
                current = next
            }
            return current
        }

        /// The qualified column for a path, adding LEFT JOINs for its N-1/1-1 links once each.
        mutating func column(_ path: AttributePath) throws -> (String, Attribute) {
            let (col, attribute, _) = try columnAndJoin(path)
            return (col, attribute)
        }

        /// Also says whether the column comes through a LEFT JOIN: there an explicit
        /// `IS NOT NULL` lets SQLite turn the join into an inner one and pick the better plan.
        mutating func columnAndJoin(_ path: AttributePath) throws -> (String, Attribute, Bool) {
            let resolved = try compiler.checker.resolve(path, from: base)
            try compiler.requireComparable(entity: resolved.entity, attribute: resolved.attribute)
            let at = follow(resolved.hops)
            return ("\(at).\(dialect.quote(resolved.attribute.name))", resolved.attribute, !resolved.hops.isEmpty)
        }

        mutating func bind(_ literal: Literal, type: AttributeType) throws -> String {
            let value = try compiler.checker.substitute(literal)
            switch value {
            case .integer(let v): arguments.append(.integer(v))
            case .real(let v): arguments.append(.real(v))
            case .text(let s) where type == .datetime:
                // Compared as instants: the literal becomes the canonical UTC text values are
                // stored in (a date means its midnight in the compiler's time zone).
                guard let instant = try? TemporalText.instant(s, zone: compiler.timeZone) else {
                    throw HeraldError(.invalidInput, "rule: \"\(s)\" is not a date-time to the second such as \"2026-01-31T09:30:00Z\"")
                }
                arguments.append(.text(instant.text))
            case .text(let s): arguments.append(.text(s))
            case .boolean(let b): arguments.append(.integer(b ? 1 : 0))
            case .relative(let base, let offset, let unit):
                arguments.append(.text(compiler.relativeText(base, offset: offset, unit: unit, for: type)))
            case .variable: throw HeraldError(.internalFailure, "unresolved variable")
            }
            return "?"
        }

        /// The pieces of a correlated subquery over the target of a one-to-many link.
        struct Subquery {
            var context: Context
            /// `FROM target alias`.
            var from: String
            /// The condition tying the target's rows to the outer row.
            var correlation: String
            /// The outer column the link starts from, qualified.
            var outerKey: String
            /// The target's column the link ends at.
            var linkColumn: String
        }

        /// A correlated subquery context over the target of a one-to-many link.
        mutating func subquery(_ link: [String]) throws -> Subquery {
            let (hops, last, target) = try compiler.checker.resolveOneToMany(link, from: base)
            let outerColumn: String
            if hops.isEmpty, last.sourceColumn == base.primaryKey, let keyReference {
                outerColumn = keyReference
            } else {
                outerColumn = "\(follow(hops)).\(dialect.quote(last.sourceColumn))"
            }
            var inner = Context(compiler: compiler, base: target, alias: counter.next(), counter: counter, audienceStack: audienceStack)
            // Predicates inside run once per related row considered.
            inner.outerRows = max(compiler.statistics.rows[target.name] ?? 1_000_000, 1)
            return Subquery(
                context: inner, from: "FROM \(dialect.quote(target.name)) \(inner.alias)",
                correlation: "\(inner.alias).\(dialect.quote(last.targetColumn)) = \(outerColumn)",
                outerKey: outerColumn, linkColumn: last.targetColumn)
        }

        // The one-to-many cases live in functions of their own: inlined into `condition`, their
        // locals made each level of a deeply nested rule big enough to overflow a thread's stack.

        mutating func existsCondition(_ link: [String], filter: Rule?, none: Bool, negated: Bool) throws -> String {
            if try chooseForm(link, what: "\(link.joined(separator: ".")).\(none ? "none" : "any")(…)") == .setWise {
                // any: the keys that have a matching related row; none: all the others.
                var inner = try subquery(link)
                let body = try groupedBody(&inner, filter: filter, having: nil)
                return membership(inner, body, includesEmpty: none, negated: negated)
            }
            var inner = try subquery(link)
            let body = try subqueryBody(&inner, filter: filter)
            return "\(none ? "NOT " : "")EXISTS (SELECT 1 \(body))"
        }

        mutating func aggregateCondition(_ aggregate: Aggregate, _ op: ComparisonOperator, _ value: Literal, negated: Bool) throws -> String
        {
            var inner = try subquery(aggregate.link)
            var (expression, columnType) = try inner.context.aggregateExpression(
                of: .aggregate(aggregate, op, value), filtered: false)
            if aggregate.function == .sum { expression = "coalesce(\(expression), 0)" }
            let nullable = aggregate.function != .count && aggregate.function != .sum
            let subject = "\(aggregate.link.joined(separator: ".")).\(aggregate.function.rawValue)(…) \(op.rawValue) …"
            if let holdsForNone = try holdsWithoutRelatedRows(aggregate.function, op, value),
                try chooseForm(aggregate.link, what: subject) == .setWise
            {
                // One grouped pass: the keys whose group passes (a semi-join), or, when the
                // predicate also holds for keys with no related rows, all but those whose
                // group fails (an anti-join). Empty and NULL groups keep their documented values.
                let body = try groupedBody(&inner, filter: aggregate.filter) { context in
                    let p = try context.bind(value, type: columnType)
                    let passes = context.comparison(expression, op, p, nullable: nullable && (holdsForNone || op == .notEqual))
                    return holdsForNone ? "NOT \(passes)" : passes
                }
                return membership(inner, body, includesEmpty: holdsForNone, negated: negated)
            }
            let body = try subqueryBody(&inner, filter: aggregate.filter)
            let p = try bind(value, type: columnType)
            return comparison("(SELECT \(expression) \(body))", op, p, nullable: nullable && (negated || op == .notEqual))
        }

        /// The SQL aggregate a one-to-many predicate computes over this (related) context's
        /// rows, and the type its value compares as: `count(*)` for `any`/`none` and `count`,
        /// `sum(t1.amount)`, `max(t1.departs)` for `latest`. With `filtered`, the predicate's
        /// filter is part of it (`FILTER (WHERE …)`, for passes shared by several predicates);
        /// otherwise the caller puts the filter in its `WHERE`.
        mutating func aggregateExpression(of predicate: Rule, filtered: Bool) throws -> (sql: String, type: AttributeType) {
            var sql = "count(*)"
            var type = AttributeType.integer
            var filter: Rule?
            switch predicate {
            case .exists(_, let f, _):
                filter = f == .all ? nil : f
            case .aggregate(let a, _, _):
                filter = a.filter
                (sql, type) = try aggregateValue(a)
            default:
                throw HeraldError(.internalFailure, "not a one-to-many predicate")
            }
            if filtered, let filter { sql += " FILTER (WHERE \(try condition(filter, depth: 1)))" }
            return (sql, type)
        }

        /// The SQL aggregate computing `a` over this (related) context's rows, without its filter,
        /// and the type its value compares as.
        mutating func aggregateValue(_ a: Aggregate) throws -> (sql: String, type: AttributeType) {
            guard let name = a.column else { return ("count(*)", .integer) }
            var type = AttributeType.real
            if let attribute = base.attribute(name) {
                try compiler.requireComparable(entity: base.name, attribute: attribute)
                type = a.function == .count ? .integer : attribute.type
            } else if a.function == .count {
                type = .integer
            }
            let function = a.function == .latest ? "max" : a.function.rawValue
            return ("\(function)(\(alias).\(dialect.quote(name)))", type)
        }

        /// An Enrichment field's value for this context's row: a column through N-1/1-1 joins,
        /// a correlated aggregate (`sum` and `count` of nothing are 0), or a JSON array of the
        /// first related rows in order.
        mutating func enrichmentValue(_ value: EnrichmentValue) throws -> String {
            switch value {
            case .value(.attribute(let path)):
                return try column(path).0
            case .value(.aggregate(let a)):
                var inner = try subquery(a.link)
                let (expression, _) = try inner.context.aggregateValue(a)
                let body = try subqueryBody(&inner, filter: a.filter)
                let sql = "(SELECT \(expression) \(body))"
                return a.function == .sum ? "coalesce(\(sql), 0)" : sql
            case .rows(let rows):
                var inner = try subquery(rows.link)
                let names = rows.columns.map(RelatedRows.columnName)
                var selected: [String] = []
                for (path, name) in zip(rows.columns, names) {
                    selected.append("\(try inner.context.column(path).0) AS \(dialect.quote(name))")
                }
                let target = inner.context
                let body = try subqueryBody(&inner, filter: rows.filter)
                let key = "\(target.alias).\(dialect.quote(target.base.primaryKey))"
                let order =
                    (rows.orderBy.map { "\(target.alias).\(dialect.quote($0))\(rows.descending ? " DESC" : ""), " } ?? "") + key
                let object = names.map { "'\($0.replacingOccurrences(of: "'", with: "''"))', r.\(dialect.quote($0))" }
                return
                    "(SELECT json_group_array(json_object(\(object.joined(separator: ", ")))) FROM (SELECT \(selected.joined(separator: ", ")) \(body) ORDER BY \(order) LIMIT \(rows.first)) r)"
            }
        }

        /// Picks the form of one one-to-many predicate and notes the choice.
        mutating func chooseForm(_ link: [String], what: String) throws -> OneToManyForm {
            try chooseForm(link, what: what, note: true).form
        }

        mutating func chooseForm(_ link: [String], what: String, note: Bool) throws -> (form: OneToManyForm, reason: String) {
            let (_, last, target) = try compiler.checker.resolveOneToMany(link, from: base)
            let stats = compiler.statistics
            let targetRows = max(stats.rows[target.name] ?? 1_000_000, 1)
            if let forced = compiler.oneToManyForm {
                if note { counter.notes.append("\(what): \(forced.rawValue) (forced)") }
                return (forced, "forced")
            }
            let indexed = stats.indexed.contains("\(target.name).\(last.targetColumn)")
            // A correlated lookup costs about log2(n) with an index on the link's column, a scan
            // without; the set-wise form reads the related table once.
            let perLookup = indexed ? log2(Double(targetRows)) + 1 : Double(targetRows)
            let correlatedCost = Double(outerRows) * perLookup
            let setCost = Double(targetRows) * 1.5
            let form: OneToManyForm = correlatedCost < setCost ? .correlated : .setWise
            let outer = Names.groupedCount(outerRows)
            let reason =
                form == .correlated
                ? "about \(outer) outer row\(outerRows == 1 ? "" : "s") to look up\(indexed ? " through the index on \(target.name).\(last.targetColumn)" : "")"
                : "one pass over \(target.name) (about \(Names.counted(targetRows, "row"))) instead of a lookup for each of about \(outer) outer rows"
            if note { counter.notes.append("\(what): \(form.rawValue), \(reason)") }
            return (form, reason)
        }

        /// Whether an aggregate predicate holds for an outer row with no related rows: `count`
        /// and `sum` of nothing are 0; `min`, `max`, `avg` and `latest` are empty, for which
        /// only `!=` holds. Nil when that cannot be known at compile time (then the correlated
        /// form is used).
        func holdsWithoutRelatedRows(_ function: AggregateFunction, _ op: ComparisonOperator, _ value: Literal) throws -> Bool? {
            switch function {
            case .count, .sum:
                let bound: Double
                switch try compiler.checker.substitute(value) {
                case .integer(let v): bound = Double(v)
                case .real(let v): bound = v
                default: return nil
                }
                switch op {
                case .equal: return 0 == bound
                case .notEqual: return 0 != bound
                case .less: return 0 < bound
                case .lessOrEqual: return 0 <= bound
                case .greater: return 0 > bound
                case .greaterOrEqual: return 0 >= bound
                }
            default:
                return op == .notEqual
            }
        }

        /// `SELECT T FROM target … WHERE T IS NOT NULL [AND filter] [GROUP BY T HAVING …]`:
        /// the related table's link column, once per matching row or group (no correlation).
        mutating func groupedBody(
            _ subquery: inout Subquery, filter: Rule?, having: ((inout Context) throws -> String)? = nil
        ) throws -> String {
            let column = "\(subquery.context.alias).\(dialect.quote(subquery.linkColumn))"
            if let filter { try subquery.context.share(filter) }
            let condition = try filter.map { try subquery.context.condition($0, depth: 1) }
            // Unfiltered keys read in order from an index on the link column come out distinct
            // for almost nothing, and a smaller list is quicker to probe.
            let distinct =
                filter == nil && having == nil
                && compiler.statistics.indexed.contains("\(subquery.context.base.name).\(subquery.linkColumn)")
            var sql = "SELECT \(distinct ? "DISTINCT " : "")\(column) " + subquery.from
            for join in subquery.context.joins { sql += " " + join }
            // NULL link values would make NOT IN select nothing.
            sql += " WHERE \(column) IS NOT NULL"
            if let condition { sql += " AND " + condition }
            if let having {
                let clause = try having(&subquery.context)
                sql += " GROUP BY \(column) HAVING \(clause)"
            }
            arguments += subquery.context.joinArguments + subquery.context.arguments
            return sql
        }

        /// The outer key tested against a grouped body: a semi-join, or an anti-join when rows
        /// without related rows belong to the result. Two-valued even under `not`.
        func membership(_ subquery: Subquery, _ body: String, includesEmpty: Bool, negated: Bool) -> String {
            let key = subquery.outerKey
            if includesEmpty { return "(\(key) IS NULL OR \(key) NOT IN (\(body)))" }
            return negated ? "(\(key) IS NOT NULL AND \(key) IN (\(body)))" : "\(key) IN (\(body))"
        }

        /// Renders `FROM … [joins] WHERE correlation [AND filter]` for a subquery.
        mutating func subqueryBody(_ subquery: inout Subquery, filter: Rule?) throws -> String {
            if let filter { try subquery.context.share(filter) }
            let condition = try filter.map { try subquery.context.condition($0, depth: 1) }
            var sql = subquery.from
            for join in subquery.context.joins { sql += " " + join }
            sql += " WHERE " + subquery.correlation
            if let condition { sql += " AND " + condition }
            arguments += subquery.context.joinArguments + subquery.context.arguments
            return sql
        }

        /// When a rule tests one link several times at this level (`bookings.count(…) >= 2 and
        /// bookings.sum(amount) > 500`) and the set-wise form is chosen, they share one grouped
        /// pass over the related table: a `LEFT JOIN` of one row per outer key with a column per
        /// predicate (`count(*) FILTER (WHERE …)`, `sum(…) FILTER (…)`), instead of one pass each.
        mutating func share(_ rule: Rule) throws {
            var byLink: [[String]: [Rule]] = [:]
            var order: [[String]] = []
            func add(_ link: [String], _ predicate: Rule) {
                if byLink[link] == nil { order.append(link) }
                if !(byLink[link]?.contains(predicate) ?? false) { byLink[link, default: []].append(predicate) }
            }
            func collect(_ r: Rule) {
                switch r {
                case .and(let rules), .or(let rules): rules.forEach(collect)
                case .not(let inner): collect(inner)
                case .exists(let link, _, _): add(link, r)
                case .aggregate(let a, _, _): add(a.link, r)
                default: break
                }
            }
            collect(rule)
            let conjuncts: [Rule] = if case .and(let parts) = rule { parts } else { [rule] }
            for link in order {
                guard let predicates = byLink[link], predicates.count >= 2, sharedColumns[predicates[0]] == nil,
                    sharedMembership[predicates[0]] == nil
                else { continue }
                let form = try chooseForm(link, what: "\(link.joined(separator: ".")): \(predicates.count) predicates", note: false)
                guard form.form == .setWise else { continue }
                if try shareAsSemiJoin(link, predicates, conjuncts: conjuncts, reason: form.reason) { continue }
                let (hops, last, target) = try compiler.checker.resolveOneToMany(link, from: base)
                let outer = follow(hops)
                var inner = Context(compiler: compiler, base: target, alias: counter.next(), counter: counter, audienceStack: audienceStack)
                inner.outerRows = max(compiler.statistics.rows[target.name] ?? 1_000_000, 1)
                let group = counter.next()
                var selects: [String] = []
                for (i, predicate) in predicates.enumerated() {
                    let expression = try inner.aggregateExpression(of: predicate, filtered: true).sql
                    selects.append("\(expression) AS a\(i + 1)")
                    sharedColumns[predicate] = "\(group).a\(i + 1)"
                }
                let key = "\(inner.alias).\(dialect.quote(last.targetColumn))"
                var sql =
                    "LEFT JOIN (SELECT \(key) AS k, \(selects.joined(separator: ", ")) FROM \(dialect.quote(target.name)) \(inner.alias)"
                for join in inner.joins { sql += " " + join }
                sql += " WHERE \(key) IS NOT NULL GROUP BY \(key)) \(group) ON \(group).k = \(outer).\(dialect.quote(last.sourceColumn))"
                joins.append(sql)
                joinArguments += inner.joinArguments + inner.arguments
                counter.notes.append(
                    "\(link.joined(separator: ".")): \(predicates.count) predicates in one grouped pass, set-wise, \(form.reason)")
            }
        }

        /// When every predicate on the link is a conjunct of the rule and none of them holds for
        /// keys without related rows, one grouped semi-join answers them all: the groups whose
        /// aggregates pass every test (`HAVING … AND …`), a set no bigger than the answer.
        mutating func shareAsSemiJoin(_ link: [String], _ predicates: [Rule], conjuncts: [Rule], reason: String) throws -> Bool {
            for predicate in predicates {
                guard conjuncts.contains(predicate) else { return false }
                switch predicate {
                case .exists(_, _, let none) where !none: continue
                case .aggregate(let a, let op, let value):
                    guard try holdsWithoutRelatedRows(a.function, op, value) == false else { return false }
                default: return false
                }
            }
            var inner = try subquery(link)
            var tests: [String] = []
            for predicate in predicates {
                let (raw, type) = try inner.context.aggregateExpression(of: predicate, filtered: true)
                var expression = raw
                // `any` is a count above zero; none of these tests holds for an empty group, so
                // a NULL min/max/avg/latest fails as it should.
                var op = ComparisonOperator.greater
                var value = Literal.integer(0)
                if case .aggregate(let a, let o, let v) = predicate {
                    (op, value) = (o, v)
                    if a.function == .sum { expression = "coalesce(\(expression), 0)" }
                }
                let p = try inner.context.bind(value, type: type)
                tests.append(inner.context.comparison(expression, op, p, nullable: false))
            }
            let key = "\(inner.context.alias).\(dialect.quote(inner.linkColumn))"
            var sql = "SELECT \(key) " + inner.from
            for join in inner.context.joins { sql += " " + join }
            sql += " WHERE \(key) IS NOT NULL GROUP BY \(key) HAVING " + tests.joined(separator: " AND ")
            let membership = "\(inner.outerKey) IN (\(sql))"
            let values = inner.context.joinArguments + inner.context.arguments
            sharedMembership[predicates[0]] = (membership, values)
            for predicate in predicates.dropFirst() { sharedMembership[predicate] = ("1", []) }
            counter.notes.append(
                "\(link.joined(separator: ".")): \(predicates.count) predicates in one grouped semi-join, set-wise, \(reason)")
            return true
        }

        /// A one-to-many aggregate answered by a shared grouped pass's column: count and sum of
        /// no related rows are 0, the others empty (as in the correlated form).
        mutating func sharedAggregateCondition(
            _ aggregate: Aggregate, _ op: ComparisonOperator, _ value: Literal, column: String, negated: Bool
        ) throws -> String {
            let target = try compiler.checker.resolveOneToMany(aggregate.link, from: base).target
            let type = aggregate.column.flatMap { target.attribute($0)?.type } ?? (aggregate.column == nil ? .integer : .real)
            let p = try bind(value, type: aggregate.function == .count ? .integer : type)
            switch aggregate.function {
            case .count, .sum: return comparison("coalesce(\(column), 0)", op, p, nullable: false)
            default: return comparison(column, op, p, nullable: negated || op == .notEqual)
            }
        }

        func comparison(_ expression: String, _ op: ComparisonOperator, _ placeholder: String, nullable: Bool) -> String {
            let sqlOp = op == .notEqual ? "<>" : op.rawValue
            guard nullable else { return "\(expression) \(sqlOp) \(placeholder)" }
            // One evaluation of the expression; an empty result is false, or true for !=.
            return "ifnull(\(expression) \(sqlOp) \(placeholder), \(op == .notEqual ? 1 : 0))"
        }

        /// Nesting SQLite's parser accepts with room to spare (its stack holds about 100 levels).
        static let maximumDepth = 60

        /// - Parameter negated: whether an odd number of `not`s encloses this rule. Outside a `not`,
        ///   SQL's NULL already behaves as false, so plain comparisons are exact and index-friendly;
        ///   under a `not`, every predicate is made two-valued so the negation keeps empty rows.
        /// `parts` joined by `op`, parenthesised as a balanced tree: SQLite parses `a OR b OR …`
        /// as a chain as deep as it is long, and refuses expressions deeper than 1,000.
        static func balanced(_ parts: [String], _ op: String) -> String {
            guard parts.count > 16 else { return "(" + parts.joined(separator: op) + ")" }
            let middle = parts.count / 2
            return "(" + balanced(Array(parts[..<middle]), op) + op + balanced(Array(parts[middle...]), op) + ")"
        }

        mutating func condition(_ rule: Rule, depth: Int = 0, negated: Bool = false) throws -> String {
            if depth > Self.maximumDepth {
                throw HeraldError(
                    .invalidInput,
                    "rule: the rule nests more than \(Self.maximumDepth) levels deep; simplify it (for example with 'in' lists)")
            }
            // A double negation is the rule itself, however deep the chain.
            if case .not(.not(let inner)) = rule { return try condition(inner, depth: depth, negated: negated) }
            let next = depth + 1
            let plain = !negated
            switch rule {
            case .all:
                return "1"
            case .and(let rules):
                return Self.balanced(try rules.map { try condition($0, depth: next, negated: negated) }, " AND ")
            case .or(let rules):
                return Self.balanced(try rules.map { try condition($0, depth: next, negated: negated) }, " OR ")
            case .not(let inner):
                return "NOT " + (try condition(inner, depth: next, negated: !negated))
            case .compare(let path, let op, let value):
                let (col, attribute, joined) = try columnAndJoin(path)
                let plain = plain && !joined
                let p = try bind(value, type: attribute.type)
                let notEmptyText = attribute.type == .text ? " AND \(col) <> ''" : ""
                let emptyLiteral = try compiler.checker.substitute(value) == .text("")
                if plain && !emptyLiteral && op != .notEqual {
                    let sqlOp = op.rawValue
                    let guardText = attribute.type == .text && op != .equal ? " AND \(col) <> ''" : ""
                    return guardText.isEmpty ? "\(col) \(sqlOp) \(p)" : "(\(col) \(sqlOp) \(p)\(guardText))"
                }
                switch op {
                case .equal: return "(\(col) IS NOT NULL AND \(col) = \(p))"
                case .notEqual:
                    let emptyText = attribute.type == .text ? " OR \(col) = ''" : ""
                    return "(\(col) IS NULL\(emptyText) OR \(col) <> \(p))"
                case .less: return "(\(col) IS NOT NULL\(notEmptyText) AND \(col) < \(p))"
                case .lessOrEqual: return "(\(col) IS NOT NULL\(notEmptyText) AND \(col) <= \(p))"
                case .greater: return "(\(col) IS NOT NULL\(notEmptyText) AND \(col) > \(p))"
                case .greaterOrEqual: return "(\(col) IS NOT NULL\(notEmptyText) AND \(col) >= \(p))"
                }
            case .between(let path, let low, let high, let between):
                let (col, attribute, joined) = try columnAndJoin(path)
                let plain = plain && !joined
                let lo = try bind(low, type: attribute.type)
                let hi = try bind(high, type: attribute.type)
                let empty = attribute.type == .text ? "(\(col) IS NULL OR \(col) = '')" : "\(col) IS NULL"
                if between {
                    return "(\(empty) OR \(col) NOT BETWEEN \(lo) AND \(hi))"
                }
                if plain {
                    return attribute.type == .text ? "(\(col) BETWEEN \(lo) AND \(hi) AND \(col) <> '')" : "\(col) BETWEEN \(lo) AND \(hi)"
                }
                return "(NOT \(empty) AND \(col) BETWEEN \(lo) AND \(hi))"
            case .inList(let path, let values, let notIn):
                let (col, attribute, joined) = try columnAndJoin(path)
                let plain = plain && !joined
                let membership: String
                if values.count > compiler.inlineListLimit {
                    var items: [JSONValue] = []
                    for v in values {
                        switch try compiler.checker.substitute(v) {
                        case .integer(let i): items.append(.integer(i))
                        case .real(let d): items.append(.number(d))
                        case .text(let s): items.append(.string(s))
                        case .boolean(let b): items.append(.integer(b ? 1 : 0))
                        case .relative(let base, let offset, let unit):
                            items.append(.string(compiler.relativeText(base, offset: offset, unit: unit, for: attribute.type)))
                        case .variable: break
                        }
                    }
                    arguments.append(.text(JSONValue.array(items).compact()))
                    membership = dialect.inJSONArray(col)
                } else {
                    let params = try values.map { try bind($0, type: attribute.type) }.joined(separator: ", ")
                    membership = "\(col) IN (\(params))"
                }
                if notIn { return "(\(col) IS NULL OR NOT \(membership))" }
                let hasEmpty = try values.contains { try compiler.checker.substitute($0) == .text("") }
                return plain && !hasEmpty ? membership : "(\(col) IS NOT NULL AND \(membership))"
            case .isEmpty(let path, let negated):
                let (col, attribute) = try column(path)
                let empty = attribute.type == .text ? "(\(col) IS NULL OR \(col) = '')" : "\(col) IS NULL"
                return negated ? "NOT \(empty)" : empty
            case .text(let path, let match, let value, let textNegated):
                let (col, _, joined) = try columnAndJoin(path)
                let plain = plain && !joined
                var needle = try compiler.checker.substitute(value)
                if match == .like, case .text(let pattern) = needle { needle = .text(RuleCompiler.globPattern(fromLike: pattern)) }
                let p = try bind(needle, type: .text)
                let test: String
                switch match {
                case .startsWith: test = "instr(\(col), \(p)) = 1"
                case .contains: test = "instr(\(col), \(p)) > 0"
                case .like: test = "\(col) GLOB \(p)"
                case .startsWithIgnoringCase: test = "instr(lower(\(col)), lower(\(p))) = 1"
                case .containsIgnoringCase: test = "instr(lower(\(col)), lower(\(p))) > 0"
                case .likeIgnoringCase: test = "\(col) LIKE \(p) ESCAPE '\\'"
                }
                if textNegated { return "NOT (\(col) IS NOT NULL AND \(test))" }
                return plain ? test : "(\(col) IS NOT NULL AND \(test))"
            case .exists(let link, let filter, let none):
                if let membership = sharedMembership[rule] {
                    arguments += membership.arguments
                    return membership.sql
                }
                if let shared = sharedColumns[rule] { return "coalesce(\(shared), 0) \(none ? "=" : ">") 0" }
                return try existsCondition(link, filter: filter == .all ? nil : filter, none: none, negated: negated)
            case .aggregate(let aggregate, let op, let value):
                if let membership = sharedMembership[rule] {
                    arguments += membership.arguments
                    return membership.sql
                }
                if let shared = sharedColumns[rule] {
                    return try sharedAggregateCondition(aggregate, op, value, column: shared, negated: negated)
                }
                return try aggregateCondition(aggregate, op, value, negated: negated)
            case .inAudience(let name):
                guard let audience = compiler.audiences[name.lowercased()] else {
                    throw HeraldError(.invalidInput, "rule: no saved audience named '\(name)'")
                }
                guard !audienceStack.contains(audience.name.lowercased()) else {
                    throw HeraldError(
                        .invalidInput,
                        "rule: saved audiences refer to each other in a loop: \((audienceStack + [audience.name.lowercased()]).joined(separator: " → "))"
                    )
                }
                let key = "\(alias).\(dialect.quote(base.primaryKey))"
                if audience.snapshot {
                    arguments.append(.integer(audience.id))
                    return "EXISTS (SELECT 1 FROM herald_audience_members m WHERE m.audience_id = ? AND m.member_key = \(key))"
                }
                // Fail closed: a broken definition never stands in for a population.
                if let problem = audience.problem {
                    throw HeraldError(.invalidInput, "rule: the saved audience '\(audience.name)' cannot be used: \(problem)")
                }
                // A live audience of the same entity is its rule, applied to this very row.
                audienceStack.append(audience.name.lowercased())
                defer { audienceStack.removeLast() }
                return "(" + (try condition(audience.rule, depth: next, negated: negated)) + ")"
            }
        }
    }

    /// Turns a LIKE pattern (`%`, `_`, `\` escapes) into a case-sensitive GLOB pattern.
    static func globPattern(fromLike pattern: String) -> String {
        var out = ""
        var escaped = false
        for c in pattern {
            if escaped {
                out += ["*", "?", "["].contains(c) ? "[\(c)]" : String(c)
                escaped = false
                continue
            }
            switch c {
            case "\\": escaped = true
            case "%": out += "*"
            case "_": out += "?"
            case "*", "?", "[": out += "[\(c)]"
            default: out.append(c)
            }
        }
        if escaped { out += "\\" }
        return out
    }
}
