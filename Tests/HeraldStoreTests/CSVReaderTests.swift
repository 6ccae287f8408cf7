import HeraldCore
import HeraldStore
import Testing

@Suite struct CSVReaderTests {
    /// Every record of `text`, or the first syntax error.
    func records(_ text: String) -> Result<[(line: Int, fields: [String])], CSVReader.SyntaxError> {
        records(Array(text.utf8))
    }

    func records(_ bytes: [UInt8]) -> Result<[(line: Int, fields: [String])], CSVReader.SyntaxError> {
        bytes.withUnsafeBufferPointer { buffer in
            var reader = CSVReader(bytes: buffer)
            var out: [(line: Int, fields: [String])] = []
            do throws(CSVReader.SyntaxError) {
                while let record = try reader.next() { out.append(record) }
                return .success(out)
            } catch {
                return .failure(error)
            }
        }
    }

    func fields(_ text: String) throws -> [[String]] {
        try records(text).get().map(\.fields)
    }

    @Test func quotedFieldsDoubledQuotesAndLineBreaks() throws {
        #expect(
            try fields("a,b\r\n\"x, y\",\"say \"\"hi\"\"\"\n\"two\nlines\",\n") == [
                ["a", "b"], ["x, y", "say \"hi\""], ["two\nlines", ""],
            ])
    }

    @Test func recordsKnowTheLineTheyStartOn() throws {
        let lines = try records("h\n\"a\nb\nc\"\nd\n").get().map(\.line)
        #expect(lines == [1, 2, 5])
    }

    @Test func aByteOrderMarkIsNotPartOfTheFirstName() throws {
        #expect(try fields("\u{FEFF}id,name\n") == [["id", "name"]])
    }

    @Test func aLastLineWithoutNewlineAndEmptyFields() throws {
        #expect(try fields(",,\n1,,3") == [["", "", ""], ["1", "", "3"]])
    }

    @Test(arguments: [
        ("a\n\"open", 2, 1, "never closed"), ("a,\"b\"x\n", 1, 2, "after a closing quote"), ("a,b\"c\n", 1, 2, "quote inside"),
    ])
    func syntaxErrorsSayWhere(_ text: String, _ line: Int, _ column: Int, _ message: String) {
        guard case .failure(let error) = records(text) else {
            Issue.record("\(text) should not read")
            return
        }
        #expect(error.line == line)
        #expect(error.column == column)
        #expect(error.message.contains(message))
    }

    /// The field ranges an import binds from are the same fields, with the same text.
    @Test func fieldRangesGiveTheSameText() throws {
        let text = "id,name,note\r\n1,\"Doe, Jane\",\"a \"\"b\"\"\"\n2,Ünal,\n\n\"\",x,\"two\nlines\""
        let bytes = Array(text.utf8)
        let expected = try records(text).get()
        bytes.withUnsafeBufferPointer { buffer in
            var reader = CSVReader(bytes: buffer)
            var fields: [CSVReader.Field] = []
            var got: [(line: Int, fields: [String])] = []
            do throws(CSVReader.SyntaxError) {
                while let line = try reader.nextFields(into: &fields) { got.append((line, fields.map(reader.text))) }
            } catch {
                Issue.record("\(error.message)")
            }
            #expect(got.map(\.line) == expected.map(\.line))
            #expect(got.map(\.fields) == expected.map(\.fields))
            #expect(got[1].fields == ["1", "Doe, Jane", "a \"b\""])
        }
    }

    @Test func invalidUTF8IsAnError() {
        guard case .failure(let error) = records([0x61, 0x2C, 0xC3, 0x28, 0x0A]) else {
            Issue.record("invalid UTF-8 was accepted")
            return
        }
        #expect(error.message.contains("UTF-8"))
    }

    /// Random bytes and mutations of a valid file end in records or an error, always having
    /// consumed the input (no endless loop, no trap).
    @Test func fuzzedInputNeverCrashesOrHangs() {
        var random = SplitMix64(seed: 4180)
        let alphabet: [UInt8] = Array("ab,\"\r\n\u{e9}1 ".utf8) + [0xFF, 0x00]
        var failures = 0
        for _ in 0..<5_000 {
            let bytes = (0..<Int(random.next(below: 60))).map { _ in alphabet[Int(random.next(below: UInt64(alphabet.count)))] }
            bytes.withUnsafeBufferPointer { buffer in
                var reader = CSVReader(bytes: buffer)
                var steps = 0
                do {
                    while try reader.next() != nil {
                        steps += 1
                        // Each record consumes at least one byte, so there are at most as many.
                        if steps > bytes.count + 1 {
                            Issue.record("the reader did not advance on \(bytes)")
                            return
                        }
                    }
                    #expect(reader.position >= bytes.count)
                } catch {
                    failures += 1
                }
            }
        }
        #expect(failures > 0)
        let valid = Array("id,name,note\n1,\"Doe, Jane\",\"a \"\"b\"\"\"\n2,Ünal,\n".utf8)
        for _ in 0..<3_000 {
            var bytes = valid
            let at = Int(random.next(below: UInt64(bytes.count)))
            bytes[at] = alphabet[Int(random.next(below: UInt64(alphabet.count)))]
            _ = records(bytes)
        }
    }
}
