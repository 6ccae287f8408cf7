/// Recursive-descent parser for the rule language.
///
/// Grammar (lowest precedence first):
/// ```
/// rule       := or
/// or         := and ("or" and)*
/// and        := unary ("and" unary)*
/// unary      := "not" unary | primary
/// primary    := "(" rule ")" | "true" | condition
/// condition  := path ( compareOp literal
///                    | ["not"] "in" "(" literal ("," literal)* ")"
///                    | "is" ["not"] "empty"
///                    | ["not"] ("starts" "with" | "contains" | "like") literal )
/// path       := ident ("." ident)*
/// literal    := string | number | "true" | "false" | "$" ident
/// ```
enum RuleParser {
    enum Token: Equatable {
        case identifier(String)
        case quotedIdentifier(String)
        case string(String)
        case integer(Int64)
        case real(Double)
        case variable(String)
        case duration(Int64, DurationUnit)
        case symbol(String)
        case end
    }

    struct Lexeme {
        var token: Token
        var offset: Int
    }

    static let maximumDepth = 50

    static func parse(_ source: String) throws(RuleSyntaxError) -> Rule {
        var parser = Parser(source: source, lexemes: try lex(source))
        if source.allSatisfy(\.isWhitespace) {
            throw RuleSyntaxError(message: "the rule is empty; write a condition, or 'true' for every row", offset: 0, source: source)
        }
        let rule = try parser.parseOr(depth: 0)
        if parser.current.token != .end {
            throw parser.error("expected 'and', 'or' or the end of the rule, found \(parser.describe(parser.current.token))")
        }
        return rule
    }

    /// Parses a value expression: an attribute path (`home_destination.city`) or an aggregate
    /// over a one-to-many link (`bookings.count(status = "confirmed")`).
    static func parseValue(_ source: String) throws(RuleSyntaxError) -> ValueExpression {
        var parser = Parser(source: source, lexemes: try lex(source))
        if source.allSatisfy(\.isWhitespace) {
            throw RuleSyntaxError(
                message: "the value is empty; write an attribute such as city, or an aggregate such as bookings.count()", offset: 0,
                source: source)
        }
        let path = try parser.parsePath()
        var value = ValueExpression.attribute(path)
        if parser.current.token == .symbol("(") {
            guard path.segments.count >= 2 else {
                throw parser.error(
                    "'(' follows '\(path)', which is not a function; after a one-to-many link use count, sum, min, max, avg or latest")
            }
            value = .aggregate(try parser.parseAggregate(path, depth: 0))
        }
        if parser.current.token != .end {
            throw parser.error("expected the end of the value, found \(parser.describe(parser.current.token))")
        }
        return value
    }

    // MARK: Lexer

