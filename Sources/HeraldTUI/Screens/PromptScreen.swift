import Foundation
import HeraldCore
import HeraldStore

/// A one-line text field: Enter submits, Esc cancels.
enum PromptScreen {
    static let commands: [Command] = [
        Command(
            id: "prompt.submit", title: "ok", help: "Use the text", group: "Prompt", keys: [.enter], keyLabel: "enter", scope: .prompt,
            inKeyBar: true, perform: { state in submit(&state) }),
        Command(
            id: "prompt.cancel", title: "cancel", help: "Close without changing anything", group: "Prompt", keys: [.escape, .ctrl("c")],
            keyLabel: "esc", scope: .prompt, inKeyBar: true,
            perform: { state in
                state.modes.removeLast()
                return []
            }),
        Command(
            id: "prompt.days", title: "days", help: "Choose the schedule's days of the week from a checklist", group: "Prompt",
            keys: [.tab], keyLabel: "tab", scope: .prompt, inKeyBar: false,
            disabledReason: { state in
                guard case .prompt(let prompt) = state.modes.last, case .schedule = prompt.purpose else {
                    return "only a schedule has days of the week"
                }
                return nil
            },
            perform: { state in WeekdayScreen.open(&state) }),
        TextEntry.command(scope: .prompt, group: "Prompt"),
    ]

    static func submit(_ state: inout AppState) -> [Effect] {
        guard case .prompt(var prompt) = state.modes.last else { return [] }
        var text = prompt.buffer.text.trimmingCharacters(in: .whitespaces)
        // The preview's prompt starts empty (typing does not add to the last key); Enter alone
        // previews for the last profile again.
        if text.isEmpty, case .previewProfile = prompt.purpose { text = state.lastPreviewProfile }
        if text.isEmpty, case .proofAddress = prompt.purpose { text = state.lastProofAddress }
        func refuse(_ message: String) -> [Effect] {
            prompt.error = message
            state.modes[state.modes.count - 1] = .prompt(prompt)
            return []
        }
        // Settings may be empty (no description, no variables, no schedule).
        if let effects = SettingsScreen.submit(prompt, text: text, &state) { return effects }
        if text.isEmpty { return refuse(prompt.purpose.whenEmpty) }
        switch prompt.purpose {
        case .renameNode(let id):
            state.modes.removeLast()
            return CanvasEditing.edit(&state, "rename '\(id)' to '\(text)'") { campaign in
                guard let index = campaign.nodes.firstIndex(where: { $0.id == id }) else {
                    throw EditRefusal("there is no node '\(id)'")
                }
                campaign.nodes[index].label = text
                return id
            }
        case .newCampaign(let template):
            if state.campaigns.contains(where: { $0.name == text }) || state.newDrafts.contains(where: { $0.campaign.name == text }) {
                return refuse("a campaign named '\(text)' exists already; choose another name")
            }
            state.modes.removeLast()
            var campaign = template ?? Campaign(name: text)
            campaign.name = text
            return CampaignListScreen.openDraft(
                &state, Draft(key: DraftKey(UUID().uuidString), campaignID: nil, baseVersion: nil, campaign: campaign))
        case .renameCampaign(let id):
            if state.campaigns.contains(where: { $0.name == text && $0.id != id }) {
                return refuse("a campaign named '\(text)' exists already; choose another name")
            }
            state.modes.removeLast()
            return [.renameCampaign(id: id, to: text)]
        case .previewProfile:
            // Searched by name, address or key; the matches come back as a menu to pick from.
            state.lastRequest += 1
            prompt.error = nil
            prompt.detail = ["searching…"]
            state.modes[state.modes.count - 1] = .prompt(prompt)
            return [.searchRecipients(request: state.lastRequest, .profiles(text))]
        case .proofAddress:
            state.modes.removeLast()
            return PreviewScreen.sendProof(&state, to: text)
        case .description, .variables, .schedule:
            return []  // handled above
        case .ruleValue(let path, let op, let type):
            let source = RuleBuilderScreen.condition(path: path, operator: op, type: type, value: text)
            do {
                let condition = try Rule(parsing: source)
                state.modes.removeLast()
                return RuleBuilderScreen.insert(condition, &state)
            } catch {
                return refuse("\(error.message) (in \(source))")
            }
        case .ruleCondition(let path):
            do {
                let condition = try Rule(parsing: text)
                state.modes.removeLast()
                return RuleBuilderScreen.change(&state) { builder in
                    guard let rule = RuleTree.updating(builder.rule, path, { _ in condition }) else { return "the condition is gone" }
                    builder.rule = rule
                    return nil
                }
            } catch {
                return refuse("\(error.message) at column \(error.offset + 1)")
            }
        case .importFile:
            state.modes.removeLast()
            return [.importCampaign(path: (text as NSString).expandingTildeInPath)]
        case .exportFile(let id):
            let path = (text as NSString).expandingTildeInPath
            if FileManager.default.fileExists(atPath: path) { return refuse("\(text) exists already; choose another file") }
            state.modes.removeLast()
            return [.exportCampaign(id: id, path: path)]
        case .duplicateCampaign(let id):
            if state.campaigns.contains(where: { $0.name == text }) {
                return refuse("a campaign named '\(text)' exists already; choose another name")
            }
            state.modes.removeLast()
            return [.duplicateCampaign(id: id, as: text)]
        }
    }

    static func render(_ prompt: Prompt, into grid: inout CellGrid, glyphs: GlyphSet) {
        let width = Dialog.width(grid)
        let box = Dialog.draw(
            &grid, lines: 3 + (prompt.detail.isEmpty ? 0 : prompt.detail.count + 1), title: " \(prompt.title) ", glyphs: glyphs)
        TextFieldView.draw(prompt.buffer, into: &grid, x: box.x + 2, y: box.y + 2, width: width - 4, height: 1)
        if let error = prompt.error {
            grid.put(DisplayWidth.truncate(error, to: width - 4), x: box.x + 2, y: box.y + 4, role: .error)
        } else {
            grid.put("Enter to confirm, Esc to cancel", x: box.x + 2, y: box.y + 4, role: .dim)
        }
        for (i, line) in prompt.detail.enumerated() where box.y + 6 + i < box.maxY - 1 {
            grid.put(DisplayWidth.truncate(line, to: width - 4), x: box.x + 2, y: box.y + 6 + i, role: .dialog)
        }
    }
}

extension PromptPurpose {
    /// What an empty answer is refused with.
    var whenEmpty: String {
        switch self {
        case .renameNode: "the label is empty; a node needs a name on the canvas"
        case .newCampaign, .renameCampaign, .duplicateCampaign: "the campaign name is empty"
        case .importFile, .exportFile: "give a file path"
        case .previewProfile: "give a name, an address or a key of the profile to preview the message for"
        case .proofAddress: "give the test address the proof goes to"
        case .ruleValue: "give a value (the hint above says which kind)"
        case .ruleCondition: "a condition cannot be empty; d deletes it in the tree"
        case .description, .variables, .schedule: ""
        }
    }
}
