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
        case symbol(String)
        case end
    }

    struct Lexeme {
        var token: Token
        var offset: Int
    }

    static let maximumDepth = 200

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
                if i < chars.count && (chars[i].isLetter || chars[i] == "_") {
                    throw fail("a number cannot be followed by letters (durations such as 30d are not supported here)", start)
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
                } else if "=<>(),.".contains(c) {
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
        if case .identifier(let w) = last.token { return ["in", "with", "contains", "like"].contains(w.lowercased()) }
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
            return try parseCondition()
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
            case .identifier(let n):
                throw error(
                    "expected a value (text in quotes, a number, true/false or $variable), found '\(n)'; put text in quotes: \"\(n)\"")
            default:
                throw error("expected a value (text in quotes, a number, true/false or $variable), found \(describe(lexeme.token))")
            }
        }

        mutating func parseCondition() throws(RuleSyntaxError) -> Rule {
            let path = try parsePath()
            if case .symbol(let s) = current.token, let op = ComparisonOperator(rawValue: s) {
                advance()
                return .compare(path, op, try parseLiteral())
            }
            var negated = false
            if isKeyword("not") {
                negated = true
                advance()
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
                throw error("expected 'in', 'starts with', 'contains' or 'like' after 'not', found \(describe(current.token))")
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
                "expected an operator after '\(path)' (= != < <= > >= in, not in, is empty, starts with, contains, like), found \(describe(current.token))"
            )
        }
    }
}

/// Prints rules in their canonical textual form.
public enum RulePrinter {
    static let reserved: Set<String> = [
        "and", "or", "not", "in", "is", "empty", "true", "false", "starts", "with", "contains", "like",
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
        }
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
