/// Identifies a node inside one campaign (stable across versions; used in edges and runs): a
/// value of its own, so a node id is never mistaken for a label, a port or a campaign name.
public struct NodeID: Hashable, Sendable, Comparable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The id as files and the store write it.
    public var name: String

    public init(_ name: String) { self.name = name }
    public init(stringLiteral value: String) { name = value }

    public var description: String { name }
    public static func < (a: NodeID, b: NodeID) -> Bool { a.name < b.name }
}

/// A node's input or output port, typed: a Split's third subset is `.subset(3)`, not the text
/// `subset3` parsed back. Files and the store hold its ``name``; a name no kind has (from a hand-
/// written file) is kept as `.unknown`, so validation can say which port is wrong.
public enum PortName: Hashable, Sendable, Comparable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The usual output; `in` is the usual input.
    case out
    case input
    case complement
    /// A Test's branch taken when no condition holds.
    case fallback
    /// A Combine's two inputs.
    case primary, secondary
    /// A Split's subsets, from 1.
    case subset(Int)
    /// A Fork's or a Test's branches, from 1.
    case branch(Int)
    /// An And-join's inputs, from 1.
    case joined(Int)
    case unknown(String)

    public init(name: String) {
        func numbered(_ prefix: String) -> Int? {
            guard name.hasPrefix(prefix), let n = Int(name.dropFirst(prefix.count)), n >= 1, "\(prefix)\(n)" == name else { return nil }
            return n
        }
        switch name {
        case "out": self = .out
        case "in": self = .input
        case "complement": self = .complement
        case "default": self = .fallback
        case "primary": self = .primary
        case "secondary": self = .secondary
        default:
            if let n = numbered("subset") {
                self = .subset(n)
            } else if let n = numbered("branch") {
                self = .branch(n)
            } else if let n = numbered("in") {
                self = .joined(n)
            } else {
                self = .unknown(name)
            }
        }
    }

    public init(stringLiteral value: String) { self.init(name: value) }

    /// The name files, the store and the canvas use: `out`, `subset3`, `in2`, `default`.
    public var name: String {
        switch self {
        case .out: "out"
        case .input: "in"
        case .complement: "complement"
        case .fallback: "default"
        case .primary: "primary"
        case .secondary: "secondary"
        case .subset(let n): "subset\(n)"
        case .branch(let n): "branch\(n)"
        case .joined(let n): "in\(n)"
        case .unknown(let name): name
        }
    }

    public var description: String { name }

    /// Complements last, the rest by name (for stable listings).
    public static func < (a: PortName, b: PortName) -> Bool {
        (a == .complement ? 1 : 0, a.name) < (b == .complement ? 1 : 0, b.name)
    }
}

/// Whether consent, frequency caps and quiet hours apply to a message.
public enum MessageCategory: String, Sendable, Equatable, CaseIterable {
    case marketing, transactional
}

/// Whether a channel node sends one message per profile, one per row of its population, or one
/// per related row of each profile through a one-to-many link (``RelatedMessages``).
public enum MessageGranularity: String, Sendable, Equatable, CaseIterable {
    case profile, entity, related
}

/// The rows a profile gets one message each for: those of a one-to-many link that match a rule
/// ("one e-mail per confirmed upcoming booking of each profile").
public struct RelatedMessages: Sendable, Equatable {
    /// A one-to-many link of the population's entity (the profile), e.g. `bookings`.
    public var link: String
    /// Which related rows, over the link's target (``Rule/all`` for every one).
    public var rule: Rule

    public init(link: String, rule: Rule = .all) {
        self.link = link
        self.rule = rule
    }
}

/// A split subset's size limit.
public enum SubsetLimit: Sendable, Equatable {
    case count(Int)
    /// Percentage of the split's inbound population, rounded down.
    case percent(Double)
}

/// Which rows a limited subset keeps: a seeded random sample, or the first by an attribute.
public enum SubsetOrder: Sendable, Equatable {
    /// The split's seed decides (the default).
    case random
    /// The highest values of the attribute first (empty values last).
    case highest(String)
    /// The lowest values first (empty values last).
    case lowest(String)

