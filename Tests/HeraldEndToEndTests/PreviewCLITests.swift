import Foundation
import Testing

/// `herald campaign preview`: a message node rendered for one profile, from the store's data.
@Suite struct PreviewCLITests {
    func scalar(_ db: String, _ sql: String) throws -> String {
        try Herald.sqlite(db, sql).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func aProfilesMessageRenders() throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        let name = try scalar(db, "SELECT first_name FROM profiles WHERE id = 1")
        let result = try Herald.run(["campaign", "preview", "Welcome series", "welcome", "--profile", "1", "--db", db])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("subject: Welcome aboard, \(name)!"), "\(result.stdout)")
        // Reading never writes.
        let before = try Data(contentsOf: URL(fileURLWithPath: db))
        _ = try Herald.run(["campaign", "preview", "Welcome series", "welcome", "--profile", "1", "--db", db, "--json"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: db)) == before)
    }

    /// A message per booking takes the booking too, which must be the profile's.
    @Test func aPerEntityMessageNeedsTheProfilesRow() throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        let row = try scalar(
            db,
            "SELECT b.id || ' ' || b.profile_id || ' ' || b.departs || ' ' || d.city FROM bookings b JOIN destinations d ON d.id = b.destination_id LIMIT 1"
        )
        .split(separator: " ", maxSplits: 3).map(String.init)
        let (booking, profile, departs, city) = (row[0], row[1], row[2], row[3])
        let ok = try Herald.run(
            ["campaign", "preview", "Departure reminder", "reminder", "--profile", profile, "--entity", booking, "--db", db, "--json"])
        #expect(ok.status == 0, "\(ok.stderr)")
        let object = try #require(try json(ok.stdout) as? [String: Any])
        let fields = try #require(object["fields"] as? [[String: Any]])
        #expect(fields.first?["text"] as? String == "Your trip to \(city) departs on \(departs)")
        let other = String((Int(profile) ?? 0) + 1)
        let wrong = try Herald.run(
            ["campaign", "preview", "Departure reminder", "reminder", "--profile", other, "--entity", booking, "--db", db])
        #expect(wrong.status == 2)
        #expect(wrong.stderr.contains("belongs to profiles \(profile), not to \(other)"), "\(wrong.stderr)")
        let missing = try Herald.run(["campaign", "preview", "Departure reminder", "reminder", "--profile", profile, "--db", db])
        #expect(missing.status == 2 && missing.stderr.contains("--entity"))
    }

    /// Related rows collected by an Enrichment node loop in the template.
    @Test func enrichedRowsLoop() throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        let profile = try scalar(
            db,
            "SELECT profile_id FROM bookings WHERE status = 'confirmed' AND departs >= date('now') GROUP BY profile_id HAVING count(*) >= 2 LIMIT 1"
        )
        let cities = try scalar(
            db,
            "SELECT group_concat(city, ',') FROM (SELECT d.city FROM bookings b JOIN destinations d ON d.id = b.destination_id WHERE b.profile_id = \(profile) AND b.status = 'confirmed' AND b.departs >= date('now') ORDER BY b.departs LIMIT 3)"
        ).split(separator: ",").map(String.init)
        let result = try Herald.run(["campaign", "preview", "Beach brochure", "brochure", "--profile", profile, "--db", db])
        #expect(result.status == 0, "\(result.stderr)")
        for city in cities { #expect(result.stdout.contains(" \(city), "), "\(city): \(result.stdout)") }
    }

    @Test func badInputIsRefusedWithTheField() throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        for (arguments, message) in [
            (["Welcome series", "nope", "--profile", "1"], "no node 'nope'"),
            (["Welcome series", "wait", "--profile", "1"], "not a message node"),
            (["Welcome series", "welcome", "--profile", "abc"], "--profile: profiles keys are whole numbers"),
            (["Welcome series", "welcome", "--profile", "999999"], "--profile: no profiles row with key 999999"),
            (["Welcome series", "welcome", "--profile", "1", "--entity", "3"], "--entity: the population reaching 'welcome' is profiles"),
        ] {
            let result = try Herald.run(["campaign", "preview"] + arguments + ["--db", db])
            #expect(result.status == 2, "\(arguments)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
    }
}
