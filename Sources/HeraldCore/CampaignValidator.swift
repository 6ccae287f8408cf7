import Foundation

/// One problem found in a campaign, located by node and field.
public struct ValidationProblem: Sendable, Equatable, CustomStringConvertible {
    public var node: NodeID?
    public var field: String?
    public var message: String

    public init(node: NodeID? = nil, field: String? = nil, message: String) {
        self.node = node
        self.field = field
        self.message = message
    }

    public var description: String {
        var location = ""
        if let node { location = "node '\(node)'" }
        if let field { location += location.isEmpty ? field : ", \(field)" }
        return location.isEmpty ? message : "\(location): \(message)"
    }
}

/// Checks a campaign against the catalog and reports every problem, not just the first.
public struct CampaignValidator: Sendable {
    public var catalog: Catalog
    /// Saved audiences by name with their entity, to check `in_audience(…)`; nil skips the check.
    public var audiences: [String: String]?
    /// Live saved audiences whose stored rule is broken, by lowercased name, with the problem.
    public var brokenAudiences: [String: String]
    /// Lowercased names of the live saved audiences (a Save audience node cannot write one).
    public var liveAudiences: Set<String> = []

    public init(catalog: Catalog, audiences: [String: String]? = nil, brokenAudiences: [String: String] = [:]) {
        self.catalog = catalog
        self.audiences = audiences
        self.brokenAudiences = brokenAudiences
    }

    /// A validator that knows what `checker` knows of the catalog and the saved audiences.
    public init(checker: RuleChecker) {
        self.init(catalog: checker.catalog, audiences: checker.audiences, brokenAudiences: checker.brokenAudiences)
        liveAudiences = checker.liveAudiences
    }

    /// Parses a duration such as `30m`, `12h`, `3d`, `2w` into seconds.
    public static func durationSeconds(_ text: String) -> Int? {
        guard let unit = text.last, let amount = Int(text.dropLast()), amount > 0 else { return nil }
        switch unit {
        case "m": return amount * 60
        case "h": return amount * 3600
        case "d": return amount * 86400
        case "w": return amount * 7 * 86400
        default: return nil
        }
    }

    /// Every problem of a campaign read from a file: the nodes and edges that could not be read,
    /// then everything validation finds in the rest.
    public func validate(_ decoded: CampaignFormat.Decoded) -> [ValidationProblem] {
        decoded.problems + validate(decoded.campaign, undecoded: decoded.undecodedNodes)
    }

    /// Every problem of `campaign`. Edges to or from `undecoded` nodes (left out because they
    /// could not be read, and reported already) are not checked.
    public func validate(_ campaign: Campaign, undecoded: Set<NodeID> = []) -> [ValidationProblem] {
        var problems: [ValidationProblem] = []
        func add(_ node: NodeID?, _ field: String?, _ message: String) {
            problems.append(ValidationProblem(node: node, field: field, message: message))
        }
        if campaign.nodes.isEmpty { add(nil, "nodes", "the campaign has no nodes") }
        if TimeZone(identifier: campaign.timeZone) == nil {
            add(nil, "timeZone", "'\(campaign.timeZone)' is not an IANA time zone (for example Europe/Paris or UTC)")
        }
        var firstPosition: [NodeID: Int] = [:]
        for (position, node) in campaign.nodes.enumerated() {
            if node.id.name.isEmpty { add(nil, "nodes[\(position)].id", "a node has an empty id") }
            if let first = firstPosition[node.id] {
                add(node.id, "nodes[\(position)].id", "nodes[\(first)] and nodes[\(position)] share this id; node ids must be unique")
            } else {
                firstPosition[node.id] = position
            }
            if node.label.trimmed.isEmpty { add(node.id, "label", "the label is empty") }
        }
        let byID = Dictionary(campaign.nodes.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })

        // Edges: endpoints, ports, fan-in.
        var usedPorts = Set<PortRef>()
        for (i, edge) in campaign.edges.enumerated() {
            let field = "edges[\(i)]"
            if undecoded.contains(edge.from) || undecoded.contains(edge.to) { continue }
            guard let from = byID[edge.from] else {
                add(nil, field, "starts at unknown node '\(edge.from)'\(Names.suggestion(for: edge.from.name, in: byID.keys.map(\.name)))")
                continue
            }
            guard let to = byID[edge.to] else {
                add(nil, field, "ends at unknown node '\(edge.to)'\(Names.suggestion(for: edge.to.name, in: byID.keys.map(\.name)))")
                continue
            }
            if !to.inputPorts.contains(edge.toPort) {
                let ports =
                    to.inputPorts.isEmpty
                    ? "it starts a branch and has none" : "its input ports are \(to.inputPorts.map(\.name).joined(separator: ", "))"
                add(edge.to, field, "no input port '\(edge.toPort)' on this \(to.kind.title) node; \(ports)")
            }
            if edge.from == edge.to { add(edge.from, field, "connects the node to itself") }
            if !from.outputPorts.contains(edge.port) {
                let ports =
                    from.outputPorts.isEmpty
                    ? "it has no output ports" : "its ports are \(from.outputPorts.map(\.name).joined(separator: ", "))"
                add(edge.from, field, "no output port '\(edge.port)' on this \(from.kind.title) node; \(ports)")
            } else if !usedPorts.insert(edge.source).inserted {
                add(edge.from, field, "port '\(edge.port)' is connected twice; a port leads to one node")
            }
        }
        for node in campaign.nodes {
            let inbound = campaign.inbound(node.id).filter { byID[$0.from] != nil || undecoded.contains($0.from) }
            if node.startsBranch && !inbound.isEmpty {
                add(node.id, nil, "\(Names.withArticle(node.kind.title)) node starts a branch and cannot have an inbound transition")
            }
            if !node.startsBranch && inbound.isEmpty {
                add(node.id, nil, "nothing leads to this \(node.kind.title) node; connect an inbound transition")
            } else if !node.startsBranch {
                for port in node.inputPorts {
                    let reaching = inbound.filter { $0.toPort == port }.count
                    if reaching == 0 && node.inputPorts.count > 1 {
                        add(
                            node.id, nil,
                            "nothing reaches input port '\(port)'; \(Names.withArticle(node.kind.title)) node needs every input connected")
                    }
                    if reaching > 1 {
                        add(
                            node.id, nil,
                            "\(reaching) transitions lead to \(node.inputPorts.count > 1 ? "input port '\(port)'" : "this node"); \(node.inputPorts.count > 1 ? "a port" : "it") takes one"
                        )
                    }
                }
            }
        }
        let order = campaign.topologicalOrder()
        if order == nil { add(nil, "edges", "the graph has a cycle; campaigns must flow one way") }

