import HeraldCore
import HeraldEngine
import HeraldStore

/// The canvas: its commands, its navigation and the results it handles (a campaign opened, runs
/// in progress in this process or another).
enum CanvasScreen {
    static let commands: [Command] = [
        Command(
            id: "canvas.inspect", title: "inspect",
            help: "Open the selected node's read-only inspector: configuration, where each port leads, the shown run's counts",
            group: "Canvas", keys: [.char("i")], keyLabel: "i", scope: .canvas, inKeyBar: false,
            disabledReason: { $0.canvas?.selected == nil ? "select a node first" : nil },
            perform: { state in
                guard let id = state.canvas?.selected else { return [] }
                state.modes.append(.inspector(id))
                return []
            }),
        Command(
            id: "canvas.left", title: "move", help: "Select the nearest node to the left", group: "Canvas", keys: [.char("h"), .left],
            keyLabel: "hjkl", scope: .canvas, inKeyBar: true, disabledReason: { _ in nil },
            perform: { state in
                CanvasNavigation.move(&state, dx: -1, dy: 0)
                return []
            }),
        Command(
            id: "canvas.down", title: "down", help: "Select the nearest node below", group: "Canvas", keys: [.char("j"), .down],
            keyLabel: "j", scope: .canvas, inKeyBar: false, disabledReason: { _ in nil },
            perform: { state in
                CanvasNavigation.move(&state, dx: 0, dy: 1)
                return []
            }),
        Command(
            id: "canvas.up", title: "up", help: "Select the nearest node above", group: "Canvas", keys: [.char("k"), .up],
            keyLabel: "k", scope: .canvas, inKeyBar: false, disabledReason: { _ in nil },
            perform: { state in
                CanvasNavigation.move(&state, dx: 0, dy: -1)
                return []
            }),
        Command(
            id: "canvas.right", title: "right", help: "Select the nearest node to the right", group: "Canvas", keys: [.char("l"), .right],
            keyLabel: "l", scope: .canvas, inKeyBar: false, disabledReason: { _ in nil },
            perform: { state in
                CanvasNavigation.move(&state, dx: 1, dy: 0)
                return []
            }),
        Command(
            id: "canvas.panLeft", title: "pan left", help: "Scroll the canvas left", group: "Canvas", keys: [.char("H")], keyLabel: "H",
            scope: .canvas, inKeyBar: false, disabledReason: { _ in nil },
            perform: { state in
                state.canvas?.scrollX -= 8
                return []
            }),
        Command(
            id: "canvas.panDown", title: "pan down", help: "Scroll the canvas down", group: "Canvas", keys: [.char("J"), .pageDown],
            keyLabel: "J", scope: .canvas, inKeyBar: false, disabledReason: { _ in nil },
            perform: { state in
                state.canvas?.scrollY += 4
                return []
            }),
        Command(
            id: "canvas.panUp", title: "pan up", help: "Scroll the canvas up", group: "Canvas", keys: [.char("K"), .pageUp], keyLabel: "K",
            scope: .canvas, inKeyBar: false, disabledReason: { _ in nil },
            perform: { state in
                state.canvas?.scrollY -= 4
                return []
            }),
        Command(
            id: "canvas.panRight", title: "pan right", help: "Scroll the canvas right", group: "Canvas", keys: [.char("L")],
            keyLabel: "L", scope: .canvas, inKeyBar: false, disabledReason: { _ in nil },
            perform: { state in
                state.canvas?.scrollX += 8
                return []
            }),
        Command(
            id: "canvas.zoom", title: "zoom",
            help: "Switch between full boxes and compact one-line nodes (automatic: compact when the graph does not fit)",
            group: "Canvas", keys: [.char("z")], keyLabel: "z", scope: .canvas, inKeyBar: false,
            perform: { state in
                guard let canvas = state.canvas else { return [] }
                let next: Zoom =
                    switch canvas.zoom {
                    case .automatic: canvas.layout.metrics.isCompact ? .full : .compact
                    case .full: .compact
                    case .compact: .automatic
                    case .outline: .automatic
                    }
                state.canvas?.zoom = next
                CanvasNavigation.relayout(&state)
                state.status =
                    switch next {
                    case .automatic:
                        "zoom: automatic (\(state.canvas?.layout.metrics.isCompact == true ? "compact" : "full boxes") at this size)"
                    case .full: "zoom: full boxes"
                    case .compact: "zoom: compact nodes"
                    case .outline: "outline"
                    }
                return []
            }),
        Command(
            id: "canvas.outline", title: "outline", help: "Show the graph as an indented list in flow order (o again goes back)",
            group: "Canvas", keys: [.char("o")], keyLabel: "o", scope: .canvas, inKeyBar: false,
            perform: { state in
                guard let canvas = state.canvas else { return [] }
                state.canvas?.zoom = canvas.zoom == .outline ? .automatic : .outline
                state.canvas?.scrollY = 0
                CanvasNavigation.relayout(&state)
                return []
            }),
        Command(
            id: "canvas.find", title: "find", help: "Go to a node by its label, kind or id", group: "Canvas", keys: [.char("/")],
            keyLabel: "/", scope: .canvas, inKeyBar: false,
            disabledReason: { ($0.canvas?.draft.nodes.isEmpty ?? true) ? "the campaign has no nodes" : nil },
            perform: { state in
                state.modes.append(.menu(MenuScreen.nodes(state, purpose: .goToNode, title: "Go to node")))
                return []
            }),
        Command(
            id: "canvas.center", title: "centre", help: "Centre the view on the selected node", group: "Canvas", keys: [.char(".")],
            keyLabel: ".", scope: .canvas, inKeyBar: false, disabledReason: { $0.canvas?.selected == nil ? "select a node first" : nil },
            perform: { state in
                CanvasNavigation.center(&state)
                return []
            }),
        Command(
            id: "canvas.dryRun", title: "dry run", help: "Compute every node's population without sending (counts appear live)",
            group: "Run", keys: [.char("r")], keyLabel: "r", scope: .canvas, inKeyBar: true,
            disabledReason: runRefusal,
            perform: { state in
                guard let stored = state.canvas?.stored else { return [] }
                state.canvas?.run = RunView()
                state.runsInFlight.insert(RunTarget(stored))
                state.status = "dry run started"
                return [.startDryRun(stored)]
            }),
        Command(
            id: "canvas.liveRun", title: "live run",
            help: "Run the saved campaign for real: its channel nodes deliver through the configured providers (asks first)",
            group: "Run", keys: [.char("R")], keyLabel: "R", scope: .canvas, inKeyBar: false,
            disabledReason: runRefusal,
            perform: { state in
                guard let stored = state.canvas?.stored else { return [] }
                let channels = stored.campaign.nodes.filter { $0.definition.sendsOn != nil }.count
                let sends =
                    channels == 0
                    ? "It has no channel node, so it sends nothing; Save audience nodes save and End nodes start their campaigns."
                    : "Its \(Names.counted(channels, "channel node")) deliver to real recipients through the configured providers; what is sent cannot be taken back."
                state.modes.append(
                    .confirm(
                        Confirmation(
                            question: "Start a live run of '\(stored.campaign.name)' v\(stored.version)? \(sends)",
                            choices: [
                                Choice(key: "y", title: "start the live run", action: .startLiveRun),
                                Choice(key: "n", title: "cancel", action: nil),
                            ])))
                return []
            }),
        Command(
            id: "canvas.stopRun", title: "stop", help: "Stop the run in progress, even mid-node (recorded as stopped)",
            group: "Run", keys: [.char("x")], keyLabel: "x", scope: .canvas, inKeyBar: true,
            disabledReason: { $0.runInProgress ? nil : "no run is in progress" },
            perform: { state in
                guard let target = state.canvas?.target else { return [] }
                state.status = "stopping the run…"
                return [.stopRun(target)]
            }),
    ]

