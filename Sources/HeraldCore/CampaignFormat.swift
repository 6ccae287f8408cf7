/// The campaign text format (`herald.campaign/2`): JSON with a fixed key order, rules written
/// in the rule language, defaults omitted; each edge names the output port it leaves and the
/// input port it reaches. `herald.campaign/1` files (edges with an output port only, every node
/// one input) are still read. Documented in docs/campaign-format.md.
public enum CampaignFormat {
    public static let formatTag = "herald.campaign/2"
    /// The first format, read as version 2 (its edges all reach an `in` port).
    public static let formatTagV1 = "herald.campaign/1"

    // MARK: Encoding

    /// The canonical document; `decode(encode(c)) == c` and encoding is deterministic.
    /// With `schedule`, the campaign's schedule too: the file is the whole campaign as code.
    public static func encode(_ campaign: Campaign, schedule: CampaignSchedule? = nil) -> JSONValue {
        var top: [(String, JSONValue)] = [
            ("format", .string(formatTag)),
            ("name", .string(campaign.name)),
        ]
        if !campaign.description.isEmpty { top.append(("description", .string(campaign.description))) }
        top.append(("timeZone", .string(campaign.timeZone)))
        if !campaign.variables.isEmpty {
            top.append(("variables", variablesJSON(campaign.variables)))
        }
        if let schedule {
            var pairs: [(String, JSONValue)] = [("expression", .string(schedule.schedule.text))]
            if schedule.timeZone != campaign.timeZone { pairs.append(("timeZone", .string(schedule.timeZone))) }
            if let from = schedule.validFrom.flatMap(TemporalText.canonical(utcSeconds:)) { pairs.append(("from", .string(from))) }
            if let until = schedule.validUntil.flatMap(TemporalText.canonical(utcSeconds:)) { pairs.append(("until", .string(until))) }
            top.append(("schedule", .object(pairs)))
        }
        top.append(("nodes", .array(campaign.nodes.map(encode))))
        top.append(
            (
                "edges",
                .array(
                    campaign.edges.map {
                        .object([
                            ("from", .string($0.from.name)), ("fromPort", .string($0.port.name)), ("to", .string($0.to.name)),
                            ("toPort", .string($0.toPort.name)),
                        ])
                    })
            ))
        return .object(top)
    }

    public static func encodeText(_ campaign: Campaign, schedule: CampaignSchedule? = nil) -> String {
        encode(campaign, schedule: schedule).pretty()
    }

    static func literalJSON(_ l: Literal) -> JSONValue {
        switch l {
        case .integer(let v): .integer(v)
        case .real(let v): .number(v)
        case .text(let s): .string(s)
        case .boolean(let b): .bool(b)
        case .variable(let n): .string("$" + n)
        case .relative: .string(RulePrinter.literal(l))
        }
    }

