import Foundation
public import HeraldCore
import HeraldEngine
import HeraldStore

/// Editing the campaign on the canvas: every change goes to the draft through ``edit(_:_:_:)``,
/// which records undo, keeps the layout stable, revalidates and keeps the draft in the store.
/// Saving makes the draft the campaign's next version.
enum CanvasEditing {
    static let commands: [Command] = [
        Command(
            id: "edit.open", title: "edit", help: "Open the selected node's form (read-only inspector while a run is in progress)",
            group: "Edit", keys: [.enter, .char("e")], keyLabel: "enter", scope: .canvas, inKeyBar: true,
            disabledReason: { $0.canvas?.selected == nil ? "select a node first" : nil },
            perform: { state in
                guard let canvas = state.canvas, let id = canvas.selected, let node = canvas.draft.node(id) else { return [] }
                if state.runInProgress {
                    state.modes.append(.inspector(id))
                    return []
                }
                state.modes.append(.nodeForm(NodeForm(node: node)))
                return NodeFormScreen.update(&state) { _ in }
            }),
        Command(
            id: "edit.add", title: "add", help: "Add a node after the selected port (inserted if the port leads on already)",
            group: "Edit", keys: [.char("a")], keyLabel: "a", scope: .canvas, inKeyBar: true,
            disabledReason: { state in
                guard let canvas = state.canvas else { return "open a campaign first" }
                if canvas.draft.nodes.isEmpty { return "the campaign is empty: A adds its first node" }
                if canvas.selectedSource == nil { return "the selected node has no output port: A adds a node that starts a branch" }
                return nil
            },
            perform: { state in
                guard let canvas = state.canvas, let source = canvas.selectedSource else { return [] }
                // A node with several outputs, some already leading on, and no port chosen: ask
                // which, saying where each leads (all free: the first, as the key bar shows).
                if canvas.selectedPort == nil, let node = canvas.draft.node(source.node), node.outputPorts.count > 1,
                    node.outputPorts.contains(where: { canvas.draft.edge(from: PortRef(node: node.id, port: $0)) != nil })
                {
                    let items = node.outputPorts.map { port in
                        let next = canvas.draft.edge(from: PortRef(node: node.id, port: port)).flatMap { canvas.draft.node($0.to) }
                        return MenuItem(
                            title: port.description,
                            detail: next.map { "leads to '\($0.label)': the new node goes in between" }
                                ?? "free: the new node ends this branch",
                            value: .port(PortRef(node: node.id, port: port)))
                    }
                    state.modes.append(.menu(Menu(purpose: .addAfterPort, title: "Add after which port of '\(node.label)'?", items: items)))
                    return []
                }
                openKindMenu(&state, after: source)
                return []
            }),
        Command(
            id: "edit.addStart", title: "new branch", help: "Add a node that starts a branch (Build or Read audience), unconnected",
            group: "Edit", keys: [.char("A")], keyLabel: "A", scope: .canvas, inKeyBar: false,
            disabledReason: { $0.canvas == nil ? "open a campaign first" : nil },
            perform: { state in
                openKindMenu(&state, after: nil)
                return []
            }),
        Command(
            id: "edit.delete", title: "delete", help: "Delete the selected node (asks first); a node between two others is bridged",
            group: "Edit", keys: [.char("d"), .function(8)], keyLabel: "d", scope: .canvas, inKeyBar: false,
            disabledReason: { $0.canvas?.selected == nil ? "select a node first" : nil },
            perform: { state in
                guard let canvas = state.canvas, let id = canvas.selected, let node = canvas.draft.node(id) else { return [] }
                let bridged =
                    canvas.draft.inbound(id).count == 1 && canvas.draft.outbound(id).count == 1
                    ? " Its predecessor will lead on to its successor." : ""
                state.modes.append(
                    .confirm(
                        Confirmation(
                            question: "Delete \(node.kind.title) '\(node.label)' and its transitions?\(bridged)",
                            choices: [
                                Choice(key: "y", title: "delete", action: .deleteNode(id)), Choice(key: "n", title: "keep", action: nil),
                            ])))
                return []
            }),
        Command(
            id: "edit.rename", title: "rename", help: "Rename the selected node (its label)", group: "Edit", keys: [.char("n")],
            keyLabel: "n", scope: .canvas, inKeyBar: false, disabledReason: { $0.canvas?.selected == nil ? "select a node first" : nil },
            perform: { state in
                guard let canvas = state.canvas, let id = canvas.selected, let node = canvas.draft.node(id) else { return [] }
                state.modes.append(.prompt(Prompt(purpose: .renameNode(id), title: "Label of '\(node.id)'", text: node.label)))
                return []
            }),
        Command(
            id: "edit.port", title: "port", help: "Select the selected node's next output port", group: "Edit", keys: [.tab],
            keyLabel: "tab", scope: .canvas, inKeyBar: false,
            disabledReason: { state in
                guard let canvas = state.canvas, let id = canvas.selected, let node = canvas.draft.node(id) else {
                    return "select a node first"
                }
                return node.outputPorts.count > 1 ? nil : "the node has only one output port"
            },
            perform: { state in
                guard let canvas = state.canvas, let id = canvas.selected, let node = canvas.draft.node(id) else { return [] }
                let ports = node.outputPorts
                let current = canvas.selectedSource.flatMap { ports.firstIndex(of: $0.port) } ?? -1
                let port = ports[(current + 1) % ports.count]
                state.canvas?.selectedPort = port
                state.status = "port '\(node.portLabel(port))' selected"
                return []
            }),
        Command(
            id: "edit.connect", title: "connect",
            help: "Connect the selected port to another node: move with hjkl, Tab picks its input, Enter",
            group: "Edit", keys: [.char("c")], keyLabel: "c", scope: .canvas, inKeyBar: false,
            disabledReason: { $0.canvas?.selectedSource == nil ? "select a node with an output port first" : nil },
            perform: { state in
                guard let canvas = state.canvas, let source = canvas.selectedSource else { return [] }
                let current = canvas.draft.edge(from: source)
                state.modes.append(.connect(Connect(source: source, target: current?.to, targetPort: current?.toPort)))
                state.status = "choose the node '\(source.port)' leads to; Enter connects, Esc cancels"
                return []
            }),
        Command(
            id: "edit.disconnect", title: "disconnect", help: "Remove the transition leaving the selected port", group: "Edit",
            keys: [.char("X")], keyLabel: "X", scope: .canvas, inKeyBar: false,
            disabledReason: { state in
                guard let canvas = state.canvas, let source = canvas.selectedSource else { return "select a node first" }
                return canvas.draft.edge(from: source) == nil ? "port '\(source.port)' is not connected" : nil
            },
            perform: { state in
                guard let source = state.canvas?.selectedSource else { return [] }
                return edit(&state, "disconnect '\(source.port)' of '\(source.node)'") { campaign in
                    try campaign.disconnect(source)
                    return nil
                }
            }),
        Command(
            id: "edit.duplicate", title: "duplicate", help: "Copy the selected node (with a fresh id), unconnected", group: "Edit",
            keys: [.char("y")], keyLabel: "y", scope: .canvas, inKeyBar: false,
            disabledReason: { $0.canvas?.selected == nil ? "select a node first" : nil },
            perform: { state in
                guard let id = state.canvas?.selected else { return [] }
                return edit(&state, "duplicate '\(id)'") { campaign in try campaign.duplicate([id])[id] }
            }),
        Command(
            id: "edit.duplicateBranch", title: "duplicate branch",
            help: "Copy the selected node and everything after it, with the transitions among them", group: "Edit",
            keys: [.char("Y")], keyLabel: "Y", scope: .canvas, inKeyBar: false,
            disabledReason: { $0.canvas?.selected == nil ? "select a node first" : nil },
            perform: { state in
                guard let canvas = state.canvas, let id = canvas.selected else { return [] }
                let branch = downstream(of: id, in: canvas.draft)
                return edit(&state, "duplicate \(branch.count) nodes from '\(id)'") { campaign in try campaign.duplicate(branch)[id] }
            }),
        Command(
            id: "edit.undo", title: "undo", help: "Undo the last edit", group: "Edit", keys: [.char("u")], keyLabel: "u",
            scope: .canvas, inKeyBar: true, disabledReason: { $0.canvas?.history.undo.isEmpty ?? true ? "nothing to undo" : nil },
            perform: { state in step(&state, undo: true) }),
        Command(
            id: "edit.redo", title: "redo", help: "Redo the edit undone last", group: "Edit", keys: [.ctrl("r")], keyLabel: "^R",
            scope: .canvas, inKeyBar: false, disabledReason: { $0.canvas?.history.redo.isEmpty ?? true ? "nothing to redo" : nil },
            perform: { state in step(&state, undo: false) }),
        Command(
            id: "edit.save", title: "save", help: "Save the draft as the campaign's next version (refused while it has problems)",
            group: "Edit", keys: [.char("w"), .ctrl("s")], keyLabel: "w", scope: .canvas, inKeyBar: true,
            disabledReason: { state in
                guard let canvas = state.canvas else { return "open a campaign first" }
                if !canvas.isDirty { return "no unsaved changes" }
                if canvas.context == nil { return "the catalog is still loading; validation must run first" }
                return nil
            },
            perform: { state in save(&state) }),
        Command(
            id: "edit.problems", title: "problems", help: "List every problem of the draft; Enter jumps to the node", group: "Edit",
            keys: [.char("v")], keyLabel: "v", scope: .canvas, inKeyBar: false,
            disabledReason: { $0.canvas?.context == nil ? "the catalog is still loading" : nil },
            perform: { state in
                state.modes.append(.problems(selection: 0))
                return []
            }),
    ]

