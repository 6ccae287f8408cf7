public import Foundation
public import GRDB
public import HeraldCore

/// A settable column of the profile entity.
public enum ProfileChannelField: String, CaseIterable, Sendable {
    case email, phone, pushToken, postalAddress, timeZone, locale
    /// Not a column: the channels that need an explicit opt-in, comma-separated.
    case optIn
}

extension Store {
    /// The catalog: discovered from the schema, then refined by the user's overrides.
    ///
    /// Memoised: rediscovered only when the schema or the overrides change (one small query to know).
    public func catalog() throws -> Catalog {
        try read { db in
            let key = try String.fetchOne(db.cachedStatement(sql: "SELECT \(Self.catalogKey)")) ?? ""
            if let cached = catalogCache.get(key) { return cached }
            let catalog = try CatalogDiscovery.catalog(db)
            catalogCache.set(key, catalog)
            return catalog
        }
    }

    /// An SQL expression that changes whenever the schema or the catalog overrides change.
    static let catalogKey = """
        (SELECT schema_version FROM pragma_schema_version) || '|' ||
          coalesce((SELECT group_concat(entity || char(31) || kind || char(31) || name || char(31) || value, char(30))
                    FROM herald_catalog_overrides), '')
        """

    /// Changes whenever anything a rule compiles against changes: the schema, the catalog
    /// overrides, a saved audience's definition (not its members), the store's settings, or
    /// data committed by this or another connection (which may put a date-time column out of form).
    public func definitionsSignature() throws -> String {
        try read { db in try Self.definitionsSignature(db) }
    }

    /// The store's default time zone (nil when its name is not a zone: `defaultTimeZone()`
    /// says why) and `definitionsSignature()`, read in one transaction (a count asks for both).
    public func timeZoneAndSignature() throws -> (timeZone: TimeZone?, signature: String) {
        try read { db in (try? Self.defaultTimeZone(db), try Self.definitionsSignature(db)) }
    }

