import Foundation
public import GRDB
public import HeraldCore

/// The message ledger in the store's `herald_messages` table, and its claims in
/// `herald_claims`. The only place that spells message states in SQL.
///
/// A claim is a row in `herald_claims` (the message's id is its key, so no two executors can
/// hold one message), inserted in one immediate transaction committed with `synchronous = FULL`
/// (SQLite's one writer makes it exclusive); a PostgreSQL ledger inserts the same rows from a
/// `SELECT … FOR UPDATE SKIP LOCKED`. A message's own row is written when it is queued and when
/// its result is recorded, not when it is claimed: while a claim holds it, it keeps the status it
/// was claimed in (queued or deferred) and reads call it `claimed`.
public struct SQLiteMessageLedger: MessageLedger {
    public let store: Store

    public init(store: Store) {
        self.store = store
    }

    /// Refuses to read a store whose ledger predates v12 (it was opened read-only, unmigrated).
    func requireLedger(_ db: Database) throws {
        guard try Self.hasLedger(db) else {
            throw HeraldError(
                .storeTooOld, "\(store.path) predates Herald's message ledger; run 'herald init \(store.path)' to upgrade it")
        }
    }

    /// Whether the store has the message ledger's columns (v12); a store read as it is from
    /// before them has sent nothing through Herald.
    public static func hasLedger(_ db: Database) throws -> Bool {
        try db.columns(in: "herald_messages").contains { $0.name == "not_before" }
    }

    static func text(_ seconds: Int) -> String { TemporalText.canonical(utcSeconds: seconds) ?? "" }

    /// Why a due message is excluded after all, as an SQL expression over its row `x`: consent
    /// (marketing only) or suppression changed since the node queued it; NULL when it may go.
    static func lateExclusion(optIn: Set<Channel>) -> String {
        let optInList = optIn.map { "'\($0.rawValue)'" }.sorted().joined(separator: ", ")
        let consent = "SELECT 1 FROM herald_consent c WHERE c.profile_key = x.profile_key AND c.channel = x.channel"
        // In the order the node's gates give these reasons (opted out, consent unknown,
        // suppressed): a message excluded now says what the node would have said.
        var cases = ["WHEN x.category = 'marketing' AND EXISTS (\(consent) AND c.status = 'opted_out') THEN 'opted_out'"]
        if !optIn.isEmpty {
            cases.append(
                "WHEN x.category = 'marketing' AND x.channel IN (\(optInList)) AND NOT EXISTS (\(consent) AND c.status = 'opted_in') THEN 'consent_unknown'"
            )
        }
        cases.append(
            "WHEN EXISTS (SELECT 1 FROM herald_suppressions s WHERE s.channel = x.channel AND s.address = x.address) THEN 'suppressed'")
        return "CASE \(cases.joined(separator: " ")) END"
    }

    /// Whether the store has the claims table (v13); without it (a store read as it is), a claim
    /// is the message's own `claimed` status.
    static func hasClaims(_ db: Database) throws -> Bool { try db.tableExists("herald_claims") }

    /// Joins each message `m` to its claim `k` (`k.message_id` NULL: not claimed).
    static func claimJoin(_ db: Database) throws -> String {
        try hasClaims(db)
            ? "LEFT JOIN herald_claims k ON k.message_id = m.id" : "LEFT JOIN (SELECT NULL AS message_id) k ON 0"
    }

    /// Whether no claim holds the message `m`.
    static let unclaimed = "NOT EXISTS (SELECT 1 FROM herald_claims k WHERE k.message_id = m.id)"

    /// Before runs' rows go (a purge, a campaign deleted with its runs): the messages they still
    /// have claimed become `unknown` (an executor may have handed them over, and with no run
    /// left no executor will settle them), and their claims go.
    /// `why` completes "its run was … while an executor held it".
    public static func abandonClaims(_ db: Database, runIDs: [Int64], now: Int, why: String = "deleted") throws {
        guard try hasClaims(db), !runIDs.isEmpty else { return }
        let runs = idList(runIDs)
        try db.execute(
            sql: """
                UPDATE herald_messages SET status = 'unknown', updated_at = ?, attempts = attempts + 1,
                  error = ?
                WHERE id IN (SELECT message_id FROM herald_claims WHERE run_id IN (SELECT value FROM json_each(?)))
                """,
            arguments: [
                text(now), "its run was \(why) while an executor held it; it may have been handed to the provider", runs,
            ])
        try db.execute(sql: "DELETE FROM herald_claims WHERE run_id IN (SELECT value FROM json_each(?))", arguments: [runs])
    }

