import GRDB
import HeraldCore
import HeraldStore

/// Split: ordered subsets by rule and limit, sampled in a seeded order, then the complement.
extension SplitNode: NodeExecution {
    func execute(_ context: NodeContext) throws -> NodeOutcome {
        var outcome = NodeOutcome()
        guard let (input, entityName) = context.population else { return outcome }
        let (db, dialect, compiler) = (context.db, context.dialect, context.compiler)
        let entity = try context.catalog.requireEntity(entityName)
        let isInteger = entity.keyType == .integer
        let total = try context.count(input)
        outcome.inputCount = total
        var previous: [String] = []
        for (i, subset) in subsets.enumerated() {
            let port = PortName.subset(i + 1)
            let table = try context.workTable(of: entityName, in: &outcome)
            var select = try compiler.selectKeys(entity: entityName, rule: subset.rule ?? .all, population: input)
            if !overlap && !previous.isEmpty {
                let exclusions = previous.map { "NOT EXISTS (SELECT 1 FROM \(dialect.quote($0)) p WHERE p.key = w.key)" }
                select.sql += (select.sql.contains(" WHERE ") ? " AND " : " WHERE ") + exclusions.joined(separator: " AND ")
            }
            if let limit = subset.limit {
                let n: Int
                switch limit {
                case .count(let c): n = c
                case .percent(let p): n = Int((Double(total) * p / 100).rounded(.down))
                }
                let sample = dialect.sampleOrder(key: "w.key", keyIsInteger: isInteger, seed: seed)
                switch subset.order {
                case .random:
                    select.sql += " ORDER BY \(sample) LIMIT \(n)"
                case .highest(let name), .lowest(let name):
                    // The attribute decides, empty values last; ties fall to the seeded order.
                    guard entity.attribute(name) != nil else {
                        throw HeraldError(.validation, "'\(entityName)' has no attribute '\(name)'")
                    }
                    let column = "t.\(dialect.quote(name))"
                    let direction = subset.order == .highest(name) ? "DESC" : "ASC"
                    select.sql =
                        "SELECT s.key AS key FROM (\(select.sql)) s JOIN \(dialect.quote(entityName)) t ON t.\(dialect.quote(entity.primaryKey)) = s.key"
                        + " ORDER BY \(column) IS NULL OR \(column) = '', \(column) \(direction), \(dialect.sampleOrder(key: "s.key", keyIsInteger: isInteger, seed: seed)) LIMIT \(n)"
                }
            }
            try context.run(select, prefix: "INSERT INTO \(dialect.quote(table)) ")
            outcome.counts[port] = db.changesCount
            outcome.tables[port] = table
            previous.append(table)
        }
        let complement = try context.workTable(of: entityName, in: &outcome)
        let exclusions = previous.map { "NOT EXISTS (SELECT 1 FROM \(dialect.quote($0)) p WHERE p.key = w.key)" }
        try db.execute(
            sql: "INSERT INTO \(dialect.quote(complement)) SELECT w.key FROM \(dialect.quote(input)) w"
                + (exclusions.isEmpty ? "" : " WHERE " + exclusions.joined(separator: " AND ")))
        outcome.counts["complement"] = db.changesCount
        outcome.tables["complement"] = complement
        outcome.emitEmpty = !skipEmpty
        outcome.detail =
            subsets.indices.map { "\(subsets[$0].label) \(Names.groupedCount(outcome.counts[.subset($0 + 1)] ?? 0))" }
            .joined(separator: ", ") + ", complement \(Names.groupedCount(outcome.counts["complement"] ?? 0))"
        return outcome
    }
}
