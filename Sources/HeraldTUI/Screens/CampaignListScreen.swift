import HeraldCore
import HeraldDemo
import HeraldEngine
import HeraldStore

/// The campaign list: its commands and the results it handles.
enum CampaignListScreen {
    static let commands: [Command] = [
        Command(
            id: "list.down", title: "down", help: "Select the next campaign", group: "Campaigns", keys: [.char("j"), .down],
            keyLabel: "j/k", scope: .campaignList, inKeyBar: false,
            disabledReason: { $0.listCount == 0 ? "there are no campaigns" : nil },
            perform: { state in
                state.listSelection = min(state.listSelection + 1, max(0, state.listCount - 1))
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
                state.listSelection = max(0, state.listCount - 1)
                return []
            }),
        Command(
            id: "list.open", title: "open", help: "Open the selected campaign (or unsaved new one) on the canvas", group: "Campaigns",
            keys: [.enter, .char("e")], keyLabel: "enter", scope: .campaignList, inKeyBar: true,
            disabledReason: { $0.selectedCampaign == nil && $0.selectedNewDraft == nil ? "select a campaign first" : nil },
            perform: { state in
                if let draft = state.selectedNewDraft { return openDraft(&state, draft) }
                guard let c = state.selectedCampaign else { return [] }
                return [.openCampaign(id: c.id)]
            }),
        Command(
            id: "list.new", title: "new", help: "Create a campaign, from scratch or from an example", group: "Campaigns",
            keys: [.char("n")], keyLabel: "n", scope: .campaignList, inKeyBar: true,
            perform: { state in
                let items =
                    [MenuItem(title: "From scratch", detail: "an empty canvas", value: .scratch)]
                    + examples.map { MenuItem(title: $0.name, detail: $0.description, value: .example($0.name)) }
                state.modes.append(.menu(Menu(purpose: .newCampaign, title: "New campaign", items: items)))
                return []
            }),
        Command(
            id: "list.duplicate", title: "copy", help: "Copy the selected campaign under a new name", group: "Campaigns",
            keys: [.char("y")], keyLabel: "y", scope: .campaignList, inKeyBar: false,
            disabledReason: { $0.selectedCampaign == nil ? "select a saved campaign first" : nil },
            perform: { state in
                guard let c = state.selectedCampaign else { return [] }
                state.modes.append(
                    .prompt(
                        Prompt(
                            purpose: .duplicateCampaign(c.id), title: "Name of the copy of '\(c.name)'", text: freeName(c.name, in: state)))
                )
                return []
            }),
        Command(
            id: "list.import", title: "import", help: "Import a campaign file (validated first) as a new campaign", group: "Campaigns",
            keys: [.char("I")], keyLabel: "I", scope: .campaignList, inKeyBar: false,
            perform: { state in
                state.modes.append(.prompt(Prompt(purpose: .importFile, title: "Campaign file to import")))
                return []
            }),
        Command(
            id: "list.export", title: "export", help: "Write the selected campaign's current version as a campaign file",
            group: "Campaigns", keys: [.char("E")], keyLabel: "E", scope: .campaignList, inKeyBar: false,
            disabledReason: { $0.selectedCampaign == nil ? "select a saved campaign first" : nil },
            perform: { state in
                guard let c = state.selectedCampaign else { return [] }
                state.modes.append(
                    .prompt(Prompt(purpose: .exportFile(c.id), title: "Export '\(c.name)' to the file", text: Names.slug(c.name) + ".json"))
                )
                return []
            }),
        Command(
            id: "list.rename", title: "rename", help: "Rename the selected campaign; its versions and runs follow it",
            group: "Campaigns", keys: [.char("r")], keyLabel: "r", scope: .campaignList, inKeyBar: false,
            disabledReason: { $0.selectedCampaign == nil ? "select a saved campaign first" : nil },
            perform: { state in
                guard let c = state.selectedCampaign else { return [] }
                state.modes.append(.prompt(Prompt(purpose: .renameCampaign(c.id), title: "New name of '\(c.name)'", text: c.name)))
                return []
            }),
        Command(
            id: "list.archive", title: "archive", help: "Archive the selected campaign: kept with its runs, hidden and not run",
            group: "Campaigns", keys: [.char("z")], keyLabel: "z", scope: .campaignList, inKeyBar: false,
            disabledReason: { $0.selectedCampaign == nil ? "select a saved campaign first" : nil },
            perform: { state in
                guard let c = state.selectedCampaign else { return [] }
                state.modes.append(
                    .confirm(
                        Confirmation(
                            question: "Archive '\(c.name)'? It stays in the store with its runs (herald campaign restore brings it back).",
                            choices: [
                                Choice(key: "y", title: "archive", action: .archiveCampaign(c.id)),
                                Choice(key: "n", title: "keep", action: nil),
                            ])))
                return []
            }),
        Command(
            id: "list.delete", title: "delete", help: "Delete the selected campaign with its versions and runs (asks first)",
            group: "Campaigns", keys: [.char("d")], keyLabel: "d", scope: .campaignList, inKeyBar: false,
            disabledReason: { $0.selectedCampaign == nil && $0.selectedNewDraft == nil ? "select a campaign first" : nil },
            perform: { state in
                if let draft = state.selectedNewDraft {
                    state.modes.append(
                        .confirm(
                            Confirmation(
                                question: "Delete the unsaved campaign '\(draft.campaign.name)'? It was never saved; nothing else is lost.",
                                choices: [
                                    Choice(key: "y", title: "delete", action: .discardDraft(draft.key)),
                                    Choice(key: "n", title: "keep", action: nil),
                                ])))
                    return []
                }
                guard let c = state.selectedCampaign else { return [] }
                let runs = c.lastRun == nil ? "" : " Its runs go with it; the messages it sent stay in the history."
                state.modes.append(
                    .confirm(
                        Confirmation(
                            question: "Delete '\(c.name)' and its \(Names.counted(c.version, "version"))?\(runs) This cannot be undone.",
                            choices: [
                                Choice(key: "y", title: "delete", action: .deleteCampaign(c.id)),
                                Choice(key: "n", title: "keep", action: nil),
                            ])))
                return []
            }),
        Command(
            id: "list.refresh", title: "refresh", help: "Reload the campaign list", group: "Campaigns", keys: [.char("R")],
            keyLabel: "R", scope: .campaignList, inKeyBar: false, disabledReason: { _ in nil }, perform: { _ in [.loadCampaigns] }),
    ]