    public var attribute: String? {
        switch self {
        case .random: nil
        case .highest(let a), .lowest(let a): a
        }
    }
}

/// One ordered subset of a Split node.
public struct SplitSubset: Sendable, Equatable {
    public var label: String
    public var rule: Rule?
    public var limit: SubsetLimit?
    /// Which rows a limit keeps.
    public var order: SubsetOrder

    public init(label: String, rule: Rule? = nil, limit: SubsetLimit? = nil, order: SubsetOrder = .random) {
        self.label = label
        self.rule = rule
        self.limit = limit
        self.order = order
    }
}

/// A marketing frequency rule: at most `maxMessages` on this channel in `days` days.
public struct FrequencyCap: Sendable, Equatable {
    public var maxMessages: Int
    public var days: Int

    public init(maxMessages: Int, days: Int) {
        self.maxMessages = maxMessages
        self.days = days
    }
}

/// Content and delivery settings shared by the four channel nodes.
public struct ChannelSettings: Sendable, Equatable {
    public var category: MessageCategory
    public var messagePer: MessageGranularity
    /// Template fields by name (`subject`, `text`, `html`, `from`, `title`, `body`, …).
    public var content: [(String, String)]
    public var frequencyCap: FrequencyCap?
    /// What a template field shows when its value is empty, by tag (`profile.first_name` →
    /// `traveller`); a tag with no value and no default is reported, never sent blank.
    public var defaults: [(String, String)]
    /// The hours and weekdays marketing messages are delivered in, in each recipient's zone;
    /// a message reached outside it is deferred to the window's next opening.
    public var sendWindow: SendWindow?
    /// The most messages per second (or minute, or hour) this node hands to its provider.
    public var throttle: DeliveryRate?
    /// With `messagePer` `related`: the rows each profile gets one message for.
    public var related: RelatedMessages?

    public init(
        category: MessageCategory = .marketing, messagePer: MessageGranularity = .profile,
        content: [(String, String)] = [], frequencyCap: FrequencyCap? = nil, defaults: [(String, String)] = [],
        sendWindow: SendWindow? = nil, throttle: DeliveryRate? = nil
    ) {
        self.category = category
        self.messagePer = messagePer
        self.content = content
        self.frequencyCap = frequencyCap
        self.defaults = defaults
        self.sendWindow = sendWindow
        self.throttle = throttle
    }

    public func field(_ name: String) -> String? { content.first { $0.0 == name }?.1 }

    public static func == (a: ChannelSettings, b: ChannelSettings) -> Bool {
        a.category == b.category && a.messagePer == b.messagePer && a.frequencyCap == b.frequencyCap
            && a.sendWindow == b.sendWindow && a.throttle == b.throttle && a.related == b.related
            && a.content.map(\.0) == b.content.map(\.0) && a.content.map(\.1) == b.content.map(\.1)
            && a.defaults.map(\.0) == b.defaults.map(\.0) && a.defaults.map(\.1) == b.defaults.map(\.1)
    }
}

/// The delivery channels.
public enum Channel: String, Sendable, CaseIterable {
    case email, sms, push, directMail

    /// Template fields the channel knows; the first group are required.
    public var requiredFields: [String] {
        switch self {
        case .email: ["subject", "text"]
        case .sms: ["text"]
        case .push: ["title", "body"]
        case .directMail: ["columns"]
        }
    }

    public var optionalFields: [String] {
        switch self {
        case .email: ["html", "from", "replyTo"]
        case .sms: []
        case .push: ["data"]
        case .directMail: []
        }
    }
}

