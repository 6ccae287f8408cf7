import GRDB
public import HeraldCore

/// A draft's identity, chosen when editing starts (so every write of it lands on one row,
/// whichever arrives first).
public struct DraftKey: Hashable, Sendable, CustomStringConvertible {
    public var value: String
    public init(_ value: String) { self.value = value }
    public var description: String { value }
}

/// Unsaved edits of a campaign: what the designer shows, kept in the store after every change.
public struct Draft: Equatable, Sendable {
    public var key: DraftKey
    /// The stored campaign it edits; nil for a campaign not saved yet.
    public var campaignID: Int64?
    /// The version it started from.
    public var baseVersion: Int?
    public var campaign: Campaign
    public var updatedAt: String

    public init(key: DraftKey, campaignID: Int64?, baseVersion: Int?, campaign: Campaign, updatedAt: String = "") {
        self.key = key
        self.campaignID = campaignID
        self.baseVersion = baseVersion
        self.campaign = campaign
        self.updatedAt = updatedAt
    }
}

extension Store {
    /// Keeps `draft`, replacing the earlier state of the same draft.
    public func keepDraft(_ draft: Draft) throws {
        let document = CampaignFormat.encode(draft.campaign).compact()
        try write { db in
            try db.execute(
                sql: """
                    INSERT INTO herald_drafts (key, campaign_id, base_version, name, document, updated_at) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (key) DO UPDATE SET campaign_id = excluded.campaign_id, base_version = excluded.base_version,
                        name = excluded.name, document = excluded.document, updated_at = excluded.updated_at
                    """,
                arguments: [draft.key.value, draft.campaignID, draft.baseVersion, draft.campaign.name, document, Store.timestamp()])
        }
    }

    /// Removes a draft (saved, or discarded).
    public func discardDraft(_ key: DraftKey) throws {
        try write { db in try db.execute(sql: "DELETE FROM herald_drafts WHERE key = ?", arguments: [key.value]) }
    }

    /// The draft of a stored campaign, if one was left.
    public func draft(campaignID: Int64) throws -> Draft? {
        try drafts(where: "campaign_id = ?", [campaignID]).first
    }

    /// The saved campaigns that have a kept draft (edits not saved as a version), by id.
    public func draftedCampaignIDs() throws -> Set<Int64> {
        try read { db in
            guard try db.tableExists("herald_drafts") else { return [] }
            return Set(try Int64.fetchAll(db, sql: "SELECT campaign_id FROM herald_drafts WHERE campaign_id IS NOT NULL"))
        }
    }

    /// Drafts of campaigns never saved, oldest first.
    public func newCampaignDrafts() throws -> [Draft] {
        try drafts(where: "campaign_id IS NULL", [])
    }

    func drafts(where condition: String, _ arguments: StatementArguments) throws -> [Draft] {
        try read { db in
            // A store from before drafts has none.
            guard try db.tableExists("herald_drafts") else { return [] }
            return try Row.fetchAll(
                db,
                sql:
                    "SELECT key, campaign_id, base_version, document, updated_at FROM herald_drafts WHERE \(condition) ORDER BY updated_at, key",
                arguments: arguments
            ).map { row in
                let document: String = row["document"]
                let key = DraftKey(row["key"])
                do {
                    return Draft(
                        key: key, campaignID: row["campaign_id"], baseVersion: row["base_version"],
                        campaign: try CampaignFormat.decode(text: document), updatedAt: row["updated_at"])
                } catch {
                    throw HeraldError(.storeUnreadable, "draft \(key): its campaign no longer reads (\(error))")
                }
            }
        }
    }
}
