import Foundation
import HeraldCore
import HeraldStore

/// A question with lettered answers; Esc closes it without doing anything.
enum ConfirmScreen {
    static let commands: [Command] = [
        Command(
            id: "confirm.answer", title: "answer", help: "Answer with the letter of a choice", group: "Question", keys: [],
            keyLabel: "letter", scope: .confirm, inKeyBar: false, takesText: true,
            run: { state, key in
                guard case .confirm(let question) = state.modes.last, case .char(let c) = key,
                    let choice = question.choices.first(where: { $0.key == Character(c.lowercased()) })
                else {
                    state.status = "answer with one of: \(choicesText(state))"
                    return []
                }
                state.modes.removeLast()
                guard let action = choice.action else { return [] }
                return perform(action, &state)
            }),
        Command(
            id: "confirm.cancel", title: "cancel", help: "Close the question without doing anything", group: "Question",
            keys: [.escape], keyLabel: "esc", scope: .confirm, inKeyBar: true,
            perform: { state in
                state.modes.removeLast()
                state.pendingLeave = nil
                return []
            }),
    ]

    static func choicesText(_ state: AppState) -> String {
        guard case .confirm(let question) = state.modes.last else { return "" }
        return question.choices.map { "\($0.key) \($0.title)" }.joined(separator: ", ")
    }

    static func perform(_ action: ConfirmAction, _ state: inout AppState) -> [Effect] {
        switch action {
        case .startLiveRun:
            return CanvasScreen.startLiveRun(&state)
        case .deleteNode(let id):
            return CanvasEditing.edit(&state, "delete '\(id)'") { campaign in
                try campaign.delete(id)
                return nil
            }
        case .saveAndLeave(let leaving):
            state.pendingLeave = leaving
            return CanvasEditing.save(&state)
        case .discardAndLeave(let leaving):
            guard let canvas = state.canvas else { return [] }
            if let stored = canvas.stored {
                state.canvas?.draft = stored.campaign
                state.canvas?.history = EditHistory()
                CanvasNavigation.relayout(&state)
            } else {
                state.canvas = nil
            }
            return [.discardDraft(canvas.draftKey)] + CanvasEditing.leave(&state, to: leaving)
        case .restoreDraft(let draft):
            guard state.canvas != nil else { return [] }
            state.canvas?.draftKey = draft.key
            state.status = "restored the unsaved edits; w saves them, u undoes the restore"
            if let canvas = state.canvas {
                state.canvas?.history.undo.append(EditSnapshot(campaign: canvas.draft, selected: canvas.selected))
                state.canvas?.history.undoNames.append("restore the kept draft")
            }
            let effects = CanvasEditing.show(&state, draft.campaign, select: state.canvas?.selected)
            // The form that was open, with what was typed in it.
            if let kept = draft.form, let form = NodeFormScreen.reopen(kept, in: draft.campaign) {
                state.modes.append(.nodeForm(form))
                state.status = "restored the unsaved edits and the form that was open; w applies it"
                return effects + NodeFormScreen.update(&state) { _ in }
            }
            return effects
        case .discardDraft(let key):
            state.status = "discarded the kept edits"
            return [.discardDraft(key)]
        case .archiveCampaign(let id):
            return [.archiveCampaign(id: id)]
        case .deleteCampaign(let id):
            return [.deleteCampaign(id: id)]
        case .applyForm:
            return NodeFormScreen.apply(&state)
        case .dropForm:
            if case .nodeForm = state.modes.last { state.modes.removeLast() }
            return []
        }
    }

    static func render(_ question: Confirmation, into grid: inout CellGrid, glyphs: GlyphSet) {
        let width = Dialog.width(grid)
        let lines = DisplayWidth.wrap(question.question, to: width - 4)
        let box = Dialog.draw(&grid, lines: lines.count + 2, title: " Question ", glyphs: glyphs)
        for (i, line) in lines.enumerated() { grid.put(line, x: box.x + 2, y: box.y + 2 + i, role: .dialog) }
        var x = box.x + 2
        let y = box.y + 3 + lines.count
        let answers = question.choices.map { (" \($0.key) ", " \($0.title)   ") } + [(" esc ", " cancel")]
        for (key, title) in answers where x + DisplayWidth.of(key + title) < box.maxX - 1 {
            x += grid.put(key, x: x, y: y, role: .keybarKey)
            x += grid.put(title, x: x, y: y, role: .dialog)
        }
    }
}