    static func definitionsSignature(_ db: Database) throws -> String {
        // Cached: preparing this statement costs more than running it.
        try String.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT \(Self.catalogKey) || char(29) ||
                      coalesce((SELECT group_concat(id || char(31) || name || char(31) || entity || char(31) || kind || char(31) || rule, char(30))
                                FROM (SELECT * FROM herald_audiences ORDER BY id)), '') || char(29) ||
                      coalesce((SELECT group_concat(key || char(31) || value, char(30)) FROM herald_meta), '') || char(29) ||
                      (SELECT data_version FROM pragma_data_version) || '.' || total_changes()
                    """)) ?? ""
    }

    /// Sets (or, with nil, clears) the display label of an entity or one of its attributes.
    public func setLabel(entity: String, attribute: String?, label: String?) throws {
        try write { db in
            let catalog = try CatalogDiscovery.catalog(db)
            let e = try catalog.requireEntity(entity)
            if let attribute { _ = try CatalogDiscovery.requireColumn(attribute, in: e) }
            let kind = attribute == nil ? "entity_label" : "label"
            try CatalogDiscovery.setOverride(db, entity: entity, kind: kind, name: attribute ?? "", value: label)
        }
    }

    /// Hides an attribute from rules, samples and the TUI (it stays in the table).
    /// Refused, naming them, when saved audiences or campaigns use the attribute.
    public func setHidden(entity: String, attribute: String, hidden: Bool) throws {
        try write { db in
            let e = try CatalogDiscovery.catalog(db).requireEntity(entity)
            _ = try CatalogDiscovery.requireColumn(attribute, in: e)
            if attribute == e.primaryKey && hidden {
                throw HeraldError(.invalidInput, "attribute: '\(attribute)' is the key of '\(entity)' and cannot be hidden")
            }
            _ = try Self.keepingDependentsValid(db, change: "hiding \(entity).\(attribute)") {
                try CatalogDiscovery.setOverride(db, entity: entity, kind: "hidden", name: attribute, value: hidden ? "1" : nil)
            }
        }
    }

    /// Renames a link (discovered or declared) on one entity. Saved audiences and campaigns that
    /// follow the link would break: the rename is refused naming them, or with
    /// `updateDependents` each is rewritten (a campaign gets a new version).
    /// - Returns: what was rewritten, one line each.
    @discardableResult
    public func renameLink(entity: String, link: String, to newName: String, updateDependents: Bool = false) throws -> [String] {
        try write { db in
            let catalog = try CatalogDiscovery.catalog(db)
            let e = try catalog.requireEntity(entity)
            guard e.link(link) != nil else {
                throw HeraldError(
                    .notFound,
                    "link: '\(entity)' has no link '\(link)'\(Names.suggestion(for: link, in: e.links.map(\.name)))")
            }
            try CatalogDiscovery.checkIdentifier(newName, field: "new name")
            if newName != link && (e.link(newName) != nil || e.attribute(newName) != nil) {
                throw HeraldError(.conflict, "new name: '\(entity)' already has an attribute or link called '\(newName)'")
            }
            // Overrides are keyed by the discovered name, so renaming twice keeps one row.
            let original =
                try String.fetchOne(
                    db, sql: "SELECT name FROM herald_catalog_overrides WHERE entity = ? AND kind = 'link_name' AND value = ?",
                    arguments: [entity, link]) ?? link
            let rename = LinkRename(entity: entity, oldName: link, newName: newName, catalog: catalog)
            return try Self.keepingDependentsValid(
                db, change: "renaming \(entity).\(link)", rewrite: updateDependents ? rename : nil, canRewrite: true
            ) {
                try CatalogDiscovery.setOverride(db, entity: entity, kind: "link_name", name: original, value: newName)
            }
        }
    }

    /// Declares that `entity.column` references `target.targetColumn` (as a foreign key would):
    /// adds the N-1 (or 1-1) link and its reverse.
    public func declareReference(entity: String, column: String, target: String, targetColumn: String?) throws {
        try write { db in
            try CatalogDiscovery.declareReference(db, entity: entity, column: column, target: target, targetColumn: targetColumn)
        }
    }

    /// Removes a reference declared with ``declareReference(entity:column:target:targetColumn:)``.
    /// Refused, naming them, when saved audiences or campaigns follow its links.
    public func removeReference(entity: String, column: String) throws {
        try write { db in
            _ = try Self.keepingDependentsValid(db, change: "removing the reference \(entity).\(column)") {
                try db.execute(
                    sql: "DELETE FROM herald_catalog_overrides WHERE entity = ? AND kind = 'ref' AND name = ?", arguments: [entity, column])
                if db.changesCount == 0 {
                    throw HeraldError(.notFound, "no declared reference on \(entity).\(column) (discovered foreign keys cannot be removed)")
                }
            }
        }
    }

    /// Names the profile entity and, optionally, its channel columns.
    public func setProfile(entity: String, columns: [ProfileChannelField: String?]) throws {
        try write { db in
            let e = try CatalogDiscovery.catalog(db).requireEntity(entity)
            if case .some(.some(let list)) = columns[.optIn] {
                for part in list.split(separator: ",") where Channel(rawValue: String(part)) == nil {
                    throw HeraldError(
                        .invalidInput,
                        "optIn: expected channels among \(Channel.allCases.map(\.rawValue).joined(separator: ", ")), found '\(part)'")
                }
            }
            for (field, column) in columns where field != .optIn {
                if let column {
                    for part in column.split(separator: ",") {
                        _ = try CatalogDiscovery.requireColumn(String(part), in: e, field: field.rawValue)
                    }
                }
            }
            _ = try Self.keepingDependentsValid(db, change: "changing the profile") {
                try CatalogDiscovery.setOverride(db, entity: "*", kind: "profile", name: "", value: entity)
                for (field, column) in columns {
                    try CatalogDiscovery.setOverride(db, entity: "*", kind: "channel", name: field.rawValue, value: column ?? "")
                }
            }
        }
    }

    /// Runs a catalog `change` inside the caller's transaction, then checks every saved audience
    /// and every campaign's current version against the new catalog: whatever was valid before
    /// and is not after makes the change fail (the transaction rolls back) with a message naming
    /// each. With `rewrite`, dependents are first rewritten to follow the renamed link.
    /// - Returns: one line per rewritten audience or campaign.
    static func keepingDependentsValid(
        _ db: Database, change: String, rewrite: LinkRename? = nil, canRewrite: Bool = false, _ apply: () throws -> Void
    ) throws -> [String] {
        let before = try CatalogDiscovery.catalog(db)
        var audiences = try Row.fetchAll(db, sql: "SELECT * FROM herald_audiences ORDER BY name").map(SavedAudience.init)
        var campaigns = try Int64.fetchAll(db, sql: "SELECT id FROM herald_campaigns ORDER BY name").map {
            try loadCampaign(db, reference: .id($0)).campaign
        }
        func problems(_ catalog: Catalog) -> (audiences: [String: String], campaigns: [String: [String]]) {
            let checker = audienceChecker(catalog: catalog, audiences: audiences)
            let validator = CampaignValidator(checker: checker)
            return (
                checker.brokenAudiences,
                Dictionary(campaigns.map { ($0.name, validator.validate($0).map(\.description)) }, uniquingKeysWith: { a, _ in a })
            )
        }
        let earlier = problems(before)
        try apply()
        var updated: [String] = []
        if let rewrite {
            let entities = Dictionary(audiences.map { ($0.name, $0.entity) }, uniquingKeysWith: { a, _ in a })
            for i in audiences.indices {
                guard let rule = try? Rule(parsing: audiences[i].rule) else { continue }
                let renamed = rewrite.rename(rule, on: audiences[i].entity).text
                guard renamed != audiences[i].rule else { continue }
                audiences[i].rule = renamed
                try db.execute(sql: "UPDATE herald_audiences SET rule = ? WHERE id = ?", arguments: [renamed, audiences[i].id])
                updated.append("audience '\(audiences[i].name)': \(renamed)")
            }
            for i in campaigns.indices {
                guard let renamed = rewrite.rename(campaigns[i], audiences: entities) else { continue }
                campaigns[i] = renamed
                let stored = try saveCampaign(db, renamed, replace: true)
                updated.append("campaign '\(renamed.name)': saved as version \(stored.version)")
            }
        }
        let later = problems(try CatalogDiscovery.catalog(db))
        var broken: [String] = []
        for audience in audiences {
            let key = audience.name.lowercased()
            if let problem = later.audiences[key], earlier.audiences[key] == nil {
                broken.append("audience '\(audience.name)': \(problem)")
            }
        }
        for campaign in campaigns {
            let known = Set(earlier.campaigns[campaign.name] ?? [])
            for problem in later.campaigns[campaign.name] ?? [] where !known.contains(problem) {
                broken.append("campaign '\(campaign.name)', \(problem)")
            }
        }
        guard broken.isEmpty else {
            let hint =
                canRewrite && rewrite == nil
                ? "add --update-dependents to rewrite them, or change them first" : "change or delete them first"
            throw HeraldError(
                .conflict,
                "\(change) would break saved audiences or campaigns; nothing was changed (\(hint)):\n"
                    + broken.map { "  - \($0)" }.joined(separator: "\n"))
        }
        return updated
    }
}

/// One index of a user table, with its columns in order.
public struct IndexInfo: Sendable, Equatable {
    public var name: String
    public var table: String
    public var columns: [String]
}

extension Store {
    /// Every index of every table, columns in order (one statement over SQLite's schema).
    public func indexes() throws -> [IndexInfo] {
        try read { db in try Self.indexes(db) }
    }

    public static func indexes(_ db: Database) throws -> [IndexInfo] {
        var out: [IndexInfo] = []
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT l.name AS name, m.name AS t, i.name AS c FROM sqlite_master m
                JOIN pragma_index_list(m.name) l JOIN pragma_index_info(l.name) i
                WHERE m.type = 'table' ORDER BY l.name, i.seqno
                """)
        {
            let name: String = row["name"]
            let column: String = row["c"] ?? ""
            if out.last?.name == name {
                out[out.count - 1].columns.append(column)
            } else {
                out.append(IndexInfo(name: name, table: row["t"], columns: [column]))
            }
        }
        return out
    }
}