    /// Why the campaign on the canvas cannot be run now (dry or live); nil when it can.
    static func runRefusal(_ state: AppState) -> String? {
        guard let canvas = state.canvas else { return "open a campaign first" }
        if state.runInProgress { return "a run is already in progress" }
        if canvas.stored == nil { return "save the campaign first (w): a run executes a saved version" }
        if canvas.isDirty { return "save the changes first (w), or undo them: a run executes a saved version" }
        return nil
    }

    /// Starts a live run of the campaign on the canvas (once confirmed).
    static func startLiveRun(_ state: inout AppState) -> [Effect] {
        guard runRefusal(state) == nil, let stored = state.canvas?.stored else { return [] }
        state.canvas?.run = RunView(live: true)
        state.runsInFlight.insert(RunTarget(stored))
        state.status = "live run started"
        return [.startLiveRun(stored)]
    }

    /// The canvas's part of the reducer; nil for actions it does not handle.
    static func reduce(_ state: inout AppState, _ action: Action) -> [Effect]? {
        switch action {
        case .campaignOpened(let stored):
            let previous = state.canvas?.stored?.id == stored.id ? state.canvas : nil
            let layout = GraphLayout.layout(stored.campaign, previous: previous?.layout)
            state.canvas = CanvasState(
                stored: stored, draft: stored.campaign, draftKey: DraftKey("campaign \(stored.id)"), layout: layout)
            state.canvas?.zoom = previous?.zoom ?? .automatic
            state.screen = .canvas
            CanvasNavigation.relayout(&state)
            state.status = ""
            return [.loadContext]
        case .lastRunLoaded(let detail):
            guard let canvas = state.canvas, canvas.stored?.id == detail.summary.campaignID, canvas.run == nil else { return [] }
            state.canvas?.run = RunView(detail)
            state.status =
                "counts of \(detail.summary.dryRun ? "dry " : "")run #\(detail.summary.id), \(detail.summary.startedAt); r runs again"
            return []
        case .storeChanged:
            guard state.screen == .canvas, let canvas = state.canvas else { return state.screen == .campaignList ? [.loadCampaigns] : [] }
            // A run this process executes reports its own progress.
            guard !state.runInProgress, let stored = canvas.stored else { return [] }
            return [.refreshRun(campaignID: stored.id, version: stored.version)]
        case .runRefreshed(let detail):
            guard let canvas = state.canvas, canvas.stored?.id == detail.summary.campaignID,
                canvas.stored?.version == detail.summary.version, !state.runInProgress
            else { return [] }
            let refreshed = RunView(detail)
            // Nothing new (this process's own run, read back): the status line keeps its message.
            // (The run's own state counts: its last nodes and its completion commit apart.)
            if let shown = canvas.run, shown.runID == refreshed.runID, shown.nodeStates == refreshed.nodeStates,
                shown.edgeCounts == refreshed.edgeCounts, shown.runState == refreshed.runState, shown.messages == refreshed.messages
            {
                return []
            }
            state.canvas?.run = refreshed
            let done = detail.nodes.filter { !$0.state.isUnfinished }.count
            state.status =
                detail.summary.state == .running
                ? "run #\(detail.summary.id) running elsewhere: \(done) of \(detail.nodes.count) nodes done"
                : "counts of \(detail.summary.dryRun ? "dry " : "")run #\(detail.summary.id) (\(detail.summary.state.rawValue)), \(detail.summary.startedAt); r runs again"
            return []
        case .runProgressed(let target, let event):
            if case .finished = event { state.runsInFlight.remove(target) }
            // A run of another campaign (left while it runs) goes on; its results are its own.
            guard state.canvas?.target == target else { return [] }
            if state.canvas?.run == nil { state.canvas?.run = RunView() }
            switch event {
            case .started(runID: let runID):
                state.canvas?.run?.runID = runID
                state.status = "\(state.canvas?.run?.live == true ? "live" : "dry") run #\(runID) running"
            case .nodeStarted(let id):
                state.canvas?.run?.nodeStates[id] = .running
            case .nodeFinished(let id, state: let nodeState, inputCount: _, outputs: let outputs, detail: let detail):
                state.canvas?.run?.nodeStates[id] = nodeState
                for (port, count) in outputs { state.canvas?.run?.edgeCounts[PortRef(node: id, port: port)] = count }
                if nodeState == .failed { state.canvas?.run?.error = detail }
            case .delivering(let counts):
                state.canvas?.run?.messages = counts
                let sent = counts.values.reduce(0) { $0 + $1[.sent] }
                let remaining = counts.values.reduce(0) { $0 + $1.remaining }
                state.status =
                    "live run #\(state.canvas?.run?.runID ?? 0) delivering: \(Names.groupedCount(sent)) sent, \(Names.groupedCount(remaining)) to go"
            case .finished(let detail):
                state.canvas?.run?.finished = true
                state.canvas?.run?.messages = detail.messages
                // As the store has it, so that reading the run back changes nothing.
                state.canvas?.run?.runState = detail.summary.state
                for n in detail.nodes { state.canvas?.run?.nodeStates[n.nodeID] = n.state }
                for e in detail.edges { state.canvas?.run?.edgeCounts[PortRef(node: e.fromNode, port: e.port)] = e.count }
                let mode = detail.summary.dryRun ? "dry" : "live"
                let sent = detail.messages.values.reduce(0) { $0 + $1[.sent] }
                state.status =
                    "\(mode) run #\(detail.summary.id) \(detail.summary.state.rawValue)"
                    + (detail.summary.dryRun || detail.messages.isEmpty
                        ? "" : ": \(Names.groupedCount(sent)) sent (i on a channel node shows why the others were not)")
            }
            return []
        case .runEnded(let target, let message):
            state.runsInFlight.remove(target)
            guard state.canvas?.target == target else { return [] }
            state.canvas?.run?.finished = true
            state.status = message
            return []
        default:
            return nil
        }
    }
}

