import Foundation
public import GRDB
public import HeraldCore

/// A saved audience as stored in `herald_audiences`.
public struct SavedAudience: Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var entity: String
    /// The rule text; for imported key lists, a description of the source.
    public var rule: String
    public var snapshot: Bool
    public var description: String
    public var memberCount: Int?
    public var createdAt: String
    public var refreshedAt: String?

    public init(
        id: Int64, name: String, entity: String, rule: String, snapshot: Bool, description: String, memberCount: Int?, createdAt: String,
        refreshedAt: String?
    ) {
        self.id = id
        self.name = name
        self.entity = entity
        self.rule = rule
        self.snapshot = snapshot
        self.description = description
        self.memberCount = memberCount
        self.createdAt = createdAt
        self.refreshedAt = refreshedAt
    }

    init(row: Row) {
        self.init(
            id: row["id"], name: row["name"], entity: row["entity"], rule: row["rule"], snapshot: (row["kind"] as String) == "snapshot",
            description: row["description"], memberCount: row["member_count"], createdAt: row["created_at"],
            refreshedAt: row["refreshed_at"])
    }
}

extension Store {
    /// Every saved audience, by name.
    public func listAudiences() throws -> [SavedAudience] {
        try read { db in try Row.fetchAll(db, sql: "SELECT * FROM herald_audiences ORDER BY name COLLATE NOCASE").map(SavedAudience.init) }
    }

    /// A rule checker that knows the saved audiences, and which live ones are broken (their
    /// stored rule no longer parses or fits the catalog), so rules using those are refused.
    public func audienceChecker(variables: [String: Literal] = [:]) throws -> RuleChecker {
        Self.audienceChecker(catalog: try catalog(), audiences: try listAudiences(), variables: variables)
    }

    /// The problems of each broken live audience, by lowercased name.
    public static func audienceChecker(
        catalog: Catalog, audiences: [SavedAudience], variables: [String: Literal] = [:]
    ) -> RuleChecker {
        let entities = Dictionary(audiences.map { ($0.name, $0.entity) }, uniquingKeysWith: { a, _ in a })
        var checker = RuleChecker(catalog: catalog, variables: variables, audiences: entities)
        checker.liveAudiences = Set(audiences.filter { !$0.snapshot }.map { $0.name.lowercased() })
        // Two passes: an audience that uses a broken one is broken too.
        for _ in 0..<2 {
            var broken: [String: String] = [:]
            for audience in audiences where !audience.snapshot {
                if let problem = RuleChecker.problem(ofAudience: audience.rule, entity: audience.entity, checker: checker) {
                    broken[audience.name.lowercased()] = problem
                }
            }
            checker.brokenAudiences = broken
        }
        return checker
    }

    /// A saved audience by name (case-insensitive), or an error naming the closest one.
    public func audience(named name: String) throws -> SavedAudience {
        try read { db in try Self.audience(db, named: name) }
    }

    static func audience(_ db: Database, named name: String) throws -> SavedAudience {
        if let row = try Row.fetchOne(db, sql: "SELECT * FROM herald_audiences WHERE name = ?", arguments: [name]) {
            return SavedAudience(row: row)
        }
        let names = try String.fetchAll(db, sql: "SELECT name FROM herald_audiences ORDER BY name")
        throw HeraldError(.notFound, "audience: no saved audience named '\(name)'\(Names.suggestion(for: name, in: names))")
    }

    /// Campaigns whose current version refers to the audience (in a rule or a node setting).
    public func campaignsUsing(audience name: String) throws -> [String] {
        try read { db in try Self.campaignsUsing(db, audience: name) }
    }