    /// The editing part of the reducer; nil for actions it does not handle.
    static func reduce(_ state: inout AppState, _ action: Action) -> [Effect]? {
        switch action {
        case .contextLoaded(let context):
            guard state.canvas != nil else { return [] }
            state.canvas?.context = context
            revalidate(&state)
            return []
        case .draftFound(let draft):
            // Offered back when it differs from what is shown, or kept a form that was open.
            guard let canvas = state.canvas, canvas.stored?.id == draft.campaignID, draft.campaign != canvas.draft || draft.form != nil
            else {
                return draft.campaignID == state.canvas?.stored?.id ? [.discardDraft(draft.key)] : []
            }
            let base = draft.baseVersion.map { "version \($0)" } ?? "an earlier version"
            let newer =
                draft.baseVersion != canvas.stored?.version
                ? " (the campaign has been saved since, as version \(canvas.stored?.version ?? 0))" : ""
            state.modes.append(
                .confirm(
                    Confirmation(
                        question:
                            "Unsaved edits of this campaign from \(draft.updatedAt), made on \(base)\(newer), were kept. Take them back?",
                        choices: [
                            Choice(key: "r", title: "restore", action: .restoreDraft(draft)),
                            Choice(key: "d", title: "discard them", action: .discardDraft(draft.key)),
                        ])))
            return []
        case .scheduleLoaded(let id, let schedule):
            guard state.canvas?.stored?.id == id else { return [] }
            state.canvas?.schedule = schedule
            return []
        case .campaignSaved(let stored):
            guard state.canvas?.draftKey != nil else { return [] }
            state.canvas?.stored = stored
            state.canvas?.draft = stored.campaign
            state.canvas?.draftKey = DraftKey("campaign \(stored.id)")
            state.canvas?.run = nil
            state.status = "saved '\(stored.campaign.name)' as version \(stored.version)"
            if let leaving = state.pendingLeave {
                state.pendingLeave = nil
                return leave(&state, to: leaving)
            }
            return []
        default:
            return nil
        }
    }

