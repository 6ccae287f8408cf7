import Foundation
import GRDB
import HeraldCore
import HeraldStore
import Testing

@testable import HeraldEngine

@Suite struct IndexAdvisorTests {
    @Test func advisesCoveringIndexesForSavedRulesAndAppliesAndDropsThem() throws {
        let store = try Scratch.demoCopy()
        let service = AudienceService(store: store)
        _ = try service.save(
            name: "Big spenders",
            source: AudienceSource(entity: "profiles", rule: try Rule(parsing: #"bookings.sum(amount where status = "completed") > 500"#)),
            snapshot: false, description: "", replace: false)
        let advisor = IndexAdvisor(service: service)
        let advice = try advisor.advice()
        let spenders = try #require(advice.first { $0.usedBy.contains(.audience("Big spenders")) })
        #expect(spenders.table == "bookings")
        #expect(spenders.columns == ["profile_id", "status", "amount"])
        #expect(spenders.name == "herald_idx_bookings_profile_id_status_amount")
        #expect(!spenders.exists)
        let before = try service.count(AudienceSource(entity: "profiles", rule: .inAudience("Big spenders")))
        try advisor.apply([spenders])
        let indexes = try store.read { db in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index'") }
        #expect(indexes.contains("herald_idx_bookings_profile_id_status_amount"))
        // Listed as existing now, and the counts are the same with it.
        #expect(try advisor.advice().first { $0.name == spenders.name }?.exists == true)
        #expect(try service.count(AudienceSource(entity: "profiles", rule: .inAudience("Big spenders"))) == before)
        #expect(try advisor.dropAll() == ["herald_idx_bookings_profile_id_status_amount"])
        #expect(try advisor.advice().first { $0.name == spenders.name }?.exists == false)
        // An index someone else made that starts with the same columns covers the advice.
        try store.write { db in try db.execute(sql: "CREATE INDEX mine ON bookings(profile_id, status, amount, departs)") }
        #expect(try advisor.advice().contains { $0.name == spenders.name } == false)
    }
}
