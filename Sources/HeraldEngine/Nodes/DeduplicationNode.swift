import GRDB
import HeraldCore
import HeraldStore

/// Deduplication: `keep` rows per value of the `by` attributes, ranked by the preference, in one
/// window-function pass; the others go to `complement`. Rows whose `by` values are all empty
/// are never merged with each other.
extension DeduplicationNode: NodeExecution {
    func execute(_ context: NodeContext) throws -> NodeOutcome {
        var outcome = NodeOutcome()
        guard let (input, entityName) = context.population else { return outcome }
        let (db, dialect) = (context.db, context.dialect)
        let entity = try context.catalog.requireEntity(entityName)
        func column(_ name: String) throws -> String {
            guard entity.attribute(name) != nil else {
                throw HeraldError(.validation, "'\(entityName)' has no attribute '\(name)'")
            }
            return "t.\(dialect.quote(name))"
        }
        let isInteger = entity.keyType == .integer
        let byColumns = try by.map(column)
        // All-empty groups are keyed by the row itself, so they never merge.
        let allEmpty = byColumns.map { "(\($0) IS NULL OR \($0) = '')" }.joined(separator: " AND ")
        let partition = byColumns.joined(separator: ", ") + ", CASE WHEN \(allEmpty) THEN w.key END"
        let tieBreak = dialect.sampleOrder(key: "w.key", keyIsInteger: isInteger, seed: 0)
        var arguments: [SQLValue] = []
        let order: String
        switch prefer {
        case .random(let seed): order = dialect.sampleOrder(key: "w.key", keyIsInteger: isInteger, seed: seed)
        case .highest(let a):
            let c = try column(a)
            order = "(\(c) IS NULL OR \(c) = '') , \(c) DESC, \(tieBreak)"
        case .lowest(let a):
            let c = try column(a)
            order = "(\(c) IS NULL OR \(c) = ''), \(c) ASC, \(tieBreak)"
        case .nonEmpty(let a):
            let c = try column(a)
            order = "(\(c) IS NULL OR \(c) = ''), \(tieBreak)"
        case .preferred(let a, let values):
            let c = try column(a)
            let cases = values.enumerated().map { i, v -> String in
                arguments.append(Self.value(v))
                return "WHEN \(c) = ? THEN \(i)"
            }
            order = (cases.isEmpty ? "" : "CASE \(cases.joined(separator: " ")) ELSE \(values.count) END, ") + tieBreak
        }
        let ranked = """
            SELECT w.key AS key, row_number() OVER (PARTITION BY \(partition) ORDER BY \(order)) AS rank
            FROM \(dialect.quote(input)) w JOIN \(dialect.quote(entityName)) t ON t.\(dialect.quote(entity.primaryKey)) = w.key
            """
        let kept = try context.workTable(of: entityName, in: &outcome)
        try db.execute(
            sql: "INSERT INTO \(dialect.quote(kept)) SELECT key FROM (\(ranked)) WHERE rank <= \(keep)",
            arguments: StatementArguments(arguments.map(\.databaseValue)))
        outcome.counts["out"] = db.changesCount
        let rest = try context.workTable(of: entityName, in: &outcome)
        try db.execute(
            sql:
                "INSERT INTO \(dialect.quote(rest)) SELECT w.key FROM \(dialect.quote(input)) w WHERE w.key NOT IN (SELECT key FROM \(dialect.quote(kept)))"
        )
        outcome.counts["complement"] = db.changesCount
        outcome.tables = ["out": kept, "complement": rest]
        outcome.inputCount = try context.count(input)
        outcome.detail =
            "\(Names.counted(outcome.counts["out"] ?? 0, entity: entityName)) kept (\(keep) per \(by.joined(separator: ", "))); \(Names.groupedCount(outcome.counts["complement"] ?? 0)) duplicates"
        if let dropped = outcome.counts["complement"], dropped > 0 {
            outcome.logs.append(
                RunLogLine(
                    code: "deduplication.duplicates",
                    "\(Names.counted(dropped, entity: entityName)) were duplicates by \(by.joined(separator: ", ")); they went to the complement",
                    figures: ["rows": dropped]))
        }
        return outcome
    }

    static func value(_ literal: Literal) -> SQLValue {
        switch literal {
        case .integer(let v): .integer(v)
        case .real(let v): .real(v)
        case .text(let s): .text(s)
        case .boolean(let b): .integer(b ? 1 : 0)
        default: .null
        }
    }
}
