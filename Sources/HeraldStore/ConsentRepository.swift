public import Foundation
public import GRDB
import GRDBSQLite
public import HeraldCore

/// A profile's consent for one channel.
public enum ConsentStatus: String, Sendable, CaseIterable {
    case optedIn = "opted_in"
    case optedOut = "opted_out"
    case unknown
}

/// One consent record: what the profile said for a channel, where it came from and when.
public struct ConsentRecord: Sendable, Equatable {
    public var profileKey: String
    public var channel: Channel
    public var status: ConsentStatus
    public var source: String
    public var updatedAt: String
}

/// An address no message goes to on a channel.
public struct Suppression: Sendable, Equatable {
    public var channel: Channel
    public var address: String
    public var reason: String
    public var createdAt: String
}

/// The address check in SQL, for the gates.
extension Addresses {
    /// Adds `herald_valid_address(channel, address)` to a connection: 1 when ``isValid(_:channel:)``
    /// says so, the gates' validity check in SQL. A C function over the value's bytes: one call
    /// per recipient, with no Swift string made for it.
    public static func addValidityFunction(to db: Database) throws {
        let code = sqlite3_create_function_v2(
            db.sqliteConnection, "herald_valid_address", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nil, validityCallback, nil, nil, nil)
        guard code == SQLITE_OK else {
            throw HeraldError(.internalFailure, "cannot add the address check to the connection (SQLite error \(code))")
        }
    }

    private static let validityCallback: @convention(c) (OpaquePointer?, Int32, UnsafeMutablePointer<OpaquePointer?>?) -> Void = {
        context, count, values in
        func bytes(_ value: OpaquePointer?) -> UnsafeBufferPointer<UInt8>? {
            guard sqlite3_value_type(value) != SQLITE_NULL, let text = sqlite3_value_text(value) else { return nil }
            return UnsafeBufferPointer(start: text, count: Int(sqlite3_value_bytes(value)))
        }
        guard count == 2, let values, let name = bytes(values[0]), let address = bytes(values[1]),
            let channel = Channel.allCases.first(where: { name.elementsEqual($0.rawValue.utf8) })
        else {
            sqlite3_result_int(context, 0)
            return
        }
        sqlite3_result_int(context, isValid(bytes: address, channel: channel) ? 1 : 0)
    }
}

extension Store {
    /// The key as the profile table stores it (a whole number for an integer key), refusing a
    /// key no profile has.
    public func existingProfileKey(_ key: String, field: String) throws -> any DatabaseValueConvertible {
        let value = try profileKeyValue(key, field: field)
        let catalog = try catalog()
        guard let profile = catalog.profileEntity.flatMap(catalog.entity) else { return value }
        let found = try read { db in
            try Bool.fetchOne(
                db,
                sql:
                    "SELECT EXISTS (SELECT 1 FROM \(profile.name.quotedDatabaseIdentifier) WHERE \(profile.primaryKey.quotedDatabaseIdentifier) = ?)",
                arguments: [value]) ?? false
        }
        guard found else { throw HeraldError(.notFound, "\(field): no \(profile.name) row with key \(key)") }
        return value
    }

    /// The key as the profile table stores it: a whole number for an integer key.
    func profileKeyValue(_ key: String, field: String) throws -> any DatabaseValueConvertible {
        let catalog = try catalog()
        guard let name = catalog.profileEntity, let profile = catalog.entity(name) else {
            throw HeraldError(.invalidInput, "the catalog names no profile entity (herald catalog profile ENTITY)")
        }
        if profile.keyType == .integer {
            guard let n = Int64(key.trimmingCharacters(in: .whitespaces)) else {
                throw HeraldError(.invalidInput, "\(field): \(name) keys are whole numbers, found '\(key)'")
            }
            return n
        }
        return key
    }

    /// Records a profile's consent for a channel, with its source.
    public func setConsent(profileKey: String, channel: Channel, status: ConsentStatus, source: String, at: Date = Date()) throws {
        let key = try existingProfileKey(profileKey, field: "profile")
        try write { db in _ = try Self.setConsent(db, key: key, channel: channel, status: status, source: source, at: at, keepSame: false) }
    }

