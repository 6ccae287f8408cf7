import GRDB
import HeraldCore
import HeraldStore

/// Wait: in a dry run the population passes straight through.
struct WaitNode: NodeExecution {
    /// How long, in words: `3d`, `until 2027-03-28T09:00`.
    var what: String

    func execute(_ context: NodeContext) throws -> NodeOutcome {
        guard var outcome = try context.passThrough(to: ["out"]) else { return NodeOutcome() }
        outcome.detail = "would wait \(what); a dry run passes straight through"
        return outcome
    }
}

/// Email, SMS, push, direct mail: in a dry run, the messages that would be prepared.
struct MessageNode: NodeExecution {
    var channel: Channel
    var settings: ChannelSettings

    func execute(_ context: NodeContext) throws -> NodeOutcome {
        guard var outcome = try context.passThrough(to: ["out"]) else { return NodeOutcome() }
        let n = outcome.inputCount ?? 0
        let unit = settings.messagePer == .entity ? "messages (one per \(context.entity ?? "row"))" : "messages"
        outcome.detail = "\(Names.groupedCount(n)) \(channel.rawValue) \(unit) would be prepared; nothing is sent in a dry run"
        return outcome
    }
}

/// Save audience: in a dry run, counts what would be saved and passes the population on.
struct SaveAudienceNode: NodeExecution {
    var name: String
    var append: Bool

    func execute(_ context: NodeContext) throws -> NodeOutcome {
        guard var outcome = try context.passThrough(to: ["out"]) else { return NodeOutcome() }
        let n = outcome.inputCount ?? 0
        outcome.detail =
            "would \(append ? "add" : "save") \(Names.counted(n, entity: context.entity ?? "row")) \(append ? "to" : "as") the audience '\(name)'; a dry run saves nothing"
        return outcome
    }
}

/// Fork: the whole population down each branch.
struct ForkNode: NodeExecution {
    var node: Node

    func execute(_ context: NodeContext) throws -> NodeOutcome {
        guard var outcome = try context.passThrough(to: node.outputPorts) else { return NodeOutcome() }
        let n = outcome.inputCount ?? 0
        outcome.detail = "\(Names.counted(n, entity: context.entity ?? "row")) down each of \(node.outputPorts.count) branches"
        return outcome
    }
}

/// End: counts what arrives; with `starts`, says which campaign a live run would start.
struct EndNode: NodeExecution {
    var starts: String?

    func execute(_ context: NodeContext) throws -> NodeOutcome {
        var outcome = NodeOutcome()
        if let input = context.input { outcome.inputCount = try context.count(input) }
        if let starts { outcome.detail = "would start the campaign '\(starts)'; a dry run starts nothing" }
        return outcome
    }
}