/// What a node does, with its typed configuration.
public enum NodeConfig: Sendable, Equatable {
    /// Targets the rows of `entity` that match `rule`.
    case buildAudience(entity: String, rule: Rule, emitWhenEmpty: Bool)
    /// Reads a saved audience: re-evaluated if it is live, its stored keys if it is a snapshot.
    case readAudience(audience: String, emitWhenEmpty: Bool)
    /// Moves the population along a link (bookings → their profiles, profiles → their bookings);
    /// rows with no related row go to `complement`.
    case changeDimension(link: String)
    /// Ordered subsets with optional rule and limit, sampled in a seeded random order.
    case split(seed: Int64, subsets: [SplitSubset], overlap: Bool, skipEmpty: Bool)
    /// Adds typed columns to each row of the population: attributes through N-1/1-1 links,
    /// aggregates over one-to-many links, and the first rows of a one-to-many link.
    case enrich(fields: [EnrichmentField])
    /// Holds the population for a duration (`3d`, `12h`, `90m`).
    case wait(duration: String)
    /// Holds the population until a date-time, or the next occurrence of a time of day, in the
    /// campaign's time zone.
    case waitUntil(WaitTarget)
    /// Delivers on a channel.
    case message(Channel, ChannelSettings)
    /// Combines two populations of one entity: union, intersection, or the primary set minus
    /// the secondary; `complement` holds the primary rows left out.
    case combine(CombineOperation)
    /// Saves the inbound population as a snapshot audience, replacing its members or adding to
    /// them, and passes it on.
    case saveAudience(audience: String, append: Bool)
    /// Keeps `keep` rows per value of the `by` attributes, chosen by `prefer`; the others go to
    /// `complement`. Rows whose `by` values are all empty are each their own group.
    case deduplicate(by: [String], keep: Int, prefer: DedupPreference)
    /// Sends the whole inbound population down the first branch whose condition holds (on the
    /// inbound count and the campaign's variables), or to `default`.
    case test(branches: [TestBranch])
    /// Sends the whole inbound population down `branches` parallel branches.
    case fork(branches: Int)
    /// Waits for its `inputs` branches and continues with their union.
    case andJoin(inputs: Int)
    /// Ends the branch.
    case end
    /// Ends the branch and starts another campaign (by name) with its own audience.
    case endAndStart(campaign: String)

    public var kind: NodeKind {
        switch self {
        case .buildAudience: .buildAudience
        case .readAudience: .readAudience
        case .changeDimension: .changeDimension
        case .split: .split
        case .wait, .waitUntil: .wait
        case .message(let c, _):
            switch c {
            case .email: .email
            case .sms: .sms
            case .push: .push
            case .directMail: .directMail
            }
        case .combine: .combine
        case .saveAudience: .saveAudience
        case .test: .test
        case .deduplicate: .deduplicate
        case .enrich: .enrichment
        case .fork: .fork
        case .andJoin: .andJoin
        case .end, .endAndStart: .end
        }
    }
}

/// Where a Wait node's wait ends.
public enum WaitTarget: Sendable, Equatable {
    /// A date-time as written (`2027-03-28T09:00`, or with an offset), read in the campaign's zone.
    case dateTime(String)
    /// The next time the campaign's zone shows this wall-clock time.
    case timeOfDay(LocalTime)
}

/// Which rows of a group a Deduplication node keeps.
public enum DedupPreference: Sendable, Equatable {
    /// A seeded random choice: the same seed keeps the same rows.
    case random(seed: Int64)
    /// The highest value of an attribute (empty values last).
    case highest(String)
    /// The lowest value of an attribute (empty values last).
    case lowest(String)
    /// Rows where the attribute is not empty first.
    case nonEmpty(String)
    /// Rows whose attribute has the earliest value in `order`, then any other value.
    case preferred(String, order: [Literal])

    /// The attribute the preference reads, if any.
    public var attribute: String? {
        switch self {
        case .random: nil
        case .highest(let a), .lowest(let a), .nonEmpty(let a), .preferred(let a, _): a
        }
    }
}

/// How a Combine node merges its primary and secondary populations.
public enum CombineOperation: String, Sendable, Equatable, CaseIterable {
    /// Rows in either set; the complement is empty.
    case union
    /// Primary rows also in the secondary set; the complement holds the other primary rows.
    case intersection
    /// Primary rows not in the secondary set; the complement holds the excluded ones.
    case exclusion
}

