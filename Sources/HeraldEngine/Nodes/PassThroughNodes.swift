import Foundation
import GRDB
import HeraldCore
import HeraldStore

/// Wait: a dry run passes straight through. A live run holds the population until the wait's
/// end (the node is `waiting`, its run too, and a scheduler resumes it then); a wait whose end
/// has passed lets it through.
extension WaitNode: NodeExecution {
    /// When a wait reached at `now` ends.
    func end(from now: Date, zone: TimeZone) throws -> Date {
        switch length {
        case .duration(let text):
            guard let seconds = CampaignValidator.durationSeconds(text) else {
                throw HeraldError(.validation, "'\(text)' is not a duration such as 30m, 12h, 3d or 2w")
            }
            return now.addingTimeInterval(TimeInterval(seconds))
        case .until(.dateTime(let text)):
            guard let instant = try? TemporalText.instant(text, zone: zone), let seconds = TemporalText.utcSeconds(canonical: instant.text)
            else { throw HeraldError(.validation, "'\(text)' is not a date-time such as 2027-03-28T09:00") }
            return Date(timeIntervalSince1970: TimeInterval(seconds))
        case .until(.timeOfDay(let time)):
            let start = Int(now.timeIntervalSince1970.rounded(.up))
            guard let next = Schedule.daily(at: [time]).launches(from: start, zone: zone, count: 1).first else {
                throw HeraldError(.internalFailure, "no next \(time.text) in \(zone.identifier)")
            }
            return Date(timeIntervalSince1970: TimeInterval(next.utcSeconds))
        }
    }

    func execute(_ context: NodeContext) throws -> NodeOutcome {
        guard var outcome = try context.passThrough(to: ["out"]) else { return NodeOutcome() }
        guard context.live else {
            outcome.detail = "would wait \(what); a dry run passes straight through"
            return outcome
        }
        let wake = try context.recordedWake ?? end(from: context.now, zone: context.timeZone)
        let when = TemporalText.local(utcSeconds: Int(wake.timeIntervalSince1970), zone: context.timeZone)
        if wake > context.now {
            outcome.state = .waiting
            outcome.wakeAt = wake
            outcome.tables = [:]
            outcome.counts = [:]
            outcome.detail = "\(Names.counted(outcome.inputCount ?? 0, entity: context.entity ?? "row")) waiting \(what), until \(when)"
            return outcome
        }
        outcome.detail = "waited \(what), until \(when)"
        return outcome
    }
}

/// Save audience: a dry run counts what would be saved; a live run saves the population as a
/// snapshot audience (replacing its members, or adding to them) in the node's transaction.
/// Either way the population passes on.
extension SaveAudienceNode: NodeExecution {
    var writesStore: Bool { true }

    func execute(_ context: NodeContext) throws -> NodeOutcome {
        guard var outcome = try context.passThrough(to: ["out"]), let input = context.input, let entity = context.entity else {
            return NodeOutcome()
        }
        let n = outcome.inputCount ?? 0
        guard context.live else {
            outcome.detail =
                "would \(append ? "add" : "save") \(Names.counted(n, entity: entity)) \(append ? "to" : "as") the audience '\(name)'; a dry run saves nothing"
            return outcome
        }
        var members = 0
        try context.trusted {
            members = try AudienceRepository.saveSnapshot(
                context.db, name: name, entity: entity, keysFrom: context.dialect.quote(input), append: append)
        }
        outcome.detail =
            "\(append ? "added" : "saved") \(Names.counted(n, entity: entity)) \(append ? "to" : "as") the audience '\(name)' (\(Names.counted(members, "member")))"
        outcome.logs.append(RunLogLine(code: "audience.saved", outcome.detail!, figures: ["rows": n, "members": members]))
        return outcome
    }
}

/// Fork: the whole population down each branch.
extension ForkNode: NodeExecution {
    func execute(_ context: NodeContext) throws -> NodeOutcome {
        guard var outcome = try context.passThrough(to: outputPorts) else { return NodeOutcome() }
        let n = outcome.inputCount ?? 0
        outcome.detail = "\(Names.counted(n, entity: context.entity ?? "row")) down each of \(outputPorts.count) branches"
        return outcome
    }
}

/// End: counts what arrives; with `starts`, a live run starts that campaign (as a pending run
/// a scheduler begins), a dry run says it would.
extension EndNode: NodeExecution {
    func execute(_ context: NodeContext) throws -> NodeOutcome {
        var outcome = NodeOutcome()
        if let input = context.input { outcome.inputCount = try context.count(input) }
        guard let starts else { return outcome }
        if context.live {
            outcome.starts = starts
        } else {
            outcome.detail = "would start the campaign '\(starts)'; a dry run starts nothing"
        }
        return outcome
    }
}