/// Reads SQLite's schema and Herald's overrides into a ``Catalog``.
public enum CatalogDiscovery {
    struct Reference {
        var table: String
        var column: String
        var target: String
        var targetColumn: String
        var unique: Bool
        var declared: Bool
    }

    public static func userTables(_ db: Database) throws -> [String] {
        try String.fetchAll(
            db,
            sql: """
                SELECT name FROM sqlite_master
                WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE 'herald\\_%' ESCAPE '\\' AND name <> 'grdb_migrations'
                ORDER BY name
                """)
    }

    public static func catalog(_ db: Database) throws -> Catalog {
        let tables = try userTables(db)
        var overrides: [String: [String: [String: String]]] = [:]  // entity → kind → name → value
        for row in try Row.fetchAll(db, sql: "SELECT entity, kind, name, value FROM herald_catalog_overrides") {
            overrides[row["entity"], default: [:]][row["kind"], default: [:]][row["name"]] = row["value"]
        }
        var entities: [Entity] = []
        var references: [Reference] = []
        for table in tables {
            let columns = try Row.fetchAll(db, sql: "PRAGMA table_info(\(table.quotedDatabaseIdentifier))")
            let pkColumns = columns.filter { ($0["pk"] as Int) > 0 }
            var key = "rowid"
            var keyType = AttributeType.integer
            if pkColumns.count == 1 {
                key = pkColumns[0]["name"]
                keyType = AttributeType.fromDeclared(pkColumns[0]["type"] ?? "")
            } else if pkColumns.count > 1 {
                continue  // composite keys cannot be addressed as one population key
            }
            let o = overrides[table] ?? [:]
            let attributes = columns.map { c -> Attribute in
                let name: String = c["name"]
                return Attribute(
                    name: name, label: o["label"]?[name], type: AttributeType.fromDeclared(c["type"] ?? ""),
                    hidden: o["hidden"]?[name] == "1")
            }
            entities.append(
                Entity(name: table, label: o["entity_label"]?[""], primaryKey: key, keyType: keyType, attributes: attributes))
            let uniqueColumns = try uniqueSingleColumns(db, table: table).union(pkColumns.map { $0["name"] as String })
            for fk in try Row.fetchAll(db, sql: "PRAGMA foreign_key_list(\(table.quotedDatabaseIdentifier))") {
                let from: String = fk["from"]
                let target: String = fk["table"]
                let to: String? = fk["to"]
                references.append(
                    Reference(
                        table: table, column: from, target: target, targetColumn: to ?? "", unique: uniqueColumns.contains(from),
                        declared: false))
            }
            for (column, targetSpec) in o["ref"] ?? [:] {
                let parts = targetSpec.split(separator: ".", maxSplits: 1).map(String.init)
                references.append(
                    Reference(
                        table: table, column: column, target: parts[0], targetColumn: parts.count > 1 ? parts[1] : "",
                        unique: uniqueColumns.contains(column), declared: true))
            }
        }
        var byName = Dictionary(uniqueKeysWithValues: entities.enumerated().map { ($1.name, $0) })
        // Links from references, in a stable order, with collision-free names.
        for ref in references.sorted(by: { ($0.table, $0.column) < ($1.table, $1.column) }) {
            guard let si = byName[ref.table], let ti = byName[ref.target] else { continue }
            let targetColumn = ref.targetColumn.isEmpty ? entities[ti].primaryKey : ref.targetColumn
            let forwardBase = ref.column.lowercased().hasSuffix("_id") ? String(ref.column.dropLast(3)) : ref.column + "_ref"
            let forward = uniqueName(forwardBase, in: entities[si])
            entities[si].links.append(
                Link(
                    name: forward, target: ref.target, sourceColumn: ref.column, targetColumn: targetColumn,
                    cardinality: ref.unique ? .oneToOne : .manyToOne, discovered: !ref.declared))
            let taken = entities[ti].links.contains { $0.name == ref.table } || entities[ti].attribute(ref.table) != nil
            let reverseBase = taken ? "\(ref.table)_by_\(forwardBase)" : ref.table
            let reverse = uniqueName(reverseBase, in: entities[ti])
            entities[ti].links.append(
                Link(
                    name: reverse, target: ref.table, sourceColumn: targetColumn, targetColumn: ref.column,
                    cardinality: ref.unique ? .oneToOne : .oneToMany, discovered: !ref.declared))
        }
        for i in entities.indices {
            let renames = overrides[entities[i].name]?["link_name"] ?? [:]
            for j in entities[i].links.indices {
                if let newName = renames[entities[i].links[j].name] { entities[i].links[j].name = newName }
            }
        }
        byName = Dictionary(uniqueKeysWithValues: entities.enumerated().map { ($1.name, $0) })
        var catalog = Catalog(entities: entities)
        let global = overrides["*"] ?? [:]
        if let profile = global["profile"]?[""], byName[profile] != nil {
            catalog.profileEntity = profile
        } else {
            catalog.profileEntity = ["profiles", "customers", "contacts", "users", "recipients"].first { byName[$0] != nil }
        }
        if let profile = catalog.profileEntity, let entity = catalog.entity(profile) {
            catalog.profileChannels = defaultChannels(entity)
            for (field, column) in global["channel"] ?? [:] {
                let value = column.isEmpty ? nil : column
                switch ProfileChannelField(rawValue: field) {
                case .email: catalog.profileChannels.email = value
                case .phone: catalog.profileChannels.phone = value
                case .pushToken: catalog.profileChannels.pushToken = value
                case .postalAddress: catalog.profileChannels.postalAddress = value?.split(separator: ",").map(String.init) ?? []
                case .timeZone: catalog.profileChannels.timeZone = value
                case .locale: catalog.profileChannels.locale = value
                case .optIn: catalog.profileChannels.optIn = value?.split(separator: ",").map(String.init) ?? []
                case nil: break
                }
            }
        }
        return catalog
    }