        // Configuration, in flow order, with the entity of each node's inbound population.
        let inboundEntity = campaign.inboundEntities(catalog: catalog, audiences: audiences ?? [:])
        let checker = RuleChecker(
            catalog: catalog, variables: campaign.variableBindings, audiences: audiences, brokenAudiences: brokenAudiences)
        let enrichment = campaign.enrichmentColumns(catalog: catalog, audiences: audiences ?? [:])
        let inputs = campaign.inputEntities(catalog: catalog, audiences: audiences ?? [:])
        for id in order ?? campaign.nodes.map(\.id) {
            guard let node = byID[id] else { continue }
            var check = NodeCheck(
                node: node, campaign: campaign, validator: self, checker: checker, upstream: inboundEntity[id], inputs: inputs,
                added: enrichment[id] ?? [])
            node.definition.check(&check)
            problems += check.problems
        }
        return problems
    }

    /// Why messages on `channel` cannot reach the profile entity's rows, or nil: the catalog must
    /// name an address column (email, phone, push token, postal address) that exists.
    static func addressProblem(_ channel: Channel, profile: Entity, channels: ProfileChannels) -> String? {
        let (columns, what, option): ([String], String, String) =
            switch channel {
            case .email: (channels.email.map { [$0] } ?? [], "email address", "--email")
            case .sms: (channels.phone.map { [$0] } ?? [], "phone number", "--phone")
            case .push: (channels.pushToken.map { [$0] } ?? [], "push token", "--push-token")
            case .directMail: (channels.postalAddress, "postal address", "--postal-address")
            }
        guard !columns.isEmpty else {
            return "the profile entity '\(profile.name)' has no \(what) column, so no one can receive this \(channel.rawValue) message "
                + "(name it with 'herald catalog profile \(profile.name) \(option) COLUMN')"
        }
        for column in columns where profile.attribute(column) == nil {
            return
                "the \(what) column '\(column)' is not on '\(profile.name)' any more\(Names.suggestion(for: column, in: profile.attributes.map(\.name)))"
        }
        return nil
    }

    /// The template tags (`{{profile.city}}`, `{{#target.x}}`) that do not name a field: each
    /// `profile.` path must resolve from the profile entity, each `target.` path from the
    /// population's entity, through N-1 and 1-1 links; a bare name is a column an Enrichment
    /// node added, or, inside a section over added related rows, one of their columns.
    func templateProblems(_ template: String, profile: Entity, target: Entity?, added: [EnrichmentColumn] = []) -> [String] {
        var problems: [String] = []
        let checker = RuleChecker(catalog: catalog)
        let fields = Dictionary(added.map { ($0.name, $0.type) }, uniquingKeysWith: { _, b in b })
        for (tag, sections, _) in Self.templateTags(template) {
            let parts = tag.split(separator: ".").map(String.init)
            if parts.count == 1 {
                if fields[tag] != nil { continue }
                // Inside {{#rows}} … {{/rows}}, the related rows' columns.
                let columns = sections.compactMap { name -> [String: AttributeType]? in
                    if case .rows(let c) = fields[name] { c } else { nil }
                }
                if columns.contains(where: { $0[tag] != nil }) { continue }
                // The population's entity is unknown (reported elsewhere), so are its added fields.
                if target == nil { continue }
            }
            guard parts.count >= 2, let root = parts.first else {
                let known = added.map(\.name)
                problems.append(
                    "'{{\(tag)}}' names no field; write profile.<attribute>"
                        + (known.isEmpty
                            ? " or target.<attribute>" : ", target.<attribute> or an added field (\(known.joined(separator: ", ")))")
                        + Names.suggestion(for: tag, in: known))
                continue
            }
            let base: Entity
            switch root {
            case "profile": base = profile
            case "target":
                guard let target else { continue }  // the population's entity is unknown; reported elsewhere
                base = target
            default:
                problems.append(
                    fields[root] != nil
                        ? "'{{\(tag)}}': '\(root)' is an added field; write {{\(root)}}, or loop over its rows with {{#\(root)}} … {{/\(root)}}"
                        : "'{{\(tag)}}' starts with '\(root)'; template fields start with profile. or target.")
                continue
            }
            let path = AttributePath(Array(parts.dropFirst()))
            do { _ = try checker.resolve(path, from: base) } catch {
                problems.append("'{{\(tag)}}': \(Self.strip(error))")
            }
        }
        return problems
    }

    /// The names inside `{{ }}` tags, sections (`#`, `^`) included, without the sigil, each once
    /// per enclosing sections (outermost first) and whether it opens a section there; comments
    /// (`!`) and partials (`>`) are left out.
    public static func templateTags(_ template: String) -> [(tag: String, sections: [String], opensSection: Bool)] {
        var tags: [(tag: String, sections: [String], opensSection: Bool)] = []
        var open: [String] = []
        var rest = template[...]
        while let start = rest.range(of: "{{") {
            guard let close = rest[start.upperBound...].range(of: "}}") else { break }
            var tag = rest[start.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            rest = rest[close.upperBound...]
            if tag.hasPrefix("{") { tag.removeFirst() }
            if tag.hasPrefix("!") || tag.hasPrefix(">") || tag.hasPrefix("=") { continue }
            var sigil: Character?
            if let first = tag.first, "&#^/".contains(first) {
                sigil = first
                tag.removeFirst()
            }
            tag = tag.trimmingCharacters(in: .whitespaces)
            if tag.hasSuffix("}") { tag.removeLast() }
            if sigil == "/" {
                if let i = open.lastIndex(of: tag) { open.removeSubrange(i...) }
                continue
            }
            let opens = sigil == "#" || sigil == "^"
            if !tag.isEmpty && tag != "." {
                if let i = tags.firstIndex(where: { $0.tag == tag && $0.sections == open }) {
                    tags[i].opensSection = tags[i].opensSection || opens
                } else {
                    tags.append((tag, open, opens))
                }
            }
            if sigil == "#" || sigil == "^" { open.append(tag) }
        }
        return tags
    }

    /// Whether `name` can name an added field in templates: an ASCII letter, then letters, digits and `_`.
    static func isFieldName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.properties.isAlphabetic, first.isASCII else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_") }
    }

    /// Drops the "rule: " prefix the checker uses on its own messages; the field says it already.
    static func strip(_ error: any Error) -> String {
        let text = "\(error)"
        return text.hasPrefix("rule: ") ? String(text.dropFirst(6)) : text
    }

    /// Throws a validation error listing every problem, for commands that must refuse bad campaigns.
    public func requireValid(_ campaign: Campaign) throws {
        try requireValid(CampaignFormat.Decoded(campaign: campaign, problems: [], undecodedNodes: []))
    }

    /// Throws a validation error listing every problem of a campaign read from a file.
    public func requireValid(_ decoded: CampaignFormat.Decoded) throws {
        let campaign = decoded.campaign
        let problems = validate(decoded)
        guard !problems.isEmpty else { return }
        let lines = problems.map { "  - \($0)" }.joined(separator: "\n")
        throw HeraldError(
            .validation,
            "campaign '\(campaign.name)' has \(problems.count) problem\(problems.count == 1 ? "" : "s"):\n\(lines)"
        )
    }
}
