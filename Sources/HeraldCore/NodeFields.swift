/// How a node field's value is written when edited as text.
public enum NodeFieldShape: Sendable, Equatable {
    /// Plain text, taken as written (a rule, a duration, an entity's name).
    case text
    /// Text over several lines (message bodies).
    case multiline
    /// A JSON value: a number, true/false, a list or an object (`[{"label": "A", "percent": 50}]`).
    case json
}

/// Where a field's value is chosen from, when it is one of a known set.
public enum NodeFieldPick: Sendable, Equatable {
    /// An entity of the catalog.
    case entity
    /// A saved audience (snapshot ones only, when written to).
    case savedAudience(snapshotOnly: Bool)
    /// An attribute of the population arriving at the node.
    case attribute
    /// A link of the population arriving at the node.
    case link
    /// Another campaign of the store.
    case campaign
    /// One of these words, each with what it means.
    case word([WordChoice])
    /// true or false.
    case flag
}

/// A word a field may hold, and what it means (for the picker's second column).
public struct WordChoice: Sendable, Equatable {
    public var word: String
    public var meaning: String

    public init(_ word: String, _ meaning: String) {
        self.word = word
        self.meaning = meaning
    }
}

/// What a typed field's value is, so a form can step it and say what it means.
public enum NodeFieldValue: Sendable, Equatable {
    /// A whole number from `min` (to `max`, when given).
    case wholeNumber(min: Int, max: Int?)
    /// A share of the rows, 0 to 100.
    case percentage
    /// `30m`, `12h`, `3d`, `2w`.
    case duration
    /// `2027-03-28T09:00`, in the campaign's time zone.
    case dateTime
    /// `09:30`, in the campaign's time zone.
    case timeOfDay

    /// The value `steps` steps on from `text` (a number by 1, a percentage by 5, a duration
    /// by one of its unit, a time by 15 minutes, a date-time by a day); a value that does not
    /// read yet starts from a typical one. Nil when the text cannot be stepped.
    public func step(_ text: String, by steps: Int) -> String? {
        let text = text.trimmed
        /// `value` moved to the `steps`-th multiple of `unit` beyond it.
        func snapped(_ value: Int, _ unit: Int) -> Int {
            let below = Int((Double(value) / Double(unit)).rounded(.down)) * unit
            return steps > 0 ? below + steps * unit : (below == value ? value : below + unit) + steps * unit
        }
        switch self {
        case .wholeNumber(let low, let high):
            guard let n = text.isEmpty ? low - steps : Int(text) else { return nil }
            return String(min(max(n + steps, low), high ?? Int.max))
        case .percentage:
            if text.isEmpty { return "50" }
            guard let p = Double(text) else { return nil }
            let stepped = steps > 0 ? (p / 5).rounded(.down) * 5 + Double(steps * 5) : (p / 5).rounded(.up) * 5 + Double(steps * 5)
            let clamped = min(max(stepped, 0), 100)
            return String(Int(clamped))
        case .duration:
            if text.isEmpty { return "1d" }
            guard let unit = text.last, "mhdw".contains(unit), let n = Int(text.dropLast()) else { return nil }
            return "\(max(1, n + steps))\(unit)"
        case .timeOfDay:
            if text.isEmpty { return "09:00" }
            let parts = text.split(separator: ":").compactMap { Int($0) }
            guard parts.count == 2 else { return nil }
            let stepped = (snapped(parts[0] * 60 + parts[1], 15) % 1440 + 1440) % 1440
            return LocalTime(hour: stepped / 60, minute: stepped % 60).text
        case .dateTime:
            guard let day = CivilDate.validDays(from: String(text.prefix(10))) else { return nil }
            return CivilDate.text(day + steps) + text.dropFirst(10)
        }
    }

    /// What the value means in words (`3 days`, `Sunday 28 March 2027, 09:00`), or nil.
    public func reading(_ text: String) -> String? {
        let text = text.trimmed
        guard !text.isEmpty else { return nil }
        switch self {
        case .wholeNumber, .percentage:
            return nil
        case .duration:
            guard let unit = text.last, let n = Int(text.dropLast()), n > 0 else { return nil }
            let names: [Character: String] = ["m": "minute", "h": "hour", "d": "day", "w": "week"]
            return names[unit].map { Names.counted(n, $0) }
        case .timeOfDay:
            return "the next \(text) in the campaign's time zone"
        case .dateTime:
            guard let day = CivilDate.validDays(from: String(text.prefix(10))) else { return nil }
            let (year, month, date) = CivilDate.civil(days: day)
            let time = text.dropFirst(11)
            return "\(Weekday(days: day).name) \(date) \(CivilDate.monthName(month)) \(year)" + (time.isEmpty ? "" : ", \(time)")
        }
    }
}

