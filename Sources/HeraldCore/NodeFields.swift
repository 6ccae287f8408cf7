/// How a node field's value is written when edited as text.
public enum NodeFieldShape: Sendable, Equatable {
    /// Plain text, taken as written (a rule, a duration, an entity's name).
    case text
    /// Text over several lines (message bodies).
    case multiline
    /// A JSON value: a number, true/false, a list or an object (`[{"label": "A", "percent": 50}]`).
    case json
}

/// One field of a node kind's configuration, as the campaign file names it.
public struct NodeField: Sendable, Equatable {
    public var name: String
    public var shape: NodeFieldShape
    /// What a value looks like, for the form's hint line.
    public var hint: String

    public init(_ name: String, _ shape: NodeFieldShape = .text, hint: String) {
        self.name = name
        self.shape = shape
        self.hint = hint
    }
}

/// The fields of each node kind beside `id`, `kind`, `label` and `note`: the one list that the
/// file decoder allows and the designer's node form shows.
extension NodeKind {
    public var fields: [NodeField] {
        switch self {
        case .buildAudience:
            [
                NodeField("entity", hint: "the entity the rule selects, e.g. profiles"),
                NodeField("rule", hint: "a rule, e.g. country = \"FR\" and age >= 18"),
                NodeField("emitWhenEmpty", .json, hint: "true to carry on when nobody matches"),
            ]
        case .readAudience:
            [
                NodeField("audience", hint: "a saved audience's name"),
                NodeField("emitWhenEmpty", .json, hint: "true to carry on when it is empty"),
            ]
        case .changeDimension: [NodeField("link", hint: "a link of the arriving entity, e.g. bookings or profile")]
        case .split:
            [
                NodeField("seed", .json, hint: "a whole number: the same seed draws the same rows"),
                NodeField(
                    "subsets", .json,
                    hint: "[{\"label\": \"A\", \"percent\": 50}, {\"label\": \"B\", \"percent\": 50}] (rule, count, highest, lowest too)"),
                NodeField("overlap", .json, hint: "true to let a row fall in several subsets"),
                NodeField("skipEmpty", .json, hint: "true to stop empty subsets"),
            ]
        case .combine: [NodeField("operation", hint: "union, intersection or exclusion")]
        case .deduplicate:
            [
                NodeField("by", .json, hint: "[\"household\"]: the attributes that make a group"),
                NodeField("keep", .json, hint: "rows kept per group (1 if empty)"),
                NodeField("prefer", .json, hint: "{\"random\": 7}, {\"highest\": \"age\"}, {\"lowest\": …}, {\"nonEmpty\": …}"),
            ]
        case .enrichment:
            [NodeField("fields", .json, hint: "[{\"name\": \"trips\", \"value\": \"bookings.count()\"}] or rows with columns and first")]
        case .saveAudience:
            [
                NodeField("audience", hint: "the snapshot audience to write"),
                NodeField("append", .json, hint: "true to add to its members instead of replacing them"),
            ]
        case .test: [NodeField("branches", .json, hint: "[{\"label\": \"big\", \"when\": \"count >= 1000\"}]")]
        case .fork: [NodeField("branches", .json, hint: "how many parallel branches (2 to 16)")]
        case .andJoin: [NodeField("inputs", .json, hint: "how many branches to wait for (2 to 16)")]
        case .wait:
            [
                NodeField("duration", hint: "30m, 12h, 3d or 2w (or give until or at)"),
                NodeField("until", hint: "a date-time such as 2027-03-28T09:00"),
                NodeField("at", hint: "a time of day such as 09:30"),
            ]
        case .email, .sms, .push, .directMail:
            [
                NodeField("category", hint: "marketing (the default) or transactional"),
                NodeField("messagePer", hint: "profile (the default) or entity"),
            ]
                + (channel?.requiredFields ?? []).map { NodeField($0, Self.contentShape($0), hint: "required; a Mustache template") }
                + (channel?.optionalFields ?? []).map { NodeField($0, Self.contentShape($0), hint: "optional; a Mustache template") }
                + [
                    NodeField("frequencyCap", .json, hint: "{\"max\": 3, \"days\": 7}"),
                    NodeField("defaults", .json, hint: "{\"profile.first_name\": \"traveller\"}: what an empty field shows"),
                ]
        case .end: [NodeField("start", hint: "a campaign to start when the branch ends (optional)")]
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
        var texts: [String: String] = [:]
        let shapes = Dictionary(node.kind.fields.map { ($0.name, $0.shape) }, uniquingKeysWith: { a, _ in a })
        for (key, value) in pairs where shapes[key] != nil {
            if case .string(let s) = value, shapes[key] != .json { texts[key] = s } else { texts[key] = value.compact() }
        }
        return texts
    }

    /// A node from its form: empty fields are left out; JSON fields must parse. Errors name the
    /// field, as decoding a campaign file does.
    public static func node(
        id: NodeID, kind: NodeKind, label: String, note: String, fields texts: [String: String]
    ) throws -> Node {
        var pairs: [(String, JSONValue)] = [("id", .string(id.name)), ("kind", .string(kind.rawValue)), ("label", .string(label))]
        if !note.isEmpty { pairs.append(("note", .string(note))) }
        for field in kind.fields {
            guard let text = texts[field.name], !text.trimmed.isEmpty else { continue }
            switch field.shape {
            case .text, .multiline: pairs.append((field.name, .string(text)))
            case .json:
                do {
                    pairs.append((field.name, try JSONValue.parse(text)))
                } catch {
                    throw HeraldError(.invalidInput, "\(field.name): not a JSON value (\(error.message) at column \(error.column))")
                }
            }
        }
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
