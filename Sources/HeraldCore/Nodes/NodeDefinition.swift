import Foundation

/// What one node kind declares and checks: its ports and the problems of its configuration.
/// Each kind is one type in this folder; the engine extends the same type with its execution
/// (`HeraldEngine/Nodes/`). The only place that maps a configuration to its type is
/// ``Node/definition``.
public protocol NodeDefinition: Sendable {
    /// Input ports; the first is the one whose population the node works on (and whose
    /// absence skips it). Every input port takes exactly one transition.
    var inputPorts: [PortName] { get }
    /// Output ports in display order.
    var outputPorts: [PortName] { get }
    /// Whether the node starts a branch (it has no inbound transition).
    var startsBranch: Bool { get }
    /// Whether its empty outputs still lead on.
    var emitsWhenEmpty: Bool { get }
    /// One line describing the configuration, for lists.
    var summary: String { get }
    /// Reports every problem of the configuration to `check`.
    func check(_ check: inout NodeCheck)

    /// The entity of the population leaving the node, given the one arriving (`upstream`), and
    /// the output ports whose population is of another entity.
    func leaving(upstream: String?, catalog: Catalog, audiences: [String: String]) -> (node: String?, ports: [PortName: String])
    /// The rules the node evaluates, with the entity each is over when the node names it (nil:
    /// the arriving population's).
    var rules: [NodeRule] { get }
    /// The channel a message node sends on.
    var sendsOn: Channel? { get }
    /// The columns an Enrichment node adds to its population.
    var addedFields: [EnrichmentField] { get }
    /// Whether the node's output keeps only the columns every input has (an And-join).
    var intersectsInputColumns: Bool { get }
    /// Whether the columns added upstream still describe the rows leaving by `port` (not when
    /// the port's population is of another entity).
    func carriesColumns(to port: PortName) -> Bool
}

/// A rule a node evaluates, and the entity it is over when the node names it.
public struct NodeRule: Sendable, Equatable {
    public var entity: String?
    public var rule: Rule

    public init(entity: String?, rule: Rule) {
        self.entity = entity
        self.rule = rule
    }
}

extension NodeDefinition {
    public var inputPorts: [PortName] { [.input] }
    public var outputPorts: [PortName] { [.out] }
    public var startsBranch: Bool { false }
    public var emitsWhenEmpty: Bool { false }
    public func leaving(upstream: String?, catalog: Catalog, audiences: [String: String]) -> (node: String?, ports: [PortName: String]) {
        (upstream, [:])
    }
    public var rules: [NodeRule] { [] }
    public var sendsOn: Channel? { nil }
    public var addedFields: [EnrichmentField] { [] }
    public var intersectsInputColumns: Bool { false }
    public func carriesColumns(to port: PortName) -> Bool { true }
}

/// What a node's check can see, and where its problems go.
public struct NodeCheck {
    public let node: Node
    public let campaign: Campaign
    public let validator: CampaignValidator
    public let checker: RuleChecker
    /// The entity of the population arriving at the node's first input, when known.
    public let upstream: String?
    /// The entity arriving at each input port.
    public let inputs: [PortRef: String]
    /// The columns Enrichment nodes upstream added to the node's population.
    public let added: [EnrichmentColumn]
    public private(set) var problems: [ValidationProblem] = []

    public var catalog: Catalog { validator.catalog }
    /// The arriving population's entity from the catalog, when known.
    public var upstreamEntity: Entity? { upstream.flatMap(catalog.entity) }

    public mutating func add(_ field: String?, _ message: String) {
        problems.append(ValidationProblem(node: node.id, field: field, message: message))
    }

    /// Reports a number of branches or inputs outside ``Node/branchRange``.
    public mutating func requireBranchCount(_ n: Int, field: String) {
        if !Node.branchRange.contains(n) {
            add(field, "expected \(Node.branchRange.lowerBound) to \(Node.branchRange.upperBound), found \(n)")
        }
    }

    /// Checks `rule` on `entity`, reporting its problem under `field`.
    public mutating func check(_ rule: Rule, on entity: Entity, field: String) {
        do { try checker.check(rule, on: entity) } catch { add(field, CampaignValidator.strip(error)) }
    }
}

extension Node {
    /// The type that declares this node's ports and checks its configuration.
    public var definition: any NodeDefinition {
        switch config {
        case .buildAudience(let entity, let rule, let emit): BuildAudienceNode(entityName: entity, rule: rule, emitWhenEmpty: emit)
        case .readAudience(let name, let emit): ReadAudienceNode(name: name, emitWhenEmpty: emit)
        case .changeDimension(let link): ChangeDimensionNode(link: link)
        case .split(let seed, let subsets, let overlap, let skipEmpty):
            SplitNode(seed: seed, subsets: subsets, overlap: overlap, skipEmpty: skipEmpty)
        case .combine(let operation): CombineNode(operation: operation)
        case .saveAudience(let name, let append): SaveAudienceNode(name: name, append: append)
        case .test(let branches): TestNode(branches: branches)
        case .deduplicate(let by, let keep, let prefer): DeduplicationNode(by: by, keep: keep, prefer: prefer)
        case .enrich(let fields): EnrichmentNode(fields: fields)
        case .fork(let n): ForkNode(branches: n)
        case .andJoin(let n): AndJoinNode(inputs: n)
        case .wait(let duration): WaitNode(length: .duration(duration))
        case .waitUntil(let target): WaitNode(length: .until(target))
        case .message(let channel, let settings): MessageNode(channel: channel, settings: settings)
        case .end: EndNode(starts: nil)
        case .endAndStart(let other): EndNode(starts: other)
        }
    }
}
