import Foundation
import GRDB
import HeraldCore
import Testing

@testable import HeraldStore

@Suite struct StoreOpeningTests {
    @Test func missingFileIsRefusedWithoutCreatingIt() {
        let scratch = Scratch()
        let path = scratch.file("absent.db")
        #expect(throws: HeraldError.self) { try Store.open(path: path) }
        #expect(!FileManager.default.fileExists(atPath: path))
        do { _ = try Store.open(path: path) } catch let error as HeraldError {
            #expect(error.code == .notFound)
            #expect(error.exitStatus == 2)
        } catch { Issue.record("\(error)") }
    }

    @Test func aTextFileIsNotTouched() throws {
        let scratch = Scratch()
        let original = "name,email\nAda,ada@example.com\n"
        let path = scratch.file("notes.csv", original)
        do {
            _ = try Store.open(path: path)
            Issue.record("a text file opened as a store")
        } catch let error as HeraldError {
            #expect(error.code == .storeUnreadable)
            #expect(error.message.contains("is not a SQLite database"))
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == original)
    }

    @Test func aCorruptFileGivesAClearError() throws {
        let scratch = Scratch()
        let path = scratch.file("corrupt.db")
        do {
            let store = try Store.open(path: path, create: true)
            try store.write { db in
                try db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
                for i in 0..<2000 {
                    try db.execute(sql: "INSERT INTO t VALUES (?, ?)", arguments: [i, String(repeating: "x", count: 100)])
                }
            }
            try store.writer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
            try store.writer.close()
        }
        // Keep the header, scribble over the schema page and beyond.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seek(toOffset: 100)
        handle.write(Data(repeating: 0xA5, count: 16_000))
        try handle.close()
        do {
            let store = try Store.open(path: path)
            _ = try store.catalog()
            _ = try store.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM t") }
            Issue.record("a corrupt store opened and read")
        } catch let error as HeraldError {
            #expect(error.code == .storeUnreadable, "\(error)")
            #expect(error.message.contains("corrupt") || error.message.contains("not a SQLite database"), "\(error.message)")
        }
    }

    @Test func aStoreFromANewerHeraldIsRefused() throws {
        let scratch = Scratch()
        let path = scratch.file("future.db")
        do {
            let store = try Store.open(path: path, create: true)
            try store.write { db in
                try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99: from the future')")
            }
            try store.writer.close()
        }
        do {
            _ = try Store.open(path: path)
            Issue.record("a store from a newer Herald opened")
        } catch let error as HeraldError {
            #expect(error.code == .storeTooNew)
            #expect(error.message.contains("newer Herald"))
        }
    }