    /// The example campaigns a new campaign can start from.
    static let examples: [Campaign] = (try? DemoCampaigns.all()) ?? []

    /// `name`, or `name 2`, `name 3`… whichever no campaign has.
    static func freeName(_ name: String, in state: AppState) -> String {
        let taken = Set(state.campaigns.map(\.name) + state.newDrafts.map(\.campaign.name))
        if !taken.contains(name) { return name }
        var n = 2
        while taken.contains("\(name) \(n)") { n += 1 }
        return "\(name) \(n)"
    }

    /// Opens a campaign that has never been saved, from its draft, and keeps the draft.
    static func openDraft(_ state: inout AppState, _ draft: Draft) -> [Effect] {
        state.canvas = CanvasState(
            stored: nil, draft: draft.campaign, draftKey: draft.key, layout: GraphLayout.layout(draft.campaign))
        state.screen = .canvas
        CanvasNavigation.relayout(&state)
        state.status =
            draft.campaign.nodes.isEmpty
            ? "a new campaign: A adds its first node; w saves it once it validates" : "not saved yet: w saves it once it validates"
        return [.loadContext, .keepDraft(draft)]
    }

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
        case .draftedCampaignsLoaded(let ids):
            state.draftedCampaigns = ids
            return []
        case .newDraftsLoaded(let drafts):
            state.newDrafts = drafts
            state.listSelection = min(state.listSelection, max(0, state.listCount - 1))
            return []
        case .campaignsChanged(let message):
            state.status = message
            return [.loadCampaigns]
        default:
            return nil
        }
    }
}
