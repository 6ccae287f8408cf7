import Foundation
import GRDB
import HeraldCore
import HeraldStore
import Testing

@testable import HeraldEngine

@Suite struct AudienceTests {
    let store: Store
    let service: AudienceService

    init() throws {
        store = try Scratch.demoCopy()
        service = AudienceService(store: store)
    }

    func count(_ rule: String, entity: String = "profiles") throws -> Int {
        try service.count(AudienceSource(entity: entity, rule: try Rule(parsing: rule)))
    }

    func sql(_ query: String) throws -> Int { try store.read { db in try Int.fetchOne(db, sql: query) ?? -1 } }

    @Test func aggregatesMatchHandWrittenSQL() throws {
        #expect(
            try count("bookings.count(status = \"confirmed\") >= 2")
                == sql(
                    "SELECT count(*) FROM profiles p WHERE (SELECT count(*) FROM bookings b WHERE b.profile_id = p.id AND b.status = 'confirmed') >= 2"
                ))
        #expect(
            try count("bookings.sum(amount where status = \"completed\") > 3000")
                == sql(
                    "SELECT count(*) FROM profiles p WHERE (SELECT coalesce(sum(amount), 0) FROM bookings b WHERE b.profile_id = p.id AND b.status = 'completed') > 3000"
                ))
        #expect(
            try count("bookings.none()")
                == sql("SELECT count(*) FROM profiles p WHERE NOT EXISTS (SELECT 1 FROM bookings b WHERE b.profile_id = p.id)"))
        #expect(
            try count("bookings.latest(departs) < \"2026-01-01\"")
                == sql(
                    "SELECT count(*) FROM profiles p WHERE (SELECT max(departs) FROM bookings b WHERE b.profile_id = p.id) < '2026-01-01'"))
        #expect(
            try count("profile.country = \"FR\" and destination.kind = \"beach\"", entity: "bookings")
                == sql(
                    "SELECT count(*) FROM bookings b JOIN profiles p ON p.id = b.profile_id JOIN destinations d ON d.id = b.destination_id WHERE p.country = 'FR' AND d.kind = 'beach'"
                ))
    }

    /// The compiler is kept between queries; anything it was built from changing must show at once.
    @Test func theKeptCompilerFollowsEveryDefinitionChange() throws {
        #expect(throws: HeraldError.self) { try count(#"in_audience("Lyon") and country = "FR""#) }
        _ = try service.save(
            name: "Lyon", source: AudienceSource(entity: "profiles", rule: try Rule(parsing: #"city = "Lyon""#)), snapshot: false,
            description: "", replace: false)
        let lyon = try sql("SELECT count(*) FROM profiles WHERE city = 'Lyon'")
        #expect(try count(#"in_audience("Lyon")"#) == lyon)
        // Redefined under the same name: the new rule is used.
        _ = try service.save(
            name: "Lyon", source: AudienceSource(entity: "profiles", rule: try Rule(parsing: #"city = "Paris""#)), snapshot: false,
            description: "", replace: true)
        #expect(try count(#"in_audience("Lyon")"#) == (try sql("SELECT count(*) FROM profiles WHERE city = 'Paris'")))
        // A renamed link and a hidden attribute change what rules may say.
        _ = try store.renameLink(entity: "profiles", link: "bookings", to: "trips", updateDependents: true)
        #expect(
            try count("trips.any()")
                == (try sql("SELECT count(*) FROM profiles p WHERE EXISTS (SELECT 1 FROM bookings b WHERE b.profile_id = p.id)")))
        #expect(throws: HeraldError.self) { try count("bookings.any()") }
        // Hiding an attribute a saved audience uses is refused, naming it; an unused one hides.
        do {
            try store.setHidden(entity: "profiles", attribute: "city", hidden: true)
            Issue.record("hiding an attribute in use was allowed")
        } catch {
            #expect("\(error)".contains("audience 'Lyon': its rule no longer fits the catalog (unknown attribute 'city' on 'profiles'"))
        }
        #expect(try count(#"city = "Lyon""#) == (try sql("SELECT count(*) FROM profiles WHERE city = 'Lyon'")))
        try store.setHidden(entity: "profiles", attribute: "last_name", hidden: true)
        #expect(throws: HeraldError.self) { try count(#"last_name = "Doe""#) }
        // `now()` is taken at each compilation, not when the compiler was first built.
        let first = try service.compiler().now
        usleep(2_000)
        #expect(try service.compiler().now > first)
        // Variables are part of what the compiler was built with.
        let fr = try service.count(
            AudienceSource(entity: "profiles", rule: try Rule(parsing: "country = $market")), variables: ["market": .text("FR")])
        let de = try service.count(
            AudienceSource(entity: "profiles", rule: try Rule(parsing: "country = $market")), variables: ["market": .text("DE")])
        #expect(fr == (try sql("SELECT count(*) FROM profiles WHERE country = 'FR'")))
        #expect(de == (try sql("SELECT count(*) FROM profiles WHERE country = 'DE'")))
    }

    @Test func relativeDatesAreBoundAtCompileTime() throws {
        let catalog = try store.catalog()
        let noon = ISO8601DateFormatter().date(from: "2026-11-01T12:30:00Z")!
        let compiler = RuleCompiler(catalog: catalog, now: noon, timeZone: TimeZone(identifier: "Pacific/Auckland")!)
        let compiled = try compiler.selectKeys(
            entity: "bookings", rule: try Rule(parsing: "departs > now() - 30d and booked_at < now() + 2h and departs <= today() + 1w"))
        // 12:30 UTC is already the 2nd in Auckland, so today() + 1w is the 9th.
        #expect(compiled.arguments == [.text("2026-10-02"), .text("2026-11-01T14:30:00Z"), .text("2026-11-09")])
    }

    @Test func savedAudiencesLiveAndSnapshot() throws {
        let live = try service.save(
            name: "Gold", source: AudienceSource(entity: "profiles", rule: try Rule(parsing: "loyalty_memberships.tier = \"gold\"")),
            snapshot: false,
            description: "", replace: false)
        let gold = try count("loyalty_memberships.tier = \"gold\"")
        #expect(live.memberCount == gold)
        #expect(try count("in_audience(\"Gold\")") == gold)
        let snap = try service.save(
            name: "Gold then", source: AudienceSource(entity: "profiles", rule: try Rule(parsing: "in_audience(\"Gold\")")), snapshot: true,
            description: "", replace: false)
        #expect(snap.memberCount == gold)
        // A change to the data moves the live audience, not the snapshot, until it is refreshed.
        try store.write { db in try db.execute(sql: "UPDATE loyalty_memberships SET tier = 'gold' WHERE tier = 'silver' AND id % 10 = 0") }
        let after = try count("loyalty_memberships.tier = \"gold\"")
        #expect(after > gold)
        #expect(try count("in_audience(\"Gold\")") == after)
        #expect(try count("in_audience(\"Gold then\")") == gold)
        #expect(try service.refresh(name: "Gold then").memberCount == after)
        #expect(throws: HeraldError.self) {
            try service.save(
                name: "gold", source: AudienceSource(entity: "profiles", rule: .all), snapshot: false, description: "", replace: false)
        }
        #expect(throws: HeraldError.self) { try count("in_audience(\"Gold\")", entity: "bookings") }
    }

    @Test func deletingAnAudienceACampaignUsesIsRefused() throws {
        _ = try service.save(
            name: "Beach lovers",
            source: AudienceSource(entity: "profiles", rule: try Rule(parsing: "bookings.any(destination.kind = \"beach\")")),
            snapshot: false, description: "", replace: false)
        var campaign = Campaign(name: "Sun")
        campaign.nodes = [
            Node(
                id: "a", label: "A",
                config: .buildAudience(entity: "profiles", rule: try Rule(parsing: "in_audience(\"Beach lovers\")"), emitWhenEmpty: false))
        ]
        try store.saveCampaign(campaign, replace: false)
        do {
            try store.deleteAudience(named: "Beach lovers")
            Issue.record("deleted an audience in use")
        } catch {
            #expect("\(error)".contains("is used by campaign 'Sun'"), "\(error)")
        }
        #expect(throws: HeraldError.self) { try store.renameAudience(named: "Beach lovers", to: "Sand") }
        let detail = try Executor(store: store).dryRun(try store.loadCampaign("Sun"))
        #expect(detail.edges.first?.count == (try count("bookings.any(destination.kind = \"beach\")")))
    }

    @Test func aReadAudienceNodeReadsTheSavedAudience() throws {
        var campaign = Campaign(name: "VIP note")
        campaign.nodes = [
            Node(id: "vip", label: "VIPs", config: .readAudience(audience: "VIP travellers", emitWhenEmpty: false)),
            Node(id: "email", label: "Mail", config: .message(.email, ChannelSettings(content: [("subject", "Hi"), ("text", "Hello")]))),
        ]
        campaign.edges = [Edge(from: "vip", to: "email")]
        let detail = try Executor(store: store).dryRun(try store.saveCampaign(campaign, replace: false))
        #expect(detail.edges.first { $0.fromNode == "vip" }?.count == (try count("loyalty_memberships.tier in (\"gold\", \"platinum\")")))
        #expect(throws: HeraldError.self) { try store.deleteAudience(named: "VIP travellers") }
    }

    @Test func exportAndImportRoundTrip() throws {
        let source = AudienceSource(
            entity: "profiles",
            rule: try Rule(
                parsing: "country = \"NL\" and age_is_not_here is empty".replacingOccurrences(of: " and age_is_not_here is empty", with: "")
            ))
        var csv = ""
        let n = try service.exportCSV(source, columns: ["email", "home_city_is_absent"].prefix(1).map { $0 }) { csv += $0 }
        #expect(n == (try count("country = \"NL\"")))
        #expect(csv.hasPrefix("id,email\r\n"))
        let scratch = Scratch()
        let file = scratch.file("keys.csv", csv)
        let imported = try service.importKeys(name: "Dutch", entity: "profiles", file: file, keyColumn: "id", replace: false)
        #expect(imported.memberCount == n)
        #expect(try count("in_audience(\"Dutch\")") == n)
        let bad = scratch.file("bad.csv", "id\n1\n999999999\n")
        do {
            _ = try service.importKeys(name: "Bad", entity: "profiles", file: bad, keyColumn: nil, replace: false)
            Issue.record("imported unknown keys")
        } catch {
            #expect("\(error)".contains("keys not in profiles: 999999999; nothing was imported"), "\(error)")
        }
        #expect(throws: HeraldError.self) { try store.audience(named: "Bad") }
    }

    @Test func distributionsCoverEveryValue() throws {
        let all = AudienceSource(entity: "profiles", rule: .all)
        let countries = try service.distribution(all, attribute: "country")
        #expect(countries.kind == "values")
        #expect(countries.buckets.reduce(0) { $0 + $1.count } == (try count("true")))
        #expect(countries.buckets.count == (try sql("SELECT count(DISTINCT country) FROM profiles")))
        let values = try service.distribution(all, attribute: "lifetime_value", buckets: 4)
        #expect(values.kind == "buckets" && values.buckets.count == 4)
        #expect(values.buckets.reduce(0) { $0 + $1.count } == (try count("true")))
        let signups = try service.distribution(all, attribute: "signup_date")
        #expect(signups.kind == "years")
        #expect(signups.buckets.reduce(0) { $0 + $1.count } == (try count("true")))
        // Empty values (NULL, and '' stored in a numeric column) are their own bucket, never a range.
        try store.write { db in
            try db.execute(sql: "CREATE TABLE scores (id INTEGER PRIMARY KEY, points REAL)")
            try db.execute(
                sql:
                    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100) INSERT INTO scores SELECT i, CASE WHEN i % 10 = 0 THEN '' WHEN i % 10 = 1 THEN NULL ELSE i * 1.5 END FROM n"
            )
        }
        let points = try service.distribution(AudienceSource(entity: "scores", rule: .all), attribute: "points", buckets: 5)
        #expect(points.kind == "buckets")
        #expect(points.buckets.map(\.label).last == "(empty)" && points.buckets.last?.count == 20)
        #expect(points.buckets.reduce(0) { $0 + $1.count } == 100)
        let destinations = try service.distribution(AudienceSource(entity: "bookings", rule: .all), attribute: "destination.region")
        #expect(destinations.buckets.map(\.label).contains("Asia"))
    }

    @Test func explainShowsThePlanAndIndexAdvice() throws {
        // With bookings(profile_id) indexed, nothing says it is missing.
        let indexed = try service.explain(
            AudienceSource(entity: "profiles", rule: try Rule(parsing: "bookings.count(status = \"confirmed\") >= 2")))
        #expect(!indexed.hints.contains { $0.contains("has no index") }, "\(indexed.hints)")
        try store.write { db in try db.execute(sql: "DROP INDEX bookings_profile") }
        let e = try service.explain(
            AudienceSource(entity: "profiles", rule: try Rule(parsing: "bookings.count(status = \"confirmed\") >= 2")))
        #expect(e.sql.contains("SELECT count(*)"))
        #expect(e.arguments == [.text("confirmed"), .integer(2)])
        #expect(!e.plan.isEmpty)
        #expect(
            e.hints.contains {
                $0.contains("has no index on profile_id") && $0.contains("CREATE INDEX bookings_profile_id ON bookings(profile_id, status)")
            }, "\(e.hints)")
        // Two uses of the same link give one hint, covering the columns of both.
        let twice = try service.explain(
            AudienceSource(
                entity: "profiles",
                rule: try Rule(parsing: "bookings.any(status = \"confirmed\") and bookings.sum(amount where status = \"completed\") > 10")))
        #expect(twice.hints.count == 1, "\(twice.hints)")
        #expect(twice.hints.first?.contains("ON bookings(profile_id, amount, status)") == true, "\(twice.hints)")
    }
}

