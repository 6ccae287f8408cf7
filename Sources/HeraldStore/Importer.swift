public import Foundation
import GRDB
import GRDBSQLite
public import HeraldCore
import Logging

/// What `herald import` should do with a CSV file.
public struct ImportOptions: Sendable {
    public var table: String
    /// Key column; defaults to the table's primary key, else a column named `id`.
    public var key: String?
    /// Declared references: column → (target entity, target column or nil for its key).
    public var references: [(column: String, target: String, targetColumn: String?)]
    /// Declared column types, which win over inference.
    public var types: [String: AttributeType]
    /// The file has no key column: give each row a generated integer key (in the column named
    /// by `key`, default `id`).
    public var generateKey: Bool
    /// The zone date-times without an offset are read in; nil for the store's default.
    public var timeZone: TimeZone?

    public init(
        table: String, key: String? = nil, references: [(column: String, target: String, targetColumn: String?)] = [],
        types: [String: AttributeType] = [:], generateKey: Bool = false, timeZone: TimeZone? = nil
    ) {
        self.timeZone = timeZone
        self.table = table
        self.key = key
        self.references = references
        self.types = types
        self.generateKey = generateKey
    }
}

/// What an import changed.
public struct ImportResult: Sendable, Equatable {
    public var table: String
    public var createdTable: Bool
    /// Rows whose key was new to the table.
    public var inserted: Int
    /// Rows that replaced the values of an existing key.
    public var updated: Int
    /// Rows removed by a `d` change (a `d` for a key the table does not hold removes nothing).
    public var deleted: Int
    public var columns: [String: AttributeType]
    /// The generated key column, when the file had none (`--generate-key`).
    public var generatedKey: String?
    /// How many date-times had no offset and were read in `timeZone`.
    public var assumedOffsets: Int = 0
    /// The zone those were read in (an IANA name).
    public var timeZone: String = "UTC"
}

/// Loads CSV files into user tables: create or upsert, all or nothing.
public enum Importer {
    public static let changeColumn = "_change_request_type"

