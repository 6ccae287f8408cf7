import HeraldCore
import HeraldEngine
import HeraldStore
import HeraldTUI
import Testing

@Suite struct ReducerTests {
    static let summaries = [
        CampaignSummary(
            id: 2, name: "Departure reminder", description: "Per booking", version: 1, nodeCount: 3, updatedAt: "", lastRun: nil),
        CampaignSummary(
            id: 1, name: "Welcome series", description: "Greets sign-ups", version: 3, nodeCount: 7, updatedAt: "", lastRun: nil),
    ]

    func listState() -> AppState {
        var state = AppState(storeName: "sample.db")
        state.width = 100
        state.height = 30
        _ = Reducer.reduce(&state, .campaignsLoaded(Self.summaries))
        return state
    }

    @Test func movingAndOpeningInTheList() {
        var state = listState()
        #expect(Reducer.reduce(&state, .keyPressed(.char("j"))) == [])
        #expect(state.listSelection == 1)
        #expect(Reducer.reduce(&state, .keyPressed(.down)) == [])
        #expect(state.listSelection == 1)  // clamped at the end
        #expect(Reducer.reduce(&state, .keyPressed(.enter)) == [.openCampaign(id: 1)])
        _ = Reducer.reduce(&state, .keyPressed(.char("g")))
        #expect(state.listSelection == 0)
    }

    @Test func openingShowsTheCanvasWithTheFirstNodeSelected() {
        var state = listState()
        _ = Reducer.reduce(&state, .campaignOpened(welcome))
        #expect(state.screen == .canvas)
        #expect(state.canvas?.selected == "signups")
        _ = Reducer.reduce(&state, .keyPressed(.char("j")))
        #expect(state.canvas?.selected == "welcome")
        _ = Reducer.reduce(&state, .keyPressed(.char("k")))
        #expect(state.canvas?.selected == "signups")
    }

    @Test func escapeAndQBackOutOneLevelAtATime() {
        var state = listState()
        _ = Reducer.reduce(&state, .campaignOpened(welcome))
        _ = Reducer.reduce(&state, .keyPressed(.char("?")))
        #expect(isHelp(state))
        _ = Reducer.reduce(&state, .keyPressed(.escape))
        #expect(state.modes == [] && state.screen == .canvas)
        #expect(Reducer.reduce(&state, .keyPressed(.escape)) == [.loadCampaigns])
        #expect(state.screen == .campaignList)
        _ = Reducer.reduce(&state, .keyPressed(.escape))
        #expect(!state.quit)  // Esc never quits
        _ = Reducer.reduce(&state, .keyPressed(.char("q")))
        #expect(state.quit)
    }

    @Test func aDryRunFillsCountsAsNodesFinish() {
        var state = listState()
        _ = Reducer.reduce(&state, .campaignOpened(welcome))
        let opened = state.canvas?.layout
        #expect(Reducer.reduce(&state, .keyPressed(.char("r"))) == [.startDryRun(welcome)])
        // A second r while it runs is refused with the reason.
        #expect(Reducer.reduce(&state, .keyPressed(.char("r"))) == [])
        #expect(state.status == "dry run: a run is already in progress")
        let target = RunTarget(welcome)
        _ = Reducer.reduce(&state, .runProgressed(target, .started(runID: 9)))
        _ = Reducer.reduce(&state, .runProgressed(target, .nodeStarted("signups")))
        #expect(state.canvas?.run?.nodeStates["signups"] == .running)
        _ = Reducer.reduce(
            &state,
            .runProgressed(target, .nodeFinished("signups", state: .completed, inputCount: nil, outputs: ["out": 1234], detail: nil)))
        #expect(state.canvas?.run?.edgeCounts[PortRef(node: "signups", port: "out")] == 1234)
        #expect(state.canvas?.layout == opened)  // counts never relayout
        // x stops it; once the run has finished there is nothing to stop.
        #expect(Reducer.reduce(&state, .keyPressed(.char("x"))) == [.stopRun(target)])
        #expect(state.status == "stopping the run…")
        _ = Reducer.reduce(&state, .runEnded(target, message: "dry run of 'Welcome series' stopped"))
        #expect(state.canvas?.run?.finished == true)
        #expect(Reducer.reduce(&state, .keyPressed(.char("x"))) == [])
        #expect(state.status == "stop: no run is in progress")
    }