@Suite struct AbuseTests {
    let store: Store

    init() throws { store = try Scratch.demoCopy() }

    func count(_ rule: Rule) throws -> Int { try AudienceService(store: store).count(AudienceSource(entity: "profiles", rule: rule)) }

    @Test(arguments: [
        "x'; DROP TABLE profiles; --", "\"; DELETE FROM bookings; --", "Robert'); DROP TABLE herald_runs;--", "%", "_",
        String(repeating: "é", count: 1_000_000),
    ])
    func hostileValuesAreJustValues(value: String) throws {
        let rule = Rule.or([
            .compare(AttributePath("country"), .equal, .text(value)),
            .text(AttributePath("email"), .contains, .text(value), negated: false),
            .inList(AttributePath("city"), [.text(value), .text("x")], negated: false),
        ])
        // No profile has such a country, city or e-mail: a value is matched literally, so even
        // "%" and "_" select nobody (they would select everybody if they reached a LIKE unescaped).
        #expect(try count(rule) == 0)
        #expect(try store.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM profiles") } ?? 0 > 0)
        #expect(try store.read { db in try db.tableExists("herald_runs") })
        // The printed rule parses back to the same values.
        #expect(try Rule(parsing: rule.text) == rule)
    }

    @Test func nulCharactersAreRefusedWithAReason() throws {
        do {
            _ = try count(.compare(AttributePath("country"), .equal, .text("a\u{0}b")))
            Issue.record("a NUL value was accepted")
        } catch {
            #expect("\(error)".contains("contains a NUL character"))
        }
    }

