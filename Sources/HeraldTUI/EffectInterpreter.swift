import Foundation
import HeraldCore
import HeraldDelivery
import HeraldEngine
public import HeraldStore
import Synchronization

/// Carries out the reducer's effects off the UI thread and hands their results back as actions.
/// It knows nothing of the terminal: the curses loop and the headless session both drive it,
/// and tests run it on a store without a terminal.
///
/// Every effect is a `Task`. Their work is SQLite's, which blocks, so the tasks prefer an
/// executor of their own (``BlockingExecutor``) over Swift's cooperative pool, whose few
/// threads a long run would otherwise hold (on two cores, two runs would stall every count and
/// load behind them). Cancelling a task stops its statement within a millisecond: a run when
/// it is stopped, a live count when a newer one replaces it.
///
/// Writes (drafts, saves, list changes) go through one task, in the order they were asked for:
/// the last edit's draft is the one kept, and a save never races the draft it replaces.
///
/// Every effect that does work reports exactly one `effectFinished` after its results, so a
/// busy counter incremented by ``perform(_:)`` returns to zero when all is done.
public final class EffectInterpreter: Sendable {
    let store: Store
    private let outbox: Outbox
    /// The tasks that can be cancelled: each run in progress, and the live count.
    private let cancellable = Mutex<Tracked>(Tracked())
    private let executor = BlockingExecutor(label: "herald.effects")
    /// The writes waiting for the writer task, in order.
    private let writes: AsyncStream<Write>.Continuation
    /// The store opened for writing, the first time something is written.
    private let writer = Mutex<Store?>(nil)
    /// Counts for the designer (its cache makes a rule typed back to an earlier one instant).
    private let audiences: AudienceService
    /// How long a live count waits for more typing before it starts.
    static let countPause: Duration = .milliseconds(250)
    /// The delivery configuration live runs read (`--config`); nil: `HERALD_CONFIG`,
    /// `./herald.toml`, then the user's configuration, else the defaults.
    let deliveryConfig: String?

    /// What can be cancelled by name.
    enum Cancellable: Hashable {
        case run(RunTarget)
        case liveCount
    }

    /// The cancellable tasks in flight, each with the serial number it was started under.
    struct Tracked {
        var tasks: [Cancellable: (serial: Int, task: Task<Void, Never>)] = [:]
        var last = 0
    }

    /// One job of the writer task; a barrier only signals that those before it are done.
    enum Write {
        case job(@Sendable () async -> Void)
        case barrier(DispatchSemaphore)
    }

    /// `wake` is called after every result, from the worker's thread (the terminal's loop wakes on it).
    public init(store: Store, wake: (@Sendable () -> Void)? = nil, deliveryConfig: String? = nil) {
        self.store = store
        self.deliveryConfig = deliveryConfig
        let outbox = Outbox(wake: wake)
        self.outbox = outbox
        audiences = AudienceService(store: store)
        let (stream, continuation) = AsyncStream<Write>.makeStream()
        writes = continuation
        // The writer holds the stream and the outbox, not the interpreter, and ends with it.
        Task(executorPreference: executor) {
            for await write in stream {
                switch write {
                case .job(let job):
                    await job()
                    outbox.push(.effectFinished)
                case .barrier(let done):
                    done.signal()
                }
            }
        }
    }

    deinit {
        writes.finish()
    }

    /// Starts the effects' work; returns how many will report `effectFinished`. `.redraw` is
    /// the terminal's own business and is left to the caller.
    @discardableResult
    public func perform(_ effects: [Effect]) -> Int {
        var started = 0
        for effect in effects {
            guard let job = work(for: effect) else { continue }
            started += 1
            if effect.writes {
                writes.yield(.job(job))
                continue
            }
            let outbox = self.outbox
            guard let name = effect.cancellable else {
                Task(executorPreference: executor) {
                    await job()
                    outbox.push(.effectFinished)
                }
                continue
            }
            cancellable.withLock { tracked in
                // A newer live count makes the one in progress moot.
                if name == .liveCount { tracked.tasks[name]?.task.cancel() }
                tracked.last += 1
                let serial = tracked.last
                let task = Task(executorPreference: executor) { [self] in
                    await job()
                    // The lock orders this after the registration below; a newer task under the
                    // same name is left in place.
                    cancellable.withLock { tracked in
                        if tracked.tasks[name]?.serial == serial { tracked.tasks[name] = nil }
                    }
                    outbox.push(.effectFinished)
                }
                tracked.tasks[name] = (serial, task)
            }
        }
        return started
    }

