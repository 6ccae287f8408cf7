public import Foundation
import GRDB
public import HeraldCore

/// Settings kept in the store itself (`herald_meta`), so every process and command sees them.
extension Store {
    static let timeZoneKey = "time_zone"
    static let temporalFormPrefix = "temporal_form:"

    /// The time zone date-times without an offset are read in (imports, rule literals): UTC
    /// unless set. An unknown stored zone fails rather than guess.
    public func defaultTimeZone() throws -> TimeZone {
        try read { db in try Self.defaultTimeZone(db) }
    }

    static func defaultTimeZone(_ db: Database) throws -> TimeZone {
        guard let name = try String.fetchOne(db, sql: "SELECT value FROM herald_meta WHERE key = ?", arguments: [timeZoneKey]) else {
            return TimeZone(identifier: "UTC")!
        }
        guard let zone = TimeZone(identifier: name) else {
            throw HeraldError(
                .invalidInput, "the store's time zone '\(name)' is not an IANA time zone; set another with 'herald catalog time-zone ZONE'")
        }
        return zone
    }

    /// The store's delivery origin: a random id made at its first live delivery and kept in the
    /// store, which every message's key at a provider carries (`ORIGIN-ID`), so that two stores
    /// whose message ids overlap never look like each other's retries to a gateway. A copy of a
    /// store made after it delivered shares it.
    public func deliveryOrigin() throws -> String {
        let key = Self.deliveryOriginKey
        if let origin = try read({ db in try String.fetchOne(db, sql: "SELECT value FROM herald_meta WHERE key = ?", arguments: [key]) }) {
            return origin
        }
        let made = String(UUID().uuidString.lowercased().filter { $0 != "-" }.prefix(12))
        return try write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO herald_meta (key, value) VALUES (?, ?)", arguments: [key, made])
            return try String.fetchOne(db, sql: "SELECT value FROM herald_meta WHERE key = ?", arguments: [key]) ?? made
        }
    }

    static let deliveryOriginKey = "delivery_origin"

    /// Sets the store's default time zone (an IANA name such as Europe/Paris).
    public func setDefaultTimeZone(_ name: String) throws {
        guard TimeZone(identifier: name) != nil else {
            throw HeraldError(.invalidInput, "time zone: '\(name)' is not an IANA time zone (for example Europe/Paris or UTC)")
        }
        try write { db in
            try db.execute(
                sql: "INSERT INTO herald_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                arguments: [Self.timeZoneKey, name])
        }
    }

    /// Records that every value of these date and date-time columns is in Herald's canonical
    /// form (Herald wrote them), so rules on them need not scan the column to be sure.
    static func markTemporalCanonical(_ db: Database, table: String, columns: [String]) throws {
        for column in columns {
            try db.execute(
                sql: "INSERT INTO herald_meta (key, value) VALUES (?, 'canonical') ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                arguments: [temporalFormPrefix + table + "." + column])
        }
    }

    /// Records every date and date-time column of the catalog as holding canonical values, for
    /// a writer that produced all of them itself (the demo generator).
    public func recordTemporalColumnsCanonical() throws {
        let catalog = try catalog()
        try write { db in
            for entity in catalog.entities {
                let temporal = entity.attributes.filter { $0.type == .date || $0.type == .datetime }.map(\.name)
                try Self.markTemporalCanonical(db, table: entity.name, columns: temporal)
            }
        }
    }

    /// `table.column` of the date and date-time columns known to hold canonical values only.
    public func canonicalTemporalColumns() throws -> Set<String> {
        try read { db in
            Set(
                try String.fetchAll(
                    db, sql: "SELECT substr(key, ?) FROM herald_meta WHERE key LIKE ? AND value = 'canonical'",
                    arguments: [Self.temporalFormPrefix.count + 1, Self.temporalFormPrefix + "%"]))
        }
    }
}