    /// A run started on one campaign and left keeps its identity: its progress never paints
    /// another campaign, that one can start its own run, and each can be stopped on its own.
    @Test func runResultsBelongToTheirCampaign() throws {
        var state = listState()
        _ = Reducer.reduce(&state, .campaignOpened(welcome))
        let a = RunTarget(welcome)
        #expect(Reducer.reduce(&state, .keyPressed(.char("r"))) == [.startDryRun(welcome)])
        _ = Reducer.reduce(&state, .runProgressed(a, .started(runID: 1)))
        _ = Reducer.reduce(&state, .keyPressed(.escape))
        let other = StoredCampaign(id: 2, version: 1, campaign: try HeraldTUITestsData.campaign(named: "Departure reminder"))
        _ = Reducer.reduce(&state, .campaignOpened(other))
        let firstNode = try #require(other.campaign.nodes.first?.id)
        _ = Reducer.reduce(
            &state, .runProgressed(a, .nodeFinished("signups", state: .completed, inputCount: nil, outputs: [.out: 999], detail: nil)))
        #expect(state.canvas?.run == nil)  // A's counts do not land on B
        #expect(Reducer.reduce(&state, .keyPressed(.char("x"))) == [])  // nothing of B's to stop
        #expect(Reducer.reduce(&state, .keyPressed(.char("r"))) == [.startDryRun(other)])
        let b = RunTarget(other)
        _ = Reducer.reduce(
            &state, .runProgressed(b, .nodeFinished(firstNode, state: .completed, inputCount: nil, outputs: [.out: 5], detail: nil)))
        #expect(state.canvas?.run?.edgeCounts[PortRef(node: firstNode, port: .out)] == 5)
        #expect(state.runsInFlight == [a, b])
        // Back on A, its run is still there to stop.
        _ = Reducer.reduce(&state, .keyPressed(.escape))
        _ = Reducer.reduce(&state, .campaignOpened(welcome))
        #expect(Reducer.reduce(&state, .keyPressed(.char("x"))) == [.stopRun(a)])
        _ = Reducer.reduce(&state, .runEnded(a, message: "stopped"))
        #expect(state.runsInFlight == [b])
    }