/// Moving the selection between nodes on the canvas.
enum CanvasNavigation {
    /// Selects the nearest node whose centre lies in the direction (dx, dy).
    static func move(_ state: inout AppState, dx: Int, dy: Int) {
        guard let canvas = state.canvas else { return }
        if canvas.zoom == .outline {
            // The outline is a list: up and down go line by line, left and right to the parent or first child.
            let lines = OutlineView.lines(canvas.draft)
            guard let at = lines.firstIndex(where: { $0.node == canvas.selected }) else {
                state.canvas?.selected = lines.first?.node
                return
            }
            var next = at
            if dy != 0 {
                next = min(max(at + dy, 0), lines.count - 1)
            } else if dx > 0, at + 1 < lines.count, lines[at + 1].depth > lines[at].depth {
                next = at + 1
            } else if dx < 0 {
                next = lines[..<at].lastIndex { $0.depth < lines[at].depth } ?? at
            }
            state.canvas?.selected = lines[next].node
            state.canvas?.selectedPort = nil
            ensureVisible(&state)
            return
        }
        guard let current = canvas.selected, canvas.layout.boxes[current] != nil else {
            state.canvas?.selected = canvas.draft.nodes.first?.id
            return
        }
        if let next = nearest(from: current, dx: dx, dy: dy, in: canvas.layout) {
            state.canvas?.selected = next
            state.canvas?.selectedPort = nil
            ensureVisible(&state)
        }
    }

