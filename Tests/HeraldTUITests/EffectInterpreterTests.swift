import Foundation
import HeraldCore
import HeraldEngine
import HeraldStore
import HeraldTUI
import Testing

/// Whether `action` is an effect reporting that it finished.
func finished(_ action: Action) -> Bool {
    if case .effectFinished = action { true } else { false }
}

/// The effect interpreter on its own, on a copy of sample.db, with no terminal and no reducer:
/// effects in, result actions out.
@Suite struct EffectInterpreterTests {
    /// Collects results until `count` effects have reported finishing.
    static func results(of interpreter: EffectInterpreter, finishing count: Int, timeout: TimeInterval = 30) -> [Action] {
        var actions: [Action] = []
        let deadline = Date().addingTimeInterval(timeout)
        while actions.filter({ finished($0) }).count < count && Date() < deadline {
            actions += interpreter.drain()
            Thread.sleep(forTimeInterval: 0.002)
        }
        return actions
    }

    @Test func aNewerLiveCountCancelsTheOneBeforeIt() throws {
        let (store, folder) = try HeadlessTests.sampleCopy()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let interpreter = EffectInterpreter(store: store)
        let older = try Rule(parsing: "country = \"FR\"")
        let newer = try Rule(parsing: "country = \"DE\"")
        let started = interpreter.perform([
            .countAudience(request: 1, entity: "profiles", rule: older, variables: [:]),
            .countAudience(request: 2, entity: "profiles", rule: newer, variables: [:]),
        ])
        #expect(started == 2)
        let actions = Self.results(of: interpreter, finishing: 2)
        let counted = actions.compactMap { action -> Int? in
            if case .audienceCounted(let request, _) = action { request } else { nil }
        }
        // The first was cancelled in its pause: only the count typed last reports.
        #expect(counted == [2])
        let expected = try AudienceService(store: store).count(AudienceSource(entity: "profiles", rule: newer))
        #expect(
            actions.contains { action in
                if case .audienceCounted(2, .success(let n)) = action { n == expected } else { false }
            })
    }

    @Test func stoppingARunCancelsItsTaskAndTheRunRecordsItself() throws {
        let (store, folder) = try HeadlessTests.sampleCopy()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let interpreter = EffectInterpreter(store: store)
        let stored = try store.loadCampaign("Welcome series")
        let target = RunTarget(stored)
        #expect(interpreter.perform([.startDryRun(stored)]) == 1)
        // Stopping is immediate: it starts no work of its own.
        #expect(interpreter.perform([.stopRun(target)]) == 0)
        let actions = Self.results(of: interpreter, finishing: 1)
        #expect(actions.last.map(finished) == true)
        let run = try #require(try store.listRuns(campaignID: stored.id, limit: 1).first)
        #expect(run.state == .stopped, "the run ended \(run.state)")
        #expect(
            actions.contains { action in
                if case .runProgressed(target, .finished(let detail)) = action { detail.summary.state == .stopped } else { false }
            })
    }

    @Test func writesLandInTheOrderTheyWereAskedFor() throws {
        let (store, folder) = try HeadlessTests.sampleCopy()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let interpreter = EffectInterpreter(store: store)
        let stored = try store.loadCampaign("Welcome series")
        let key = DraftKey("campaign \(stored.id)")
        let drafts = (1...40).map { n -> Effect in
            var campaign = stored.campaign
            campaign.description = "edit \(n)"
            return .keepDraft(Draft(key: key, campaignID: stored.id, baseVersion: stored.version, campaign: campaign))
        }
        #expect(interpreter.perform(drafts) == 40)
        interpreter.finishWrites()
        // Every write is in the store once finishWrites returns, the last one asked for kept.
        #expect(try store.draft(campaignID: stored.id)?.campaign.description == "edit 40")
        #expect(Self.results(of: interpreter, finishing: 40).filter { finished($0) }.count == 40)
    }

    @Test func everyEffectThatStartsWorkReportsFinishingOnce() throws {
        let (store, folder) = try HeadlessTests.sampleCopy()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let interpreter = EffectInterpreter(store: store)
        let started = interpreter.perform([.loadCampaigns, .loadContext, .redraw, .openCampaign(id: 1)])
        #expect(started == 3)
        let actions = Self.results(of: interpreter, finishing: 3)
        #expect(actions.filter { finished($0) }.count == 3)
        #expect(actions.contains { if case .campaignsLoaded = $0 { true } else { false } })
        #expect(actions.contains { if case .contextLoaded = $0 { true } else { false } })
        // Nothing more arrives afterwards.
        Thread.sleep(forTimeInterval: 0.05)
        #expect(interpreter.drain().isEmpty)
    }
}