/// How a JSON field is built of parts the form edits one at a time.
public indirect enum NodeFieldStructure: Sendable, Equatable {
    /// Taken whole, as text.
    case whole
    /// An ordered list of objects, each with these fields.
    case list([NodeField])
    /// An ordered list of single values, each edited as this field.
    case values(NodeField)
    /// One object with these fields.
    case object([NodeField])
}

/// One field of a node kind's configuration, as the campaign file names it.
public struct NodeField: Sendable, Equatable {
    public var name: String
    public var shape: NodeFieldShape
    /// What a value looks like, for the form's hint line.
    public var hint: String
    /// Where the value is chosen from, if from a known set.
    public var pick: NodeFieldPick?
    /// The parts of a list or object value.
    public var structure: NodeFieldStructure
    /// What a typed value is (a number, a duration…), to step it and read it.
    public var value: NodeFieldValue?

    public init(
        _ name: String, _ shape: NodeFieldShape = .text, hint: String, pick: NodeFieldPick? = nil,
        structure: NodeFieldStructure = .whole, value: NodeFieldValue? = nil
    ) {
        self.name = name
        self.shape = shape
        self.hint = hint
        self.pick = pick
        self.structure = structure
        self.value = value
    }

    /// A whole-number field.
    static func number(_ name: String, from low: Int = 0, to high: Int? = nil, hint: String) -> NodeField {
        NodeField(name, .json, hint: hint, value: .wholeNumber(min: low, max: high))
    }

    /// A true/false field.
    static func flag(_ name: String, hint: String) -> NodeField { NodeField(name, .json, hint: hint, pick: .flag) }

    /// A field naming an attribute of the arriving population.
    static func attribute(_ name: String, hint: String) -> NodeField { NodeField(name, hint: hint, pick: .attribute) }
}

