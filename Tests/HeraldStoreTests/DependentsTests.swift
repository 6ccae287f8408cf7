import Foundation
import GRDB
import HeraldCore
import HeraldStore
import Testing

@testable import HeraldEngine

/// Catalog changes never silently break saved audiences or campaigns.
@Suite struct DependentsTests {
    let store: Store
    let service: AudienceService

    init() throws {
        store = try Scratch.demoCopy()
        service = AudienceService(store: store)
        _ = try service.save(
            name: "Far away", source: AudienceSource(entity: "bookings", rule: try Rule(parsing: #"destination.country <> "FR""#)),
            snapshot: false, description: "", replace: false)
    }

    func message(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch {
            return "\(error)"
        }
    }

    func catalogKey() throws -> [String] {
        try store.read { db in
            try String.fetchAll(db, sql: "SELECT entity || kind || name || value FROM herald_catalog_overrides ORDER BY 1")
        }
    }

    @Test func renamingALinkInUseIsRefusedNamingEveryUser() throws {
        let before = try catalogKey()
        let refused = message { try store.renameLink(entity: "bookings", link: "destination", to: "place") }
        #expect(refused?.contains("renaming bookings.destination would break saved audiences or campaigns; nothing was changed") == true)
        #expect(refused?.contains("audience 'Far away'") == true)
        #expect(refused?.contains("audience 'Upcoming beach trips'") == true)
        #expect(refused?.contains("campaign 'Departure reminder', node 'reminder', subject: '{{target.destination.city}}'") == true)
        #expect(refused?.contains("--update-dependents") == true)
        #expect(try catalogKey() == before)
        #expect(try store.loadCampaign("Departure reminder").version == 1)
    }

    @Test func updatingDependentsRewritesRulesTemplatesAndLinksAndKeepsCounts() throws {
        let farAway = try service.count(AudienceSource(entity: "bookings", rule: .inAudience("Far away")))
        let beach = try service.count(AudienceSource(entity: "bookings", rule: .inAudience("Upcoming beach trips")))
        var campaign = Campaign(name: "Moves")
        campaign.nodes = [
            Node(
                id: "a", label: "Trips",
                config: .buildAudience(entity: "bookings", rule: try Rule(parsing: "amount > 100"), emitWhenEmpty: false)),
            Node(id: "d", label: "Places", config: .changeDimension(link: "destination")),
            Node(id: "e", label: "End", config: .end),
        ]
        campaign.edges = [Edge(from: "a", to: "d"), Edge(from: "d", to: "e")]
        try store.saveCampaign(campaign, replace: false)

        let updated = try store.renameLink(entity: "bookings", link: "destination", to: "place", updateDependents: true)
        #expect(updated.contains("audience 'Far away': place.country != \"FR\""))
        #expect(updated.contains { $0.hasPrefix("campaign 'Departure reminder': saved as version 2") })
        #expect(updated.contains { $0.hasPrefix("campaign 'Moves': saved as version 2") })
        #expect(!updated.contains { $0.contains("Welcome series") })
        let reminder = try store.loadCampaign("Departure reminder")
        guard case .message(_, let settings) = reminder.campaign.node("reminder")?.config else {
            Issue.record("the reminder is not a message")
            return
        }
        #expect(settings.field("subject") == "Your trip to {{target.place.city}} departs on {{target.departs}}")
        #expect(try store.loadCampaign("Moves").campaign.node("d")?.config == .changeDimension(link: "place"))
        #expect(try service.count(AudienceSource(entity: "bookings", rule: .inAudience("Far away"))) == farAway)
        #expect(try service.count(AudienceSource(entity: "bookings", rule: .inAudience("Upcoming beach trips"))) == beach)
        // The other direction of the link (destinations.bookings) was not touched.
        #expect(try store.catalog().entity("destinations")?.link("bookings") != nil)
    }

    @Test func hidingAnAttributeInUseIsRefused() throws {
        let refused = message { try store.setHidden(entity: "destinations", attribute: "country", hidden: true) }
        #expect(refused?.contains("audience 'Far away'") == true)
        #expect(try store.catalog().entity("destinations")?.attribute("country")?.hidden == false)
    }

    @Test func removingAReferenceInUseIsRefused() throws {
        try store.write { db in
            try db.execute(sql: "CREATE TABLE reviews (id INTEGER PRIMARY KEY, profile_id INTEGER, stars INTEGER)")
        }
        try store.declareReference(entity: "reviews", column: "profile_id", target: "profiles", targetColumn: nil)
        _ = try service.save(
            name: "Reviewers", source: AudienceSource(entity: "profiles", rule: try Rule(parsing: "reviews.any(stars >= 4)")),
            snapshot: false, description: "", replace: false)
        #expect(message { try store.removeReference(entity: "reviews", column: "profile_id") }?.contains("audience 'Reviewers'") == true)
        try store.deleteAudience(named: "Reviewers")
        try store.removeReference(entity: "reviews", column: "profile_id")
        #expect(try store.catalog().entity("profiles")?.link("reviews") == nil)
    }

    @Test func changingTheProfileChannelsInUseIsRefused() throws {
        let refused = message { try store.setProfile(entity: "profiles", columns: [.email: nil]) }
        #expect(refused?.contains("has no email address column") == true)
        #expect(try store.catalog().profileChannels.email == "email")
    }

    @Test func anAudienceOtherAudiencesUseCannotBeDeletedOrRenamed() throws {
        _ = try service.save(
            name: "Far and big",
            source: AudienceSource(entity: "bookings", rule: try Rule(parsing: #"in_audience("Far away") and amount > 500"#)),
            snapshot: false, description: "", replace: false)
        #expect(message { try store.deleteAudience(named: "Far away") }?.contains("is used by saved audience 'Far and big'") == true)
        #expect(message { try store.renameAudience(named: "Far away", to: "Distant") }?.contains("saved audience 'Far and big'") == true)
        try store.deleteAudience(named: "Far and big")
        try store.deleteAudience(named: "Far away")
    }

    /// A stored rule that stops parsing or fitting the catalog fails every use, naming it.
    @Test func aBrokenSavedAudienceFailsClosed() throws {
        try store.write { db in
            try db.execute(sql: "UPDATE herald_audiences SET rule = 'country = \"FR\" and and' WHERE name = 'VIP travellers'")
        }
        for rule in [
            #"in_audience("VIP travellers")"#, #"in_audience("VIP travellers") or country = "FR""#, #"not in_audience("VIP travellers")"#,
        ] {
            let failure = message { _ = try service.count(AudienceSource(entity: "profiles", rule: try Rule(parsing: rule))) }
            #expect(failure?.contains("the saved audience 'VIP travellers' cannot be used: its rule no longer parses") == true, "\(rule)")
        }
        try store.write { db in
            try db.execute(sql: "UPDATE herald_audiences SET rule = 'nickname = \"x\" or shoe_size > 3' WHERE name = 'VIP travellers'")
        }
        let failure = message { _ = try service.count(AudienceSource(entity: "profiles", rule: .inAudience("VIP travellers"))) }
        #expect(failure?.contains("unknown attribute 'nickname' on 'profiles'; unknown attribute 'shoe_size' on 'profiles'") == true)
        // A campaign reading it does not validate, and so does not run.
        var campaign = Campaign(name: "VIP")
        campaign.nodes = [
            Node(id: "r", label: "VIPs", config: .readAudience(audience: "VIP travellers", emitWhenEmpty: false)),
            Node(id: "e", label: "End", config: .end),
        ]
        campaign.edges = [Edge(from: "r", to: "e")]
        let problems = CampaignValidator(checker: try store.audienceChecker()).validate(campaign).map(\.description)
        #expect(problems.contains { $0.hasPrefix("node 'r', audience: the saved audience 'VIP travellers' cannot be used") })
        let stored = try store.saveCampaign(campaign, replace: false)
        #expect(throws: HeraldError.self) { try Executor(store: store).dryRun(stored) }
    }
}
