import Foundation
import GRDB
import HeraldCore
import HeraldEngine
import HeraldStore
import Testing

/// Enrichment fields computed by the compiler against the same values written by hand in SQL,
/// on a population with and without related rows.
@Suite struct EnrichmentTests {
    let store: Store

    init() throws { store = try Scratch.demoCopy() }

    static let fields: [EnrichmentField] = [
        EnrichmentField(name: "confirmed", value: .value(try! ValueExpression(parsing: #"bookings.count(status = "confirmed")"#))),
        EnrichmentField(name: "spent", value: .value(try! ValueExpression(parsing: #"bookings.sum(amount where status = "completed")"#))),
        EnrichmentField(name: "last_trip", value: .value(try! ValueExpression(parsing: "bookings.latest(departs)"))),
        EnrichmentField(name: "tier", value: .value(try! ValueExpression(parsing: "loyalty_memberships.tier"))),
        EnrichmentField(
            name: "upcoming",
            value: .rows(
                RelatedRows(
                    link: ["bookings"], columns: [AttributePath("departs"), AttributePath("destination.city")],
                    filter: try! Rule(parsing: #"status = "confirmed""#), orderBy: "departs", first: 3))),
    ]

    /// The enriched rows of the profiles with ids up to 400, by key.
    func enriched(_ fields: [EnrichmentField]) throws -> [Int64: Row] {
        let compiler = try AudienceService(store: store).compiler()
        let select = try compiler.enrichment(population: "pop", entity: "profiles", fields: fields)
        return try store.write { db in
            try db.execute(sql: "CREATE TEMP TABLE pop (key INTEGER PRIMARY KEY)")
            try db.execute(sql: "INSERT INTO pop SELECT id FROM profiles WHERE id <= 400")
            defer { try? db.execute(sql: "DROP TABLE temp.pop") }
            let rows = try Row.fetchAll(
                db, sql: select.sql,
                arguments: StatementArguments(
                    select.arguments.map { v -> DatabaseValue in
                        switch v {
                        case .null: .null
                        case .integer(let i): i.databaseValue
                        case .real(let r): r.databaseValue
                        case .text(let s): s.databaseValue
                        }
                    }))
            return Dictionary(uniqueKeysWithValues: rows.map { ($0["key"] as Int64, $0) })
        }
    }

    @Test func fieldsEqualHandWrittenSQL() throws {
        let rows = try enriched(Self.fields)
        #expect(rows.count == 400)
        let expected = try store.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT p.id,
                      (SELECT count(*) FROM bookings b WHERE b.profile_id = p.id AND b.status = 'confirmed') AS confirmed,
                      coalesce((SELECT sum(amount) FROM bookings b WHERE b.profile_id = p.id AND b.status = 'completed'), 0) AS spent,
                      (SELECT max(departs) FROM bookings b WHERE b.profile_id = p.id) AS last_trip,
                      (SELECT tier FROM loyalty_memberships l WHERE l.profile_id = p.id) AS tier,
                      (SELECT json_group_array(json_object('departs', departs, 'city', city)) FROM
                        (SELECT b.departs, d.city FROM bookings b JOIN destinations d ON d.id = b.destination_id
                         WHERE b.profile_id = p.id AND b.status = 'confirmed' ORDER BY b.departs, b.id LIMIT 3)) AS upcoming
                    FROM profiles p WHERE p.id <= 400
                    """)
        }
        var withTrips = 0
        var withoutBookings = 0
        for row in expected {
            let id: Int64 = row["id"]
            guard let got = rows[id] else {
                Issue.record("profile \(id) is missing")
                continue
            }
            #expect(got["confirmed"] as Int64 == row["confirmed"] as Int64, "profile \(id)")
            #expect(got["spent"] as Double == row["spent"] as Double, "profile \(id)")
            #expect(got["last_trip"] as String? == row["last_trip"] as String?, "profile \(id)")
            #expect(got["tier"] as String? == row["tier"] as String?, "profile \(id)")
            #expect(got["upcoming"] as String == row["upcoming"] as String, "profile \(id)")
            if (row["confirmed"] as Int64) > 1 { withTrips += 1 }
            if row["last_trip"] as String? == nil { withoutBookings += 1 }
        }
        // The fixture covers several related rows, none, and profiles without a membership.
        #expect(withTrips > 0 && withoutBookings > 0)
        #expect(expected.contains { $0["tier"] as String? == nil } && expected.contains { $0["tier"] as String? != nil })
        // No related row: a count and a sum of nothing are 0, the rows an empty array.
        let lonely = try #require(expected.first { $0["last_trip"] as String? == nil })
        #expect(rows[lonely["id"]]?["upcoming"] as String? == "[]")
        #expect(rows[lonely["id"]]?["confirmed"] as Int64? == 0)
    }

    @Test func relatedRowsAreLimitedAndOrdered() throws {
        let descending = EnrichmentField(
            name: "latest",
            value: .rows(
                RelatedRows(link: ["bookings"], columns: [AttributePath("departs")], orderBy: "departs", descending: true, first: 2)))
        let rows = try enriched([descending])
        var checked = 0
        for row in rows.values {
            let text: String = row["latest"]
            let departs = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: String]]).compactMap {
                $0["departs"]
            }
            #expect(departs.count <= 2)
            #expect(departs == departs.sorted(by: >))
            if departs.count == 2 { checked += 1 }
        }
        #expect(checked > 0)
    }

    @Test func theNodeAddsTypedColumnsAndPassesItsPopulationOn() throws {
        var campaign = Campaign(name: "Enriched")
        campaign.nodes = [
            Node(
                id: "a", label: "French",
                config: .buildAudience(entity: "profiles", rule: try Rule(parsing: #"country = "FR""#), emitWhenEmpty: false)),
            Node(id: "e", label: "Details", config: .enrich(fields: Self.fields)),
            Node(
                id: "m", label: "Letter",
                config: .message(
                    .directMail,
                    ChannelSettings(content: [("columns", "{{profile.first_name}} {{confirmed}} {{#upcoming}}{{city}}{{/upcoming}}")]))),
            Node(id: "z", label: "Done", config: .end),
        ]
        campaign.edges = [Edge(from: "a", to: "e"), Edge(from: "e", to: "m"), Edge(from: "m", to: "z")]
        let validator = CampaignValidator(checker: try store.audienceChecker())
        #expect(validator.validate(campaign) == [])
        let detail = try Executor(store: store).dryRun(try store.saveCampaign(campaign, replace: false))
        #expect(detail.summary.state == .completed)
        let french = try store.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM profiles WHERE country = 'FR'") ?? -1 }
        #expect(detail.edges.first { $0.fromNode == "e" }?.count == french)
        let node = try #require(detail.nodes.first { $0.nodeID == "e" })
        #expect(node.detail?.contains("confirmed (integer)") == true)
        #expect(node.detail?.contains("upcoming (rows of (city, departs))") == true)
        #expect(node.detail?.contains("spent (real)") == true)
    }

    @Test func validationNamesEveryProblem() throws {
        var campaign = Campaign(name: "Broken enrichment")
        campaign.nodes = [
            Node(id: "a", label: "All", config: .buildAudience(entity: "profiles", rule: .all, emitWhenEmpty: false)),
            Node(
                id: "e", label: "Details",
                config: .enrich(fields: [
                    EnrichmentField(name: "city", value: .value(.attribute(AttributePath("bookings.status")))),
                    EnrichmentField(name: "city", value: .value(.attribute(AttributePath("city")))),
                    EnrichmentField(name: "2nd", value: .value(try ValueExpression(parsing: "bookings.sum(status)"))),
                    EnrichmentField(
                        name: "rows", value: .rows(RelatedRows(link: ["bookings"], columns: [AttributePath("departs")], first: 0))),
                    EnrichmentField(name: "place", value: .value(.attribute(AttributePath("town")))),
                ])),
            Node(
                id: "m", label: "Letter",
                config: .message(
                    .directMail, ChannelSettings(content: [("columns", "{{city}} {{nothing}} {{#rows}}{{amount}}{{/rows}} {{city.x}}")]))),
            Node(id: "z", label: "Done", config: .end),
        ]
        campaign.edges = [Edge(from: "a", to: "e"), Edge(from: "e", to: "m"), Edge(from: "m", to: "z")]
        let problems = CampaignValidator(checker: try store.audienceChecker()).validate(campaign).map(\.description)
        func has(_ text: String) -> Bool { problems.contains { $0.contains(text) } }
        #expect(has("fields[0]: 'bookings' is a one-to-many link"))
        #expect(has("fields[1].name: the field 'city' is named twice"))
        #expect(has("fields[4]: unknown attribute 'town' on 'profiles'"))
        #expect(has("fields[2].name: '2nd' is not a field name"))
        #expect(has("fields[2]: sum needs a number column; 'status' is text"))
        #expect(has("fields[3]: first must be 1 to 100, found 0"))
        #expect(has("'{{nothing}}' names no field"))
        #expect(has("'{{amount}}' names no field"))
        #expect(has("'{{city.x}}': 'city' is an added field"))
        #expect(!has("'{{city}}'"))
    }

    @Test func valueExpressionsPrintAndParseBack() throws {
        for text in [#"bookings.count(status = "confirmed")"#, "bookings.sum(amount where departs >= today() - 30d)", "home.city", "tier"] {
            let value = try ValueExpression(parsing: text)
            #expect(value.text == text)
            #expect(try ValueExpression(parsing: value.text) == value)
        }
        #expect(throws: RuleSyntaxError.self) { try ValueExpression(parsing: "bookings.any()") }
        #expect(throws: RuleSyntaxError.self) { try ValueExpression(parsing: "city = 1") }
        #expect(throws: RuleSyntaxError.self) { try ValueExpression(parsing: " ") }
    }

    @Test func theFormatRoundTripsEveryFieldShape() throws {
        var campaign = Campaign(name: "Round trip")
        campaign.nodes = [
            Node(id: "a", label: "All", config: .buildAudience(entity: "profiles", rule: .all, emitWhenEmpty: false)),
            Node(id: "e", label: "Details", config: .enrich(fields: Self.fields)),
        ]
        campaign.edges = [Edge(from: "a", to: "e")]
        let text = CampaignFormat.encodeText(campaign)
        #expect(try CampaignFormat.decode(text: text) == campaign)
        #expect(text.contains(#""rows": "bookings""#))
        let bad = text.replacingOccurrences(of: #""first": 3"#, with: #""first": "three""#)
        #expect(throws: HeraldError.self) { try CampaignFormat.decode(text: bad) }
        let neither = text.replacingOccurrences(of: #""rows": "bookings","#, with: "")
        #expect { try CampaignFormat.decode(text: neither) } throws: { "\($0)".contains("fields[4]: give 'value'") }
    }
}
