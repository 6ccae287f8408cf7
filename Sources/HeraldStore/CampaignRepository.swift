import Foundation
import GRDB
public import HeraldCore

/// A campaign as stored: its database id and current version with the graph.
public struct StoredCampaign: Sendable, Equatable {
    public var id: Int64
    public var version: Int
    public var campaign: Campaign

    public init(id: Int64, version: Int, campaign: Campaign) {
        self.id = id
        self.version = version
        self.campaign = campaign
    }
}

/// One line of the campaign list.
public struct CampaignSummary: Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var description: String
    public var version: Int
    public var nodeCount: Int
    public var updatedAt: String
    public var lastRun: RunSummary?
    /// When the campaign was archived; nil while it is active.
    public var archivedAt: String?
    /// The population that reached the message nodes in the latest run: what it sent, or as a
    /// dry run would send; nil before any message node has run.
    public var lastRunMessages: Int?

    public init(
        id: Int64, name: String, description: String, version: Int, nodeCount: Int, updatedAt: String, lastRun: RunSummary?,
        archivedAt: String? = nil, lastRunMessages: Int? = nil
    ) {
        self.lastRunMessages = lastRunMessages
        self.id = id
        self.name = name
        self.description = description
        self.version = version
        self.nodeCount = nodeCount
        self.updatedAt = updatedAt
        self.lastRun = lastRun
        self.archivedAt = archivedAt
    }
}

