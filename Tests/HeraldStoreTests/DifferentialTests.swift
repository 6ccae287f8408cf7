import Foundation
import GRDB
import HeraldCore
import HeraldEngine
import HeraldStore
import Testing

/// Random rules evaluated two ways: by the compiled SQL inside SQLite, and by the
/// straightforward evaluator below over the same rows in memory. They must agree, empty values
/// included.
@Suite struct DifferentialTests {
    typealias Value = DatabaseValue

    struct Person {
        var id: Int64
        var values: [String: Value]
        var cityID: Int64?
    }

    struct Order {
        /// nil: an order with no person (a NULL foreign key), which no person has.
        var personID: Int64?
        var values: [String: Value]
    }

    static let texts = ["FR", "DE", "fr", "Paris", "paris", "x%y", "a_b", "", "Zed", "ab", "abc"]

    /// A small store full of NULLs, empty strings, ties and case differences.
    static func makeData(seed: UInt64) throws -> (Store, [Person], [Int64: [String: Value]], [Order], Scratch) {
        let scratch = Scratch()
        let store = try scratch.store()
        var g = SplitMix64(seed: seed)
        func maybe(_ v: Value) -> Value { g.next() % 5 == 0 ? .null : v }
        var cities: [Int64: [String: Value]] = [:]
        var people: [Person] = []
        var orders: [Order] = []
        try store.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE cities (id INTEGER PRIMARY KEY, country TEXT);
                    CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, age INTEGER, score REAL, born DATE, vip BOOLEAN,
                                         city_id INTEGER);
                    CREATE TABLE orders (id INTEGER PRIMARY KEY, person_id INTEGER REFERENCES people(id), amount REAL, status TEXT, placed DATE);
                    CREATE INDEX orders_person ON orders(person_id);
                    """)
            for id in Int64(1)...6 {
                let country = maybe(Self.texts[Int(g.next() % UInt64(Self.texts.count))].databaseValue)
                cities[id] = ["country": country]
                try db.execute(sql: "INSERT INTO cities VALUES (?, ?)", arguments: [id, country])
            }
            for id in Int64(1)...80 {
                var values: [String: Value] = [:]
                values["name"] = maybe(Self.texts[Int(g.next() % UInt64(Self.texts.count))].databaseValue)
                values["age"] = maybe(Int64(g.next() % 5 * 10).databaseValue)
                values["score"] = maybe((Double(g.next() % 7) / 2).databaseValue)
                values["born"] = maybe("199\(g.next() % 4)-0\(1 + g.next() % 3)-1\(g.next() % 3)".databaseValue)
                values["vip"] = maybe(Int64(g.next() % 2).databaseValue)
                let city: Int64? = g.next() % 6 == 0 ? nil : (g.next() % 8 == 0 ? 99 : Int64(1 + g.next() % 6))  // 99: dangling
                people.append(Person(id: id, values: values, cityID: city))
                try db.execute(
                    sql: "INSERT INTO people VALUES (?, ?, ?, ?, ?, ?, ?)",
                    arguments: [id, values["name"]!, values["age"]!, values["score"]!, values["born"]!, values["vip"]!, city])
            }
            var orderID: Int64 = 0
            for person in people {
                for _ in 0..<Int(g.next() % 4) {
                    orderID += 1
                    var values: [String: Value] = [:]
                    values["amount"] = maybe((Double(g.next() % 9) * 5).databaseValue)
                    values["status"] = maybe(["confirmed", "cancelled", "", "Confirmed"][Int(g.next() % 4)].databaseValue)
                    values["placed"] = maybe("2026-0\(1 + g.next() % 9)-1\(g.next() % 9)".databaseValue)
                    orders.append(Order(personID: person.id, values: values))
                    try db.execute(
                        sql: "INSERT INTO orders VALUES (?, ?, ?, ?, ?)",
                        arguments: [orderID, person.id, values["amount"]!, values["status"]!, values["placed"]!])
                }
            }
            // Orders with a NULL foreign key: they must never make NOT IN select nothing.
            for _ in 0..<5 {
                orderID += 1
                let values: [String: Value] = ["amount": 10.0.databaseValue, "status": "confirmed".databaseValue, "placed": Value.null]
                orders.append(Order(personID: nil, values: values))
                try db.execute(sql: "INSERT INTO orders VALUES (?, NULL, 10.0, 'confirmed', NULL)", arguments: [orderID])
            }
        }
        try store.declareReference(entity: "people", column: "city_id", target: "cities", targetColumn: nil)
        return (store, people, cities, orders, scratch)
    }

    // MARK: The independent evaluator

    struct Evaluator {
        let cities: [Int64: [String: Value]]
        let orders: [Order]
        let types: [String: AttributeType]

        func isEmpty(_ v: Value, _ type: AttributeType) -> Bool {
            if v.isNull { return true }
            if type == .text, case .string(let s) = v.storage { return s.isEmpty }
            return false
        }

        func number(_ v: Value) -> Double? {
            switch v.storage {
            case .int64(let i): Double(i)
            case .double(let d): d
            default: nil
            }
        }

        func literal(_ l: Literal) -> Value {
            switch l {
            case .integer(let i): i.databaseValue
            case .real(let d): d.databaseValue
            case .text(let s): s.databaseValue
            case .boolean(let b): Int64(b ? 1 : 0).databaseValue
            default: .null
            }
        }

        /// SQLite's ordering for the values that occur here: numbers by value, text by bytes.
        func order(_ a: Value, _ b: Value) -> Int {
            if let x = number(a), let y = number(b) { return x < y ? -1 : (x > y ? 1 : 0) }
            if case .string(let s) = a.storage, case .string(let t) = b.storage {
                return Array(s.utf8).lexicographicallyPrecedes(Array(t.utf8)) ? -1 : (s == t ? 0 : 1)
            }
            return 0
        }

        func compare(_ v: Value, _ op: ComparisonOperator, _ w: Value) -> Bool {
            let c = order(v, w)
            switch op {
            case .equal: return c == 0
            case .notEqual: return c != 0
            case .less: return c < 0
            case .lessOrEqual: return c <= 0
            case .greater: return c > 0
            case .greaterOrEqual: return c >= 0
            }
        }

        func like(_ text: [UInt8], _ pattern: [UInt8], ignoreCase: Bool) -> Bool {
            func fold(_ b: UInt8) -> UInt8 { ignoreCase && b >= 65 && b <= 90 ? b + 32 : b }
            func match(_ t: Int, _ p: Int) -> Bool {
                if p == pattern.count { return t == text.count }
                if pattern[p] == UInt8(ascii: "%") { return (t...text.count).contains { match($0, p + 1) } }
                guard t < text.count else { return false }
                if pattern[p] == UInt8(ascii: "_") || fold(pattern[p]) == fold(text[t]) { return match(t + 1, p + 1) }
                return false
            }
            return match(0, 0)
        }

        func value(_ path: AttributePath, _ row: [String: Value], city: Int64?) -> (Value, AttributeType) {
            if path.segments.count == 2 {
                guard let city, let c = cities[city] else { return (.null, .text) }
                return (c[path.attribute] ?? .null, .text)
            }
            return (row[path.attribute] ?? .null, types[path.attribute] ?? .text)
        }

        func evaluate(_ rule: Rule, row: [String: Value], city: Int64?, personID: Int64?) -> Bool {
            switch rule {
            case .all: return true
            case .and(let rules): return rules.allSatisfy { evaluate($0, row: row, city: city, personID: personID) }
            case .or(let rules): return rules.contains { evaluate($0, row: row, city: city, personID: personID) }
            case .not(let r): return !evaluate(r, row: row, city: city, personID: personID)
            case .compare(let p, let op, let l):
                let (v, type) = value(p, row, city: city)
                if isEmpty(v, type) { return op == .notEqual }
                return compare(v, op, literal(l))
            case .between(let p, let lo, let hi, let negated):
                let (v, type) = value(p, row, city: city)
                if isEmpty(v, type) { return negated }
                let inside = order(v, literal(lo)) >= 0 && order(v, literal(hi)) <= 0
                return inside != negated
            case .inList(let p, let values, let negated):
                let (v, type) = value(p, row, city: city)
                if isEmpty(v, type) { return negated }
                return values.contains { order(v, literal($0)) == 0 } != negated
            case .isEmpty(let p, let negated):
                let (v, type) = value(p, row, city: city)
                return isEmpty(v, type) != negated
            case .text(let p, let match, let l, let negated):
                let (v, type) = value(p, row, city: city)
                guard !isEmpty(v, type), case .string(let s) = v.storage, case .text(let needle) = l else { return negated }
                let t = Array(s.utf8)
                let n = Array(needle.utf8)
                let lower: ([UInt8]) -> [UInt8] = { $0.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 } }
                let result: Bool
                switch match {
                case .startsWith: result = t.starts(with: n)
                case .contains: result = String(decoding: t, as: UTF8.self).contains(needle)
                case .like: result = like(t, n, ignoreCase: false)
                case .startsWithIgnoringCase: result = lower(t).starts(with: lower(n))
                case .containsIgnoringCase:
                    result = String(decoding: lower(t), as: UTF8.self).contains(String(decoding: lower(n), as: UTF8.self))
                case .likeIgnoringCase: result = like(t, n, ignoreCase: true)
                }
                return result != negated
            case .exists(_, let filter, let negated):
                let any = orders.contains { $0.personID == personID && evaluate(filter, row: $0.values, city: nil, personID: nil) }
                return any != negated
            case .aggregate(let a, let op, let l):
                let related = orders.filter { order in
                    order.personID == personID && (a.filter.map { f in evaluate(f, row: order.values, city: nil, personID: nil) } ?? true)
                }
                let values = a.column.map { c in related.map { $0.values[c] ?? .null }.filter { !$0.isNull } } ?? []
                let result: Value
                switch a.function {
                case .count: result = Int64(related.count).databaseValue
                case .sum: result = values.compactMap(number).reduce(0, +).databaseValue
                case .avg: result = values.isEmpty ? .null : (values.compactMap(number).reduce(0, +) / Double(values.count)).databaseValue
                case .min: result = values.min { order($0, $1) < 0 } ?? .null
                case .max, .latest: result = values.max { order($0, $1) < 0 } ?? .null
                }
                if result.isNull { return op == .notEqual }
                return compare(result, op, literal(l))
            case .inAudience: return false
            }
        }
    }

    // MARK: Random rules that pass the checker

    struct RuleMaker {
        var g: SplitMix64
        let personColumns: [(String, AttributeType)] = [
            ("name", .text), ("age", .integer), ("score", .real), ("born", .date), ("vip", .boolean),
        ]
        let orderColumns: [(String, AttributeType)] = [("amount", .real), ("status", .text), ("placed", .date)]

        mutating func pick<T>(_ items: [T]) -> T { items[Int(g.next() % UInt64(items.count))] }

        mutating func literal(_ type: AttributeType) -> Literal {
            switch type {
            case .integer: .integer(Int64(g.next() % 6) * 10 - 10)
            case .real: g.next() % 2 == 0 ? .real(Double(g.next() % 8) / 2) : .integer(Int64(g.next() % 40))
            case .boolean: .boolean(g.next() % 2 == 0)
            case .date: .text(g.next() % 2 == 0 ? "1991-02-1\(g.next() % 3)" : "2026-0\(1 + g.next() % 9)-15")
            case .datetime: .text("2026-01-01T00:00:00Z")
            case .text:
                .text(pick(DifferentialTests.texts.filter { !$0.isEmpty } + ["confirmed", "Confirmed", "cancelled", "%a%", "_b", "p%"]))
            }
        }

        mutating func condition(columns: [(String, AttributeType)], allowCity: Bool, depth: Int) -> Rule {
            var (name, type) = pick(columns)
            var path = AttributePath(name)
            if allowCity && g.next() % 6 == 0 {
                path = AttributePath(["city", "country"])
                (name, type) = ("country", .text)
            }
            switch g.next() % 6 {
            case 0: return .compare(path, pick(ComparisonOperator.allCases), literal(type))
            case 1: return .inList(path, (0..<(1 + Int(g.next() % 3))).map { _ in literal(type) }, negated: g.next() % 2 == 0)
            case 2: return .isEmpty(path, negated: g.next() % 2 == 0)
            case 3:
                let a = literal(type)
                let b = literal(type)
                return .between(path, a, b, negated: g.next() % 2 == 0)
            default:
                guard type == .text else { return .compare(path, pick(ComparisonOperator.allCases), literal(type)) }
                return .text(path, pick(TextMatch.allCases), literal(.text), negated: g.next() % 2 == 0)
            }
        }

        mutating func rule(depth: Int, onPeople: Bool) -> Rule {
            let columns = onPeople ? personColumns : orderColumns
            let roll = depth > 2 ? 5 + g.next() % 5 : g.next() % 10
            switch roll {
            case 0: return .and([rule(depth: depth + 1, onPeople: onPeople), rule(depth: depth + 1, onPeople: onPeople)])
            case 1: return .or([rule(depth: depth + 1, onPeople: onPeople), rule(depth: depth + 1, onPeople: onPeople)])
            case 2: return .not(rule(depth: depth + 1, onPeople: onPeople))
            case 3 where onPeople:
                return .exists(
                    link: ["orders"], g.next() % 3 == 0 ? .all : rule(depth: depth + 2, onPeople: false), negated: g.next() % 2 == 0)
            case 4 where onPeople:
                let function = pick(AggregateFunction.allCases)
                let column: (String, AttributeType)? =
                    switch function {
                    case .count: nil
                    case .sum, .avg: ("amount", .real)
                    case .latest: ("placed", .date)
                    default: pick(orderColumns)
                    }
                let filter: Rule? = g.next() % 2 == 0 ? nil : rule(depth: depth + 2, onPeople: false)
                return .aggregate(
                    Aggregate(link: ["orders"], function: function, column: column?.0, filter: filter), pick(ComparisonOperator.allCases),
                    literal(column?.1 ?? .integer))
            default: return condition(columns: columns, allowCity: onPeople, depth: depth)
            }
        }
    }

    @Test(arguments: [UInt64(1), 2, 3])
    func compiledSQLAgreesWithTheEvaluator(seed: UInt64) throws {
        let (store, people, cities, orders, scratch) = try Self.makeData(seed: seed)
        defer { withExtendedLifetime(scratch) {} }  // the folder outlives every connection to it
        let catalog = try store.catalog()
        let service = AudienceService(store: store)
        var compilers: [RuleCompiler] = []
        for form in [OneToManyForm.correlated, .setWise, nil] {
            var compiler = try service.compiler()
            compiler.oneToManyForm = form
            compilers.append(compiler)
        }
        let types = Dictionary(uniqueKeysWithValues: catalog.entity("people")!.attributes.map { ($0.name, $0.type) })
            .merging(catalog.entity("orders")!.attributes.map { ($0.name, $0.type) }, uniquingKeysWith: { a, _ in a })
        let evaluator = Evaluator(cities: cities, orders: orders, types: types)
        var maker = RuleMaker(g: SplitMix64(seed: seed &* 7919))
        var nonTrivial = 0
        for _ in 0..<300 {
            let rule = maker.rule(depth: 0, onPeople: true)
            let fromSwift = Set(people.filter { evaluator.evaluate(rule, row: $0.values, city: $0.cityID, personID: $0.id) }.map(\.id))
            // Every form (correlated, set-wise, and whichever the compiler picks) gives the same keys.
            var fromSQL = Set<Int64>()
            for compiler in compilers {
                let compiled = try compiler.selectKeys(entity: "people", rule: rule)
                fromSQL = try store.read { db in
                    Set(
                        try Int64.fetchAll(db, sql: compiled.sql, arguments: StatementArguments(compiled.arguments.map(Self.databaseValue)))
                    )
                }
                #expect(
                    fromSQL == fromSwift,
                    "\(compiler.oneToManyForm?.rawValue ?? "chosen") form, rule: \(rule.text)\nonly SQL: \(fromSQL.subtracting(fromSwift).sorted())\nonly Swift: \(fromSwift.subtracting(fromSQL).sorted())\n\(compiled.sql)"
                )
                if fromSQL != fromSwift { return }
                // Counts agree too, including the difference a top-level `none` is counted as.
                let withoutOrders = Rule.and([rule, .exists(link: ["orders"], .all, negated: true)])
                let expectedWithout = people.filter {
                    evaluator.evaluate(withoutOrders, row: $0.values, city: $0.cityID, personID: $0.id)
                }.count
                for (counted, expected) in [(rule, fromSwift.count), (withoutOrders, expectedWithout)] {
                    let compiled = try compiler.count(entity: "people", rule: counted)
                    let n = try store.read { db in
                        try Int.fetchOne(db, sql: compiled.sql, arguments: StatementArguments(compiled.arguments.map(Self.databaseValue)))
                    }
                    #expect(
                        n == expected, "count, \(compiler.oneToManyForm?.rawValue ?? "chosen") form, rule: \(counted.text)\n\(compiled.sql)"
                    )
                    if n != expected { return }
                }
            }
            if !fromSQL.isEmpty && fromSQL.count < people.count { nonTrivial += 1 }
        }
        #expect(nonTrivial > 100, "too many rules selected nobody or everybody to be a useful test")
    }

    /// The chosen form follows the outer rule's selectivity, and explain says which it is.
    @Test func theFormFollowsSelectivityAndExplainSaysSo() throws {
        let (store, _, _, _, scratch) = try Self.makeData(seed: 9)
        defer { withExtendedLifetime(scratch) {} }  // the folder outlives every connection to it
        let service = AudienceService(store: store)
        let broad = try service.explain(
            AudienceSource(entity: "people", rule: try Rule(parsing: #"orders.count(status = "confirmed") >= 1"#)))
        #expect(broad.forms.count == 1)
        #expect(broad.forms.first?.hasPrefix("orders.count(…) >= …: set-wise") == true, "\(broad.forms)")
        #expect(broad.sql.contains("GROUP BY"))
        let narrow = try service.explain(
            AudienceSource(entity: "people", rule: try Rule(parsing: #"id = 3 and orders.any(status = "confirmed")"#)))
        #expect(narrow.forms.first?.hasPrefix("orders.any(…): correlated, about 1 outer row") == true, "\(narrow.forms)")
        #expect(narrow.sql.contains("EXISTS"))
        let forced = try service.explain(
            AudienceSource(entity: "people", rule: try Rule(parsing: #"id = 3 and orders.any(status = "confirmed")"#)), form: .setWise)
        #expect(forced.forms == ["orders.any(…): set-wise (forced)"])
        // Several predicates on one link share one grouped pass.
        let several = try service.explain(
            AudienceSource(
                entity: "people",
                rule: try Rule(
                    parsing: #"orders.count(status = "confirmed") >= 1 and (orders.sum(amount) < 30 or not orders.any(amount > 20))"#)))
        #expect(several.forms.count == 1, "\(several.forms)")
        #expect(several.forms.first?.hasPrefix("orders: 3 predicates in one grouped pass, set-wise") == true, "\(several.forms)")
        #expect(several.sql.components(separatedBy: "GROUP BY").count == 2, "\(several.sql)")
        #expect(several.sql.contains("FILTER (WHERE"))
        // Conjuncts none of which holds without related rows: one grouped semi-join.
        let conjuncts = #"orders.count(status = "confirmed") >= 1 and orders.sum(amount where status = "cancelled") > 5 and orders.any()"#
        let joined = try service.explain(AudienceSource(entity: "people", rule: try Rule(parsing: conjuncts)))
        #expect(joined.forms.first?.hasPrefix("orders: 3 predicates in one grouped semi-join, set-wise") == true, "\(joined.forms)")
        #expect(joined.sql.components(separatedBy: "GROUP BY").count == 2, "\(joined.sql)")
        // Each shared form selects what the correlated form does.
        for text in [
            conjuncts, #"orders.count() >= 2 and orders.min(amount) < 20"#, #"orders.count() < 2 and orders.max(placed) > "2026-03-01""#,
            #"not (orders.any(status = "confirmed") and orders.avg(amount) > 10)"#, #"orders.none() or orders.sum(amount) = 0"#,
        ] {
            let rule = try Rule(parsing: text)
            var counts: [Int] = []
            for form in [OneToManyForm.correlated, .setWise] {
                let forced = AudienceService(store: store, oneToManyForm: form)
                counts.append(try forced.count(AudienceSource(entity: "people", rule: rule)))
            }
            #expect(counts[0] == counts[1], "\(text): correlated \(counts[0]), set-wise \(counts[1])")
        }
        #expect(broad.tuning.mmapBytes > 0)
    }

    static func databaseValue(_ v: SQLValue) -> DatabaseValue {
        switch v {
        case .null: .null
        case .integer(let i): i.databaseValue
        case .real(let d): d.databaseValue
        case .text(let s): s.databaseValue
        }
    }
}
