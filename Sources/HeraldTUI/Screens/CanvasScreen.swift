import HeraldCore
import HeraldEngine
import HeraldStore

/// The canvas: its commands, its navigation and the results it handles (a campaign opened, runs
/// in progress in this process or another).
enum CanvasScreen {
    static let commands: [Command] = [
        Command(
            id: "canvas.inspect", title: "inspect", help: "Open the selected node's inspector (read-only)", group: "Canvas",
            keys: [.enter], keyLabel: "enter", scope: .canvas, inKeyBar: false,
            disabledReason: { $0.canvas?.selected == nil ? "select a node first" : nil },
            perform: { state in
                guard let id = state.canvas?.selected else { return [] }
                state.overlays.append(.inspector(id))
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
            id: "canvas.center", title: "centre", help: "Centre the view on the selected node", group: "Canvas", keys: [.char(".")],
            keyLabel: ".", scope: .canvas, inKeyBar: false, disabledReason: { $0.canvas?.selected == nil ? "select a node first" : nil },
            perform: { state in
                CanvasNavigation.center(&state)
                return []
            }),
        Command(
            id: "canvas.dryRun", title: "dry run", help: "Compute every node's population without sending (counts appear live)",
            group: "Run", keys: [.char("r")], keyLabel: "r", scope: .canvas, inKeyBar: true,
            disabledReason: { $0.runInProgress ? "a run is already in progress" : nil },
            perform: { state in
                guard let canvas = state.canvas else { return [] }
                state.canvas?.run = RunView()
                state.runsInFlight.insert(RunTarget(canvas.stored))
                state.status = "dry run started"
                return [.startDryRun(canvas.stored)]
            }),
        Command(
            id: "canvas.stopRun", title: "stop", help: "Stop the run in progress, even mid-node (recorded as stopped)",
            group: "Run", keys: [.char("x")], keyLabel: "x", scope: .canvas, inKeyBar: true,
            disabledReason: { $0.runInProgress ? nil : "no run is in progress" },
            perform: { state in
                guard let canvas = state.canvas else { return [] }
                state.status = "stopping the run…"
                return [.stopRun(RunTarget(canvas.stored))]
            }),
    ]

    /// The canvas's part of the reducer; nil for actions it does not handle.
    static func reduce(_ state: inout AppState, _ action: Action) -> [Effect]? {
        switch action {
        case .campaignOpened(let stored):
            let previousLayout = state.canvas?.stored.id == stored.id ? state.canvas?.layout : nil
            let layout = GraphLayout.layout(stored.campaign, previous: previousLayout)
            state.canvas = CanvasState(stored: stored, layout: layout, selected: stored.campaign.nodes.first?.id)
            state.screen = .canvas
            state.status = ""
            return []
        case .lastRunLoaded(let detail):
            guard let canvas = state.canvas, canvas.stored.id == detail.summary.campaignID, canvas.run == nil else { return [] }
            state.canvas?.run = RunView(detail)
            state.status =
                "counts of \(detail.summary.dryRun ? "dry " : "")run #\(detail.summary.id), \(detail.summary.startedAt); r runs again"
            return []
        case .storeChanged:
            guard let canvas = state.canvas else { return state.screen == .campaignList ? [.loadCampaigns] : [] }
            // A run this process executes reports its own progress.
            if state.runInProgress { return [] }
            return [.refreshRun(campaignID: canvas.stored.id, version: canvas.stored.version)]
        case .runRefreshed(let detail):
            guard let canvas = state.canvas, canvas.stored.id == detail.summary.campaignID,
                canvas.stored.version == detail.summary.version, !state.runInProgress
            else { return [] }
            let refreshed = RunView(detail)
            // Nothing new (this process's own run, read back): the status line keeps its message.
            if let shown = canvas.run, shown.runID == refreshed.runID, shown.nodeStates == refreshed.nodeStates,
                shown.edgeCounts == refreshed.edgeCounts
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
            guard let canvas = state.canvas, RunTarget(canvas.stored) == target else { return [] }
            if state.canvas?.run == nil { state.canvas?.run = RunView() }
            switch event {
            case .started(runID: let runID):
                state.canvas?.run?.runID = runID
                state.status = "dry run #\(runID) running"
            case .nodeStarted(let id):
                state.canvas?.run?.nodeStates[id] = .running
            case .nodeFinished(let id, state: let nodeState, inputCount: _, outputs: let outputs, detail: let detail):
                state.canvas?.run?.nodeStates[id] = nodeState
                for (port, count) in outputs { state.canvas?.run?.edgeCounts[PortRef(node: id, port: port)] = count }
                if nodeState == .failed { state.canvas?.run?.error = detail }
            case .finished(let detail):
                state.canvas?.run?.finished = true
                for n in detail.nodes { state.canvas?.run?.nodeStates[n.nodeID] = n.state }
                for e in detail.edges { state.canvas?.run?.edgeCounts[PortRef(node: e.fromNode, port: e.port)] = e.count }
                state.status =
                    detail.summary.state == .completed
                    ? "dry run #\(detail.summary.id) completed" : "dry run #\(detail.summary.id) \(detail.summary.state.rawValue)"
            }
            return []
        case .runEnded(let target, let message):
            state.runsInFlight.remove(target)
            guard let canvas = state.canvas, RunTarget(canvas.stored) == target else { return [] }
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
        guard let current = canvas.selected, let from = canvas.layout.boxes[current] else {
            state.canvas?.selected = canvas.stored.campaign.nodes.first?.id
            return
        }
        var best: (NodeID, Int)?
        for (id, box) in canvas.layout.boxes where id != current {
            let ddx = box.midX - from.midX
            let ddy = box.midY - from.midY
            let along = dx != 0 ? ddx * dx : ddy * dy
            guard along > 0 else { continue }
            let across = dx != 0 ? abs(ddy) : abs(ddx)
            let score = along + across * 3
            if best == nil || score < best!.1 || (score == best!.1 && id < best!.0) { best = (id, score) }
        }
        if let best {
            state.canvas?.selected = best.0
            ensureVisible(&state)
        }
    }

    static func center(_ state: inout AppState) {
        guard let canvas = state.canvas, let id = canvas.selected, let box = canvas.layout.boxes[id] else { return }
        let view = CanvasView.viewport(state)
        state.canvas?.scrollX = box.midX - view.width / 2
        state.canvas?.scrollY = box.midY - view.height / 2
    }

    static func ensureVisible(_ state: inout AppState) {
        guard let canvas = state.canvas, let id = canvas.selected, let box = canvas.layout.boxes[id] else { return }
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