/// The node kinds this version of Herald can store, validate and run.
public enum NodeKind: String, Sendable, CaseIterable {
    case buildAudience, readAudience, changeDimension, split, combine, deduplicate, enrichment, saveAudience, test, fork, andJoin, wait,
        email,
        sms, push, directMail, end

    /// Human name for canvases and lists.
    public var title: String {
        switch self {
        case .buildAudience: "Build audience"
        case .readAudience: "Read audience"
        case .changeDimension: "Change dimension"
        case .split: "Split"
        case .combine: "Combine"
        case .saveAudience: "Save audience"
        case .test: "Test"
        case .deduplicate: "Deduplication"
        case .enrichment: "Enrichment"
        case .fork: "Fork"
        case .andJoin: "And-join"
        case .wait: "Wait"
        case .email: "Email"
        case .sms: "SMS"
        case .push: "Push"
        case .directMail: "Direct mail"
        case .end: "End"
        }
    }

    public var isChannel: Bool { [.email, .sms, .push, .directMail].contains(self) }
}

/// One node of a campaign graph.
public struct Node: Sendable, Equatable {
    public var id: NodeID
    public var label: String
    public var note: String?
    public var config: NodeConfig

    public init(id: NodeID, label: String, note: String? = nil, config: NodeConfig) {
        self.id = id
        self.label = label
        self.note = note
        self.config = config
    }

    public var kind: NodeKind { config.kind }

    /// Output ports in display order.
    public var outputPorts: [PortName] { definition.outputPorts }

    /// The valid number of branches of a Fork and of inputs of an And-join.
    public static let branchRange = 2...16

    /// Input ports; the first is the one whose population the node works on (and whose
    /// absence skips it). Every input port takes exactly one transition.
    public var inputPorts: [PortName] { definition.inputPorts }

    /// How the port is labelled on the canvas (`A (50%)`, `complement`).
    public func portLabel(_ port: PortName) -> String {
        switch (config, port) {
        case (.split(_, let subsets, _, _), .subset(let n)) where n <= subsets.count: subsets[n - 1].label
        case (.test(let branches), .branch(let n)) where n <= branches.count: branches[n - 1].label
        default: port.name
        }
    }

    /// Whether this node may start a branch with no inbound transition.
    public var startsBranch: Bool { definition.startsBranch }
}

/// A transition from one node's output port to another node's input port.
public struct Edge: Sendable, Equatable, Hashable {
    public var from: NodeID
    /// The output port it leaves from.
    public var port: PortName
    public var to: NodeID
    /// The input port it arrives at (`in`, or `primary`/`secondary` on a Combine node).
    public var toPort: PortName

    public init(from: NodeID, port: PortName = .out, to: NodeID, toPort: PortName = .input) {
        self.from = from
        self.port = port
        self.to = to
        self.toPort = toPort
    }

    public var source: PortRef { PortRef(node: from, port: port) }
}

/// A campaign: a directed acyclic graph of nodes plus its settings.
public struct Campaign: Sendable, Equatable {
    public var name: String
    public var description: String
    /// IANA time zone for waits and schedules.
    public var timeZone: String
    public var variables: [(String, Literal)]
    public var nodes: [Node]
    public var edges: [Edge]

    public init(
        name: String, description: String = "", timeZone: String = "UTC", variables: [(String, Literal)] = [],
        nodes: [Node] = [], edges: [Edge] = []
    ) {
        self.name = name
        self.description = description
        self.timeZone = timeZone
        self.variables = variables
        self.nodes = nodes
        self.edges = edges
    }

    public static func == (a: Campaign, b: Campaign) -> Bool {
        a.name == b.name && a.description == b.description && a.timeZone == b.timeZone
            && a.variables.map(\.0) == b.variables.map(\.0) && a.variables.map(\.1) == b.variables.map(\.1)
            && a.nodes == b.nodes && a.edges == b.edges
    }

    public func node(_ id: NodeID) -> Node? { nodes.first { $0.id == id } }

    public var variableBindings: [String: Literal] {
        Dictionary(variables, uniquingKeysWith: { first, _ in first })
    }

