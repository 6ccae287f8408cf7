import Foundation
import GRDB
import HeraldCore
import HeraldStore

/// Email, SMS, push, direct mail. Both kinds of run decide, as SQL over the population, who
/// gets a message and who is excluded and why (the eligibility gates) and who is deferred to
/// their send window, into a verdict table in the run's file. A dry run reports those figures;
/// a live run's executor then copies the verdicts into the ledger (queued, deferred or
/// excluded), and the delivery worker sends. The node never sends. Recipients with a message
/// (queued or deferred) pass on; the excluded do not.
extension MessageNode: NodeExecution {
    func execute(_ context: NodeContext) throws -> NodeOutcome {
        guard let (input, entity) = context.population else { return NodeOutcome() }
        guard let run = context.run else { throw HeraldError(.internalFailure, "a channel node ran outside a run") }
        var outcome = NodeOutcome()
        outcome.inputCount = try context.count(input)
        let gates = try ChannelGates(
            catalog: context.catalog, channel: channel, settings: settings, entity: entity, dialect: context.dialect,
            compiler: context.compiler)
        let schema = context.workSchema.map { context.dialect.quote($0) + "." } ?? ""
        let verdicts = context.newTable()
        outcome.created.append(verdicts)
        let qualified = schema + context.dialect.quote(verdicts)
        try context.trusted {
            try context.db.execute(sql: "CREATE TABLE \(qualified) (\(SQLiteMessageLedger.verdictColumns))")
        }
        let now = Int(context.now.timeIntervalSince1970)
        let fill = try gates.verdicts(input: schema + context.dialect.quote(input), run: run, now: now)
        // Herald's own statement over its ledger, consent and suppression tables: past the guard.
        var stopwatch = Stopwatch()
        try context.trusted { try context.db.execute(sql: "INSERT INTO \(qualified) " + fill.sql, arguments: fill.arguments) }
        let gatesMS = Int(stopwatch.lap())

        // Send windows: each zone the recipients give is read once, in Swift (SQLite has no
        // time zones), into a small table the ledger copy joins.
        var zonesName: String?
        var deferred = 0
        if let window = settings.sendWindow, settings.category == .marketing {
            let table = context.newTable()
            outcome.created.append(table)
            let zoneTable = schema + context.dialect.quote(table)
            try context.trusted {
                try context.db.execute(sql: "CREATE TABLE \(zoneTable) (\(SQLiteMessageLedger.zoneColumns))")
            }
            let given = try String?.fetchAll(
                context.db, sql: "SELECT DISTINCT zone FROM \(qualified) WHERE reason IS NULL")
            for name in given {
                let known = name.flatMap { $0.isEmpty ? nil : TimeZone(identifier: $0) }
                let zone = known ?? context.timeZone
                let opening = window.nextOpening(after: now, zone: zone)
                try context.db.execute(
                    sql: "INSERT OR IGNORE INTO \(zoneTable) (zone, used, fallback, not_before) VALUES (?, ?, ?, ?)",
                    arguments: [
                        name ?? "", zone.identifier, known == nil ? 1 : 0, opening.flatMap { TemporalText.canonical(utcSeconds: $0) },
                    ])
            }
            zonesName = table
            deferred =
                try Int.fetchOne(
                    context.db,
                    sql: """
                        SELECT count(*) FROM \(qualified) v JOIN \(zoneTable) z ON z.zone = ifnull(v.zone, '')
                        WHERE v.reason IS NULL AND z.not_before IS NOT NULL
                        """) ?? 0
        }

        // Who passes on: the population's rows with a message.
        let out = try context.workTable(of: entity, in: &outcome)
        let passing = gates.passing(input: schema + context.dialect.quote(input), verdicts: qualified)
        try context.db.execute(sql: "INSERT INTO \(schema)\(context.dialect.quote(out)) (key) " + passing)
        outcome.tables["out"] = out
        outcome.counts["out"] = try context.count(out)

        var excluded: [String: Int] = [:]
        for row in try Row.fetchAll(
            context.db, sql: "SELECT reason, count(*) AS n FROM \(qualified) WHERE reason IS NOT NULL GROUP BY reason ORDER BY 2 DESC, 1")
        {
            excluded[row["reason"]] = row["n"]
        }
        let messages = try Int.fetchOne(context.db, sql: "SELECT count(*) FROM \(qualified)") ?? 0
        let noRecipient =
            try Int.fetchOne(context.db, sql: "SELECT " + gates.withoutRecipient(input: schema + context.dialect.quote(input))) ?? 0
        let excludedTotal = excluded.values.reduce(0, +)
        let reasons = excluded.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { "\($0.key) \(Names.groupedCount($0.value))" }
        let verb = context.live ? "" : "would be "
        var detail =
            "\(Names.groupedCount(messages)) \(channel.commandName) messages: \(Names.groupedCount(messages - excludedTotal - deferred)) \(verb)queued, "
            + "\(Names.groupedCount(deferred)) \(verb)deferred to the send window, \(Names.groupedCount(excludedTotal)) \(verb)excluded"
            + (reasons.isEmpty ? "" : " (\(reasons.joined(separator: ", ")))")
        if noRecipient > 0 { detail += "; \(Names.counted(noRecipient, entity: entity)) without a recipient" }
        if !context.live { detail += "; nothing is sent in a dry run" }
        outcome.detail = detail
        var figures = excluded
        figures["messages"] = messages
        figures["deferred"] = deferred
        figures["without_recipient"] = noRecipient
        figures["gates_ms"] = gatesMS
        outcome.logs.append(RunLogLine(code: context.live ? "channel.enqueued" : "channel.gates", detail, figures: figures))
        if !context.live {
            // Three messages that would go, rendered by the executor to prove the templates.
            let rows = try Row.fetchAll(
                context.db, sql: "SELECT profile_key, entity_key, address FROM \(qualified) WHERE reason IS NULL ORDER BY rowid LIMIT 3")
            outcome.samples = rows.enumerated().map { i, row in
                let profile: DatabaseValue = row["profile_key"]
                let entity: DatabaseValue = row["entity_key"]
                return ClaimedMessage(
                    id: Int64(-(i + 1)), nodeID: run.node, channel: channel, category: settings.category, profileKey: profile.displayText,
                    entityKey: entity.isNull ? nil : entity.displayText, address: row["address"] ?? "", attempts: 0)
            }
        }
        if context.live {
            let last = try Int64.fetchOne(context.db, sql: "SELECT max(rowid) FROM \(qualified)") ?? 0
            outcome.enqueue = Enqueue(
                verdicts: verdicts, zones: zonesName, lastRow: last, channel: channel,
                category: settings.category)
        }
        return outcome
    }
}