    /// After a live run, a channel node's inspector breaks its messages down by state and reason.
    @Test func aLiveRunsMessagesShowInTheInspector() {
        var state = listState()
        _ = Reducer.reduce(&state, .campaignOpened(welcome))
        let summary = RunSummary(
            id: 5, campaignID: welcome.id, campaignName: "Welcome series", version: 1, dryRun: false, state: .completed,
            startedAt: "2026-11-29T10:00:00Z", finishedAt: nil, error: nil)
        var counts = MessageCounts()
        counts.byState = [.sent: 120, .excluded: 12, .failed: 1]
        counts.excluded = ["opted_out": 9, "no_address": 3]
        counts.failed = ["render_failed": 1]
        let detail = RunDetail(
            summary: summary,
            nodes: [RunNodeState(nodeID: "welcome", state: .completed, inputCount: 133, durationMS: 1, detail: nil, error: nil)],
            edges: [RunEdgeCount(fromNode: "welcome", port: "out", toNode: "wait", count: 120)], messages: ["welcome": counts])
        _ = Reducer.reduce(&state, .lastRunLoaded(detail))
        let lines = InspectorScreen.lines(state, node: "welcome")
        let tail = Array(lines.suffix(7))
        #expect(
            tail == [
                "messages: 133", "  sent: 120", "  failed: 1", "    render_failed: 1", "  excluded: 12", "    opted_out: 9",
                "    no_address: 3",
            ], "\(lines)")
    }

    /// Another process's run read while its last node had committed and the run had not: the
    /// completion, read next with the same counts, still shows.
    @Test func aRunsCompletionShowsEvenWhenItsCountsDidNotChange() {
        var state = listState()
        _ = Reducer.reduce(&state, .campaignOpened(welcome))
        var summary = RunSummary(
            id: 6, campaignID: welcome.id, campaignName: "Welcome series", version: 1, dryRun: true, state: .running,
            startedAt: "2026-11-29T10:00:00Z", finishedAt: nil, error: nil)
        let nodes = [RunNodeState(nodeID: "signups", state: .completed, inputCount: nil, durationMS: 1, detail: nil, error: nil)]
        let edges = [RunEdgeCount(fromNode: "signups", port: "out", toNode: "welcome", count: 77)]
        _ = Reducer.reduce(&state, .runRefreshed(RunDetail(summary: summary, nodes: nodes, edges: edges)))
        #expect(state.status.hasPrefix("run #6 running elsewhere"))
        summary.state = .completed
        _ = Reducer.reduce(&state, .runRefreshed(RunDetail(summary: summary, nodes: nodes, edges: edges)))
        #expect(state.status.hasPrefix("counts of dry run #6 (completed)"), "\(state.status)")
    }

    @Test func theLatestRunsCountsShowWhenACampaignOpens() {
        var state = listState()
        _ = Reducer.reduce(&state, .campaignOpened(welcome))
        let summary = RunSummary(
            id: 4, campaignID: welcome.id, campaignName: "Welcome series", version: 1, dryRun: true, state: .completed,
            startedAt: "2026-11-29T10:00:00Z", finishedAt: nil, error: nil)
        let detail = RunDetail(
            summary: summary,
            nodes: [RunNodeState(nodeID: "signups", state: .completed, inputCount: nil, durationMS: 1, detail: nil, error: nil)],
            edges: [RunEdgeCount(fromNode: "signups", port: "out", toNode: "welcome", count: 77)])
        _ = Reducer.reduce(&state, .lastRunLoaded(detail))
        #expect(state.canvas?.run?.edgeCounts[PortRef(node: "signups", port: "out")] == 77)
        #expect(state.canvas?.run?.finished == true)
        #expect(state.status.hasPrefix("counts of dry run #4"))
        // A run of another campaign is ignored.
        var other = detail
        other.summary.campaignID = 99
        other.edges[0].count = 1
        _ = Reducer.reduce(&state, .lastRunLoaded(other))
        #expect(state.canvas?.run?.edgeCounts[PortRef(node: "signups", port: "out")] == 77)
    }

    /// Another process's commits make the open canvas read its campaign's latest run again; the
    /// answer is shown only if it is still about what is open and no run of this process is in
    /// progress.
    @Test func storeChangesRefreshTheRunShownFromTheStore() {
        var state = listState()
        #expect(Reducer.reduce(&state, .storeChanged) == [.loadCampaigns])
        _ = Reducer.reduce(&state, .campaignOpened(welcome))
        #expect(Reducer.reduce(&state, .storeChanged) == [.refreshRun(campaignID: welcome.id, version: welcome.version)])
        let summary = RunSummary(
            id: 5, campaignID: welcome.id, campaignName: "Welcome series", version: 1, dryRun: true, state: .running,
            startedAt: "2026-11-29T10:00:00Z", finishedAt: nil, error: nil)
        var detail = RunDetail(
            summary: summary,
            nodes: [
                RunNodeState(nodeID: "signups", state: .completed, inputCount: nil, durationMS: 1, detail: nil, error: nil),
                RunNodeState(nodeID: "welcome", state: .running, inputCount: nil, durationMS: nil, detail: nil, error: nil),
            ],
            edges: [RunEdgeCount(fromNode: "signups", port: "out", toNode: "welcome", count: 12)])
        _ = Reducer.reduce(&state, .runRefreshed(detail))
        #expect(state.canvas?.run?.edgeCounts[PortRef(node: "signups", port: "out")] == 12)
        #expect(state.canvas?.run?.observed == true)
        #expect(state.status == "run #5 running elsewhere: 1 of 2 nodes done")
        // Read back unchanged, it leaves the status line alone.
        state.status = "a message"
        _ = Reducer.reduce(&state, .runRefreshed(detail))
        #expect(state.status == "a message")
        // A stale answer (another version) is dropped.
        var stale = detail
        stale.summary.version = 2
        stale.edges[0].count = 1
        _ = Reducer.reduce(&state, .runRefreshed(stale))
        #expect(state.canvas?.run?.edgeCounts[PortRef(node: "signups", port: "out")] == 12)
        // While this process runs the campaign, its own events count, not the store's.
        _ = Reducer.reduce(&state, .keyPressed(.char("r")))
        _ = Reducer.reduce(&state, .runProgressed(RunTarget(welcome), .started(runID: 6)))
        #expect(Reducer.reduce(&state, .storeChanged) == [])
        detail.edges[0].count = 3
        _ = Reducer.reduce(&state, .runRefreshed(detail))
        #expect(state.canvas?.run?.runID == 6)
        // Once it ends here (stopped), reading it back from the store leaves its message.
        var ended = detail
        ended.summary.id = 6
        ended.summary.state = .stopped
        ended.nodes[1].state = .stopped
        _ = Reducer.reduce(&state, .runProgressed(RunTarget(welcome), .finished(ended)))
        _ = Reducer.reduce(&state, .runEnded(RunTarget(welcome), message: "dry run of 'Welcome series' stopped"))
        _ = Reducer.reduce(&state, .runRefreshed(ended))
        #expect(state.status == "dry run of 'Welcome series' stopped")
    }

    /// i on a node opens its read-only inspector over the canvas; Esc closes it.
    @Test func iOpensTheNodeInspector() {
        var state = listState()
        _ = Reducer.reduce(&state, .campaignOpened(welcome))
        _ = Reducer.reduce(&state, .keyPressed(.char("i")))
        #expect(state.modes == [.inspector("signups")])
        // Keys belong to the inspector while it is open: j does not move the selection.
        _ = Reducer.reduce(&state, .keyPressed(.char("j")))
        #expect(state.canvas?.selected == "signups")
        var text = AppView.render(state, glyphs: .ascii).text
        #expect(text.contains("Build audience 'New sign-ups'"), "\(text)")
        #expect(text.contains("out → welcome: -"))
        _ = Reducer.reduce(&state, .runProgressed(RunTarget(welcome), .started(runID: 4)))
        _ = Reducer.reduce(
            &state,
            .runProgressed(
                RunTarget(welcome), .nodeFinished("signups", state: .completed, inputCount: nil, outputs: [.out: 1234], detail: nil)))
        text = AppView.render(state, glyphs: .ascii).text
        #expect(text.contains("out → welcome: 1,234"), "\(text)")
        #expect(text.contains("run #4: completed"))
        _ = Reducer.reduce(&state, .keyPressed(.escape))
        #expect(state.modes.isEmpty && state.screen == .canvas)
    }

    func isHelp(_ state: AppState) -> Bool {
        if case .menu(let menu) = state.modes.last { return menu.purpose == .help && state.modes.count == 1 }
        return false
    }

    /// The help lists the screen's commands from the registry; typing filters, Enter runs one.
    @Test func theHelpFiltersAndRuns() {
        var state = listState()
        _ = Reducer.reduce(&state, .campaignOpened(welcome))
        _ = Reducer.reduce(&state, .keyPressed(.char("?")))
        for c in "/undo" { _ = Reducer.reduce(&state, .keyPressed(.char(c))) }
        let text = AppView.render(state, glyphs: .ascii).text
        #expect(text.contains("Undo the last edit (not now: nothing to undo)"), "\(text)")
        for _ in 0..<4 { _ = Reducer.reduce(&state, .keyPressed(.backspace)) }
        for c in "centre" { _ = Reducer.reduce(&state, .keyPressed(.char(c))) }
        guard case .menu(let menu) = state.modes.last else {
            Issue.record("help closed")
            return
        }
        #expect(menu.visible.map(\.value) == [.command("canvas.center")])
        _ = Reducer.reduce(&state, .keyPressed(.enter))
        #expect(state.modes.isEmpty)
    }

    /// In the help j/k move and '/' starts the filter; every focus level has its own help: ? where
    /// it takes no text, F1 where it does (there '?' is typed).
    @Test func everyLevelListsItsOwnKeys() {
        var state = listState()
        _ = Reducer.reduce(&state, .campaignOpened(welcome))
        _ = Reducer.reduce(&state, .keyPressed(.char("?")))
        _ = Reducer.reduce(&state, .keyPressed(.char("j")))
        _ = Reducer.reduce(&state, .keyPressed(.char("j")))
        guard case .menu(var help) = state.modes.last else {
            Issue.record("no help")
            return
        }
        #expect(help.selection == 2 && help.filter.text.isEmpty)
        _ = Reducer.reduce(&state, .keyPressed(.char("k")))
        _ = Reducer.reduce(&state, .keyPressed(.char("/")))
        for c in "jk" { _ = Reducer.reduce(&state, .keyPressed(.char(c))) }
        guard case .menu(let filtered) = state.modes.last else { return }
        help = filtered
        #expect(help.filter.text == "jk")
        _ = Reducer.reduce(&state, .keyPressed(.escape))
        // The node form's own keys.
        _ = Reducer.reduce(&state, .keyPressed(.enter))
        guard case .nodeForm = state.modes.last else {
            Issue.record("no form: \(state.modes)")
            return
        }
        _ = Reducer.reduce(&state, .keyPressed(.char("?")))
        guard case .menu(let formHelp) = state.modes.last, formHelp.purpose == .help else {
            Issue.record("no help over the form: \(state.status)")
            return
        }
        #expect(formHelp.title.contains("node form"))
        #expect(formHelp.items.contains { $0.value == .command("form.apply") }, "\(formHelp.items.map(\.value))")
        _ = Reducer.reduce(&state, .keyPressed(.escape))
        // A prompt takes text: '?' is typed, F1 opens its help.
        _ = Reducer.reduce(&state, .keyPressed(.escape))
        _ = Reducer.reduce(&state, .keyPressed(.char("n")))
        guard case .prompt = state.modes.last else {
            Issue.record("no prompt: \(state.modes)")
            return
        }
        _ = Reducer.reduce(&state, .keyPressed(.char("?")))
        guard case .prompt(let prompt) = state.modes.last else { return }
        #expect(prompt.buffer.text.hasSuffix("?"))
        _ = Reducer.reduce(&state, .keyPressed(.function(1)))
        guard case .menu(let promptHelp) = state.modes.last else {
            Issue.record("no help over the prompt")
            return
        }
        #expect(promptHelp.title.contains("prompt"))
    }

    /// Results that no longer match the state are dropped: a count for a rule typed over since,
    /// a preview asked before another one, a draft of another campaign, a run of another version.
    @Test func staleResultsAreDropped() {
        var state = listState()
        _ = Reducer.reduce(&state, .campaignOpened(welcome))
        var form = NodeForm(node: welcome.campaign.nodes[0])
        form.countRequest = 7
        form.count = .counting
        state.modes = [.nodeForm(form)]
        _ = Reducer.reduce(&state, .audienceCounted(request: 6, .success(999)))
        guard case .nodeForm(let stale) = state.modes.last else { Issue.record("form gone"); return }
        #expect(stale.count == .counting)
        _ = Reducer.reduce(&state, .audienceCounted(request: 7, .success(12)))
        guard case .nodeForm(let fresh) = state.modes.last else { Issue.record("form gone"); return }
        #expect(fresh.count == .counted(12))
        state.modes = [.nodeForm(form), .preview(MessagePreview(request: 9, recipient: "profile 1"))]
        _ = Reducer.reduce(&state, .messagePreviewed(request: 8, .failure(CountFailure("old"))))
        guard case .preview(let preview) = state.modes.last else { Issue.record("preview gone"); return }
        #expect(preview.result == nil)
        state.modes = []
        let other = Draft(key: DraftKey("campaign 2"), campaignID: 2, baseVersion: 1, campaign: welcome.campaign)
        _ = Reducer.reduce(&state, .draftFound(other))
        #expect(state.modes.isEmpty)
        _ = Reducer.reduce(&state, .runProgressed(RunTarget(campaignID: 1, version: 9), .started(runID: 3)))
        #expect(state.canvas?.run == nil)
    }

    @Test func unknownKeysSayHowToGetHelp() {
        var state = listState()
        _ = Reducer.reduce(&state, .keyPressed(.char("%")))
        #expect(state.status == "no command on this key; press ? for help")
    }

    @Test func everyCommandHasAKeyAndNoKeyIsUsedTwiceInAScope() {
        var list = listState()
        var canvas = list
        _ = Reducer.reduce(&canvas, .campaignOpened(welcome))
        var help = canvas
        _ = Reducer.reduce(&help, .keyPressed(.char("?")))
        #expect(isHelp(help))
        var inspector = canvas
        _ = Reducer.reduce(&inspector, .keyPressed(.char("i")))
        #expect(inspector.modes == [.inspector("signups")])
        let node = welcome.campaign.nodes[0]
        var editing = NodeForm(node: node)
        editing.editing = TextBuffer("x")
        let modes: [Mode] = [
            .menu(Menu(purpose: .goToNode, title: "t", items: [])),
            .confirm(Confirmation(question: "?", choices: [Choice(key: "y", title: "yes", action: nil)])),
            .prompt(Prompt(purpose: .renameNode(node.id), title: "t")), .nodeForm(NodeForm(node: node)), .nodeForm(editing),
            .connect(Connect(source: PortRef(node: node.id, port: .out), target: nil, targetPort: nil)), .problems(selection: 0),
            .preview(MessagePreview(request: 1, recipient: "profile 1")),
            .ruleBuilder(RuleBuilder(rule: .all, entity: "profiles", field: "rule")), .commandLine(TextBuffer()),
            .listEditor(ListEditor(field: NodeKind.split.fields[1], items: [])), .weekdays(WeekdayPicker(days: [])),
            .calendar(CalendarPicker(field: "until", day: 20_000, time: "T09:00")),
        ]
        var states = [("list", list), ("canvas", canvas), ("help", help), ("inspector", inspector)]
        for mode in modes {
            var state = canvas
            state.modes = [mode]
            states.append(("\(mode.scope)", state))
        }
        for (name, state) in states {
            let commands = CommandRegistry.active(for: state)
            let keys = commands.flatMap(\.keys)
            #expect(Set(keys).count == keys.count, "duplicate key in \(name)")
            // Every command has a key, or takes text (the one that types into the field).
            #expect(commands.allSatisfy { !$0.keys.isEmpty || $0.takesText || $0.takesPointer }, "\(name)")
            #expect(commands.filter(\.takesText).count <= 1, "\(name)")
            // A mode that takes text leaves no printable key to a command but its field.
            if state.modes.last?.takesText == true {
                #expect(!keys.contains { if case .char = $0 { true } else { false } }, "\(name)")
            }
        }
        // Every command of the registry is reachable on some screen.
        let reachable = Set(states.flatMap { CommandRegistry.active(for: $0.1).map(\.id) })
        #expect(reachable == Set(CommandRegistry.all.map(\.id)))
        // Esc closes the help, then goes back to the list, and never quits.
        _ = Reducer.reduce(&help, .keyPressed(.escape))
        #expect(help.modes.isEmpty && help.screen == .canvas)
        #expect(Reducer.reduce(&help, .keyPressed(.escape)) == [.loadCampaigns])
        _ = Reducer.reduce(&list, .keyPressed(.escape))
        #expect(!list.quit)
        #expect(Reducer.reduce(&list, .keyPressed(.ctrl("l"))) == [.redraw])
    }
}
