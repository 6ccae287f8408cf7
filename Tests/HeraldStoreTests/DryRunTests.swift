import Foundation
import GRDB
import HeraldCore
import HeraldDemo
import HeraldEngine
import HeraldStore
import Testing

/// The example campaigns' dry-run counts against the same populations written by hand in SQL.
@Suite(.serialized) struct DryRunTests {
    let store: Store

    init() throws { store = try Scratch.demoCopy() }

    func count(_ sql: String) throws -> Int {
        try store.read { db in try Int.fetchOne(db, sql: sql) ?? -1 }
    }

    func counts(_ campaign: String) throws -> [String: Int] {
        let detail = try Executor(store: store).dryRun(try store.loadCampaign(.typed(campaign)))
        #expect(detail.summary.state == .completed)
        return Self.counts(detail)
    }

    /// Population per transition, keyed "node.port".
    static func counts(_ detail: RunDetail) -> [String: Int] {
        Dictionary(uniqueKeysWithValues: detail.edges.map { ("\($0.fromNode).\($0.port)", $0.count) })
    }

    @Test func welcomeSeries() throws {
        let c = try counts("Welcome series")
        let signups = "SELECT id FROM profiles WHERE signup_date >= '2026-10-01' AND email IS NOT NULL AND email <> ''"
        let total = try count("SELECT count(*) FROM (\(signups))")
        #expect(total > 0)
        #expect(c["signups.out"] == total)
        // The welcome e-mail passes on the recipients it did not exclude: here, those who opted out.
        let reached = "\(signups) EXCEPT SELECT profile_key FROM herald_consent WHERE channel = 'email' AND status = 'opted_out'"
        let welcomed = try count("SELECT count(*) FROM (\(reached))")
        #expect(welcomed < total)
        #expect(c["welcome.out"] == welcomed)
        #expect(c["wait.out"] == welcomed)
        let app = try count(
            "SELECT count(*) FROM (\(reached)) s JOIN profiles p USING (id) WHERE p.push_token IS NOT NULL AND p.push_token <> ''")
        #expect(c["split.subset1"] == app)
        #expect(c["split.subset2"] == welcomed / 2)  // 50% of the split's whole inbound population, rounded down
        #expect(c["split.complement"] == welcomed - app - welcomed / 2)
    }

    @Test func departureReminder() throws {
        let c = try counts("Departure reminder")
        let expected = try count(
            "SELECT count(*) FROM bookings WHERE status = 'confirmed' AND departs >= '2026-11-01' AND departs <= '2026-11-14'")
        #expect(expected > 0)
        #expect(c["departing.out"] == expected)
        // Transactional, one per booking: only the bookings whose traveller has no e-mail address are left out.
        let addressed = try count(
            """
            SELECT count(*) FROM bookings b JOIN profiles p ON p.id = b.profile_id
            WHERE b.status = 'confirmed' AND b.departs >= '2026-11-01' AND b.departs <= '2026-11-14' AND trim(ifnull(p.email, '')) <> ''
            """)
        #expect(addressed < expected)
        #expect(c["reminder.out"] == addressed)
    }

    /// Of the profiles `ids` (SQL), those a marketing message on `channel` reaches, written by
    /// hand: an address, no opt-out, and fewer than `cap.max` messages in the last `cap.days`
    /// days. (The demo's addresses are all well formed and unique, and nothing is suppressed.)
    func eligible(_ ids: String, channel: String, address: String, cap: (max: Int, days: Int)? = nil) -> String {
        var sql = """
            SELECT p.id FROM profiles p WHERE p.id IN (\(ids)) AND trim(ifnull(p.\(address), '')) <> ''
              AND NOT EXISTS (SELECT 1 FROM herald_consent c WHERE c.profile_key = p.id AND c.channel = '\(channel)' AND c.status = 'opted_out')
            """
        if let cap {
            sql += """
                 AND (SELECT count(*) FROM herald_messages h WHERE h.profile_key = p.id AND h.channel = '\(channel)'
                   AND h.category = 'marketing' AND h.status IN ('queued', 'deferred', 'claimed', 'sent', 'unknown')
                   AND coalesce(h.sent_at, h.created_at) > strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-\(cap.days) days')) < \(cap.max)
                """
        }
        return sql
    }