/// The verdicts a live channel node leaves for the executor to copy into the ledger, by table
/// name in the run's file (renamed with the node's other tables).
struct Enqueue {
    var verdicts: String
    var zones: String?
    var lastRow: Int64
    var channel: Channel
    var category: MessageCategory

    func renamed(_ names: [String: String]) -> Enqueue {
        var renamed = self
        renamed.verdicts = names[verdicts] ?? verdicts
        renamed.zones = zones.map { names[$0] ?? $0 }
        return renamed
    }
}

/// The eligibility gates of one channel node as SQL over its population.
struct ChannelGates {
    let catalog: Catalog
    let channel: Channel
    let settings: ChannelSettings
    let dialect: any SQLDialect
    let profile: Entity
    /// The population's entity when it is not the profile, and its link to the profile.
    let via: (entity: Entity, link: Link)?
    /// With one message per related row: the rows (the link's target) and which of them, as SQL
    /// selecting their keys.
    let related: (entity: Entity, link: Link, keys: CompiledSQL)?

    init(
        catalog: Catalog, channel: Channel, settings: ChannelSettings, entity: String, dialect: any SQLDialect, compiler: RuleCompiler
    ) throws {
        self.catalog = catalog
        self.channel = channel
        self.settings = settings
        self.dialect = dialect
        guard let name = catalog.profileEntity, let profile = catalog.entity(name) else {
            throw HeraldError(.validation, "the catalog names no profile entity, so messages have no recipients")
        }
        self.profile = profile
        if entity == name {
            via = nil
        } else {
            guard let e = catalog.entity(entity), let link = catalog.linkToProfile(from: entity) else {
                throw HeraldError(.validation, "'\(entity)' has no link to the profile entity '\(name)'; its messages have no recipient")
            }
            via = (e, link)
        }
        if settings.messagePer == .related {
            guard via == nil, let rows = settings.related, let link = profile.link(rows.link), link.cardinality == .oneToMany,
                let target = catalog.entity(link.target)
            else {
                throw HeraldError(
                    .validation,
                    "one message per related row needs a population of profiles and a one-to-many link of theirs (related.link)")
            }
            related = (target, link, try compiler.selectKeys(entity: target.name, rule: rows.rule))
        } else {
            related = nil
        }
    }

