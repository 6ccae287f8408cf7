public import Foundation
public import GRDB
public import HeraldCore
public import Logging
import Synchronization

/// The SQLite file behind everything: the user's tables and Herald's own (`herald_*`).
///
/// A `Sendable` facade over a `DatabasePool` (WAL, concurrent readers). Methods are named for
/// what they do and each runs in one transaction.
public struct Store: Sendable {
    /// The connection to the file: read-write in WAL mode, or read-only when the store was
    /// opened only to look.
    public let writer: any DatabaseWriter
    public let path: String
    /// Opened with ``openForReading(path:)``: nothing through this value can change the file.
    public let isReadOnly: Bool
    /// This open added Herald's tables to a SQLite file that did not have them.
    public let adopted: Bool
    /// The migrations opening this store for writing applied to it, when it was a store of an
    /// older Herald (empty: it was current, new, or adopted).
    public internal(set) var upgrades: [String] = []
    /// What other connections to this store open: the path, or for a store read as an immutable
    /// file (its folder is not writable) the `file:` URI that says so.
    public internal(set) var connectionPath: String
    /// Where the store and the modules built on it log: ids, counts and timings only, never
    /// addresses, message bodies or rule values.
    public var logger = Logger(label: "herald.store")
    let catalogCache = KeyedMemo<Catalog>()