    @Test func winBack() throws {
        let c = try counts("Win-back")
        let lapsed = "SELECT id FROM profiles WHERE last_booking_date < '2025-11-01' AND country IN ('FR','DE','GB','ES','IT')"
        let total = try count("SELECT count(*) FROM (\(lapsed))")
        let members = try count(
            "SELECT count(*) FROM (\(lapsed)) l JOIN loyalty_memberships m ON m.profile_id = l.id WHERE m.tier IS NOT NULL AND m.tier <> ''"
        )
        #expect(total > 0 && members > 0)
        #expect(c["lapsed.out"] == total)
        #expect(c["tier.subset1"] == members)
        #expect(c["tier.complement"] == total - members)
        let memberIDs =
            "SELECT l.id FROM (\(lapsed)) l JOIN loyalty_memberships m ON m.profile_id = l.id WHERE m.tier IS NOT NULL AND m.tier <> ''"
        let texted = try count("SELECT count(*) FROM (\(eligible(memberIDs, channel: "sms", address: "phone", cap: (1, 30))))")
        #expect(texted > 0 && texted < members)
        #expect(c["sms.out"] == texted)
    }

    @Test func summerSale() throws {
        let c = try counts("Summer sale")
        let customers =
            "SELECT id FROM profiles p WHERE (SELECT count(*) FROM bookings b WHERE b.profile_id = p.id AND b.status = 'completed') >= 1 AND email IS NOT NULL AND email <> ''"
        let cancellers = "SELECT DISTINCT profile_id FROM bookings WHERE status = 'cancelled'"
        let kept = try count("SELECT count(*) FROM (\(customers)) WHERE id NOT IN (\(cancellers))")
        #expect(kept >= 100)  // the test takes its "Enough" branch
        #expect(c["customers.out"] == (try count("SELECT count(*) FROM (\(customers))")))
        #expect(c["cancellers.out"] == (try count("SELECT count(*) FROM (\(cancellers))")))
        #expect(c["exclude.out"] == kept)
        #expect(c["exclude.complement"] == (try count("SELECT count(*) FROM (\(customers)) WHERE id IN (\(cancellers))")))
        #expect(c["enough.branch1"] == kept && c["enough.default"] == 0)
        #expect(c["both.branch1"] == kept && c["both.branch2"] == kept)
        let keptIDs = "SELECT id FROM (\(customers)) WHERE id NOT IN (\(cancellers))"
        let mailed = eligible(keptIDs, channel: "email", address: "email")
        let pushed = eligible(keptIDs, channel: "push", address: "push_token")
        #expect(c["mail.out"] == (try count("SELECT count(*) FROM (\(mailed))")))
        #expect(c["app.out"] == (try count("SELECT count(*) FROM (\(pushed))")))
        let reached = try count("SELECT count(*) FROM (\(mailed) UNION \(pushed))")
        #expect(reached < kept)
        #expect(c["reached.out"] == reached && c["save.out"] == reached)
    }

    @Test func seededSamplesAreRepeatable() throws {
        let a = try counts("Welcome series")
        let b = try counts("Welcome series")
        #expect(a == b)
        // Same seed, same members: compare the sampled keys through two materialisations.
        let compiler = RuleCompiler(catalog: try store.catalog())
        let sql = try compiler.selectKeys(entity: "profiles", rule: try Rule(parsing: "country = \"FR\"")).sql
        let order = SQLiteDialect().sampleOrder(key: "key", keyIsInteger: true, seed: 42)
        let first = try store.read { db in
            try Int64.fetchAll(db, sql: "SELECT key FROM (\(sql)) ORDER BY \(order) LIMIT 20", arguments: ["FR"])
        }
        let second = try store.read { db in
            try Int64.fetchAll(db, sql: "SELECT key FROM (\(sql)) ORDER BY \(order) LIMIT 20", arguments: ["FR"])
        }
        #expect(first == second)
        #expect(first != first.sorted())  // a shuffled sample, not the first keys
    }