    public static func encode(_ node: Node) -> JSONValue {
        var pairs: [(String, JSONValue)] = [
            ("id", .string(node.id.name)), ("kind", .string(node.kind.rawValue)), ("label", .string(node.label)),
        ]
        if let note = node.note { pairs.append(("note", .string(note))) }
        switch node.config {
        case .buildAudience(let entity, let rule, let emitWhenEmpty):
            pairs.append(("entity", .string(entity)))
            pairs.append(("rule", .string(rule.text)))
            if emitWhenEmpty { pairs.append(("emitWhenEmpty", .bool(true))) }
        case .changeDimension(let link):
            pairs.append(("link", .string(link)))
        case .combine(let operation):
            pairs.append(("operation", .string(operation.rawValue)))
        case .saveAudience(let audience, let append):
            pairs.append(("audience", .string(audience)))
            if append { pairs.append(("append", .bool(true))) }
        case .deduplicate(let by, let keep, let prefer):
            pairs.append(("by", .array(by.map(JSONValue.string))))
            if keep != 1 { pairs.append(("keep", .integer(Int64(keep)))) }
            let preference: JSONValue =
                switch prefer {
                case .random(let seed): .object([("random", .integer(seed))])
                case .highest(let a): .object([("highest", .string(a))])
                case .lowest(let a): .object([("lowest", .string(a))])
                case .nonEmpty(let a): .object([("nonEmpty", .string(a))])
                case .preferred(let a, let order):
                    .object([("attribute", .string(a)), ("order", .array(order.map(literalJSON)))])
                }
            pairs.append(("prefer", preference))
        case .enrich(let fields):
            pairs.append(
                (
                    "fields",
                    .array(
                        fields.map { field in
                            var p: [(String, JSONValue)] = [("name", .string(field.name))]
                            switch field.value {
                            case .value(let v): p.append(("value", .string(v.text)))
                            case .rows(let rows):
                                p.append(("rows", .string(rows.link.map(RulePrinter.identifier).joined(separator: "."))))
                                p.append(("columns", .array(rows.columns.map { .string($0.description) })))
                                if let filter = rows.filter { p.append(("where", .string(filter.text))) }
                                if let order = rows.orderBy { p.append(("orderBy", .string(order))) }
                                if rows.descending { p.append(("descending", .bool(true))) }
                                p.append(("first", .integer(Int64(rows.first))))
                            }
                            return .object(p)
                        })
                ))
        case .test(let branches):
            pairs.append(
                ("branches", .array(branches.map { .object([("label", .string($0.label)), ("when", .string($0.condition.text))]) })))
        case .fork(let n):
            pairs.append(("branches", .integer(Int64(n))))
        case .andJoin(let n):
            pairs.append(("inputs", .integer(Int64(n))))
        case .readAudience(let audience, let emitWhenEmpty):
            pairs.append(("audience", .string(audience)))
            if emitWhenEmpty { pairs.append(("emitWhenEmpty", .bool(true))) }
        case .split(let seed, let subsets, let overlap, let skipEmpty):
            if seed != 0 { pairs.append(("seed", .integer(seed))) }
            pairs.append(
                (
                    "subsets",
                    .array(
                        subsets.map { s in
                            var p: [(String, JSONValue)] = [("label", .string(s.label))]
                            if let r = s.rule { p.append(("rule", .string(r.text))) }
                            switch s.limit {
                            case .count(let n): p.append(("count", .integer(Int64(n))))
                            case .percent(let v):
                                p.append(("percent", v == v.rounded() ? .integer(Int64(v)) : .number(v)))
                            case nil: break
                            }
                            switch s.order {
                            case .random: break
                            case .highest(let a): p.append(("highest", .string(a)))
                            case .lowest(let a): p.append(("lowest", .string(a)))
                            }
                            return .object(p)
                        })
                ))
            if overlap { pairs.append(("overlap", .bool(true))) }
            if skipEmpty { pairs.append(("skipEmpty", .bool(true))) }
        case .wait(let duration):
            pairs.append(("duration", .string(duration)))
        case .waitUntil(.dateTime(let text)):
            pairs.append(("until", .string(text)))
        case .waitUntil(.timeOfDay(let time)):
            pairs.append(("at", .string(time.text)))
        case .message(_, let settings):
            pairs.append(("category", .string(settings.category.rawValue)))
            pairs.append(("messagePer", .string(settings.messagePer.rawValue)))
            for (k, v) in settings.content { pairs.append((k, .string(v))) }
            if let cap = settings.frequencyCap {
                pairs.append(("frequencyCap", .object([("max", .integer(Int64(cap.maxMessages))), ("days", .integer(Int64(cap.days)))])))
            }
            if !settings.defaults.isEmpty { pairs.append(("defaults", .object(settings.defaults.map { ($0.0, .string($0.1)) }))) }
            if let window = settings.sendWindow { pairs.append(("sendWindow", .string(window.text))) }
            if let rate = settings.throttle { pairs.append(("throttle", .string(rate.text))) }
            if let related = settings.related {
                var object: [(String, JSONValue)] = [("link", .string(related.link))]
                if related.rule != .all { object.append(("where", .string(related.rule.text))) }
                pairs.append(("related", .object(object)))
            }
        case .end:
            break
        case .endAndStart(let other):
            pairs.append(("start", .string(other)))
        }
        return .object(pairs)
    }

    // MARK: Decoding

    /// Parses campaign text; errors name the field path (`nodes[2].subsets[0].percent`).
    public static func decode(text: String) throws -> Campaign {
        try decode(try parse(text: text))
    }

    /// Reads campaign text, collecting node and edge problems (see ``decodeAll(_:)``).
    public static func decodeAll(text: String) throws -> Decoded {
        try decodeAll(try parse(text: text))
    }

