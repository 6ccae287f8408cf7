public import Foundation
import GRDB
public import HeraldCore
public import HeraldStore
import Logging

/// Where an audience's rows come from: a rule over an entity, a saved audience, or both.
public struct AudienceSource: Sendable {
    public var entity: String
    public var rule: Rule

    public init(entity: String, rule: Rule) {
        self.entity = entity
        self.rule = rule
    }
}

/// Counts, samples, distributions, plans and saved audiences, all computed inside SQLite.
public struct AudienceService: Sendable {
    public let store: Store
    let connections = ReadConnections()
    let compilers = KeyedMemo<RuleCompiler>()
    /// Counts, samples and distributions already computed, for the same definitions and data.
    let results = ResultCache()
    /// Whether repeated requests are answered from `results` (benchmarks turn it off to time
    /// the query itself).
    public var cachesResults = true

    /// Forces every one-to-many predicate into one form; nil lets the compiler choose per
    /// predicate. `HERALD_ONE_TO_MANY=correlated|set-wise` sets it for a process (benchmarks,
    /// and tests that need a slow statement to interrupt).
    public var oneToManyForm: OneToManyForm?

    public init(store: Store, oneToManyForm: OneToManyForm? = .fromEnvironment) {
        self.store = store
        self.oneToManyForm = oneToManyForm
    }

    /// Guarded read-only connections kept between queries; a query holds one to itself, so
    /// cancelling stops that query only.
    final class ReadConnections: @unchecked Sendable {
        private let lock = NSLock()
        private var idle: [GuardedConnection] = []

        func take(path: String) throws -> GuardedConnection {
            lock.lock()
            if let connection = idle.popLast() {
                lock.unlock()
                return connection
            }
            lock.unlock()
            return try GuardedConnection(path: path, readOnly: true)
        }

        func give(_ connection: GuardedConnection) {
            lock.lock()
            if idle.count < 4 { idle.append(connection) }
            lock.unlock()
        }
    }

    /// Parses rule text for a command-line field, with the caret message on error.
    public static func parse(_ text: String, field: String = "--rule") throws -> Rule {
        do { return try Rule(parsing: text) } catch {
            throw HeraldError(.invalidInput, "\(field): \(error)", cause: error)
        }
    }

    /// The saved audiences as compiler definitions. A live audience whose stored rule no longer
    /// parses or fits the catalog carries its problem, and any rule using it fails naming it;
    /// snapshots are their stored keys, whatever their rule says.
    public func definitions() throws -> [AudienceDefinition] {
        let saved = try store.listAudiences()
        let checker = Store.audienceChecker(catalog: try store.catalog(), audiences: saved)
        return saved.map { a in
            let parsed = try? Rule(parsing: a.rule)
            let problem = a.snapshot ? nil : checker.brokenAudiences[a.name.lowercased()]
            // The stand-in rule is never evaluated: a snapshot reads its keys, a broken audience refuses.
            return AudienceDefinition(
                id: a.id, name: a.name, entity: a.entity, rule: parsed ?? .not(.all), snapshot: a.snapshot,
                problem: parsed == nil && !a.snapshot ? (problem ?? "its rule no longer parses") : problem)
        }
    }

    /// A compiler for the current catalog and saved audiences, with `now` taken at this call.
    /// Building one costs a catalog read and a parse of every saved audience; it is kept until
    /// one of its inputs changes, so a count on an indexed column costs little more than its SQL.
    /// - Parameter timeZone: the zone of `today()` and of date-time literals without an offset;
    ///   nil for the store's default.
    public func compiler(variables: [String: Literal] = [:], timeZone: TimeZone? = nil) throws -> RuleCompiler {
        try keyedCompiler(variables: variables, timeZone: timeZone).compiler
    }