    /// A message's state: `claimed` while a claim holds it, its status otherwise.
    static let state = "CASE WHEN k.message_id IS NOT NULL THEN 'claimed' ELSE m.status END"

    /// Ids as a JSON array, for `json_each`: one statement for a whole batch.
    static func idList(_ ids: some Sequence<Int64>) -> String { "[" + ids.map(String.init).joined(separator: ",") + "]" }

    public func claim(_ request: ClaimRequest, owner: String, now: Int) throws -> [ClaimedMessage] {
        try store.writeDurably { db in try Self.claim(db, request, owner: owner, now: now) }
    }

    public func recordAndClaim(
        _ records: [DeliveryRecord], owner: String, now: Int, retry: RetryPolicy, jitter: @Sendable () -> Double,
        next: ClaimRequest
    ) throws -> [ClaimedMessage] {
        // Committed as a claim is (synchronous = FULL): the next batch is not handed to a
        // provider before its claims are on the disk, and the results go with them.
        try store.writeDurably { db in
            try Self.record(db, records, owner: owner, now: now, retry: retry, jitter: jitter)
            return try Self.claim(db, next, owner: owner, now: now)
        }
    }

    /// Claims in the caller's immediate transaction (see ``claim(_:owner:now:)``).
    static func claim(_ db: Database, _ request: ClaimRequest, owner: String, now: Int) throws -> [ClaimedMessage] {
        let (runID, limit) = (request.runID, request.limit)
        let at = Self.text(now)
        // The oldest due messages no claim holds (queued ones, then deferred ones whose time has
        // come, in the due index's order), each with why it is excluded after all (consent or
        // suppression changed since the node queued it; NULL: it may go).
        let unclaimed = Self.unclaimed
        let columns = Self.claimedColumns
        let sql = """
            SELECT x.*, \(Self.lateExclusion(optIn: request.optIn)) AS late
            FROM (
              SELECT * FROM (SELECT \(columns) FROM herald_messages m INDEXED BY herald_messages_due
                             WHERE m.run_id = ?1 AND m.status = 'queued' AND \(unclaimed) ORDER BY m.not_before, m.id LIMIT ?2)
              UNION ALL
              SELECT * FROM (SELECT \(columns) FROM herald_messages m INDEXED BY herald_messages_due
                             WHERE m.run_id = ?1 AND m.status = 'deferred' AND m.not_before <= ?3 AND \(unclaimed)
                             ORDER BY m.not_before, m.id LIMIT ?2)
            ) x
            LIMIT ?2
            """
        // The same statements for every batch of the run: compiled once.
        let due = try db.cachedStatement(sql: sql)
        let exclude = try db.cachedStatement(
            sql: "UPDATE herald_messages SET status = 'excluded', reason = ?, updated_at = ? WHERE id = ?")
        // One small row per message claimed; the message's own row is written once, when
        // its result is recorded.
        let hold = try db.cachedStatement(
            sql: "INSERT INTO herald_claims (message_id, run_id, owner, claimed_at) SELECT value, ?, ?, ? FROM json_each(?)")
        // A batch whose every message turns out excluded is not the end: claim again.
        while true {
            var claimed: [ClaimedMessage] = []
            var late: [(id: Int64, reason: String)] = []
            let rows = try Row.fetchCursor(due, arguments: [runID, limit, at])
            while let row = try rows.next() {
                if let reason = row[Self.claimedColumnCount] as String? {
                    late.append((row[0], reason))
                } else {
                    claimed.append(try Self.claimed(row))
                }
            }
            for message in late { try exclude.execute(arguments: [message.reason, at, message.id]) }
            if !claimed.isEmpty {
                try hold.execute(arguments: [runID, owner, at, Self.idList(claimed.map(\.id))])
                return claimed.sorted { $0.id < $1.id }
            }
            if late.isEmpty { return [] }
        }
    }

