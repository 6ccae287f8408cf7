import GRDB
import HeraldCore
import HeraldStore

/// Change dimension: the distinct related rows along a link; rows with none go to `complement`, logged.
struct ChangeDimensionNode: NodeExecution {
    var link: String

    func execute(_ context: NodeContext) throws -> NodeOutcome {
        var outcome = NodeOutcome()
        guard let (input, entityName) = context.population else { return outcome }
        let (db, dialect) = (context.db, context.dialect)
        outcome.inputCount = try context.count(input)
        let moved = try context.compiler.changeDimension(population: input, entity: entityName, link: link)
        let out = try context.workTable(of: moved.target, in: &outcome)
        try context.run(moved.out, prefix: "INSERT INTO \(dialect.quote(out)) ")
        outcome.counts["out"] = db.changesCount
        let complement = try context.workTable(of: entityName, in: &outcome)
        try context.run(moved.complement, prefix: "INSERT INTO \(dialect.quote(complement)) ")
        let unmatched = db.changesCount
        outcome.counts["complement"] = unmatched
        outcome.tables = ["out": out, "complement": complement]
        outcome.detail =
            "\(Names.counted(outcome.counts["out"] ?? 0, entity: moved.target)) from \(Names.counted(outcome.inputCount ?? 0, entity: entityName))"
        if unmatched > 0 {
            outcome.log = "\(Names.counted(unmatched, entity: entityName)) had no '\(link)'; they went to the complement"
        }
        return outcome
    }
}
