import Foundation
import GRDB
public import HeraldCore
public import HeraldStore
import Logging

/// Something that happened during a run, for progress displays.
public enum RunEvent: Sendable, Equatable {
    case started(runID: Int64)
    case nodeStarted(NodeID)
    /// A node finished; `outputs` maps each output port to its population size.
    case nodeFinished(NodeID, state: RunState, inputCount: Int?, outputs: [String: Int], detail: String?)
    case finished(RunDetail)
}

/// Executes campaigns inside the store. Set nodes run as SQL (`INSERT … SELECT` into one work
/// table per transition); no population row is decoded in Swift.
public struct Executor: Sendable {
    public let store: Store
    public let dialect: any SQLDialect
    /// Forces the form of one-to-many predicates (see ``AudienceService/oneToManyForm``).
    public var oneToManyForm: OneToManyForm?

    public init(store: Store, dialect: any SQLDialect = SQLiteDialect(), oneToManyForm: OneToManyForm? = .fromEnvironment) {
        self.store = store
        self.dialect = dialect
        self.oneToManyForm = oneToManyForm
    }

    /// Runs every node of the campaign's current version without sending anything, storing
    /// per-node and per-transition counts on a new run.
    ///
    /// - Parameters:
    ///   - events: called (on the executing thread) as the run progresses.
    ///   - isCancelled: polled between nodes and while a node's statements run (through SQLite's
    ///     progress handler); a cancelled run is stored as stopped.
    /// The campaign's time zone; an unknown one stops the run (validation reports it first).
    static func timeZone(_ campaign: Campaign) throws -> TimeZone {
        guard let zone = TimeZone(identifier: campaign.timeZone) else {
            throw HeraldError(.validation, "campaign '\(campaign.name)': '\(campaign.timeZone)' is not an IANA time zone")
        }
        return zone
    }