extension Store {
    /// Every campaign with its node count and latest run, by name; archived ones only when asked.
    public func listCampaigns(includeArchived: Bool = false) throws -> [CampaignSummary] {
        try read { db in
            // A store from before v3 has no archive column (reads do not migrate): nothing is archived.
            let archived = try Self.hasArchiveColumn(db) ? "c.archived_at" : "NULL"
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT c.id, c.name, c.description, c.current_version, c.updated_at, \(archived) AS archived_at,
                           (SELECT count(*) FROM herald_nodes n WHERE n.campaign_id = c.id AND n.version = c.current_version) AS nodes,
                           (SELECT max(r.id) FROM herald_runs r WHERE r.campaign_id = c.id) AS last_run,
                           (SELECT sum(n.input_count) FROM herald_runs r
                              JOIN herald_run_nodes n ON n.run_id = r.id
                              JOIN herald_nodes v ON v.campaign_id = r.campaign_id AND v.version = r.version AND v.node_id = n.node_id
                            WHERE r.id = (SELECT max(id) FROM herald_runs WHERE campaign_id = c.id)
                              AND v.kind IN (\(Self.channelKinds))) AS last_messages
                    FROM herald_campaigns c
                    WHERE \(includeArchived ? "1" : "\(archived) IS NULL")
                    ORDER BY c.name COLLATE NOCASE
                    """)
            return try rows.map { row in
                let lastRun: Int64? = row["last_run"]
                return CampaignSummary(
                    id: row["id"], name: row["name"], description: row["description"], version: row["current_version"],
                    nodeCount: row["nodes"], updatedAt: row["updated_at"],
                    lastRun: try lastRun.flatMap { try RunRepository.summary(db, runID: $0) }, archivedAt: row["archived_at"],
                    lastRunMessages: row["last_messages"])
            }
        }
    }

    /// The message kinds as SQL literals, for the list's count of messages.
    static let channelKinds = NodeKind.allCases.filter(\.isChannel).map { "'\($0.rawValue)'" }.joined(separator: ", ")

    /// Finds a campaign's current version by reference: an id as an id, a name as a name, words
    /// a person typed as a name (case-insensitive) first, else a numeric id.
    public func loadCampaign(_ reference: CampaignReference) throws -> StoredCampaign {
        try read { db in try Self.loadCampaign(db, reference: reference) }
    }

    public func loadCampaign(id: Int64) throws -> StoredCampaign {
        try read { db in try Self.loadCampaign(db, reference: .id(id)) }
    }

    /// One version of a campaign, as a run executes it (editing makes a new version and never
    /// changes this one).
    public func loadCampaign(id: Int64, version: Int) throws -> StoredCampaign {
        try read { db in try Self.loadCampaign(db, reference: .id(id), version: version) }
    }

    /// The campaign row a reference names, or nil.
    static func campaignRow(_ db: Database, _ reference: CampaignReference) throws -> Row? {
        let byID = "SELECT * FROM herald_campaigns WHERE id = ?"
        let byName = "SELECT * FROM herald_campaigns WHERE name = ?"
        switch reference {
        case .id(let id):
            return try Row.fetchOne(db, sql: byID, arguments: [id])
        case .name(let name):
            return try Row.fetchOne(db, sql: byName, arguments: [name])
        case .typed(let text):
            if let row = try Row.fetchOne(db, sql: byName, arguments: [text]) { return row }
            return try Int64(text).flatMap { try Row.fetchOne(db, sql: byID, arguments: [$0]) }
        }
    }

    static func loadCampaign(_ db: Database, reference: CampaignReference, version wanted: Int? = nil) throws -> StoredCampaign {
        guard let row = try campaignRow(db, reference) else {
            if case .id(let id) = reference {
                throw HeraldError(.notFound, "campaign: there is no campaign #\(id) any more (another process may have deleted it)")
            }
            let names = try String.fetchAll(db, sql: "SELECT name FROM herald_campaigns ORDER BY name")
            throw HeraldError(
                .notFound,
                "campaign: no campaign named '\(reference)'\(Names.suggestion(for: reference.description, in: names))"
                    + (names.isEmpty ? " (the store has no campaigns)" : ""))
        }
        let id: Int64 = row["id"]
        let version: Int = wanted ?? row["current_version"]
        if let wanted,
            try !Bool.fetchOne(
                db, sql: "SELECT EXISTS (SELECT 1 FROM herald_campaign_versions WHERE campaign_id = ? AND version = ?)",
                arguments: [id, wanted])!
        {
            throw HeraldError(.notFound, "campaign '\(row["name"] as String)' has no version \(wanted)")
        }
        // The version's own time zone and variables; versions saved before they were kept use the
        // campaign's.
        let settings =
            try db.columns(in: "herald_campaign_versions").contains { $0.name == "variables" }
            ? try Row.fetchOne(
                db, sql: "SELECT time_zone, variables FROM herald_campaign_versions WHERE campaign_id = ? AND version = ?",
                arguments: [id, version]) : nil
        let zone: String = settings?["time_zone"] ?? row["time_zone"]
        let variablesText: String = settings?["variables"] ?? row["variables"]
        var campaign = Campaign(name: row["name"], description: row["description"], timeZone: zone)
        let variables = try CampaignFormat.decode(
            .object([
                ("format", .string(CampaignFormat.formatTag)), ("name", .string(campaign.name)),
                ("variables", try JSONValue.parse(variablesText)), ("nodes", .array([])),
            ]))
        campaign.variables = variables.variables
        for nodeRow in try Row.fetchAll(
            db, sql: "SELECT config FROM herald_nodes WHERE campaign_id = ? AND version = ? ORDER BY position",
            arguments: [id, version])
        {
            let config: String = nodeRow["config"]
            campaign.nodes.append(try CampaignFormat.decodeNode(try JSONValue.parse(config), path: "stored node"))
        }
        // End nodes start the campaign they were saved with, under its name of today.
        for (node, target) in try startTargets(db, campaignID: id, version: version) {
            guard let target, let index = campaign.nodes.firstIndex(where: { $0.id == node }),
                case .endAndStart = campaign.nodes[index].config,
                let name = try String.fetchOne(db, sql: "SELECT name FROM herald_campaigns WHERE id = ?", arguments: [target])
            else { continue }
            campaign.nodes[index].config = .endAndStart(campaign: name)
        }
        for e in try Row.fetchAll(
            db,
            sql: """
                SELECT from_node, from_port, to_node, \(try hasInputPorts(db) ? "to_port" : "'in'") AS to_port
                FROM herald_edges WHERE campaign_id = ? AND version = ? ORDER BY position
                """,
            arguments: [id, version])
        {
            campaign.edges.append(Edge(from: e["from_node"], port: e["from_port"], to: e["to_node"], toPort: e["to_port"]))
        }
        return StoredCampaign(id: id, version: version, campaign: campaign)
    }

    /// Saves a campaign. A new name creates it at version 1; an existing name needs `replace`
    /// and creates the next version (earlier versions and their runs are kept).
    @discardableResult
    public func saveCampaign(_ campaign: Campaign, replace: Bool) throws -> StoredCampaign {
        try write { db in try Self.saveCampaign(db, campaign, replace: replace) }
    }

    static func saveCampaign(_ db: Database, _ campaign: Campaign, replace: Bool) throws -> StoredCampaign {
        try Names.requirePlain(campaign.name, field: "campaign name")
        do {
            let now = Store.timestamp()
            let variables = CampaignFormat.encode(campaign)["variables"]?.compact() ?? "{}"
            let existing = try Row.fetchOne(
                db, sql: "SELECT id, current_version FROM herald_campaigns WHERE name = ?", arguments: [campaign.name])
            let id: Int64
            let version: Int
            if let existing {
                guard replace else {
                    throw HeraldError(
                        .conflict,
                        "campaign: '\(campaign.name)' already exists; use --replace to save a new version of it")
                }
                id = existing["id"]
                version = (existing["current_version"] as Int) + 1
                try db.execute(
                    sql: """
                        UPDATE herald_campaigns SET name = ?, description = ?, time_zone = ?, variables = ?, current_version = ?, updated_at = ?
                        WHERE id = ?
                        """,
                    arguments: [campaign.name, campaign.description, campaign.timeZone, variables, version, now, id])
            } else {
                try db.execute(
                    sql: """
                        INSERT INTO herald_campaigns (name, description, time_zone, variables, current_version, created_at, updated_at)
                        VALUES (?, ?, ?, ?, 1, ?, ?)
                        """,
                    arguments: [campaign.name, campaign.description, campaign.timeZone, variables, now, now])
                id = db.lastInsertedRowID
                version = 1
            }
            try db.execute(
                sql: "INSERT INTO herald_campaign_versions (campaign_id, version, created_at, time_zone, variables) VALUES (?, ?, ?, ?, ?)",
                arguments: [id, version, now, campaign.timeZone, variables])
            for (position, node) in campaign.nodes.enumerated() {
                try db.execute(
                    sql:
                        "INSERT INTO herald_nodes (campaign_id, version, node_id, position, kind, label, config) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    arguments: [id, version, node.id, position, node.kind.rawValue, node.label, CampaignFormat.encode(node).compact()])
                if case .endAndStart(let other) = node.config {
                    // The store keeps the id of the campaign started, so a rename cannot break it.
                    guard let target = try campaignRow(db, .name(other)) else {
                        throw HeraldError(
                            .validation,
                            "campaign '\(campaign.name)': node '\(node.id)' starts '\(other)', which does not exist; save that campaign first"
                        )
                    }
                    try db.execute(
                        sql: "INSERT INTO herald_start_targets (campaign_id, version, node_id, target_id) VALUES (?, ?, ?, ?)",
                        arguments: [id, version, node.id, target["id"] as Int64])
                }
            }
            for (position, edge) in campaign.edges.enumerated() {
                try db.execute(
                    sql: """
                        INSERT INTO herald_edges (campaign_id, version, position, from_node, from_port, to_node, to_port)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [id, version, position, edge.from, edge.port, edge.to, edge.toPort])
            }
            return StoredCampaign(id: id, version: version, campaign: campaign)
        }
    }

    /// Whether edges record their input port (stores from before v6 read every edge as `in`).
    static func hasInputPorts(_ db: Database) throws -> Bool {
        try db.columns(in: "herald_edges").contains { $0.name == "to_port" }
    }

    static func hasArchiveColumn(_ db: Database) throws -> Bool {
        try db.columns(in: "herald_campaigns").contains { $0.name == "archived_at" }
    }

    /// The campaign each End node of a version starts, by node: its id, or nil when that campaign
    /// was deleted since. Empty for a store from before the ids were kept (v10), whose End nodes
    /// name their campaign only.
    static func startTargets(_ db: Database, campaignID: Int64, version: Int) throws -> [(NodeID, Int64?)] {
        guard try db.tableExists("herald_start_targets") else { return [] }
        return try Row.fetchAll(
            db, sql: "SELECT node_id, target_id FROM herald_start_targets WHERE campaign_id = ? AND version = ?",
            arguments: [campaignID, version]
        ).map { (NodeID($0["node_id"] as String), $0["target_id"] as Int64?) }
    }

    /// The id of the campaign each End node of a version starts (nil: deleted since); nodes a
    /// store from before v10 holds only by name are absent.
    public func startTargets(of stored: StoredCampaign) throws -> [NodeID: Int64?] {
        try read { db in
            Dictionary(try Self.startTargets(db, campaignID: stored.id, version: stored.version), uniquingKeysWith: { a, _ in a })
        }
    }

    /// The campaigns whose current version starts `campaignID` from an End node, by name.
    public func campaignsStarting(_ campaignID: Int64) throws -> [String] {
        try read { db in try Self.campaignsStarting(db, campaignID) }
    }

    static func campaignsStarting(_ db: Database, _ campaignID: Int64) throws -> [String] {
        guard try db.tableExists("herald_start_targets") else { return [] }
        return try String.fetchAll(
            db,
            sql: """
                SELECT DISTINCT c.name FROM herald_start_targets t
                JOIN herald_campaigns c ON c.id = t.campaign_id AND c.current_version = t.version
                WHERE t.target_id = ? AND t.campaign_id <> ? ORDER BY c.name
                """, arguments: [campaignID, campaignID])
    }

    /// Refuses a name that is empty or taken by another campaign.
    static func requireFreeName(_ db: Database, _ name: String, field: String, except id: Int64? = nil) throws -> String {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw HeraldError(.invalidInput, "\(field): the campaign name is empty") }
        try Names.requirePlain(trimmed, field: field)
        if let other = try Row.fetchOne(db, sql: "SELECT id, name FROM herald_campaigns WHERE name = ?", arguments: [trimmed]),
            other["id"] as Int64 != id
        {
            throw HeraldError(.conflict, "\(field): a campaign named '\(other["name"] as String)' already exists; choose another name")
        }
        return trimmed
    }

    /// Copies a campaign's current version under a new name, as version 1.
    public func duplicateCampaign(_ reference: CampaignReference, as newName: String) throws -> StoredCampaign {
        var campaign = try loadCampaign(reference).campaign
        campaign.name = try read { db in try Self.requireFreeName(db, newName, field: "--as") }
        return try saveCampaign(campaign, replace: false)
    }

    /// Renames a campaign; its versions and runs follow it, and so do the End nodes that start it.
    /// - Returns: its old name, and the campaigns whose End nodes start it (they now show the new name).
    public func renameCampaign(_ reference: CampaignReference, to newName: String) throws -> (old: String, startedBy: [String]) {
        try write { db in
            let stored = try Self.loadCampaign(db, reference: reference)
            let name = try Self.requireFreeName(db, newName, field: "new name", except: stored.id)
            try db.execute(
                sql: "UPDATE herald_campaigns SET name = ?, updated_at = ? WHERE id = ?", arguments: [name, Store.timestamp(), stored.id])
            return (stored.campaign.name, try Self.campaignsStarting(db, stored.id))
        }
    }

    /// Archives (or restores) a campaign: archived campaigns are kept but not listed or run.
    /// Archiving is refused while a run of it is active.
    public func setArchived(_ reference: CampaignReference, archived: Bool) throws -> String {
        try write { db in
            let stored = try Self.loadCampaign(db, reference: reference)
            if archived { try Self.requireNoActiveRun(db, campaignID: stored.id, name: stored.campaign.name, action: "archive") }
            try db.execute(
                sql: "UPDATE herald_campaigns SET archived_at = ? WHERE id = ?", arguments: [archived ? Store.timestamp() : nil, stored.id])
            return stored.campaign.name
        }
    }

    /// Whether the campaign is archived (a store from before archiving has none archived).
    public func isArchived(campaignID: Int64) throws -> Bool {
        try read { db in
            guard try Self.hasArchiveColumn(db) else { return false }
            return try String.fetchOne(db, sql: "SELECT archived_at FROM herald_campaigns WHERE id = ?", arguments: [campaignID]) != nil
        }
    }

    /// Deletes a campaign with its versions and runs; the messages it sent stay in the history
    /// (with no run). Refused while a run is active, and when it has runs unless `withRuns`.
    /// - Returns: the campaign's name and how many runs went with it.
    public func deleteCampaign(_ reference: CampaignReference, withRuns: Bool) throws -> (name: String, runs: Int) {
        try write { db in
            let stored = try Self.loadCampaign(db, reference: reference)
            try Self.requireNoActiveRun(db, campaignID: stored.id, name: stored.campaign.name, action: "delete")
            let starters = try Self.campaignsStarting(db, stored.id)
            if !starters.isEmpty {
                throw HeraldError(
                    .conflict,
                    "campaign '\(stored.campaign.name)' is started by \(starters.map { "'\($0)'" }.joined(separator: ", ")) (an End node); change or delete those campaigns first"
                )
            }
            let runs = try Int.fetchOne(db, sql: "SELECT count(*) FROM herald_runs WHERE campaign_id = ?", arguments: [stored.id]) ?? 0
            if runs > 0 && !withRuns {
                throw HeraldError(
                    .conflict,
                    "campaign '\(stored.campaign.name)' has \(Names.counted(runs, "run")); add --yes to delete it with its runs (sent messages stay in the history), or archive it instead"
                )
            }
            try SQLiteMessageLedger.abandonClaims(
                db, runIDs: try Int64.fetchAll(db, sql: "SELECT id FROM herald_runs WHERE campaign_id = ?", arguments: [stored.id]),
                now: Int(Date().timeIntervalSince1970))
            try db.execute(sql: "DELETE FROM herald_campaigns WHERE id = ?", arguments: [stored.id])
            return (stored.campaign.name, runs)
        }
    }

    static func requireNoActiveRun(_ db: Database, campaignID: Int64, name: String, action: String) throws {
        if let run = try RunRepository.unfinishedRun(db, campaignID: campaignID) {
            throw HeraldError(.conflict, "campaign '\(name)': run #\(run) is active; stop it before you \(action) the campaign")
        }
    }
}