    static func lex(_ source: String) throws(RuleSyntaxError) -> [Lexeme] {
        let chars = Array(source)
        var out: [Lexeme] = []
        var i = 0
        func fail(_ message: String, _ at: Int) -> RuleSyntaxError {
            RuleSyntaxError(message: message, offset: at, source: source)
        }
        while i < chars.count {
            let c = chars[i]
            if c.isWhitespace {
                i += 1
                continue
            }
            let start = i
            if c == "\"" || c == "'" {
                let quote = c
                var text = ""
                i += 1
                var closed = false
                while i < chars.count {
                    let d = chars[i]
                    if d == "\\" {
                        guard i + 1 < chars.count else { break }
                        let e = chars[i + 1]
                        switch e {
                        case "n": text.append("\n")
                        case "t": text.append("\t")
                        case "\\", "\"", "'": text.append(e)
                        default: throw fail("unknown escape '\\\(e)' in text (use \\\" \\' \\\\ \\n \\t)", i)
                        }
                        i += 2
                        continue
                    }
                    if d == quote {
                        closed = true
                        i += 1
                        break
                    }
                    text.append(d)
                    i += 1
                }
                if !closed { throw fail("unterminated text: add the closing \(quote)", start) }
                out.append(Lexeme(token: .string(text), offset: start))
            } else if c == "`" {
                var name = ""
                i += 1
                while i < chars.count && chars[i] != "`" {
                    name.append(chars[i])
                    i += 1
                }
                if i >= chars.count { throw fail("unterminated `name`: add the closing backquote", start) }
                i += 1
                if name.isEmpty { throw fail("empty `` name", start) }
                out.append(Lexeme(token: .quotedIdentifier(name), offset: start))
            } else if c.isNumber || (c == "-" && i + 1 < chars.count && chars[i + 1].isNumber && numberMayStart(out)) {
                var text = String(c)
                i += 1
                var isReal = false
                while i < chars.count {
                    let d = chars[i]
                    if d.isASCII && d.isNumber {
                        text.append(d)
                    } else if d == "." && !isReal && i + 1 < chars.count && chars[i + 1].isNumber {
                        isReal = true
                        text.append(d)
                    } else if (d == "e" || d == "E") && i + 1 < chars.count
                        && (chars[i + 1].isNumber
                            || ((chars[i + 1] == "-" || chars[i + 1] == "+") && i + 2 < chars.count && chars[i + 2].isNumber))
                    {
                        isReal = true
                        text.append(d)
                        text.append(chars[i + 1])
                        i += 1
                    } else {
                        break
                    }
                    i += 1
                }
                if !isReal, i < chars.count, let unit = DurationUnit(rawValue: String(chars[i])),
                    i + 1 >= chars.count || !(chars[i + 1].isLetter || chars[i + 1].isNumber || chars[i + 1] == "_")
                {
                    guard let v = Int64(text), v >= 0 else { throw fail("'\(text)' is not a valid duration", start) }
                    i += 1
                    out.append(Lexeme(token: .duration(v, unit), offset: start))
                    continue
                }
                if i < chars.count && (chars[i].isLetter || chars[i] == "_") {
                    throw fail("a number cannot be followed by letters (durations are written 30m, 12h, 3d or 2w)", start)
                }
                if isReal {
                    guard let v = Double(text), v.isFinite else { throw fail("'\(text)' is not a valid number", start) }
                    out.append(Lexeme(token: .real(v), offset: start))
                } else {
                    guard let v = Int64(text) else { throw fail("'\(text)' is too large for a 64-bit integer", start) }
                    out.append(Lexeme(token: .integer(v), offset: start))
                }
            } else if c.isLetter || c == "_" {
                var name = ""
                while i < chars.count && (chars[i].isLetter || chars[i].isNumber || chars[i] == "_") {
                    name.append(chars[i])
                    i += 1
                }
                out.append(Lexeme(token: .identifier(name), offset: start))
            } else if c == "$" {
                var name = ""
                i += 1
                while i < chars.count && (chars[i].isLetter || chars[i].isNumber || chars[i] == "_") {
                    name.append(chars[i])
                    i += 1
                }
                if name.isEmpty { throw fail("'$' must be followed by a variable name", start) }
                out.append(Lexeme(token: .variable(name), offset: start))
            } else {
                let two = i + 1 < chars.count ? String([c, chars[i + 1]]) : ""
                if ["!=", "<=", ">=", "<>"].contains(two) {
                    out.append(Lexeme(token: .symbol(two == "<>" ? "!=" : two), offset: start))
                    i += 2
                } else if "=<>(),.+-".contains(c) {
                    out.append(Lexeme(token: .symbol(String(c)), offset: start))
                    i += 1
                } else if c == "\u{0}" {
                    throw fail("the rule contains a NUL character", start)
                } else {
                    throw fail("unexpected character '\(c)'", start)
                }
            }
        }
        out.append(Lexeme(token: .end, offset: chars.count))
        return out
    }

    /// A minus sign starts a negative number only where a value is expected.
    private static func numberMayStart(_ previous: [Lexeme]) -> Bool {
        guard let last = previous.last else { return true }
        if case .symbol(let s) = last.token { return s != ")" && s != "." }
        if case .identifier(let w) = last.token { return RulePrinter.reserved.contains(w.lowercased()) }
        return false
    }

