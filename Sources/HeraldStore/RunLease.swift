public import Foundation
public import GRDB
public import HeraldCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The right to execute one run: one executor per run. A lease is a row's owner and expiry in
/// `herald_runs`; it is taken when free, expired, already ours, or held by a process of this
/// machine that no longer exists (a `kill -9` leaves such a lease). The executor renews it in
/// the transaction that records each node's result, so a lease held by a live executor never
/// lapses while it works: between two nodes it is at most `lifetime` old.
public struct RunLease: Sendable, Equatable {
    public let runID: Int64
    /// `host/pid/token`: where the executor runs, and which one it is.
    public let owner: String

    public static let lifetime: TimeInterval = 300

    /// A new owner name for an executor of this process.
    public static func newOwner() -> String {
        "\(ProcessInfo.processInfo.hostName)/\(getpid())/\(UUID().uuidString.prefix(8).lowercased())"
    }

    static func expiry(after now: Date) -> String { Store.timestamp(now.addingTimeInterval(lifetime)) }

    /// Whether `owner` names a process of this machine that has exited.
    public static func isDeadHereProcess(_ owner: String) -> Bool {
        let parts = owner.split(separator: "/")
        guard parts.count == 3, String(parts[0]) == ProcessInfo.processInfo.hostName, let pid = Int32(parts[1]) else { return false }
        if pid == getpid() { return false }
        return kill(pid, 0) == -1 && errno == ESRCH
    }

    /// A run's state and its lease as stored.
    public struct Holding: Sendable, Equatable {
        public var runID: Int64
        public var state: String
        public var owner: String?
        public var expires: String?

        init(row: Row) {
            runID = row["id"]
            state = row["state"]
            owner = row["lease_owner"]
            expires = row["lease_expires_at"]
        }

        /// Whether a live executor other than `except` holds the run at `now`: the lease has
        /// not expired and its holder is not a process of this machine that has exited.
        public func isLive(now: Date, except: String? = nil) -> Bool {
            guard let owner, owner != except, let expires else { return false }
            return expires > Store.timestamp(now) && !isDeadHereProcess(owner)
        }
    }

    static let holdingColumns = "id, state, lease_owner, lease_expires_at"

    /// The state and lease of one run.
    public static func holding(_ db: Database, runID: Int64) throws -> Holding {
        guard let row = try Row.fetchOne(db, sql: "SELECT \(holdingColumns) FROM herald_runs WHERE id = ?", arguments: [runID]) else {
            throw HeraldError(.notFound, "run: no run with id \(runID)")
        }
        return Holding(row: row)
    }

    /// The state and lease of every unfinished run, oldest first.
    public static func unfinished(_ db: Database) throws -> [Holding] {
        try Row.fetchAll(
            db, sql: "SELECT \(holdingColumns) FROM herald_runs WHERE state = ? ORDER BY id", arguments: [RunState.running.rawValue]
        ).map(Holding.init)
    }

    /// Takes the lease of an unfinished run, or explains who holds it.
    public static func acquire(_ db: Database, runID: Int64, owner: String, now: Date = Date()) throws -> RunLease {
        let held = try holding(db, runID: runID)
        guard held.state == RunState.running.rawValue else {
            throw HeraldError(
                .conflict, "run #\(runID) is \(held.state); only an unfinished run can be resumed (start a new one with 'herald run')")
        }
        if held.isLive(now: now, except: owner), let holder = held.owner, let expires = held.expires {
            throw HeraldError(
                .conflict, "run #\(runID) is being executed by \(holder) (its lease runs until \(expires)); try again after that")
        }
        try db.execute(
            sql: "UPDATE herald_runs SET lease_owner = ?, lease_expires_at = ? WHERE id = ?",
            arguments: [owner, expiry(after: now), runID])
        return RunLease(runID: runID, owner: owner)
    }

    /// Extends the lease; fails when another executor has taken it meanwhile (the caller's
    /// transaction then rolls back, so nothing of this executor's node is kept).
    public func renew(_ db: Database, now: Date = Date()) throws {
        try db.execute(
            sql: "UPDATE herald_runs SET lease_expires_at = ? WHERE id = ? AND lease_owner = ?",
            arguments: [Self.expiry(after: now), runID, owner])
        if db.changesCount != 1 {
            throw HeraldError(.leaseLost, "run #\(runID) was taken over by another executor; this one stops")
        }
    }

    /// Gives the lease up (when the run finishes or this executor stops).
    public func release(_ db: Database) throws {
        try db.execute(
            sql: "UPDATE herald_runs SET lease_owner = NULL, lease_expires_at = NULL WHERE id = ? AND lease_owner = ?",
            arguments: [runID, owner])
    }
}
