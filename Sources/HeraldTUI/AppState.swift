public import HeraldCore
public import HeraldEngine
public import HeraldStore

/// A key press, decoded from curses.
public enum Key: Hashable, Sendable {
    case char(Character)
    case ctrl(Character)
    case enter, escape, up, down, left, right, pageUp, pageDown, home, end, backspace, tab
    case function(Int)
    case resize
}

/// Which screen is showing.
public enum Screen: Equatable, Sendable {
    case campaignList
    case canvas
}

/// Counts and states of the run shown on the canvas.
public struct RunView: Equatable, Sendable {
    public var runID: Int64?
    public var nodeStates: [NodeID: RunState] = [:]
    /// Population size per output port.
    public var edgeCounts: [PortRef: Int] = [:]
    public var finished = false
    public var error: String?
    /// Shown from the store, not executed by this process (another one may be executing it).
    public var observed = false

    public init(runID: Int64? = nil, finished: Bool = false) {
        self.runID = runID
        self.finished = finished
    }

    /// A recorded run as the store has it.
    public init(_ detail: RunDetail) {
        self.init(runID: detail.summary.id, finished: true)
        observed = true
        for n in detail.nodes { nodeStates[n.nodeID] = n.state }
        for e in detail.edges { edgeCounts[PortRef(node: e.fromNode, port: e.port)] = e.count }
    }
}

/// What a run belongs to: the campaign version it executes. Every run result names it, and the
/// reducer applies a result only to the canvas that shows that version.
public struct RunTarget: Hashable, Sendable {
    public var campaignID: Int64
    public var version: Int

    public init(campaignID: Int64, version: Int) {
        self.campaignID = campaignID
        self.version = version
    }

    public init(_ stored: StoredCampaign) { self.init(campaignID: stored.id, version: stored.version) }
}

/// The open campaign on the canvas.
public struct CanvasState: Equatable, Sendable {
    public var stored: StoredCampaign
    public var layout: LayoutResult
    public var selected: NodeID?
    public var scrollX = 0
    public var scrollY = 0
    public var run: RunView?
}

/// Overlays above the current screen; Esc closes the top one.
public enum Overlay: Equatable, Sendable {
    case help
    /// A node's read-only inspector: its kind, configuration, ports and the shown run's counts.
    case inspector(NodeID)
}

/// The whole interface as a value.
public struct AppState: Equatable, Sendable {
    public var screen: Screen = .campaignList
    public var campaigns: [CampaignSummary] = []
    public var listSelection = 0
    public var canvas: CanvasState?
    public var overlays: [Overlay] = []
    public var status = ""
    /// Effects scheduled whose results have not come back yet.
    public var busy = 0
    /// Each scheduled campaign's next launch, as its zone shows it (`2027-01-04 08:30`).
    public var nextLaunches: [Int64: String] = [:]
    /// The runs this process is executing, whichever campaign is open.
    public var runsInFlight: Set<RunTarget> = []
    public var width = 80
    public var height = 24
    public var quit = false
    public var storeName = ""

    public init(storeName: String = "") { self.storeName = storeName }

    public var selectedCampaign: CampaignSummary? {
        campaigns.indices.contains(listSelection) ? campaigns[listSelection] : nil
    }

    /// Whether this process is running the open campaign's version.
    public var runInProgress: Bool { canvas.map { runsInFlight.contains(RunTarget($0.stored)) } ?? false }
}

/// Things that happened, named after the event.
public enum Action: Sendable {
    case keyPressed(Key)
    case resized(width: Int, height: Int)
    case campaignsLoaded([CampaignSummary])
    /// The next launch of each scheduled campaign, by campaign id.
    case launchesLoaded([Int64: String])
    case campaignOpened(StoredCampaign)
    /// The latest finished run of the open campaign, shown until a new run starts.
    case lastRunLoaded(RunDetail)
    /// Another connection committed to the store (another process's run made progress, say).
    case storeChanged
    /// The latest run of the open campaign's version, read again after the store changed.
    case runRefreshed(RunDetail)
    case runProgressed(RunTarget, RunEvent)
    /// A run of this process ended without its final report (it failed or was stopped).
    case runEnded(RunTarget, message: String)
    case effectFailed(String)
    /// An effect's worker finished (after any result it produced).
    case effectFinished
}

/// Work the reducer asks for; executed off the UI thread, results come back as actions.
public enum Effect: Equatable, Sendable {
    case loadCampaigns
    case openCampaign(id: Int64)
    case startDryRun(StoredCampaign)
    /// Cancels this process's run of a campaign version.
    case stopRun(RunTarget)
    /// Repaints the whole terminal (after something else wrote to it).
    case redraw
    /// Reads the latest run of a campaign version (answered by `runRefreshed`).
    case refreshRun(campaignID: Int64, version: Int)
}