/// The fields of each node kind beside `id`, `kind`, `label` and `note`: the one list that the
/// file decoder allows and the designer's node form shows.
extension NodeKind {
    public var fields: [NodeField] {
        switch self {
        case .buildAudience:
            [
                NodeField("entity", hint: "the entity the rule selects, e.g. profiles", pick: .entity),
                NodeField("rule", hint: "a rule, e.g. country = \"FR\" and age >= 18"),
                .flag("emitWhenEmpty", hint: "true to carry on when nobody matches"),
            ]
        case .readAudience:
            [
                NodeField("audience", hint: "a saved audience's name", pick: .savedAudience(snapshotOnly: false)),
                .flag("emitWhenEmpty", hint: "true to carry on when it is empty"),
            ]
        case .changeDimension: [NodeField("link", hint: "a link of the arriving entity, e.g. bookings or profile", pick: .link)]
        case .split:
            [
                .number("seed", hint: "a whole number: the same seed draws the same rows"),
                NodeField(
                    "subsets", .json, hint: "the subsets in order; each takes from the rows the ones before it left",
                    structure: .list([
                        NodeField("label", hint: "the subset's name, shown on its port"),
                        NodeField(
                            "percent", .json, hint: "a share of all the rows reaching the split, e.g. 50 (or give count)",
                            value: .percentage),
                        .number("count", hint: "a number of rows, e.g. 1000 (or give percent)"),
                        NodeField("rule", hint: "only rows that match, e.g. country = \"FR\" (empty: any row)"),
                        .attribute("highest", hint: "with a limit: keep the rows highest in this attribute"),
                        .attribute("lowest", hint: "with a limit: keep the rows lowest in this attribute"),
                    ])),
                .flag("overlap", hint: "true to let a row fall in several subsets"),
                .flag("skipEmpty", hint: "true to stop empty subsets"),
            ]
        case .combine:
            [
                NodeField(
                    "operation", hint: "union, intersection or exclusion",
                    pick: .word(CombineOperation.allCases.map { WordChoice($0.rawValue, $0.meaning) }))
            ]
        case .deduplicate:
            [
                NodeField(
                    "by", .json, hint: "the attributes that make a group, e.g. household",
                    structure: .values(.attribute("attribute", hint: "an attribute rows of one group share"))),
                .number("keep", from: 1, hint: "rows kept per group (1 if empty)"),
                NodeField(
                    "prefer", .json, hint: "which rows of a group are kept (give one of these)",
                    structure: .object([
                        .number("random", hint: "a seed: rows drawn at random, the same seed the same rows"),
                        .attribute("highest", hint: "the rows highest in this attribute"),
                        .attribute("lowest", hint: "the rows lowest in this attribute"),
                        .attribute("nonEmpty", hint: "rows where this attribute has a value first"),
                        .attribute("attribute", hint: "rows by this attribute's values, in the order given below"),
                        NodeField(
                            "order", .json, hint: "with attribute: its values, most preferred first",
                            structure: .values(NodeField("value", .json, hint: "a value: \"gold\" (text in quotes) or a number"))),
                    ])),
            ]
        case .enrichment:
            [
                NodeField(
                    "fields", .json, hint: "the fields added, in order",
                    structure: .list([
                        NodeField("name", hint: "the field's name in templates, e.g. trips"),
                        NodeField("value", hint: "an expression, e.g. bookings.count() (or give rows)"),
                        NodeField("rows", hint: "a 1-N link whose rows are collected, e.g. bookings", pick: .link),
                        NodeField("columns", .json, hint: "the rows' columns, e.g. [\"destination\", \"departs\"]"),
                        NodeField("where", hint: "only rows that match, e.g. status = \"confirmed\""),
                        .attribute("orderBy", hint: "the column rows are sorted by"),
                        .flag("descending", hint: "true to sort highest first"),
                        .number("first", from: 1, hint: "how many rows are kept, e.g. 3"),
                    ]))
            ]
        case .saveAudience:
            [
                NodeField("audience", hint: "the snapshot audience to write", pick: .savedAudience(snapshotOnly: true)),
                .flag("append", hint: "true to add to its members instead of replacing them"),
            ]
        case .test:
            [
                NodeField(
                    "branches", .json, hint: "the branches in order; everyone takes the first whose condition holds",
                    structure: .list([
                        NodeField("label", hint: "the branch's name, shown on its port"),
                        NodeField("when", hint: "a condition on the population, e.g. count >= 1000"),
                    ]))
            ]
        case .fork: [.number("branches", from: 2, to: 16, hint: "how many parallel branches (2 to 16)")]
        case .andJoin: [.number("inputs", from: 2, to: 16, hint: "how many branches to wait for (2 to 16)")]
        case .wait:
            [
                NodeField("duration", hint: "30m, 12h, 3d or 2w (or give until or at)", value: .duration),
                NodeField("until", hint: "a date-time such as 2027-03-28T09:00", value: .dateTime),
                NodeField("at", hint: "a time of day such as 09:30", value: .timeOfDay),
            ]
        case .email, .sms, .push, .directMail:
            [
                NodeField(
                    "category", hint: "marketing (the default) or transactional",
                    pick: .word(MessageCategory.allCases.map { WordChoice($0.rawValue, $0.meaning) })),
                NodeField(
                    "messagePer", hint: "profile (the default), entity, or related (one per related row: give related)",
                    pick: .word(MessageGranularity.allCases.map { WordChoice($0.rawValue, $0.meaning) })),
            ]
                + (channel?.requiredFields ?? []).map { NodeField($0, Self.contentShape($0), hint: "required; a Mustache template") }
                + (channel?.optionalFields ?? []).map { NodeField($0, Self.contentShape($0), hint: "optional; a Mustache template") }
                + [
                    NodeField(
                        "frequencyCap", .json, hint: "at most max messages of this channel per days days",
                        structure: .object([
                            .number("max", from: 1, hint: "messages at most, e.g. 3"),
                            .number("days", from: 1, hint: "over this many days, e.g. 7"),
                        ])),
                    NodeField("defaults", .json, hint: "{\"profile.first_name\": \"traveller\"}: what an empty field shows"),
                    NodeField(
                        "related", .json, hint: "with messagePer related: the link and which of its rows, one message each",
                        structure: .object([
                            NodeField("link", hint: "a 1-N link of the profile, e.g. bookings", pick: .link),
                            NodeField("where", hint: "which rows, e.g. status = \"confirmed\" and departs >= today()"),
                        ])),
                    NodeField("sendWindow", hint: "marketing only: hours and days in the recipient's zone, e.g. 09:00-20:00 mon-fri"),
                    NodeField("throttle", hint: "messages per second or minute handed to the provider, e.g. 200/s or 50/min"),
                ]
        case .end: [NodeField("start", hint: "a campaign to start when the branch ends (optional)", pick: .campaign)]
        }
    }

    /// The channel a message kind delivers on.
    public var channel: Channel? {
        switch self {
        case .email: .email
        case .sms: .sms
        case .push: .push
        case .directMail: .directMail
        default: nil
        }
    }

    static func contentShape(_ name: String) -> NodeFieldShape {
        ["text", "html", "body", "columns", "data"].contains(name) ? .multiline : .text
    }
}