    /// The node nearest to `current` whose centre lies in the direction (dx, dy).
    static func nearest(from current: NodeID, dx: Int, dy: Int, in layout: LayoutResult) -> NodeID? {
        guard let from = layout.boxes[current] else { return nil }
        // Up and down go to the next layer that has a node, the nearest one across in it: a
        // node's children come before what lies straight below them (compact nodes are close
        // together vertically and far apart across, so distance alone skipped children).
        if dy != 0, let layer = layout.layers.firstIndex(where: { $0.contains(current) }) {
            var next = layer + dy
            while layout.layers.indices.contains(next) {
                let candidates = layout.layers[next].compactMap { id in layout.boxes[id].map { (id, abs($0.midX - from.midX)) } }
                if let best = candidates.min(by: { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }) { return best.0 }
                next += dy
            }
            return nil
        }
        var best: (NodeID, Int)?
        for (id, box) in layout.boxes where id != current {
            let ddx = box.midX - from.midX
            let ddy = box.midY - from.midY
            let along = dx != 0 ? ddx * dx : ddy * dy
            guard along > 0 else { continue }
            let across = dx != 0 ? abs(ddy) : abs(ddx)
            let score = along + across * 3
            if best == nil || score < best!.1 || (score == best!.1 && id < best!.0) { best = (id, score) }
        }
        return best?.0
    }

    /// Lays the draft out again for the zoom and the screen, keeping the order of the nodes
    /// that stay (so edits and resizes do not reshuffle), and keeps the selection in view.
    static func relayout(_ state: inout AppState) {
        guard let canvas = state.canvas else { return }
        let view = CanvasView.viewport(state)
        func layout(_ metrics: LayoutMetrics) -> LayoutResult {
            GraphLayout.layout(canvas.draft, previous: canvas.layout, metrics: metrics)
        }
        switch canvas.zoom {
        case .full, .outline: state.canvas?.layout = layout(.full)
        case .compact: state.canvas?.layout = layout(.compact)
        case .automatic:
            let full = layout(.full)
            state.canvas?.layout = full.width <= view.width && full.height + 1 <= view.height ? full : layout(.compact)
        }
        ensureVisible(&state)
    }

    static func center(_ state: inout AppState) {
        guard let canvas = state.canvas, let id = canvas.selected, let box = canvas.layout.boxes[id] else { return }
        let view = CanvasView.viewport(state)
        state.canvas?.scrollX = box.midX - view.width / 2
        state.canvas?.scrollY = box.midY - view.height / 2
    }

    static func ensureVisible(_ state: inout AppState) {
        guard let canvas = state.canvas, let id = canvas.selected else { return }
        if canvas.zoom == .outline {
            guard let line = OutlineView.lines(canvas.draft).firstIndex(where: { $0.node == id }) else { return }
            let rows = CanvasView.viewport(state).height - 2
            if line < canvas.scrollY { state.canvas?.scrollY = line }
            if line >= canvas.scrollY + rows { state.canvas?.scrollY = line - rows + 1 }
            return
        }
        guard let box = canvas.layout.boxes[id] else { return }
        let view = CanvasView.viewport(state)
        var sx = canvas.scrollX
        var sy = canvas.scrollY
        if box.x - sx < 0 { sx = box.x }
        if box.maxX - sx > view.width { sx = box.maxX - view.width }
        if box.y - sy < 0 { sy = box.y }
        if box.maxY + 2 - sy > view.height { sy = box.maxY + 2 - view.height }
        state.canvas?.scrollX = sx
        state.canvas?.scrollY = sy
    }
}