    // MARK: Parser

    struct Parser {
        let source: String
        let lexemes: [Lexeme]
        var index = 0

        init(source: String, lexemes: [Lexeme]) {
            self.source = source
            self.lexemes = lexemes
        }

        var current: Lexeme { lexemes[index] }

        func error(_ message: String, at lexeme: Lexeme? = nil) -> RuleSyntaxError {
            RuleSyntaxError(message: message, offset: (lexeme ?? current).offset, source: source)
        }

        func describe(_ token: Token) -> String {
            switch token {
            case .identifier(let n): "'\(n)'"
            case .quotedIdentifier(let n): "`\(n)`"
            case .string(let s): "text \"\(s.prefix(30))\""
            case .integer(let v): "number \(v)"
            case .real(let v): "number \(v)"
            case .variable(let n): "variable $\(n)"
            case .duration(let v, let u): "duration \(v)\(u.rawValue)"
            case .symbol(let s): "'\(s)'"
            case .end: "the end of the rule"
            }
        }

        func isKeyword(_ word: String, _ lexeme: Lexeme? = nil) -> Bool {
            if case .identifier(let n) = (lexeme ?? current).token { return n.lowercased() == word }
            return false
        }

        func peek(_ ahead: Int) -> Lexeme { lexemes[min(index + ahead, lexemes.count - 1)] }

        mutating func advance() { if index < lexemes.count - 1 { index += 1 } }

        mutating func expectKeyword(_ word: String, after: String) throws(RuleSyntaxError) {
            guard isKeyword(word) else {
                throw error("expected '\(word)' after '\(after)', found \(describe(current.token))")
            }
            advance()
        }

        mutating func parseOr(depth: Int) throws(RuleSyntaxError) -> Rule {
            var parts = [try parseAnd(depth: depth)]
            while isKeyword("or") {
                advance()
                parts.append(try parseAnd(depth: depth))
            }
            return parts.count == 1 ? parts[0] : .or(parts)
        }

        mutating func parseAnd(depth: Int) throws(RuleSyntaxError) -> Rule {
            var parts = [try parseUnary(depth: depth)]
            while isKeyword("and") {
                advance()
                parts.append(try parseUnary(depth: depth))
            }
            return parts.count == 1 ? parts[0] : .and(parts)
        }

        mutating func parseUnary(depth: Int) throws(RuleSyntaxError) -> Rule {
            if depth > RuleParser.maximumDepth {
                throw error("the rule nests deeper than \(RuleParser.maximumDepth) levels")
            }
            if isKeyword("not") {
                advance()
                return .not(try parseUnary(depth: depth + 1))
            }
            return try parsePrimary(depth: depth)
        }

        mutating func parsePrimary(depth: Int) throws(RuleSyntaxError) -> Rule {
            if current.token == .symbol("(") {
                let open = current
                advance()
                let inner = try parseOr(depth: depth + 1)
                guard current.token == .symbol(")") else {
                    throw error("expected ')' to close the '(' at column \(open.offset + 1), found \(describe(current.token))")
                }
                advance()
                return inner
            }
            if isKeyword("true") && !isPathContinuation(peek(1)) {
                advance()
                return .all
            }
            if isKeyword("in_audience") && peek(1).token == .symbol("(") {
                advance()
                advance()
                guard case .string(let name) = current.token else {
                    throw error("expected the audience name in quotes, found \(describe(current.token))")
                }
                advance()
                guard current.token == .symbol(")") else {
                    throw error("expected ')' after the audience name, found \(describe(current.token))")
                }
                advance()
                return .inAudience(name)
            }
            return try parseCondition(depth: depth)
        }

        func isPathContinuation(_ lexeme: Lexeme) -> Bool {
            lexeme.token == .symbol(".") || lexeme.token == .symbol("=") || lexeme.token == .symbol("!=")
        }