    /// Applies an edit to the draft: `change` returns the node to select (or nil to keep the
    /// selection). Refused edits change nothing and say why.
    static func edit(
        _ state: inout AppState, _ name: String, _ change: (inout Campaign) throws -> NodeID?
    ) -> [Effect] {
        guard let canvas = state.canvas else { return [] }
        var draft = canvas.draft
        let select: NodeID?
        do {
            select = try change(&draft)
        } catch {
            state.status = "\(name): \(error)"
            return []
        }
        guard draft != canvas.draft else { return [] }
        state.canvas?.history.undo.append(EditSnapshot(campaign: canvas.draft, selected: canvas.selected))
        state.canvas?.history.undoNames.append(name)
        state.canvas?.history.redo.removeAll()
        state.canvas?.history.redoNames.removeAll()
        state.status = "\(name) (u undoes)"
        return show(&state, draft, select: select ?? canvas.selected)
    }

    /// Shows `draft` on the canvas, keeping the layout of the nodes that stay, and keeps it.
    static func show(_ state: inout AppState, _ draft: Campaign, select: NodeID?) -> [Effect] {
        guard let canvas = state.canvas else { return [] }
        state.canvas?.draft = draft
        state.canvas?.selected = select.flatMap { draft.node($0) == nil ? nil : $0 } ?? draft.nodes.first?.id
        if state.canvas?.selected != canvas.selected { state.canvas?.selectedPort = nil }
        CanvasNavigation.relayout(&state)
        revalidate(&state)
        guard let now = state.canvas else { return [] }
        if !now.isDirty { return [.discardDraft(now.draftKey)] }
        return [
            .keepDraft(Draft(key: now.draftKey, campaignID: now.stored?.id, baseVersion: now.stored?.version, campaign: draft))
        ]
    }