    /// A store written by an older Herald (its migrations up to `upTo`), with one campaign,
    /// its first version and run 1 (`run`: its mode and state), then the statements `then`.
    static func olderStore(_ path: String, upTo: String, run: String, then: String) throws {
        let queue = try DatabaseQueue(path: path)
        try queue.writeWithoutTransaction { db in _ = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL") }
        try Migrations.migrator.migrate(queue, upTo: upTo)
        try queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO herald_campaigns (name, created_at, updated_at) VALUES ('Old one', '2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z');
                    INSERT INTO herald_campaign_versions (campaign_id, version, created_at) VALUES (1, 1, '2025-01-01T00:00:00Z');
                    INSERT INTO herald_runs (id, campaign_id, version, mode, state, started_at) VALUES (1, 1, 1, \(run), '2025-01-02T00:00:00Z');
                    \(then)
                    """)
        }
        try queue.close()
    }

    /// A store written before the last migrations is read as it is (no migration, same bytes),
    /// and brought up to date by the first command that writes.
    @Test func anOlderStoreIsReadWithoutMigratingAndUpgradedOnWrite() throws {
        let scratch = Scratch()
        let path = scratch.file("old.db")
        try Self.olderStore(
            path, upTo: "v1: herald tables",
            run: "'dry', 'completed'",
            then: """
                INSERT INTO herald_run_nodes (run_id, node_id, state, input_count) VALUES (1, 'a', 'completed', 7);
                INSERT INTO herald_run_logs (run_id, node_id, at, level, message) VALUES (1, 'a', '2025-01-02T00:00:00Z', 'info', 'old line');
                """)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let reader = try Store.openForReading(path: path)
        #expect(try reader.listCampaigns().map(\.name) == ["Old one"])
        #expect(try reader.listCampaigns().first?.archivedAt == nil)
        #expect(try reader.schedule(campaignID: 1) == nil)  // the table came later
        // Runs from before waits and log codes read as they were.
        #expect(try reader.runDetail(1).summary.state == .completed)
        #expect(try reader.runDetail(1).nodes.map(\.inputCount) == [7])
        #expect(try reader.runLogs(1).map(\.line) == [RunLogLine(code: "note", "old line")])
        try reader.close()
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        let writer = try Store.open(path: path)
        #expect(
            try writer.read { db in try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations") }
                == Migrations.migrator.migrations)
        // The rebuilt run tables keep their rows and their ties to the campaign.
        #expect(try writer.runDetail(1).nodes.map(\.state) == [.completed])
        #expect(try writer.read { db in try String.fetchAll(db, sql: "PRAGMA foreign_key_check") }.isEmpty)
        _ = try writer.setArchived("Old one", archived: true)
        #expect(try writer.listCampaigns().isEmpty)
        #expect(try writer.listCampaigns(includeArchived: true).first?.archivedAt != nil)
        _ = try writer.deleteCampaign("Old one", withRuns: true)
        #expect(try writer.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM herald_run_nodes") } == 0)
    }

    /// Claims an older version left on the messages themselves (status `claimed`) read as
    /// claimed before the upgrade and after it: they move to the claims table with the attempt
    /// they counted given back, so the next executor settles them as it settles any claim.
    @Test func claimsLeftOnTheMessagesByAnOlderVersionMoveToTheClaimsTable() throws {
        let scratch = Scratch()
        let path = scratch.file("v12.db")
        try Self.olderStore(
            path, upTo: "v12: message ledger",
            run: "'live', 'running'",
            then: """
                INSERT INTO herald_messages (id, run_id, campaign_id, node_id, profile_key, channel, address, status, attempts,
                  claim_owner, claimed_at, created_at, updated_at)
                VALUES (1, 1, 1, 'mail', 'p1', 'email', 'a@example.com', 'claimed', 1, 'gone/1/x', '2025-01-02T00:00:01Z',
                        '2025-01-02T00:00:00Z', '2025-01-02T00:00:01Z'),
                       (2, 1, 1, 'mail', 'p2', 'email', 'b@example.com', 'sent', 1, NULL, NULL,
                        '2025-01-02T00:00:00Z', '2025-01-02T00:00:01Z'),
                       (3, NULL, NULL, NULL, 'p3', 'email', 'c@example.com', 'claimed', 1, 'gone/1/x', NULL,
                        '2025-01-02T00:00:00Z', '2025-01-02T00:00:01Z');
                """)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let reader = try Store.openForReading(path: path)
        #expect(try reader.ledger.counts(runID: 1)["mail"]?.byState == [.claimed: 1, .sent: 1])
        #expect(try reader.ledger.leftClaimed(runID: 1).isEmpty)  // settled once the store is upgraded
        try reader.close()
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        let writer = try Store.open(path: path)
        #expect(writer.upgrades == ["v13: claims"])
        #expect(try writer.ledger.counts(runID: 1)["mail"]?.byState == [.claimed: 1, .sent: 1])
        let left = try writer.ledger.leftClaimed(runID: 1)
        #expect(left.map(\.id) == [1] && left.first?.attempts == 1)
        // A claim with no run to settle it cannot be told: it is unknown, for an operator.
        #expect(try writer.ledger.messages(MessageFilter(ids: [3])).map(\.state) == [.unknown])
        let settled = try writer.ledger.settle([1: .cannotTell], runID: 1, now: 1_735_776_000)
        #expect(settled.unknown == 1)
        #expect(try writer.ledger.messages(MessageFilter(runID: 1)).map(\.state) == [.sent, .unknown])
        #expect(try writer.ledger.leftClaimed(runID: 1).isEmpty)
    }

    @Test func reopeningKeepsUserTablesAndHeraldTables() throws {
        let scratch = Scratch()
        let path = scratch.file("keep.db")
        do {
            let store = try Store.open(path: path, create: true)
            try store.write { db in try db.execute(sql: "CREATE TABLE mine (id INTEGER PRIMARY KEY); INSERT INTO mine VALUES (1)") }
            try store.writer.close()
        }
        let store = try Store.open(path: path)
        #expect(try store.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM mine") } == 1)
        #expect(try store.read { db in try db.tableExists("herald_campaigns") })
        #expect(try store.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") } == "wal")
        #expect(try store.read { db in try Int.fetchOne(db, sql: "PRAGMA foreign_keys") } == 1)
    }
}

@Suite struct CatalogDiscoveryTests {
    func makeStore(_ scratch: Scratch) throws -> Store {
        let store = try scratch.store()
        try store.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE airports (code TEXT PRIMARY KEY, country TEXT);
                    CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT, mobile TEXT, tz TEXT, home_airport_id TEXT REFERENCES airports(code), born DATE);
                    CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id), total REAL, placed_at DATETIME, gift BOOLEAN);
                    CREATE TABLE cards (id INTEGER PRIMARY KEY, customer_id INTEGER UNIQUE REFERENCES customers(id), level TEXT);
                    CREATE TABLE pairs (a INTEGER, b INTEGER, PRIMARY KEY (a, b));
                    """)
        }
        return store
    }

    @Test func entitiesKeysTypesAndLinksAreDiscovered() throws {
        let scratch = Scratch()
        let catalog = try makeStore(scratch).catalog()
        #expect(catalog.entities.map(\.name) == ["airports", "cards", "customers", "orders"])
        let customers = try #require(catalog.entity("customers"))
        #expect(customers.primaryKey == "id")
        #expect(customers.attribute("born")?.type == .date)
        #expect(catalog.entity("orders")?.attribute("placed_at")?.type == .datetime)
        #expect(catalog.entity("orders")?.attribute("gift")?.type == .boolean)
        #expect(catalog.entity("airports")?.keyType == .text)
        let links = customers.links.map { "\($0.name) \($0.cardinality.rawValue) \($0.target)" }
        #expect(links.sorted() == ["cards 1-1 cards", "home_airport N-1 airports", "orders 1-N orders"])
        #expect(catalog.entity("orders")?.link("customer")?.cardinality == .manyToOne)
        #expect(catalog.entity("cards")?.link("customer")?.cardinality == .oneToOne)
        #expect(catalog.profileEntity == "customers")
        #expect(catalog.profileChannels.email == "email")
        #expect(catalog.profileChannels.phone == "mobile")
        #expect(catalog.profileChannels.timeZone == "tz")
    }

    @Test func overridesRefineTheCatalog() throws {
        let scratch = Scratch()
        let store = try makeStore(scratch)
        try store.renameLink(entity: "orders", link: "customer", to: "buyer")
        try store.renameLink(entity: "orders", link: "buyer", to: "purchaser")
        try store.setLabel(entity: "orders", attribute: "total", label: "Order total")
        try store.setLabel(entity: "orders", attribute: nil, label: "Orders")
        try store.setHidden(entity: "customers", attribute: "born", hidden: true)
        try store.declareReference(entity: "airports", column: "country", target: "airports", targetColumn: nil)
        try store.setProfile(entity: "customers", columns: [.email: "email", .phone: nil])
        let catalog = try store.catalog()
        let orders = try #require(catalog.entity("orders"))
        #expect(orders.link("purchaser") != nil)
        #expect(orders.link("customer") == nil)
        #expect(orders.label == "Orders")
        #expect(orders.attribute("total")?.label == "Order total")
        #expect(catalog.entity("customers")?.attribute("born")?.hidden == true)
        #expect(catalog.entity("airports")?.links.contains { $0.name == "country_ref" && !$0.discovered } == true)
        #expect(catalog.profileChannels.phone == nil)
    }

    @Test(arguments: [
        ("label", "nowhere", "unknown entity 'nowhere'"),
        ("hide", "customers.emial", "has no column 'emial'; did you mean 'email'?"),
        ("hideKey", "customers.id", "is the key of 'customers'"),
        ("rename", "orders.nothing", "has no link 'nothing'"),
        ("renameClash", "orders.customer", "already has an attribute or link called 'total'"),
        ("ref", "orders.total", "unknown entity 'planets'"),
        ("unref", "orders.customer_id", "no declared reference"),
        ("profile", "customers", "has no column 'mail'"),
    ])
    func badOverridesAreRefused(kind: String, target: String, message: String) throws {
        let scratch = Scratch()
        let store = try makeStore(scratch)
        let parts = target.split(separator: ".").map(String.init)
        do {
            switch kind {
            case "label": try store.setLabel(entity: parts[0], attribute: nil, label: "x")
            case "hide", "hideKey": try store.setHidden(entity: parts[0], attribute: parts[1], hidden: true)
            case "rename": try store.renameLink(entity: parts[0], link: parts[1], to: "x")
            case "renameClash": try store.renameLink(entity: parts[0], link: parts[1], to: "total")
            case "ref": try store.declareReference(entity: parts[0], column: parts[1], target: "planets", targetColumn: nil)
            case "unref": try store.removeReference(entity: parts[0], column: parts[1])
            default: try store.setProfile(entity: parts[0], columns: [.email: "mail"])
            }
            Issue.record("\(kind) \(target) should be refused")
        } catch {
            #expect("\(error)".contains(message), "\(error)")
        }
    }
}