        mutating func parsePath() throws(RuleSyntaxError) -> AttributePath {
            var segments: [String] = []
            repeat {
                if !segments.isEmpty { advance() }  // the dot
                switch current.token {
                case .identifier(let n):
                    if segments.isEmpty && RulePrinter.reserved.contains(n.lowercased()) {
                        throw error("expected an attribute name, found the keyword '\(n)' (write `\(n)` to use it as a name)")
                    }
                    segments.append(n)
                case .quotedIdentifier(let n):
                    segments.append(n)
                default:
                    throw error("expected an attribute name, found \(describe(current.token))")
                }
                advance()
            } while current.token == .symbol(".")
            return AttributePath(segments)
        }

        mutating func parseLiteral() throws(RuleSyntaxError) -> Literal {
            let lexeme = current
            switch lexeme.token {
            case .string(let s): advance(); return .text(s)
            case .integer(let v): advance(); return .integer(v)
            case .real(let v): advance(); return .real(v)
            case .variable(let n): advance(); return .variable(n)
            case .identifier(let n) where n.lowercased() == "true": advance(); return .boolean(true)
            case .identifier(let n) where n.lowercased() == "false": advance(); return .boolean(false)
            case .identifier(let n) where TimeBase(rawValue: n.lowercased()) != nil && peek(1).token == .symbol("("):
                let base = TimeBase(rawValue: n.lowercased())!
                advance()
                advance()
                guard current.token == .symbol(")") else { throw error("expected ')' after '\(n)(', found \(describe(current.token))") }
                advance()
                guard current.token == .symbol("+") || current.token == .symbol("-") else { return .relative(base, offset: 0, unit: .days) }
                let sign: Int64 = current.token == .symbol("-") ? -1 : 1
                advance()
                guard case .duration(let amount, let unit) = current.token else {
                    throw error(
                        "expected a duration such as 30d, 12h, 2w or 90m after '\(sign < 0 ? "-" : "+")', found \(describe(current.token))")
                }
                if base == .today && (unit == .minutes || unit == .hours) {
                    throw error("today() moves in whole days or weeks; use now() for hours and minutes")
                }
                advance()
                guard amount <= 1_000_000 else { throw error("the duration is too long") }
                return amount == 0 ? .relative(base, offset: 0, unit: .days) : .relative(base, offset: Int(sign * amount), unit: unit)
            case .identifier(let n):
                throw error(
                    "expected a value (text in quotes, a number, true/false or $variable), found '\(n)'; put text in quotes: \"\(n)\"")
            default:
                throw error("expected a value (text in quotes, a number, true/false or $variable), found \(describe(lexeme.token))")
            }
        }

        mutating func parseComparison(after subject: String) throws(RuleSyntaxError) -> (ComparisonOperator, Literal) {
            guard case .symbol(let s) = current.token, let op = ComparisonOperator(rawValue: s) else {
                throw error("expected a comparison (= != < <= > >=) after '\(subject)', found \(describe(current.token))")
            }
            advance()
            return (op, try parseLiteral())
        }

        /// `link.any(rule)`, `link.count(rule) >= 2`, `link.sum(column where rule) > 5` …
        mutating func parseCall(_ path: AttributePath, depth: Int) throws(RuleSyntaxError) -> Rule {
            let name = path.attribute.lowercased()
            let link = Array(path.links)
            if name == "any" || name == "none" {
                let open = current
                advance()  // (
                var rule = Rule.all
                if current.token != .symbol(")") { rule = try parseOr(depth: depth + 1) }
                try closeParen(opening: open)
                return .exists(link: link, rule, negated: name == "none")
            }
            let aggregate = try parseAggregate(path, depth: depth)
            let (op, value) = try parseComparison(after: "\(link.joined(separator: ".")).\(name)(…)")
            return .aggregate(aggregate, op, value)
        }