    static func uniqueName(_ base: String, in entity: Entity) -> String {
        var name = base
        var n = 2
        while entity.attribute(name) != nil || entity.link(name) != nil {
            name = base == entity.name ? "\(base)_link\(n)" : "\(base)_link" + (n > 2 ? "\(n)" : "")
            n += 1
        }
        return name
    }

    static func uniqueSingleColumns(_ db: Database, table: String) throws -> Set<String> {
        var out = Set<String>()
        for index in try Row.fetchAll(db, sql: "PRAGMA index_list(\(table.quotedDatabaseIdentifier))") where (index["unique"] as Int) == 1 {
            let name: String = index["name"]
            let cols = try Row.fetchAll(db, sql: "PRAGMA index_info(\(name.quotedDatabaseIdentifier))")
            if cols.count == 1, let c: String = cols[0]["name"] { out.insert(c) }
        }
        return out
    }

    static func defaultChannels(_ e: Entity) -> ProfileChannels {
        func first(_ names: [String]) -> String? { names.first { e.attribute($0) != nil } }
        return ProfileChannels(
            email: first(["email", "email_address"]),
            phone: first(["phone", "mobile", "phone_number", "mobile_phone"]),
            pushToken: first(["push_token", "device_token"]),
            postalAddress: ["postal_address", "address"].filter { e.attribute($0) != nil },
            timeZone: first(["time_zone", "timezone", "tz"]),
            locale: first(["locale", "language"]))
    }