    /// A profile's consent records, one per channel that has one.
    public func consent(profileKey: String) throws -> [ConsentRecord] {
        let key = try existingProfileKey(profileKey, field: "profile")
        return try read { db in
            try Row.fetchAll(
                db, sql: "SELECT channel, status, source, updated_at FROM herald_consent WHERE profile_key = ? ORDER BY channel",
                arguments: [key]
            ).compactMap { row in
                guard let channel = Channel(rawValue: row["channel"]), let status = ConsentStatus(rawValue: row["status"]) else {
                    return nil
                }
                return ConsentRecord(
                    profileKey: profileKey, channel: channel, status: status, source: row["source"], updatedAt: row["updated_at"])
            }
        }
    }

    /// Imports consent from CSV with the columns `profile`, `channel`, `status` and optionally
    /// `source` and `updated_at`, all or nothing: a bad row, or a profile that does not exist,
    /// refuses the file, naming its line. A row older than the record it would replace changes
    /// nothing.
    /// - Returns: how many records were written.
    public func importConsent(csv bytes: [UInt8], source defaultSource: String) throws -> Int {
        let rows = try Self.csvRows(bytes, required: ["profile", "channel", "status"], optional: ["source", "updated_at"])
        var records: [(any DatabaseValueConvertible, String, String, String, String)] = []
        for row in rows {
            let at = "line \(row.line)"
            guard let channel = Channel(named: row["channel"] ?? "") else {
                throw HeraldError(
                    .invalidInput,
                    "\(at): channel: expected \(Channel.allCases.map(\.commandName).joined(separator: ", ")), found '\(row["channel"] ?? "")'"
                )
            }
            guard let status = ConsentStatus(rawValue: row["status"] ?? "") else {
                throw HeraldError(.invalidInput, "\(at): status: expected opted_in, opted_out or unknown, found '\(row["status"] ?? "")'")
            }
            let key = try profileKeyValue(row["profile"] ?? "", field: "\(at): profile")
            let updated = row["updated_at"].flatMap { $0.isEmpty ? nil : $0 } ?? Store.timestamp()
            guard TemporalText.utcSeconds(canonical: updated) != nil else {
                throw HeraldError(.invalidInput, "\(at): updated_at: expected a UTC time such as 2026-12-01T09:00:00Z, found '\(updated)'")
            }
            let source = row["source"].flatMap { $0.isEmpty ? nil : $0 } ?? defaultSource
            records.append((key, channel.rawValue, status.rawValue, source, updated))
        }
        let catalog = try catalog()
        let profile = catalog.profileEntity.flatMap(catalog.entity)
        return try write { db in
            // Every profile must exist, as for 'consent set': a key with no profile is a typo or
            // a file for another store, and would never apply to anyone.
            if let profile {
                let exists = try db.makeStatement(
                    sql:
                        "SELECT EXISTS (SELECT 1 FROM \(profile.name.quotedDatabaseIdentifier) WHERE \(profile.primaryKey.quotedDatabaseIdentifier) = ?)"
                )
                for (row, r) in zip(rows, records) where try Bool.fetchOne(exists, arguments: [r.0]) != true {
                    throw HeraldError(.notFound, "line \(row.line): profile: no \(profile.name) row with key \(row["profile"] ?? "")")
                }
            }
            // The newest record wins: an export older than what is recorded changes nothing.
            let statement = try db.makeStatement(
                sql: """
                    INSERT INTO herald_consent (profile_key, channel, status, source, updated_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (profile_key, channel) DO UPDATE SET status = excluded.status, source = excluded.source,
                      updated_at = excluded.updated_at
                    WHERE excluded.updated_at >= herald_consent.updated_at
                    """)
            var written = 0
            for r in records {
                try statement.execute(arguments: [r.0, r.1, r.2, r.3, r.4])
                written += db.changesCount
            }
            return written
        }
    }

