import GRDB
public import HeraldCore

/// A draft's identity, chosen when editing starts (so every write of it lands on one row,
/// whichever arrives first).
public struct DraftKey: Hashable, Sendable, CustomStringConvertible {
    public var value: String
    public init(_ value: String) { self.value = value }
    public var description: String { value }
}

/// A node form's typed values, kept with a draft.
public struct OpenForm: Equatable, Sendable {
    public var node: NodeID
    public var kind: NodeKind
    /// Whether the form adds the node (after `after`) rather than edits it.
    public var adding: Bool
    public var after: PortRef?
    /// Each field's text, by field name (label and note included).
    public var texts: [String: String]

    public init(node: NodeID, kind: NodeKind, adding: Bool, after: PortRef?, texts: [String: String]) {
        self.node = node
        self.kind = kind
        self.adding = adding
        self.after = after
        self.texts = texts
    }

    var json: JSONValue {
        .object([
            ("node", .string(node.name)), ("kind", .string(kind.rawValue)), ("adding", .bool(adding)),
            ("afterNode", after.map { .string($0.node.name) } ?? .null), ("afterPort", after.map { .string($0.port.name) } ?? .null),
            ("texts", .object(texts.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
        ])
    }

    init?(json: JSONValue) {
        guard case .object(let pairs) = json else { return nil }
        let fields = Dictionary(pairs, uniquingKeysWith: { a, _ in a })
        guard case .string(let node)? = fields["node"], case .string(let kindName)? = fields["kind"],
            let kind = NodeKind(rawValue: kindName), case .object(let texts)? = fields["texts"]
        else { return nil }
        self.node = NodeID(node)
        self.kind = kind
        if case .bool(let adding)? = fields["adding"] { self.adding = adding } else { self.adding = false }
        if case .string(let afterNode)? = fields["afterNode"], case .string(let afterPort)? = fields["afterPort"] {
            after = PortRef(node: NodeID(afterNode), port: PortName(name: afterPort))
        }
        self.texts = Dictionary(
            texts.compactMap { key, value in if case .string(let s) = value { (key, s) } else { nil } }, uniquingKeysWith: { a, _ in a })
    }
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
    /// A node form that was open, with what was typed in it, when its fields made no node yet
    /// (a half-typed rule): reopened as it was when the draft is taken back.
    public var form: OpenForm?

    public init(
        key: DraftKey, campaignID: Int64?, baseVersion: Int?, campaign: Campaign, updatedAt: String = "", form: OpenForm? = nil
    ) {
        self.form = form
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
                    INSERT INTO herald_drafts (key, campaign_id, base_version, name, document, updated_at, form) VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (key) DO UPDATE SET campaign_id = excluded.campaign_id, base_version = excluded.base_version,
                        name = excluded.name, document = excluded.document, updated_at = excluded.updated_at, form = excluded.form
                    """,
                arguments: [
                    draft.key.value, draft.campaignID, draft.baseVersion, draft.campaign.name, document, Store.timestamp(),
                    draft.form?.json.compact(),
                ])
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
            // A store from before kept forms (v11) has none.
            let form = try db.columns(in: "herald_drafts").contains { $0.name == "form" } ? "form" : "NULL AS form"
            return try Row.fetchAll(
                db,
                sql:
                    "SELECT key, campaign_id, base_version, document, updated_at, \(form) FROM herald_drafts WHERE \(condition) ORDER BY updated_at, key",
                arguments: arguments
            ).map { row in
                let document: String = row["document"]
                let key = DraftKey(row["key"])
                let openForm = (row["form"] as String?).flatMap { try? JSONValue.parse($0) }.flatMap(OpenForm.init(json:))
                do {
                    return Draft(
                        key: key, campaignID: row["campaign_id"], baseVersion: row["base_version"],
                        campaign: try CampaignFormat.decode(text: document), updatedAt: row["updated_at"], form: openForm)
                } catch {
                    throw HeraldError(.storeUnreadable, "draft \(key): its campaign no longer reads (\(error))")
                }
            }
        }
    }
}