    @Test func hugeInListsAndDeepRules() throws {
        let ids = (1...50_000).map { Literal.integer(Int64($0)) }
        #expect(try count(.inList(AttributePath("id"), ids, negated: false)) == (try count(.all)))
        let fr = Rule.compare(AttributePath("country"), .equal, .text("FR"))
        let doubleNegations = (0..<500).reduce(fr) { r, _ in .not(.not(r)) }
        #expect(try count(doubleNegations) == (try count(fr)))
        let nested = (0..<80).reduce(fr) { r, _ in .and([.or([r, fr]), .all]) }
        do {
            _ = try count(nested)
            Issue.record("a rule nested 160 levels deep reached SQLite")
        } catch {
            #expect("\(error)".contains("nests more than 60 levels deep"))
        }
        #expect(throws: RuleSyntaxError.self) {
            try Rule(parsing: String(repeating: "(", count: 1000) + "a = 1" + String(repeating: ")", count: 1000))
        }
    }

    @Test func theReadConnectionRefusesAnythingButCatalogReads() throws {
        let service = AudienceService(store: store)
        #expect(
            try service.guardedCount(
                sql: "SELECT count(*) FROM profiles p JOIN bookings b ON b.profile_id = p.id WHERE instr(p.email, 'a') > 0") > 0)
        for (sql, refused) in [
            ("SELECT count(*) FROM herald_runs", "read table 'herald_runs'"),
            ("SELECT count(*) FROM herald_consent", "read table 'herald_consent'"),
            ("DELETE FROM profiles", "write to table 'profiles'"), ("PRAGMA table_info(profiles)", "not a read"),
            ("ATTACH DATABASE ':memory:' AS other", "not a read"),
        ] {
            do {
                _ = try service.guardedCount(sql: sql)
                Issue.record("ran: \(sql)")
            } catch {
                #expect("\(error)".contains(refused), "\(sql): \(error)")
            }
        }
    }

    @Test func unknownNamesNeverReachSQL() throws {
        for text in ["`profiles\"; DROP TABLE x; --` = 1", "bookings.`count(*)`() > 1", "nosuch.thing = 1"] {
            let rule = try? Rule(parsing: text)
            if let rule { #expect(throws: HeraldError.self) { try count(rule) } }
        }
    }
}

