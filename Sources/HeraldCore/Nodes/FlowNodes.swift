import Foundation

/// Test: the whole population down the first branch whose condition holds, else `default`.
public struct TestNode: NodeDefinition {
    public let branches: [TestBranch]

    public init(branches: [TestBranch]) {
        self.branches = branches
    }

    public var summary: String { branches.map { "\($0.label): \($0.condition.text)" }.joined(separator: "; ") + "; default" }

    public var outputPorts: [PortName] { branches.indices.map { .branch($0 + 1) } + [.fallback] }

    public func check(_ check: inout NodeCheck) {
        if branches.isEmpty { check.add("branches", "a test needs at least one branch (the rest goes to default)") }
        let facts = TestFacts.entity(variables: check.campaign.variables)
        for (i, branch) in branches.enumerated() {
            if branch.label.trimmed.isEmpty { check.add("branches[\(i)]", "the branch has no label") }
            do {
                try check.checker.check(branch.condition, on: facts)
                // Evaluated once to refuse what a condition cannot use (links, patterns, now()).
                _ = try TestFacts.holds(branch.condition, count: 0, variables: check.campaign.variableBindings)
            } catch {
                check.add("branches[\(i)].when", CampaignValidator.strip(error))
            }
        }
    }
}

/// Fork: the whole population down each of `branches` branches.
public struct ForkNode: NodeDefinition {
    public let branches: Int

    public init(branches: Int) {
        self.branches = branches
    }

    public var summary: String { "\(branches) parallel branches" }

    public var outputPorts: [PortName] { (0..<max(branches, 0)).map { .branch($0 + 1) } }

    public func check(_ check: inout NodeCheck) {
        check.requireBranchCount(branches, field: "branches")
    }
}

/// And-join: the union of its `inputs` branches once all have finished.
public struct AndJoinNode: NodeDefinition {
    public let inputs: Int

    public init(inputs: Int) {
        self.inputs = inputs
    }

    public var intersectsInputColumns: Bool { true }

    public var summary: String { "waits for \(inputs) branches; continues with their union" }

    public var inputPorts: [PortName] { (0..<max(inputs, 0)).map { .joined($0 + 1) } }

    public func check(_ check: inout NodeCheck) {
        check.requireBranchCount(inputs, field: "inputs")
        let id = check.node.id
        let entities = Set(inputPorts.compactMap { check.inputs[PortRef(node: id, port: $0)] })
        if entities.count > 1 {
            check.add(nil, "the joined branches carry \(entities.sorted().joined(separator: " and ")); all must be of one entity")
        }
    }
}

/// Wait: for a duration, until a date-time, or until the next time of day.
public struct WaitNode: NodeDefinition {
    public enum Length: Sendable, Equatable {
        case duration(String)
        case until(WaitTarget)
    }
    public let length: Length

    public init(length: Length) { self.length = length }

    public var summary: String { what }

    /// How long, in words: `3d`, `until 2027-03-28T09:00`.
    public var what: String {
        switch length {
        case .duration(let d): d
        case .until(.dateTime(let text)): "until \(text)"
        case .until(.timeOfDay(let time)): "until the next \(time.text)"
        }
    }

    public func check(_ check: inout NodeCheck) {
        switch length {
        case .duration(let duration):
            if CampaignValidator.durationSeconds(duration) == nil {
                check.add("duration", "expected a positive duration such as 30m, 12h, 3d or 2w, found '\(duration)'")
            }
        case .until(.dateTime(let text)):
            if let zone = TimeZone(identifier: check.campaign.timeZone), (try? TemporalText.instant(text, zone: zone)) == nil {
                check.add("until", "expected a date-time such as 2027-03-28T09:00 (or with an offset), found '\(text)'")
            }
        case .until(.timeOfDay):
            break
        }
    }
}

/// End: the branch ends; with `starts`, another campaign starts.
public struct EndNode: NodeDefinition {
    public let starts: String?

    public init(starts: String?) {
        self.starts = starts
    }

    public var summary: String { starts.map { "then starts '\($0)'" } ?? "" }

    public var outputPorts: [PortName] { [] }

    public func check(_ check: inout NodeCheck) {
        guard let other = starts else { return }
        if other.trimmed.isEmpty { check.add("start", "name the campaign to start") }
        if other.lowercased() == check.campaign.name.lowercased() {
            check.add("start", "a campaign cannot start itself; schedule it instead")
        }
    }
}