    static func requireColumn(_ name: String, in entity: Entity, field: String = "attribute") throws -> Attribute {
        guard let a = entity.attribute(name) else {
            throw HeraldError(
                .notFound,
                "\(field): '\(entity.name)' has no column '\(name)'\(Names.suggestion(for: name, in: entity.attributes.map(\.name)))")
        }
        return a
    }

    static func checkIdentifier(_ name: String, field: String) throws {
        let ok =
            !name.isEmpty && (name.first!.isLetter || name.first == "_")
            && name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }
        if !ok { throw HeraldError(.invalidInput, "\(field): '\(name)' must start with a letter and contain only letters, digits and _") }
    }

    static func setOverride(_ db: Database, entity: String, kind: String, name: String, value: String?) throws {
        if let value {
            try db.execute(
                sql: """
                    INSERT INTO herald_catalog_overrides (entity, kind, name, value) VALUES (?, ?, ?, ?)
                    ON CONFLICT (entity, kind, name) DO UPDATE SET value = excluded.value
                    """, arguments: [entity, kind, name, value])
        } else {
            try db.execute(
                sql: "DELETE FROM herald_catalog_overrides WHERE entity = ? AND kind = ? AND name = ?", arguments: [entity, kind, name])
        }
    }

    static func declareReference(_ db: Database, entity: String, column: String, target: String, targetColumn: String?) throws {
        let catalog = try catalog(db)
        let e = try catalog.requireEntity(entity)
        _ = try requireColumn(column, in: e)
        let t = try catalog.requireEntity(target, field: "target")
        if let targetColumn { _ = try requireColumn(targetColumn, in: t, field: "target column") }
        try setOverride(db, entity: entity, kind: "ref", name: column, value: targetColumn.map { "\(target).\($0)" } ?? target)
    }
}

/// One value remembered with the key it was computed under: the last catalog discovered (keyed
/// by schema and overrides), the last rule compiler built (keyed by its definitions).
public final class KeyedMemo<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var key: String?
    private var value: Value?

    public init() {}

    public func get(_ key: String) -> Value? {
        lock.lock()
        defer { lock.unlock() }
        return self.key == key ? value : nil
    }

    public func set(_ key: String, _ value: Value) {
        lock.lock()
        self.key = key
        self.value = value
        lock.unlock()
    }
}