    static func step(_ state: inout AppState, undo: Bool) -> [Effect] {
        guard var canvas = state.canvas, let target = undo ? canvas.history.undo.popLast() : canvas.history.redo.popLast() else {
            return []
        }
        let name = (undo ? canvas.history.undoNames.popLast() : canvas.history.redoNames.popLast()) ?? "edit"
        let current = EditSnapshot(campaign: canvas.draft, selected: canvas.selected)
        if undo {
            canvas.history.redo.append(current)
            canvas.history.redoNames.append(name)
        } else {
            canvas.history.undo.append(current)
            canvas.history.undoNames.append(name)
        }
        state.canvas = canvas
        state.status = undo ? "undid: \(name)" : "redid: \(name)"
        return show(&state, target.campaign, select: target.selected)
    }

    static func revalidate(_ state: inout AppState) {
        guard let canvas = state.canvas, let context = canvas.context else { return }
        state.canvas?.problems = context.validator.validate(canvas.draft)
    }

    static func save(_ state: inout AppState) -> [Effect] {
        guard let canvas = state.canvas else { return [] }
        revalidate(&state)
        let problems = state.canvas?.problems ?? []
        guard problems.isEmpty else {
            state.pendingLeave = nil
            state.status = "not saved: \(Names.counted(problems.count, "problem")) to fix first"
            state.modes.append(.problems(selection: 0))
            return []
        }
        state.status = "saving…"
        return [.saveCampaign(canvas.draft, replace: canvas.stored != nil, draft: canvas.draftKey)]
    }

    /// Leaves the canvas, asking first when the draft has unsaved changes.
    static func leave(_ state: inout AppState, to leaving: Leaving) -> [Effect] {
        if let canvas = state.canvas, state.screen == .canvas, canvas.isDirty {
            let saveable = canvas.context != nil
            state.modes.append(
                .confirm(
                    Confirmation(
                        question: "'\(canvas.draft.name)' has unsaved changes. Save them as a new version first?",
                        choices: (saveable ? [Choice(key: "s", title: "save", action: .saveAndLeave(leaving))] : [])
                            + [
                                Choice(key: "d", title: "discard", action: .discardAndLeave(leaving)),
                                Choice(key: "c", title: "cancel", action: nil),
                            ])))
            return []
        }
        switch leaving {
        case .quit:
            state.quit = true
            return []
        case .campaignList:
            state.screen = .campaignList
            return [.loadCampaigns]
        }
    }

    /// Opens the kind menu for a node after `source` (or starting a branch).
    static func openKindMenu(_ state: inout AppState, after source: PortRef?) {
        let kinds = NodeKind.allCases.filter { kind in
            let starts = kind.startsBranch
            return source == nil ? starts : !starts
        }
        let items = kinds.map { MenuItem(title: $0.title, detail: $0.purpose, value: .kind($0)) }
        let title = source.map { "Add after '\($0.node)' (\($0.port))" } ?? "Add a node that starts a branch"
        state.modes.append(.menu(Menu(purpose: .addNode(after: source), title: title, items: items)))
    }

    /// `id` and every node reachable from it.
    static func downstream(of id: NodeID, in campaign: Campaign) -> [NodeID] {
        var seen: [NodeID] = []
        var queue = [id]
        while let next = queue.first {
            queue.removeFirst()
            guard !seen.contains(next) else { continue }
            seen.append(next)
            queue += campaign.outbound(next).map(\.to)
        }
        return seen
    }
}

extension CanvasState {
    /// The output port edits act on: the one chosen with Tab, else the first free one, else
    /// the first.
    public var selectedSource: PortRef? {
        guard let id = selected, let node = draft.node(id), !node.outputPorts.isEmpty else { return nil }
        if let port = selectedPort, node.outputPorts.contains(port) { return PortRef(node: id, port: port) }
        let free = node.outputPorts.first { draft.edge(from: PortRef(node: id, port: $0)) == nil }
        return PortRef(node: id, port: free ?? node.outputPorts[0])
    }
}