    static func parse(text: String) throws -> JSONValue {
        do {
            return try JSONValue.parse(text)
        } catch {
            throw HeraldError(.invalidInput, "campaign file: \(error)", cause: error)
        }
    }

    /// A campaign read from a file, with the nodes and edges that could not be read left out
    /// and reported, so validation can go on to report everything else.
    public struct Decoded: Sendable {
        public var campaign: Campaign
        public var problems: [ValidationProblem]
        /// Ids of the nodes left out; edges to and from them are not checked further.
        public var undecodedNodes: Set<NodeID>
        /// The schedule the file gives, if any (an import applies it).
        public var schedule: CampaignSchedule?

        public init(
            campaign: Campaign, problems: [ValidationProblem] = [], undecodedNodes: Set<NodeID> = [], schedule: CampaignSchedule? = nil
        ) {
            self.schedule = schedule
            self.campaign = campaign
            self.problems = problems
            self.undecodedNodes = undecodedNodes
        }
    }

    /// Reads a campaign, throwing on the first problem (for stored campaigns, which were valid).
    public static func decode(_ json: JSONValue) throws -> Campaign {
        let decoded = try decodeAll(json)
        if let first = decoded.problems.first {
            throw HeraldError(.invalidInput, first.description)
        }
        return decoded.campaign
    }

    /// Reads a campaign, collecting a problem for each node or edge that cannot be read instead
    /// of stopping at the first; only a document that is not a campaign at all throws.
    public static func decodeAll(_ json: JSONValue) throws -> Decoded {
        let top = try Fields(json, path: "campaign")
        try top.allowOnly(["format", "name", "description", "timeZone", "variables", "schedule", "nodes", "edges"])
        let format = try top.string("format")
        guard format == formatTag || format == formatTagV1 else {
            throw HeraldError(
                .invalidInput,
                "format: this Herald reads '\(formatTag)' and '\(formatTagV1)', the file says '\(format)'"
                    + (format.hasPrefix("herald.campaign/") ? " (written by a newer Herald?)" : "")
            )
        }
        var campaign = Campaign(name: try top.string("name"))
        guard !campaign.name.trimmed.isEmpty else { throw HeraldError(.invalidInput, "name: must not be empty") }
        try Names.requirePlain(campaign.name, field: "name")
        campaign.description = try top.optionalString("description") ?? ""
        campaign.timeZone = try top.optionalString("timeZone") ?? "UTC"
        if let vars = top["variables"] { campaign.variables = try variables(vars) }
        var problems: [ValidationProblem] = []
        var undecoded = Set<NodeID>()
        for (i, n) in try top.array("nodes").enumerated() {
            do {
                campaign.nodes.append(try decodeNode(n, path: "nodes[\(i)]"))
            } catch {
                let id: NodeID? = if case .string(let s) = n["id"] { NodeID(s) } else { nil }
                if let id { undecoded.insert(id) }
                problems.append(ValidationProblem(node: nil, field: nil, message: "\(error)"))
            }
        }
        for (i, e) in (try top.optionalArray("edges") ?? []).enumerated() {
            do {
                let f = try Fields(e, path: "edges[\(i)]")
                if format == formatTagV1 {
                    try f.allowOnly(["from", "port", "to"])
                    campaign.edges.append(
                        Edge(
                            from: NodeID(try f.string("from")), port: PortName(name: try f.optionalString("port") ?? "out"),
                            to: NodeID(try f.string("to")))
                    )
                } else {
                    try f.allowOnly(["from", "fromPort", "to", "toPort"])
                    campaign.edges.append(
                        Edge(
                            from: NodeID(try f.string("from")), port: PortName(name: try f.optionalString("fromPort") ?? "out"),
                            to: NodeID(try f.string("to")), toPort: PortName(name: try f.optionalString("toPort") ?? "in")))
                }
            } catch {
                problems.append(ValidationProblem(node: nil, field: nil, message: "\(error)"))
            }
        }
        var schedule: CampaignSchedule?
        if let value = top["schedule"] {
            let g = try Fields(value, path: "schedule")
            try g.allowOnly(["expression", "timeZone", "from", "until"])
            let expression = try g.string("expression")
            let parsed: Schedule
            do { parsed = try Schedule(parsing: expression) } catch {
                throw HeraldError(.invalidInput, "schedule.expression: \(error)")
            }
            func instant(_ key: String) throws -> Int? {
                guard let text = try g.optionalString(key) else { return nil }
                guard let seconds = TemporalText.utcSeconds(canonical: text) else {
                    throw HeraldError(
                        .invalidInput, "schedule.\(key): expected a UTC instant such as 2027-01-01T09:00:00Z, found '\(text)'")
                }
                return seconds
            }
            schedule = CampaignSchedule(
                schedule: parsed, timeZone: try g.optionalString("timeZone") ?? campaign.timeZone, validFrom: try instant("from"),
                validUntil: try instant("until"))
        }
        return Decoded(campaign: campaign, problems: problems, undecodedNodes: undecoded, schedule: schedule)
    }

