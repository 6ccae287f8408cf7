import Foundation
import GRDB
import HeraldCore
import HeraldDemo
import HeraldStore

/// A fresh folder for one test, removed when the value goes away.
final class Scratch {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "herald-test-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String, _ contents: String? = nil) -> String {
        let p = path + "/" + name
        if let contents { try! Data(contents.utf8).write(to: URL(fileURLWithPath: p)) }
        return p
    }

    /// A new empty store.
    func store(_ name: String = "test.db") throws -> Store {
        try Store.open(path: file(name), create: true)
    }

    /// A private, writable copy of the demo store; the folder stays until the process ends.
    static func demoCopy() throws -> Store {
        let scratch = Scratch()
        let path = scratch.file("copy.db")
        try FileManager.default.copyItem(atPath: demoPath, toPath: path)
        retained.append(scratch)
        return try Store.open(path: path)
    }

    /// A demo store generated once per process for the tests that only read it; removed, with
    /// the copies tests made of it, when the process exits.
    static let demoPath: String = {
        let path = demoFile
        if !FileManager.default.fileExists(atPath: path) {
            _ = try! DemoGenerator(profiles: 3000, seed: 7).generate(to: path)
        }
        atexit {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: Scratch.demoFile + suffix) }
            retained.removeAll()
        }
        return path
    }()

    static let demoFile = NSTemporaryDirectory() + "herald-demo-\(ProcessInfo.processInfo.processIdentifier).db"
}

extension Store {
    /// Saves a campaign of two nodes: `a`, a Build audience of `rule` over `entity`, then `b`, an End.
    func saveAudienceThenEnd(_ name: String, entity: String, rule: String) throws -> StoredCampaign {
        var campaign = Campaign(name: name)
        campaign.nodes = [
            Node(id: "a", label: name, config: .buildAudience(entity: entity, rule: try Rule(parsing: rule), emitWhenEmpty: false)),
            Node(id: "b", label: "Stop", config: .end),
        ]
        campaign.edges = [Edge(from: "a", to: "b")]
        return try saveCampaign(campaign, replace: false)
    }

    /// A 60,000-row `nodes` table linked to itself without an index, so a rule like
    /// `nodes.count(weight > 2) > 1`, compiled in the correlated form, is a quadratic count: about two minutes of work
    /// (20,000 rows took 14 s in the sqlite3 shell), so a test of stopping it fails in bounded
    /// time if stopping breaks.
    func addSlowNodes() throws {
        try write { db in
            try db.execute(sql: "CREATE TABLE nodes (id INTEGER PRIMARY KEY, parent_id INTEGER, weight INTEGER)")
            try db.execute(
                sql:
                    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60000) INSERT INTO nodes SELECT i, i / 3, i % 7 FROM n"
            )
        }
        try declareReference(entity: "nodes", column: "parent_id", target: "nodes", targetColumn: nil)
    }
}

/// One number from the store: `SELECT count(*) …`.
func count(_ store: Store, _ sql: String) throws -> Int {
    try store.read { db in try Int.fetchOne(db, sql: sql) ?? 0 }
}
