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
    /// A mouse click (double: a double click) at a cell of the screen.
    case click(x: Int, y: Int, double: Bool)
    /// The wheel, up (-1) or down (1).
    case wheel(Int)
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
    /// A live run's messages per channel node, by state and reason.
    public var messages: [NodeID: MessageCounts] = [:]
    /// The run's own state, as the store last had it.
    public var runState: RunState?
    /// A live run (its channel nodes deliver), not a dry one.
    public var live = false

    public init(runID: Int64? = nil, finished: Bool = false, live: Bool = false) {
        self.runID = runID
        self.finished = finished
        self.live = live
    }

    /// A recorded run as the store has it.
    public init(_ detail: RunDetail) {
        self.init(runID: detail.summary.id, finished: true)
        observed = true
        for n in detail.nodes { nodeStates[n.nodeID] = n.state }
        for e in detail.edges { edgeCounts[PortRef(node: e.fromNode, port: e.port)] = e.count }
        messages = detail.messages
        live = !detail.summary.dryRun
        runState = detail.summary.state
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

/// What validation of an edited campaign needs from the store: the catalog and the saved
/// audiences, read when the campaign opens.
public struct EditingContext: Equatable, Sendable {
    public let catalog: Catalog
    public let audiences: [SavedAudience]
    /// Built once: forms validate on every key, and the checker walks every saved audience.
    public let validator: CampaignValidator

    public init(catalog: Catalog, audiences: [SavedAudience]) {
        self.catalog = catalog
        self.audiences = audiences
        validator = CampaignValidator(checker: Store.audienceChecker(catalog: catalog, audiences: audiences))
    }

    /// The validator follows from the catalog and the audiences.
    public static func == (a: EditingContext, b: EditingContext) -> Bool { a.catalog == b.catalog && a.audiences == b.audiences }
}

/// One state of the edited graph, for undo and redo.
public struct EditSnapshot: Equatable, Sendable {
    public var campaign: Campaign
    public var selected: NodeID?
}

/// Undo and redo stacks of the canvas's edits.
public struct EditHistory: Equatable, Sendable {
    public var undo: [EditSnapshot] = []
    public var redo: [EditSnapshot] = []
    /// What each undo step undoes, for the status line.
    public var undoNames: [String] = []
    public var redoNames: [String] = []
    public init() {}
}

/// How the canvas draws the graph.
public enum Zoom: Equatable, Sendable {
    /// Full boxes when the graph fits the screen, compact one-line nodes when it does not.
    case automatic
    case full
    case compact
    /// The graph as an indented list, one node per line, in flow order.
    case outline
}

/// The open campaign on the canvas: the saved version and the draft the designer edits.
public struct CanvasState: Equatable, Sendable {
    /// The saved version being edited; nil for a campaign not saved yet.
    public var stored: StoredCampaign?
    /// What the canvas shows: the saved version with the unsaved edits.
    public var draft: Campaign
    /// Where the draft is kept in the store after each edit.
    public var draftKey: DraftKey
    public var history = EditHistory()
    public var layout: LayoutResult
    public var selected: NodeID?
    /// The selected node's output port that adding, connecting and disconnecting act on.
    public var selectedPort: PortName?
    public var scrollX = 0
    public var scrollY = 0
    public var run: RunView?
    /// Catalog and saved audiences for validation; nil until loaded.
    public var context: EditingContext?
    /// Every problem of the draft (empty until the context is loaded).
    public var problems: [ValidationProblem] = []
    /// The saved campaign's schedule, as the store has it (schedules are not versioned).
    public var schedule: CampaignSchedule?
    public var zoom = Zoom.automatic

    public init(stored: StoredCampaign?, draft: Campaign, draftKey: DraftKey, layout: LayoutResult) {
        self.stored = stored
        self.draft = draft
        self.draftKey = draftKey
        self.layout = layout
        selected = draft.nodes.first?.id
    }

    /// Whether the draft differs from the saved version (always, for a campaign not saved).
    public var isDirty: Bool { stored?.campaign != draft }

    /// The saved version runs execute.
    public var target: RunTarget? { stored.map(RunTarget.init) }
}

/// The whole interface as a value.
public struct AppState: Equatable, Sendable {
    public var screen: Screen = .campaignList
    public var campaigns: [CampaignSummary] = []
    public var listSelection = 0
    public var canvas: CanvasState?
    /// The focus stack above the screen: the top mode takes the keys; Esc pops one level.
    public var modes: [Mode] = []
    public var status = ""
    /// Effects scheduled whose results have not come back yet.
    public var busy = 0
    /// Each scheduled campaign's next launch, as its zone shows it (`2027-01-04 08:30`).
    public var nextLaunches: [Int64: String] = [:]
    /// The runs this process is executing, whichever campaign is open.
    public var runsInFlight: Set<RunTarget> = []
    public var width = 80
    public var height = 24
    /// The screen is too small for anything but the notice asking for a larger one.
    public var isTooSmall: Bool { width < AppView.minimumWidth || height < AppView.minimumHeight }
    public var quit = false
    /// The theme the screen is drawn in (the terminal loads it when it changes).
    public var theme = ""
    /// The themes found on the search paths, for the picker.
    public var themeNames: [String] = []
    /// The profile key the last message preview was for, offered again.
    public var lastPreviewProfile = ""
    /// The last address a proof went to, offered for Enter alone.
    public var lastProofAddress = ""
    /// The last request number handed out (live counts name theirs, so late results are dropped).
    public var lastRequest = 0
    /// Where to go once the save under way finishes (chosen in the unsaved-changes question).
    public var pendingLeave: Leaving?
    public var storeName = ""

    public init(storeName: String = "") { self.storeName = storeName }

    /// Drafts of campaigns never saved, listed after the saved ones.
    public var newDrafts: [Draft] = []
    /// Saved campaigns with a kept draft: the list marks them.
    public var draftedCampaigns: Set<Int64> = []

    /// Rows of the campaign list: the saved campaigns, then the unsaved new ones.
    public var listCount: Int { campaigns.count + newDrafts.count }

    public var selectedCampaign: CampaignSummary? {
        campaigns.indices.contains(listSelection) ? campaigns[listSelection] : nil
    }

    /// The unsaved new campaign selected in the list, if that is what is selected.
    public var selectedNewDraft: Draft? {
        let index = listSelection - campaigns.count
        return newDrafts.indices.contains(index) ? newDrafts[index] : nil
    }

    /// Whether this process is running the open campaign's version.
    public var runInProgress: Bool { canvas?.target.map { runsInFlight.contains($0) } ?? false }
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
    /// A live count asked for by request number: the rows, or why it could not be counted.
    case audienceCounted(request: Int, Result<Int, CountFailure>)
    /// The schedule of a campaign, read when it opens or after it was set.
    case scheduleLoaded(campaignID: Int64, CampaignSchedule?)
    /// The SQL the rule builder asked for, by request number, as lines.
    case builderPanel(request: Int, Result<[String], CountFailure>)
    /// The values of an attribute the rule builder asked for, by request number.
    case distributionCounted(request: Int, Result<[AudienceService.Bucket], CountFailure>)
    /// A message preview asked for by request number.
    case messagePreviewed(request: Int, Result<RenderedMessage, CountFailure>)
    /// What became of a proof: where it went, or why not.
    case proofSent(Result<String, CountFailure>)
    /// The profiles (or a profile's rows) a preview's search found, by request number.
    case recipientsFound(request: Int, RecipientQuery, Result<[AudienceService.Match], CountFailure>)
    /// The catalog and saved audiences, for validating what is edited.
    case contextLoaded(EditingContext)
    /// A draft an earlier session left of the campaign just opened.
    case draftFound(Draft)
    /// The drafts of campaigns never saved, for the campaign list.
    case newDraftsLoaded([Draft])
    case draftedCampaignsLoaded(Set<Int64>)
    /// The draft was saved as this version (its kept draft is gone).
    case campaignSaved(StoredCampaign)
    /// A change to the list (a campaign renamed, copied, archived or deleted) was made.
    case campaignsChanged(String)
    case effectFailed(String)
    /// An effect's worker finished (after any result it produced).
    case effectFinished
}

/// Work the reducer asks for; executed off the UI thread, results come back as actions.
public enum Effect: Equatable, Sendable {
    case loadCampaigns
    case openCampaign(id: Int64)
    case startDryRun(StoredCampaign)
    /// Runs the campaign live: its channel nodes deliver, through the configured providers.
    case startLiveRun(StoredCampaign)
    /// Cancels this process's run of a campaign version.
    case stopRun(RunTarget)
    /// Repaints the whole terminal (after something else wrote to it).
    case redraw
    /// Reads the latest run of a campaign version (answered by `runRefreshed`).
    case refreshRun(campaignID: Int64, version: Int)
    /// Counts the rows of `entity` matching `rule` after a short pause, unless a later count
    /// has been asked for by then (it also cancels one in progress).
    case countAudience(request: Int, entity: String, rule: Rule, variables: [String: Literal])
    /// Sets (or with nil clears) a saved campaign's schedule.
    case setSchedule(campaignID: Int64, CampaignSchedule?)
    /// The values of `attribute` over every row of `entity`, as bars (answered by `distributionCounted`).
    case distribution(request: Int, entity: String, attribute: String)
    /// The SQL `rule` compiles to on `entity` (answered by `builderPanel`).
    case explainRule(request: Int, entity: String, rule: Rule)
    /// Renders a message node of `campaign` for a profile (and a row of its population).
    case previewMessage(request: Int, campaign: Campaign, node: NodeID, profile: String, entity: String?)
    /// Sends a proof of a message node, rendered for a profile, to a test address.
    case sendProof(campaign: Campaign, node: NodeID, profile: String, entity: String?, address: String)
    /// Looks for a preview's recipient (answered by `recipientsFound`).
    case searchRecipients(request: Int, RecipientQuery)
    /// Reads the catalog and saved audiences (answered by `contextLoaded`).
    case loadContext
    /// Keeps the draft in the store, replacing its earlier state.
    case keepDraft(Draft)
    case discardDraft(DraftKey)
    /// Saves a campaign: a new version of an existing one (`replace`), or a new campaign; the
    /// draft goes once it is saved.
    case saveCampaign(Campaign, replace: Bool, draft: DraftKey)
    case renameCampaign(id: Int64, to: String)
    /// Validates a campaign file and saves it as a new campaign.
    case importCampaign(path: String)
    /// Writes a campaign's current version as a campaign file (never over an existing file).
    case exportCampaign(id: Int64, path: String)
    case duplicateCampaign(id: Int64, as: String)
    case archiveCampaign(id: Int64)
    case deleteCampaign(id: Int64)
}

/// Why a live count has no figure.
/// What a preview's recipient search looks for.
public enum RecipientQuery: Equatable, Sendable {
    /// Profiles by name, address or key.
    case profiles(String)
    /// The rows of `entity` that belong to the profile `profile`.
    case rows(entity: String, profile: String)
}

public struct CountFailure: Error, Equatable, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
}
