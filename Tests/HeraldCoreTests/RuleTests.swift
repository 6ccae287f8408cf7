import HeraldCore
import Testing

@Suite struct RuleSyntaxTests {
    @Test(arguments: [
        "country = \"FR\"",
        "country in (\"FR\", \"DE\") and age >= 18",
        "not (country = \"FR\" or country = \"DE\")",
        "email is not empty and signup_date > \"2026-01-01\"",
        "home.country not in (\"FR\")",
        "email starts with \"a\" or email not contains \"@example.com\" or email like \"%x%\"",
        "age != -3 and score < 2.5 and vip = true",
        "true",
        "`order` = 1",
        "age = $minimum",
        "(a = 1 and b = 2) and c = 3",
        "bookings.count(status = \"confirmed\" and departs > now() - 30d) >= 2",
        "bookings.sum(amount where status = \"x\") > 500 and bookings.latest(departs) < today() + 2w",
        "bookings.any() and not bookings.none(amount between 1 and 2.5)",
        "bookings.count() = 0 or bookings.avg(amount) != 3 or bookings.min(amount) <= 1 or bookings.max(amount) > 9",
        "in_audience(\"VIP travellers\") and age not between 18 and 30",
        "email icontains \"EXAMPLE\" or email istarts with \"a\" or name ilike \"j%\" or name not ilike \"%x\"",
        "seen_at > now() and signup_date <= today() - 1d",
        "a = 1 or (b = 2 or c = 3)",
    ])
    func parsePrintRoundTrip(source: String) throws {
        let rule = try Rule(parsing: source)
        let printed = rule.text
        #expect(try Rule(parsing: printed) == rule)
        #expect(try Rule(parsing: printed).text == printed)
    }

    @Test func andBindsTighterThanOr() throws {
        let rule = try Rule(parsing: "a = 1 or b = 2 and c = 3")
        guard case .or(let parts) = rule else {
            Issue.record("expected an or, got \(rule)")
            return
        }
        #expect(parts.count == 2)
        if case .and = parts[1] {} else { Issue.record("the right side should be an and") }
    }

    @Test(arguments: [
        ("country = ", 10, "expected a value"),
        ("country FR", 8, "expected an operator after 'country'"),
        ("(a = 1", 6, "expected ')' to close the '('"),
        ("a = \"open", 4, "unterminated text"),
        ("a = 1 b = 2", 6, "expected 'and', 'or'"),
        ("a in 1", 5, "expected '('"),
        ("a = FR", 4, "put text in quotes"),
        ("a = 30x", 4, "durations are written 30m"),
        ("a > now() - 3", 12, "expected a duration"),
        ("a > today() + 3h", 14, "today() moves in whole days"),
        ("bookings.count(", 15, "expected an attribute name"),
        ("bookings.count() 2", 17, "expected a comparison"),
        ("bookings.sum() > 1", 13, "expected the column to sum"),
        ("country.upper() = 1", 13, "not a function"),
        ("in_audience(VIP)", 12, "expected the audience name in quotes"),
        ("a between 1 or 2", 12, "expected 'and' after 'between …'"),
        ("a = 1 # b", 6, "unexpected character '#'"),
        ("   ", 0, "the rule is empty"),
        ("and = 1", 0, "keyword 'and'"),
    ])
    func syntaxErrorsPointAtTheProblem(source: String, offset: Int, message: String) {
        do {
            _ = try Rule(parsing: source)
            Issue.record("'\(source)' should not parse")
        } catch {
            #expect(error.offset == offset, "\(error)")
            #expect(error.message.contains(message), "\(error.message)")
            let lines = error.description.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines.count == 3)
            #expect(lines[2].firstIndex(of: "^").map { lines[2].distance(from: lines[2].startIndex, to: $0) } == offset + 2)
        }
    }

    @Test func deepNestingIsRefusedNotCrashed() {
        let deep = String(repeating: "(", count: 1000) + "a = 1" + String(repeating: ")", count: 1000)
        #expect(throws: RuleSyntaxError.self) { try Rule(parsing: deep) }
        let notChain = String(repeating: "not ", count: 1000) + "a = 1"
        #expect(throws: RuleSyntaxError.self) { try Rule(parsing: notChain) }
    }

    @Test func valuesWithQuotesAndSQLStaySingleValues() throws {
        let rule = try Rule(parsing: #"a = "x\"; DROP TABLE profiles; --" and b = 'it\'s'"#)
        #expect(
            rule
                == .and([
                    .compare(AttributePath("a"), .equal, .text("x\"; DROP TABLE profiles; --")),
                    .compare(AttributePath("b"), .equal, .text("it's")),
                ]))
        #expect(try Rule(parsing: rule.text) == rule)
    }

    /// Random rules print and parse back to the same tree.
    @Test func randomRulesRoundTrip() throws {
        var generator = SplitMix64(seed: 12345)
        for _ in 0..<500 {
            let rule = randomRule(depth: 0, using: &generator)
            let text = rule.text
            let parsed = try Rule(parsing: text)
            #expect(parsed == rule, "\(text)")
        }
    }

    func randomRule(depth: Int, using g: inout SplitMix64) -> Rule {
        let paths = [
            AttributePath("country"), AttributePath("age"), AttributePath(["home", "country"]),
            AttributePath("`odd name`".trimmingBackticks),
        ]
        let literals: [Literal] = [
            .integer(Int64(g.next() % 200) - 100), .real(Double(g.next() % 1000) / 8), .text("FR"), .text("a \"quoted\" \\ value\n"),
            .boolean(g.next() % 2 == 0), .variable("limit"), .text(""), .text("ünïcødé"),
        ]
        func path() -> AttributePath { paths[Int(g.next() % UInt64(paths.count))] }
        func literal() -> Literal { literals[Int(g.next() % UInt64(literals.count))] }
        let choice = depth > 3 ? g.next() % 4 + 3 : g.next() % 12
        switch choice {
        case 0:
            return .and((0..<(2 + Int(g.next() % 2))).map { _ in randomRule(depth: depth + 1, using: &g) })
        case 1:
            return .or((0..<(2 + Int(g.next() % 2))).map { _ in randomRule(depth: depth + 1, using: &g) })
        case 2: return .not(randomRule(depth: depth + 1, using: &g))
        case 3: return .compare(path(), ComparisonOperator.allCases[Int(g.next() % 6)], literal())
        case 4: return .inList(path(), (0..<(1 + Int(g.next() % 3))).map { _ in literal() }, negated: g.next() % 2 == 0)
        case 5: return .isEmpty(path(), negated: g.next() % 2 == 0)
        case 6: return .text(path(), TextMatch.allCases[Int(g.next() % 6)], .text("x%"), negated: g.next() % 2 == 0)
        case 8:
            return .between(path(), literal(), .relative(.now, offset: -Int(g.next() % 90) - 1, unit: .days), negated: g.next() % 2 == 0)
        case 9:
            return .exists(
                link: ["bookings"], g.next() % 3 == 0 ? .all : randomRule(depth: depth + 2, using: &g), negated: g.next() % 2 == 0)
        case 10:
            let function = AggregateFunction.allCases[Int(g.next() % 6)]
            let filter: Rule? = g.next() % 2 == 0 ? nil : randomRule(depth: depth + 2, using: &g)
            return .aggregate(
                Aggregate(link: ["home", "bookings"], function: function, column: function == .count ? nil : "amount", filter: filter),
                ComparisonOperator.allCases[Int(g.next() % 6)], literal())
        case 11: return .inAudience(g.next() % 2 == 0 ? "VIP" : "a \"quoted\" name")
        default: return .all
        }
    }
}

