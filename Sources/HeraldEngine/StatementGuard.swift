public import Foundation
import GRDB
import GRDBSQLite
import HeraldCore
import HeraldStore
import Synchronization

/// Cancels a running audience query or dry run from another thread (the CLI turns Ctrl-C into one).
/// The query's connection polls it through SQLite's progress handler, so it stops mid-statement,
/// within `StatementGuard.stepsBetweenChecks` virtual-machine steps.
public final class QueryCancellation: Sendable {
    private let flag = Atomic<Bool>(false)

    public init() {}

    /// Stops the query; it fails with a `cancelled` error.
    public func cancel() { flag.store(true, ordering: .relaxed) }

    public var isCancelled: Bool { flag.load(ordering: .relaxed) }
}

/// What generated SQL may do on one connection. SQLite enforces it twice: its authorizer refuses
/// any statement that would touch something else while the statement compiles, and its progress
/// handler stops a running statement when it is cancelled or past its deadline.
///
/// A guard lives as long as its connection and is armed for one piece of work at a time, on the
/// thread that runs it; between pieces of work it allows nothing but transaction control.
final class StatementGuard: @unchecked Sendable {
    struct Policy: Sendable {
        /// Tables (lower-cased) that may be read.
        var readable: Set<String> = []
        /// Tables (lower-cased) that may receive rows.
        var insertable: Set<String> = []
        /// Tables named with this prefix (lower-cased) may be created, filled, read and dropped.
        var workPrefix: String?
        /// Herald's own statements (run bookkeeping, renaming a node's finished tables): anything.
        var trusted = false

        static let nothing = Policy()
    }

    /// Runs `body` with every statement allowed (Herald's own SQL, never generated from a
    /// rule), then restores the policy in force.
    func trusting<T>(_ body: () throws -> T) rethrows -> T {
        let saved = policy
        policy.trusted = true
        defer { policy = saved }
        return try body()
    }

    private(set) var policy = Policy.nothing
    /// What the last refused statement tried to do, in words.
    private(set) var refused: String?
    private var shouldStop: (@Sendable () -> Bool)?
    private var deadline: UInt64 = 0
    /// Whether the progress handler stopped the work because its deadline passed.
    private(set) var timedOut = false
    /// Set once a statement is allowed to drop a work table: SQLite then also clears that
    /// table's rows from its statistics tables.
    private var droppingWork = false

    /// The virtual-machine steps between two looks at the cancellation flag and the clock: well
    /// under a millisecond of work, and rare enough that the callback costs nothing measurable.
    static let stepsBetweenChecks: Int32 = 50_000

    func arm(_ policy: Policy, shouldStop: (@Sendable () -> Bool)? = nil, timeLimit: TimeInterval? = nil) {
        self.policy = policy
        self.shouldStop = shouldStop
        deadline = timeLimit.map { DispatchTime.now().uptimeNanoseconds + UInt64(max(0, $0) * 1e9) } ?? 0
        refused = nil
        timedOut = false
        droppingWork = false
    }

    func disarm() {
        policy = .nothing
        shouldStop = nil
        deadline = 0
        droppingWork = false
    }

    /// Installs the authorizer and the progress handler on a connection; `uninstall` must run
    /// before the guard is released.
    func install(on db: Database) {
        let context = Unmanaged.passUnretained(self).toOpaque()
        sqlite3_set_authorizer(db.sqliteConnection, Self.authorize, context)
        sqlite3_progress_handler(db.sqliteConnection, Self.stepsBetweenChecks, Self.progress, context)
    }

    func uninstall(from db: Database) {
        sqlite3_set_authorizer(db.sqliteConnection, nil, nil)
        sqlite3_progress_handler(db.sqliteConnection, 0, nil, nil)
    }

    private static let progress: @convention(c) (UnsafeMutableRawPointer?) -> Int32 = { context in
        let guardian = Unmanaged<StatementGuard>.fromOpaque(context!).takeUnretainedValue()
        if let stop = guardian.shouldStop, stop() { return 1 }
        if guardian.deadline != 0 && DispatchTime.now().uptimeNanoseconds >= guardian.deadline {
            guardian.timedOut = true
            return 1
        }
        return 0
    }