    @Test func runsAreRecordedAndWorkTablesDropped() throws {
        _ = try counts("Win-back")
        let runs = try store.listRuns(limit: 1)
        #expect(runs.first?.dryRun == true)
        let leftovers = try count("SELECT count(*) FROM sqlite_master WHERE name LIKE 'herald_work_%'")
        #expect(leftovers == 0)
        // The only log lines are the channel nodes' gate figures and sample renderings.
        #expect(try store.runLogs(runs[0].id).allSatisfy { ["channel.gates", "channel.samples"].contains($0.line.code) })
    }

    @Test func anEmptyAudienceEndsItsBranchAndIsLogged() throws {
        let stored = try store.saveAudienceThenEnd("Nobody", entity: "profiles", rule: "country = \"XX\"")
        let detail = try Executor(store: store).dryRun(stored)
        #expect(detail.nodes.first { $0.nodeID == "b" }?.state == .skipped)
        #expect(try store.runLogs(detail.summary.id).map(\.line.message) == ["the audience is empty; the branch ends here"])
    }

    @Test func changeDimensionMovesAlongLinksAndKeepsTheUnmatched() throws {
        var toProfiles = Campaign(name: "Travellers")
        toProfiles.nodes = [
            Node(
                id: "b", label: "Confirmed",
                config: .buildAudience(entity: "bookings", rule: try Rule(parsing: "status = \"confirmed\""), emitWhenEmpty: false)),
            Node(id: "c", label: "Their profiles", config: .changeDimension(link: "profile")),
            Node(id: "m", label: "Mail", config: .message(.email, ChannelSettings(content: [("subject", "Hi"), ("text", "Hello")]))),
        ]
        toProfiles.edges = [Edge(from: "b", to: "c"), Edge(from: "c", to: "m")]
        var detail = try Executor(store: store).dryRun(try store.saveCampaign(toProfiles, replace: false))
        var counts = Self.counts(detail)
        #expect(counts["c.out"] == (try count("SELECT count(DISTINCT profile_id) FROM bookings WHERE status = 'confirmed'")))
        #expect(counts["c.complement"] == 0)
        let mailed = try count(
            """
            SELECT count(DISTINCT b.profile_id) FROM bookings b JOIN profiles p ON p.id = b.profile_id
            WHERE b.status = 'confirmed' AND trim(ifnull(p.email, '')) <> ''
              AND NOT EXISTS (SELECT 1 FROM herald_consent c WHERE c.profile_key = p.id AND c.channel = 'email' AND c.status = 'opted_out')
            """)
        #expect(counts["m.out"] == mailed)

        var toBookings = Campaign(name: "Dutch bookings")
        toBookings.nodes = [
            Node(
                id: "p", label: "Dutch",
                config: .buildAudience(entity: "profiles", rule: try Rule(parsing: "country = \"NL\""), emitWhenEmpty: false)),
            Node(id: "c", label: "Their bookings", config: .changeDimension(link: "bookings")),
        ]
        toBookings.edges = [Edge(from: "p", to: "c")]
        detail = try Executor(store: store).dryRun(try store.saveCampaign(toBookings, replace: false))
        counts = Self.counts(detail)
        #expect(
            counts["c.out"] == (try count("SELECT count(*) FROM bookings b JOIN profiles p ON p.id = b.profile_id WHERE p.country = 'NL'")))
        let without = try count(
            "SELECT count(*) FROM profiles p WHERE p.country = 'NL' AND NOT EXISTS (SELECT 1 FROM bookings b WHERE b.profile_id = p.id)")
        #expect(without > 0)
        #expect(counts["c.complement"] == without)
        #expect(
            try store.runLogs(detail.summary.id).map(\.line.message).contains(
                "\(Names.groupedCount(without)) profiles had no 'bookings' (\(Names.groupedCount(without)) no matching bookings row); they went to the complement, each with its reason"
            ))
    }

    @Test func invalidCampaignsDoNotRun() throws {
        var campaign = Campaign(name: "Broken")
        campaign.nodes = [
            Node(
                id: "a", label: "A",
                config: .buildAudience(entity: "profiles", rule: try Rule(parsing: "contry = \"FR\""), emitWhenEmpty: false))
        ]
        let stored = try store.saveCampaign(campaign, replace: false)
        #expect(throws: HeraldError.self) { try Executor(store: store).dryRun(stored) }
    }

    @Test func compiledSQLBindsValuesAndNeverInlinesThem() throws {
        let compiler = RuleCompiler(catalog: try store.catalog())
        let hostile = "x'; DROP TABLE profiles; --"
        let compiled = try compiler.count(entity: "profiles", rule: .compare(AttributePath("country"), .equal, .text(hostile)))
        #expect(!compiled.sql.contains("DROP"))
        #expect(compiled.arguments == [.text(hostile)])
        #expect(try store.read { db in try Int.fetchOne(db, sql: compiled.sql, arguments: [hostile]) } == 0)
        #expect(try count("SELECT count(*) FROM profiles") > 0)
    }

    @Test func longInListsAreBoundAsOneValue() throws {
        let compiler = RuleCompiler(catalog: try store.catalog())
        let ids = (1...40_000).map { Literal.integer(Int64($0)) }
        let compiled = try compiler.count(entity: "profiles", rule: .inList(AttributePath("id"), ids, negated: false))
        #expect(compiled.arguments.count == 1)
        let values = StatementArguments(
            compiled.arguments.map { v -> DatabaseValue in
                if case .text(let s) = v { return s.databaseValue }
                return .null
            })
        #expect(
            try store.read { db in try Int.fetchOne(db, sql: compiled.sql, arguments: values) } == count("SELECT count(*) FROM profiles"))
    }
}

