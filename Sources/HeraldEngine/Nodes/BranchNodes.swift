import GRDB
import HeraldCore
import HeraldStore

/// And-join: the union of the branches that brought a population, once all have finished.
extension AndJoinNode: NodeExecution {
    func execute(_ context: NodeContext) throws -> NodeOutcome {
        var outcome = NodeOutcome()
        guard let entityName = context.entity else { return outcome }
        let (db, dialect) = (context.db, context.dialect)
        let arrived = inputPorts.compactMap { context.inputs[$0] }
        let table = try context.workTable(of: entityName, in: &outcome)
        try db.execute(
            sql: "INSERT INTO \(dialect.quote(table)) "
                + arrived.map { "SELECT key FROM \(dialect.quote($0))" }.joined(separator: " UNION "))
        outcome.counts["out"] = db.changesCount
        outcome.tables["out"] = table
        outcome.inputCount = try arrived.reduce(0) { $0 + (try context.count($1)) }
        let missing = inputPorts.count - arrived.count
        outcome.detail =
            "\(Names.counted(outcome.counts["out"] ?? 0, entity: entityName)) from \(arrived.count) branch\(arrived.count == 1 ? "" : "es")"
            + (missing > 0 ? " (\(missing) brought none)" : "")
        return outcome
    }
}

/// Test: the whole population takes the first branch whose condition holds on its count and the
/// campaign's variables, or `default`; the other branches receive nothing and end.
extension TestNode: NodeExecution {
    func execute(_ context: NodeContext) throws -> NodeOutcome {
        var outcome = NodeOutcome()
        guard let input = context.input else { return outcome }
        let n = try context.count(input)
        outcome.inputCount = n
        let taken =
            try branches.firstIndex { try TestFacts.holds($0.condition, count: n, variables: context.compiler.variables) }
            .map { PortName.branch($0 + 1) } ?? .fallback
        for port in outputPorts { outcome.counts[port] = 0 }
        outcome.tables[taken] = input
        outcome.counts[taken] = n
        let label = if case .branch(let n) = taken, n <= branches.count { branches[n - 1].label } else { taken.name }
        outcome.detail = "\(Names.counted(n, entity: context.entity ?? "row")) → \(label)"
        outcome.logs.append(RunLogLine(code: "test.branch", "the test sent the population to '\(label)'", figures: ["rows": n]))
        return outcome
    }
}