    /// Ends `owner`'s claims on `ids` (those another executor took over are left alone).
    /// - Returns: the ids whose claim was `owner`'s.
    static func endClaims(_ db: Database, ids: some Sequence<Int64>, owner: String) throws -> Set<Int64> {
        Set(
            try Int64.fetchAll(
                db.cachedStatement(
                    sql: "DELETE FROM herald_claims WHERE message_id IN (SELECT value FROM json_each(?)) AND owner = ? RETURNING message_id"
                ),
                arguments: [idList(ids), owner]))
    }

    public func record(_ records: [DeliveryRecord], owner: String, now: Int, retry: RetryPolicy, jitter: @Sendable () -> Double) throws {
        // Without waiting for the disk: a result lost to a power cut leaves its message claimed,
        // and the next executor asks the provider (or calls it unknown), never sends it again.
        try store.writeDurably(synchronous: .normal) { db in
            try Self.record(db, records, owner: owner, now: now, retry: retry, jitter: jitter)
        }
    }

    /// Records in the caller's immediate transaction (see ``record(_:owner:now:retry:jitter:)``).
    static func record(
        _ db: Database, _ records: [DeliveryRecord], owner: String, now: Int, retry: RetryPolicy, jitter: @Sendable () -> Double
    ) throws {
        let at = Self.text(now)
        let held = try Self.endClaims(db, ids: records.map(\.id), owner: owner)
        let statement = try db.cachedStatement(
            sql: """
                UPDATE herald_messages
                SET status = ?, reason = ?, not_before = ?, provider = ?, provider_id = ?, error = ?, updated_at = ?,
                    sent_at = ?, attempts = attempts + 1
                WHERE id = ?
                """)
        // Plain acceptances, the bulk of a batch, in one statement per provider.
        var accepted: [String: [Int64]] = [:]
        for record in records where held.contains(record.id) {
            if case .provider(.sent(nil)) = record.verdict { accepted[record.provider, default: []].append(record.id) }
        }
        for (provider, ids) in accepted {
            try db.cachedStatement(
                sql: """
                    UPDATE herald_messages
                    SET status = 'sent', reason = NULL, not_before = NULL, provider = ?, provider_id = NULL, error = NULL,
                        updated_at = ?, sent_at = ?, attempts = attempts + 1
                    WHERE id IN (SELECT value FROM json_each(?))
                    """
            ).execute(arguments: [provider, at, at, Self.idList(ids)])
        }
        for record in records where held.contains(record.id) {
            if case .provider(.sent(nil)) = record.verdict { continue }
            var state = MessageState.failed
            var reason: String?
            var notBefore: String?
            var providerID: String?
            var error: String?
            var sentAt: String?
            switch record.verdict {
            case .renderFailed(let why):
                reason = FailureReason.renderFailed.rawValue
                error = why
            case .provider(.sent(let id)):
                state = .sent
                providerID = id
                sentAt = at
            case .provider(.permanent(let why)):
                reason = FailureReason.rejected.rawValue
                error = why
            case .provider(.transient(let why, let after)):
                error = why
                if let delay = retry.delay(after: record.attempts, jitter: jitter(), retryAfter: after) {
                    state = .deferred
                    reason = "retry"
                    notBefore = Self.text(now + Int(delay.rounded(.up)))
                } else {
                    reason = FailureReason.retriesExhausted.rawValue
                }
            case .provider(.unknown(let why)):
                state = .unknown
                error = why
            }
            try statement.execute(arguments: [
                state.rawValue, reason, notBefore, record.provider, providerID, error, at, sentAt, record.id,
            ])
        }
    }

    public func release(_ ids: [Int64], owner: String) throws {
        guard !ids.isEmpty else { return }
        // The messages are due again as they were: nothing of them was written when claimed.
        try store.write { db in _ = try Self.endClaims(db, ids: ids, owner: owner) }
    }