/// Scratch folders kept alive for the stores opened in them.
nonisolated(unsafe) var retained: [Scratch] = []

@Suite struct DemoGeneratorTests {
    @Test func theSameSeedGivesTheSameData() throws {
        let scratch = Scratch()
        let a = scratch.file("a.db")
        let b = scratch.file("b.db")
        _ = try DemoGenerator(profiles: 300, seed: 11).generate(to: a)
        _ = try DemoGenerator(profiles: 300, seed: 11).generate(to: b)
        func digest(_ path: String) throws -> [String] {
            let store = try Store.open(path: path)
            return try store.read { db in
                try ["profiles", "bookings", "loyalty_memberships", "destinations", "herald_consent"].flatMap { table in
                    try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY 1, 2").map(\.description)
                }
            }
        }
        #expect(try digest(a) == digest(b))
        let summary = try DemoGenerator(profiles: 300, seed: 12).generate(to: scratch.file("c.db"))
        #expect(summary.profiles == 300)
        #expect(summary.campaigns == 5)
        #expect(try digest(a) != digest(scratch.file("c.db")))
    }

    @Test func exampleCampaignsAreValidOnTheDemoCatalog() throws {
        let store = try Store.open(path: Scratch.demoPath)
        let validator = CampaignValidator(catalog: try store.catalog())
        for campaign in try DemoCampaigns.all() {
            #expect(validator.validate(campaign) == [], "\(campaign.name)")
        }
    }

    /// Together the examples use every node kind, and every form of the kinds that have several.
    @Test func exampleCampaignsExerciseEveryNodeKind() throws {
        let nodes = try DemoCampaigns.all().flatMap(\.nodes)
        let kinds = Set(nodes.map(\.kind))
        #expect(kinds == Set(NodeKind.allCases), "missing: \(Set(NodeKind.allCases).subtracting(kinds).map(\.rawValue).sorted())")
        #expect(nodes.contains { if case .endAndStart = $0.config { true } else { false } })
        #expect(nodes.contains { if case .waitUntil = $0.config { true } else { false } })
        #expect(nodes.contains { if case .wait = $0.config { true } else { false } })
    }
}
