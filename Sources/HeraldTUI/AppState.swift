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
    /// Population size per "from\u{0}port".
    public var edgeCounts: [String: Int] = [:]
    public var finished = false
    public var error: String?

    public static func key(_ from: NodeID, _ port: String) -> String { from + "\u{0}" + port }
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
    public var width = 80
    public var height = 24
    public var quit = false
    public var storeName = ""

    public init(storeName: String = "") { self.storeName = storeName }

    public var selectedCampaign: CampaignSummary? {
        campaigns.indices.contains(listSelection) ? campaigns[listSelection] : nil
    }

    public var runInProgress: Bool { canvas?.run.map { !$0.finished } ?? false }
}

/// Things that happened, named after the event.
public enum Action: Sendable {
    case keyPressed(Key)
    case resized(width: Int, height: Int)
    case campaignsLoaded([CampaignSummary])
    case campaignOpened(StoredCampaign)
    /// The latest finished run of the open campaign, shown until a new run starts.
    case lastRunLoaded(RunDetail)
    case runProgressed(RunEvent)
    case effectFailed(String)
    /// An effect's worker finished (after any result it produced).
    case effectFinished
}

/// Work the reducer asks for; executed off the UI thread, results come back as actions.
public enum Effect: Equatable, Sendable {
    case loadCampaigns
    case openCampaign(id: Int64)
    case startDryRun(StoredCampaign)
    /// Cancels the run started by the last `startDryRun`.
    case stopRun
}
