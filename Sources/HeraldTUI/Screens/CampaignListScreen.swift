import HeraldCore
import HeraldEngine
import HeraldStore

/// The campaign list: its commands and the results it handles.
enum CampaignListScreen {
    static let commands: [Command] = [
        Command(
            id: "list.down", title: "down", help: "Select the next campaign", group: "Campaigns", keys: [.char("j"), .down],
            keyLabel: "j/k", scope: .campaignList, inKeyBar: false,
            disabledReason: { $0.campaigns.isEmpty ? "there are no campaigns" : nil },
            perform: { state in
                state.listSelection = min(state.listSelection + 1, max(0, state.campaigns.count - 1))
                return []
            }),
        Command(
            id: "list.up", title: "up", help: "Select the previous campaign", group: "Campaigns", keys: [.char("k"), .up],
            keyLabel: "k", scope: .campaignList, inKeyBar: false, disabledReason: { $0.campaigns.isEmpty ? "there are no campaigns" : nil },
            perform: { state in
                state.listSelection = max(state.listSelection - 1, 0)
                return []
            }),
        Command(
            id: "list.top", title: "top", help: "Select the first campaign", group: "Campaigns", keys: [.char("g"), .home],
            keyLabel: "g", scope: .campaignList, inKeyBar: false, disabledReason: { _ in nil },
            perform: { state in
                state.listSelection = 0
                return []
            }),
        Command(
            id: "list.bottom", title: "bottom", help: "Select the last campaign", group: "Campaigns", keys: [.char("G"), .end],
            keyLabel: "G", scope: .campaignList, inKeyBar: false, disabledReason: { _ in nil },
            perform: { state in
                state.listSelection = max(0, state.campaigns.count - 1)
                return []
            }),
        Command(
            id: "list.open", title: "open", help: "Open the selected campaign on the canvas", group: "Campaigns",
            keys: [.enter, .char("e")], keyLabel: "enter", scope: .campaignList, inKeyBar: true,
            disabledReason: { $0.selectedCampaign == nil ? "select a campaign first" : nil },
            perform: { state in
                guard let c = state.selectedCampaign else { return [] }
                return [.openCampaign(id: c.id)]
            }),
        Command(
            id: "list.refresh", title: "refresh", help: "Reload the campaign list", group: "Campaigns", keys: [.char("R")],
            keyLabel: "R", scope: .campaignList, inKeyBar: false, disabledReason: { _ in nil }, perform: { _ in [.loadCampaigns] }),
    ]

    /// The list's part of the reducer; nil for actions it does not handle.
    static func reduce(_ state: inout AppState, _ action: Action) -> [Effect]? {
        switch action {
        case .campaignsLoaded(let campaigns):
            let previous = state.selectedCampaign?.id
            state.campaigns = campaigns
            if let previous, let index = campaigns.firstIndex(where: { $0.id == previous }) {
                state.listSelection = index
            } else {
                state.listSelection = min(state.listSelection, max(0, campaigns.count - 1))
            }
            return []
        case .launchesLoaded(let launches):
            state.nextLaunches = launches
            return []
        default:
            return nil
        }
    }
}
