/// Small string helpers shared by validation and error messages.
public enum Names {
    /// Levenshtein distance, used to suggest the closest known name.
    /// - Complexity: O(*m* × *n*) for strings of length *m* and *n*.
    public static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.lowercased())
        let b = Array(b.lowercased())
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }

    /// The candidate closest to `name`, if it is close enough to be a plausible typo.
    public static func closest(to name: String, in candidates: [String]) -> String? {
        let scored = candidates.map { ($0, editDistance(name, $0)) }
        guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
        let tolerance = max(2, name.count / 3)
        if best.1 <= tolerance { return best.0 }
        if let prefixed = candidates.first(where: { $0.lowercased().hasPrefix(name.lowercased()) }) {
            return prefixed
        }
        return nil
    }

    /// "unknown attribute 'contry'; did you mean 'country'?" style suffix.
    public static func suggestion(for name: String, in candidates: [String]) -> String {
        if let match = closest(to: name, in: candidates) { return "; did you mean '\(match)'?" }
        return ""
    }

    /// A lower-case identifier made of letters, digits and hyphens, for campaign slugs.
    public static func slug(_ text: String) -> String {
        var out = ""
        var lastWasDash = false
        for scalar in text.lowercased().unicodeScalars {
            if scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) {
                out.unicodeScalars.append(scalar)
                lastWasDash = false
            } else if !lastWasDash && !out.isEmpty {
                out += "-"
                lastWasDash = true
            }
        }
        while out.hasSuffix("-") { out.removeLast() }
        return out.isEmpty ? "campaign" : out
    }

    /// Compact count for canvases and bars: 999, 12.4k, 1.2M.
    public static func compactCount(_ value: Int) -> String {
        let magnitude = abs(value)
        func scaled(_ divisor: Double, _ suffix: String) -> String {
            let v = Double(value) / divisor
            let text = abs(v) >= 100 ? String(Int(v.rounded(.down))) : String(format1(v))
            return text + suffix
        }
        if magnitude < 1000 { return String(value) }
        if magnitude < 1_000_000 { return scaled(1000, "k") }
        if magnitude < 1_000_000_000 { return scaled(1_000_000, "M") }
        return scaled(1_000_000_000, "G")
    }

    /// One decimal, truncated toward zero so a compact count never overstates.
    private static func format1(_ v: Double) -> String {
        let tenths = Int((v * 10).rounded(.towardZero))
        let whole = tenths / 10
        let frac = abs(tenths % 10)
        return frac == 0 ? String(whole) : "\(whole).\(frac)"
    }

    /// Thousands separators for exact counts: 1,234,567.
    public static func groupedCount(_ value: Int) -> String {
        let digits = String(abs(value))
        var out = ""
        for (i, ch) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(ch)
        }
        return value < 0 ? "-" + out : out
    }

    /// `1 row`, `2 rows`, `1,204 profiles`: a grouped count with the noun (given in the
    /// singular) in the right number.
    public static func counted(_ value: Int, _ singular: String) -> String {
        "\(groupedCount(value)) \(value == 1 || value == -1 ? singular : plural(singular))"
    }

    /// A count of an entity's rows, named after the entity (`1 profile`, `3 bookings`); table
    /// names are usually plural, so the singular is derived from them.
    public static func counted(_ value: Int, entity: String) -> String {
        "\(groupedCount(value)) \(value == 1 || value == -1 ? singular(entity) : entity)"
    }

    /// English plural of a noun: `row` → `rows`, `category` → `categories`, `address` → `addresses`.
    public static func plural(_ noun: String) -> String {
        let lower = noun.lowercased()
        if lower.hasSuffix("y"), let before = lower.dropLast().last, !"aeiou".contains(before) { return noun.dropLast() + "ies" }
        if ["s", "x", "z", "ch", "sh"].contains(where: { lower.hasSuffix($0) }) { return noun + "es" }
        return noun + "s"
    }

    /// English singular of a plural table name: `profiles` → `profile`, `categories` → `category`,
    /// `addresses` → `address`; a name that does not look plural is kept.
    public static func singular(_ noun: String) -> String {
        let lower = noun.lowercased()
        if lower.hasSuffix("ies") && lower.count > 3 { return noun.dropLast(3) + "y" }
        if ["sses", "xes", "zes", "ches", "shes"].contains(where: { lower.hasSuffix($0) }) { return String(noun.dropLast(2)) }
        if lower.hasSuffix("s") && !lower.hasSuffix("ss") && !lower.hasSuffix("us") && lower.count > 1 { return String(noun.dropLast()) }
        return noun
    }
}

extension Names {
    /// The first character of `text` a terminal would act on instead of showing: a control
    /// character (C0 with NUL and ESC, DEL, C1) or a bidirectional override, or nil.
    public static func controlCharacter(in text: String) -> Unicode.Scalar? {
        text.unicodeScalars.first(where: isControl)
    }

    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }

    /// `text` safe to print on a terminal: control characters (but line feeds and tabs) are
    /// written as `\u{1B}` instead of reaching the terminal as escape sequences.
    public static func visible(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { isControl($0) && $0 != "\n" && $0 != "\t" }) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if isControl(scalar) && scalar != "\n" && scalar != "\t" {
                out.append(contentsOf: "\\u{\(String(scalar.value, radix: 16, uppercase: true))}".unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// `U+001B`.
    static func hex(_ scalar: Unicode.Scalar) -> String {
        let digits = String(scalar.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    /// Refuses a name a person gave (a campaign's, an audience's) that holds a control character:
    /// it would print as an escape sequence, or be cut at a NUL when stored.
    public static func requirePlain(_ name: String, field: String) throws(HeraldError) {
        if let scalar = controlCharacter(in: name) {
            throw HeraldError(
                .invalidInput,
                "\(field): '\(visible(name))' holds the control character \(hex(scalar)); names are plain text")
        }
    }
}

extension Names {
    /// `word` after "a" or "an", by its first letter: "an End node", "a Split node".
    public static func withArticle(_ word: String) -> String {
        let vowel = word.first.map { "AEIOUaeiou".contains($0) } ?? false
        return (vowel ? "an " : "a ") + word
    }
}
