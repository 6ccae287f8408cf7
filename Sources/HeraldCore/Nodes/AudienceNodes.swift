/// Build audience: the rows of an entity matching a rule.
public struct BuildAudienceNode: NodeDefinition {
    public let entityName: String
    public let rule: Rule
    public let emitWhenEmpty: Bool

    public func leaving(upstream: String?, catalog: Catalog, audiences: [String: String]) -> (node: String?, ports: [PortName: String]) {
        (catalog.entity(entityName) != nil ? entityName : nil, [:])
    }

    public var rules: [NodeRule] { [NodeRule(entity: entityName, rule: rule)] }

    public init(entityName: String, rule: Rule, emitWhenEmpty: Bool) {
        self.entityName = entityName
        self.rule = rule
        self.emitWhenEmpty = emitWhenEmpty
    }

    public var summary: String { "\(entityName) where \(rule.text)" }

    public var inputPorts: [PortName] { [] }
    public var startsBranch: Bool { true }
    public var emitsWhenEmpty: Bool { emitWhenEmpty }

    public func check(_ check: inout NodeCheck) {
        guard let entity = check.catalog.entity(entityName) else {
            check.add(
                "entity", "unknown entity '\(entityName)'\(Names.suggestion(for: entityName, in: check.catalog.entities.map(\.name)))")
            return
        }
        check.check(rule, on: entity, field: "rule")
    }
}

/// Read audience: a saved audience, re-evaluated if live, its stored keys if a snapshot.
public struct ReadAudienceNode: NodeDefinition {
    public let name: String
    public let emitWhenEmpty: Bool

    public func leaving(upstream: String?, catalog: Catalog, audiences: [String: String]) -> (node: String?, ports: [PortName: String]) {
        (audiences.first { $0.key.lowercased() == name.lowercased() }?.value, [:])
    }

    public var rules: [NodeRule] { [NodeRule(entity: nil, rule: .inAudience(name))] }

    public init(name: String, emitWhenEmpty: Bool) {
        self.name = name
        self.emitWhenEmpty = emitWhenEmpty
    }

    public var summary: String { "saved audience '\(name)'" }

    public var inputPorts: [PortName] { [] }
    public var startsBranch: Bool { true }
    public var emitsWhenEmpty: Bool { emitWhenEmpty }

    public func check(_ check: inout NodeCheck) {
        guard let audiences = check.validator.audiences else { return }
        guard audiences.contains(where: { $0.key.lowercased() == name.lowercased() }) else {
            check.add("audience", "no saved audience named '\(name)'\(Names.suggestion(for: name, in: Array(audiences.keys)))")
            return
        }
        if let problem = check.validator.brokenAudiences[name.lowercased()] {
            check.add("audience", "the saved audience '\(name)' cannot be used: \(problem)")
        }
    }
}

/// Save audience: the population saved as a snapshot audience (replacing or appending), passed on.
public struct SaveAudienceNode: NodeDefinition {
    public let name: String
    public let append: Bool

    public init(name: String, append: Bool) {
        self.name = name
        self.append = append
    }

    public var summary: String { "\(append ? "add to" : "save as") the audience '\(name)'" }

    public func check(_ check: inout NodeCheck) {
        if name.trimmed.isEmpty {
            check.add("audience", "the audience name is empty")
            return
        }
        if check.validator.liveAudiences.contains(name.lowercased()) {
            check.add(
                "audience",
                "the saved audience '\(name)' is live (its members are its rule's); a Save audience node writes snapshot audiences, so choose another name"
            )
        }
        if let audiences = check.validator.audiences, let existing = audiences.first(where: { $0.key.lowercased() == name.lowercased() }),
            let upstream = check.upstream, existing.value != upstream
        {
            check.add("audience", "the saved audience '\(existing.key)' holds \(existing.value), but this node receives \(upstream)")
        }
    }
}
