import Foundation
import GRDB
import HeraldCore
import HeraldEngine
import HeraldStore
import Testing

/// Live runs: waits that hold a branch until the scheduler continues it, audiences saved,
/// campaigns started by End nodes, channel nodes that say delivery is not available, and the
/// work tables a live run keeps.
@Suite struct LiveRunTests {
    let store: Store
    let t0 = Date(timeIntervalSince1970: 1_812_000_000)  // 2027-06-03

    init() throws { store = try Scratch.demoCopy() }

    func count(_ sql: String) throws -> Int {
        try store.read { db in try Int.fetchOne(db, sql: sql) ?? -1 }
    }

    func executor(at now: Date) -> Executor {
        var executor = Executor(store: store)
        executor.clock = { now }
        return executor
    }

    /// French profiles, forked: one branch saves them at once, the other waits two days, saves
    /// them again and emails them.
    func waitingCampaign() throws -> StoredCampaign {
        var c = Campaign(name: "Wait and save")
        c.nodes = [
            Node(
                id: "fr", label: "French",
                config: .buildAudience(entity: "profiles", rule: try Rule(parsing: #"country = "FR""#), emitWhenEmpty: false)),
            Node(id: "fork", label: "Both", config: .fork(branches: 2)),
            Node(id: "now", label: "Now", config: .saveAudience(audience: "French now", append: false)),
            Node(id: "nowEnd", label: "End", config: .end),
            Node(id: "wait", label: "Two days", config: .wait(duration: "2d")),
            Node(id: "later", label: "Later", config: .saveAudience(audience: "French later", append: false)),
            Node(id: "mail", label: "Mail", config: .message(.email, ChannelSettings(content: [("subject", "Hi"), ("text", "Hello")]))),
            Node(id: "end", label: "End", config: .end),
        ]
        c.edges = [
            Edge(from: "fr", to: "fork"), Edge(from: "fork", port: "branch1", to: "now"), Edge(from: "now", to: "nowEnd"),
            Edge(from: "fork", port: "branch2", to: "wait"), Edge(from: "wait", to: "later"), Edge(from: "later", to: "mail"),
            Edge(from: "mail", to: "end"),
        ]
        return try store.saveCampaign(c, replace: false)
    }

    func state(_ detail: RunDetail, _ node: NodeID) -> RunState? { detail.nodes.first { $0.nodeID == node }?.state }

    @Test func aWaitHoldsItsBranchUntilTheSchedulerContinuesTheRun() throws {
        let stored = try waitingCampaign()
        let french = try count("SELECT count(*) FROM profiles WHERE country = 'FR'")
        let first = try executor(at: t0).run(stored, mode: .live)
        #expect(first.summary.state == .waiting)
        #expect(state(first, "now") == .completed && state(first, "nowEnd") == .completed)
        #expect(state(first, "wait") == .waiting)
        #expect(state(first, "later") == .pending && state(first, "mail") == .pending && state(first, "end") == .pending)
        #expect(first.summary.wakeAt == TemporalText.canonical(utcSeconds: Int(t0.timeIntervalSince1970) + 2 * 86_400))
        // The branch that does not wait saved its audience; the waiting one not yet.
        #expect(try count("SELECT member_count FROM herald_audiences WHERE name = 'French now'") == french)
        #expect(try count("SELECT count(*) FROM herald_audiences WHERE name = 'French later'") == 0)

        let scheduler = Scheduler(store: store, dryRun: false)
        #expect(try scheduler.tick(now: t0.addingTimeInterval(86_400)).isEmpty)  // not due yet
        #expect(try store.runDetail(first.summary.id).summary.state == .waiting)
        let actions = try scheduler.tick(now: t0.addingTimeInterval(2 * 86_400 + 1))
        guard case .resumed(let done)? = actions.first else {
            Issue.record("the waiting run was not resumed: \(actions)")
            return
        }
        #expect(done.summary.id == first.summary.id && done.summary.state == .completed)
        #expect(state(done, "wait") == .completed && state(done, "later") == .completed)
        #expect(try count("SELECT member_count FROM herald_audiences WHERE name = 'French later'") == french)
        #expect(
            try count(
                "SELECT count(*) FROM herald_audience_members m JOIN herald_audiences a ON a.id = m.audience_id WHERE a.name = 'French later'"
            ) == french)
        // The e-mail node queued one message per French profile, with the gates' verdicts, and
        // the worker delivered the eligible ones; those pass on.
        #expect(state(done, "mail") == .completed && state(done, "end") == .completed)
        let run = done.summary.id
        #expect(try count("SELECT count(*) FROM herald_messages WHERE run_id = \(run)") == french)
        let optedOut = try count(
            """
            SELECT count(*) FROM profiles p JOIN herald_consent c ON c.profile_key = p.id AND c.channel = 'email'
            WHERE p.country = 'FR' AND c.status = 'opted_out' AND p.email IS NOT NULL AND p.email <> ''
            """)
        let noAddress = try count("SELECT count(*) FROM profiles WHERE country = 'FR' AND (email IS NULL OR email = '')")
        #expect(try count("SELECT count(*) FROM herald_messages WHERE run_id = \(run) AND reason = 'opted_out'") == optedOut)
        #expect(try count("SELECT count(*) FROM herald_messages WHERE run_id = \(run) AND reason = 'no_address'") == noAddress)
        let sent = try count("SELECT count(*) FROM herald_messages WHERE run_id = \(run) AND status = 'sent'")
        #expect(sent == french - optedOut - noAddress)
        #expect(done.edges.first { $0.fromNode == "mail" }?.count == sent)
        let logs = try store.runLogs(run).map(\.line)
        let queued = try #require(logs.first { $0.code == "channel.enqueued" })
        #expect(queued.figures["messages"] == french && queued.figures["opted_out"] == optedOut)
        // A live run keeps its populations until purged; a later dry run's sweep leaves them.
        let kept = try store.workTables(runID: done.summary.id).tables
        #expect(!kept.isEmpty)
        _ = try Executor(store: store).dryRun(try store.loadCampaign("Win-back"))
        #expect(try store.workTables(runID: done.summary.id).tables == kept)
        #expect(try store.purgeRuns(startedBefore: Date().addingTimeInterval(60)).tables >= kept.count)
        #expect(try store.workTables(runID: done.summary.id).tables.isEmpty)
    }

    /// A Save audience node cannot overwrite a live audience: validation says so before a run.
    @Test func savingOverALiveAudienceIsRefused() throws {
        var c = Campaign(name: "Overwrite")
        c.nodes = [
            Node(id: "a", label: "All", config: .buildAudience(entity: "profiles", rule: .all, emitWhenEmpty: false)),
            Node(id: "s", label: "Save", config: .saveAudience(audience: "french speakers", append: false)),
        ]
        c.edges = [Edge(from: "a", to: "s")]
        let problems = CampaignValidator(checker: try store.audienceChecker()).validate(c)
        #expect(problems.contains { $0.description.contains("'french speakers' is live") }, "\(problems)")
        #expect(throws: HeraldError.self) { try executor(at: t0).run(try store.saveCampaign(c, replace: false), mode: .live) }
        #expect(try store.listRuns().isEmpty)
    }

    @Test func aWaitWhoseTimeHasPassedLetsThePopulationThrough() throws {
        var c = Campaign(name: "Past date", timeZone: "Europe/Paris")
        c.nodes = [
            Node(id: "a", label: "All", config: .buildAudience(entity: "profiles", rule: .all, emitWhenEmpty: false)),
            Node(id: "w", label: "Until", config: .waitUntil(.dateTime("2020-01-01T09:00"))),
            Node(id: "z", label: "End", config: .end),
        ]
        c.edges = [Edge(from: "a", to: "w"), Edge(from: "w", to: "z")]
        let done = try executor(at: t0).run(try store.saveCampaign(c, replace: false), mode: .live)
        #expect(done.summary.state == .completed)
        #expect(state(done, "w") == .completed && state(done, "z") == .completed)
    }

    @Test func aWaitUntilATimeOfDayEndsAtItsNextOccurrenceInTheCampaignZone() throws {
        var c = Campaign(name: "Morning", timeZone: "Europe/Paris")
        c.nodes = [
            Node(id: "a", label: "All", config: .buildAudience(entity: "profiles", rule: .all, emitWhenEmpty: false)),
            Node(id: "w", label: "At nine", config: .waitUntil(.timeOfDay(LocalTime(hour: 9, minute: 0)))),
            Node(id: "z", label: "End", config: .end),
        ]
        c.edges = [Edge(from: "a", to: "w"), Edge(from: "w", to: "z")]
        // 2027-06-03T10:00+02:00: past nine, so the next nine is tomorrow's.
        let ten = Date(timeIntervalSince1970: TimeInterval(try #require(TemporalText.utcSeconds(canonical: "2027-06-03T08:00:00Z"))))
        let run = try executor(at: ten).run(try store.saveCampaign(c, replace: false), mode: .live)
        #expect(run.summary.state == .waiting)
        #expect(run.summary.wakeAt == "2027-06-04T07:00:00Z")
    }

    @Test func anEndNodeStartsItsCampaignAsAPendingRunTheSchedulerBegins() throws {
        var c = Campaign(name: "Hand over")
        c.nodes = [
            Node(
                id: "a", label: "Few", config: .buildAudience(entity: "profiles", rule: try Rule(parsing: "id <= 10"), emitWhenEmpty: false)
            ),
            Node(id: "z", label: "Then win-back", config: .endAndStart(campaign: "Win-back")),
        ]
        c.edges = [Edge(from: "a", to: "z")]
        let stored = try store.saveCampaign(c, replace: false)
        // A dry run starts nothing.
        let dry = try Executor(store: store).dryRun(stored)
        #expect(try store.listRuns().filter { $0.state == .pending }.isEmpty)
        #expect(dry.nodes.first { $0.nodeID == "z" }?.detail?.contains("would start") == true)
        let live = try executor(at: t0).run(stored, mode: .live)
        #expect(live.summary.state == .completed)
        let pending = try #require(try store.listRuns().first { $0.state == .pending })
        #expect(pending.campaignName == "Win-back" && !pending.dryRun && pending.startedBy == "run #\(live.summary.id)")
        #expect(
            try store.runLogs(live.summary.id).contains { $0.line.code == "campaign.started" && $0.line.figures["run"] == Int(pending.id) })
        let actions = try Scheduler(store: store, dryRun: false).tick(now: t0)
        #expect(actions.contains { if case .resumed(let run) = $0 { run.summary.id == pending.id } else { false } })
        #expect(try store.runDetail(pending.id).summary.state == .completed)
    }

    @Test func aPendingRunThatCannotStartFailsWithItsReason() throws {
        let winBack = try store.loadCampaign("Win-back")
        let pending = try store.write { db in
            try RunRepository.createRun(db, campaign: winBack, dryRun: false, pending: true, startedBy: "test")
        }
        // Archived behind the run's back (archiving refuses while a run is pending).
        try store.write { db in
            try db.execute(sql: "UPDATE herald_campaigns SET archived_at = '2027-01-01T00:00:00Z' WHERE id = ?", arguments: [winBack.id])
        }
        let actions = try Scheduler(store: store, dryRun: false).tick(now: t0)
        #expect(actions.contains { if case .skipped(_, let reason) = $0 { reason.contains("archived") } else { false } })
        let summary = try store.runDetail(pending).summary
        #expect(summary.state == .failed && summary.error?.contains("archived") == true)
        // Not picked up again.
        #expect(try Scheduler(store: store, dryRun: false).tick(now: t0).isEmpty)
    }

    @Test func aWaitingRunCanBeStoppedAndItsTablesGo() throws {
        let run = try executor(at: t0).run(try waitingCampaign(), mode: .live)
        #expect(run.summary.state == .waiting)
        #expect(!(try store.workTables(runID: run.summary.id).tables.isEmpty))
        #expect(try store.request(.stop, runID: run.summary.id) == false)
        #expect(try store.runDetail(run.summary.id).summary.state == .stopped)
        #expect(try store.workTables(runID: run.summary.id).tables.isEmpty)
        #expect(try Scheduler(store: store, dryRun: false).tick(now: t0.addingTimeInterval(3 * 86_400)).isEmpty)
    }

    /// A limited subset ordered by an attribute keeps the rows with its highest values (empty
    /// ones last), the same rows as the hand-written query; the seeded sample is only for ties.
    @Test func aSplitSubsetCanKeepTheHighestValues() throws {
        var c = Campaign(name: "Top spenders")
        c.nodes = [
            Node(
                id: "fr", label: "French",
                config: .buildAudience(entity: "profiles", rule: try Rule(parsing: #"country = "FR""#), emitWhenEmpty: false)),
            Node(
                id: "s", label: "Top",
                config: .split(
                    seed: 3, subsets: [SplitSubset(label: "Top 25", limit: .count(25), order: .highest("lifetime_value"))], overlap: false,
                    skipEmpty: false)),
            Node(id: "z", label: "End", config: .end),
        ]
        c.edges = [Edge(from: "fr", to: "s"), Edge(from: "s", port: .subset(1), to: "z")]
        let run = try executor(at: t0).run(try store.saveCampaign(c, replace: false), mode: .live)
        let table = try #require(
            try store.read { db in
                try String.fetchOne(
                    db, sql: "SELECT work_table FROM herald_run_edges WHERE run_id = ? AND from_node = 's' AND port = 'subset1'",
                    arguments: [run.summary.id])
            })
        let kept = try store.readRunWork(runID: run.summary.id) { db in
            try Int64.fetchAll(db, sql: "SELECT key FROM \"\(table)\" ORDER BY key")
        }
        let expected = try store.read { db in
            try Int64.fetchAll(
                db,
                sql: "SELECT id FROM (SELECT id FROM profiles WHERE country = 'FR' ORDER BY lifetime_value DESC, id LIMIT 25) ORDER BY id")
        }
        #expect(kept.count == 25)
        // The demo's values are distinct enough that ties do not decide.
        #expect(kept == expected)
        let text = CampaignFormat.encodeText(c)
        #expect(text.contains(#""highest": "lifetime_value""#))
        #expect(try CampaignFormat.decode(text: text) == c)
        let bad = text.replacingOccurrences(of: #""highest": "lifetime_value""#, with: #""highest": "lifetime""#)
        let problems = CampaignValidator(checker: try store.audienceChecker()).validate(try CampaignFormat.decode(text: bad))
        #expect(problems.contains { $0.description.contains("subsets[0].highest: 'profiles' has no attribute 'lifetime'") })
    }

    /// Profiles without a loyalty membership go to the complement, each row with its reason,
    /// and the log counts them.
    @Test func changeDimensionKeepsEachUnmatchedRowWithItsReason() throws {
        var c = Campaign(name: "Members")
        c.nodes = [
            Node(
                id: "a", label: "Some",
                config: .buildAudience(entity: "profiles", rule: try Rule(parsing: "id <= 500"), emitWhenEmpty: false)),
            Node(id: "m", label: "Memberships", config: .changeDimension(link: "loyalty_memberships")),
            Node(id: "z", label: "End", config: .end), Node(id: "x", label: "No membership", config: .end),
        ]
        c.edges = [Edge(from: "a", to: "m"), Edge(from: "m", to: "z"), Edge(from: "m", port: "complement", to: "x")]
        let run = try executor(at: t0).run(try store.saveCampaign(c, replace: false), mode: .live)
        let without = try count(
            "SELECT count(*) FROM profiles p WHERE p.id <= 500 AND NOT EXISTS (SELECT 1 FROM loyalty_memberships l WHERE l.profile_id = p.id)"
        )
        #expect(without > 0)
        #expect(run.edges.first { $0.fromNode == "m" && $0.port == "complement" }?.count == without)
        let table = try #require(
            try store.read { db in
                try String.fetchOne(
                    db, sql: "SELECT work_table FROM herald_run_edges WHERE run_id = ? AND from_node = 'm' AND port = 'complement'",
                    arguments: [run.summary.id])
            })
        let unmatched = try store.readRunWork(runID: run.summary.id) { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM \"\(table)\" WHERE reason = 'unmatched'")
        }
        #expect(unmatched == without)
        let line = try #require(try store.runLogs(run.summary.id).map(\.line).first { $0.code == "dimension.unmatched" })
        #expect(line.figures["unmatched"] == without && line.figures["rows"] == without)
    }
}