    static func campaignsUsing(_ db: Database, audience name: String) throws -> [String] {
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT c.name, n.config FROM herald_campaigns c
                JOIN herald_nodes n ON n.campaign_id = c.id AND n.version = c.current_version ORDER BY c.name
                """)
        var names: [String] = []
        for row in rows {
            let config: String = row["config"]
            // A stored node that no longer reads counts as a user: refusing is safer than breaking it.
            guard let node = try? CampaignFormat.decodeNode(try JSONValue.parse(config), path: "node") else {
                let campaign: String = row["name"]
                if config.lowercased().contains(name.lowercased()) && !names.contains(campaign) { names.append(campaign) }
                continue
            }
            let rules = node.definition.rules.map(\.rule)
            let campaign: String = row["name"]
            let used = rules.flatMap(\.audiences).contains { $0.caseInsensitiveEquals(name) }
            if used && !names.contains(campaign) { names.append(campaign) }
        }
        return names
    }

    /// Saved audiences whose rule refers to the audience (a rule that no longer parses is
    /// searched as text, so a broken definition is not overlooked).
    static func audiencesUsing(_ db: Database, audience name: String) throws -> [String] {
        try Row.fetchAll(db, sql: "SELECT name, rule FROM herald_audiences ORDER BY name").compactMap { row in
            let other: String = row["name"]
            let text: String = row["rule"]
            guard !other.caseInsensitiveEquals(name) else { return nil }
            if let rule = try? Rule(parsing: text) {
                return rule.audiences.contains { $0.caseInsensitiveEquals(name) } ? other : nil
            }
            return text.lowercased().contains(name.lowercased()) ? other : nil
        }
    }

    /// Refuses a change to an audience that a campaign's current version or another saved
    /// audience reads.
    static func requireUnused(_ db: Database, audience name: String, consequence: String) throws {
        var users = try campaignsUsing(db, audience: name).map { "campaign '\($0)'" }
        users += try audiencesUsing(db, audience: name).map { "saved audience '\($0)'" }
        guard users.isEmpty else {
            throw HeraldError(.conflict, "audience: '\(name)' is used by \(users.joined(separator: ", ")); \(consequence)")
        }
    }

    /// Saves an audience definition; `keysSQL` (with its arguments) fills a snapshot's members.
    /// - Parameter vet: sees each statement built around `keysSQL` before it runs, and throws to
    ///   refuse it (the engine compiles it under its statement guard).
    @discardableResult
    public func saveAudience(
        name: String, entity: String, rule: String, snapshot: Bool, description: String, replace: Bool,
        keysSQL: String?, arguments: StatementArguments, vet: (String) throws -> Void
    ) throws -> SavedAudience {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw HeraldError(.invalidInput, "name: the audience name is empty") }
        return try write { db in
            let now = Store.timestamp()
            if let existing = try Row.fetchOne(db, sql: "SELECT id FROM herald_audiences WHERE name = ?", arguments: [trimmed]) {
                guard replace else {
                    throw HeraldError(.conflict, "audience: '\(trimmed)' already exists; use --replace to overwrite it")
                }
                try db.execute(sql: "DELETE FROM herald_audiences WHERE id = ?", arguments: [existing["id"] as Int64])
            }
            try db.execute(
                sql: """
                    INSERT INTO herald_audiences (name, entity, rule, kind, description, created_at, refreshed_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [trimmed, entity, rule, snapshot ? "snapshot" : "live", description, now, now])
            let id = db.lastInsertedRowID
            if let keysSQL {
                let fill = Self.fillMembers(audienceID: id, keysSQL: keysSQL)
                try vet(fill)
                try db.execute(sql: fill, arguments: arguments)
                try db.execute(
                    sql:
                        "UPDATE herald_audiences SET member_count = (SELECT count(*) FROM herald_audience_members WHERE audience_id = ?) WHERE id = ?",
                    arguments: [id, id])
            }
            return SavedAudience(row: try Row.fetchOne(db, sql: "SELECT * FROM herald_audiences WHERE id = ?", arguments: [id])!)
        }
    }

    /// Recomputes a snapshot's members (or records a live audience's current size).
    /// - Parameter vet: as for `saveAudience`; also sees a live audience's counting statement.
    public func refreshAudience(
        named name: String, keysSQL: String, arguments: StatementArguments, vet: (String) throws -> Void
    ) throws -> SavedAudience {
        try write { db in
            let audience = try Self.audience(db, named: name)
            if audience.snapshot {
                let fill = Self.fillMembers(audienceID: audience.id, keysSQL: keysSQL)
                try vet(fill)
                try db.execute(sql: "DELETE FROM herald_audience_members WHERE audience_id = ?", arguments: [audience.id])
                try db.execute(sql: fill, arguments: arguments)
                try db.execute(
                    sql: "UPDATE herald_audiences SET member_count = ?, refreshed_at = ? WHERE id = ?",
                    arguments: [
                        try Int.fetchOne(
                            db, sql: "SELECT count(*) FROM herald_audience_members WHERE audience_id = ?", arguments: [audience.id]),
                        Store.timestamp(), audience.id,
                    ])
            } else {
                let counting = "SELECT count(*) FROM (\(keysSQL))"
                try vet(counting)
                let count = try Int.fetchOne(db, sql: counting, arguments: arguments)
                try db.execute(
                    sql: "UPDATE herald_audiences SET member_count = ?, refreshed_at = ? WHERE id = ?",
                    arguments: [count, Store.timestamp(), audience.id])
            }
            return try Self.audience(db, named: audience.name)
        }
    }

    static func fillMembers(audienceID: Int64, keysSQL: String) -> String {
        "INSERT INTO herald_audience_members (audience_id, member_key) SELECT \(audienceID), key FROM (\(keysSQL))"
    }

    public func renameAudience(named name: String, to newName: String) throws {
        let trimmed = newName.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw HeraldError(.invalidInput, "new name: the audience name is empty") }
        try write { db in
            let audience = try Self.audience(db, named: name)
            try Self.requireUnused(db, audience: audience.name, consequence: "renaming would break it")
            if try Row.fetchOne(db, sql: "SELECT 1 FROM herald_audiences WHERE name = ? AND id <> ?", arguments: [trimmed, audience.id])
                != nil
            {
                throw HeraldError(.conflict, "new name: an audience called '\(trimmed)' already exists")
            }
            try db.execute(sql: "UPDATE herald_audiences SET name = ? WHERE id = ?", arguments: [trimmed, audience.id])
        }
    }

    /// Deletes an audience; refused while a campaign uses it.
    public func deleteAudience(named name: String) throws {
        try write { db in
            let audience = try Self.audience(db, named: name)
            try Self.requireUnused(db, audience: audience.name, consequence: "change the campaign first")
            try db.execute(sql: "DELETE FROM herald_audiences WHERE id = ?", arguments: [audience.id])
        }
    }
}

