import Foundation
import GRDB
import HeraldCore
import HeraldStore

/// What one node kind does when a run reaches it: fill its output ports' work tables from its
/// inputs, inside SQLite, and describe the result. Each kind's type is declared in HeraldCore
/// (`Nodes/`, with its ports and checks) and extended with its execution in this folder.
protocol NodeExecution {
    func execute(_ context: NodeContext) throws -> NodeOutcome
    /// Whether executing the node writes the store itself (a live Save audience's members), so
    /// its work and its bookkeeping must commit together, under the store's write lock.
    var writesStore: Bool { get }
}

extension NodeExecution {
    var writesStore: Bool { false }
}

/// What a node works with: the transaction it runs in, the compiler, and its inputs.
struct NodeContext {
    let db: Database
    let compiler: RuleCompiler
    let catalog: Catalog
    let dialect: any SQLDialect
    /// The work table at the node's first input port that received one (nil: none did).
    let input: String?
    /// The work table at each input port that received a population.
    let inputs: [PortName: String]
    /// The entity of the population at the first input.
    let entity: String?
    /// A live run (saves audiences, holds populations in waits) rather than a dry one.
    let live: Bool
    /// The run's clock at this node, and the campaign's time zone.
    let now: Date
    let timeZone: TimeZone
    /// When this node was found waiting by an earlier executor, the end of its wait.
    let recordedWake: Date?
    /// Runs Herald's own statements (audience members, not generated SQL) past the guard.
    let trusted: (() throws -> Void) throws -> Void
    /// A new, unused work table name for this node.
    let newTable: () -> String
    /// The database work tables are created in: the run's own file, attached, so a node's long
    /// statement holds that file's write lock and not the store's.
    var workSchema: String? = nil
    /// The run and node being executed.
    var run: RunPosition? = nil

    func count(_ table: String) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM \(dialect.quote(table))") ?? 0
    }

    /// The population the node works on and its entity, or nil when none arrived.
    var population: (table: String, entity: String)? {
        guard let input, let entity else { return nil }
        return (input, entity)
    }

    /// A new, empty work table for keys of `entity` (and `columns` after them), recorded in
    /// `outcome` as created.
    func workTable(
        of entity: String, columns: [(name: String, type: EnrichmentType)] = [], in outcome: inout NodeOutcome
    ) throws -> String {
        let table = newTable()
        try db.execute(
            sql: dialect.createWorkTable(
                table, in: workSchema, keyIsInteger: try catalog.requireEntity(entity).keyType == .integer, columns: columns))
        outcome.created.append(table)
        return table
    }

    /// The outcome of a node that hands its input on unchanged to `ports` (its `inputCount` is
    /// the row count); nil when nothing arrived.
    func passThrough(to ports: [PortName]) throws -> NodeOutcome? {
        guard let input else { return nil }
        var outcome = NodeOutcome()
        let rows = try count(input)
        outcome.inputCount = rows
        for port in ports {
            outcome.tables[port] = input
            outcome.counts[port] = rows
        }
        return outcome
    }

    func run(_ compiled: CompiledSQL, prefix: String) throws {
        try db.execute(sql: prefix + compiled.sql, arguments: compiled.arguments.statementArguments)
    }
}

/// A node's result: per output port, its work table and row count, and what to tell the user.
struct NodeOutcome {
    var inputCount: Int?
    var counts: [PortName: Int] = [:]
    var tables: [PortName: String] = [:]
    /// Tables this node created (they are renamed to their final names at the commit).
    var created: [String] = []
    var detail: String?
    var logs: [RunLogLine] = []
    /// Whether empty outputs still lead on.
    var emitEmpty = false
    /// `completed`; `skipped` for what this version cannot do (a live channel node); `waiting`
    /// with `wakeAt` for a live Wait node whose wait has not ended.
    var state = RunState.completed
    var wakeAt: Date?
    /// A live End node's campaign to start, as a pending run.
    var starts: String?
    /// A live channel node's verdicts, for the executor to copy into the message ledger.
    var enqueue: Enqueue?
    /// A dry channel node's first messages that would go, for the executor to render.
    var samples: [ClaimedMessage] = []
}

extension Node {
    /// The type that executes this node: its definition's own (each kind's type extends it with
    /// its execution in this folder).
    var execution: any NodeExecution {
        get throws {
            guard let execution = definition as? any NodeExecution else {
                throw HeraldError(.internalFailure, "node '\(id)': a \(kind.title) node cannot run in this version")
            }
            return execution
        }
    }
}
