import HeraldCore
import Testing

@Suite struct JSONTests {
    func parseError(_ text: String) -> JSONSyntaxError? {
        do {
            _ = try JSONValue.parse(text)
            return nil
        } catch {
            return error
        }
    }

    @Test(arguments: [
        "1", "-1", "0", "-0", "0.5", "-0.5", "1e5", "1E+5", "1e-5", "12.25e2", "9223372036854775807",
    ])
    func validNumbersParse(_ text: String) throws {
        let value = try JSONValue.parse(text)
        switch value {
        case .integer, .number: break
        default: Issue.record("\(text) parsed as \(value)")
        }
    }

    @Test(arguments: [
        "01", "-01", "+7", ".5", "1.", "1.e5", "1e", "1e+", "-", "--1", "0x10", "1_000", "Infinity", "NaN", "1e999", "00",
    ])
    func invalidNumbersAreErrors(_ text: String) {
        #expect(parseError(text) != nil, "\(text) should not parse")
        #expect(parseError("{\"a\": \(text)}") != nil, "\(text) inside an object should not parse")
    }

    @Test func integersStayIntegersAndLargeOnesBecomeNumbers() throws {
        #expect(try JSONValue.parse("42") == .integer(42))
        #expect(try JSONValue.parse("9223372036854775808") == .number(9_223_372_036_854_775_808))
        #expect(try JSONValue.parse("2.5") == .number(2.5))
    }

    @Test(arguments: [
        ("[1,]", 1, 4), ("{\"a\": 1,}", 1, 9), ("[1 2]", 1, 4), ("{\"a\" 1}", 1, 6), ("{\"a\": 1, \"a\": 2}", 1, 10),
        ("[\n  1,\n  01\n]", 3, 4), ("\"\\u12G4\"", 1, 4), ("\"\\u+123\"", 1, 4), ("\"tab\there\"", 1, 5), ("[1] x", 1, 5),
        ("nul", 1, 1), ("\"\\uDC00\"", 1, 8), ("\"\\uD800\"", 1, 8),
    ])
    func syntaxErrorsHaveLineAndColumn(_ text: String, _ line: Int, _ column: Int) {
        guard let error = parseError(text) else {
            Issue.record("\(text) should not parse")
            return
        }
        #expect(error.line == line, "\(text): \(error)")
        #expect(error.column == column, "\(text): \(error)")
    }

    @Test func duplicateKeysAreNamed() {
        #expect(parseError("{\"id\": 1, \"x\": 2, \"id\": 3}")?.message == "duplicate key \"id\"")
    }

    @Test func stringsAndEscapesRoundTrip() throws {
        let text = "{\"s\": \"a\\\"b\\\\c\\/d\\n\\t\\u00e9\\ud83d\\ude00\", \"e\": [], \"o\": {}, \"b\": [true, false, null]}"
        let value = try JSONValue.parse(text)
        #expect(value["s"] == .string("a\"b\\c/d\n\té😀"))
        #expect(try JSONValue.parse(value.pretty()) == value)
        #expect(try JSONValue.parse(value.compact()) == value)
    }

    /// An object with 200,000 keys parses (the duplicate check is linear, not quadratic).
    @Test func aLargeObjectParses() throws {
        var text = "{"
        for i in 0..<200_000 { text += (i == 0 ? "" : ",") + "\"key\(i)\": \(i)" }
        text += "}"
        guard case .object(let pairs) = try JSONValue.parse(text) else {
            Issue.record("not an object")
            return
        }
        #expect(pairs.count == 200_000)
        #expect(pairs.last?.1 == .integer(199_999))
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        #expect(parseError(String(repeating: "[", count: 100_000))?.message.contains("deeper") == true)
    }

    /// Random bytes and random mutations of a real campaign file give a value or an error.
    @Test func fuzzedInputNeverCrashes() throws {
        var random = SplitMix64(seed: 8259)
        let alphabet = Array("{}[]\",:0123456789-+.eE \n\\u\"truefalsnl\u{e9}".utf8)
        var errors = 0
        for _ in 0..<4_000 {
            let length = Int(random.next(below: 40))
            let bytes = (0..<length).map { _ in alphabet[Int(random.next(below: UInt64(alphabet.count)))] }
            if parseError(String(decoding: bytes, as: UTF8.self)) != nil { errors += 1 }
        }
        #expect(errors > 0)
        let valid = Array(CampaignFormat.encodeText(CampaignFormatTests.sample).utf8)
        var parsedMutants = 0
        for _ in 0..<3_000 {
            var bytes = valid
            random.mutate(&bytes, alphabet: alphabet, edits: 1 + Int(random.next(below: 4)))
            let text = String(decoding: bytes, as: UTF8.self)
            if let value = try? JSONValue.parse(text) {
                parsedMutants += 1
                // Whatever parses re-parses to the same value from its own printing.
                #expect(try JSONValue.parse(value.pretty()) == value)
                // And the campaign decoder answers with a campaign or an error, never a trap.
                _ = try? CampaignFormat.decode(value)
            }
        }
        #expect(parsedMutants > 0)
    }
}