    func q(_ s: String) -> String { dialect.quote(s) }

    /// `SELECT profile_key, entity_key FROM …`: one row per message.
    func recipients(input: String) -> String {
        if let (rows, link, keys) = related {
            // Each profile's related rows that match: one message each.
            return """
                SELECT w.key AS profile_key, r.\(q(rows.primaryKey)) AS entity_key FROM \(input) w
                JOIN \(q(rows.name)) r ON r.\(q(link.targetColumn)) = w.key
                WHERE r.\(q(rows.primaryKey)) IN (SELECT key FROM (\(keys.sql)))
                """
        }
        guard let (entity, link) = via else { return "SELECT w.key AS profile_key, NULL AS entity_key FROM \(input) w" }
        let owner = "t.\(q(link.sourceColumn))"
        let from = "FROM \(input) w JOIN \(q(entity.name)) t ON t.\(q(entity.primaryKey)) = w.key WHERE \(owner) IS NOT NULL"
        if settings.messagePer == .entity { return "SELECT \(owner) AS profile_key, w.key AS entity_key \(from)" }
        // One message per profile: the profile's first row is its target.
        return "SELECT \(owner) AS profile_key, min(w.key) AS entity_key \(from) GROUP BY \(owner)"
    }

    /// `count(*) FROM …` of population rows that lead to no profile.
    func withoutRecipient(input: String) -> String {
        guard let (entity, link) = via else { return "0" }
        return """
            count(*) FROM \(input) w LEFT JOIN \(q(entity.name)) t ON t.\(q(entity.primaryKey)) = w.key
            LEFT JOIN \(q(profile.name)) p ON p.\(q(link.targetColumn)) = t.\(q(link.sourceColumn))
            WHERE p.\(q(link.targetColumn)) IS NULL
            """
    }

    /// The population's keys whose message was not excluded.
    func passing(input: String, verdicts: String) -> String {
        guard let (entity, link) = via else {
            return "SELECT w.key FROM \(input) w WHERE w.key IN (SELECT profile_key FROM \(verdicts) WHERE reason IS NULL)"
        }
        if settings.messagePer == .entity {
            return "SELECT w.key FROM \(input) w WHERE w.key IN (SELECT entity_key FROM \(verdicts) WHERE reason IS NULL)"
        }
        return """
            SELECT w.key FROM \(input) w JOIN \(q(entity.name)) t ON t.\(q(entity.primaryKey)) = w.key
            WHERE t.\(q(link.sourceColumn)) IN (SELECT profile_key FROM \(verdicts) WHERE reason IS NULL)
            """
    }

    /// The address as the gates compare it (see `Addresses.normalised`), or NULL.
    var address: String {
        let c = catalog.profileChannels
        func column(_ name: String?) -> String? { name.map { "p.\(q($0))" } }
        switch channel {
        case .email:
            return column(c.email).map { "lower(trim(\($0)))" } ?? "NULL"
        case .sms:
            guard let phone = column(c.phone) else { return "NULL" }
            var stripped = "trim(\(phone))"
            for ch in [" ", "-", "(", ")", "."] { stripped = "replace(\(stripped), '\(ch)', '')" }
            return "(CASE WHEN \(stripped) GLOB '00*' THEN '+' || substr(\(stripped), 3) ELSE \(stripped) END)"
        case .push:
            return column(c.pushToken).map { "trim(\($0))" } ?? "NULL"
        case .directMail:
            let parts = c.postalAddress.map { "ifnull(trim(p.\(q($0))), '')" }
            guard !parts.isEmpty else { return "NULL" }
            return "trim(\(parts.joined(separator: " || char(10) || ")), char(10))"
        }
    }

    /// The SQL condition under which a (non-empty) address `a` is not valid for the channel:
    /// `Addresses.problem`, registered on the run's connection as `herald_valid_address`.
    func invalid(_ a: String) -> String {
        switch channel {
        case .email, .sms: "herald_valid_address('\(channel.rawValue)', \(a)) = 0"
        case .push, .directMail: "0"
        }
    }

