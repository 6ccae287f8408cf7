import Foundation
import Testing

/// The README's "bring your own data" path, from an empty folder, as a new user types it.
@Suite struct NewUserTests {
    @Test func fromTwoCSVFilesToADryRun() throws {
        let scratch = Scratch()
        func herald(_ arguments: String...) throws -> Herald.Result {
            let result = try Herald.run(arguments, in: scratch.path)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            return result
        }
        _ = scratch.file(
            "customers.csv",
            """
            customer_id,first_name,email,phone,country,signed_up
            1,Ada,ada@example.com,+33612345678,FR,2025-01-10 09:00:00
            2,Ben,ben@example.com,,DE,2025-03-02T10:00:00+01:00
            3,Chloé,chloe@example.com,+33698765432,FR,2025-06-15
            4,Dev,,+4915112345678,DE,2026-02-01T08:00:00Z

            """)
        _ = scratch.file(
            "orders.csv",
            """
            order_id,customer_id,total,status,ordered_at
            A1,1,120.50,paid,2026-01-05T10:00:00Z
            A2,1,80.00,paid,2026-02-05T10:00:00Z
            A3,2,15.00,refunded,2026-02-07T10:00:00Z
            A4,3,300.00,paid,2026-03-01T10:00:00Z

            """)
        // Importing into a store that does not exist yet creates it.
        let first = try herald("import", "customers.csv", "--db", "shop.db", "--table", "customers", "--key", "customer_id")
        #expect(first.stdout.contains("created table customers: 4 rows inserted, 0 updated, 0 deleted"))
        #expect(first.stdout.contains("2 date-times had no UTC offset and were read as UTC time"))
        #expect(first.stderr.contains("created the store shop.db"))
        _ = try herald(
            "import", "orders.csv", "--db", "shop.db", "--table", "orders", "--key", "order_id", "--ref", "customer_id=customers")
        _ = try herald("catalog", "profile", "customers", "--email", "email", "--phone", "phone", "--db", "shop.db")
        let catalog = try herald("catalog", "--db", "shop.db")
        #expect(catalog.stdout.contains("→ orders  1-N orders  (customers.customer_id = orders.customer_id)  declared"))
        // The phone numbers kept their '+'.
        let phones = try herald(
            "audience", "show", "--entity", "customers", "--rule", "phone starts with \"+33\"", "--columns", "phone", "--db", "shop.db")
        #expect(phones.stdout.contains("+33612345678"))
        let count = try herald(
            "audience", "count", "--entity", "customers", "--rule", "country = \"FR\" and orders.count(status = \"paid\") >= 2", "--db",
            "shop.db")
        #expect(count.stdout == "1 customer\n")
        let instants = try herald(
            "audience", "count", "--entity", "customers", "--rule", "signed_up < \"2025-03-02T10:00:00+01:00\"", "--db", "shop.db")
        #expect(instants.stdout == "1 customer\n")
        _ = scratch.file(
            "spring.json",
            """
            {
              "format": "herald.campaign/2",
              "name": "Spring offer",
              "timeZone": "Europe/Paris",
              "nodes": [
                {"id": "buyers", "kind": "buildAudience", "label": "Paying customers", "entity": "customers",
                 "rule": "orders.any(status = \\"paid\\")"},
                {"id": "channel", "kind": "split", "label": "Email or SMS", "subsets": [
                  {"label": "Has email", "rule": "email is not empty"},
                  {"label": "Has phone", "rule": "phone is not empty"}]},
                {"id": "mail", "kind": "email", "label": "Spring email", "subject": "Spring offer for {{profile.first_name}}",
                 "text": "Hello {{profile.first_name}}, 10% off this spring."},
                {"id": "text", "kind": "sms", "label": "Spring SMS", "text": "Spring: 10% off, {{profile.first_name}}"}
              ],
              "edges": [
                {"from": "buyers", "to": "channel"},
                {"from": "channel", "fromPort": "subset1", "to": "mail"},
                {"from": "channel", "fromPort": "subset2", "to": "text"}
              ]
            }

            """)
        #expect(try herald("campaign", "validate", "spring.json", "--db", "shop.db").stdout == "'Spring offer' is valid\n")
        _ = try herald("campaign", "import", "spring.json", "--db", "shop.db")
        let run = try herald("run", "Spring offer", "--dry-run", "--db", "shop.db", "--json")
        let object = try #require(try json(run.stdout) as? [String: Any])
        let transitions = try #require(object["transitions"] as? [[String: Any]])
        let counts = Dictionary(uniqueKeysWithValues: transitions.map { ("\($0["from"]!).\($0["port"]!)", $0["count"] as! Int) })
        #expect(counts["buyers.out"] == 2)
        #expect(counts["channel.subset1"] == 2)
        #expect(counts["channel.complement"] == 0)
    }
}
