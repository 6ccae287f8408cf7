import Foundation
import HeraldCore
import HeraldEngine
import HeraldStore
import Testing

/// Ids stay ids from the screen to the store; names are looked up as names only where a person
/// typed them. End nodes keep the id of the campaign they start.
@Suite struct CampaignReferenceTests {
    /// A campaign of one Build audience node named `name`, saved.
    func save(_ store: Store, _ name: String, start: String? = nil) throws -> StoredCampaign {
        var c = Campaign(name: name)
        c.nodes = [
            Node(
                id: "a", label: "Few", config: .buildAudience(entity: "profiles", rule: try Rule(parsing: "id <= 3"), emitWhenEmpty: false)),
            Node(id: "z", label: "End", config: start.map { .endAndStart(campaign: $0) } ?? .end),
        ]
        c.edges = [Edge(from: "a", to: "z")]
        return try store.saveCampaign(c, replace: false)
    }

    @Test func anIdIsNeverTakenForAName() throws {
        let store = try Scratch.demoCopy()
        let target = try store.listCampaigns().first!
        let impostor = try save(store, String(target.id))
        #expect(try store.loadCampaign(id: target.id).campaign.name == target.name)
        // What a person types is a name first.
        #expect(try store.loadCampaign(.typed(String(target.id))).id == impostor.id)
        _ = try store.deleteCampaign(.id(target.id), withRuns: true)
        let names = Set(try store.listCampaigns().map(\.name))
        #expect(!names.contains(target.name) && names.contains(String(target.id)))
        #expect(throws: HeraldError.self) { try store.loadCampaign(id: target.id) }
        _ = try store.renameCampaign(.id(impostor.id), to: "Renamed by id")
        #expect(try store.loadCampaign(id: impostor.id).campaign.name == "Renamed by id")
    }

    @Test func anEndNodeFollowsARenameAndADeletionIsRefused() throws {
        let store = try Scratch.demoCopy()
        let next = try save(store, "Next step")
        let first = try save(store, "First step", start: "next step")
        #expect(try store.startTargets(of: first) == ["z": next.id])
        _ = try store.renameCampaign(.id(next.id), to: "Later step")
        #expect(try store.loadCampaign(id: first.id).campaign.node("z")?.config == .endAndStart(campaign: "Later step"))
        #expect(try store.campaignsStarting(next.id) == ["First step"])
        // The export names it by its name of today.
        #expect(CampaignFormat.encodeText(try store.loadCampaign(id: first.id).campaign).contains("\"start\": \"Later step\""))
        do {
            _ = try store.deleteCampaign(.id(next.id), withRuns: true)
            Issue.record("deleted a campaign another one starts")
        } catch let error as HeraldError {
            #expect(error.code == .conflict && error.message.contains("'First step'"), "\(error.message)")
        }
        // A live run starts it by id, under its new name.
        let live = try Executor(store: store).run(try store.loadCampaign(id: first.id), mode: .live)
        #expect(live.summary.state == .completed)
        #expect(try store.listRuns().first { $0.state == .pending }?.campaignID == next.id)
    }

    @Test func anEndNodeCannotStartACampaignThatDoesNotExist() throws {
        let store = try Scratch.demoCopy()
        #expect(throws: HeraldError.self) { try save(store, "Orphan", start: "Nowhere") }
        #expect(try store.listCampaigns().allSatisfy { $0.name != "Orphan" })
    }

    @Test func anOlderVersionWhoseCampaignWasDeletedFailsClosed() throws {
        let store = try Scratch.demoCopy()
        let next = try save(store, "Next step")
        let first = try save(store, "First step", start: "Next step")
        // The current version no longer starts it, so it can be deleted; the first version still names it.
        var changed = first.campaign
        changed.nodes[1].config = .end
        _ = try store.saveCampaign(changed, replace: true)
        _ = try store.deleteCampaign(.id(next.id), withRuns: true)
        #expect(try store.startTargets(of: first) == ["z": Int64?.none])
        _ = try save(store, "Next step")  // a new campaign under the old name is not the one it started
        #expect(throws: HeraldError.self) {
            try Executor(store: store).run(try store.loadCampaign(id: first.id, version: first.version), mode: .live)
        }
    }
}