    public func leftClaimed(runID: Int64) throws -> [ClaimedMessage] {
        try store.read { db in
            guard try Self.hasClaims(db) else { return [] }
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.claimedColumns)
                    FROM herald_claims k JOIN herald_messages m ON m.id = k.message_id
                    WHERE k.run_id = ? ORDER BY m.id
                    """, arguments: [runID]
            ).map(Self.claimed)
        }
    }

    /// The columns ``claimed(_:)`` reads, by position (a claim returns thousands), of a message
    /// `m`: id, node, channel, category, profile key, entity key, address, attempts including
    /// this one.
    static let claimedColumns =
        "m.id, m.node_id, m.channel, m.category, m.profile_key, m.entity_key, m.address, m.attempts + 1 AS attempts"
    static let claimedColumnCount = 8

    static func claimed(_ row: Row) throws -> ClaimedMessage {
        let id: Int64 = row[0]
        guard let channel = Channel(rawValue: row[2]), let category = MessageCategory(rawValue: row[3]) else {
            throw HeraldError(.internalFailure, "message \(id) has an unknown channel or category")
        }
        let profile: DatabaseValue = row[4]
        let entity: DatabaseValue = row[5]
        return ClaimedMessage(
            id: id, nodeID: NodeID(row[1] as String), channel: channel, category: category, profileKey: profile.displayText,
            entityKey: entity.isNull ? nil : entity.displayText, address: row[6] ?? "", attempts: row[7])
    }

    public func settle(_ decisions: [Int64: Reconciliation], runID: Int64, now: Int) throws -> SettledClaims {
        let at = Self.text(now)
        return try store.write { db in
            var settled = SettledClaims()
            for (id, decision) in decisions.sorted(by: { $0.key < $1.key }) {
                // Only a message still claimed in this run is settled.
                guard
                    try Int64.fetchOne(
                        db, sql: "DELETE FROM herald_claims WHERE message_id = ? AND run_id = ? RETURNING message_id",
                        arguments: [id, runID]) != nil
                else { continue }
                switch decision {
                case .delivered(let providerID):
                    try db.execute(
                        sql: """
                            UPDATE herald_messages SET status = 'sent', provider_id = ?, sent_at = ?, updated_at = ?, attempts = attempts + 1,
                              reason = NULL, error = 'recorded after its executor stopped: the provider had it'
                            WHERE id = ?
                            """, arguments: [providerID, at, at, id])
                    settled.sent += 1
                case .notDelivered:
                    // Due again as it was: its row was never written for the claim.
                    settled.requeued += 1
                case .cannotTell:
                    try db.execute(
                        sql: """
                            UPDATE herald_messages SET status = 'unknown', updated_at = ?, attempts = attempts + 1,
                              error = 'its executor stopped after handing it to the provider, before recording what the provider said'
                            WHERE id = ?
                            """, arguments: [at, id])
                    settled.unknown += 1
                }
            }
            return settled
        }
    }

    public func messages(_ filter: MessageFilter) throws -> [LedgerMessage] {
        try store.read { db in
            try requireLedger(db)
            var conditions: [String] = []
            var arguments: [any DatabaseValueConvertible] = []
            if let run = filter.runID {
                conditions.append("m.run_id = ?")
                arguments.append(run)
            }
            if let campaign = filter.campaignID {
                conditions.append("m.campaign_id = ?")
                arguments.append(campaign)
            }
            if let profile = filter.profileKey {
                // Keys are stored with their column's type; a text key matches its number too.
                conditions.append("CAST(m.profile_key AS TEXT) = ?")
                arguments.append(profile)
            }
            if let channel = filter.channel {
                conditions.append("m.channel = ?")
                arguments.append(channel.rawValue)
            }
            if let state = filter.state {
                conditions.append("\(Self.state) = ?")
                arguments.append(state.rawValue)
            }
            if let ids = filter.ids {
                conditions.append("m.id IN (\(ids.map { _ in "?" }.joined(separator: ",")))")
                arguments += ids.map { $0 as any DatabaseValueConvertible }
            }
            let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            arguments.append(filter.limit)
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT m.id, m.run_id, m.campaign_id, m.node_id, m.profile_key, m.entity_key, m.channel, m.category,
                      \(Self.state) AS status, m.reason, m.not_before, m.zone, m.zone_fallback, m.attempts, m.provider, m.provider_id,
                      m.error, m.created_at, m.updated_at, m.sent_at
                    FROM herald_messages m \(try Self.claimJoin(db)) \(whereClause)
                    ORDER BY ifnull(m.sent_at, m.updated_at) DESC, m.id DESC LIMIT ?
                    """, arguments: StatementArguments(arguments)
            ).map(Self.message)
        }
    }

    static func message(_ row: Row) -> LedgerMessage {
        let entity: DatabaseValue = row["entity_key"]
        let profile: DatabaseValue = row["profile_key"]
        let node: String? = row["node_id"]
        let notBefore: String? = row["not_before"]
        return LedgerMessage(
            id: row["id"], runID: row["run_id"], campaignID: row["campaign_id"], nodeID: node.map { NodeID($0) },
            profileKey: profile.displayText, entityKey: entity.isNull ? nil : entity.displayText,
            channel: Channel(rawValue: row["channel"]) ?? .email, category: MessageCategory(rawValue: row["category"]) ?? .marketing,
            state: MessageState(rawValue: row["status"]) ?? .unknown, reason: row["reason"],
            notBefore: notBefore.flatMap(TemporalText.utcSeconds(canonical:)), zone: row["zone"],
            zoneFallback: (row["zone_fallback"] as Int?) == 1, attempts: row["attempts"], provider: row["provider"],
            providerID: row["provider_id"], error: row["error"], createdAt: row["created_at"], updatedAt: row["updated_at"],
            sentAt: row["sent_at"])
    }

    public func counts(runID: Int64) throws -> [NodeID: MessageCounts] {
        try store.read { db in
            guard try Self.hasLedger(db) else { return [:] }
            return try Self.counts(db, runID: runID)
        }
    }

    public func remaining(runID: Int64) throws -> [NodeID: Int] {
        try store.read { db in
            guard try Self.hasLedger(db) else { return [:] }
            // Claimed messages keep the status they were claimed in (`claimed` itself in a v12
            // store read as it is): the due index's unsettled part only.
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT node_id, count(*) AS n FROM herald_messages INDEXED BY herald_messages_due
                    WHERE run_id = ? AND status IN ('queued', 'deferred', 'claimed') GROUP BY node_id
                    """, arguments: [runID])
            var remaining: [NodeID: Int] = [:]
            for row in rows {
                guard let node: String = row["node_id"] else { continue }
                remaining[NodeID(node), default: 0] += row["n"] as Int
            }
            return remaining
        }
    }

    static func counts(_ db: Database, runID: Int64) throws -> [NodeID: MessageCounts] {
        var counts: [NodeID: MessageCounts] = [:]
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT node_id, status, CASE WHEN status IN ('excluded', 'failed', 'deferred') THEN reason END AS reason, count(*) AS n
                FROM herald_messages INDEXED BY herald_messages_due WHERE run_id = ? GROUP BY 1, 2, 3
                """, arguments: [runID])
        for row in rows {
            guard let node: String = row["node_id"], let state = MessageState(rawValue: row["status"]) else { continue }
            let n: Int = row["n"]
            let id = NodeID(node)
            counts[id, default: MessageCounts()].byState[state, default: 0] += n
            if let reason: String = row["reason"] {
                if state == .excluded { counts[id, default: MessageCounts()].excluded[reason, default: 0] += n }
                if state == .failed { counts[id, default: MessageCounts()].failed[reason, default: 0] += n }
                if state == .deferred { counts[id, default: MessageCounts()].deferred[reason, default: 0] += n }
            }
        }
        // Claimed messages keep the status they were claimed in (queued or deferred): counted
        // there above, they move to `claimed` (a few batches at most, read through the claims).
        guard try hasClaims(db) else { return counts }
        let claimed = try Row.fetchAll(
            db,
            sql: """
                SELECT m.node_id, m.status, CASE WHEN m.status = 'deferred' THEN m.reason END AS reason, count(*) AS n
                FROM herald_claims k JOIN herald_messages m ON m.id = k.message_id
                WHERE k.run_id = ? GROUP BY 1, 2, 3
                """, arguments: [runID])
        for row in claimed {
            guard let node: String = row["node_id"], let state = MessageState(rawValue: row["status"]) else { continue }
            let n: Int = row["n"]
            let id = NodeID(node)
            let left = (counts[id]?.byState[state] ?? 0) - n
            counts[id, default: MessageCounts()].byState[state] = left > 0 ? left : nil
            counts[id, default: MessageCounts()].byState[.claimed, default: 0] += n
            if let reason: String = row["reason"] {
                let waiting = (counts[id]?.deferred[reason] ?? 0) - n
                counts[id, default: MessageCounts()].deferred[reason] = waiting > 0 ? waiting : nil
            }
        }
        return counts
    }

    public func nextDue(runID: Int64) throws -> Int? {
        try store.read { db in
            // The due index's first deferred message no claim holds (a claimed one is in hand).
            let unclaimed = try Self.hasClaims(db) ? "AND \(Self.unclaimed)" : ""
            let text = try String.fetchOne(
                db,
                sql: """
                    SELECT m.not_before FROM herald_messages m INDEXED BY herald_messages_due
                    WHERE m.run_id = ? AND m.status = 'deferred' \(unclaimed) ORDER BY m.not_before LIMIT 1
                    """,
                arguments: [runID])
            return text.flatMap(TemporalText.utcSeconds(canonical:))
        }
    }

    public func resolve(runID: Int64, ids: [Int64]?, as resolution: Resolution, now: Int) throws -> Int {
        let at = Self.text(now)
        return try store.write { db in
            var sql: String
            switch resolution {
            case .sent:
                sql =
                    "UPDATE herald_messages SET status = 'sent', sent_at = ?, reason = '\(FailureReason.resolved.rawValue)', updated_at = ?"
            case .failed:
                sql =
                    "UPDATE herald_messages SET status = 'failed', reason = '\(FailureReason.resolved.rawValue)', updated_at = ?, sent_at = ?"
            case .retry: sql = "UPDATE herald_messages SET status = 'queued', reason = NULL, updated_at = ?, sent_at = ?"
            }
            let sentAt: String? = resolution == .sent ? at : nil
            var arguments: [any DatabaseValueConvertible] = resolution == .sent ? [sentAt, at] : [at, sentAt]
            sql += " WHERE run_id = ? AND status = 'unknown'"
            arguments.append(runID)
            if let ids {
                sql += " AND id IN (\(ids.map { _ in "?" }.joined(separator: ",")))"
                arguments += ids.map { $0 as any DatabaseValueConvertible }
            }
            try db.execute(sql: sql, arguments: StatementArguments(arguments))
            return db.changesCount
        }
    }
}