    /// The results that arrived since the last call, in order.
    public func drain() -> [Action] {
        outbox.drain()
    }

    /// Waits for the writes already asked for (drafts, saves) to reach the store.
    public func finishWrites() {
        let done = DispatchSemaphore(value: 0)
        writes.yield(.barrier(done))
        done.wait()
    }

    /// Asks every run in progress to stop (each records itself as stopped).
    public func stopAll() {
        cancellable.withLock { tracked in
            for (name, entry) in tracked.tasks { if case .run = name { entry.task.cancel() } }
        }
    }

    /// Each scheduled campaign's next launch after `now`, in its zone, minute precision.
    static func nextLaunches(of campaigns: [CampaignSummary], in store: Store, now: Date) -> [Int64: String] {
        var launches: [Int64: String] = [:]
        // One read for all; a schedule that no longer reads shows no launch (the scheduler says why).
        let schedules = (try? store.schedules()) ?? [:]
        for campaign in campaigns {
            guard let schedule = schedules[campaign.id], let zone = schedule.zone,
                let next = schedule.launches(after: Int(now.timeIntervalSince1970), count: 1).first
            else { continue }
            let local = TemporalText.local(utcSeconds: next.utcSeconds, zone: zone)
            launches[campaign.id] = String(local.prefix(16)).replacingOccurrences(of: "T", with: " ")
        }
        return launches
    }

    /// The store for writing, opened (and migrated) once.
    func writableStore() throws -> Store {
        try writer.withLock { writer in
            if let writer { return writer }
            let opened = try store.writable()
            writer = opened
            return opened
        }
    }

    func push(_ action: Action) {
        outbox.push(action)
    }

    /// A change to the campaign list, reported by its message (or its error).
    func listChange(_ change: @escaping @Sendable (Store) throws -> String) -> @Sendable () async -> Void {
        { [self] in
            do { push(.campaignsChanged(try change(try writableStore()))) } catch { push(.effectFailed("\(error)")) }
        }
    }

