public import Foundation
import GRDB
public import HeraldCore
public import HeraldDelivery
public import HeraldStore
import Logging

/// Launches campaigns on their schedules, starts pending runs, continues waiting runs whose wait
/// has ended, and resumes runs whose executor has gone. The clock is passed in, so one
/// `tick(now:)` can be tested at any instant.
///
/// An occurrence is launched once: the claim is a row keyed by campaign and occurrence, inserted
/// in the transaction that creates the run, so two schedulers on one store never both launch
/// it. After downtime only the latest missed occurrence is launched, not one per missed tick,
/// and never one older than the last launched or from before the schedule was set.
public struct Scheduler: Sendable {
    public let store: Store
    /// Scheduled launches run as dry runs instead of live ones.
    public var dryRun: Bool
    public var oneToManyForm: OneToManyForm? = .fromEnvironment
    /// Polled while a run executes; when it says so, the run is halted (left to resume).
    public var halt: (@Sendable () -> Bool)?

    public init(store: Store, dryRun: Bool) {
        self.store = store
        self.dryRun = dryRun
    }

    /// The providers live runs deliver through (nil: the defaults beside the store).
    public var delivery: DeliverySetup?

    /// What one tick did.
    public enum Action: Sendable, Equatable {
        case launched(campaign: String, occurrence: Int, run: RunDetail)
        case resumed(run: RunDetail)
        /// A run or launch that did not go through (another scheduler had it, or it failed).
        case skipped(campaign: String, reason: String)
    }

    /// One pass: resumes runs whose executor has gone, starts pending runs and continues those
    /// whose wait has ended, then launches every scheduled campaign whose latest occurrence at
    /// or before `now` has not been launched.
    public func tick(now: Date = Date()) throws -> [Action] {
        var actions: [Action] = []
        var executor = Executor(store: store, oneToManyForm: oneToManyForm)
        executor.halt = halt
        executor.clock = { now }
        executor.delivery = delivery
        let due = try store.read { db in try RunRepository.dueRuns(db, now: now) }
        for runID in try orphanedRuns(now: now) + due {
            if halt?() == true { return actions }
            do {
                actions.append(.resumed(run: try executor.resume(runID: runID)))
            } catch let error as HeraldError where error.code == .conflict {
                continue  // another executor took it first
            } catch let error as HeraldError where error.code != .cancelled {
                // A run that cannot go on (a failed node, a campaign no longer valid) stays
                // where it is, and the scheduler carries on with the others.
                actions.append(.skipped(campaign: "run #\(runID)", reason: error.message))
            }
        }
        for due in try dueOccurrences(now: now) {
            if halt?() == true { return actions }
            let stored: StoredCampaign
            do { stored = try store.loadCampaign(id: due.campaignID) } catch { continue }
            do {
                let detail = try executor.run(
                    stored, mode: dryRun ? .dry : .live,
                    claiming: { db, runID in
                        try Self.claim(db, campaignID: due.campaignID, occurrence: due.occurrence, runID: runID, now: now)
                    }, startedBy: "schedule")
                if let detail {
                    actions.append(.launched(campaign: stored.campaign.name, occurrence: due.occurrence, run: detail))
                }
            } catch let error as HeraldError where error.code != .cancelled {
                // One campaign's problem (it became invalid, a node failed) stops only its launch.
                store.logger.warning("scheduled launch failed", metadata: ["campaign": "\(due.campaignID)"])
                actions.append(.skipped(campaign: stored.campaign.name, reason: error.message))
            }
        }
        return actions
    }

    /// A scheduled campaign's occurrence that is due.
    public struct Due: Sendable, Equatable {
        public var campaignID: Int64
        public var occurrence: Int
    }