    /// Opens (or, with `create`, creates) a store for writing and brings Herald's tables up to
    /// date. A plain SQLite file gains Herald's tables (``adopted`` says so).
    ///
    /// Refuses, with ``HeraldError`` and without touching the file, when it does not exist and
    /// `create` is false, is not a SQLite database, is corrupt, or was written by a newer Herald.
    public static func open(path: String, create: Bool = false, busyTimeout: TimeInterval = Store.defaultBusyTimeout) throws -> Store {
        try checkFile(path: path, mustExist: !create)
        // One serialized connection: Herald's own reads run on guarded connections of their
        // own. (GRDB's pool rewrites the file on every open to make sure a WAL file exists,
        // which would change a store even when the command then refuses to do anything.)
        let queue: DatabaseQueue
        let state: SchemaState
        do {
            queue = try DatabaseQueue(
                path: path, configuration: configuration(readOnly: false, busyTimeout: busyTimeout, mapping: path))
            state = try Self.schemaState(queue, path: path)
            let empty = isEmptyFile(queue)
            try queue.writeWithoutTransaction { db in
                // WAL lets other processes read while this one writes; the mode is kept in the
                // file, so this changes it only the first time.
                if try String.fetchOne(db, sql: "PRAGMA journal_mode") != "wal" {
                    guard try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL") == "wal" else {
                        throw HeraldError(.storeUnreadable, "\(path): SQLite could not switch the file to WAL mode")
                    }
                }
            }
            var store = Store(writer: queue, path: path, isReadOnly: false, adopted: state == .notHerald && !empty)
            store.busyTimeout = busyTimeout
            let applied = try store.migrate()
            if state != .notHerald { store.upgrades = applied }
            openedForWriting.withLock { $0.append(store) }
            store.logger.debug(
                "opened the store for writing", metadata: ["store": "\(path)", "schema": "\(state)", "adopted": "\(store.adopted)"])
            return store
        } catch {
            throw storeError(error, path: path)
        }
    }

    /// Opens a store only to look: read-only, no migrations, no journal-mode change, so the
    /// file stays byte-for-byte as it was.
    ///
    /// A store from an older Herald is read as it is when its missing migrations do not change
    /// what reads see; a plain SQLite file reads as a store with no campaigns, audiences or runs
    /// (Herald's tables exist only in this connection's temporary schema).
    public static func openForReading(path: String) throws -> Store {
        try checkFile(path: path, mustExist: true)
        var queue: DatabaseQueue
        var connectionPath = path
        do {
            queue = try DatabaseQueue(
                path: path, configuration: configuration(readOnly: true, busyTimeout: defaultBusyTimeout, mapping: path))
            // A store in a folder this user cannot write to cannot have its `-shm`: the first
            // read says so. Such a store is read as an immutable file when it has no WAL to apply.
            _ = try queue.inDatabase { db in try Int.fetchOne(db, sql: "PRAGMA schema_version") }
        } catch let error as DatabaseError where [.SQLITE_READONLY, .SQLITE_CANTOPEN].contains(error.resultCode) {
            (queue, connectionPath) = try openImmutable(path: path, cause: error)
        } catch {
            throw storeError(error, path: path)
        }
        switch try schemaState(queue, path: path) {
        case .current, .readCompatible:
            break
        case .needsUpgrade(let missing):
            throw HeraldError(
                .storeTooOld,
                "\(path) was written by an older Herald and must be upgraded before it can be read (missing: \(missing.joined(separator: ", "))); run 'herald init \(path)' to upgrade it"
            )
        case .notHerald:
            do {
                try queue.inDatabase { db in
                    for statement in try Migrations.temporarySchema() { try db.execute(sql: statement) }
                }
            } catch {
                throw storeError(error, path: path)
            }
        }
        var store = Store(writer: queue, path: path, isReadOnly: true, adopted: false)
        store.connectionPath = connectionPath
        store.logger.debug("opened the store read-only", metadata: ["store": "\(path)"])
        return store
    }

    /// `path` read as an immutable file (SQLite then takes no lock and needs no `-shm`), for a
    /// store in a folder this user cannot write to. Refused when a `-wal` beside it holds
    /// changes the file does not have yet: reading without them would show an older store.
    static func openImmutable(path: String, cause: DatabaseError) throws -> (DatabaseQueue, uri: String) {
        var info = stat()
        if stat(path + "-wal", &info) == 0 && info.st_size > 0 {
            throw HeraldError(
                .storeUnreadable,
                "cannot read \(path): its folder is not writable, and \(path)-wal holds changes not yet in the file; open it once where it can be written to (or as its owner) to fold them in",
                cause: cause)
        }
        var uri = "file:"
        for byte in path.utf8 {
            // Percent-encode what a URI path cannot hold as it is.
            if byte == UInt8(ascii: "%") || byte == UInt8(ascii: "?") || byte == UInt8(ascii: "#") || byte < 0x21 || byte > 0x7E {
                uri += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            } else {
                uri.unicodeScalars.append(Unicode.Scalar(byte))
            }
        }
        var configuration = configuration(readOnly: true, busyTimeout: defaultBusyTimeout)
        configuration.label = "herald-immutable"
        do {
            let queue = try DatabaseQueue(path: uri + "?immutable=1", configuration: configuration)
            _ = try queue.inDatabase { db in try Int.fetchOne(db, sql: "PRAGMA schema_version") }
            return (queue, uri + "?immutable=1")
        } catch {
            throw storeError(cause, path: path)
        }
    }

    /// This store for writing: itself when writable, else a new read-write open of the same file
    /// (which migrates it). Screens that mostly look call this only when the user changes something.
    public func writable() throws -> Store {
        isReadOnly ? try Store.open(path: path, busyTimeout: busyTimeout) : self
    }

    /// The stores this process opened for writing, for ``checkpointWritten()``.
    static let openedForWriting = Mutex<[Store]>([])

    /// Copies what this process's writes left in the WAL into the database file, so a store at
    /// rest is one self-contained file (a copy of the `.db` alone, or a commit of it, holds every
    /// change). Commands call it before they exit, as the `sqlite3` shell checkpoints on close.
    ///
    /// A passive checkpoint: it waits for no one, and copies every frame no reader in another
    /// process still needs; that reader's own writes, or the last connection to close, copy the
    /// rest. Failures are returned, not thrown: the data is safe in the WAL either way.
    @discardableResult
    public static func checkpointWritten() -> [String] {
        let stores = openedForWriting.withLock { $0 }
        var problems: [String] = []
        for store in stores {
            do {
                try store.writer.writeWithoutTransaction { db in _ = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(PASSIVE)") }
            } catch {
                problems.append("\(store.path): the checkpoint did not run (\(error)); the changes are safe in \(store.path)-wal")
            }
        }
        return problems
    }

    /// Closes the store's connections (waiting for work in progress); later use fails.
    public func close() throws {
        let closing = ObjectIdentifier(writer as AnyObject)
        Store.openedForWriting.withLock { stores in stores.removeAll { ObjectIdentifier($0.writer as AnyObject) == closing } }
        try writer.close()
    }

    /// How long a statement waits for another process's write lock before it gives up, on this
    /// store's connections and on those the engine opens beside them.
    public internal(set) var busyTimeout: TimeInterval = Store.defaultBusyTimeout

    /// `HERALD_BUSY_TIMEOUT` seconds (the command line refuses a value that does not read), 10 by default.
    public static var defaultBusyTimeout: TimeInterval {
        ProcessInfo.processInfo.environment["HERALD_BUSY_TIMEOUT"].flatMap(TimeInterval.init).flatMap { $0 > 0 ? $0 : nil } ?? 10
    }

    /// - Parameter mapping: the store file, to read it through a memory map sized to it (see
    ///   ``ReadTuning``): the delivery worker's claims read thousands of ledger rows at a time,
    ///   and without the map each page is copied in by `pread`. The page cache keeps SQLite's
    ///   default size, so the map adds no anonymous memory.
    static func configuration(readOnly: Bool, busyTimeout: TimeInterval, mapping path: String? = nil) -> Configuration {
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout)
        configuration.foreignKeysEnabled = true
        configuration.readonly = readOnly
        configuration.label = "herald"
        let mmapBytes = path.map { ReadTuning.current(path: $0).mmapBytes }
        configuration.prepareDatabase { db in
            db.add(function: Store.hashFunction)
            if let mmapBytes { try db.execute(sql: "PRAGMA mmap_size = \(mmapBytes)") }
        }
        return configuration
    }

    /// Refuses directories, missing files (when they must exist) and unreadable files before
    /// SQLite sees them. A file that is not SQLite is refused by SQLite itself, on the first read
    /// of the opening connection (`SQLITE_NOTADB`), which changes nothing in it.
    ///
    /// This looks at the path with `stat` and `access` only, never by opening it: on POSIX,
    /// closing any descriptor a process holds on a database file drops every lock its SQLite
    /// connections hold on that file. Another process would then take this process for gone,
    /// checkpoint and delete the WAL this one still writes to, and its writes would vanish.
    static func checkFile(path: String, mustExist: Bool) throws {
        var info = stat()
        guard stat(path, &info) == 0 else {
            let failure = errno
            guard failure == ENOENT else {
                throw HeraldError(.storeUnreadable, "cannot read \(path): \(String(cString: strerror(failure)))")
            }
            guard !mustExist else {
                throw HeraldError(
                    .notFound,
                    "no store at \(path); create one with 'herald init \(path)', or import a CSV file into it with 'herald import FILE.csv --db \(path) --table NAME'"
                )
            }
            return
        }
        if info.st_mode & S_IFMT == S_IFDIR {
            throw HeraldError(.invalidInput, "\(path) is a directory; give the path of a store file")
        }
        if access(path, R_OK) != 0 {
            throw HeraldError(.storeUnreadable, "cannot read \(path): permission denied")
        }
    }

    /// How Herald's tables in a file compare with this version's migrations.
    enum SchemaState: Equatable {
        case current
        /// Older, but every missing migration leaves what reads see unchanged.
        case readCompatible
        case needsUpgrade([String])
        /// No Herald tables at all.
        case notHerald
    }

    static func schemaState(_ reader: any DatabaseReader, path: String) throws -> SchemaState {
        let migrator = Migrations.migrator
        do {
            return try reader.read { db in
                guard try db.tableExists("grdb_migrations") else { return .notHerald }
                if try migrator.hasBeenSuperseded(db) {
                    throw HeraldError(
                        .storeTooNew,
                        "\(path) was written by a newer Herald (it has schema changes this version does not know); upgrade Herald to open it"
                    )
                }
                let applied = try migrator.appliedIdentifiers(db)
                let missing = migrator.migrations.filter { !applied.contains($0) }
                if missing.isEmpty { return .current }
                let blocking = missing.filter { !Migrations.readCompatible.contains($0) }
                return blocking.isEmpty ? .readCompatible : .needsUpgrade(blocking)
            }
        } catch {
            throw storeError(error, path: path)
        }
    }

    /// A file with no tables at all (new, or zero bytes): creating a store in it is not adopting.
    static func isEmptyFile(_ reader: any DatabaseReader) -> Bool {
        (try? reader.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master") ?? 0 }) == 0
    }

    /// `herald_hash(seed, value)`: FNV-1a over the value's text, for seeded sampling of
    /// populations whose keys are not integers.
    public static let hashFunction = DatabaseFunction("herald_hash", argumentCount: 2, pure: true) { values in
        let seed = Int64.fromDatabaseValue(values[0]) ?? 0
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(bitPattern: seed)
        let text = String.fromDatabaseValue(values[1]) ?? ""
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return Int64(bitPattern: hash & 0x7FFF_FFFF_FFFF_FFFF)
    }

    init(writer: any DatabaseWriter, path: String, isReadOnly: Bool, adopted: Bool) {
        self.writer = writer
        self.path = path
        self.isReadOnly = isReadOnly
        self.adopted = adopted
        connectionPath = path
    }

    /// Translates SQLite failures on the file itself into messages a user can act on.
    public static func storeError(_ error: any Error, path: String) -> HeraldError {
        if let e = error as? HeraldError { return e }
        if let db = error as? DatabaseError {
            switch db.resultCode {
            case .SQLITE_NOTADB:
                return HeraldError(.storeUnreadable, "\(path) is not a SQLite database", cause: error)
            case .SQLITE_CORRUPT:
                return HeraldError(
                    .storeUnreadable,
                    "\(path) is corrupt (\(db.message ?? "database disk image is malformed")); restore it from a backup",
                    cause: error)
            case .SQLITE_CANTOPEN:
                return HeraldError(.storeUnreadable, "cannot open \(path): \(db.message ?? "unable to open")", cause: error)
            case .SQLITE_READONLY, .SQLITE_PERM:
                return HeraldError(.storeUnreadable, "\(path) is read-only; Herald needs to write to it for this command", cause: error)
            case .SQLITE_FULL:
                return HeraldError(.io, "\(path): the disk is full (\(db.message ?? "database or disk is full"))", cause: error)
            case .SQLITE_IOERR:
                return HeraldError(.io, "\(path): \(db.message ?? "disk I/O error")", cause: error)
            case .SQLITE_BUSY, .SQLITE_LOCKED:
                return HeraldError(.conflict, "\(path) is locked by another process; try again", cause: error)
            default:
                return HeraldError(.storeUnreadable, "\(path): \(db.message ?? "\(db.resultCode)")", cause: error)
            }
        }
        return HeraldError(.storeUnreadable, "\(path): \(error)", cause: error)
    }

    /// Applies Herald's missing migrations (``schemaState`` has refused newer stores already).
    @discardableResult
    func migrate() throws -> [String] {
        do {
            return try Migrations.apply(writer)
        } catch {
            throw Store.storeError(error, path: path)
        }
    }

    /// Runs `body` in a write transaction, mapping file-level SQLite errors to user messages.
    public func write<T>(_ body: (Database) throws -> T) throws -> T {
        guard !isReadOnly else {
            throw HeraldError(.internalFailure, "\(path) was opened only to look; this change needs a writable store")
        }
        do { return try writer.write(body) } catch { throw Store.storeError(error, path: path) }
    }

    /// Runs `body` in a read transaction, mapping file-level SQLite errors to user messages.
    public func read<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            // A read-only connection cannot write: GRDB's read, which also switches `query_only`
            // on and off around the body (two statements), is needed only on a writable one.
            if isReadOnly, let queue = writer as? DatabaseQueue { return try queue.readOnOpenedReadOnly(body) }
            return try writer.read(body)
        } catch {
            throw Store.storeError(error, path: path)
        }
    }

    /// The current UTC time as ISO-8601 text, as Herald stores timestamps.
    public static func timestamp(_ date: Date = Date()) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: date)
    }
}

extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}

extension DatabaseQueue {
    /// A read transaction on a connection opened read-only. GRDB's `read` also switches
    /// `query_only` on and off around the body, two more statements per read, which such a
    /// connection does not need: it cannot write.
    public func readOnOpenedReadOnly<T>(_ body: (Database) throws -> T) throws -> T {
        var result: T?
        try inDatabase { db in
            try db.inTransaction(.deferred) {
                result = try body(db)
                return .commit
            }
        }
        return result!
    }
}
