import GRDB
import HeraldCore
import HeraldStore

/// Build audience: the keys of the rows of an entity matching a rule, in one `INSERT … SELECT`.
extension BuildAudienceNode: NodeExecution {
    func execute(_ context: NodeContext) throws -> NodeOutcome {
        var outcome = NodeOutcome()
        let (db, dialect) = (context.db, context.dialect)
        let table = try context.workTable(of: entityName, in: &outcome)
        try context.run(try context.compiler.selectKeys(entity: entityName, rule: rule), prefix: "INSERT INTO \(dialect.quote(table)) ")
        let n = db.changesCount
        outcome.counts["out"] = n
        outcome.tables["out"] = table
        outcome.emitEmpty = emitWhenEmpty
        outcome.detail = Names.counted(n, entity: entityName)
        if n == 0 && !emitWhenEmpty {
            outcome.logs.append(RunLogLine(code: "audience.empty", "the audience is empty; the branch ends here"))
        }
        return outcome
    }
}

/// Read audience: a saved audience, re-evaluated if live, its stored keys if a snapshot.
extension ReadAudienceNode: NodeExecution {
    func execute(_ context: NodeContext) throws -> NodeOutcome {
        guard let audience = context.compiler.audiences[name.lowercased()] else {
            throw HeraldError(.notFound, "no saved audience named '\(name)'")
        }
        var outcome = try BuildAudienceNode(entityName: audience.entity, rule: .inAudience(audience.name), emitWhenEmpty: emitWhenEmpty)
            .execute(context)
        outcome.detail = "\(outcome.detail ?? "") from the \(audience.snapshot ? "snapshot" : "live") audience '\(audience.name)'"
        return outcome
    }
}