extension String {
    var trimmingBackticks: String { String(filter { $0 != "`" }) }
}

@Suite struct RuleCheckerTests {
    let checker = RuleChecker(catalog: Fixtures.catalog, variables: ["minimum": .integer(18)])
    var profiles: Entity { Fixtures.catalog.entity("profiles")! }

    @Test func unknownAttributeSuggestsTheClosestName() {
        #expect(throws: HeraldError.self) { try checker.check(try Rule(parsing: "contry = \"FR\""), on: profiles) }
        do {
            try checker.check(try Rule(parsing: "contry = \"FR\""), on: profiles)
        } catch {
            #expect("\(error)".contains("unknown attribute 'contry'"))
            #expect("\(error)".contains("did you mean 'country'?"))
        }
    }

    @Test(arguments: [
        ("age = \"old\"", "expected a number"),
        ("country = 3", "expected text in quotes"),
        ("signup_date > \"yesterday\"", "expected a date"),
        ("vip = \"yes\"", "expected true or false"),
        ("bookings.status = \"x\"", "one-to-many link"),
        ("home = 1", "is a link"),
        ("secret = \"x\"", "unknown attribute 'secret'"),
        ("age starts with \"1\"", "applies to text"),
        ("age > $unknown", "unknown variable $unknown"),
        ("nowhere.country = \"FR\"", "has no link 'nowhere'"),
    ])
    func problemsAreNamed(source: String, message: String) throws {
        let rule = try Rule(parsing: source)
        do {
            try checker.check(rule, on: profiles)
            Issue.record("'\(source)' should be refused")
        } catch {
            #expect("\(error)".contains(message), "\(error)")
        }
    }

    @Test func validRulesPass() throws {
        for source in [
            "age >= $minimum and home.country = \"FR\"", "signup_date >= \"2026-01-31\"", "seen_at < \"2026-01-31T10:00:00Z\"",
            "vip = true or score > 1", "email is empty",
        ] {
            try checker.check(try Rule(parsing: source), on: profiles)
        }
    }
}

@Suite struct RuleFuzzTests {
    /// Random text and mutations of valid rules: the parser answers with a rule or an error
    /// (never a trap or a hang), whatever parses prints back to the same rule, and the checker
    /// answers too.
    @Test func fuzzedRulesNeverCrash() {
        var random = SplitMix64(seed: 1729)
        let alphabet = Array("abc.()\"' ,=<>!$-+0123456789dwhmtrueandornotinemptyanycount()`\\\n\u{e9}")
        let valid = [
            #"country in ("FR", "DE") and bookings.count(status = "confirmed" and amount > 10) >= 2"#,
            #"not (email is empty) and email not icontains "@example.org" or age between 18 and 30"#,
            #"signup_date >= today() - 2w and in_audience("VIP") and $minimum < 3 and home.country = 'ES'"#,
        ]
        let checker = RuleChecker(catalog: Fixtures.catalog, variables: ["minimum": .integer(3)], audiences: ["VIP": "profiles"])
        let profiles = Fixtures.catalog.entity("profiles")!
        var parsed = 0
        for round in 0..<6_000 {
            var text: [Character]
            if round % 2 == 0 {
                text = (0..<Int(random.next(below: 50))).map { _ in alphabet[Int(random.next(below: UInt64(alphabet.count)))] }
            } else {
                text = Array(valid[round % valid.count])
                random.mutate(&text, alphabet: alphabet, edits: 1 + Int(random.next(below: 3)))
            }
            guard let rule = try? Rule(parsing: String(text)) else { continue }
            parsed += 1
            #expect((try? Rule(parsing: rule.text)) == rule, "\(String(text)) printed as \(rule.text)")
            _ = checker.problems(in: rule, on: profiles)
        }
        #expect(parsed > 100)
    }
}