    /// For each scheduled, unarchived campaign: its latest occurrence at or before `now`,
    /// when it is later than the last one launched and than the moment the schedule was set.
    public func dueOccurrences(now: Date) throws -> [Due] {
        let nowSeconds = Int(now.timeIntervalSince1970.rounded(.down))
        let rows = try store.read { db -> [(Int64, CampaignSchedule?, Int?, Int?)] in
            guard try db.tableExists("herald_schedules") else { return [] }
            let archived = try db.columns(in: "herald_campaigns").contains { $0.name == "archived_at" }
            var out: [(Int64, CampaignSchedule?, Int?, Int?)] = []
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT s.campaign_id, s.updated_at,
                           (SELECT max(l.occurrence) FROM herald_schedule_launches l WHERE l.campaign_id = s.campaign_id) AS last
                    FROM herald_schedules s JOIN herald_campaigns c ON c.id = s.campaign_id
                    \(archived ? "WHERE c.archived_at IS NULL" : "") ORDER BY s.campaign_id
                    """)
            {
                let id: Int64 = row["campaign_id"]
                // A schedule that no longer reads launches nothing (and says so in the log).
                let schedule = try? Store.schedule(db, campaignID: id)
                let setAt = (row["updated_at"] as String?).flatMap(TemporalText.utcSeconds(canonical:))
                let last = (row["last"] as String?).flatMap(TemporalText.utcSeconds(canonical:))
                out.append((id, schedule, setAt, last))
            }
            return out
        }
        var due: [Due] = []
        for (id, schedule, setAt, last) in rows {
            guard let schedule, let zone = schedule.zone else {
                store.logger.warning("a schedule cannot be read; nothing is launched", metadata: ["campaign": "\(id)"])
                continue
            }
            let notBefore = max(setAt ?? nowSeconds, (last ?? Int.min) + 1, schedule.validFrom ?? Int.min)
            if let until = schedule.validUntil, until <= notBefore { continue }
            guard
                let latest = schedule.schedule.latestLaunch(
                    atOrBefore: min(nowSeconds, (schedule.validUntil ?? Int.max) - 1), notBefore: notBefore, zone: zone)
            else { continue }
            due.append(Due(campaignID: id, occurrence: latest))
        }
        return due
    }

    /// Unfinished runs no live executor holds: no lease, an expired one, or one held by a
    /// process of this machine that has exited.
    public func orphanedRuns(now: Date) throws -> [Int64] {
        try store.read { db in try RunLease.unfinished(db).filter { !$0.isLive(now: now) }.map(\.runID) }
    }

    /// Records that this occurrence is launched by `runID`; false when it already was (by
    /// another scheduler), or when a later one was.
    static func claim(_ db: Database, campaignID: Int64, occurrence: Int, runID: Int64, now: Date) throws -> Bool {
        guard let text = TemporalText.canonical(utcSeconds: occurrence) else { return false }
        if let last = try String.fetchOne(
            db, sql: "SELECT max(occurrence) FROM herald_schedule_launches WHERE campaign_id = ?", arguments: [campaignID]),
            last >= text
        {
            return false
        }
        try db.execute(
            sql: """
                INSERT INTO herald_schedule_launches (campaign_id, occurrence, run_id, launched_at) VALUES (?, ?, ?, ?)
                ON CONFLICT DO NOTHING
                """, arguments: [campaignID, text, runID, Store.timestamp(now)])
        return db.changesCount == 1
    }

    /// When the next launch or end of a wait is due after `now`, over every schedule and
    /// waiting run (for the loop's sleep).
    public func nextLaunch(after now: Date) throws -> Date? {
        let nowSeconds = Int(now.timeIntervalSince1970.rounded(.down)) + 1
        let wake = try store.read { db in try RunRepository.nextWake(db) }
        let launch = try store.schedules().values.compactMap { $0.launches(after: nowSeconds, count: 1).first?.utcSeconds }
        let next = (launch + [wake.flatMap(TemporalText.utcSeconds(canonical:))].compactMap { $0 }).min()
        return next.map { Date(timeIntervalSince1970: TimeInterval($0)) }
    }
}

extension Schedule {
    /// The latest launch in `notBefore…atOrBefore` (UTC seconds), or nil. Looks back a day
    /// first, then further, so frequent schedules do not list a year of launches.
    public func latestLaunch(atOrBefore end: Int, notBefore start: Int, zone: TimeZone) -> Int? {
        guard start <= end else { return nil }
        for window in [86_400, 40 * 86_400, 400 * 86_400, Int.max] {
            let from = window == Int.max ? start : max(start, end - window)
            let found = launches(from: from, zone: zone, count: 1_000_000, before: end + 1)
            if let last = found.last { return last.utcSeconds }
            if from == start { return nil }
        }
        return nil
    }
}