    /// The compiler, and a key that changes whenever anything its results depend on changes:
    /// the schema, the catalog, saved audiences, settings, any committed data, the time zone,
    /// the variables and the forced form.
    func keyedCompiler(variables: [String: Literal] = [:], timeZone: TimeZone? = nil) throws -> (compiler: RuleCompiler, key: String) {
        let (storeZone, signature) = try store.timeZoneAndSignature()
        let timeZone = try timeZone ?? storeZone ?? store.defaultTimeZone()
        let key =
            signature + "\u{1d}" + timeZone.identifier + "\u{1d}"
            + variables.keys.sorted().map { "\($0)=\(String(reflecting: variables[$0]!))" }.joined(separator: "\u{1f}")
        if var cached = compilers.get(key) {
            cached.now = Date()
            cached.oneToManyForm = oneToManyForm
            return (cached, key + "\u{1d}" + (oneToManyForm?.rawValue ?? ""))
        }
        let catalog = try store.catalog()
        var compiler = RuleCompiler(catalog: catalog, variables: variables, audiences: try definitions(), timeZone: timeZone)
        compiler.temporalProblems = try temporalProblems(catalog)
        compiler.statistics = try statistics(catalog)
        compilers.set(key, compiler)
        compiler.oneToManyForm = oneToManyForm
        return (compiler, key + "\u{1d}" + (oneToManyForm?.rawValue ?? ""))
    }

    /// The cache key of one result: what was asked, over which rule, under which definitions.
    /// Rules that use `now()` or `today()` are kept for `ResultCache.volatileLifetime` only.
    func resultKey(_ kind: String, _ source: AudienceSource, _ extra: String, definitions: String) -> (key: String, volatile: Bool) {
        // An empty key is never stored: with caching off every request runs.
        guard cachesResults else { return ("", true) }
        let rule = source.rule.text
        return (
            [kind, source.entity, rule, extra, definitions].joined(separator: "\u{1e}"), rule.contains("now()") || rule.contains("today()")
        )
    }