@Suite struct CancellationTests {
    @Test func aLongCountStopsWhenCancelled() throws {
        let scratch = Scratch()
        let store = try scratch.store()
        try store.addSlowNodes()
        // Correlated, the count is quadratic: slow enough to be stopped.
        let service = AudienceService(store: store, oneToManyForm: .correlated)
        let rule = try Rule(parsing: "nodes.count(weight > 2) > 1")
        let cancellation = QueryCancellation()
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { cancellation.cancel() }
        do {
            _ = try service.count(AudienceSource(entity: "nodes", rule: rule), cancellation: cancellation)
            Issue.record("the count finished instead of being cancelled")
        } catch let error as HeraldError {
            #expect(error.code == .cancelled)
            #expect(error.message == "the query was cancelled")
        }
        do {
            _ = try service.count(AudienceSource(entity: "nodes", rule: rule), timeLimit: 0.3)
            Issue.record("the count finished instead of hitting its time limit")
        } catch let error as HeraldError {
            #expect(error.code == .cancelled)
            #expect(error.message.contains("time limit"))
        }
        // The store is still usable afterwards.
        #expect(try service.count(AudienceSource(entity: "nodes", rule: try Rule(parsing: "weight = 1"))) > 0)
    }
}

/// Repeated requests are answered from the cache; any change to the data, from this process or
/// another one, is seen by the next request.
@Suite struct ResultCacheTests {
    func sqlite(_ db: String, _ sql: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = [db, sql]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }

