import Foundation
import GRDB
import HeraldCore
import HeraldEngine
import HeraldStore
import Testing

/// The scheduler with an injected clock.
@Suite struct SchedulerTests {
    let paris = TimeZone(identifier: "Europe/Paris")!

    func at(_ local: String, _ zone: TimeZone) throws -> Date {
        let seconds = try #require(TemporalText.utcSeconds(canonical: try TemporalText.instant(local, zone: zone).text))
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }

    /// Sets a schedule as if it had been set at `setAt`.
    func schedule(_ store: Store, _ campaign: String, _ text: String, zone: String = "Europe/Paris", setAt: String) throws {
        _ = try store.setSchedule(.typed(campaign), CampaignSchedule(schedule: try Schedule(parsing: text), timeZone: zone))
        try store.write { db in try db.execute(sql: "UPDATE herald_schedules SET updated_at = ?", arguments: [setAt]) }
    }

    func launches(_ store: Store) throws -> [String] {
        try store.read { db in try String.fetchAll(db, sql: "SELECT occurrence FROM herald_schedule_launches ORDER BY occurrence") }
    }

    func launched(_ actions: [Scheduler.Action]) -> [Int] {
        actions.compactMap { if case .launched(_, let occurrence, _) = $0 { occurrence } else { nil } }
    }

    /// Nothing before the first occurrence; one launch when it is due; none again for the same
    /// occurrence; after three days down, one launch (the latest missed), not three.
    @Test func launchesEachOccurrenceOnceAndOnlyTheLatestAfterDowntime() throws {
        let store = try Scratch.demoCopy()
        try schedule(store, "Win-back", "daily at 09:00", setAt: "2027-06-01T00:00:00Z")
        let scheduler = Scheduler(store: store, dryRun: true)
        #expect(try scheduler.tick(now: try at("2027-06-01T08:59:00", paris)).isEmpty)
        let first = try scheduler.tick(now: try at("2027-06-01T09:00:30", paris))
        #expect(launched(first) == [Int(try at("2027-06-01T09:00:00", paris).timeIntervalSince1970)])
        if case .launched(_, _, let run) = first.first { #expect(run.summary.state == .completed) }
        #expect(try scheduler.tick(now: try at("2027-06-01T12:00:00", paris)).isEmpty)
        let afterDowntime = try scheduler.tick(now: try at("2027-06-04T10:00:00", paris))
        #expect(launched(afterDowntime) == [Int(try at("2027-06-04T09:00:00", paris).timeIntervalSince1970)])
        #expect(try launches(store) == ["2027-06-01T07:00:00Z", "2027-06-04T07:00:00Z"])
        #expect(try store.listRuns().count == 2)
    }

    /// Occurrences from before the schedule was set are not launched.
    @Test func aNewScheduleDoesNotLaunchThePast() throws {
        let store = try Scratch.demoCopy()
        try schedule(store, "Win-back", "daily at 09:00", setAt: "2027-06-01T10:00:00Z")
        let scheduler = Scheduler(store: store, dryRun: true)
        #expect(try scheduler.tick(now: try at("2027-06-01T13:00:00", paris)).isEmpty)
        #expect(launched(try scheduler.tick(now: try at("2027-06-02T09:01:00", paris))).count == 1)
    }

    /// Two schedulers on one store at the same instant: one launch between them.
    @Test func competingSchedulersLaunchAnOccurrenceOnce() async throws {
        let store = try Scratch.demoCopy()
        try schedule(store, "Win-back", "every 15 minutes from 09:00 to 17:00 on mon-fri", setAt: "2027-06-01T00:00:00Z")
        let path = store.path
        let now = try at("2027-06-01T09:20:00", paris)  // a Tuesday: 09:15 is due
        let total = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<2 {
                group.addTask {
                    let own = try Store.open(path: path)
                    return try Scheduler(store: own, dryRun: true).tick(now: now).filter {
                        if case .launched = $0 { true } else { false }
                    }.count
                }
            }
            var sum = 0
            for try await n in group { sum += n }
            return sum
        }
        #expect(total == 1)
        #expect(try launches(store) == ["2027-06-01T07:15:00Z"])
    }

    /// Daylight saving: 02:30 on the spring-forward day launches at 03:30+02:00; on the
    /// fall-back day once, at the first 02:30.
    @Test func daylightSavingDaysLaunchOnce() throws {
        let store = try Scratch.demoCopy()
        try schedule(store, "Win-back", "daily at 02:30", setAt: "2027-03-27T12:00:00Z")
        let scheduler = Scheduler(store: store, dryRun: true)
        #expect(try scheduler.tick(now: try at("2027-03-28T03:29:00+02:00", paris)).isEmpty)
        #expect(launched(try scheduler.tick(now: try at("2027-03-28T03:31:00+02:00", paris))).count == 1)
        try schedule(store, "Win-back", "daily at 02:30", setAt: "2027-10-30T12:00:00Z")
        #expect(launched(try scheduler.tick(now: try at("2027-10-31T02:31:00+02:00", paris))).count == 1)
        // An hour later the wall clock shows 02:30 again (+01:00): no second launch.
        #expect(try scheduler.tick(now: try at("2027-10-31T02:31:00+01:00", paris)).isEmpty)
        #expect(try launches(store).suffix(2) == ["2027-03-28T01:30:00Z", "2027-10-31T00:30:00Z"])
    }