extension CampaignFormat {
    /// Each field of `node` as the node form edits it: text as written, JSON compact; an
    /// absent optional field is empty.
    public static func fieldTexts(of node: Node) -> [String: String] {
        guard case .object(let pairs) = encode(node) else { return [:] }
        return texts(of: pairs, fields: node.kind.fields)
    }

    /// Each of `fields` in an object's pairs, as a form edits it: text as written, other
    /// values as compact JSON.
    public static func texts(of pairs: [(String, JSONValue)], fields: [NodeField]) -> [String: String] {
        var texts: [String: String] = [:]
        let shapes = Dictionary(fields.map { ($0.name, $0.shape) }, uniquingKeysWith: { a, _ in a })
        for (key, value) in pairs {
            guard let shape = shapes[key] else { continue }
            texts[key] = text(of: value, shape: shape)
        }
        return texts
    }

    /// One value as a field of `shape` edits it.
    public static func text(of value: JSONValue, shape: NodeFieldShape) -> String {
        if case .string(let s) = value, shape != .json { return s }
        return value.compact()
    }

    /// One field's text as a value: as written for text, parsed for JSON; errors name the field.
    public static func value(of text: String, field: NodeField) throws -> JSONValue {
        switch field.shape {
        case .text, .multiline: return .string(text)
        case .json:
            do {
                return try JSONValue.parse(text)
            } catch {
                throw HeraldError(.invalidInput, "\(field.name): not a JSON value (\(error.message) at column \(error.column))")
            }
        }
    }

    /// The pairs of an object from its form: empty fields are left out.
    public static func pairs(of fields: [NodeField], texts: [String: String]) throws -> [(String, JSONValue)] {
        try fields.compactMap { field in
            guard let text = texts[field.name], !text.trimmed.isEmpty else { return nil }
            return (field.name, try value(of: text, field: field))
        }
    }

    /// A node from its form: empty fields are left out; JSON fields must parse. Errors name the
    /// field, as decoding a campaign file does.
    public static func node(
        id: NodeID, kind: NodeKind, label: String, note: String, fields texts: [String: String]
    ) throws -> Node {
        var pairs: [(String, JSONValue)] = [("id", .string(id.name)), ("kind", .string(kind.rawValue)), ("label", .string(label))]
        if !note.isEmpty { pairs.append(("note", .string(note))) }
        pairs += try Self.pairs(of: kind.fields, texts: texts)
        return try decodeNode(.object(pairs), path: "node")
    }
}

extension NodeKind {
    /// Whether nodes of this kind start a branch (they take no inbound transition).
    public var startsBranch: Bool { self == .buildAudience || self == .readAudience }

    /// What the kind does, in a line, for the designer's kind menu.
    public var purpose: String {
        switch self {
        case .buildAudience: "targets the rows of an entity that match a rule"
        case .readAudience: "reads a saved audience (live or snapshot)"
        case .changeDimension: "moves the population along a link (bookings → profiles)"
        case .split: "ordered subsets by rule, count or percentage"
        case .combine: "union, intersection or exclusion of two populations"
        case .deduplicate: "keeps N rows per group (one letter per household)"
        case .enrichment: "adds attributes, aggregates and related rows for content"
        case .saveAudience: "saves the population as a snapshot audience"
        case .test: "sends everyone down the first branch whose condition holds"
        case .fork: "sends everyone down parallel branches"
        case .andJoin: "waits for its branches and continues with their union"
        case .wait: "holds the population for a duration or until a time"
        case .email: "sends an email"
        case .sms: "sends a text message"
        case .push: "sends a push notification"
        case .directMail: "exports a direct-mail file"
        case .end: "ends the branch (and may start another campaign)"
        }
    }
}

extension CombineOperation {
    /// What the operation keeps, in a line.
    public var meaning: String {
        switch self {
        case .union: "rows in either input"
        case .intersection: "rows of the first input also in the second"
        case .exclusion: "rows of the first input not in the second"
        }
    }
}

extension MessageCategory {
    /// What the category means for delivery, in a line.
    public var meaning: String {
        switch self {
        case .marketing: "consent, frequency caps and quiet hours apply"
        case .transactional: "consent, caps and quiet hours do not apply (receipts, reminders)"
        }
    }
}

extension MessageGranularity {
    /// How many messages a population gets, in a line.
    public var meaning: String {
        switch self {
        case .profile: "one message per profile, however many of its records arrive"
        case .entity: "one message per arriving row (per booking, say)"
        case .related: "one message per related row of each profile that matches a rule (give related)"
        }
    }
}