    @Test func repeatsHitTheCacheAndEveryWriteInvalidatesIt() throws {
        let writer = try Scratch.demoCopy()
        let reader = try Store.openForReading(path: writer.path)
        let service = AudienceService(store: reader)
        let source = AudienceSource(entity: "profiles", rule: try Rule(parsing: #"country = "FR""#))
        let first = try service.count(source)
        #expect(service.results.hits == 0)
        #expect(try service.count(source) == first)
        #expect(service.results.hits == 1)
        _ = try service.sample(source, columns: ["country"], limit: 3)
        _ = try service.sample(source, columns: ["country"], limit: 3)
        _ = try service.distribution(source, attribute: "language")
        _ = try service.distribution(source, attribute: "language")
        #expect(service.results.hits == 3)
        // Another connection in this process commits: the next count sees it.
        try writer.write { db in
            try db.execute(sql: "UPDATE profiles SET country = 'FR' WHERE id IN (SELECT id FROM profiles WHERE country <> 'FR' LIMIT 5)")
        }
        #expect(try service.count(source) == first + 5)
        // Another process commits: the same.
        try sqlite(writer.path, "UPDATE profiles SET country = 'DE' WHERE id IN (SELECT id FROM profiles WHERE country = 'FR' LIMIT 2)")
        #expect(try service.count(source) == first + 3)
        // A saved audience's new definition is a new key too.
        let hitsBefore = service.results.hits
        #expect(try service.count(source) == first + 3)
        #expect(service.results.hits == hitsBefore + 1)
    }

    @Test func rulesWithNowAreKeptBrieflyAndTheCacheIsBounded() throws {
        let cache = ResultCache()
        cache.set("a", 1, volatile: true)
        cache.set("b", 2, volatile: false)
        #expect(cache.get("a") == 1)
        for i in 0..<(ResultCache.capacity + 10) { cache.set("k\(i)", i, volatile: false) }
        #expect((cache.get("a") as Int?) == nil)
        #expect((cache.get("b") as Int?) == nil)
        #expect(cache.get("k\(ResultCache.capacity + 9)") == ResultCache.capacity + 9)
        let service = AudienceService(store: try Scratch.demoCopy())
        #expect(
            service.resultKey(
                "count", AudienceSource(entity: "profiles", rule: try Rule(parsing: "signup_date > today() - 30d")), "", definitions: "d"
            ).volatile)
        #expect(
            !service.resultKey("count", AudienceSource(entity: "profiles", rule: try Rule(parsing: "age > 3")), "", definitions: "d")
                .volatile)
    }
}