@Suite struct CampaignRepositoryTests {
    @Test func savingLoadingAndVersioning() throws {
        let scratch = Scratch()
        let store = try scratch.store()
        var campaign = Campaign(
            name: "Hello", timeZone: "UTC", variables: [("n", .integer(3))],
            nodes: [Node(id: "a", label: "All", config: .buildAudience(entity: "x", rule: .all, emitWhenEmpty: true))], edges: [])
        let first = try store.saveCampaign(campaign, replace: false)
        #expect(first.version == 1)
        #expect(try store.loadCampaign("hello").campaign == campaign)
        #expect(throws: HeraldError.self) { try store.saveCampaign(campaign, replace: false) }
        campaign.nodes.append(Node(id: "b", label: "Stop", config: .end))
        campaign.edges.append(Edge(from: "a", to: "b"))
        let second = try store.saveCampaign(campaign, replace: true)
        #expect(second.version == 2)
        #expect(try store.loadCampaign(.typed(String(first.id))).campaign == campaign)
        #expect(try store.listCampaigns().map(\.nodeCount) == [2])
        let copy = try store.duplicateCampaign("Hello", as: "Hello again")
        #expect(copy.version == 1)
        do {
            _ = try store.loadCampaign("Helo")
            Issue.record("unknown campaign loaded")
        } catch {
            #expect("\(error)".contains("no campaign named 'Helo'; did you mean 'Hello'?"))
        }
    }
}

@Suite struct ReadTuningTests {
    @Test func aRunsConnectionHasTheSmallerCacheUnlessTheEnvironmentSetsOne() throws {
        let scratch = Scratch()
        let path = scratch.file("tuning.db")
        _ = try Store.open(path: path, create: true)
        let reads = ReadTuning.current(path: path, purpose: .reads, environment: [:])
        let work = ReadTuning.current(path: path, purpose: .work, environment: [:])
        #expect(reads.cacheKiB == ReadTuning.defaultCacheMB * 1024)
        #expect(work.cacheKiB == ReadTuning.defaultWorkCacheMB * 1024)
        #expect(work.cacheKiB < reads.cacheKiB)
        #expect(work.pragmas.contains("PRAGMA cache_size = -\(ReadTuning.defaultWorkCacheMB * 1024)"))
        let set = ["HERALD_CACHE_MB": "24"]
        #expect(ReadTuning.current(path: path, purpose: .work, environment: set).cacheKiB == 24 * 1024)
        #expect(ReadTuning.current(path: path, purpose: .reads, environment: set).cacheKiB == 24 * 1024)
    }
}