extension Store {
    /// How a transaction's commit waits for the disk.
    public enum Synchronous: String, Sendable {
        /// The commit survives a power cut (`synchronous = FULL`).
        case full = "FULL"
        /// The commit survives a crash of the process; a power cut may lose the last ones
        /// (`synchronous = NORMAL`, in WAL mode).
        case normal = "NORMAL"
    }

    /// Runs `body` in an immediate transaction committed with `synchronous = FULL` (by default):
    /// when it returns, what it wrote survives a power cut, not only a crash of this process.
    public func writeDurably<T>(synchronous: Synchronous = .full, _ body: (Database) throws -> T) throws -> T {
        guard !isReadOnly else {
            throw HeraldError(.internalFailure, "\(path) was opened only to look; this change needs a writable store")
        }
        do {
            return try writer.writeWithoutTransaction { db in
                let previous = try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? 2
                try db.execute(sql: "PRAGMA synchronous = \(synchronous.rawValue)")
                defer { try? db.execute(sql: "PRAGMA synchronous = \(previous)") }
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(db)
                    return .commit
                }
                return result!
            }
        } catch {
            throw Store.storeError(error, path: path)
        }
    }

    /// The store's message ledger.
    public var ledger: SQLiteMessageLedger { SQLiteMessageLedger(store: self) }
}