    /// Imports `file` in one transaction; a malformed row aborts with file, line, column and
    /// reason, and nothing is written.
    /// - Parameter progress: called with the fraction of the file processed (0…1).
    public static func importCSV(
        file: String, into store: Store, options: ImportOptions, progress: (@Sendable (Double) -> Void)? = nil
    ) throws -> ImportResult {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory), isDirectory.boolValue {
            throw HeraldError(.invalidInput, "file: \(file) is a directory; give the path of a CSV file")
        }
        let url = URL(fileURLWithPath: file)
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw HeraldError(.notFound, "file: cannot read \(file): \(error.localizedDescription)", cause: error)
        }
        try CatalogDiscovery.checkIdentifier(options.table, field: "--table")
        if options.table.lowercased().hasPrefix("herald_") || options.table.lowercased().hasPrefix("sqlite_") {
            throw HeraldError(.invalidInput, "--table: names starting with herald_ or sqlite_ are reserved")
        }
        let name = (file as NSString).lastPathComponent
        let started = Date()
        let result = try data.withUnsafeBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            return try store.write { db in
                try run(bytes: bytes, fileName: name, db: db, options: options, progress: progress)
            }
        }
        store.logger.info(
            "import committed",
            metadata: [
                "table": "\(result.table)", "inserted": "\(result.inserted)", "updated": "\(result.updated)",
                "deleted": "\(result.deleted)",
                "bytes": "\(data.count)", "ms": "\(Int(Date().timeIntervalSince(started) * 1000))",
            ])
        return result
    }

    struct Column {
        var name: String
        var index: Int
        var type: AttributeType
    }

    static func fail(_ file: String, _ line: Int, _ column: Int?, _ columnName: String?, _ reason: String) -> HeraldError {
        var location = "\(file):\(line)"
        if let column { location += ":\(column)" }
        if let columnName { location += " (column '\(columnName)')" }
        return HeraldError(.invalidInput, "\(location): \(reason); nothing was imported")
    }

    static func run(
        bytes: UnsafeBufferPointer<UInt8>, fileName: String, db: Database, options: ImportOptions,
        progress: (@Sendable (Double) -> Void)?
    ) throws -> ImportResult {
        var converter = ValueConverter(file: fileName, zone: try options.timeZone ?? Store.defaultTimeZone(db))
        var reader = CSVReader(bytes: bytes)
        func nextRecord() throws -> (line: Int, fields: [String])? {
            do {
                while let record = try reader.next() {
                    if record.fields == [""] { continue }  // blank line
                    return record
                }
                return nil
            } catch {
                throw fail(fileName, error.line, error.column, nil, error.message)
            }
        }
        // Records after the header: where each field is, its text made only when needed.
        var fields: [CSVReader.Field] = []
        func nextFields() throws -> Int? {
            do {
                while let line = try reader.nextFields(into: &fields) {
                    if fields.count == 1 && fields[0].isEmpty { continue }  // blank line
                    return line
                }
                return nil
            } catch {
                throw fail(fileName, error.line, error.column, nil, error.message)
            }
        }
        guard let header = try nextRecord() else {
            throw HeraldError(.invalidInput, "\(fileName): the file is empty; expected a header row")
        }
        reader.expectedFields = header.fields.count
        var seen = Set<String>()
        for (i, name) in header.fields.enumerated() {
            if name.isEmpty { throw fail(fileName, header.line, i + 1, nil, "the header has an empty column name") }
            if !seen.insert(name.lowercased()).inserted {
                throw fail(fileName, header.line, i + 1, name, "the header names this column twice")
            }
            if name != changeColumn {
                do { try CatalogDiscovery.checkIdentifier(name, field: "header") } catch {
                    throw fail(fileName, header.line, i + 1, name, "\(error)")
                }
            }
        }
        let changeIndex = header.fields.firstIndex(of: changeColumn)
        let dataColumns = header.fields.enumerated().filter { $0.offset != changeIndex }
        for declared in options.types.keys where !header.fields.contains(declared) {
            throw HeraldError(
                .invalidInput, "--type: the file has no column '\(declared)'\(Names.suggestion(for: declared, in: header.fields))")
        }

        let exists = try db.tableExists(options.table)
        var columns: [Column]
        var key: String
        var generated: String?
        if exists {
            let info = try Row.fetchAll(db, sql: "PRAGMA table_info(\(options.table.quotedDatabaseIdentifier))")
            let tableColumns = Dictionary(
                info.map { (($0["name"] as String).lowercased(), ($0["name"] as String, AttributeType.fromDeclared($0["type"] ?? ""))) },
                uniquingKeysWith: { a, _ in a })
            columns = try dataColumns.map { index, name in
                guard let (actual, type) = tableColumns[name.lowercased()] else {
                    throw fail(
                        fileName, header.line, index + 1, name,
                        "table '\(options.table)' has no such column\(Names.suggestion(for: name, in: tableColumns.values.map(\.0)))")
                }
                return Column(name: actual, index: index, type: options.types[name] ?? type)
            }
            let pk = info.filter { ($0["pk"] as Int) > 0 }.map { $0["name"] as String }
            key = options.key ?? (pk.count == 1 ? pk[0] : "")
            if options.generateKey {
                let integerKey =
                    pk.count == 1 && pk[0].lowercased() == key.lowercased()
                    && (info.first { ($0["name"] as String) == pk[0] }?["type"] as String?)?.uppercased() == "INTEGER"
                guard integerKey, !header.fields.contains(where: { $0.lowercased() == key.lowercased() }) else {
                    throw HeraldError(
                        .invalidInput,
                        "--generate-key: table '\(options.table)' needs an INTEGER PRIMARY KEY that the file does not contain; its key is '\(key.isEmpty ? "none" : key)'"
                    )
                }
                generated = pk[0]
            }
            if key.isEmpty {
                throw HeraldError(.invalidInput, "--key: table '\(options.table)' has no single-column primary key; name the key column")
            }
            let uniques = try CatalogDiscovery.uniqueSingleColumns(db, table: options.table).union(pk.count == 1 ? [pk[0]] : [])
            guard uniques.contains(where: { $0.lowercased() == key.lowercased() }) else {
                throw HeraldError(.invalidInput, "--key: '\(key)' is not the primary key or a unique column of '\(options.table)'")
            }
        } else {
            if options.generateKey {
                key = options.key ?? "id"
                if header.fields.contains(where: { $0.lowercased() == key.lowercased() }) {
                    throw HeraldError(
                        .invalidInput,
                        "--generate-key: the file already has a column '\(key)'; use it as the key (--key \(key)) or name another column for the generated key with --key"
                    )
                }
                try CatalogDiscovery.checkIdentifier(key, field: "--key")
                generated = key
            } else {
                key = options.key ?? (header.fields.contains("id") ? "id" : "")
                if key.isEmpty {
                    throw HeraldError(
                        .invalidInput,
                        "--key: the file has no 'id' column; name the key column with --key, or add --generate-key to number the rows")
                }
            }
            // First pass: infer each column's type from every non-empty value.
            var inferred = [TypeGuess](repeating: TypeGuess(), count: header.fields.count)
            while try nextFields() != nil {
                for (i, field) in fields.enumerated() where i < inferred.count && !field.isEmpty {
                    // A doubled quote is in no number or date.
                    if field.hasDoubledQuotes { inferred[i].observeText() } else { inferred[i].observe(reader.bytes(field)) }
                }
            }
            columns = dataColumns.map { index, name in
                Column(name: name, index: index, type: options.types[name] ?? inferred[index].type)
            }
            reader = CSVReader(bytes: bytes)
            reader.expectedFields = header.fields.count
            _ = try nextRecord()
        }
        let keyColumn = columns.first(where: { $0.name.lowercased() == key.lowercased() })
        if keyColumn == nil && generated == nil {
            throw HeraldError(.invalidInput, "--key: the file has no column '\(key)'\(Names.suggestion(for: key, in: header.fields))")
        }
        if !exists {
            var definitions = columns.map { c in
                "\(c.name.quotedDatabaseIdentifier) \(c.type.declaredSQLType)" + (c.name == keyColumn?.name ? " PRIMARY KEY" : "")
            }
            if let generated { definitions.insert("\(generated.quotedDatabaseIdentifier) INTEGER PRIMARY KEY", at: 0) }
            try db.execute(sql: "CREATE TABLE \(options.table.quotedDatabaseIdentifier) (\(definitions.joined(separator: ", ")))")
        }
        for ref in options.references {
            guard columns.contains(where: { $0.name == ref.column }) || !exists else {
                throw HeraldError(.invalidInput, "--ref: the file has no column '\(ref.column)'")
            }
            try CatalogDiscovery.declareReference(
                db, entity: options.table, column: ref.column, target: ref.target, targetColumn: ref.targetColumn)
        }

        let table = options.table.quotedDatabaseIdentifier
        let names = columns.map { $0.name.quotedDatabaseIdentifier }
        let placeholders = Array(repeating: "?", count: names.count).joined(separator: ", ")
        let insertSQL = "INSERT INTO \(table) (\(names.joined(separator: ", "))) VALUES (\(placeholders))"
        var upsertSQL = insertSQL
        var delete: Statement?
        var firstLine: Statement?
        var rememberKey: Statement?
        let empty = try !exists || !(Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM \(table))") ?? false)
        // Into a new or empty table without change types, every row is a plain insert, and the
        // key's own uniqueness finds a repeated key (the earlier line is then looked up in the
        // file): no upsert, no table of the keys seen.
        let plainInserts = keyColumn != nil && changeIndex == nil && empty
        // Every written row is an insert, unless an upsert may have met an existing key: then
        // the table's size before and after tells inserts from updates.
        let onlyInserts = plainInserts || keyColumn == nil
        let rowsBefore = onlyInserts || empty ? 0 : try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)") ?? 0
        if let keyColumn, !plainInserts {
            let keyName = keyColumn.name.quotedDatabaseIdentifier
            let updates = columns.filter { $0.name != keyColumn.name }.map {
                "\($0.name.quotedDatabaseIdentifier) = excluded.\($0.name.quotedDatabaseIdentifier)"
            }
            upsertSQL += " ON CONFLICT (\(keyName)) DO " + (updates.isEmpty ? "NOTHING" : "UPDATE SET \(updates.joined(separator: ", "))")
            delete = try db.makeStatement(sql: "DELETE FROM \(table) WHERE \(keyName) = ?")
            if changeIndex == nil {
                // Without change types a key may appear once: the keys seen so far, with their line,
                // live in a temporary table so memory stays flat however long the file is.
                try db.execute(sql: "CREATE TEMP TABLE IF NOT EXISTS herald_import_keys (key PRIMARY KEY, line INTEGER NOT NULL)")
                try db.execute(sql: "DELETE FROM herald_import_keys")
                rememberKey = try db.makeStatement(sql: "INSERT INTO herald_import_keys (key, line) VALUES (?, ?) ON CONFLICT DO NOTHING")
                firstLine = try db.makeStatement(sql: "SELECT line FROM herald_import_keys WHERE key = ?")
            }
        }
        let upsert = try db.makeStatement(sql: plainInserts ? insertSQL : upsertSQL)
        var written = 0
        var deleted = 0
        var lastReported = -1
        defer { if rememberKey != nil { try? db.execute(sql: "DROP TABLE IF EXISTS temp.herald_import_keys") } }
        /// Binds one record's values to `statement` and runs it; `duplicate` builds the error for a
        /// key that is already in the table.
        func bindAndStep(
            _ statement: Statement, line: Int, converter: inout ValueConverter, db: Database,
            duplicate: (ValueConverter) throws -> HeraldError?
        ) throws {
            let handle = statement.sqliteStatement
            let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
            func bindText(_ text: String, _ index: Int32) -> Int32 {
                var text = text
                return text.withUTF8 { utf8 in
                    sqlite3_bind_text(
                        handle, index, UnsafeRawPointer(utf8.baseAddress!).assumingMemoryBound(to: CChar.self), Int32(utf8.count), transient
                    )
                }
            }
            /// Bytes of the mapped file, which outlives the statement: SQLite need not copy them.
            func bindInPlace(_ raw: UnsafeBufferPointer<UInt8>, _ index: Int32) -> Int32 {
                sqlite3_bind_text(
                    handle, index, UnsafeRawPointer(raw.baseAddress!).assumingMemoryBound(to: CChar.self), Int32(raw.count), nil)
            }
            func bindConverted(_ field: CSVReader.Field, _ c: Column, _ index: Int32) throws -> Int32 {
                switch try converter.convert(reader.text(field), c, line)?.databaseValue.storage {
                case .int64(let v): sqlite3_bind_int64(handle, index, v)
                case .double(let v): sqlite3_bind_double(handle, index, v)
                case .string(let v): bindText(v, index)
                default: sqlite3_bind_null(handle, index)
                }
            }
            for (i, c) in columns.enumerated() {
                let index = Int32(i + 1)
                let field = fields[c.index]
                let code: Int32
                if field.isEmpty {
                    code = sqlite3_bind_null(handle, index)
                } else if field.hasDoubledQuotes {
                    code = try bindConverted(field, c, index)
                } else {
                    // Text, dates and integers are bound from the file's bytes; the converter
                    // handles the rest, and says why a value does not fit.
                    let raw = reader.bytes(field)
                    switch c.type {
                    case .text: code = bindInPlace(raw, index)
                    case .date where TemporalText.isDate(bytes: raw): code = bindInPlace(raw, index)
                    case .integer:
                        if let v = Importer.canonicalInteger(bytes: raw) {
                            code = sqlite3_bind_int64(handle, index, v)
                        } else {
                            code = try bindConverted(field, c, index)
                        }
                    case .real:
                        if let v = Importer.plainDecimal(bytes: raw) {
                            code = sqlite3_bind_double(handle, index, v)
                        } else {
                            code = try bindConverted(field, c, index)
                        }
                    default: code = try bindConverted(field, c, index)
                    }
                }
                guard code == SQLITE_OK else {
                    throw DatabaseError(
                        resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
                }
            }
            let result = sqlite3_step(handle)
            sqlite3_reset(handle)
            if result == SQLITE_DONE { return }
            let extended = ResultCode(rawValue: sqlite3_extended_errcode(db.sqliteConnection))
            if extended == .SQLITE_CONSTRAINT_PRIMARYKEY || extended == .SQLITE_CONSTRAINT_UNIQUE, let error = try duplicate(converter) {
                throw error
            }
            throw DatabaseError(resultCode: extended, message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
        }
        while let line = try nextFields() {
            if fields.count != header.fields.count {
                throw fail(
                    fileName, line, nil, nil,
                    "expected \(Names.counted(header.fields.count, "field")) as in the header, found \(fields.count)")
            }
            var change = "u"
            if let changeIndex {
                change = reader.text(fields[changeIndex]).lowercased()
                if change.isEmpty { change = "u" }
                guard change == "u" || change == "d" else {
                    throw fail(
                        fileName, line, changeIndex + 1, changeColumn,
                        "expected 'u' (upsert) or 'd' (delete), found '\(reader.text(fields[changeIndex]))'")
                }
            }
            /// A key seen on an earlier line, without change types: the import stops.
            func repeated(_ keyColumn: Column, earlier: Int) -> HeraldError {
                fail(
                    fileName, line, keyColumn.index + 1, keyColumn.name,
                    "the key '\(reader.text(fields[keyColumn.index]).prefix(40))' already appears on line \(earlier); a key may appear once (add a \(changeColumn) column to apply several changes to one key in file order)"
                )
            }
            var keyValue: (any DatabaseValueConvertible)?
            if let keyColumn {
                let keyField = fields[keyColumn.index]
                if keyField.isEmpty { throw fail(fileName, line, keyColumn.index + 1, keyColumn.name, "the key is empty") }
                // On the plain-insert path the key is bound with the other values.
                if !plainInserts { keyValue = try converter.convert(reader.text(keyField), keyColumn, line) }
                if let rememberKey, let firstLine {
                    try rememberKey.execute(arguments: [keyValue, line])
                    if db.changesCount == 0 { throw repeated(keyColumn, earlier: try Int.fetchOne(firstLine, arguments: [keyValue]) ?? 0) }
                }
            }
            if change == "d" {
                try delete?.execute(arguments: [keyValue])
                deleted += db.changesCount
            } else if plainInserts {
                // The hot path of a load into a new table: each value bound with SQLite's C API,
                // with no argument array per row.
                try bindAndStep(upsert, line: line, converter: &converter, db: db) { lookup in
                    var converter = lookup
                    guard let keyColumn, let key = try converter.convert(reader.text(fields[keyColumn.index]), keyColumn, line) else {
                        return nil
                    }
                    return repeated(
                        keyColumn,
                        earlier: try Importer.firstLine(of: key.databaseValue, column: keyColumn, in: bytes, converter: converter))
                }
                written += 1
            } else {
                var values: [(any DatabaseValueConvertible)?] = []
                values.reserveCapacity(columns.count)
                for c in columns {
                    // The key was converted above (converting again would count its offset twice).
                    values.append(c.index == keyColumn?.index ? keyValue : try converter.convert(reader.text(fields[c.index]), c, line))
                }
                upsert.setUncheckedArguments(StatementArguments(values))
                try upsert.execute()
                written += 1
            }
            if let progress, bytes.count > 0 {
                let percent = reader.position * 100 / bytes.count
                if percent != lastReported {
                    lastReported = percent
                    progress(Double(reader.position) / Double(bytes.count))
                }
            }
        }
        // Each written row either added a key (+1 row) or replaced one (±0); each delete removed one.
        let inserted = onlyInserts ? written : (try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)") ?? 0) - rowsBefore + deleted
        progress?(1)
        var types = Dictionary(columns.map { ($0.name, $0.type) }, uniquingKeysWith: { a, _ in a })
        if let generated { types[generated] = .integer }
        if !exists {
            // Every date and date-time in a table Herald created is in the canonical form.
            let temporal = columns.filter { $0.type == .date || $0.type == .datetime }.map(\.name)
            try Store.markTemporalCanonical(db, table: options.table, columns: temporal)
        }
        return ImportResult(
            table: options.table, createdTable: !exists, inserted: inserted, updated: written - inserted, deleted: deleted,
            columns: types, generatedKey: generated, assumedOffsets: converter.assumedOffsets, timeZone: converter.zone.ianaName)
    }

    /// The line of the first record whose key is `key` (reading the file again: only a repeated
    /// key, which ends the import, needs it).
    static func firstLine(
        of key: DatabaseValue, column: Column, in bytes: UnsafeBufferPointer<UInt8>, converter: ValueConverter
    ) throws -> Int {
        var reader = CSVReader(bytes: bytes)
        var converter = converter
        _ = try? reader.next()  // the header
        while let record = try? reader.next() {
            guard column.index < record.fields.count, !record.fields[column.index].isEmpty else { continue }
            if let value = try? converter.convert(record.fields[column.index], column, record.line), value.databaseValue == key {
                return record.line
            }
        }
        return 0
    }

    /// Turns CSV text into the value stored for a column, refusing what would change it.
    struct ValueConverter {
        let file: String
        let zone: TimeZone
        var assumedOffsets = 0

        init(file: String, zone: TimeZone) {
            self.file = file
            self.zone = zone
        }

        mutating func convert(_ text: String, _ column: Column, _ line: Int) throws -> (any DatabaseValueConvertible)? {
            if text.isEmpty { return nil }
            func bad(_ expected: String) -> HeraldError {
                fail(file, line, column.index + 1, column.name, "expected \(expected), found '\(text.prefix(40))'")
            }
            switch column.type {
            case .integer:
                guard let v = canonicalInteger(text) else {
                    // `007` or `+7` would be stored as 7: refuse rather than change the value.
                    throw bad(
                        Int64(text) == nil
                            ? "an integer"
                            : "an integer without a '+' sign or leading zeros (declare the column text to keep it as written)")
                }
                return v
            case .real:
                if let v = canonicalInteger(text) { return Double(v) }
                guard let v = Double(text), v.isFinite else { throw bad("a number") }
                return v
            case .boolean:
                switch text.lowercased() {
                case "true", "1", "yes", "t", "y": return 1
                case "false", "0", "no", "f", "n": return 0
                default: throw bad("true or false")
                }
            case .date:
                guard TemporalText.isDate(text) else { throw bad("a date such as 2026-01-31") }
                return text
            case .datetime:
                // Stored as the UTC instant, so date-times from different offsets compare correctly.
                do {
                    let instant = try TemporalText.instant(text, zone: zone)
                    if !instant.hadOffset { assumedOffsets += 1 }
                    return instant.text
                } catch .fractionOfASecond {
                    throw bad(
                        "a date-time to the second (Herald compares date-times to the second; declare the column text to keep fractions)")
                } catch .outOfRange {
                    throw bad("a date-time between the years 1 and 9999")
                } catch {
                    throw bad("a date-time such as 2026-01-31T09:30:00Z or 2026-01-31 10:30:00+01:00")
                }
            case .text:
                return text
            }
        }
    }

    /// The integer `text` spells in its one canonical form (`-12`, `0`; not `012`, `+12`, `-0`,
    /// `1_000`), or nil.
    static func canonicalInteger(_ text: String) -> Int64? {
        var text = text
        return text.withUTF8 { canonicalInteger(bytes: $0) }
    }

    /// `canonicalInteger` on UTF-8 bytes: a sign other than a lone leading '-', a leading zero,
    /// "-0", or a value past 64 bits is not the canonical form.
    static func canonicalInteger(bytes u: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard let first = u.first else { return nil }
        let negative = first == UInt8(ascii: "-")
        let start = negative ? 1 : 0
        guard start < u.count else { return nil }
        let lead = u[start]
        if lead == 48 && (u.count > start + 1 || negative) { return nil }
        var magnitude: UInt64 = 0
        for i in start..<u.count {
            let d = u[i] &- 48
            guard d < 10 else { return nil }
            let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(d))
            if o1 || o2 { return nil }
            magnitude = sum
        }
        if negative { return magnitude <= UInt64(Int64.max) + 1 ? Int64(bitPattern: 0 &- magnitude) : nil }
        return magnitude <= UInt64(Int64.max) ? Int64(magnitude) : nil
    }

    /// A decimal such as `-12.50` or `0.125`: digits on both sides of the point, no sign but a
    /// minus, no leading zeros, no exponent, and at most 15 significant digits so that the
    /// stored number is the written one (`10.50` reads back as the number 10.5).
    static func isPlainDecimal(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { isPlainDecimal(bytes: $0) }
    }

    /// The number a plain decimal or canonical integer spells (`-12.50`, `7`), or nil for any
    /// other text. Exact: its digits (at most 15 significant) and the power of ten dividing them
    /// are both exact doubles, and one division rounds correctly, as reading the text would.
    static func plainDecimal(bytes u: UnsafeBufferPointer<UInt8>) -> Double? {
        if let v = canonicalInteger(bytes: u) { return Double(v) }
        guard isPlainDecimal(bytes: u) else { return nil }
        var mantissa: Int64 = 0
        var scale = 0
        var afterPoint = false
        for b in u {
            if b == UInt8(ascii: ".") {
                afterPoint = true
            } else if b != UInt8(ascii: "-") {
                mantissa = mantissa * 10 + Int64(b - 48)
                if afterPoint { scale += 1 }
            }
        }
        let powers: [Double] = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15]
        guard scale < powers.count else { return nil }
        let value = Double(mantissa) / powers[scale]
        return u.first == UInt8(ascii: "-") ? -value : value
    }

    static func isPlainDecimal(bytes all: UnsafeBufferPointer<UInt8>) -> Bool {
        var bytes = all[...]
        if bytes.first == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
        guard let point = bytes.firstIndex(of: UInt8(ascii: ".")) else { return false }
        let whole = bytes[..<point]
        let fraction = bytes[bytes.index(after: point)...]
        let digit: (UInt8) -> Bool = { (48...57).contains($0) }
        guard !whole.isEmpty, !fraction.isEmpty, whole.allSatisfy(digit), fraction.allSatisfy(digit) else { return false }
        if whole.count > 1 && whole.first == UInt8(ascii: "0") { return false }
        let significant = (whole.drop { $0 == UInt8(ascii: "0") }.count) + fraction.count
        return significant <= 15
    }

    /// Narrows a column's type as values are seen: integer ⊂ real; date ⊂ date-time; else text.
    struct TypeGuess {
        var integer = true
        var real = true
        var boolean = true
        var date = true
        var datetime = true
        var seen = false

        mutating func observe(_ v: UnsafeBufferPointer<UInt8>) {
            seen = true
            // Only values that read back exactly as written are numbers: `08123` (a postal code),
            // `+33612…` (a phone number), integers past 64 bits and `1e5` stay text.
            if integer || real {
                let isInteger = canonicalInteger(bytes: v) != nil
                if integer && !isInteger { integer = false }
                if real && !isInteger && !Importer.isPlainDecimal(bytes: v) { real = false }
            }
            if boolean && !Self.isTrueOrFalse(v) { boolean = false }
            if date && !TemporalText.isDate(bytes: v) { date = false }
            if datetime && !(TemporalText.isDateTime(bytes: v) || TemporalText.isDate(bytes: v)) { datetime = false }
        }

        /// A value that can only be text.
        mutating func observeText() {
            seen = true
            (integer, real, boolean, date, datetime) = (false, false, false, false, false)
        }

        /// `true` or `false` in any case.
        static func isTrueOrFalse(_ v: UnsafeBufferPointer<UInt8>) -> Bool {
            func matches(_ word: StaticString) -> Bool {
                guard v.count == word.utf8CodeUnitCount else { return false }
                for i in 0..<v.count where v[i] | 0x20 != word.utf8Start[i] { return false }
                return true
            }
            return matches("true") || matches("false")
        }

        var type: AttributeType {
            guard seen else { return .text }
            if integer { return .integer }
            if real { return .real }
            if boolean { return .boolean }
            if date { return .date }
            if datetime { return .datetime }
            return .text
        }
    }
}