    public func inbound(_ id: NodeID) -> [Edge] { edges.filter { $0.to == id } }
    public func outbound(_ id: NodeID) -> [Edge] { edges.filter { $0.from == id } }

    /// Nodes in an order where every node follows its predecessors (Kahn's algorithm, ties by
    /// declaration order), or nil when the graph has a cycle.
    /// - Complexity: O(*n* + *e*).
    public func topologicalOrder() -> [NodeID]? {
        // A repeated id is a validation problem, not a second node: each id is ordered once.
        var known = Set<NodeID>()
        let ids = nodes.map(\.id).filter { known.insert($0).inserted }
        var indegree = Dictionary(ids.map { ($0, 0) }, uniquingKeysWith: { a, _ in a })
        var successors: [NodeID: [NodeID]] = [:]
        for e in edges where known.contains(e.from) && known.contains(e.to) {
            indegree[e.to, default: 0] += 1
            successors[e.from, default: []].append(e.to)
        }
        var ready = ids.filter { indegree[$0] == 0 }
        var order: [NodeID] = []
        while !ready.isEmpty {
            let next = ready.removeFirst()
            order.append(next)
            for s in successors[next] ?? [] {
                indegree[s, default: 0] -= 1
                if indegree[s] == 0 { ready.append(s) }
            }
        }
        return order.count == ids.count ? order : nil
    }

    /// The entity of the population arriving at each node: a Build audience's entity, a Read
    /// audience's saved audience's, a Change dimension's link target on its `out` port, and
    /// otherwise the upstream node's. A node whose upstream is unknown (an unknown entity, link
    /// or audience, or a cycle) has none.
    /// - Parameter audiences: saved audiences by name with their entity.
    public func inboundEntities(catalog: Catalog, audiences: [String: String]) -> [NodeID: String] {
        entities(catalog: catalog, audiences: audiences).inbound
    }

    /// The entity arriving at each input port (`PortRef` of the receiving node and its input
    /// port), for nodes with several inputs.
    public func inputEntities(catalog: Catalog, audiences: [String: String]) -> [PortRef: String] {
        entities(catalog: catalog, audiences: audiences).inputs
    }

    /// The entity of the population leaving `port` (what a node added after it receives).
    public func entity(leaving port: PortRef, catalog: Catalog, audiences: [String: String]) -> String? {
        let found = entities(catalog: catalog, audiences: audiences)
        return found.outbound[port] ?? found.nodes[port.node]
    }

    func entities(
        catalog: Catalog, audiences: [String: String]
    ) -> (
        inbound: [NodeID: String], inputs: [PortRef: String], nodes: [NodeID: String], outbound: [PortRef: String]
    ) {
        var nodeEntity: [NodeID: String] = [:]
        var portEntity: [PortRef: String] = [:]
        var inbound: [NodeID: String] = [:]
        var inputs: [PortRef: String] = [:]
        let byID = Dictionary(nodes.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        for id in topologicalOrder() ?? nodes.map(\.id) {
            guard let node = byID[id] else { continue }
            for edge in self.inbound(id) {
                if let entity = portEntity[edge.source] ?? nodeEntity[edge.from] { inputs[PortRef(node: id, port: edge.toPort)] = entity }
            }
            // The population a node works on arrives at its first input port.
            let main = self.inbound(id).first { $0.toPort == node.inputPorts.first } ?? self.inbound(id).first
            let upstream = main.flatMap { portEntity[$0.source] ?? nodeEntity[$0.from] }
            inbound[id] = upstream
            let leaving = node.definition.leaving(upstream: upstream, catalog: catalog, audiences: audiences)
            nodeEntity[id] = leaving.node
            for (port, entity) in leaving.ports { portEntity[PortRef(node: id, port: port)] = entity }
        }
        return (inbound, inputs, nodeEntity, portEntity)
    }
}

/// One output port of one node.
public struct PortRef: Hashable, Sendable {
    public var node: NodeID
    public var port: PortName

    public init(node: NodeID, port: PortName) {
        self.node = node
        self.port = port
    }
}