extension String {
    func caseInsensitiveEquals(_ other: String) -> Bool { lowercased() == other.lowercased() }
}

/// What a run writes to saved audiences.
public enum AudienceRepository {
    /// Saves the keys in the work table `keysFrom` (quoted) as the members of the snapshot
    /// audience `name` of `entity`, creating it if needed; with `append`, adds them to its
    /// members instead of replacing them. Refuses a live audience (its members are its rule's)
    /// and one of another entity.
    /// - Returns: the audience's member count afterwards.
    public static func saveSnapshot(_ db: Database, name: String, entity: String, keysFrom table: String, append: Bool) throws -> Int {
        let now = Store.timestamp()
        let id: Int64
        if let row = try Row.fetchOne(db, sql: "SELECT id, entity, kind FROM herald_audiences WHERE name = ?", arguments: [name]) {
            guard (row["kind"] as String) == "snapshot" else {
                throw HeraldError(
                    .conflict, "the audience '\(name)' is live (its members are its rule's); a Save audience node writes snapshot audiences"
                )
            }
            guard (row["entity"] as String) == entity else {
                throw HeraldError(.conflict, "the audience '\(name)' holds \(row["entity"] as String), not \(entity)")
            }
            id = row["id"]
            if !append { try db.execute(sql: "DELETE FROM herald_audience_members WHERE audience_id = ?", arguments: [id]) }
        } else {
            try db.execute(
                sql: """
                    INSERT INTO herald_audiences (name, entity, rule, kind, description, created_at, refreshed_at)
                    VALUES (?, ?, 'not true', 'snapshot', 'Saved by a campaign run', ?, ?)
                    """, arguments: [name, entity, now, now])
            id = db.lastInsertedRowID
        }
        try db.execute(
            sql: "INSERT OR IGNORE INTO herald_audience_members (audience_id, member_key) SELECT ?, key FROM \(table)", arguments: [id])
        let members = try Int.fetchOne(db, sql: "SELECT count(*) FROM herald_audience_members WHERE audience_id = ?", arguments: [id]) ?? 0
        try db.execute(
            sql: "UPDATE herald_audiences SET member_count = ?, refreshed_at = ? WHERE id = ?", arguments: [members, now, id])
        return members
    }
}
