import Foundation
import GRDB
import HeraldCore

/// Tells when another connection has committed to the store: SQLite's `PRAGMA data_version`,
/// read on a connection of its own (the number is per connection, and changes only when
/// another one commits). An executor commits each node's progress, so a watcher in another
/// process sees a run fill up node by node. Reading never writes.
public final class ChangeWatcher: Sendable {
    private let queue: DatabaseQueue

    init(path: String) throws {
        var configuration = Configuration()
        configuration.readonly = true
        do { queue = try DatabaseQueue(path: path, configuration: configuration) } catch {
            throw Store.storeError(error, path: path)
        }
    }

    /// A number that changes whenever another connection commits to the store.
    public func version() throws -> Int {
        do { return try queue.inDatabase { db in try Int.fetchOne(db, sql: "PRAGMA data_version") ?? 0 } } catch {
            throw HeraldError(.io, "watching the store: \(error)")
        }
    }
}

extension Store {
    /// A watcher of other connections' commits to this store.
    public func changeWatcher() throws -> ChangeWatcher { try ChangeWatcher(path: connectionPath) }
}