    private static let authorize:
        @convention(c) (
            UnsafeMutableRawPointer?, Int32, UnsafePointer<CChar>?, UnsafePointer<CChar>?, UnsafePointer<CChar>?, UnsafePointer<CChar>?
        ) -> Int32 = { context, action, first, second, _, _ in
            let guardian = Unmanaged<StatementGuard>.fromOpaque(context!).takeUnretainedValue()
            if let reason = guardian.refusal(action, first.map { String(cString: $0).lowercased() } ?? "", second) {
                guardian.refused = reason
                return SQLITE_DENY
            }
            return SQLITE_OK
        }

    private static let schemaTables: Set<String> = ["sqlite_master", "sqlite_schema", "sqlite_temp_master"]

    private func isWork(_ table: String) -> Bool {
        guard let prefix = policy.workPrefix else { return false }
        return table.hasPrefix(prefix)
    }

    /// Nil when the action is allowed, else what it would have done.
    private func refusal(_ action: Int32, _ name: String, _ second: UnsafePointer<CChar>?) -> String? {
        if policy.trusted { return nil }
        switch action {
        case SQLITE_SELECT, SQLITE_TRANSACTION, SQLITE_SAVEPOINT:
            return nil  // the transaction GRDB wraps around every access
        case SQLITE_READ:
            if policy.readable.contains(name) || isWork(name) || Self.schemaTables.contains(name) || name == "json_each" { return nil }
            if droppingWork && name.hasPrefix("sqlite_stat") { return nil }
            return "read table '\(name)', which is not in the catalog"
        case SQLITE_INSERT, SQLITE_DELETE, SQLITE_UPDATE:
            if isWork(name) || (action == SQLITE_INSERT && policy.insertable.contains(name)) { return nil }
            // Reported while SQLite records a work table's creation or removal in its schema,
            // and while it sets up json_each's eponymous table. Statements cannot write the
            // schema table themselves (that needs a PRAGMA, which is refused).
            if Self.schemaTables.contains(name) { return nil }
            if action == SQLITE_DELETE && droppingWork && name.hasPrefix("sqlite_stat") { return nil }
            return "write to table '\(name)'"
        case SQLITE_CREATE_TABLE, SQLITE_DROP_TABLE:
            if isWork(name) {
                if action == SQLITE_DROP_TABLE { droppingWork = true }
                return nil
            }
            return "\(action == SQLITE_CREATE_TABLE ? "create" : "drop") table '\(name)'"
        case SQLITE_CREATE_INDEX, SQLITE_DROP_INDEX:
            // The index's table comes second; work tables get their primary-key index this way.
            let table = second.map { String(cString: $0).lowercased() } ?? ""
            if isWork(table) { return nil }
            return "change index '\(name)' on '\(table)'"
        case SQLITE_FUNCTION:
            let function = second.map { String(cString: $0).lowercased() } ?? ""
            if function == "load_extension" || function.hasPrefix("fts") { return "call \(function)()" }
            return nil
        default:
            return "perform SQLite action \(action) on '\(name)' (not a read)"
        }
    }

    /// Turns what SQLite reported for guarded work into the message a user sees.
    func translate(_ error: any Error, path: String, timeLimit: TimeInterval?, what: String) -> HeraldError {
        if let error = error as? HeraldError { return error }
        if let database = error as? DatabaseError {
            if database.resultCode == .SQLITE_AUTH {
                return HeraldError(
                    .internalFailure, "a generated statement tried to \(refused ?? "do something it may not do"); it was refused",
                    cause: error)
            }
            if database.resultCode == .SQLITE_INTERRUPT {
                if timedOut {
                    return HeraldError(
                        .cancelled, "\(what) ran past its time limit of \(Self.seconds(timeLimit ?? 0)) and was stopped", cause: error)
                }
                return HeraldError(.cancelled, "\(what) was cancelled", cause: error)
            }
        }
        return Store.storeError(error, path: path)
    }

    static func seconds(_ t: TimeInterval) -> String {
        t == t.rounded() ? "\(Int(t)) s" : String(format: "%.1f s", t)
    }
}