    /// What an effect does, or nil when it starts nothing here. It runs in a task of its own
    /// (or the writer's), on the blocking executor.
    func work(for effect: Effect) -> (@Sendable () async -> Void)? {
        let store = self.store
        switch effect {
        case .redraw:
            return nil
        case .stopRun(let target):
            // Cancelling the run's task raises its connection's flag, seen mid-statement.
            cancellable.withLock { $0.tasks[.run(target)]?.task.cancel() }
            return nil
        case .loadCampaigns:
            return { [self] in
                do {
                    let campaigns = try store.listCampaigns()
                    push(.campaignsLoaded(campaigns))
                    push(.newDraftsLoaded(try store.newCampaignDrafts()))
                    push(.draftedCampaignsLoaded(try store.draftedCampaignIDs()))
                    push(.launchesLoaded(Self.nextLaunches(of: campaigns, in: store, now: Date())))
                } catch {
                    push(.effectFailed("\(error)"))
                }
            }
        case .openCampaign(let id):
            return { [self] in
                do {
                    let stored = try store.loadCampaign(id: id)
                    push(.campaignOpened(stored))
                    if let draft = try store.draft(campaignID: id) { push(.draftFound(draft)) }
                    push(.scheduleLoaded(campaignID: id, try store.schedule(campaignID: id)))
                    // Show the latest run of this version, so counts are there on opening.
                    if let last = try store.listRuns(campaignID: id, limit: 1).first, last.version == stored.version,
                        last.state != .running
                    {
                        push(.lastRunLoaded(try store.runDetail(last.id)))
                    }
                } catch {
                    push(.effectFailed("\(error)"))
                }
            }
        case .startDryRun(let stored):
            let target = RunTarget(stored)
            return { [self] in
                let cancellation = QueryCancellation()
                await withTaskCancellationHandler {
                    do {
                        // Only looking never writes: the store is opened for writing when a run starts.
                        _ = try Executor(store: try writableStore()).dryRun(
                            stored, events: { [self] event in push(.runProgressed(target, event)) },
                            isCancelled: { cancellation.isCancelled })
                    } catch {
                        push(.runEnded(target, message: "\(error)"))
                    }
                } onCancel: {
                    cancellation.cancel()
                }
            }
        case .startLiveRun(let stored):
            let target = RunTarget(stored)
            return { [self] in
                let cancellation = QueryCancellation()
                await withTaskCancellationHandler {
                    do {
                        let store = try writableStore()
                        // Read when the run starts: a broken configuration refuses the run before
                        // anything is claimed, and says which key.
                        let setup = try DeliverySetup.make(try DeliveryConfig.load(explicit: deliveryConfig), storePath: store.path)
                        var executor = Executor(store: store)
                        executor.delivery = setup
                        executor.deliveryProgressEvery = 1
                        _ = try executor.run(
                            stored, mode: .live, events: { [self] event in push(.runProgressed(target, event)) },
                            isCancelled: { cancellation.isCancelled })
                    } catch {
                        push(.runEnded(target, message: "\(error)"))
                    }
                } onCancel: {
                    cancellation.cancel()
                }
            }
        case .countAudience(let request, let entity, let rule, let variables):
            let audiences = self.audiences
            return { [self] in
                // Typing on within the pause cancels this count before it starts.
                guard (try? await Task.sleep(for: Self.countPause)) != nil else { return }
                let cancellation = QueryCancellation()
                await withTaskCancellationHandler {
                    do {
                        let n = try audiences.count(
                            AudienceSource(entity: entity, rule: rule), variables: variables, cancellation: cancellation)
                        push(.audienceCounted(request: request, .success(n)))
                    } catch {
                        // A count cancelled by a later one has nobody waiting for it.
                        if !cancellation.isCancelled {
                            push(.audienceCounted(request: request, .failure(CountFailure("\(error)"))))
                        }
                    }
                } onCancel: {
                    cancellation.cancel()
                }
            }
        case .distribution(let request, let entity, let attribute):
            let audiences = self.audiences
            return { [self] in
                do {
                    let result = try audiences.distribution(AudienceSource(entity: entity, rule: .all), attribute: attribute)
                    push(.distributionCounted(request: request, .success(result.buckets)))
                } catch {
                    push(.distributionCounted(request: request, .failure(CountFailure("\(error)"))))
                }
            }
        case .explainRule(let request, let entity, let rule):
            let audiences = self.audiences
            return { [self] in
                do {
                    let explanation = try audiences.explain(AudienceSource(entity: entity, rule: rule))
                    let lines =
                        explanation.sql.split(separator: "\n").map(String.init)
                        + (explanation.arguments.isEmpty
                            ? [] : ["", "values: " + explanation.arguments.map(\.description).joined(separator: ", ")])
                    push(.builderPanel(request: request, .success(lines)))
                } catch {
                    push(.builderPanel(request: request, .failure(CountFailure("\(error)"))))
                }
            }
        case .previewMessage(let request, let campaign, let node, let profile, let entity):
            let audiences = self.audiences
            return { [self] in
                do {
                    let message = try audiences.preview(campaign, node: node, profile: profile, entity: entity, words: .interface)
                    push(.messagePreviewed(request: request, .success(message)))
                } catch {
                    push(.messagePreviewed(request: request, .failure(CountFailure("\(error)"))))
                }
            }
        case .sendProof(let campaign, let node, let profile, let entity, let address):
            let audiences = self.audiences
            return { [self] in
                do {
                    // Read now: the proof goes where a run started now would deliver.
                    let setup = try DeliverySetup.make(
                        try DeliveryConfig.load(explicit: deliveryConfig), storePath: store.path, journals: false)
                    let result = try audiences.sendProof(
                        ProofRequest(campaign: campaign, node: node, profile: profile, entity: entity, address: address), setup: setup,
                        words: .interface)
                    switch result.outcome {
                    case .sent: push(.proofSent(.success("proof of \(node) sent through \(result.destination)")))
                    case .transient(let why, _), .permanent(let why), .unknown(let why):
                        push(.proofSent(.failure(CountFailure("\(result.destination) did not accept it: \(why)"))))
                    }
                } catch {
                    push(.proofSent(.failure(CountFailure("\(error)"))))
                }
            }
        case .searchRecipients(let request, let query):
            let audiences = self.audiences
            return { [self] in
                do {
                    let found =
                        switch query {
                        case .profiles(let text): try audiences.searchProfiles(text)
                        case .rows(let entity, let profile): try audiences.rows(of: entity, belongingTo: profile)
                        }
                    push(.recipientsFound(request: request, query, .success(found)))
                } catch {
                    push(.recipientsFound(request: request, query, .failure(CountFailure("\(error)"))))
                }
            }
        case .loadContext:
            return { [self] in
                do {
                    push(.contextLoaded(EditingContext(catalog: try store.catalog(), audiences: try store.listAudiences())))
                } catch {
                    push(.effectFailed("the catalog could not be read, so edits cannot be validated or saved: \(error)"))
                }
            }
        case .keepDraft(let draft):
            return { [self] in
                do { try writableStore().keepDraft(draft) } catch {
                    push(.effectFailed("the draft could not be kept in the store (\(error)); save with w to keep the edits"))
                }
            }
        case .discardDraft(let key):
            return { [self] in
                do { try writableStore().discardDraft(key) } catch { push(.effectFailed("the kept draft could not be removed: \(error)")) }
            }
        case .saveCampaign(let campaign, let replace, let key):
            return { [self] in
                do {
                    let writer = try writableStore()
                    // Validated against the store as it is now, not as it was when the canvas opened.
                    try CampaignValidator(checker: try writer.audienceChecker()).requireValid(campaign)
                    let stored = try writer.saveCampaign(campaign, replace: replace)
                    try writer.discardDraft(key)
                    push(.campaignSaved(stored))
                } catch {
                    push(.effectFailed("not saved: \(error)"))
                }
            }
        case .setSchedule(let id, let schedule):
            return { [self] in
                do {
                    let writer = try writableStore()
                    if let schedule {
                        let name = try writer.setSchedule(.id(id), schedule)
                        push(.campaignsChanged("'\(name)' launches \(SettingsScreen.describe(schedule))"))
                    } else {
                        let cleared = try writer.clearSchedule(.id(id))
                        push(
                            .campaignsChanged(
                                cleared.removed ? "'\(cleared.name)' has no schedule any more" : "'\(cleared.name)' had no schedule"))
                    }
                    push(.scheduleLoaded(campaignID: id, try writer.schedule(campaignID: id)))
                } catch {
                    push(.effectFailed("schedule not set: \(error)"))
                }
            }
        case .importCampaign(let path):
            return listChange { store in
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw HeraldError(.notFound, "import: \(path) cannot be read")
                }
                guard let text = String(data: data, encoding: .utf8) else {
                    throw HeraldError(.invalidInput, "import: \(path) is not UTF-8 text")
                }
                let decoded = try CampaignFormat.decodeAll(text: text)
                try CampaignValidator(checker: try store.audienceChecker()).requireValid(decoded)
                if (try? store.loadCampaign(.name(decoded.campaign.name))) != nil {
                    throw HeraldError(
                        .conflict,
                        "import: a campaign named '\(decoded.campaign.name)' exists; import it as a new version with herald campaign import --replace, or rename one of them"
                    )
                }
                let stored = try store.saveCampaign(decoded, replace: false)
                return "imported '\(stored.campaign.name)' (version \(stored.version))"
                    + (decoded.schedule.map { ", launching \($0.summary)" } ?? "")
            }
        case .exportCampaign(let id, let path):
            return { [self] in
                do {
                    let stored = try store.loadCampaign(id: id)
                    let text = CampaignFormat.encodeText(stored.campaign, schedule: try store.schedule(campaignID: id))
                    // Created only if absent: never over a file that appeared meanwhile.
                    let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
                    guard fd >= 0 else {
                        throw HeraldError(.io, "export: \(path) cannot be created (\(String(cString: strerror(errno))))")
                    }
                    let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
                    try handle.write(contentsOf: Data(text.utf8))
                    try handle.close()
                    push(.campaignsChanged("exported '\(stored.campaign.name)' v\(stored.version) to \(path)"))
                } catch {
                    push(.effectFailed("\(error)"))
                }
            }
        case .renameCampaign(let id, let name):
            return listChange { store in
                let renamed = try store.renameCampaign(.id(id), to: name)
                return renameReport(old: renamed.old, new: name, startedBy: renamed.startedBy)
            }
        case .duplicateCampaign(let id, let name):
            return listChange { store in
                let copy = try store.duplicateCampaign(.id(id), as: name)
                return "copied as '\(copy.campaign.name)'"
            }
        case .archiveCampaign(let id):
            return listChange { store in
                "archived '\(try store.setArchived(.id(id), archived: true))'; herald campaign restore brings it back"
            }
        case .deleteCampaign(let id):
            return listChange { store in
                let deleted = try store.deleteCampaign(.id(id), withRuns: true)
                return "deleted '\(deleted.name)'\(deleted.runs > 0 ? " and its \(Names.counted(deleted.runs, "run"))" : "")"
            }
        case .refreshRun(let campaignID, let version):
            return { [self] in
                do {
                    if let last = try store.listRuns(campaignID: campaignID, limit: 1).first, last.version == version {
                        push(.runRefreshed(try store.runDetail(last.id)))
                    }
                } catch {
                    push(.effectFailed("\(error)"))
                }
            }
        }
    }
}

