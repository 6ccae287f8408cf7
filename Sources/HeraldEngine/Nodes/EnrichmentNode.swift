import GRDB
import HeraldCore
import HeraldStore

/// Enrichment: the population with typed columns added, computed in one `INSERT … SELECT`.
/// Its `out` table holds the keys and the columns; later nodes read the keys as from any
/// work table, and the columns through this node's table.
extension EnrichmentNode: NodeExecution {
    func execute(_ context: NodeContext) throws -> NodeOutcome {
        var outcome = NodeOutcome()
        guard let (input, entityName) = context.population else { return outcome }
        let entity = try context.catalog.requireEntity(entityName)
        let checker = context.compiler.checker
        let columns = try fields.map { (name: $0.name, type: try checker.type(of: $0.value, on: entity)) }
        let table = try context.workTable(of: entityName, columns: columns, in: &outcome)
        let select = try context.compiler.enrichment(population: input, entity: entityName, fields: fields)
        try context.run(select, prefix: "INSERT INTO \(context.dialect.quote(table)) ")
        let n = context.db.changesCount
        outcome.inputCount = n
        outcome.counts["out"] = n
        outcome.tables["out"] = table
        outcome.detail =
            "\(Names.counted(n, entity: entityName)) with \(columns.map { "\($0.name) (\($0.type))" }.joined(separator: ", "))"
        return outcome
    }
}