/// A connection of its own for SQL the engine generates, with a `StatementGuard` installed for
/// its whole life. Read-only connections answer audience queries; a writable one materialises a
/// dry run's populations into that run's work tables.
final class GuardedConnection: @unchecked Sendable {
    let queue: DatabaseQueue
    let guardian = StatementGuard()
    let path: String

    init(path: String, readOnly: Bool, busyTimeout: TimeInterval = Store.defaultBusyTimeout) throws {
        var configuration = Configuration()
        configuration.readonly = readOnly
        configuration.busyMode = .timeout(busyTimeout)
        configuration.label = readOnly ? "herald-guarded-read" : "herald-guarded-work"
        var wanted = ReadTuning.current(path: path, purpose: readOnly ? .reads : .work)
        // A run's work sorts and groups whole populations: its temporary B-trees go to files
        // past the page cache, so its memory does not grow with the audience.
        if !readOnly { wanted.tempStoreInMemory = false }
        let tuning = wanted
        configuration.prepareDatabase { db in
            db.add(function: Store.hashFunction)
            try Addresses.addValidityFunction(to: db)
            // Before the guard is installed: it refuses PRAGMA from generated SQL.
            for statement in tuning.pragmas { try db.execute(sql: statement) }
        }
        self.path = path
        do { queue = try DatabaseQueue(path: path, configuration: configuration) } catch { throw Store.storeError(error, path: path) }
        let guardian = self.guardian
        queue.inDatabase { db in guardian.install(on: db) }
    }

    deinit {
        // The callbacks must not outlive the object they point to.
        let guardian = self.guardian
        queue.inDatabase { db in guardian.uninstall(from: db) }
    }

    /// Runs `body` in a transaction (a read, or a write when the connection is writable) under
    /// `policy`, stopping it when `shouldStop` says so or after `timeLimit`.
    ///
    /// A writable transaction takes every write lock when it starts (`immediate`), so a busy
    /// store makes it wait rather than fail halfway through; `immediate: false` takes each
    /// database's lock at its first write, for work that writes only the run's own file and
    /// must not hold the store's lock for its whole length.
    func run<T>(
        _ policy: StatementGuard.Policy, shouldStop: (@Sendable () -> Bool)? = nil, timeLimit: TimeInterval? = nil, what: String,
        immediate: Bool = true, _ body: (Database) throws -> T
    ) throws -> T {
        guardian.arm(policy, shouldStop: shouldStop, timeLimit: timeLimit)
        defer { guardian.disarm() }
        do {
            if queue.configuration.readonly { return try queue.readOnOpenedReadOnly(body) }
            var result: T?
            try queue.writeWithoutTransaction { db in
                try db.inTransaction(immediate ? .immediate : .deferred) {
                    result = try body(db)
                    return .commit
                }
            }
            return result!
        } catch {
            throw guardian.translate(error, path: path, timeLimit: timeLimit, what: what)
        }
    }

    /// Attaches the database file at `path` (created if missing) under `schema`: Herald's own
    /// statement, outside any transaction, as ATTACH must be.
    func attach(_ path: String, as schema: String) throws {
        do {
            try queue.writeWithoutTransaction { db in
                try guardian.trusting {
                    try db.execute(sql: "ATTACH DATABASE ? AS \(schema.quotedDatabaseIdentifier)", arguments: [path])
                }
            }
        } catch {
            throw Store.storeError(error, path: path)
        }
    }

    /// Detaches the database attached under `schema`.
    func detach(_ schema: String) throws {
        try queue.writeWithoutTransaction { db in
            try guardian.trusting { try db.execute(sql: "DETACH DATABASE \(schema.quotedDatabaseIdentifier)") }
        }
    }

    /// Compiles every statement of `sql` under `policy` without running any: the guard's verdict
    /// on SQL that another connection will run inside a larger transaction.
    func vet(_ sql: String, _ policy: StatementGuard.Policy) throws {
        guardian.arm(policy)
        defer { guardian.disarm() }
        do {
            try queue.inDatabase { db in
                let statements = try db.allStatements(sql: sql)
                while try statements.next() != nil {}
            }
        } catch {
            throw guardian.translate(error, path: path, timeLimit: nil, what: "the statement")
        }
    }
}
