public import HeraldCore

/// What differs between the SQL engines Herald targets. SQLite is the embedded default;
/// PostgreSQL implements the same seam later without touching the compiler.
public protocol SQLDialect: Sendable {
    /// Quotes an identifier that came from the catalog's allow-list.
    func quote(_ identifier: String) -> String
    /// A deterministic pseudo-random sort key for `key` under `seed`, for seeded sampling.
    func sampleOrder(key: String, keyIsInteger: Bool, seed: Int64) -> String
    /// DDL for a work table holding one population's keys, and, after them, typed columns
    /// (an Enrichment node's fields), in `schema` (the run's own database) when given.
    func createWorkTable(_ name: String, in schema: String?, keyIsInteger: Bool, columns: [(name: String, type: EnrichmentType)]) -> String
    /// The largest number of bound parameters one statement may use.
    var maximumParameters: Int { get }
    /// A predicate testing membership in a JSON array bound as one parameter.
    func inJSONArray(_ expression: String) -> String
}

/// SQLite 3.40's dialect.
public struct SQLiteDialect: SQLDialect {
    public init() {}

    public func quote(_ identifier: String) -> String {
        "\"" + identifier.replacingQuotes() + "\""
    }

    public func sampleOrder(key: String, keyIsInteger: Bool, seed: Int64) -> String {
        // Knuth's multiplicative hash: a bijection on 32-bit keys, so every key gets a distinct
        // position and the same seed always gives the same sample.
        let mixedSeed = (seed &* 40503) & 0xFFFF_FFFF
        if keyIsInteger {
            return "((\(key) + \(mixedSeed)) * 2654435761) % 4294967296, \(key)"
        }
        return "herald_hash(\(mixedSeed), \(key)), \(key)"
    }

    public func createWorkTable(
        _ name: String, in schema: String? = nil, keyIsInteger: Bool, columns: [(name: String, type: EnrichmentType)] = []
    ) -> String {
        let name = (schema.map { quote($0) + "." } ?? "") + quote(name)
        // Declared types with the affinity that keeps each value as computed: dates and
        // related rows (JSON) stay text.
        let extra = columns.map { column -> String in
            let declared =
                switch column.type {
                case .scalar(.integer), .scalar(.boolean): "INTEGER"
                case .scalar(.real): "REAL"
                case .scalar(.text), .scalar(.date), .scalar(.datetime), .rows: "TEXT"
                }
            return ", \(quote(column.name)) \(declared)"
        }.joined()
        return keyIsInteger
            ? "CREATE TABLE \(name) (key INTEGER PRIMARY KEY\(extra))"
            : "CREATE TABLE \(name) (key PRIMARY KEY\(extra)) WITHOUT ROWID"
    }

    public var maximumParameters: Int { 32766 }

    public func inJSONArray(_ expression: String) -> String {
        "\(expression) IN (SELECT value FROM json_each(?))"
    }
}

extension String {
    func replacingQuotes() -> String {
        var out = ""
        for c in self {
            if c == "\"" { out += "\"\"" } else { out.append(c) }
        }
        return out
    }
}