    /// Approximate row counts and indexed columns, for choosing how one-to-many predicates
    /// compile. Cheap: `max(rowid)` is a B-tree descent, not a count.
    func statistics(_ catalog: Catalog) throws -> TableStatistics {
        try store.read { db in
            var stats = TableStatistics()
            for entity in catalog.entities {
                let table = entity.name.quotedDatabaseIdentifier
                let rows = (try? Int.fetchOne(db, sql: "SELECT max(rowid) FROM \(table)")) ?? nil
                if let rows {
                    stats.rows[entity.name] = rows
                } else {
                    stats.rows[entity.name] = try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)") ?? 0
                }
                stats.indexed.insert("\(entity.name).\(entity.primaryKey)")
            }
            for index in try Store.indexes(db) where !index.columns.isEmpty {
                stats.indexed.insert("\(index.table).\(index.columns[0])")
            }
            // ANALYZE's figures: "rows avg-rows-per-first-column-value …" per index.
            if try db.tableExists("sqlite_stat1") {
                for row in try Row.fetchAll(
                    db,
                    sql: """
                        SELECT s.tbl AS t, i.name AS c, s.stat AS stat FROM sqlite_stat1 s
                        JOIN pragma_index_info(s.idx) i WHERE i.seqno = 0
                        """)
                {
                    let figures = (row["stat"] as String? ?? "").split(separator: " ").compactMap { Double($0) }
                    guard figures.count >= 2, figures[0] > 0 else { continue }
                    stats.valueFraction["\(row["t"] as String).\(row["c"] as String? ?? "")"] = min(1, figures[1] / figures[0])
                }
            }
            for row in try Row.fetchAll(db, sql: "SELECT id, member_count FROM herald_audiences WHERE kind = 'snapshot'") {
                if let members: Int = row["member_count"] { stats.rows["audience:\(row["id"] as Int64)"] = members }
            }
            return stats
        }
    }

    /// One date or date-time column's values that are not in Herald's comparable form.
    public struct TemporalReport: Sendable, Equatable {
        public var entity: String
        public var attribute: String
        public var type: AttributeType
        public var values: Int
        public var outOfForm: Int
        public var examples: [String]

        /// What a rule on the column is told, or nil when every value is in form.
        public var problem: String? {
            guard outOfForm > 0 else { return nil }
            let form = type == .date ? "YYYY-MM-DD" : "YYYY-MM-DDTHH:MM:SSZ (UTC)"
            return "\(Names.counted(outOfForm, "value")) of \(Names.groupedCount(values)) are not in the form \(form)"
                + " (for example \(examples.map { "'\($0)'" }.joined(separator: ", "))), so text order is not time order;"
                + " see 'herald catalog check'"
        }
    }

    /// Checks the date and date-time columns of the catalog (all of them, or only those Herald
    /// has not recorded as written by itself) for values outside the comparable form.
    public func temporalReports(_ catalog: Catalog, onlyUnverified: Bool) throws -> [TemporalReport] {
        let verified = onlyUnverified ? try store.canonicalTemporalColumns() : []
        var reports: [TemporalReport] = []
        for entity in catalog.entities {
            for attribute in entity.attributes where attribute.type == .date || attribute.type == .datetime {
                guard !verified.contains("\(entity.name).\(attribute.name)") else { continue }
                let table = entity.name.quotedDatabaseIdentifier
                let column = attribute.name.quotedDatabaseIdentifier
                let glob = attribute.type == .date ? TemporalText.canonicalDateGlob : TemporalText.canonicalDateTimeGlob
                let outside = "\(column) IS NOT NULL AND \(column) <> '' AND (typeof(\(column)) <> 'text' OR \(column) NOT GLOB ?)"
                let report = try readOnly(cancellation: nil, timeLimit: nil, catalog: catalog) { db in
                    let row = try Row.fetchOne(
                        db, sql: "SELECT count(\(column)), count(CASE WHEN \(outside) THEN 1 END) FROM \(table)", arguments: [glob])
                    let bad: Int = row?[1] ?? 0
                    let examples =
                        bad == 0
                        ? []
                        : try String.fetchAll(
                            db, sql: "SELECT DISTINCT CAST(\(column) AS TEXT) FROM \(table) WHERE \(outside) LIMIT 3", arguments: [glob])
                    return TemporalReport(
                        entity: entity.name, attribute: attribute.name, type: attribute.type, values: row?[0] ?? 0, outOfForm: bad,
                        examples: examples)
                }
                reports.append(report)
            }
        }
        return reports
    }

    /// The problems of date and date-time columns not known to be in form, for the compiler.
    func temporalProblems(_ catalog: Catalog) throws -> [String: String] {
        var problems: [String: String] = [:]
        for report in try temporalReports(catalog, onlyUnverified: true) {
            if let problem = report.problem { problems["\(report.entity).\(report.attribute)"] = problem }
        }
        return problems
    }

    /// Resolves `[NAME] [--entity E] [--rule R]`: a saved audience, a rule, or the audience narrowed by the rule.
    public func source(audience: String?, entity: String?, rule: String?) throws -> AudienceSource {
        var parsed = try rule.map { try Self.parse($0) }
        if let audience {
            let saved = try store.audience(named: audience)
            if let entity, entity != saved.entity {
                throw HeraldError(.invalidInput, "--entity: the saved audience '\(saved.name)' is on '\(saved.entity)', not '\(entity)'")
            }
            let membership = Rule.inAudience(saved.name)
            parsed = parsed.map { .and([membership, $0]) } ?? membership
            return AudienceSource(entity: saved.entity, rule: parsed!)
        }
        guard let entity else { throw HeraldError(.invalidInput, "--entity: name the entity to target (or a saved audience)") }
        guard let parsed else { throw HeraldError(.invalidInput, "--rule: write a rule, or 'true' for every row") }
        return AudienceSource(entity: entity, rule: parsed)
    }

    /// What generated reads may touch: the catalog's tables and snapshot members.
    static func readPolicy(_ catalog: Catalog) -> StatementGuard.Policy {
        StatementGuard.Policy(readable: Set(catalog.entities.map { $0.name.lowercased() } + ["herald_audience_members"]))
    }

    /// Runs `body` on a guarded read-only connection that `cancellation` and `timeLimit` can stop.
    /// - Parameter catalog: the catalog the query was compiled with (read again when nil).
    func readOnly<T>(
        cancellation: QueryCancellation?, timeLimit: TimeInterval?, catalog: Catalog? = nil, _ body: (Database) throws -> T
    ) throws -> T {
        let policy = Self.readPolicy(try catalog ?? store.catalog())
        let connection = try connections.take(path: store.connectionPath)
        defer { connections.give(connection) }
        var shouldStop: (@Sendable () -> Bool)?
        if let cancellation { shouldStop = { cancellation.isCancelled } }
        return try connection.run(policy, shouldStop: shouldStop, timeLimit: timeLimit, what: "the query", body)
    }

    /// Has the guard compile (not run) SQL that fills a snapshot's members, before the store runs
    /// it in its own transaction: catalog reads and inserts into the members table only (whose
    /// foreign key has SQLite read the audience list).
    func vetSnapshotFill(_ sql: String, catalog: Catalog) throws {
        var policy = Self.readPolicy(catalog)
        policy.insertable = ["herald_audience_members"]
        policy.readable.insert("herald_audiences")
        let connection = try connections.take(path: store.connectionPath)
        defer { connections.give(connection) }
        try connection.vet(sql, policy)
    }

    /// Runs `sql` with the guarded read-only connection (for tests of the guard itself).
    func guardedCount(sql: String) throws -> Int {
        try readOnly(cancellation: nil, timeLimit: 30) { db in try Int.fetchOne(db, sql: sql) ?? 0 }
    }

    /// The exact number of rows.
    public func count(
        _ source: AudienceSource, variables: [String: Literal] = [:], cancellation: QueryCancellation? = nil, timeLimit: TimeInterval? = nil
    ) throws -> Int {
        let (compiler, definitions) = try keyedCompiler(variables: variables)
        let (key, volatile) = resultKey("count", source, "", definitions: definitions)
        if let cached: Int = results.get(key) { return cached }
        let compiled = try compiler.count(entity: source.entity, rule: source.rule)
        let started = DispatchTime.now()
        let n = try readOnly(cancellation: cancellation, timeLimit: timeLimit, catalog: compiler.catalog) { db in
            try Int.fetchOne(db, sql: compiled.sql, arguments: compiled.arguments.statementArguments) ?? 0
        }
        results.set(key, n, volatile: volatile)
        // The rule is not logged: its values may be addresses.
        store.logger.debug(
            "counted an audience",
            metadata: [
                "entity": "\(source.entity)", "rows": "\(n)",
                "ms": "\((DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1_000_000)",
            ])
        return n
    }

    /// Up to `limit` rows with the chosen columns (default: the entity's visible attributes).
    public func sample(
        _ source: AudienceSource, columns requested: [String], limit: Int, cancellation: QueryCancellation? = nil,
        timeLimit: TimeInterval? = nil
    ) throws -> (
        columns: [String], rows: [[String]]
    ) {
        guard limit >= 1 && limit <= 100_000 else { throw HeraldError(.invalidInput, "--limit: expected 1 to 100000, found \(limit)") }
        let catalog = try store.catalog()
        let entity = try catalog.requireEntity(source.entity)
        let names = requested.isEmpty ? entity.attributes.filter { !$0.hidden }.map(\.name) : requested
        let paths = names.map { AttributePath($0) }
        let (compiler, definitions) = try keyedCompiler()
        let (key, volatile) = resultKey("sample", source, names.joined(separator: ",") + "#\(limit)", definitions: definitions)
        if let cached: SampleRows = results.get(key) { return (cached.columns, cached.rows) }
        for path in paths {
            do { _ = try compiler.checker.resolve(path, from: entity) } catch {
                throw HeraldError(.invalidInput, "--columns: \("\(error)".replacingOccurrences(of: "rule: ", with: ""))")
            }
        }
        var compiled = try compiler.selectKeys(entity: source.entity, rule: source.rule, columns: paths)
        compiled.sql += " ORDER BY 1 LIMIT \(limit)"
        let rows = try readOnly(cancellation: cancellation, timeLimit: timeLimit, catalog: catalog) { db in
            try Row.fetchAll(db, sql: compiled.sql, arguments: compiled.arguments.statementArguments).map { row in
                (1...paths.count).map { i -> String in
                    let value: DatabaseValue = row["c\(i)"]
                    return value.displayText
                }
            }
        }
        results.set(key, SampleRows(columns: names, rows: rows), volatile: volatile)
        return (names, rows)
    }

    struct SampleRows: Sendable {
        var columns: [String]
        var rows: [[String]]
    }

    struct Distribution: Sendable {
        var kind: String
        var buckets: [Bucket]
    }

    /// One bar of a distribution.
    public struct Bucket: Sendable, Equatable {
        public var label: String
        public var count: Int
    }

    /// Every value with its count for categorical attributes; equal-width buckets for numbers,
    /// months or years for dates. Empty values are counted in their own bucket.
    public func distribution(
        _ source: AudienceSource, attribute: String, buckets: Int = 10, cancellation: QueryCancellation? = nil,
        timeLimit: TimeInterval? = nil
    ) throws -> (
        kind: String, buckets: [Bucket]
    ) {
        let catalog = try store.catalog()
        let entity = try catalog.requireEntity(source.entity)
        let (compiler, definitions) = try keyedCompiler()
        let (key, volatile) = resultKey("distribution", source, "\(attribute)#\(buckets)", definitions: definitions)
        if let cached: Distribution = results.get(key) { return (cached.kind, cached.buckets) }
        let result = try computeDistribution(
            source, attribute: attribute, buckets: buckets, catalog: catalog, entity: entity, compiler: compiler,
            cancellation: cancellation,
            timeLimit: timeLimit)
        results.set(key, Distribution(kind: result.kind, buckets: result.buckets), volatile: volatile)
        return result
    }

    func computeDistribution(
        _ source: AudienceSource, attribute: String, buckets: Int, catalog: Catalog, entity: Entity, compiler: RuleCompiler,
        cancellation: QueryCancellation?, timeLimit: TimeInterval?
    ) throws -> (kind: String, buckets: [Bucket]) {
        let path = AttributePath(attribute)
        let resolved: ResolvedPath
        do { resolved = try compiler.checker.resolve(path, from: entity) } catch {
            throw HeraldError(.invalidInput, "--attribute: \("\(error)".replacingOccurrences(of: "rule: ", with: ""))")
        }
        let inner = try compiler.selectKeys(entity: source.entity, rule: source.rule, columns: [path])
        let args = inner.arguments.statementArguments
        return try readOnly(cancellation: cancellation, timeLimit: timeLimit, catalog: catalog) { db in
            func categorical() throws -> [Bucket] {
                try Row.fetchAll(
                    db, sql: "SELECT c1 AS v, count(*) AS n FROM (\(inner.sql)) GROUP BY c1 ORDER BY n DESC, v", arguments: args
                ).map { Bucket(label: ($0["v"] as DatabaseValue).displayText, count: $0["n"]) }
            }
            let type = resolved.attribute.type
            if type == .text || type == .boolean {
                return ("values", try categorical())
            }
            // One pass over the audience for the figures that choose the shape; one more draws it.
            let stats = try Row.fetchOne(
                db,
                sql: """
                    SELECT count(DISTINCT c1) AS distinct_values, sum(c1 IS NULL OR c1 = '') AS empty,
                           min(nullif(c1, '')) AS lo, max(nullif(c1, '')) AS hi
                    FROM (\(inner.sql))
                    """, arguments: args)
            let distinct: Int = stats?["distinct_values"] ?? 0
            if distinct <= 20 { return ("values", try categorical()) }
            let empty: Int = stats?["empty"] ?? 0
            var out: [Bucket] = []
            if type == .date || type == .datetime {
                let lo: String = stats?["lo"] ?? ""
                let hi: String = stats?["hi"] ?? ""
                let years = (Int(hi.prefix(4)) ?? 0) - (Int(lo.prefix(4)) ?? 0)
                let width = years > 3 ? 4 : 7
                out = try Row.fetchAll(
                    db,
                    sql:
                        "SELECT substr(c1, 1, \(width)) AS v, count(*) AS n FROM (\(inner.sql)) WHERE c1 IS NOT NULL AND c1 <> '' GROUP BY v ORDER BY v",
                    arguments: args
                ).map { Bucket(label: $0["v"], count: $0["n"]) }
                if empty > 0 { out.append(Bucket(label: "(empty)", count: empty)) }
                return (width == 4 ? "years" : "months", out)
            }
            guard let lo = stats?["lo"] as Double?, let hi = stats?["hi"] as Double?
            else { return ("buckets", empty > 0 ? [Bucket(label: "(empty)", count: empty)] : []) }
            let n = max(1, buckets)
            let width = hi > lo ? (hi - lo) / Double(n) : 1
            var counts = [Int](repeating: 0, count: n)
            for row in try Row.fetchAll(
                db,
                sql:
                    "SELECT max(0, min(CAST((c1 - ?) / ? AS INTEGER), ?)) AS b, count(*) AS n FROM (\(inner.sql)) WHERE c1 IS NOT NULL AND c1 <> '' GROUP BY b",
                arguments: StatementArguments([lo, width, Double(n - 1)]) + args)
            {
                counts[row["b"]] = row["n"]
            }
            let integer = type == .integer
            func show(_ v: Double) -> String { integer ? String(Int(v.rounded(.down))) : String(format: "%.2f", v) }
            for i in 0..<n {
                let from = lo + Double(i) * width
                let to = i == n - 1 ? hi : lo + Double(i + 1) * width
                out.append(Bucket(label: "\(show(from)) – \(show(to))", count: counts[i]))
            }
            if empty > 0 { out.append(Bucket(label: "(empty)", count: empty)) }
            return ("buckets", out)
        }
    }

    /// What `explain` reports.
    public struct Explanation: Sendable {
        public var sql: String
        public var arguments: [SQLValue]
        public var plan: [String]
        public var hints: [String]
        /// The form chosen for each one-to-many predicate, and why.
        public var forms: [String]
        /// How the connection reads the file.
        public var tuning: ReadTuning
    }

    /// The SQL, its bound values, SQLite's query plan, and index advice for one-to-many links.
    /// - Parameter form: forces every one-to-many predicate into one form (nil: Herald chooses).
    public func explain(_ source: AudienceSource, form: OneToManyForm? = nil) throws -> Explanation {
        let catalog = try store.catalog()
        var compiler = try compiler()
        compiler.oneToManyForm = form
        let compiled = try compiler.count(entity: source.entity, rule: source.rule)
        let entity = try catalog.requireEntity(source.entity)
        let plan = try readOnly(cancellation: nil, timeLimit: 30, catalog: catalog) { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + compiled.sql, arguments: compiled.arguments.statementArguments).map {
                $0["detail"] as String
            }
        }
        // One hint per correlated (table, column), whichever parts of the rule use it.
        struct Column: Hashable {
            var table: String
            var column: String
        }
        var usages: [Column: (table: String, column: String, extra: Set<String>)] = [:]
        var order: [Column] = []
        for (table, column, extra) in Self.linkUsages(source.rule, entity: entity, catalog: catalog) {
            let key = Column(table: table, column: column)
            if usages[key] == nil { order.append(key) }
            usages[key, default: (table, column, [])].extra.formUnion(extra)
        }
        let existingIndexes = try store.indexes()
        let hints = order.compactMap { key -> String? in
            let (table, column, extraSet) = usages[key]!
            let extra = extraSet.sorted()
            // Is `column` the first column of some index on `table`? (The compiler's own view.)
            let indexed = compiler.statistics.indexed.contains("\(table).\(column)")
            // The compiler's estimate (`max(rowid)`): a count would read the whole table.
            let rows = compiler.statistics.rows[table] ?? 0
            let covering = ([column] + extra).joined(separator: ", ")
            if !indexed {
                return "'\(table)' (about \(Names.counted(rows, "row"))) has no index on \(column): each \(entity.name) row scans it."
                    + " Add one: CREATE INDEX \(table)_\(column) ON \(table)(\(covering)); or let 'herald catalog indexes --apply' create what saved rules need"
            }
            let covered = existingIndexes.contains { index in
                index.table == table && index.columns.first == column && Set(extra).isSubset(of: Set(index.columns.dropFirst()))
            }
            if !extra.isEmpty && rows > 100_000 && !covered {
                return
                    "a covering index lets SQLite answer from the index alone: CREATE INDEX \(table)_\(([column] + extra).joined(separator: "_")) ON \(table)(\(covering)); 'herald catalog indexes' lists and creates the ones saved rules need"
            }
            return nil
        }
        return Explanation(
            sql: compiled.sql, arguments: compiled.arguments, plan: plan, hints: hints, forms: compiled.notes,
            tuning: ReadTuning.current(path: store.path))
    }

    /// (table, correlated column, other columns used) for every one-to-many link a rule follows.
    static func linkUsages(_ rule: Rule, entity: Entity, catalog: Catalog) -> [(String, String, [String])] {
        let checker = RuleChecker(catalog: catalog)
        func columns(_ rule: Rule?) -> [String] {
            guard let rule else { return [] }
            return rule.paths.filter { $0.segments.count == 1 }.map(\.attribute)
        }
        switch rule {
        case .and(let rules), .or(let rules): return rules.flatMap { linkUsages($0, entity: entity, catalog: catalog) }
        case .not(let inner): return linkUsages(inner, entity: entity, catalog: catalog)
        case .exists(let link, let inner, _):
            guard let (_, last, target) = try? checker.resolveOneToMany(link, from: entity) else { return [] }
            return [(target.name, last.targetColumn, Array(Set(columns(inner))).sorted())]
        case .aggregate(let a, _, _):
            guard let (_, last, target) = try? checker.resolveOneToMany(a.link, from: entity) else { return [] }
            var extra = Array(Set(columns(a.filter))).sorted()
            if let c = a.column, !extra.contains(c) { extra.append(c) }
            return [(target.name, last.targetColumn, extra)]
        default: return []
        }
    }

    /// Saves the source as a named audience: live (its rule, re-evaluated when read) or a snapshot of keys.
    public func save(name: String, source: AudienceSource, snapshot: Bool, description: String, replace: Bool) throws -> SavedAudience {
        if source.rule.audiences.contains(where: { $0.lowercased() == name.lowercased() }) {
            throw HeraldError(.invalidInput, "--rule: an audience cannot be defined by membership in itself")
        }
        let compiler = try compiler()
        let compiled = try compiler.selectKeys(entity: source.entity, rule: source.rule)
        let saved = try store.saveAudience(
            name: name, entity: source.entity, rule: source.rule.text, snapshot: snapshot, description: description, replace: replace,
            keysSQL: snapshot ? compiled.sql : nil, arguments: compiled.arguments.statementArguments,
            vet: { try vetSnapshotFill($0, catalog: compiler.catalog) })
        if snapshot { return saved }
        return try refresh(name: saved.name)
    }

    /// Recomputes a snapshot's keys from its rule, or records a live audience's current size.
    public func refresh(name: String) throws -> SavedAudience {
        let saved = try store.audience(named: name)
        let rule = try Self.parse(saved.rule, field: "stored rule of '\(saved.name)'")
        let compiler = try compiler()
        let compiled = try compiler.selectKeys(entity: saved.entity, rule: rule)
        return try store.refreshAudience(
            named: saved.name, keysSQL: compiled.sql, arguments: compiled.arguments.statementArguments,
            vet: { try vetSnapshotFill($0, catalog: compiler.catalog) })
    }

    /// Streams the keys (and columns) of the source as CSV lines to `write`, never holding all rows.
    public func exportCSV(
        _ source: AudienceSource, columns: [String], cancellation: QueryCancellation? = nil, write: (String) throws -> Void
    ) throws -> Int {
        let catalog = try store.catalog()
        let entity = try catalog.requireEntity(source.entity)
        let compiler = try self.compiler()
        let paths = columns.map { AttributePath($0) }
        for path in paths {
            do { _ = try compiler.checker.resolve(path, from: entity) } catch {
                throw HeraldError(.invalidInput, "--columns: \("\(error)".replacingOccurrences(of: "rule: ", with: ""))")
            }
        }
        var compiled = try compiler.selectKeys(entity: source.entity, rule: source.rule, columns: paths)
        compiled.sql += " ORDER BY 1"
        try write(([entity.primaryKey] + columns).map(Self.csvField).joined(separator: ",") + "\r\n")
        return try readOnly(cancellation: cancellation, timeLimit: nil, catalog: catalog) { db in
            var n = 0
            let cursor = try Row.fetchCursor(db, sql: compiled.sql, arguments: compiled.arguments.statementArguments)
            while let row = try cursor.next() {
                var fields = [(row["key"] as DatabaseValue).displayText]
                for i in 0..<paths.count { fields.append((row["c\(i + 1)"] as DatabaseValue).displayText) }
                try write(fields.map(Self.csvField).joined(separator: ",") + "\r\n")
                n += 1
            }
            return n
        }
    }

    static func csvField(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
            ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    /// Creates a snapshot audience from a CSV list of keys (the key column, or the first column).
    /// Keys that are not in the entity abort the import with their count and a few examples.
    public func importKeys(name: String, entity entityName: String, file: String, keyColumn: String?, replace: Bool) throws -> SavedAudience
    {
        let catalog = try store.catalog()
        let entity = try catalog.requireEntity(entityName, field: "--entity")
        guard let data = FileManager.default.contents(atPath: file) else { throw HeraldError(.notFound, "file: cannot read \(file)") }
        var keys: [String] = []
        try data.withUnsafeBytes { raw in
            var reader = CSVReader(bytes: raw.bindMemory(to: UInt8.self))
            do {
                guard let header = try reader.next() else {
                    throw HeraldError(.invalidInput, "\(file): the file is empty; expected a header row")
                }
                let index: Int
                if let keyColumn {
                    guard let i = header.fields.firstIndex(of: keyColumn) else {
                        throw HeraldError(
                            .invalidInput,
                            "--key-column: \(file) has no column '\(keyColumn)' (columns: \(header.fields.joined(separator: ", ")))")
                    }
                    index = i
                } else {
                    index = 0
                }
                while let record = try reader.next() {
                    if record.fields == [""] { continue }
                    guard index < record.fields.count, !record.fields[index].isEmpty else {
                        throw HeraldError(.invalidInput, "\(file):\(record.line): the key is empty")
                    }
                    keys.append(record.fields[index])
                }
            } catch let error as CSVReader.SyntaxError {
                throw HeraldError(.invalidInput, "\(file):\(error.line):\(error.column): \(error.message)")
            }
        }
        let keysJSON = JSONValue.array(
            keys.map { k in entity.keyType == .integer ? (Int64(k).map(JSONValue.integer) ?? .string(k)) : .string(k) }
        ).compact()
        let table = entity.name.quotedDatabaseIdentifier
        let key = entity.primaryKey.quotedDatabaseIdentifier
        let missing = try store.read { db in
            try String.fetchAll(
                db,
                sql: "SELECT value FROM json_each(?) WHERE NOT EXISTS (SELECT 1 FROM \(table) t WHERE t.\(key) = json_each.value) LIMIT 6",
                arguments: [keysJSON])
        }
        if !missing.isEmpty {
            throw HeraldError(
                .invalidInput,
                "\(file): keys not in \(entity.name): \(missing.prefix(5).joined(separator: ", "))\(missing.count > 5 ? ", …" : ""); nothing was imported"
            )
        }
        return try store.saveAudience(
            name: name, entity: entity.name, rule: "imported from \((file as NSString).lastPathComponent)", snapshot: true,
            description: "key list imported from \((file as NSString).lastPathComponent)", replace: replace,
            keysSQL: "SELECT DISTINCT t.\(key) AS key FROM json_each(?) j JOIN \(table) t ON t.\(key) = j.value",
            arguments: [keysJSON], vet: { try vetSnapshotFill($0, catalog: catalog) })
    }
}