    public func dryRun(
        _ stored: StoredCampaign, events: @Sendable (RunEvent) -> Void = { _ in },
        isCancelled: @escaping @Sendable () -> Bool = { false }
    ) throws -> RunDetail {
        let catalog = try store.catalog()
        if try store.isArchived(campaignID: stored.id) {
            throw HeraldError(
                .conflict, "campaign '\(stored.campaign.name)' is archived; restore it with 'herald campaign unarchive' to run it")
        }
        try CampaignValidator(checker: try store.audienceChecker()).requireValid(stored.campaign)
        let campaign = stored.campaign
        guard let order = campaign.topologicalOrder() else {
            throw HeraldError(.validation, "campaign '\(campaign.name)' has a cycle")
        }
        let runID = try store.write { db in try RunRepository.createRun(db, campaign: stored, dryRun: true) }
        events(.started(runID: runID))
        store.logger.info(
            "dry run started", metadata: ["run": "\(runID)", "campaign": "\(stored.id)", "version": "\(stored.version)"])
        // The same compiler counts use: saved audiences, broken-definition and date-time checks.
        var compiler = try AudienceService(store: store, oneToManyForm: oneToManyForm).compiler(
            variables: campaign.variableBindings, timeZone: try Self.timeZone(campaign))
        compiler.dialect = dialect

        // Per node: the work table and entity of its inbound population; nil table = skipped branch.
        var inboundTable: [NodeID: String] = [:]
        var inboundEntity: [NodeID: String] = [:]
        var skipped = Set<NodeID>()
        var created: [String] = []
        var tableCounter = 0
        func newTableName() -> String {
            tableCounter += 1
            return "herald_work_\(runID)_\(tableCounter)"
        }

        // Generated SQL runs on a guarded connection of its own: it may read the catalog's tables
        // and snapshot members, and create, fill, read and drop this run's work tables, nothing
        // else; a cancellation stops the statement in progress.
        let work: GuardedConnection
        do { work = try GuardedConnection(path: store.path, readOnly: false) } catch {
            try? store.write { db in try RunRepository.finishRun(db, runID: runID, state: .failed, error: "\(error)") }
            throw error
        }
        var policy = AudienceService.readPolicy(catalog)
        policy.workPrefix = "herald_work_\(runID)_"

        var failure: HeraldError?
        var finished = false
        func stop() throws {
            try store.write { db in
                try RunRepository.log(db, runID: runID, nodeID: nil, level: "warning", message: "run stopped by the user")
                try RunRepository.finishRun(db, runID: runID, state: .stopped, error: nil)
            }
            finished = true
            failure = HeraldError(.cancelled, "dry run of '\(campaign.name)' stopped")
        }
        do {
            for id in order {
                if isCancelled() {
                    try stop()
                    break
                }
                guard let node = campaign.node(id) else { continue }
                let outEdges = campaign.outbound(id)
                if skipped.contains(id) {
                    try store.write { db in
                        try RunRepository.markNodeFinished(
                            db, runID: runID, nodeID: id, state: .skipped, inputCount: nil, durationMS: 0,
                            detail: "no population reached this node", error: nil)
                    }
                    for e in outEdges { skipped.insert(e.to) }
                    events(.nodeFinished(id, state: .skipped, inputCount: nil, outputs: [:], detail: nil))
                    continue
                }
                try store.write { db in try RunRepository.markNodeRunning(db, runID: runID, nodeID: id) }
                events(.nodeStarted(id))
                let started = DispatchTime.now()
                let result: NodeOutcome
                do {
                    result = try work.run(policy, shouldStop: isCancelled, what: "node '\(id)'") { db in
                        try execute(
                            node, db: db, compiler: compiler, catalog: catalog, input: inboundTable[id], inputEntity: inboundEntity[id],
                            newTable: newTableName)
                    }
                } catch let error as HeraldError where error.code == .cancelled {
                    try store.write { db in
                        try RunRepository.markNodeFinished(
                            db, runID: runID, nodeID: id, state: .stopped, inputCount: nil, durationMS: 0, detail: nil, error: nil)
                    }
                    events(.nodeFinished(id, state: .stopped, inputCount: nil, outputs: [:], detail: nil))
                    try stop()
                    break
                } catch {
                    let message = "\(error)"
                    try store.write { db in
                        try RunRepository.markNodeFinished(
                            db, runID: runID, nodeID: id, state: .failed, inputCount: nil, durationMS: 0, detail: nil, error: message)
                        try RunRepository.log(db, runID: runID, nodeID: id, level: "error", message: message)
                        try RunRepository.finishRun(db, runID: runID, state: .failed, error: "node '\(id)': \(message)")
                    }
                    finished = true
                    events(.nodeFinished(id, state: .failed, inputCount: nil, outputs: [:], detail: message))
                    // The message stays in the run's own log; diagnostics name the node only.
                    store.logger.error("node failed", metadata: ["run": "\(runID)", "node": "\(id)", "kind": "\(node.kind.rawValue)"])
                    failure = HeraldError(.validation, "dry run of '\(campaign.name)' failed at node '\(id)': \(message)", cause: error)
                    break
                }
                created.append(contentsOf: result.created)
                let ms = Int((DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1_000_000)
                try store.write { db in
                    for port in node.outputPorts {
                        let to = outEdges.first { $0.port == port }?.to
                        try RunRepository.recordEdge(
                            db, runID: runID, fromNode: id, port: port, toNode: to, workTable: result.tables[port],
                            count: result.counts[port] ?? 0)
                    }
                    try RunRepository.markNodeFinished(
                        db, runID: runID, nodeID: id, state: .completed, inputCount: result.inputCount, durationMS: ms,
                        detail: result.detail, error: nil)
                    if let log = result.log {
                        try RunRepository.log(db, runID: runID, nodeID: id, level: "info", message: log)
                    }
                }
                for e in outEdges {
                    let count = result.counts[e.port] ?? 0
                    if let table = result.tables[e.port], count > 0 || result.emitEmpty {
                        inboundTable[e.to] = table
                        inboundEntity[e.to] = result.portEntities[e.port] ?? result.entity
                    } else {
                        skipped.insert(e.to)
                    }
                }
                events(.nodeFinished(id, state: .completed, inputCount: result.inputCount, outputs: result.counts, detail: result.detail))
                store.logger.debug(
                    "node finished",
                    metadata: [
                        "run": "\(runID)", "node": "\(id)", "kind": "\(node.kind.rawValue)", "in": "\(result.inputCount ?? 0)",
                        "ms": "\(ms)",
                    ])
            }
            // A dry run keeps its counts, not its populations: drop the work tables.
            try work.run(policy, what: "removing the work tables") { db in
                for table in created { try db.execute(sql: "DROP TABLE IF EXISTS \(dialect.quote(table))") }
            }
            if !finished { try store.write { db in try RunRepository.finishRun(db, runID: runID, state: .completed, error: nil) } }
        } catch {
            // Whatever failed between nodes (the store itself, most likely), the run must not stay `running`.
            if !finished {
                try? store.write { db in try RunRepository.finishRun(db, runID: runID, state: .failed, error: "\(error)") }
            }
            throw error
        }
        let detail = try store.runDetail(runID)
        events(.finished(detail))
        if let failure { throw failure }
        return detail
    }

    struct NodeOutcome {
        var inputCount: Int?
        var counts: [String: Int] = [:]
        var tables: [String: String] = [:]
        var created: [String] = []
        var entity: String?
        /// Ports whose population is of another entity than `entity`.
        var portEntities: [String: String] = [:]
        var detail: String?
        var log: String?
        var emitEmpty = false
    }

    func count(_ db: Database, _ table: String) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM \(dialect.quote(table))") ?? 0
    }