    /// The validity period, archived campaigns, and cron expressions in New York.
    @Test func validityArchivesAndCron() throws {
        let store = try Scratch.demoCopy()
        let newYork = TimeZone(identifier: "America/New_York")!
        _ = try store.setSchedule(
            "Win-back",
            CampaignSchedule(
                schedule: try Schedule(parsing: "0 9 * * 1-5"), timeZone: "America/New_York",
                validUntil: Int(try at("2027-06-02T00:00:00", newYork).timeIntervalSince1970)), now: try at("2027-05-01T00:00:00", newYork))
        try store.write { db in try db.execute(sql: "UPDATE herald_schedules SET updated_at = '2027-05-01T00:00:00Z'") }
        let scheduler = Scheduler(store: store, dryRun: true)
        #expect(launched(try scheduler.tick(now: try at("2027-06-01T09:05:00", newYork))).count == 1)
        #expect(try scheduler.tick(now: try at("2027-06-02T09:05:00", newYork)).isEmpty)  // past the period
        _ = try store.setSchedule("Welcome series", CampaignSchedule(schedule: try Schedule(parsing: "daily at 09:00"), timeZone: "UTC"))
        try store.write { db in try db.execute(sql: "UPDATE herald_schedules SET updated_at = '2027-05-01T00:00:00Z'") }
        _ = try store.setArchived("Welcome series", archived: true)
        #expect(try scheduler.tick(now: try at("2027-06-03T09:05:00", newYork)).isEmpty)
    }

    /// A run whose executor died is resumed by the next tick; a live one's is left alone.
    @Test func resumesAbandonedRuns() throws {
        let store = try Scratch.demoCopy()
        let stored = try store.loadCampaign("Win-back")
        let live = try store.write { db in try RunRepository.createRun(db, campaign: stored, dryRun: true, leaseOwner: RunLease.newOwner())
        }
        let abandoned = try store.write { db in try RunRepository.createRun(db, campaign: stored, dryRun: true) }
        let scheduler = Scheduler(store: store, dryRun: true)
        let actions = try scheduler.tick(now: Date())
        let resumed = actions.compactMap { if case .resumed(let run) = $0 { run.summary.id } else { nil } }
        #expect(resumed == [abandoned])
        #expect(try store.runDetail(abandoned).summary.state == .completed)
        #expect(try store.runDetail(live).summary.state == .running)
        // Once its lease has expired, the other is resumed too.
        #expect(try scheduler.orphanedRuns(now: Date().addingTimeInterval(RunLease.lifetime + 5)) == [live])
    }

    /// Every example campaign of the demo runs under the scheduler.
    @Test func everyExampleCampaignRunsUnderTheScheduler() throws {
        let store = try Scratch.demoCopy()
        let names = try store.listCampaigns().map(\.name)
        #expect(names.count == 5)
        for name in names { try schedule(store, name, "daily at 06:00", zone: "UTC", setAt: "2027-06-01T00:00:00Z") }
        let actions = try Scheduler(store: store, dryRun: true).tick(now: try at("2027-06-01T06:00:05Z", paris))
        let runs = actions.compactMap { if case .launched(let campaign, _, let run) = $0 { (campaign, run.summary.state) } else { nil } }
        #expect(Set(runs.map(\.0)) == Set(names))
        #expect(runs.allSatisfy { $0.1 == .completed })
    }

    /// Live, every example runs too: each completes and delivers, except the ones that wait (the
    /// sale until nine, the welcome series three days after its e-mail), which later ticks continue.
    @Test func everyExampleCampaignRunsLiveUnderTheScheduler() throws {
        let store = try Scratch.demoCopy()
        let names = try store.listCampaigns().map(\.name)
        for name in names { try schedule(store, name, "daily at 06:00", zone: "UTC", setAt: "2027-06-01T00:00:00Z") }
        let scheduler = Scheduler(store: store, dryRun: false)
        let actions = try scheduler.tick(now: try at("2027-06-01T06:00:05Z", paris))
        let runs = Dictionary(
            uniqueKeysWithValues: actions.compactMap { if case .launched(let campaign, _, let run) = $0 { (campaign, run) } else { nil } })
        #expect(Set(runs.keys) == Set(names))
        let waiting: Set<String> = ["Summer sale", "Welcome series"]
        for (name, run) in runs {
            #expect(run.summary.state == (waiting.contains(name) ? .waiting : .completed), "\(name)")
        }
        // Every run that reached a channel node delivered: nothing is left queued or claimed.
        #expect(try count(store, "SELECT count(*) FROM herald_messages WHERE status IN ('queued', 'claimed')") == 0)
        #expect(try count(store, "SELECT count(*) FROM herald_messages WHERE run_id IS NOT NULL AND status = 'sent'") > 0)
        let later = try scheduler.tick(now: try at("2027-06-01T09:00:01", paris))
        let resumed = later.compactMap { if case .resumed(let run) = $0 { run } else { nil } }
        #expect(resumed.first { $0.summary.campaignName == "Summer sale" }?.summary.state == .completed)
        let welcome = try scheduler.tick(now: try at("2027-06-04T08:00:06", paris))
        let done = welcome.compactMap { if case .resumed(let run) = $0 { run } else { nil } }
        #expect(done.first { $0.summary.campaignName == "Welcome series" }?.summary.state == .completed)
    }
}