    /// Adds addresses to a channel's suppression list (normalised as the gates compare them).
    /// - Returns: how many were new.
    @discardableResult
    public func addSuppressions(_ addresses: [String], channel: Channel, reason: String, at: Date = Date()) throws -> Int {
        let normalised = addresses.map { Addresses.normalised($0, channel: channel) }
        if let empty = normalised.firstIndex(where: \.isEmpty) {
            throw HeraldError(.invalidInput, "address \(empty + 1): is empty")
        }
        for (i, address) in normalised.enumerated() {
            if let problem = Addresses.problem(address, channel: channel) {
                throw HeraldError(.invalidInput, "address \(i + 1): \(problem)")
            }
        }
        return try write { db in
            var added = 0
            for address in normalised {
                try db.execute(
                    sql: "INSERT OR IGNORE INTO herald_suppressions (channel, address, reason, created_at) VALUES (?, ?, ?, ?)",
                    arguments: [channel.rawValue, address, reason, Store.timestamp(at)])
                added += db.changesCount
            }
            return added
        }
    }

    /// Removes an address from a channel's suppression list.
    /// - Returns: whether it was there.
    public func removeSuppression(_ address: String, channel: Channel) throws -> Bool {
        try write { db in
            try db.execute(
                sql: "DELETE FROM herald_suppressions WHERE channel = ? AND address = ?",
                arguments: [channel.rawValue, Addresses.normalised(address, channel: channel)])
            return db.changesCount > 0
        }
    }