    func run(_ db: Database, _ compiled: CompiledSQL, prefix: String) throws {
        try db.execute(sql: prefix + compiled.sql, arguments: compiled.arguments.statementArguments)
    }

    func execute(
        _ node: Node, db: Database, compiler: RuleCompiler, catalog: Catalog, input: String?, inputEntity: String?,
        newTable: () -> String
    ) throws -> NodeOutcome {
        var outcome = NodeOutcome()
        outcome.entity = inputEntity
        switch node.config {
        case .changeDimension(let link):
            guard let input, let entityName = inputEntity else { return outcome }
            outcome.inputCount = try count(db, input)
            let moved = try compiler.changeDimension(population: input, entity: entityName, link: link)
            let target = try catalog.requireEntity(moved.target)
            let out = newTable()
            try db.execute(sql: dialect.createWorkTable(out, keyIsInteger: target.keyType == .integer))
            try run(db, moved.out, prefix: "INSERT INTO \(dialect.quote(out)) ")
            outcome.counts["out"] = db.changesCount
            let complement = newTable()
            try db.execute(
                sql: dialect.createWorkTable(complement, keyIsInteger: try catalog.requireEntity(entityName).keyType == .integer))
            try run(db, moved.complement, prefix: "INSERT INTO \(dialect.quote(complement)) ")
            let unmatched = db.changesCount
            outcome.counts["complement"] = unmatched
            outcome.tables = ["out": out, "complement": complement]
            outcome.created += [out, complement]
            outcome.portEntities["out"] = moved.target
            outcome.detail =
                "\(Names.counted(outcome.counts["out"] ?? 0, entity: moved.target)) from \(Names.counted(outcome.inputCount ?? 0, entity: entityName))"
            if unmatched > 0 {
                outcome.log = "\(Names.counted(unmatched, entity: entityName)) had no '\(link)'; they went to the complement"
            }
        case .readAudience(let name, let emitWhenEmpty):
            guard let audience = compiler.audiences[name.lowercased()] else {
                throw HeraldError(.notFound, "no saved audience named '\(name)'")
            }
            var read = node
            read.config = .buildAudience(entity: audience.entity, rule: .inAudience(audience.name), emitWhenEmpty: emitWhenEmpty)
            var outcome = try execute(
                read, db: db, compiler: compiler, catalog: catalog, input: input, inputEntity: inputEntity, newTable: newTable)
            outcome.detail = "\(outcome.detail ?? "") from the \(audience.snapshot ? "snapshot" : "live") audience '\(audience.name)'"
            return outcome
        case .buildAudience(let entityName, let rule, let emitWhenEmpty):
            let entity = try catalog.requireEntity(entityName)
            let table = newTable()
            try db.execute(sql: dialect.createWorkTable(table, keyIsInteger: entity.keyType == .integer))
            outcome.created.append(table)
            try run(db, try compiler.selectKeys(entity: entityName, rule: rule), prefix: "INSERT INTO \(dialect.quote(table)) ")
            let n = db.changesCount
            outcome.counts["out"] = n
            outcome.tables["out"] = table
            outcome.entity = entityName
            outcome.emitEmpty = emitWhenEmpty
            outcome.detail = Names.counted(n, entity: entityName)
            if n == 0 && !emitWhenEmpty { outcome.log = "the audience is empty; the branch ends here" }
        case .split(let seed, let subsets, let overlap, let skipEmpty):
            guard let input, let entityName = inputEntity else { return outcome }
            let entity = try catalog.requireEntity(entityName)
            let isInteger = entity.keyType == .integer
            let total = try count(db, input)
            outcome.inputCount = total
            var previous: [String] = []
            for (i, subset) in subsets.enumerated() {
                let port = "subset\(i + 1)"
                let table = newTable()
                try db.execute(sql: dialect.createWorkTable(table, keyIsInteger: isInteger))
                outcome.created.append(table)
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
                    select.sql += " ORDER BY \(dialect.sampleOrder(key: "w.key", keyIsInteger: isInteger, seed: seed)) LIMIT \(n)"
                }
                try run(db, select, prefix: "INSERT INTO \(dialect.quote(table)) ")
                outcome.counts[port] = db.changesCount
                outcome.tables[port] = table
                previous.append(table)
            }
            let complement = newTable()
            try db.execute(sql: dialect.createWorkTable(complement, keyIsInteger: isInteger))
            outcome.created.append(complement)
            let exclusions = previous.map { "NOT EXISTS (SELECT 1 FROM \(dialect.quote($0)) p WHERE p.key = w.key)" }
            try db.execute(
                sql: "INSERT INTO \(dialect.quote(complement)) SELECT w.key FROM \(dialect.quote(input)) w"
                    + (exclusions.isEmpty ? "" : " WHERE " + exclusions.joined(separator: " AND ")))
            outcome.counts["complement"] = db.changesCount
            outcome.tables["complement"] = complement
            outcome.emitEmpty = !skipEmpty
            outcome.detail =
                subsets.indices.map { "\(subsets[$0].label) \(Names.groupedCount(outcome.counts["subset\($0 + 1)"] ?? 0))" }
                .joined(separator: ", ") + ", complement \(Names.groupedCount(outcome.counts["complement"] ?? 0))"
        case .wait(let duration):
            guard let input else { return outcome }
            let n = try count(db, input)
            outcome.inputCount = n
            outcome.counts["out"] = n
            outcome.tables["out"] = input
            outcome.detail = "would wait \(duration); a dry run passes straight through"
        case .message(let channel, let settings):
            guard let input else { return outcome }
            let n = try count(db, input)
            outcome.inputCount = n
            outcome.counts["out"] = n
            outcome.tables["out"] = input
            let unit = settings.messagePer == .entity ? "messages (one per \(inputEntity ?? "row"))" : "messages"
            outcome.detail = "\(Names.groupedCount(n)) \(channel.rawValue) \(unit) would be prepared; nothing is sent in a dry run"
        case .end:
            if let input { outcome.inputCount = try count(db, input) }
        }
        return outcome
    }
}

extension SQLValue {
    var databaseValue: DatabaseValue {
        switch self {
        case .null: .null
        case .integer(let v): v.databaseValue
        case .real(let v): v.databaseValue
        case .text(let s): s.databaseValue
        }
    }
}
