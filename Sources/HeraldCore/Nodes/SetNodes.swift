/// Change dimension: the related rows along a link; rows with none go to `complement`.
public struct ChangeDimensionNode: NodeDefinition {
    public let link: String

    public init(link: String) {
        self.link = link
    }

    /// The node's own entity stays the arriving one (its complement holds those rows); `out`
    /// carries the link's target.
    public func leaving(upstream: String?, catalog: Catalog, audiences: [String: String]) -> (node: String?, ports: [PortName: String]) {
        guard let upstream, let target = catalog.entity(upstream)?.link(link)?.target else { return (upstream, [:]) }
        return (upstream, [.out: target])
    }

    public func carriesColumns(to port: PortName) -> Bool { port != .out }

    public var summary: String { "along the link '\(link)'" }

    public var outputPorts: [PortName] { [.out, .complement] }

    public func check(_ check: inout NodeCheck) {
        guard let dim = check.upstream, let entity = check.upstreamEntity else { return }
        if entity.link(link) == nil {
            check.add("link", "'\(dim)' has no link '\(link)'\(Names.suggestion(for: link, in: entity.links.map(\.name)))")
        }
    }
}

/// Combine: union, intersection or exclusion of the `primary` and `secondary` populations.
public struct CombineNode: NodeDefinition {
    public let operation: CombineOperation

    public init(operation: CombineOperation) {
        self.operation = operation
    }

    public var summary: String {
        switch operation {
        case .union: "primary or secondary"
        case .intersection: "primary and also secondary; complement: primary only"
        case .exclusion: "primary minus secondary; complement: the excluded"
        }
    }

    public var inputPorts: [PortName] { [.primary, .secondary] }
    public var outputPorts: [PortName] { [.out, .complement] }

    public func check(_ check: inout NodeCheck) {
        let id = check.node.id
        if let primary = check.inputs[PortRef(node: id, port: .primary)], let secondary = check.inputs[PortRef(node: id, port: .secondary)],
            primary != secondary
        {
            check.add(
                nil,
                "the primary population is \(primary) and the secondary \(secondary); both must be of one entity (add a Change dimension node)"
            )
        }
    }
}

/// Deduplication: `keep` rows per value of the `by` attributes, chosen by `prefer`.
public struct DeduplicationNode: NodeDefinition {
    public let by: [String]
    public let keep: Int
    public let prefer: DedupPreference

    public init(by: [String], keep: Int, prefer: DedupPreference) {
        self.by = by
        self.keep = keep
        self.prefer = prefer
    }

    public var summary: String { "keep \(keep) per \(by.joined(separator: ", "))" }

    public var outputPorts: [PortName] { [.out, .complement] }

    public func check(_ check: inout NodeCheck) {
        if by.isEmpty { check.add("by", "name at least one attribute to deduplicate on") }
        if keep < 1 { check.add("keep", "must be at least 1, found \(keep)") }
        guard let dim = check.upstream, let entity = check.upstreamEntity else { return }
        for name in by + [prefer.attribute].compactMap({ $0 }) where entity.attribute(name) == nil {
            check.add(
                prefer.attribute == name && !by.contains(name) ? "prefer" : "by",
                "'\(dim)' has no attribute '\(name)'\(Names.suggestion(for: name, in: entity.attributes.map(\.name)))")
        }
    }
}

/// Enrichment: typed columns added to each row of the population.
public struct EnrichmentNode: NodeDefinition {
    public let fields: [EnrichmentField]

    public init(fields: [EnrichmentField]) {
        self.fields = fields
    }

    public var addedFields: [EnrichmentField] { fields }

    public var summary: String { fields.map(\.description).joined(separator: "; ") }

    public func check(_ check: inout NodeCheck) {
        if fields.isEmpty { check.add("fields", "name at least one field to add") }
        var seen = Set<String>()
        for (i, field) in fields.enumerated() {
            let at = "fields[\(i)]"
            if !CampaignValidator.isFieldName(field.name) {
                check.add("\(at).name", "'\(field.name)' is not a field name; use letters, digits and _, starting with a letter")
            } else if !seen.insert(field.name).inserted {
                check.add("\(at).name", "the field '\(field.name)' is named twice")
            } else if ["profile", "target"].contains(field.name) {
                check.add("\(at).name", "'\(field.name)' is reserved for template fields; choose another name")
            } else if let earlier = check.added.first(where: { $0.name == field.name }) {
                check.add("\(at).name", "the node '\(earlier.node)' already adds a field '\(field.name)'; choose another name")
            }
            guard let entity = check.upstreamEntity else { continue }
            do { _ = try check.checker.type(of: field.value, on: entity) } catch { check.add(at, CampaignValidator.strip(error)) }
        }
    }
}

/// Split: ordered subsets by rule and limit, then the complement.
public struct SplitNode: NodeDefinition {
    public let seed: Int64
    public let subsets: [SplitSubset]
    public let overlap: Bool
    public let skipEmpty: Bool

    public var rules: [NodeRule] { subsets.compactMap { $0.rule.map { NodeRule(entity: nil, rule: $0) } } }

    public init(seed: Int64, subsets: [SplitSubset], overlap: Bool, skipEmpty: Bool) {
        self.seed = seed
        self.subsets = subsets
        self.overlap = overlap
        self.skipEmpty = skipEmpty
    }

    public var summary: String {
        subsets.map { s in
            var parts = [s.label]
            if let r = s.rule { parts.append(r.text) }
            switch s.limit {
            case .count(let n): parts.append("limit \(n)")
            case .percent(let p): parts.append("\(p == p.rounded() ? String(Int(p)) : String(p))%")
            case nil: break
            }
            switch s.order {
            case .random: break
            case .highest(let a): parts.append("highest \(a)")
            case .lowest(let a): parts.append("lowest \(a)")
            }
            return parts.joined(separator: ": ")
        }.joined(separator: "; ") + "; complement"
    }

    public var outputPorts: [PortName] { subsets.indices.map { .subset($0 + 1) } + [.complement] }
    public var emitsWhenEmpty: Bool { !skipEmpty }

    public func check(_ check: inout NodeCheck) {
        if subsets.isEmpty { check.add("subsets", "a split needs at least one subset") }
        var percentTotal = 0.0
        for (i, subset) in subsets.enumerated() {
            let field = "subsets[\(i)]"
            if subset.label.trimmed.isEmpty { check.add(field, "the subset has no label") }
            if subset.rule == nil && subset.limit == nil {
                check.add(field, "give the subset a rule, a count or a percent")
            }
            switch subset.limit {
            case .count(let n) where n < 0: check.add("\(field).count", "must be 0 or more, found \(n)")
            case .percent(let p) where !(p > 0 && p <= 100):
                check.add("\(field).percent", "must be more than 0 and at most 100, found \(p)")
            case .percent(let p): if subset.rule == nil { percentTotal += p }
            default: break
            }
            guard let dim = check.upstream, let entity = check.upstreamEntity else { continue }
            if let name = subset.order.attribute, entity.attribute(name) == nil {
                check.add(
                    "\(field).\(subset.order == .highest(name) ? "highest" : "lowest")",
                    "'\(dim)' has no attribute '\(name)'\(Names.suggestion(for: name, in: entity.attributes.map(\.name)))")
            }
            if let rule = subset.rule { check.check(rule, on: entity, field: "\(field).rule") }
        }
        if !overlap && percentTotal > 100.0001 {
            check.add("subsets", "percentages add up to \(percentTotal)%, more than 100%")
        }
    }
}
