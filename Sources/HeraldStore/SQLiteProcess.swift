import CSQLiteSetup

/// Settings SQLite takes once per process, before its first connection opens.
public enum SQLiteProcess {
    /// Turns off SQLite's allocation statistics (which Herald never reads): with them on, every
    /// allocation of every connection takes one process-wide mutex, and a live run's two threads
    /// (the worker's claims and records on the store's connection, the recipients' values read
    /// on another) wait on each other there. Call first thing in `main`; once SQLite has
    /// started, the call changes nothing.
    ///
    /// - Returns: whether the setting took effect.
    @discardableResult
    public static func prepare() -> Bool { herald_sqlite3_disable_memstatus() == 0 }
}
