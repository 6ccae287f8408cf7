import GRDB
import HeraldCore
import HeraldStore

/// Combine: union, intersection or exclusion of the `primary` and `secondary` inputs.
extension CombineNode: NodeExecution {
    func execute(_ context: NodeContext) throws -> NodeOutcome {
        var outcome = NodeOutcome()
        guard let (input, entityName) = context.population else { return outcome }
        let (db, dialect, inputs) = (context.db, context.dialect, context.inputs)
        let primary = dialect.quote(input)
        let secondaryCount = try inputs["secondary"].map { try context.count($0) } ?? 0
        outcome.inputCount = try context.count(input)
        // A secondary branch that brought no population is an empty set.
        let secondary = inputs["secondary"].map { "SELECT key FROM \(dialect.quote($0))" } ?? "SELECT NULL AS key WHERE 0"
        let inSecondary = "p.key IN (\(secondary))"
        let (outSQL, complementSQL): (String, String?) =
            switch operation {
            case .union: ("SELECT key FROM \(primary) UNION SELECT key FROM (\(secondary)) WHERE key IS NOT NULL", nil)
            case .intersection:
                ("SELECT p.key FROM \(primary) p WHERE \(inSecondary)", "SELECT p.key FROM \(primary) p WHERE NOT \(inSecondary)")
            case .exclusion:
                ("SELECT p.key FROM \(primary) p WHERE NOT \(inSecondary)", "SELECT p.key FROM \(primary) p WHERE \(inSecondary)")
            }
        for (port, sql) in [(PortName.out, Optional(outSQL)), (.complement, complementSQL)] {
            let table = try context.workTable(of: entityName, in: &outcome)
            if let sql { try db.execute(sql: "INSERT INTO \(dialect.quote(table)) " + sql) }
            outcome.counts[port] = sql == nil ? 0 : db.changesCount
            outcome.tables[port] = table
        }
        let out = outcome.counts["out"] ?? 0
        let left = outcome.counts["complement"] ?? 0
        outcome.detail =
            switch operation {
            case .union:
                "\(Names.counted(out, entity: entityName)): \(Names.groupedCount(outcome.inputCount ?? 0)) primary, \(Names.groupedCount(secondaryCount)) secondary"
            case .intersection: "\(Names.counted(out, entity: entityName)) in both; \(Names.groupedCount(left)) primary only"
            case .exclusion: "\(Names.counted(out, entity: entityName)) kept; \(Names.groupedCount(left)) excluded"
            }
        if operation == .exclusion && left > 0 {
            outcome.logs.append(
                RunLogLine(
                    code: "combine.excluded",
                    "\(Names.counted(left, entity: entityName)) excluded by the secondary set; they went to the complement",
                    figures: ["rows": left]))
        }
        return outcome
    }
}