extension DatabaseValue {
    /// Text for tables and CSV: empty for NULL, numbers without trailing zeros.
    public var displayText: String {
        switch storage {
        case .null: ""
        case .int64(let v): String(v)
        case .double(let v): v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)
        case .string(let s): s
        case .blob(let d): "<\(d.count) bytes>"
        }
    }
}

extension SQLiteMessageLedger {
    /// The columns of a node's verdict table, which `enqueue` copies into the ledger:
    /// one row per message with its recipient, address, zone and exclusion reason (NULL: none).
    public static let verdictColumns = "profile_key, entity_key, address TEXT, zone TEXT, reason TEXT"
    /// The columns of a node's zone table: each zone as the profiles give it (`''` for none),
    /// the zone the send window was read in, whether that was the campaign's, and when the
    /// window next opens (NULL: open now).
    public static let zoneColumns = "zone TEXT PRIMARY KEY, used TEXT NOT NULL, fallback INTEGER NOT NULL, not_before TEXT"

    /// How many messages a profile already has on `channel` in marketing since `since` (UTC
    /// seconds): everything not failed or excluded counts (sent, and what is about to be sent:
    /// queued, deferred, claimed, unknown), so a cap never lets one more through. The messages
    /// of the node being computed (a node redone after a crash) do not count.
    public static func recentHistory(
        channel: Channel, since: Int, runID: Int64, nodeID: NodeID
    ) -> (sql: String, arguments: StatementArguments) {
        (
            """
            SELECT profile_key, count(*) AS n FROM main.herald_messages
            WHERE channel = ? AND category = 'marketing' AND status IN ('queued', 'deferred', 'claimed', 'sent', 'unknown')
              AND coalesce(sent_at, created_at) > ? AND NOT (ifnull(run_id, 0) = ? AND ifnull(node_id, '') = ?)
            GROUP BY profile_key
            """,
            [channel.rawValue, text(since), runID, nodeID.name]
        )
    }