        mutating func closeParen(opening open: Lexeme) throws(RuleSyntaxError) {
            guard current.token == .symbol(")") else {
                throw error("expected ')' to close the '(' at column \(open.offset + 1), found \(describe(current.token))")
            }
            advance()
        }

        /// `link.count(rule)`, `link.sum(column where rule)` …: the value, without a comparison.
        mutating func parseAggregate(_ path: AttributePath, depth: Int) throws(RuleSyntaxError) -> Aggregate {
            let name = path.attribute.lowercased()
            let link = Array(path.links)
            let open = current
            advance()  // (
            guard let function = AggregateFunction(rawValue: name) else {
                throw error("'\(path.attribute)' is not an aggregate; use count, sum, min, max, avg or latest", at: open)
            }
            if function == .count {
                var filter: Rule?
                if current.token != .symbol(")") { filter = try parseOr(depth: depth + 1) }
                try closeParen(opening: open)
                return Aggregate(link: link, function: .count, filter: filter)
            }
            let column: String
            switch current.token {
            case .identifier(let c) where !RulePrinter.reserved.contains(c.lowercased()): column = c
            case .quotedIdentifier(let c): column = c
            default:
                throw error(
                    "expected the column to \(name) in '\(link.joined(separator: ".")).\(name)(…)', found \(describe(current.token))")
            }
            advance()
            var filter: Rule?
            if isKeyword("where") {
                advance()
                filter = try parseOr(depth: depth + 1)
            }
            try closeParen(opening: open)
            return Aggregate(link: link, function: function, column: column, filter: filter)
        }

        mutating func parseCondition(depth: Int) throws(RuleSyntaxError) -> Rule {
            let path = try parsePath()
            if current.token == .symbol("(") {
                let name = path.attribute.lowercased()
                guard path.segments.count >= 2, ["any", "none"].contains(name) || AggregateFunction(rawValue: name) != nil else {
                    throw error(
                        "'(' follows '\(path)', which is not a function; after a one-to-many link use any, none, count, sum, min, max, avg or latest"
                    )
                }
                return try parseCall(path, depth: depth)
            }
            if case .symbol(let s) = current.token, let op = ComparisonOperator(rawValue: s) {
                advance()
                return .compare(path, op, try parseLiteral())
            }
            var negated = false
            if isKeyword("not") {
                negated = true
                advance()
            }
            if isKeyword("between") {
                advance()
                let low = try parseLiteral()
                try expectKeyword("and", after: "between …")
                let high = try parseLiteral()
                return .between(path, low, high, negated: negated)
            }
            if isKeyword("istarts") {
                advance()
                try expectKeyword("with", after: "istarts")
                return .text(path, .startsWithIgnoringCase, try parseLiteral(), negated: negated)
            }
            if isKeyword("icontains") {
                advance()
                return .text(path, .containsIgnoringCase, try parseLiteral(), negated: negated)
            }
            if isKeyword("ilike") {
                advance()
                return .text(path, .likeIgnoringCase, try parseLiteral(), negated: negated)
            }
            if isKeyword("in") {
                advance()
                guard current.token == .symbol("(") else {
                    throw error("expected '(' to start the list after 'in', found \(describe(current.token))")
                }
                advance()
                var values: [Literal] = []
                repeat {
                    if !values.isEmpty { advance() }  // the comma
                    values.append(try parseLiteral())
                } while current.token == .symbol(",")
                guard current.token == .symbol(")") else {
                    throw error("expected ',' or ')' in the 'in' list, found \(describe(current.token))")
                }
                advance()
                return .inList(path, values, negated: negated)
            }
            if isKeyword("starts") {
                advance()
                try expectKeyword("with", after: "starts")
                return .text(path, .startsWith, try parseLiteral(), negated: negated)
            }
            if isKeyword("contains") {
                advance()
                return .text(path, .contains, try parseLiteral(), negated: negated)
            }
            if isKeyword("like") {
                advance()
                return .text(path, .like, try parseLiteral(), negated: negated)
            }
            if negated {
                throw error(
                    "expected 'in', 'between', 'starts with', 'contains', 'like' or their i-forms after 'not', found \(describe(current.token))"
                )
            }
            if isKeyword("is") {
                advance()
                var isNot = false
                if isKeyword("not") {
                    isNot = true
                    advance()
                }
                try expectKeyword("empty", after: isNot ? "is not" : "is")
                return .isEmpty(path, negated: isNot)
            }
            throw error(
                "expected an operator after '\(path)' (= != < <= > >= in, not in, between, is empty, starts with, contains, like), found \(describe(current.token))"
            )
        }
    }
}

