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
                add(node.id, nil, "a \(node.kind.title) node starts a branch and cannot have an inbound transition")
            }
            if !node.startsBranch && inbound.isEmpty {
                add(node.id, nil, "nothing leads to this \(node.kind.title) node; connect an inbound transition")
            } else if !node.startsBranch {
                for port in node.inputPorts {
                    let reaching = inbound.filter { $0.toPort == port }.count
                    if reaching == 0 && node.inputPorts.count > 1 {
                        add(node.id, nil, "nothing reaches input port '\(port)'; a \(node.kind.title) node needs every input connected")
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
        for id in order ?? campaign.nodes.map(\.id) {
            guard let node = byID[id] else { continue }
            let upstream = inboundEntity[id]
            switch node.config {
            case .buildAudience(let entityName, let rule, _):
                guard let entity = catalog.entity(entityName) else {
                    add(
                        id, "entity", "unknown entity '\(entityName)'\(Names.suggestion(for: entityName, in: catalog.entities.map(\.name)))"
                    )
                    continue
                }
                do { try checker.check(rule, on: entity) } catch { add(id, "rule", Self.strip(error)) }
            case .changeDimension(let linkName):
                guard let dim = upstream, let entity = catalog.entity(dim) else { continue }
                if entity.link(linkName) == nil {
                    add(id, "link", "'\(dim)' has no link '\(linkName)'\(Names.suggestion(for: linkName, in: entity.links.map(\.name)))")
                }
            case .saveAudience(let name, _):
                if name.trimmed.isEmpty {
                    add(id, "audience", "the audience name is empty")
                    continue
                }
                if liveAudiences.contains(name.lowercased()) {
                    add(
                        id, "audience",
                        "the saved audience '\(name)' is live (its members are its rule's); a Save audience node writes snapshot audiences, so choose another name"
                    )
                }
                if let audiences, let existing = audiences.first(where: { $0.key.lowercased() == name.lowercased() }),
                    let upstream, existing.value != upstream
                {
                    add(id, "audience", "the saved audience '\(existing.key)' holds \(existing.value), but this node receives \(upstream)")
                }
            case .deduplicate(let by, let keep, let prefer):
                if by.isEmpty { add(id, "by", "name at least one attribute to deduplicate on") }
                if keep < 1 { add(id, "keep", "must be at least 1, found \(keep)") }
                guard let dim = upstream, let entity = catalog.entity(dim) else { continue }
                for name in by + [prefer.attribute].compactMap({ $0 }) where entity.attribute(name) == nil {
                    add(
                        id, prefer.attribute == name && !by.contains(name) ? "prefer" : "by",
                        "'\(dim)' has no attribute '\(name)'\(Names.suggestion(for: name, in: entity.attributes.map(\.name)))")
                }
            case .enrich(let fields):
                if fields.isEmpty { add(id, "fields", "name at least one field to add") }
                let arriving = enrichment.inbound[id] ?? []
                var seen = Set<String>()
                for (i, field) in fields.enumerated() {
                    let at = "fields[\(i)]"
                    if !Self.isFieldName(field.name) {
                        add(id, "\(at).name", "'\(field.name)' is not a field name; use letters, digits and _, starting with a letter")
                    } else if !seen.insert(field.name).inserted {
                        add(id, "\(at).name", "the field '\(field.name)' is named twice")
                    } else if ["profile", "target"].contains(field.name) {
                        add(id, "\(at).name", "'\(field.name)' is reserved for template fields; choose another name")
                    } else if let earlier = arriving.first(where: { $0.name == field.name }) {
                        add(id, "\(at).name", "the node '\(earlier.node)' already adds a field '\(field.name)'; choose another name")
                    }
                    guard let dim = upstream, let entity = catalog.entity(dim) else { continue }
                    do { _ = try checker.type(of: field.value, on: entity) } catch { add(id, at, Self.strip(error)) }
                }
            case .test(let branches):
                if branches.isEmpty { add(id, "branches", "a test needs at least one branch (the rest goes to default)") }
                let facts = TestFacts.entity(variables: campaign.variables)
                for (i, branch) in branches.enumerated() {
                    if branch.label.trimmed.isEmpty { add(id, "branches[\(i)]", "the branch has no label") }
                    do {
                        try checker.check(branch.condition, on: facts)
                        // Evaluated once to refuse what a condition cannot use (links, patterns, now()).
                        _ = try TestFacts.holds(branch.condition, count: 0, variables: campaign.variableBindings)
                    } catch {
                        add(id, "branches[\(i)].when", Self.strip(error))
                    }
                }
            case .fork(let n), .andJoin(let n):
                if !Node.branchRange.contains(n) {
                    let field = if case .fork = node.config { "branches" } else { "inputs" }
                    add(id, field, "expected \(Node.branchRange.lowerBound) to \(Node.branchRange.upperBound), found \(n)")
                }
                if case .andJoin = node.config {
                    let inputs = campaign.inputEntities(catalog: catalog, audiences: audiences ?? [:])
                    let entities = Set(node.inputPorts.compactMap { inputs[PortRef(node: id, port: $0)] })
                    if entities.count > 1 {
                        add(id, nil, "the joined branches carry \(entities.sorted().joined(separator: " and ")); all must be of one entity")
                    }
                }
            case .combine:
                let inputs = campaign.inputEntities(catalog: catalog, audiences: audiences ?? [:])
                if let primary = inputs[PortRef(node: id, port: "primary")], let secondary = inputs[PortRef(node: id, port: "secondary")],
                    primary != secondary
                {
                    add(
                        id, nil,
                        "the primary population is \(primary) and the secondary \(secondary); both must be of one entity (add a Change dimension node)"
                    )
                }
            case .readAudience(let name, _):
                guard let audiences else { continue }
                guard audiences.contains(where: { $0.key.lowercased() == name.lowercased() }) else {
                    add(id, "audience", "no saved audience named '\(name)'\(Names.suggestion(for: name, in: Array(audiences.keys)))")
                    continue
                }
                if let problem = brokenAudiences[name.lowercased()] {
                    add(id, "audience", "the saved audience '\(name)' cannot be used: \(problem)")
                }
            case .split(_, let subsets, let overlap, _):
                if subsets.isEmpty { add(id, "subsets", "a split needs at least one subset") }
                var percentTotal = 0.0
                for (i, subset) in subsets.enumerated() {
                    let field = "subsets[\(i)]"
                    if subset.label.trimmed.isEmpty { add(id, field, "the subset has no label") }
                    if subset.rule == nil && subset.limit == nil {
                        add(id, field, "give the subset a rule, a count or a percent")
                    }
                    switch subset.limit {
                    case .count(let n) where n < 0: add(id, "\(field).count", "must be 0 or more, found \(n)")
                    case .percent(let p) where !(p > 0 && p <= 100):
                        add(id, "\(field).percent", "must be more than 0 and at most 100, found \(p)")
                    case .percent(let p): if subset.rule == nil { percentTotal += p }
                    default: break
                    }
                    if let name = subset.order.attribute, let dim = upstream, let entity = catalog.entity(dim),
                        entity.attribute(name) == nil
                    {
                        add(
                            id, "\(field).\(subset.order == .highest(name) ? "highest" : "lowest")",
                            "'\(dim)' has no attribute '\(name)'\(Names.suggestion(for: name, in: entity.attributes.map(\.name)))")
                    }
                    if let rule = subset.rule, let dim = upstream, let entity = catalog.entity(dim) {
                        do { try checker.check(rule, on: entity) } catch { add(id, "\(field).rule", Self.strip(error)) }
                    }
                }
                if !overlap && percentTotal > 100.0001 {
                    add(id, "subsets", "percentages add up to \(percentTotal)%, more than 100%")
                }
            case .wait(let duration):
                if Self.durationSeconds(duration) == nil {
                    add(id, "duration", "expected a positive duration such as 30m, 12h, 3d or 2w, found '\(duration)'")
                }
            case .waitUntil(.dateTime(let text)):
                if let zone = TimeZone(identifier: campaign.timeZone), (try? TemporalText.instant(text, zone: zone)) == nil {
                    add(id, "until", "expected a date-time such as 2027-03-28T09:00 (or with an offset), found '\(text)'")
                }
            case .waitUntil(.timeOfDay):
                break
            case .message(let channel, let settings):
                for field in channel.requiredFields where (settings.field(field) ?? "").trimmed.isEmpty {
                    add(id, field, "the \(node.kind.title) content needs '\(field)'")
                }
                if let cap = settings.frequencyCap {
                    if cap.maxMessages < 1 { add(id, "frequencyCap.max", "must be at least 1, found \(cap.maxMessages)") }
                    if cap.days < 1 { add(id, "frequencyCap.days", "must be at least 1, found \(cap.days)") }
                    if settings.category == .transactional {
                        add(id, "frequencyCap", "transactional messages ignore frequency caps; remove it or make the message marketing")
                    }
                }
                if let dim = upstream {
                    if catalog.profileEntity == nil {
                        add(id, nil, "the catalog names no profile entity, so messages have no recipients (herald catalog profile ENTITY)")
                    } else if dim != catalog.profileEntity && catalog.linkToProfile(from: dim) == nil {
                        add(
                            id, nil,
                            "the population is '\(dim)', which has no link to the profile entity '\(catalog.profileEntity!)'; messages need a recipient"
                        )
                    } else if settings.messagePer == .entity && dim == catalog.profileEntity {
                        add(id, "messagePer", "'entity' sends one message per row of a non-profile population; this one is '\(dim)'")
                    }
                }
                if let profile = catalog.profileEntity.flatMap(catalog.entity) {
                    if let problem = Self.addressProblem(channel, profile: profile, channels: catalog.profileChannels) {
                        add(id, nil, problem)
                    }
                    for (field, template) in settings.content {
                        for problem in templateProblems(
                            template, profile: profile, target: upstream.flatMap(catalog.entity), added: enrichment.inbound[id] ?? [])
                        {
                            add(id, field, problem)
                        }
                    }
                }
            case .end:
                break
            case .endAndStart(let other):
                if other.trimmed.isEmpty { add(id, "start", "name the campaign to start") }
                if other.lowercased() == campaign.name.lowercased() {
                    add(id, "start", "a campaign cannot start itself; schedule it instead")
                }
            }
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
        for (tag, sections) in Self.templateTags(template) {
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
    /// per enclosing sections (outermost first); comments (`!`) and partials (`>`) are left out.
    static func templateTags(_ template: String) -> [(tag: String, sections: [String])] {
        var tags: [(tag: String, sections: [String])] = []
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
            if !tag.isEmpty && tag != "." && !tags.contains(where: { $0.tag == tag && $0.sections == open }) {
                tags.append((tag, open))
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