    public func suppressions(channel: Channel?, limit: Int = 10_000) throws -> [Suppression] {
        try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT channel, address, reason, created_at FROM herald_suppressions
                    WHERE ? IS NULL OR channel = ? ORDER BY channel, address LIMIT ?
                    """, arguments: [channel?.rawValue, channel?.rawValue, limit]
            ).compactMap { row in
                guard let channel = Channel(rawValue: row["channel"]) else { return nil }
                return Suppression(channel: channel, address: row["address"], reason: row["reason"], createdAt: row["created_at"])
            }
        }
    }

    /// CSV rows by header name, with their line numbers; refuses missing or unknown columns.
    static func csvRows(_ bytes: [UInt8], required: [String], optional: [String]) throws -> [CSVRow] {
        try bytes.withUnsafeBufferPointer { buffer in
            var reader = CSVReader(bytes: buffer)
            var header: [String] = []
            var rows: [CSVRow] = []
            do {
                while let (line, fields) = try reader.next() {
                    if header.isEmpty {
                        header = fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
                        for column in required where !header.contains(column) {
                            throw HeraldError(
                                .invalidInput,
                                "line 1: the header has no '\(column)' column (expected \((required + optional).joined(separator: ", ")))")
                        }
                        for column in header where !(required + optional).contains(column) {
                            throw HeraldError(
                                .invalidInput,
                                "line 1: unknown column '\(column)' (expected \((required + optional).joined(separator: ", ")))")
                        }
                        continue
                    }
                    if fields.count == 1 && fields[0].isEmpty { continue }
                    guard fields.count == header.count else {
                        throw HeraldError(.invalidInput, "line \(line): expected \(header.count) fields, found \(fields.count)")
                    }
                    rows.append(CSVRow(line: line, values: Dictionary(zip(header, fields), uniquingKeysWith: { a, _ in a })))
                }
            } catch let error as CSVReader.SyntaxError {
                throw HeraldError(.invalidInput, "line \(error.line), column \(error.column): \(error.message)")
            }
            if header.isEmpty { throw HeraldError(.invalidInput, "the file is empty (expected a header line)") }
            return rows
        }
    }

    struct CSVRow {
        var line: Int
        var values: [String: String]
        subscript(_ column: String) -> String? { values[column] }
    }
}

/// What an opt-out or opt-in from outside the interface changed.
public struct ConsentChange: Sendable, Equatable {
    /// Profiles whose consent changed (those already in the requested state are not counted).
    public var profiles: Int
    /// Whether the address's suppression was added or removed.
    public var suppression: Bool

    public var changed: Bool { profiles > 0 || suppression }
}

extension Store {
    /// Records that a profile opted out of a channel, unless it already has: an earlier opt-out
    /// keeps its own source and time. A profile that no longer exists (or a key no profile can
    /// have, such as a proof's) changes nothing.
    /// - Returns: whether a record was made.
    public func recordOptOut(profileKey: String, channel: Channel, source: String, at: Date = Date()) throws -> Bool {
        let key: any DatabaseValueConvertible
        do { key = try existingProfileKey(profileKey, field: "profile") } catch let error as HeraldError
            where error.code == .notFound || error.code == .invalidInput
        {
            return false
        }
        return try write { db in
            try Self.setConsent(db, key: key, channel: channel, status: .optedOut, source: source, at: at)
        }
    }

    /// Applies an opt-out or opt-in that arrived from an address (an SMS keyword from a phone
    /// number): every profile whose channel column holds the address gets the consent with
    /// `source`, unless it already has it. An opt-out also suppresses the address with
    /// `suppressionReason` (so it holds for a number no profile has yet); an opt-in lifts only a
    /// suppression with that reason, never one made for another.
    public func applyAddressConsent(
        _ status: ConsentStatus, address: String, channel: Channel, source: String, suppressionReason: String, at: Date = Date()
    ) throws -> ConsentChange {
        let normalised = Addresses.normalised(address, channel: channel)
        if let problem = Addresses.problem(normalised, channel: channel) { throw HeraldError(.invalidInput, "address: \(problem)") }
        let catalog = try catalog()
        let column: String? =
            switch channel {
            case .email: catalog.profileChannels.email
            case .sms: catalog.profileChannels.phone
            case .push: catalog.profileChannels.pushToken
            case .directMail: nil
            }
        let profile = catalog.profileEntity.flatMap(catalog.entity)
        return try write { db in
            var change = ConsentChange(profiles: 0, suppression: false)
            if let profile, let column {
                // Stored addresses may be written another way (`+33 6 12…`, `0033 6…`): the
                // candidates end with the same digits, and are compared once normalised.
                let tail = String(normalised.filter(\.isNumber).suffix(6))
                let stripped = ["' '", "'-'", "'.'", "'('", "')'"].reduce("\(column.quotedDatabaseIdentifier)") {
                    "replace(\($0), \($1), '')"
                }
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT \(profile.primaryKey.quotedDatabaseIdentifier) AS key, \(column.quotedDatabaseIdentifier) AS address
                        FROM \(profile.name.quotedDatabaseIdentifier)
                        WHERE \(channel == .sms ? "\(stripped) LIKE '%' || ?" : "\(column.quotedDatabaseIdentifier) = ?")
                        """, arguments: [channel == .sms ? tail : address])
                for row in rows {
                    guard let stored = row["address"] as String?, Addresses.normalised(stored, channel: channel) == normalised else {
                        continue
                    }
                    let key: DatabaseValue = row["key"]
                    if try Self.setConsent(db, key: key, channel: channel, status: status, source: source, at: at) { change.profiles += 1 }
                }
            }
            if status == .optedOut {
                try db.execute(
                    sql: "INSERT OR IGNORE INTO herald_suppressions (channel, address, reason, created_at) VALUES (?, ?, ?, ?)",
                    arguments: [channel.rawValue, normalised, suppressionReason, Store.timestamp(at)])
            } else {
                try db.execute(
                    sql: "DELETE FROM herald_suppressions WHERE channel = ? AND address = ? AND reason = ?",
                    arguments: [channel.rawValue, normalised, suppressionReason])
            }
            change.suppression = db.changesCount > 0
            return change
        }
    }

    /// Sets a consent record; with `keepSame`, a record that already holds `status` keeps its
    /// own source and time. - Returns: whether a row was written.
    static func setConsent(
        _ db: Database, key: any DatabaseValueConvertible, channel: Channel, status: ConsentStatus, source: String, at: Date,
        keepSame: Bool = true
    ) throws -> Bool {
        try db.execute(
            sql: """
                INSERT INTO herald_consent (profile_key, channel, status, source, updated_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (profile_key, channel) DO UPDATE SET status = excluded.status, source = excluded.source,
                  updated_at = excluded.updated_at
                \(keepSame ? "WHERE herald_consent.status <> excluded.status" : "")
                """, arguments: [key, channel.rawValue, status.rawValue, source, Store.timestamp(at)])
        return db.changesCount > 0
    }
}