/// Prints rules in their canonical textual form.
public enum RulePrinter {
    static let reserved: Set<String> = [
        "and", "or", "not", "in", "is", "empty", "true", "false", "starts", "with", "contains", "like", "between", "istarts",
        "icontains", "ilike", "where",
    ]

    public static func print(_ rule: Rule) -> String {
        render(rule, parent: .top)
    }

    enum Context { case top, and, or, not }

    static func render(_ rule: Rule, parent: Context) -> String {
        switch rule {
        case .all:
            return "true"
        case .and(let rules):
            let text = rules.map { render($0, parent: .and) }.joined(separator: " and ")
            return parent == .top ? text : "(\(text))"
        case .or(let rules):
            let text = rules.map { render($0, parent: .or) }.joined(separator: " or ")
            return parent == .top ? text : "(\(text))"
        case .not(let inner):
            return "not " + render(inner, parent: .not)
        case .compare(let p, let op, let v):
            return "\(p) \(op.rawValue) \(literal(v))"
        case .inList(let p, let values, let negated):
            return "\(p) \(negated ? "not in" : "in") (\(values.map(literal).joined(separator: ", ")))"
        case .isEmpty(let p, let negated):
            return "\(p) is \(negated ? "not empty" : "empty")"
        case .text(let p, let match, let v, let negated):
            return "\(p) \(negated ? "not " : "")\(match.rawValue) \(literal(v))"
        case .between(let p, let low, let high, let negated):
            return "\(p) \(negated ? "not " : "")between \(literal(low)) and \(literal(high))"
        case .exists(let link, let inner, let negated):
            let args = inner == .all ? "" : render(inner, parent: .top)
            return "\(link.map(identifier).joined(separator: ".")).\(negated ? "none" : "any")(\(args))"
        case .aggregate(let a, let op, let v):
            return "\(aggregate(a)) \(op.rawValue) \(literal(v))"
        case .inAudience(let name):
            return "in_audience(\(literal(.text(name))))"
        }
    }

    /// `bookings.sum(amount where status = "completed")`.
    static func aggregate(_ a: Aggregate) -> String {
        var args = a.column.map(identifier) ?? ""
        if let filter = a.filter { args += (args.isEmpty ? "" : " where ") + render(filter, parent: .top) }
        return "\(a.link.map(identifier).joined(separator: ".")).\(a.function.rawValue)(\(args))"
    }

    static func identifier(_ name: String) -> String {
        let plain =
            !name.isEmpty && (name.first!.isLetter || name.first == "_")
            && name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" } && !reserved.contains(name.lowercased())
        return plain ? name : "`\(name)`"
    }

    public static func literal(_ value: Literal) -> String {
        switch value {
        case .integer(let v): return String(v)
        case .real(let v):
            let text = String(v)
            return text.contains(".") || text.contains("e") ? text : text + ".0"
        case .boolean(let b): return b ? "true" : "false"
        case .variable(let n): return "$" + n
        case .relative(let base, let offset, let unit):
            let call = base.rawValue + "()"
            if offset == 0 { return call }
            return call + (offset < 0 ? " - " : " + ") + String(abs(offset)) + unit.rawValue
        case .text(let s):
            var out = "\""
            for ch in s {
                switch ch {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\t": out += "\\t"
                default: out.append(ch)
                }
            }
            return out + "\""
        }
    }
}
