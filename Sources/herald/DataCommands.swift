import ArgumentParser
import Foundation
import HeraldCore
import HeraldDemo
import HeraldStore

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo", abstract: "Generate the fictional travel-company store (deterministic for a seed).")

    @Option(name: .long, help: ArgumentHelp("Where to write the store.", valueName: "path"))
    var out: String

    @Option(name: .long, help: "How many profiles (about five bookings each).")
    var profiles: Int = 10_000

    @Option(name: .long, help: "Random seed; the same seed gives the same data.")
    var seed: UInt64 = 2026

    @Flag(name: .long, help: "Replace an existing file at --out.")
    var force = false

    func validate() throws {
        guard profiles >= 1 && profiles <= 50_000_000 else {
            throw ValidationError("--profiles: expected a number from 1 to 50000000, found \(profiles)")
        }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: out, isDirectory: &isDirectory) {
            // --force replaces a file, never a directory and what it holds.
            if isDirectory.boolValue { throw ValidationError("--out: \(out) is a directory; give the path of a store file") }
            if !force { throw ValidationError("--out: \(out) already exists; add --force to replace it") }
        }
    }

    func run() throws {
        let bar = ProgressBar(title: "generating")
        let started = Date()
        let summary = try DemoGenerator(profiles: profiles, seed: seed).generate(to: out) { bar.update($0) }
        bar.finish()
        let seconds = Date().timeIntervalSince(started)
        say(
            "wrote \(out): \(Names.groupedCount(summary.profiles)) profiles, \(Names.groupedCount(summary.bookings)) bookings, "
                + "\(Names.groupedCount(summary.memberships)) loyalty memberships, \(Names.groupedCount(summary.consentRecords)) consent records, "
                + "\(Names.groupedCount(summary.messages)) past messages, \(Names.counted(summary.audiences, "saved audience")), \(Names.counted(summary.campaigns, "campaign")) "
                + "in \(String(format: "%.1f", seconds)) s")
    }
}

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Create or upsert a table from a CSV file, all or nothing.",
        discussion: """
            The first row names the columns. Types are inferred (integer, real, boolean, date, date-time, text) \
            unless declared with --type. An optional _change_request_type column says per row: u (upsert, the \
            default) or d (delete by key). Any malformed row aborts the import and nothing is written.
            """)

    @Argument(help: ArgumentHelp("The CSV file (UTF-8, RFC 4180).", valueName: "file.csv"))
    var file: String

    @OptionGroup var store: StoreOptions

    @Option(name: .long, help: "Table to create or update.")
    var table: String

    @Option(name: .long, help: "Key column (default: the table's primary key, or 'id').")
    var key: String?

    @Option(name: .long, parsing: .singleValue, help: ArgumentHelp("Declare a link: COLUMN=TABLE[.COLUMN]. Repeatable.", valueName: "ref"))
    var ref: [String] = []

    @Option(
        name: .long, parsing: .singleValue,
        help: ArgumentHelp("Declare a column type: COLUMN=integer|real|text|boolean|date|datetime.", valueName: "type"))
    var type: [String] = []

    @Flag(name: .long, help: "The file has no key column: number the rows in a generated integer key (named by --key, default 'id').")
    var generateKey = false

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Read date-times without an offset in this IANA zone (default: the store's, see 'catalog time-zone').", valueName: "zone"))
    var timeZone: String?

    @OptionGroup var output: OutputOptions

    func run() throws {
        var options = ImportOptions(table: table, key: key, generateKey: generateKey)
        if let timeZone {
            guard let zone = TimeZone(identifier: timeZone) else {
                throw HeraldError(.invalidInput, "--time-zone: '\(timeZone)' is not an IANA time zone (for example Europe/Paris or UTC)")
            }
            options.timeZone = zone
        }
        for spec in ref {
            let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw HeraldError(.invalidInput, "--ref: expected COLUMN=TABLE or COLUMN=TABLE.COLUMN, found '\(spec)'")
            }
            let target = parts[1].split(separator: ".", maxSplits: 1).map(String.init)
            options.references.append((parts[0], target[0], target.count > 1 ? target[1] : nil))
        }
        for spec in type {
            let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let t = AttributeType(rawValue: parts[1].lowercased()) else {
                throw HeraldError(
                    .invalidInput,
                    "--type: expected COLUMN=TYPE with TYPE one of \(AttributeType.allCases.map(\.rawValue).joined(separator: ", ")), found '\(spec)'"
                )
            }
            options.types[parts[0]] = t
        }
        guard FileManager.default.isReadableFile(atPath: file) else {
            throw HeraldError(
                .notFound, FileManager.default.fileExists(atPath: file) ? "file: cannot read \(file)" : "file: \(file) does not exist")
        }
        // A new store is created for the import, and removed again if the import fails.
        let createdStore = !FileManager.default.fileExists(atPath: store.db)
        let db = try store.openForWriting(create: true)
        let bar = ProgressBar(title: "importing")
        let result: ImportResult
        do {
            result = try Importer.importCSV(file: file, into: db, options: options) { bar.update($0) }
            bar.finish()
        } catch {
            bar.finish()
            if createdStore {
                try? db.close()
                for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: store.db + suffix) }
            }
            throw error
        }
        if createdStore { warn("herald: created the store \(store.db)") }
        if output.json {
            var fields: [(String, JSONValue)] = [
                ("table", .string(result.table)), ("createdTable", .bool(result.createdTable)),
                ("inserted", .integer(Int64(result.inserted))), ("updated", .integer(Int64(result.updated))),
                ("deleted", .integer(Int64(result.deleted))),
            ]
            let columns: [(String, JSONValue)] = result.columns.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value.rawValue)) }
            fields.append(("columns", .object(columns)))
            if let generated = result.generatedKey { fields.append(("generatedKey", .string(generated))) }
            fields.append(("assumedOffsets", .integer(Int64(result.assumedOffsets))))
            fields.append(("timeZone", .string(result.timeZone)))
            printJSON(.object(fields))
        } else {
            var line = "\(result.createdTable ? "created" : "updated") table \(result.table): "
            line += Names.counted(result.inserted, "row") + " inserted, \(Names.groupedCount(result.updated)) updated, "
            line += "\(Names.groupedCount(result.deleted)) deleted"
            if let generated = result.generatedKey { line += " (keys generated in '\(generated)')" }
            say(line)
            if result.assumedOffsets > 0 {
                say(
                    "\(Names.counted(result.assumedOffsets, "date-time")) had no UTC offset and \(result.assumedOffsets == 1 ? "was" : "were") read as \(result.timeZone) time (stored as UTC)"
                )
            }
        }
    }
}

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create an empty store, or bring an existing one up to date.",
        discussion: "An existing SQLite file gains Herald's tables; its own tables are left as they are.")

    @Argument(help: ArgumentHelp("The store file to create.", valueName: "path"))
    var path: String

    func run() throws {
        let existed = FileManager.default.fileExists(atPath: path)
        let store: Store
        do {
            store = try Store.open(path: path, create: true)
        } catch {
            // The migrations apply all or none; a file this command created is not left behind.
            if !existed { for suffix in ["", "-wal", "-shm", "-journal"] { unlink(path + suffix) } }
            throw error
        }
        let tables = try store.catalog().entities.count
        if !existed {
            say("created the empty store \(path)")
        } else if store.adopted {
            say(
                "\(path) is now a Herald store: Herald's tables were added, and \(Names.counted(tables, "table")) of yours left as they were"
            )
        } else if !store.upgrades.isEmpty {
            say("\(path) was upgraded to this version of Herald (\(store.upgrades.joined(separator: ", ")))")
        } else {
            say("\(path) is already a Herald store and is up to date")
        }
        if tables == 0 {
            say(
                """
                next:
                  herald import customers.csv --db \(path) --table customers      # load your data (one table per CSV file)
                  herald catalog profile customers --db \(path) --email email     # who messages go to, and their address columns
                  herald catalog --db \(path)                                     # what Herald discovered
                """)
        }
    }
}
