import GRDB
import HeraldCore
import HeraldStore

/// Change dimension: the distinct related rows along a link. Rows with none go to `complement`,
/// each with its reason in the table's `reason` column (`empty`: the link's column has no value;
/// `unmatched`: no related row has it), and the log counts them by reason.
extension ChangeDimensionNode: NodeExecution {
    func execute(_ context: NodeContext) throws -> NodeOutcome {
        var outcome = NodeOutcome()
        guard let (input, entityName) = context.population else { return outcome }
        let (db, dialect) = (context.db, context.dialect)
        outcome.inputCount = try context.count(input)
        let moved = try context.compiler.changeDimension(population: input, entity: entityName, link: link)
        let out = try context.workTable(of: moved.target, in: &outcome)
        try context.run(moved.out, prefix: "INSERT INTO \(dialect.quote(out)) ")
        outcome.counts["out"] = db.changesCount
        let complement = try context.workTable(of: entityName, columns: [("reason", .scalar(.text))], in: &outcome)
        try context.run(moved.complement, prefix: "INSERT INTO \(dialect.quote(complement)) ")
        let unmatched = db.changesCount
        outcome.counts["complement"] = unmatched
        outcome.tables = ["out": out, "complement": complement]
        outcome.detail =
            "\(Names.counted(outcome.counts["out"] ?? 0, entity: moved.target)) from \(Names.counted(outcome.inputCount ?? 0, entity: entityName))"
        if unmatched > 0 {
            let reasons = try Row.fetchAll(
                db, sql: "SELECT reason, count(*) AS n FROM \(dialect.quote(complement)) GROUP BY reason ORDER BY reason"
            ).reduce(into: [String: Int]()) { $0[$1["reason"]] = $1["n"] }
            let why = [("empty", "an empty link column"), ("unmatched", "no matching \(moved.target) row")].compactMap { key, words in
                reasons[key].map { "\(Names.groupedCount($0)) \(words)" }
            }
            outcome.logs.append(
                RunLogLine(
                    level: "warning", code: "dimension.unmatched",
                    "\(Names.counted(unmatched, entity: entityName)) had no '\(link)' (\(why.joined(separator: ", "))); they went to the complement, each with its reason",
                    figures: reasons.merging(["rows": unmatched]) { a, _ in a }))
        }
        return outcome
    }
}