    /// A campaign's variables from their JSON object (`{"minimum": 18, "label": "VIP"}`).
    public static func variables(_ json: JSONValue) throws -> [(String, Literal)] {
        guard case .object(let pairs) = json else {
            throw HeraldError(.invalidInput, "variables: expected an object of name: value, found \(json.typeName)")
        }
        return try pairs.map { name, value in
            switch value {
            case .integer(let v): return (name, .integer(v))
            case .number(let v): return (name, .real(v))
            case .string(let s): return (name, .text(s))
            case .bool(let b): return (name, .boolean(b))
            default: throw HeraldError(.invalidInput, "variables.\(name): expected a number, text or true/false, found \(value.typeName)")
            }
        }
    }

    /// The JSON object of a campaign's variables.
    public static func variablesJSON(_ variables: [(String, Literal)]) -> JSONValue {
        .object(variables.map { ($0.0, literalJSON($0.1)) })
    }

    public static func decodeNode(_ json: JSONValue, path: String) throws -> Node {
        let f = try Fields(json, path: path)
        let id = try f.string("id")
        let at = "\(path) ('\(id)')"
        let kindName = try f.string("kind")
        guard let kind = NodeKind(rawValue: kindName) else {
            throw HeraldError(
                .invalidInput,
                "\(at).kind: unknown node kind '\(kindName)'\(Names.suggestion(for: kindName, in: NodeKind.allCases.map(\.rawValue)))"
                    + " (this Herald supports: \(NodeKind.allCases.map(\.rawValue).joined(separator: ", ")))"
            )
        }
        let g = try Fields(json, path: at)
        let common = ["id", "kind", "label", "note"]
        func rule(_ text: String, field: String) throws -> Rule {
            do {
                return try Rule(parsing: text)
            } catch {
                throw HeraldError(.invalidInput, "\(at).\(field): \(error)", cause: error)
            }
        }
        let config: NodeConfig
        switch kind {
        case .buildAudience:
            try g.allowOnly(common + kind.fields.map(\.name))
            config = .buildAudience(
                entity: try g.string("entity"), rule: try rule(try g.string("rule"), field: "rule"),
                emitWhenEmpty: try g.optionalBool("emitWhenEmpty") ?? false)
        case .changeDimension:
            try g.allowOnly(common + kind.fields.map(\.name))
            config = .changeDimension(link: try g.string("link"))
        case .combine:
            try g.allowOnly(common + kind.fields.map(\.name))
            let name = try g.string("operation")
            guard let operation = CombineOperation(rawValue: name) else {
                throw HeraldError(
                    .invalidInput,
                    "\(at).operation: expected \(CombineOperation.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")), found '\(name)'"
                )
            }
            config = .combine(operation)
        case .saveAudience:
            try g.allowOnly(common + kind.fields.map(\.name))
            config = .saveAudience(audience: try g.string("audience"), append: try g.optionalBool("append") ?? false)
        case .deduplicate:
            try g.allowOnly(common + kind.fields.map(\.name))
            let by = try g.array("by").enumerated().map { i, v -> String in
                guard case .string(let s) = v else { throw HeraldError(.invalidInput, "\(at).by[\(i)]: expected an attribute name") }
                return s
            }
            let p = try Fields(g["prefer"] ?? .object([("random", .integer(0))]), path: "\(at).prefer")
            try p.allowOnly(["random", "highest", "lowest", "nonEmpty", "attribute", "order"])
            let prefer: DedupPreference
            if let seed = try p.optionalInteger("random") {
                prefer = .random(seed: seed)
            } else if let a = try p.optionalString("highest") {
                prefer = .highest(a)
            } else if let a = try p.optionalString("lowest") {
                prefer = .lowest(a)
            } else if let a = try p.optionalString("nonEmpty") {
                prefer = .nonEmpty(a)
            } else if let a = try p.optionalString("attribute") {
                let order = try p.array("order").enumerated().map { i, v -> Literal in
                    switch v {
                    case .string(let s): return .text(s)
                    case .integer(let n): return .integer(n)
                    case .number(let n): return .real(n)
                    case .bool(let b): return .boolean(b)
                    default: throw HeraldError(.invalidInput, "\(at).prefer.order[\(i)]: expected a value")
                    }
                }
                prefer = .preferred(a, order: order)
            } else {
                throw HeraldError(
                    .invalidInput, "\(at).prefer: expected one of random, highest, lowest, nonEmpty, or attribute with order")
            }
            config = .deduplicate(by: by, keep: Int(clamping: try g.optionalInteger("keep") ?? 1), prefer: prefer)
        case .enrichment:
            try g.allowOnly(common + kind.fields.map(\.name))
            config = .enrich(
                fields: try g.array("fields").enumerated().map { i, json in
                    let field = "fields[\(i)]"
                    let ff = try Fields(json, path: "\(at).\(field)")
                    try ff.allowOnly(["name", "value", "rows", "columns", "where", "orderBy", "descending", "first"])
                    let name = try ff.string("name")
                    if let text = try ff.optionalString("value") {
                        try ff.allowOnly(["name", "value"])
                        do {
                            return EnrichmentField(name: name, value: .value(try ValueExpression(parsing: text)))
                        } catch {
                            throw HeraldError(.invalidInput, "\(at).\(field).value: \(error)", cause: error)
                        }
                    }
                    guard let link = try ff.optionalString("rows") else {
                        throw HeraldError(
                            .invalidInput,
                            "\(at).\(field): give 'value' (an attribute or an aggregate) or 'rows' (a one-to-many link with columns and first)"
                        )
                    }
                    let columns = try ff.array("columns").enumerated().map { j, c -> AttributePath in
                        guard case .string(let s) = c, !s.isEmpty, !s.split(separator: ".", omittingEmptySubsequences: false).contains("")
                        else {
                            throw HeraldError(
                                .invalidInput, "\(at).\(field).columns[\(j)]: expected an attribute such as departs or destination.city")
                        }
                        return AttributePath(s)
                    }
                    return EnrichmentField(
                        name: name,
                        value: .rows(
                            RelatedRows(
                                link: link.split(separator: ".").map(String.init), columns: columns,
                                filter: try ff.optionalString("where").map { try rule($0, field: "\(field).where") },
                                orderBy: try ff.optionalString("orderBy"), descending: try ff.optionalBool("descending") ?? false,
                                first: Int(clamping: try ff.integer("first")))))
                })
        case .test:
            try g.allowOnly(common + kind.fields.map(\.name))
            config = .test(
                branches: try g.array("branches").enumerated().map { i, b in
                    let bf = try Fields(b, path: "\(at).branches[\(i)]")
                    try bf.allowOnly(["label", "when"])
                    return TestBranch(
                        label: try bf.string("label"), condition: try rule(try bf.string("when"), field: "branches[\(i)].when"))
                })
        case .fork:
            try g.allowOnly(common + kind.fields.map(\.name))
            config = .fork(branches: Int(clamping: try g.optionalInteger("branches") ?? 2))
        case .andJoin:
            try g.allowOnly(common + kind.fields.map(\.name))
            config = .andJoin(inputs: Int(clamping: try g.optionalInteger("inputs") ?? 2))
        case .readAudience:
            try g.allowOnly(common + kind.fields.map(\.name))
            config = .readAudience(audience: try g.string("audience"), emitWhenEmpty: try g.optionalBool("emitWhenEmpty") ?? false)
        case .split:
            try g.allowOnly(common + kind.fields.map(\.name))
            let subsets = try g.array("subsets").enumerated().map { i, s -> SplitSubset in
                let sf = try Fields(s, path: "\(at).subsets[\(i)]")
                try sf.allowOnly(["label", "rule", "count", "percent", "highest", "lowest"])
                var subset = SplitSubset(label: try sf.string("label"))
                if let r = try sf.optionalString("rule") { subset.rule = try rule(r, field: "subsets[\(i)].rule") }
                let count = try sf.optionalInteger("count")
                let percent = try sf.optionalNumber("percent")
                if count != nil && percent != nil {
                    throw HeraldError(.invalidInput, "\(at).subsets[\(i)]: give either 'count' or 'percent', not both")
                }
                if let c = count { subset.limit = .count(Int(c)) }
                if let p = percent { subset.limit = .percent(p) }
                let highest = try sf.optionalString("highest")
                let lowest = try sf.optionalString("lowest")
                if highest != nil && lowest != nil {
                    throw HeraldError(.invalidInput, "\(at).subsets[\(i)]: give either 'highest' or 'lowest', not both")
                }
                if (highest ?? lowest) != nil && subset.limit == nil {
                    throw HeraldError(
                        .invalidInput,
                        "\(at).subsets[\(i)]: 'highest' and 'lowest' choose which rows a limit keeps; give 'count' or 'percent' too")
                }
                if let a = highest { subset.order = .highest(a) }
                if let a = lowest { subset.order = .lowest(a) }
                return subset
            }
            config = .split(
                seed: try g.optionalInteger("seed") ?? 0, subsets: subsets, overlap: try g.optionalBool("overlap") ?? false,
                skipEmpty: try g.optionalBool("skipEmpty") ?? false)
        case .wait:
            try g.allowOnly(common + kind.fields.map(\.name))
            let given = try ["duration", "until", "at"].filter { try g.optionalString($0) != nil }
            guard given.count == 1 else {
                throw HeraldError(
                    .invalidInput,
                    "\(at): a wait takes one of 'duration' (3d), 'until' (a date-time) or 'at' (a time of day), found \(given.isEmpty ? "none" : given.joined(separator: " and "))"
                )
            }
            switch given[0] {
            case "duration": config = .wait(duration: try g.string("duration"))
            case "until": config = .waitUntil(.dateTime(try g.string("until")))
            default:
                let text = try g.string("at")
                do { config = .waitUntil(.timeOfDay(try LocalTime.parse(text))) } catch {
                    throw HeraldError(.invalidInput, "\(at).at: \(error.message)")
                }
            }
        case .email, .sms, .push, .directMail:
            let channel: Channel =
                switch kind {
                case .email: .email
                case .sms: .sms
                case .push: .push
                default: .directMail
                }
            let contentFields = channel.requiredFields + channel.optionalFields
            try g.allowOnly(common + kind.fields.map(\.name))
            var settings = ChannelSettings()
            if let c = try g.optionalString("category") {
                guard let cat = MessageCategory(rawValue: c) else {
                    throw HeraldError(.invalidInput, "\(at).category: expected 'marketing' or 'transactional', found '\(c)'")
                }
                settings.category = cat
            }
            if let m = try g.optionalString("messagePer") {
                guard let per = MessageGranularity(rawValue: m) else {
                    throw HeraldError(.invalidInput, "\(at).messagePer: expected 'profile', 'entity' or 'related', found '\(m)'")
                }
                settings.messagePer = per
            }
            for (key, value) in g.pairs where contentFields.contains(key) {
                guard case .string(let s) = value else { throw g.typeError(key, "text", value) }
                settings.content.append((key, s))
            }
            if let cap = g["frequencyCap"] {
                let cf = try Fields(cap, path: "\(at).frequencyCap")
                try cf.allowOnly(["max", "days"])
                settings.frequencyCap = FrequencyCap(maxMessages: Int(try cf.integer("max")), days: Int(try cf.integer("days")))
            }
            if let defaults = g["defaults"] {
                guard case .object(let pairs) = defaults else { throw g.typeError("defaults", "an object of tag → text", defaults) }
                settings.defaults = try pairs.map { tag, value in
                    guard case .string(let text) = value else {
                        throw HeraldError(.invalidInput, "\(at).defaults.\(tag): expected text, found \(value.typeName)")
                    }
                    return (tag, text)
                }
            }
            if let related = g["related"] {
                let rf = try Fields(related, path: "\(at).related")
                try rf.allowOnly(["link", "where"])
                let link = try rf.string("link")
                var rule = Rule.all
                if let text = try rf.optionalString("where") {
                    do { rule = try Rule(parsing: text) } catch { throw HeraldError(.invalidInput, "\(at).related.where: \(error)") }
                }
                settings.related = RelatedMessages(link: link, rule: rule)
            }
            if let text = try g.optionalString("sendWindow") {
                do { settings.sendWindow = try SendWindow(parsing: text) } catch {
                    throw HeraldError(.invalidInput, "\(at).sendWindow: \(error.message)")
                }
            }
            if let text = try g.optionalString("throttle") {
                guard let rate = DeliveryRate(parsing: text) else {
                    throw HeraldError(
                        .invalidInput,
                        "\(at).throttle: expected messages per second, minute or hour such as '200/s' or '50/min', found '\(text)'")
                }
                settings.throttle = rate
            }
            config = .message(channel, settings)
        case .end:
            try g.allowOnly(common + kind.fields.map(\.name))
            config = try g.optionalString("start").map { .endAndStart(campaign: $0) } ?? .end
        }
        return Node(id: NodeID(id), label: try g.optionalString("label") ?? kind.title, note: try g.optionalString("note"), config: config)
    }

    /// Typed access to a JSON object's fields with path-qualified errors.
    struct Fields {
        let pairs: [(String, JSONValue)]
        let path: String

        init(_ json: JSONValue, path: String) throws {
            guard case .object(let pairs) = json else {
                throw HeraldError(.invalidInput, "\(path): expected an object, found \(json.typeName)")
            }
            self.pairs = pairs
            self.path = path
        }

        subscript(key: String) -> JSONValue? { pairs.first { $0.0 == key }?.1 }

        func allowOnly(_ keys: [String]) throws {
            for (key, _) in pairs where !keys.contains(key) {
                throw HeraldError(
                    .invalidInput,
                    "\(path): unknown field '\(key)'\(Names.suggestion(for: key, in: keys)) (allowed: \(keys.joined(separator: ", ")))"
                )
            }
        }

        func typeError(_ key: String, _ expected: String, _ found: JSONValue) -> HeraldError {
            HeraldError(.invalidInput, "\(path).\(key): expected \(expected), found \(found.typeName)")
        }

        func missing(_ key: String, _ expected: String) -> HeraldError {
            HeraldError(.invalidInput, "\(path).\(key): missing; expected \(expected)")
        }

        func string(_ key: String) throws -> String {
            guard let v = try optionalString(key) else { throw missing(key, "text") }
            return v
        }

        func optionalString(_ key: String) throws -> String? {
            guard let v = self[key] else { return nil }
            guard case .string(let s) = v else { throw typeError(key, "text", v) }
            return s
        }

        func optionalBool(_ key: String) throws -> Bool? {
            guard let v = self[key] else { return nil }
            guard case .bool(let b) = v else { throw typeError(key, "true or false", v) }
            return b
        }

        func integer(_ key: String) throws -> Int64 {
            guard let v = try optionalInteger(key) else { throw missing(key, "a whole number") }
            return v
        }

        func optionalInteger(_ key: String) throws -> Int64? {
            guard let v = self[key] else { return nil }
            guard case .integer(let i) = v else { throw typeError(key, "a whole number", v) }
            return i
        }

        func optionalNumber(_ key: String) throws -> Double? {
            guard let v = self[key] else { return nil }
            switch v {
            case .integer(let i): return Double(i)
            case .number(let d): return d
            default: throw typeError(key, "a number", v)
            }
        }

        func array(_ key: String) throws -> [JSONValue] {
            guard let v = try optionalArray(key) else { throw missing(key, "a list") }
            return v
        }

        func optionalArray(_ key: String) throws -> [JSONValue]? {
            guard let v = self[key] else { return nil }
            guard case .array(let items) = v else { throw typeError(key, "a list", v) }
            return items
        }
    }
}

extension String {
    var trimmed: String {
        var s = Substring(self)
        while s.first?.isWhitespace == true { s.removeFirst() }
        while s.last?.isWhitespace == true { s.removeLast() }
        return String(s)
    }
}
