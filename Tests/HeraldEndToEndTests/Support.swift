import Foundation
import Testing

/// Runs the built `herald` executable the way a user would.
enum Herald {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `HERALD_BIN`, or the debug build in this checkout.
    static var binary: String {
        if let path = ProcessInfo.processInfo.environment["HERALD_BIN"] { return path }
        return root.appendingPathComponent(".build/debug/herald").path
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    @discardableResult
    /// - Parameter interruptAfter: sends `signal` (SIGINT, Ctrl-C, unless told) this many seconds after the start.
    static func run(
        _ arguments: [String], environment: [String: String] = [:], in directory: String? = nil, interruptAfter: TimeInterval? = nil,
        signal: Int32 = SIGINT
    ) throws -> Result {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw Failure("no herald executable at \(binary); run 'swift build' first or set HERALD_BIN")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "HERALD_DB")
        for (k, v) in environment { env[k] = v }
        process.environment = env
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        if let interruptAfter {
            let pid = process.processIdentifier
            DispatchQueue.global().asyncAfter(deadline: .now() + interruptAfter) { kill(pid, signal) }
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self))
    }

    /// A rule over `nodes` in `slowStoreCopy` that takes about two minutes when compiled in the
    /// correlated form (`slowEnvironment`): a quadratic count. Set-wise it takes milliseconds.
    static let slowRule = "nodes.count(weight > 2) > 1"
    static let slowEnvironment = ["HERALD_ONE_TO_MANY": "correlated"]

    /// A copy of the sample store with 60,000 `nodes` linked to themselves without an index
    /// (about two minutes of work for `slowRule`, so a broken stop fails in bounded time),
    /// and a campaign "Slow" whose one Build audience node uses `slowRule`: work to interrupt.
    static func slowStoreCopy(in folder: String) throws -> String {
        let escaped = slowRule.replacingOccurrences(of: "\"", with: "\\\"")
        return try nodesStoreCopy(
            in: folder, rows: 60000,
            campaign: """
                {"format": "herald.campaign/1", "name": "Slow", "nodes": [
                  {"id": "heavy", "kind": "buildAudience", "label": "Heavy", "entity": "nodes", "rule": "\(escaped)"}
                ], "edges": []}
                """)
    }

    /// A copy of the sample store with `rows` self-linked `nodes` (`parent_id` → `id`, no index
    /// on it, so correlated one-to-many rules over them are quadratic) and `campaign` imported.
    static func nodesStoreCopy(in folder: String, rows: Int, campaign: String) throws -> String {
        let db = try sampleCopy(in: folder)
        try sqlite(
            db,
            "CREATE TABLE nodes (id INTEGER PRIMARY KEY, parent_id INTEGER, weight INTEGER);"
                + " WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < \(rows))"
                + " INSERT INTO nodes SELECT i, i / 3, i % 7 FROM n;")
        let ref = try run(["catalog", "ref", "nodes.parent_id", "nodes", "--db", db])
        guard ref.status == 0 else { throw Failure(ref.stderr) }
        let file = folder + "/campaign-\(UUID().uuidString).json"
        try Data(campaign.utf8).write(to: URL(fileURLWithPath: file))
        let imported = try run(["campaign", "import", file, "--db", db])
        guard imported.status == 0 else { throw Failure(imported.stderr) }
        return db
    }

    /// Runs SQL in the `sqlite3` shell on `db`, as a user would look at the file; its output,
    /// trimmed. Fails when the shell does.
    @discardableResult
    static func sqlite(_ db: String, _ sql: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = [db, sql]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw Failure("sqlite3 failed on \(db): \(sql)") }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A private copy of the shipped sample store.
    static func sampleCopy(in folder: String) throws -> String {
        let path = folder + "/sample.db"
        try FileManager.default.copyItem(atPath: root.appendingPathComponent("sample.db").path, toPath: path)
        return path
    }
}

struct Failure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A fresh folder for one test.
final class Scratch {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "herald-e2e-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String, _ contents: String) -> String {
        let p = path + "/" + name
        try! Data(contents.utf8).write(to: URL(fileURLWithPath: p))
        return p
    }
}

/// Parses JSON printed by `--json`.
func json(_ text: String) throws -> Any {
    try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
}
