public import Foundation
public import GRDB
public import HeraldCore

/// The SQLite file behind everything: the user's tables and Herald's own (`herald_*`).
///
/// A `Sendable` facade over a `DatabasePool` (WAL, concurrent readers). Methods are named for
/// what they do and each runs in one transaction.
public struct Store: Sendable {
    public let writer: DatabasePool
    public let path: String
    let catalogCache = KeyedMemo<Catalog>()

    /// SQLite's 16-byte file header.
    static let sqliteHeader = Array("SQLite format 3\u{0}".utf8)

    /// Opens (or, with `create`, creates) a store and brings Herald's tables up to date.
    ///
    /// Refuses, with ``HeraldError`` and without touching the file, when it does not exist and
    /// `create` is false, is not a SQLite database, is corrupt, or was written by a newer Herald.
    public static func open(path: String, create: Bool = false) throws -> Store {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        let exists = fm.fileExists(atPath: path, isDirectory: &isDirectory)
        if isDirectory.boolValue {
            throw HeraldError(.invalidInput, "\(path) is a directory; give the path of a store file")
        }
        if !exists && !create {
            throw HeraldError(
                .notFound, "no store at \(path); create one with 'herald demo --out \(path)' or import data into it"
            )
        }
        if exists {
            guard let handle = FileHandle(forReadingAtPath: path) else {
                throw HeraldError(.storeUnreadable, "cannot read \(path): permission denied")
            }
            let header = (try? handle.read(upToCount: 16)) ?? Data()
            try? handle.close()
            if !header.isEmpty && Array(header) != sqliteHeader {
                throw HeraldError(.storeUnreadable, "\(path) is not a SQLite database (its first bytes are not a SQLite header)")
            }
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.foreignKeysEnabled = true
        configuration.label = "herald"
        configuration.prepareDatabase { db in db.add(function: Store.hashFunction) }
        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw storeError(error, path: path)
        }
        let store = Store(writer: pool, path: path)
        try store.migrate()
        return store
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

    init(writer: DatabasePool, path: String) {
        self.writer = writer
        self.path = path
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
                return HeraldError(.storeUnreadable, "\(path) is read-only; Herald needs to write to it", cause: error)
            case .SQLITE_BUSY, .SQLITE_LOCKED:
                return HeraldError(.conflict, "\(path) is locked by another process; try again", cause: error)
            default:
                return HeraldError(.storeUnreadable, "\(path): \(db.message ?? "\(db.resultCode)")", cause: error)
            }
        }
        return HeraldError(.storeUnreadable, "\(path): \(error)", cause: error)
    }

    /// Applies Herald's migrations; refuses stores written by a newer Herald.
    func migrate() throws {
        let migrator = Migrations.migrator
        do {
            let superseded = try writer.read { db in try migrator.hasBeenSuperseded(db) }
            if superseded {
                throw HeraldError(
                    .storeTooNew,
                    "\(path) was written by a newer Herald (it has schema changes this version does not know); upgrade Herald to open it"
                )
            }
            try migrator.migrate(writer)
        } catch {
            throw Store.storeError(error, path: path)
        }
    }

    /// Runs `body` in a write transaction, mapping file-level SQLite errors to user messages.
    public func write<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try writer.write(body) } catch { throw Store.storeError(error, path: path) }
    }

    /// Runs `body` in a read transaction, mapping file-level SQLite errors to user messages.
    public func read<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try writer.read(body) } catch { throw Store.storeError(error, path: path) }
    }

    /// The current UTC time as ISO-8601 text, as Herald stores timestamps.
    public static func timestamp(_ date: Date = Date()) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: date)
    }
}
