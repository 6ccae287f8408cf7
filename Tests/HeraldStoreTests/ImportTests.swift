import Foundation
import GRDB
import HeraldCore
import Testing

@testable import HeraldStore

@Suite struct ImportTests {
    func rows(_ store: Store, _ sql: String) throws -> [[String]] {
        try store.read { db in
            try Row.fetchAll(db, sql: sql).map { row in row.databaseValues.map { $0.isNull ? "NULL" : "\($0.storage)" } }
        }
    }

    @Test func createsATableWithInferredTypesAndQuotedFields() throws {
        let scratch = Scratch()
        let store = try scratch.store()
        let csv = scratch.file(
            "people.csv",
            "\u{FEFF}id,name,score,born,seen,vip,note\r\n1,\"Doe, Jane\",1.5,1990-01-31,2026-01-01T10:00:00Z,true,\"said \"\"hi\"\"\nthen left\"\r\n2,Ünal,2,1985-12-01,2026-01-02 11:00:00,false,\r\n"
        )
        let result = try Importer.importCSV(file: csv, into: store, options: ImportOptions(table: "people"))
        #expect(result.createdTable)
        #expect(result.inserted == 2)
        #expect(result.updated == 0)
        #expect(
            result.columns == [
                "id": .integer, "name": .text, "score": .real, "born": .date, "seen": .datetime, "vip": .boolean, "note": .text,
            ])
        let catalog = try store.catalog()
        #expect(catalog.entity("people")?.primaryKey == "id")
        #expect(catalog.entity("people")?.attribute("born")?.type == .date)
        let r = try rows(store, "SELECT id, name, score, vip, note FROM people ORDER BY id")
        #expect(r[0] == ["int64(1)", "string(\"Doe, Jane\")", "double(1.5)", "int64(1)", "string(\"said \\\"hi\\\"\\nthen left\")"])
        #expect(r[1][4] == "NULL")
    }

    @Test func upsertsAndDeletesWithTheChangeColumn() throws {
        let scratch = Scratch()
        let store = try scratch.store()
        _ = try Importer.importCSV(
            file: scratch.file("a.csv", "id,city\n1,Paris\n2,Rome\n3,Oslo\n"), into: store, options: ImportOptions(table: "cities"))
        let result = try Importer.importCSV(
            file: scratch.file("b.csv", "id,city,_change_request_type\n1,Lyon,u\n2,,d\n4,Bern,\n"), into: store,
            options: ImportOptions(table: "cities"))
        #expect(result.inserted == 1)
        #expect(result.updated == 1)
        #expect(result.deleted == 1)
        #expect(
            try rows(store, "SELECT id, city FROM cities ORDER BY id").map { $0.joined(separator: " ") } == [
                "int64(1) string(\"Lyon\")", "int64(3) string(\"Oslo\")", "int64(4) string(\"Bern\")",
            ])
    }

    @Test func declaredReferencesBecomeLinks() throws {
        let scratch = Scratch()
        let store = try scratch.store()
        _ = try Importer.importCSV(file: scratch.file("p.csv", "id,name\n1,A\n"), into: store, options: ImportOptions(table: "people"))
        _ = try Importer.importCSV(
            file: scratch.file("o.csv", "order_no,person_id,total\nA1,1,9.5\n"), into: store,
            options: ImportOptions(table: "orders", key: "order_no", references: [("person_id", "people", nil)]))
        let catalog = try store.catalog()
        #expect(catalog.entity("orders")?.primaryKey == "order_no")
        #expect(catalog.entity("orders")?.link("person")?.target == "people")
        #expect(catalog.entity("people")?.link("orders")?.cardinality == .oneToMany)
    }

    @Test(arguments: [
        ("id,n\n1,2\n2,\"open\n", "bad.csv:3:2: a quoted field is never closed"),
        ("id,n\n1,2\n2,3,4\n", "bad.csv:3: expected 2 fields as in the header, found 3"),
        ("id,n\n1,2\n2,x\"y\n", "bad.csv:3:2: a quote inside an unquoted field"),
        ("id,n\n1,2\n2,\"a\"b\n", "bad.csv:3:2: unexpected text after a closing quote"),
        (
            "id,n,_change_request_type\n1,2,u\n2,3,x\n",
            "bad.csv:3:3 (column '_change_request_type'): expected 'u' (upsert) or 'd' (delete), found 'x'"
        ),
        ("id,n\n1,2\n,3\n", "bad.csv:3:1 (column 'id'): the key is empty"),
        ("id,id\n1,2\n", "bad.csv:1:2 (column 'id'): the header names this column twice"),
        ("id,\n1,2\n", "bad.csv:1:2: the header has an empty column name"),
        ("", "the file is empty"),
        ("name,n\na,1\n", "--key: the file has no 'id' column"),
    ])
    func malformedFilesAbortAndWriteNothing(contents: String, message: String) throws {
        let scratch = Scratch()
        let store = try scratch.store()
        do {
            _ = try Importer.importCSV(file: scratch.file("bad.csv", contents), into: store, options: ImportOptions(table: "things"))
            Issue.record("should have failed: \(message)")
        } catch {
            #expect("\(error)".contains(message), "\(error)")
        }
        #expect(try store.read { db in try db.tableExists("things") } == false)
    }

    @Test func aKeyTwiceWithoutChangeTypesIsAnErrorNamingBothLines() throws {
        let scratch = Scratch()
        let store = try scratch.store()
        _ = try Importer.importCSV(file: scratch.file("a.csv", "id,city\n9,Oslo\n"), into: store, options: ImportOptions(table: "cities"))
        for table in ["cities", "fresh"] {
            do {
                _ = try Importer.importCSV(
                    file: scratch.file("dup.csv", "id,city\n1,Paris\n2,Rome\n1,Lyon\n"), into: store, options: ImportOptions(table: table))
                Issue.record("a repeated key was accepted")
            } catch {
                #expect("\(error)".contains("dup.csv:4:1 (column 'id'): the key '1' already appears on line 2"), "\(error)")
            }
        }
        #expect(try rows(store, "SELECT id FROM cities") == [["int64(9)"]])
        #expect(try store.read { db in try db.tableExists("fresh") } == false)
    }

    @Test func changeTypesApplyInFileOrderAndCountEachKind() throws {
        let scratch = Scratch()
        let store = try scratch.store()
        _ = try Importer.importCSV(
            file: scratch.file("a.csv", "id,city\n1,Paris\n2,Rome\n"), into: store, options: ImportOptions(table: "cities"))
        let result = try Importer.importCSV(
            file: scratch.file("b.csv", "id,city,_change_request_type\n3,Bern,u\n3,Basel,u\n1,,d\n1,Nice,u\n2,Milan,\n7,,d\n"), into: store,
            options: ImportOptions(table: "cities"))
        // 3 inserted then updated; 1 deleted then inserted again; 2 updated; 7 was never there.
        #expect(result.inserted == 2)
        #expect(result.updated == 2)
        #expect(result.deleted == 1)
        #expect(
            try rows(store, "SELECT id, city FROM cities ORDER BY id").map { $0.joined(separator: " ") } == [
                "int64(1) string(\"Nice\")", "int64(2) string(\"Milan\")", "int64(3) string(\"Basel\")",
            ])
    }

    /// Values that a number type would change stay text, so they read back as the file held them.
    @Test func inferenceNeverChangesAValue() throws {
        let scratch = Scratch()
        let store = try scratch.store()
        let csv = "id,zip,phone,big,price,count,mixed\n1,08123,+33612345678,123456789012345678901,10.50,7,1\n2,75001,+4420,5,3,-12,2.5\n"
        let result = try Importer.importCSV(file: scratch.file("t.csv", csv), into: store, options: ImportOptions(table: "things"))
        #expect(result.columns["zip"] == .text)
        #expect(result.columns["phone"] == .text)
        #expect(result.columns["big"] == .text)
        #expect(result.columns["price"] == .real)
        #expect(result.columns["count"] == .integer)
        #expect(result.columns["mixed"] == .real)
        let read = try store.read { db in
            try Row.fetchAll(db, sql: "SELECT zip, phone, big FROM things ORDER BY id").map {
                [$0[0] as String, $0[1] as String, $0[2] as String]
            }
        }
        #expect(read == [["08123", "+33612345678", "123456789012345678901"], ["75001", "+4420", "5"]])
        // A declared integer column refuses a value it would change.
        do {
            _ = try Importer.importCSV(
                file: scratch.file("u.csv", "id,count\n3,007\n"), into: store, options: ImportOptions(table: "things"))
            Issue.record("007 was accepted as an integer")
        } catch {
            #expect("\(error)".contains("u.csv:2:2 (column 'count'): expected an integer without a '+' sign or leading zeros"), "\(error)")
        }
    }

    /// Integers and decimals are read from the file's bytes without making text of them; they
    /// must be exactly what reading the text would give. An integer is canonical when printing
    /// it back gives the same text; a decimal is the number `Double` reads, to the last bit.
    @Test func numbersReadFromBytesAreTheNumbersTheTextSpells() {
        var random = SplitMix64(seed: 1_000_003)
        let alphabet = Array("0123456789-.+e")
        var samples = [
            "0", "-0", "00", "7", "-12", "012", "+12", "9223372036854775807", "-9223372036854775808", "9223372036854775808",
            "-9223372036854775809", "18446744073709551616", "10.50", "0.125", "-0.5", "0.000000000000001", "999999999999999.9",
            "123456789012345.6", "1.", ".5", "-", "1e5", "4.35", "0.1", "2.675", "-0.0",
        ]
        for _ in 0..<20_000 {
            let length = 1 + Int(random.next(below: 20))
            samples.append(String((0..<length).map { _ in alphabet[Int(random.next(below: UInt64(alphabet.count)))] }))
            // Mostly digits with one point: the shapes that pass.
            let digits = (0..<(1 + Int(random.next(below: 17)))).map { _ in alphabet[Int(random.next(below: 10))] }
            let point = Int(random.next(below: UInt64(digits.count + 1)))
            samples.append((random.next(below: 2) == 0 ? "-" : "") + String(digits[..<point]) + "." + String(digits[point...]))
        }
        for text in samples {
            var copy = text
            copy.withUTF8 { bytes in
                let integer = Importer.canonicalInteger(bytes: bytes)
                let expected = Int64(text).flatMap { String($0) == text ? $0 : nil }
                #expect(integer == expected, "integer '\(text)'")
                let decimal = Importer.plainDecimal(bytes: bytes)
                let expectedDecimal = expected != nil || Importer.isPlainDecimal(text) ? Double(text) : nil
                #expect(decimal?.bitPattern == expectedDecimal?.bitPattern, "decimal '\(text)': \(String(describing: decimal))")
            }
        }
    }

    @Test func aFileWithoutKeysGetsGeneratedOnes() throws {
        let scratch = Scratch()
        let store = try scratch.store()
        let file = scratch.file("n.csv", "name,city\nAda,Paris\nAda,Paris\n")
        let first = try Importer.importCSV(file: file, into: store, options: ImportOptions(table: "visits", generateKey: true))
        #expect(first.generatedKey == "id")
        #expect(first.inserted == 2)
        let second = try Importer.importCSV(file: file, into: store, options: ImportOptions(table: "visits", generateKey: true))
        #expect(second.inserted == 2)
        #expect(try rows(store, "SELECT id FROM visits ORDER BY id").flatMap { $0 } == ["int64(1)", "int64(2)", "int64(3)", "int64(4)"])
        #expect(try store.catalog().entity("visits")?.primaryKey == "id")
        #expect(throws: HeraldError.self) {
            try Importer.importCSV(
                file: scratch.file("k.csv", "id,name\n1,a\n"), into: store, options: ImportOptions(table: "other", generateKey: true))
        }
    }

    @Test func aBadValueInAnExistingTableRollsBackEveryRow() throws {
        let scratch = Scratch()
        let store = try scratch.store()
        _ = try Importer.importCSV(file: scratch.file("a.csv", "id,age\n1,30\n"), into: store, options: ImportOptions(table: "people"))
        do {
            _ = try Importer.importCSV(
                file: scratch.file("b.csv", "id,age\n1,31\n2,32\n3,old\n"), into: store, options: ImportOptions(table: "people"))
            Issue.record("should fail on 'old'")
        } catch {
            #expect("\(error)".contains("b.csv:4:2 (column 'age'): expected an integer, found 'old'; nothing was imported"), "\(error)")
        }
        #expect(try rows(store, "SELECT id, age FROM people").map { $0.joined(separator: " ") } == ["int64(1) int64(30)"])
    }

    @Test func unknownColumnsAndReservedNamesAreRefused() throws {
        let scratch = Scratch()
        let store = try scratch.store()
        _ = try Importer.importCSV(file: scratch.file("a.csv", "id,age\n1,30\n"), into: store, options: ImportOptions(table: "people"))
        #expect(throws: HeraldError.self) {
            try Importer.importCSV(file: scratch.file("b.csv", "id,agee\n1,31\n"), into: store, options: ImportOptions(table: "people"))
        }
        #expect(throws: HeraldError.self) {
            try Importer.importCSV(file: scratch.file("c.csv", "id\n1\n"), into: store, options: ImportOptions(table: "herald_runs"))
        }
        #expect(throws: HeraldError.self) {
            try Importer.importCSV(file: scratch.file("d.csv", "id,x\n1,2\n"), into: store, options: ImportOptions(table: "bad name"))
        }
    }
}
