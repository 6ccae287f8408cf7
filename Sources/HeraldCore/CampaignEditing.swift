/// Why an edit of a campaign graph was refused; the graph is left as it was.
public struct EditRefusal: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The edits a designer makes to a campaign graph. Each one either applies whole or throws an
/// ``EditRefusal`` and changes nothing; none of them checks configurations (validation does).
extension Campaign {
    /// A node id not used in the campaign, from `base` (`email`, then `email2`, `email3`…).
    public func freshID(_ base: String) -> NodeID {
        let stem = base.isEmpty ? "node" : base
        let taken = Set(nodes.map(\.id.name))
        if !taken.contains(stem) { return NodeID(stem) }
        var n = 2
        while taken.contains("\(stem)\(n)") { n += 1 }
        return NodeID("\(stem)\(n)")
    }

    /// The edge leaving `source`, if the port is connected.
    public func edge(from source: PortRef) -> Edge? { edges.first { $0.source == source } }

    /// Adds `node`. With `after`, the node is connected to that output port; if the port led
    /// somewhere already, the node goes in between (its `out` port takes over the transition).
    public mutating func add(_ node: Node, after source: PortRef?) throws(EditRefusal) {
        guard self.node(node.id) == nil else { throw EditRefusal("a node with id '\(node.id)' exists already") }
        guard let source else {
            nodes.append(node)
            return
        }
        guard let from = self.node(source.node) else { throw EditRefusal("there is no node '\(source.node)'") }
        guard from.outputPorts.contains(source.port) else {
            throw EditRefusal("'\(from.label)' has no output port '\(source.port)'")
        }
        guard let input = node.inputPorts.first else {
            throw EditRefusal("\(Names.withArticle(node.kind.title)) node starts a branch; it cannot follow another node")
        }
        var next = self
        next.nodes.append(node)
        if let existing = edge(from: source) {
            guard node.outputPorts.contains(.out) else {
                throw EditRefusal(
                    "\(Names.withArticle(node.kind.title)) node has no 'out' port to carry on to '\(existing.to)'; pick a free port")
            }
            next.edges.removeAll { $0 == existing }
            next.edges.append(Edge(from: source.node, port: source.port, to: node.id, toPort: input))
            next.edges.append(Edge(from: node.id, port: .out, to: existing.to, toPort: existing.toPort))
        } else {
            next.edges.append(Edge(from: source.node, port: source.port, to: node.id, toPort: input))
        }
        self = next
    }

    /// Removes a node and its transitions. A node with one inbound transition and one outbound
    /// one is bridged: its predecessor's port leads on to its successor, as before it was added.
    public mutating func delete(_ id: NodeID) throws(EditRefusal) {
        guard node(id) != nil else { throw EditRefusal("there is no node '\(id)'") }
        let inbound = self.inbound(id)
        let outbound = self.outbound(id)
        nodes.removeAll { $0.id == id }
        edges.removeAll { $0.from == id || $0.to == id }
        if inbound.count == 1, outbound.count == 1, let before = inbound.first, let after = outbound.first,
            let successor = node(after.to), successor.inputPorts.contains(after.toPort)
        {
            edges.append(Edge(from: before.from, port: before.port, to: after.to, toPort: after.toPort))
        }
    }

    /// Connects an output port to an input port, replacing whatever either was connected to.
    /// Refused when it would connect a node to itself or make the graph loop back.
    public mutating func connect(_ source: PortRef, to target: NodeID, port toPort: PortName) throws(EditRefusal) {
        guard let from = node(source.node) else { throw EditRefusal("there is no node '\(source.node)'") }
        guard let to = node(target) else { throw EditRefusal("there is no node '\(target)'") }
        guard from.outputPorts.contains(source.port) else { throw EditRefusal("'\(from.label)' has no output port '\(source.port)'") }
        guard !to.inputPorts.isEmpty else {
            throw EditRefusal("a \(to.kind.title) node starts a branch; nothing can lead to it")
        }
        guard to.inputPorts.contains(toPort) else {
            throw EditRefusal(
                "'\(to.label)' has no input port '\(toPort)'; its inputs are \(to.inputPorts.map(\.name).joined(separator: ", "))")
        }
        guard source.node != target else { throw EditRefusal("a node cannot lead to itself") }
        var next = self
        next.edges.removeAll { $0.source == source || ($0.to == target && $0.toPort == toPort) }
        next.edges.append(Edge(from: source.node, port: source.port, to: target, toPort: toPort))
        guard next.topologicalOrder() != nil else {
            throw EditRefusal("'\(to.label)' comes before '\(from.label)'; connecting them would make the campaign loop")
        }
        self = next
    }

    /// Removes the transition leaving `source`.
    public mutating func disconnect(_ source: PortRef) throws(EditRefusal) {
        guard edge(from: source) != nil else { throw EditRefusal("port '\(source.port)' of '\(source.node)' is not connected") }
        edges.removeAll { $0.source == source }
    }

    /// Replaces a node's label, note and configuration; its id and transitions stay. A new
    /// kind of node keeps only the transitions its ports still have.
    public mutating func replace(_ id: NodeID, with node: Node) throws(EditRefusal) {
        guard let index = nodes.firstIndex(where: { $0.id == id }) else { throw EditRefusal("there is no node '\(id)'") }
        guard node.id == id else { throw EditRefusal("a node's id cannot change here (from '\(id)' to '\(node.id)')") }
        nodes[index] = node
        edges.removeAll {
            ($0.from == id && !node.outputPorts.contains($0.port)) || ($0.to == id && !node.inputPorts.contains($0.toPort))
        }
    }

    /// Copies `ids` with fresh ids, and the transitions among them; returns old id → copy's id.
    public mutating func duplicate(_ ids: [NodeID]) throws(EditRefusal) -> [NodeID: NodeID] {
        var copies: [NodeID: NodeID] = [:]
        var next = self
        for id in ids {
            guard let original = node(id) else { throw EditRefusal("there is no node '\(id)'") }
            guard copies[id] == nil else { continue }
            var copy = original
            copy.id = next.freshID(Names.slug(original.id.name))
            copy.label = original.label + " (copy)"
            next.nodes.append(copy)
            copies[id] = copy.id
        }
        for edge in edges {
            if let from = copies[edge.from], let to = copies[edge.to] {
                next.edges.append(Edge(from: from, port: edge.port, to: to, toPort: edge.toPort))
            }
        }
        self = next
        return copies
    }
}