    /// Copies the verdicts with rowid in `rows` into the ledger: excluded with their reason,
    /// deferred to their window's opening, or queued. A message already in the ledger (a copy
    /// redone after a crash) is kept as it is.
    /// - Returns: how many rows were added.
    public static func enqueue(
        _ db: Database, verdicts: String, zones: String?, rows: ClosedRange<Int64>, runID: Int64, campaignID: Int64, nodeID: NodeID,
        channel: Channel, category: MessageCategory, now: Int
    ) throws -> Int {
        let zoneJoin =
            zones.map { "LEFT JOIN \($0) z ON z.zone = ifnull(v.zone, '')" }
            ?? "LEFT JOIN (SELECT NULL AS not_before, NULL AS used, 0 AS fallback) z"
        try db.execute(
            sql: """
                INSERT OR IGNORE INTO main.herald_messages (run_id, campaign_id, node_id, profile_key, entity_key, channel, category, address,
                  status, reason, not_before, zone, zone_fallback, created_at, updated_at)
                SELECT ?, ?, ?, v.profile_key, v.entity_key, ?, ?, v.address,
                  CASE WHEN v.reason IS NOT NULL THEN 'excluded' WHEN z.not_before IS NOT NULL THEN 'deferred' ELSE 'queued' END,
                  CASE WHEN v.reason IS NOT NULL THEN v.reason WHEN z.not_before IS NOT NULL THEN 'send_window' END,
                  CASE WHEN v.reason IS NULL THEN z.not_before END, z.used, ifnull(z.fallback, 0), ?, ?
                FROM \(verdicts) v \(zoneJoin)
                WHERE v.rowid BETWEEN ? AND ?
                """,
            arguments: [
                runID, campaignID, nodeID.name, channel.rawValue, category.rawValue, text(now), text(now), rows.lowerBound, rows.upperBound,
            ])
        return db.changesCount
    }
}