    /// `SELECT profile_key, entity_key, address, zone, reason FROM …`: every gate's verdict,
    /// the first that excludes winning; duplicate addresses and the frequency cap are decided
    /// among the messages no other gate excluded.
    func verdicts(input: String, run: RunPosition, now: Int) throws -> (sql: String, arguments: StatementArguments) {
        let marketing = settings.category == .marketing
        let zone = catalog.profileChannels.timeZone.map { "p.\(q($0))" } ?? "NULL"
        var arguments = StatementArguments()
        var reasons: [String] = [
            "WHEN a.address IS NULL OR a.address = '' THEN '\(ExclusionReason.noAddress.rawValue)'",
            "WHEN \(invalid("a.address")) THEN '\(ExclusionReason.invalidAddress.rawValue)'",
        ]
        if marketing {
            reasons.append("WHEN c.status = 'opted_out' THEN '\(ExclusionReason.optedOut.rawValue)'")
            if catalog.profileChannels.optIn.contains(channel.rawValue) {
                reasons.append("WHEN ifnull(c.status, 'unknown') = 'unknown' THEN '\(ExclusionReason.consentUnknown.rawValue)'")
            }
        }
        reasons.append("WHEN s.address IS NOT NULL THEN '\(ExclusionReason.suppressed.rawValue)'")
        var history = ""
        var recent = "0"
        if marketing, let cap = settings.frequencyCap {
            let h = SQLiteMessageLedger.recentHistory(channel: channel, since: now - cap.days * 86_400, runID: run.runID, nodeID: run.node)
            history = "LEFT JOIN (\(h.sql)) h ON h.profile_key = +a.profile_key"
            arguments += h.arguments
            recent = "ifnull(h.n, 0)"
        }
        let cap = marketing ? settings.frequencyCap?.maxMessages : nil
        // A profile has several messages in the node only when there is one per row; then the
        // cap counts the node's own earlier ones too.
        let several = (via != nil && settings.messagePer == .entity) || related != nil
        // `+a.profile_key`: the consent and ledger key columns are declared without a type (keys
        // keep the profile table's), and compared with the profile's typed key SQLite would apply
        // its affinity and scan them instead of using their indexes; the unary plus drops it.
        // Duplicates: per address shared by several of the messages no other gate excluded, the
        // first recipient's (a narrow GROUP BY over those, where a window over every message
        // would sort them all by address and then again by recipient). The gates' rows are
        // computed once (MATERIALIZED), in the population's order, into a temporary B-tree that
        // the run's connection keeps in a file past its page cache.
        let nthSQL = cap != nil && several ? "row_number() OVER (PARTITION BY g.profile_key, g.reason IS NULL ORDER BY g.entity_key)" : "1"
        let sql = """
            WITH g AS MATERIALIZED (
              SELECT a.profile_key, a.entity_key, a.address, a.zone, \(recent) AS recent,
                CASE \(reasons.joined(separator: " ")) END AS reason
              FROM (
                SELECT p.\(q(profile.primaryKey)) AS profile_key, r.entity_key, \(address) AS address, \(zone) AS zone
                FROM (\(recipients(input: input))) r
                JOIN \(q(profile.name)) p ON p.\(q(via?.link.targetColumn ?? profile.primaryKey)) = r.profile_key
              ) a
              LEFT JOIN main.herald_consent c ON c.profile_key = +a.profile_key AND c.channel = ?
              LEFT JOIN main.herald_suppressions s ON s.channel = ? AND s.address = a.address
              \(history)
            ),
            firsts AS MATERIALIZED (
              SELECT address, min(profile_key) AS first_profile FROM g WHERE reason IS NULL GROUP BY address HAVING count(*) > 1
            )
            SELECT g.profile_key, g.entity_key, g.address, g.zone,
              coalesce(g.reason,
                CASE WHEN f.first_profile IS NOT NULL AND f.first_profile IS NOT g.profile_key THEN '\(ExclusionReason.duplicateAddress.rawValue)'
                     \(cap.map { "WHEN g.recent + \(nthSQL) > \($0) THEN '\(ExclusionReason.frequencyCap.rawValue)'" } ?? "")
                END) AS reason
            FROM g LEFT JOIN firsts f ON f.address = g.address
            ORDER BY g.profile_key, g.entity_key
            """
        // In recipient order: the ledger copy then adds to its profile and key indexes in order
        // (at a million messages, a third of the time of adding them at random places), and the
        // worker claims and renders its batches in key order.
        // The placeholders in order: the related rows' rule, consent, suppression, the history.
        var all = related.map { $0.keys.arguments.statementArguments } ?? StatementArguments()
        all += [channel.rawValue, channel.rawValue]
        all += arguments
        return (sql, all)
    }
}

/// Where a node runs: its run, campaign and id.
struct RunPosition {
    var runID: Int64
    var campaignID: Int64
    var node: NodeID
}