/// The results of effects, waiting for the loop to take them.
final class Outbox: Sendable {
    private let results = Mutex<[Action]>([])
    /// Called after every result, from the worker's thread.
    private let wake: (@Sendable () -> Void)?

    init(wake: (@Sendable () -> Void)?) { self.wake = wake }

    func push(_ action: Action) {
        results.withLock { $0.append(action) }
        wake?()
    }

    func drain() -> [Action] {
        results.withLock { actions in
            defer { actions.removeAll() }
            return actions
        }
    }
}

/// Runs the jobs of the tasks that prefer it on the threads of a concurrent dispatch queue, so
/// SQLite's blocking calls never hold a thread of Swift's cooperative pool.
final class BlockingExecutor: TaskExecutor {
    private let queue: DispatchQueue

    init(label: String) {
        queue = DispatchQueue(label: label, qos: .userInitiated, attributes: .concurrent)
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { [self] in job.runSynchronously(on: asUnownedTaskExecutor()) }
    }
}

extension Effect {
    /// The name under which the effect's task can be cancelled, if it can.
    var cancellable: EffectInterpreter.Cancellable? {
        switch self {
        case .startDryRun(let stored), .startLiveRun(let stored): .run(RunTarget(stored))
        case .countAudience: .liveCount
        default: nil
        }
    }

    /// Whether the effect writes to the store (and so runs in order with the other writes).
    var writes: Bool {
        switch self {
        case .keepDraft, .discardDraft, .saveCampaign, .setSchedule, .renameCampaign, .duplicateCampaign, .archiveCampaign, .deleteCampaign:
            true
        default: false
        }
    }
}