extension [SQLValue] {
    var statementArguments: StatementArguments {
        StatementArguments(map { $0.databaseValue })
    }
}

/// Results of counts, samples and distributions, kept while their key holds. Keys include the
/// store's definitions signature (schema, catalog, saved audiences, settings and committed
/// data, from this process or any other), so a change anywhere misses the cache. Bounded in
/// entries; results of rules with `now()` or `today()` live a minute at most.
final class ResultCache: @unchecked Sendable {
    static let capacity = 512
    static let volatileLifetime: TimeInterval = 60

    private struct Entry {
        var value: any Sendable
        var expires: Date?
    }

    private let lock = NSLock()
    private var entries: [String: Entry] = [:]
    private var order: [String] = []
    /// Answers given from the cache (for tests).
    private(set) var hits = 0

    func get<T: Sendable>(_ key: String) -> T? {
        guard !key.isEmpty else { return nil }
        lock.lock()
        defer { lock.unlock() }
        guard let entry = entries[key] else { return nil }
        if let expires = entry.expires, expires < Date() {
            entries[key] = nil
            return nil
        }
        guard let value = entry.value as? T else { return nil }
        hits += 1
        return value
    }

    func set(_ key: String, _ value: any Sendable, volatile: Bool) {
        guard !key.isEmpty else { return }
        lock.lock()
        defer { lock.unlock() }
        if entries[key] == nil { order.append(key) }
        entries[key] = Entry(value: value, expires: volatile ? Date().addingTimeInterval(Self.volatileLifetime) : nil)
        // Oldest first out; keys of a superseded signature age out the same way.
        while order.count > Self.capacity {
            entries[order.removeFirst()] = nil
        }
    }
}
