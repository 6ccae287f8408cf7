import Foundation
import GRDB
import HeraldCore
import HeraldStore
import Testing

@testable import HeraldEngine

/// Date-times are compared as instants, whatever form and offset they were imported in.
@Suite struct DateTimeTests {
    /// Seconds since the epoch, computed independently of Herald with Foundation's calendar.
    func epoch(_ text: String, zone: TimeZone) -> Int {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = zone
        for format in ["yyyy-MM-dd'T'HH:mm:ssXXXXX", "yyyy-MM-dd HH:mm:ssXXXXX", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd'T'HH:mm"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: text) { return Int(date.timeIntervalSince1970) }
        }
        fatalError("test value \(text) did not parse")
    }

    @Test func mixedFormsAndOffsetsCompareAsInstants() throws {
        let scratch = Scratch()
        let store = try scratch.store()
        try store.setDefaultTimeZone("America/New_York")
        let values = [
            "2020-01-01 10:00:00", "2020-01-01T12:00:00+05:00", "2020-01-01T08:59:59Z", "2019-12-31T23:30:00-10:00",
            "2020-01-01T14:00:00+00:00", "2020-07-01 03:00:00", "2020-01-01 04:00:00", "2020-01-01T09:00:00Z",
        ]
        let csv = "id,seen_at\n" + values.enumerated().map { "\($0.offset + 1),\($0.element)" }.joined(separator: "\n") + "\n"
        let result = try Importer.importCSV(file: scratch.file("v.csv", csv), into: store, options: ImportOptions(table: "visits"))
        #expect(result.columns["seen_at"] == .datetime)
        #expect(result.assumedOffsets == 3)
        #expect(result.timeZone == "America/New_York")
        let zone = TimeZone(identifier: "America/New_York")!
        let instants = values.map { epoch($0, zone: zone) }
        let service = AudienceService(store: store)
        for (bound, op) in [("2020-01-01T09:00:00Z", "<"), ("2020-01-01T14:00:00+05:00", ">="), ("2020-01-01T04:00:00-05:00", "<=")] {
            let limit = epoch(bound, zone: zone)
            let expected = instants.filter { op == "<" ? $0 < limit : op == ">=" ? $0 >= limit : $0 <= limit }.count
            let counted = try service.count(AudienceSource(entity: "visits", rule: try Rule(parsing: "seen_at \(op) \"\(bound)\"")))
            #expect(counted == expected, "seen_at \(op) \(bound)")
        }
        // A literal without an offset is read in the store's zone too.
        let local = try service.count(AudienceSource(entity: "visits", rule: try Rule(parsing: #"seen_at = "2020-01-01 04:00""#)))
        #expect(local == instants.filter { $0 == epoch("2020-01-01 04:00:00", zone: zone) }.count)
        #expect(local == 2)  // 04:00 in New York is 09:00Z, which one other value also is
        // Stored values are the canonical UTC text.
        let stored = try store.read { db in try String.fetchAll(db, sql: "SELECT seen_at FROM visits ORDER BY id") }
        #expect(stored.allSatisfy { $0.count == 20 && $0.hasSuffix("Z") })
        #expect(stored[1] == "2020-01-01T07:00:00Z")
    }

    /// A date-time key is read once per row, into a new table and into an existing one.
    @Test func aDateTimeKeyCountsItsAssumedOffsetOnce() throws {
        let scratch = Scratch()
        let store = try scratch.store()
        let file = scratch.file("k.csv", "at,n\n2020-01-01 10:00,1\n2020-01-02 10:00,2\n")
        let created = try Importer.importCSV(file: file, into: store, options: ImportOptions(table: "ticks", key: "at"))
        #expect(created.assumedOffsets == 2)
        #expect(created.inserted == 2)
        let again = try Importer.importCSV(file: file, into: store, options: ImportOptions(table: "ticks", key: "at"))
        #expect(again.assumedOffsets == 2)
        #expect(again.updated == 2)
        #expect(again.inserted == 0)
    }

    @Test func aFractionOfASecondIsRefusedNotDropped() throws {
        let scratch = Scratch()
        let store = try scratch.store()
        do {
            _ = try Importer.importCSV(
                file: scratch.file("f.csv", "id,at\n1,2020-01-01T10:00:00Z\n2,2020-01-01T10:00:00.250Z\n"), into: store,
                options: ImportOptions(table: "events", types: ["at": .datetime]))
            Issue.record("a fraction of a second was accepted")
        } catch {
            #expect("\(error)".contains("f.csv:3:2 (column 'at'): expected a date-time to the second"), "\(error)")
        }
    }

    @Test func aForeignColumnOutOfFormIsReportedAndRefused() throws {
        let scratch = Scratch()
        let store = try scratch.store()
        try store.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE logins (id INTEGER PRIMARY KEY, at DATETIME, day DATE);
                    INSERT INTO logins VALUES (1, '2020-01-01 10:00', '2020-01-01'), (2, '2020-01-01T10:00:00Z', '01/02/2020'),
                        (3, 1577872800, '2020-01-03'), (4, '2020-01-02T00:00:00Z', NULL);
                    """)
        }
        let service = AudienceService(store: store)
        let reports = try service.temporalReports(try store.catalog(), onlyUnverified: false)
        let at = try #require(reports.first { $0.attribute == "at" })
        #expect(at.values == 4)
        #expect(at.outOfForm == 2)
        #expect(Set(at.examples) == ["2020-01-01 10:00", "1577872800"])
        #expect(reports.first { $0.attribute == "day" }?.outOfForm == 1)
        do {
            _ = try service.count(AudienceSource(entity: "logins", rule: try Rule(parsing: #"at > "2019-01-01""#)))
            Issue.record("a rule on a column out of form was answered")
        } catch {
            #expect("\(error)".contains("'logins.at' cannot be compared: 2 values of 4 are not in the form"), "\(error)")
        }
        #expect(try service.count(AudienceSource(entity: "logins", rule: try Rule(parsing: "id > 1"))) == 3)
        // Fixed in SQL, the column can be used; the check sees the change at once.
        try store.write { db in
            try db.execute(
                sql: "UPDATE logins SET at = '2020-01-01T10:00:00Z' WHERE id IN (1, 3); UPDATE logins SET day = '2020-01-02' WHERE id = 2")
        }
        #expect(try service.count(AudienceSource(entity: "logins", rule: try Rule(parsing: #"at > "2020-01-01T09:00:00Z""#))) == 4)
    }
}
