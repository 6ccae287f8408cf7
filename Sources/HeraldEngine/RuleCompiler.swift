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

    public init(sql: String, arguments: [SQLValue] = []) {
        self.sql = sql
        self.arguments = arguments
    }
}

/// Compiles rules over one entity into SQL. Identifiers come only from the catalog; every
/// value is bound. Empty values (NULL, and '' for text) make positive tests false and negated
/// tests true, so every compiled predicate is two-valued and `not` is plain negation.
public struct RuleCompiler: Sendable {
    public var catalog: Catalog
    public var dialect: any SQLDialect
    public var variables: [String: Literal]

    /// Lists with more values than this are bound as one JSON array instead of one parameter each.
    public var inlineListLimit = 200

    public init(catalog: Catalog, dialect: any SQLDialect = SQLiteDialect(), variables: [String: Literal] = [:]) {
        self.catalog = catalog
        self.dialect = dialect
        self.variables = variables
    }

    /// `SELECT <key> AS key FROM <entity> …` selecting the keys of the rows matching `rule`.
    /// With `population`, only rows whose key is in that work table are considered.
    public func selectKeys(entity entityName: String, rule: Rule, population: String? = nil) throws -> CompiledSQL {
        let entity = try catalog.requireEntity(entityName)
        try RuleChecker(catalog: catalog, variables: variables).check(rule, on: entity)
        var context = Context(compiler: self, base: entity)
        let condition = try context.condition(rule)
        let key = "t0.\(dialect.quote(entity.primaryKey))"
        var sql: String
        if let population {
            sql = "SELECT w.key AS key FROM \(dialect.quote(population)) w"
            if rule != .all || !context.joins.isEmpty {
                sql += " JOIN \(dialect.quote(entity.name)) t0 ON \(key) = w.key"
            }
        } else {
            sql = "SELECT \(key) AS key FROM \(dialect.quote(entity.name)) t0"
        }
        for join in context.joins { sql += " " + join }
        if rule != .all { sql += " WHERE " + condition }
        return CompiledSQL(sql: sql, arguments: context.arguments)
    }

    /// `SELECT count(*) …` for the rows of `entity` matching `rule`.
    public func count(entity: String, rule: Rule) throws -> CompiledSQL {
        var keys = try selectKeys(entity: entity, rule: rule)
        keys.sql = "SELECT count(*) FROM (\(keys.sql))"
        return keys
    }

    struct Context {
        let compiler: RuleCompiler
        let base: Entity
        var joins: [String] = []
        var aliases: [[String]: String] = [:]
        var arguments: [SQLValue] = []

        init(compiler: RuleCompiler, base: Entity) {
            self.compiler = compiler
            self.base = base
        }

        var dialect: any SQLDialect { compiler.dialect }

        /// The qualified column for a path, adding LEFT JOINs for its N-1/1-1 links once each.
        mutating func column(_ path: AttributePath) throws -> (String, Attribute) {
            let resolved = try RuleChecker(catalog: compiler.catalog, variables: compiler.variables).resolve(path, from: base)
            var alias = "t0"
            var prefix: [String] = []
            for hop in resolved.hops {
                prefix.append(hop.link.name)
                if let known = aliases[prefix] {
                    alias = known
                    continue
                }
                let next = "t\(aliases.count + 1)"
                aliases[prefix] = next
                joins.append(
                    "LEFT JOIN \(dialect.quote(hop.link.target)) \(next) ON \(next).\(dialect.quote(hop.link.targetColumn)) = \(alias).\(dialect.quote(hop.link.sourceColumn))"
                )
                alias = next
            }
            return ("\(alias).\(dialect.quote(resolved.attribute.name))", resolved.attribute)
        }

        mutating func bind(_ literal: Literal) throws -> String {
            let value = try RuleChecker(catalog: compiler.catalog, variables: compiler.variables).substitute(literal)
            switch value {
            case .integer(let v): arguments.append(.integer(v))
            case .real(let v): arguments.append(.real(v))
            case .text(let s): arguments.append(.text(s))
            case .boolean(let b): arguments.append(.integer(b ? 1 : 0))
            case .variable: throw HeraldError(.internalFailure, "unresolved variable")
            }
            return "?"
        }

        mutating func condition(_ rule: Rule) throws -> String {
            switch rule {
            case .all:
                return "1"
            case .and(let rules):
                return "(" + (try rules.map { try condition($0) }).joined(separator: " AND ") + ")"
            case .or(let rules):
                return "(" + (try rules.map { try condition($0) }).joined(separator: " OR ") + ")"
            case .not(let inner):
                return "NOT " + (try condition(inner))
            case .compare(let path, let op, let value):
                let (col, attribute) = try column(path)
                let p = try bind(value)
                let notEmptyText = attribute.type == .text ? " AND \(col) <> ''" : ""
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
            case .inList(let path, let values, let negated):
                let (col, _) = try column(path)
                let membership: String
                if values.count > compiler.inlineListLimit {
                    var items: [JSONValue] = []
                    for v in values {
                        switch try RuleChecker(catalog: compiler.catalog, variables: compiler.variables).substitute(v) {
                        case .integer(let i): items.append(.integer(i))
                        case .real(let d): items.append(.number(d))
                        case .text(let s): items.append(.string(s))
                        case .boolean(let b): items.append(.integer(b ? 1 : 0))
                        case .variable: break
                        }
                    }
                    arguments.append(.text(JSONValue.array(items).compact()))
                    membership = dialect.inJSONArray(col)
                } else {
                    let params = try values.map { try bind($0) }.joined(separator: ", ")
                    membership = "\(col) IN (\(params))"
                }
                return negated ? "(\(col) IS NULL OR NOT \(membership))" : "(\(col) IS NOT NULL AND \(membership))"
            case .isEmpty(let path, let negated):
                let (col, attribute) = try column(path)
                let empty = attribute.type == .text ? "(\(col) IS NULL OR \(col) = '')" : "\(col) IS NULL"
                return negated ? "NOT \(empty)" : empty
            case .text(let path, let match, let value, let negated):
                let (col, _) = try column(path)
                let p = try bind(value)
                let test: String
                switch match {
                case .startsWith: test = "instr(\(col), \(p)) = 1"
                case .contains: test = "instr(\(col), \(p)) > 0"
                case .like: test = "\(col) LIKE \(p) ESCAPE '\\'"
                }
                let positive = "(\(col) IS NOT NULL AND \(test))"
                return negated ? "NOT \(positive)" : positive
            }
        }
    }
}
