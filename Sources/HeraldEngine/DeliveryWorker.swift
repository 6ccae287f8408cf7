public import Foundation
import GRDB
public import HeraldCore
public import HeraldDelivery
public import HeraldStore
import Synchronization

/// Delivers a live run's messages: claims a batch of due messages (committed with full sync),
/// renders them set-wise, hands them to each channel's provider at the throttled pace, and
/// records every result. The one implementation behind `herald run --live`, the scheduler and
/// the interface (all through the executor). Stopping between batches, or between nodes of a
/// batch, gives back what was claimed and not attempted.
public struct DeliveryWorker: Sendable {
    public let store: Store
    public let ledger: any MessageLedger
    public let setup: DeliverySetup
    public let campaign: StoredCampaign
    public let runID: Int64
    /// Who claims: unique per executor.
    public let owner: String
    public var clock: @Sendable () -> Date = { Date() }
    /// Called after each batch is recorded (the executor renews its lease there).
    public var heartbeat: (@Sendable () throws -> Void)?

    public init(store: Store, ledger: any MessageLedger, setup: DeliverySetup, campaign: StoredCampaign, runID: Int64, owner: String) {
        self.store = store
        self.ledger = ledger
        self.setup = setup
        self.campaign = campaign
        self.runID = runID
        self.owner = owner
    }

    /// What one delivery pass did.
    public struct Report: Sendable, Equatable {
        public var attempted = 0
        public var sent = 0
        /// Messages whose templates could not be rendered for their recipient (failed, never handed over).
        public var renderFailed = 0
        /// Milliseconds spent claiming, rendering, in providers (throttling included) and
        /// recording: rendering and sending overlap claiming and recording, on another thread.
        /// A batch's record and the next batch's claim are one transaction, counted as
        /// recording; claiming counts the claims made on their own (the first one, and those
        /// after a batch with nothing to record).
        public var claimMS = 0.0
        public var renderMS = 0.0
        public var sendMS = 0.0
        public var recordMS = 0.0
        /// Milliseconds from the first claim to the last record.
        public var elapsedMS = 0.0
        /// Whether it stopped because it was asked to, with messages still due.
        public var stopped = false
    }

    /// Delivers every due message of the run, until none is due or `shouldStop` says so. Call
    /// ``recover()`` first when taking over a run.
    ///
    /// Two batches are in hand at most, on two threads: while one is rendered and handed to
    /// its providers, the results of the one before are recorded and the next is claimed. Each
    /// claim still commits before any of its messages reaches a provider, and providers still
    /// get the batches in order, one at a time.
    public func deliver(shouldStop: @escaping @Sendable () -> Bool = { false }) throws -> Report {
        let sender = Sender(
            renderer: try MessageRenderer(store: store, campaign: campaign, ownConnection: true), setup: setup, runID: runID,
            origin: try store.deliveryOrigin())
        let optIn = Set(try store.catalog().profileChannels.optIn.compactMap(Channel.init(rawValue:)))
        var report = Report()
        var elapsed = Stopwatch()
        let next = ClaimRequest(runID: runID, limit: setup.batchSize, optIn: optIn)
        func claim() throws -> [ClaimedMessage] {
            var clock = Stopwatch()
            defer { report.claimMS += clock.lap() }
            return try ledger.claim(next, owner: owner, now: Int(self.clock().timeIntervalSince1970))
        }
        /// Records a batch's results and, when `claimingNext`, claims the next batch in the same
        /// transaction. Should that fail, the results are recorded alone before the error goes on.
        func record(_ handed: Sender.Handed, claimingNext: Bool = false) throws -> [ClaimedMessage] {
            report.add(handed)
            if !handed.untouched.isEmpty { try ledger.release(handed.untouched, owner: owner) }
            var clock = Stopwatch()
            defer { report.recordMS += clock.lap() }
            let jitter: @Sendable () -> Double = { Double.random(in: 0..<1) }
            func recordAlone() throws {
                try ledger.record(
                    handed.records, owner: owner, now: Int(self.clock().timeIntervalSince1970), retry: setup.retry, jitter: jitter)
            }
            var claimed: [ClaimedMessage] = []
            if claimingNext {
                do {
                    claimed = try ledger.recordAndClaim(
                        handed.records, owner: owner, now: Int(self.clock().timeIntervalSince1970), retry: setup.retry,
                        jitter: jitter, next: next)
                } catch {
                    try recordAlone()
                    throw error
                }
            } else {
                try recordAlone()
            }
            try heartbeat?()
            return claimed
        }
        var batch = try claim()
        var inFlight: InFlight<Sender.Handed>?
        /// Waits for the batch on the other thread; one that failed part way has what it handed
        /// over recorded before its error is thrown.
        func settle() throws -> Sender.Handed? {
            guard let flight = inFlight else { return nil }
            inFlight = nil
            switch flight.wait() {
            case .success(let handed): return handed
            case .failure(let failed as HandingFailed):
                _ = try record(failed.handed)
                throw failed.cause
            case .failure(let error): throw error
            }
        }
        do {
            while !batch.isEmpty || inFlight != nil {
                let handed = try settle()
                if !batch.isEmpty {
                    let claimed = batch
                    batch = []
                    if shouldStop() || handed?.stopped == true {
                        // Never handed to a provider: back to the queue.
                        try ledger.release(claimed.map(\.id), owner: owner)
                        report.stopped = true
                    } else {
                        inFlight = InFlight { try sender.hand(claimed, shouldStop: shouldStop) }
                    }
                }
                // One transaction records the results and claims the batch to hand over next.
                if let handed {
                    batch = try record(handed, claimingNext: inFlight != nil)
                } else if inFlight != nil {
                    batch = try claim()
                }
            }
        } catch {
            // The batch on the other thread finishes and is recorded, and one claimed and never
            // handed over goes back; what cannot be recorded stays claimed, for the next
            // executor to settle with its provider.
            if let handed = try? settle() { _ = try? record(handed) }
            if !batch.isEmpty { try? ledger.release(batch.map(\.id), owner: owner) }
            throw error
        }
        if !report.stopped {
            // Nodes with nothing left to deliver: a provider collecting them in one file makes it final.
            let remaining = try ledger.remaining(runID: runID)
            for (node, plan) in sender.renderer.plans.sorted(by: { $0.key < $1.key }) where (remaining[node] ?? 0) == 0 {
                try setup.providers[plan.channel]?.complete(runID: runID, nodeID: node)
            }
        }
        report.elapsedMS = elapsed.lap()
        return report
    }

    /// Settles what an executor that stopped left claimed (this one holds the run's lease, so
    /// no other is sending them): each provider says what it has.
    public func recover() throws -> SettledClaims {
        let left = try ledger.leftClaimed(runID: runID)
        guard !left.isEmpty else { return SettledClaims() }
        var decisions: [Int64: Reconciliation] = [:]
        for channel in Channel.allCases {
            let mine = left.filter { $0.channel == channel }
            guard !mine.isEmpty else { continue }
            let known = setup.providers[channel]?.reconcile(mine, runID: runID) ?? mine.map { _ in .cannotTell }
            for (message, decision) in zip(mine, known) { decisions[message.id] = decision }
        }
        return try ledger.settle(decisions, runID: runID, now: Int(clock().timeIntervalSince1970))
    }
}

/// Renders a campaign's messages for their recipients: each channel node's templates parsed once,
/// and the values they read fetched set-wise for a whole group of messages.
struct MessageRenderer: @unchecked Sendable {
    let store: Store
    let campaign: StoredCampaign
    /// A read-only connection of the renderer's own (a worker renders while the store's
    /// connection claims and records), or nil to read through the store's.
    let connection: GuardedConnection?
    let policy: StatementGuard.Policy
    let plans: [NodeID: NodePlan]
    let profile: Entity
    let compiler: RuleCompiler

    /// A channel node's templates and the values they read.
    struct NodePlan {
        var channel: Channel
        var settings: ChannelSettings
        var prepared: PreparedMessage
        /// The entity `target.*` reads: the population's, or the related rows' (one per booking).
        var target: Entity
        /// The population's entity, whose rows the Enrichment fields describe.
        var population: Entity
        var profilePaths: [String]
        var targetPaths: [String]
        var added: [EnrichmentField]
    }

    init(store: Store, campaign: StoredCampaign, ownConnection: Bool = false) throws {
        self.store = store
        self.campaign = campaign
        let catalog = try store.catalog()
        connection = ownConnection ? try GuardedConnection(path: store.connectionPath, readOnly: true) : nil
        policy = AudienceService.readPolicy(catalog)
        guard let profileName = catalog.profileEntity, let profile = catalog.entity(profileName) else {
            throw HeraldError(.validation, "the catalog names no profile entity, so messages have no recipients")
        }
        let service = AudienceService(store: store)
        let audiences = Dictionary(try store.listAudiences().map { ($0.name, $0.entity) }, uniquingKeysWith: { a, _ in a })
        let entities = campaign.campaign.inboundEntities(catalog: catalog, audiences: audiences)
        let zone = try Executor.timeZone(campaign.campaign)
        let compiler = try service.compiler(variables: campaign.campaign.variableBindings, timeZone: zone)
        var plans: [NodeID: NodePlan] = [:]
        for node in campaign.campaign.nodes {
            guard case .message(let channel, let settings) = node.config, let arriving = entities[node.id],
                let population = catalog.entity(arriving)
            else { continue }
            var target = population
            if settings.messagePer == .related, let link = settings.related.flatMap({ population.link($0.link) }),
                let rows = catalog.entity(link.target)
            {
                target = rows
            }
            let tags = settings.content.flatMap { CampaignValidator.templateTags($0.1).map(\.tag) } + settings.defaults.map(\.0)
            func paths(_ root: String) -> [String] {
                var seen = Set<String>()
                return tags.filter { $0.hasPrefix(root + ".") }.map { String($0.dropFirst(root.count + 1)) }.filter {
                    seen.insert($0).inserted
                }
            }
            plans[node.id] = NodePlan(
                channel: channel, settings: settings, prepared: try PreparedMessage(settings, channel: channel), target: target,
                population: population, profilePaths: paths("profile"), targetPaths: paths("target"),
                added: AudienceService.addedFields(
                    campaign.campaign, before: node.id, entity: population, catalog: catalog, audiences: audiences))
        }
        self.plans = plans
        self.profile = profile
        self.compiler = compiler
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        guard let connection else { return try store.read(body) }
        return try connection.run(policy, what: "reading the recipients' values") { db in try connection.guardian.trusting { try body(db) }
        }
    }

    /// The messages rendered for their recipients (one statement per kind of value for the
    /// whole group), and the ones whose templates could not be rendered.
    func render(
        _ group: [ClaimedMessage], plan: NodePlan, runID: Int64, tokens: UnsubscribeTokens?
    ) throws
        -> ([OutboundMessage], [DeliveryRecord])
    {
        let profileKeys = Array(Set(group.map(\.profileKey)))
        let targetKeys = plan.target.name == profile.name ? profileKeys : Array(Set(group.compactMap(\.entityKey)))
        // Enrichment fields describe the population's rows: the profile's, or the entity's.
        func populationKey(_ m: ClaimedMessage) -> String { plan.population.name == profile.name ? m.profileKey : (m.entityKey ?? "") }
        let populationKeys = Array(Set(group.map(populationKey)))
        let (profiles, targets, added) = try read { db in
            let p = try AudienceService.rowValues(db, entity: profile, keys: profileKeys, paths: plan.profilePaths, compiler: compiler)
            let t =
                plan.target.name == profile.name && plan.targetPaths == plan.profilePaths
                ? p : try AudienceService.rowValues(db, entity: plan.target, keys: targetKeys, paths: plan.targetPaths, compiler: compiler)
            let a = try AudienceService.addedValues(
                db, fields: plan.added, entity: plan.population, keys: populationKeys, compiler: compiler)
            return (p, t, a)
        }
        var outbound: [OutboundMessage] = []
        var failures: [DeliveryRecord] = []
        for m in group {
            let targetKey = plan.target.name == profile.name ? m.profileKey : (m.entityKey ?? "")
            guard let profileValues = profiles[m.profileKey], let targetValues = targets[targetKey] else {
                failures.append(
                    DeliveryRecord(
                        id: m.id, attempts: m.attempts, provider: "none", verdict: .renderFailed("the recipient's row no longer exists")))
                continue
            }
            let values = TemplateValues(profile: profileValues, target: targetValues, added: added[populationKey(m)] ?? [:])
            let rendered = plan.prepared.render(values)
            if !rendered.missing.isEmpty {
                failures.append(
                    DeliveryRecord(
                        id: m.id, attempts: m.attempts, provider: "none",
                        verdict: .renderFailed("no value and no default for \(rendered.missing.joined(separator: ", "))")))
                continue
            }
            if let problem = rendered.problem(on: m.channel) {
                failures.append(DeliveryRecord(id: m.id, attempts: m.attempts, provider: "none", verdict: .renderFailed(problem)))
                continue
            }
            outbound.append(
                OutboundMessage(
                    id: m.id, runID: runID, campaignName: campaign.campaign.name, nodeID: m.nodeID, channel: m.channel,
                    category: m.category,
                    profileKey: m.profileKey, entityKey: m.entityKey, address: m.address, fields: rendered.fields,
                    unsubscribeToken: tokens?.token(profileKey: m.profileKey, channel: m.channel, campaign: campaign.campaign.name)))
        }
        return (outbound, failures)
    }
}

/// Milliseconds between laps.
struct Stopwatch {
    var last = DispatchTime.now()

    mutating func lap() -> Double {
        let now = DispatchTime.now()
        defer { last = now }
        return Double(now.uptimeNanoseconds - last.uptimeNanoseconds) / 1e6
    }
}

/// Keeps a pace of `rate`: `wait(for: n)` sleeps until n more messages fit.
struct Pacer {
    let rate: DeliveryRate
    var start = DispatchTime.now()
    var count = 0

    init(rate: DeliveryRate) { self.rate = rate }

    mutating func wait(for n: Int) {
        count += n
        let due = Double(count - n) / rate.perSecond
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        if due > elapsed { Thread.sleep(forTimeInterval: due - elapsed) }
    }
}

extension DeliveryWorker.Report {
    mutating func add(_ handed: DeliveryWorker.Sender.Handed) {
        attempted += handed.attempted
        sent += handed.sent
        renderFailed += handed.renderFailed
        renderMS += handed.renderMS
        sendMS += handed.sendMS
        if handed.stopped { stopped = true }
    }
}

extension DeliveryWorker {
    /// Renders claimed batches and hands them to their providers, at the throttled pace: one
    /// batch at a time, on whichever thread the worker gives it.
    final class Sender: @unchecked Sendable {
        let renderer: MessageRenderer
        let setup: DeliverySetup
        let runID: Int64
        /// The store's delivery origin, which every message carries.
        let origin: String
        /// Used by one batch at a time (the worker waits for each before starting the next).
        private var pacers: [String: Pacer] = [:]

        init(renderer: MessageRenderer, setup: DeliverySetup, runID: Int64, origin: String) {
            self.renderer = renderer
            self.setup = setup
            self.runID = runID
            self.origin = origin
        }

        /// What became of one batch.
        struct Handed: Sendable {
            var records: [DeliveryRecord] = []
            /// Claimed messages never handed to a provider (a stop came first).
            var untouched: [Int64] = []
            var attempted = 0
            var sent = 0
            var renderFailed = 0
            var renderMS = 0.0
            var sendMS = 0.0
            var stopped = false
        }

        func hand(_ batch: [ClaimedMessage], shouldStop: @Sendable () -> Bool) throws -> Handed {
            var handed = Handed()
            var clock = Stopwatch()
            let attempts = Dictionary(batch.map { ($0.id, $0.attempts) }, uniquingKeysWith: { a, _ in a })
            var pending = batch[...]
            while let first = pending.first {
                let group = pending.prefix { $0.nodeID == first.nodeID }
                pending = pending.dropFirst(group.count)
                if shouldStop() {
                    handed.untouched = group.map(\.id) + pending.map(\.id)
                    handed.stopped = true
                    break
                }
                guard let plan = renderer.plans[first.nodeID], let provider = setup.providers[plan.channel] else {
                    for m in group {
                        handed.records.append(
                            DeliveryRecord(
                                id: m.id, attempts: m.attempts, provider: "none",
                                verdict: .provider(.permanent("node '\(m.nodeID)' has no \(m.channel.rawValue) provider"))))
                    }
                    continue
                }
                _ = clock.lap()
                let outbound: [OutboundMessage]
                do {
                    let rendered = try renderer.render(Array(group), plan: plan, runID: runID, tokens: setup.tokens)
                    outbound = rendered.0.map { message in
                        var message = message
                        message.origin = origin
                        return message
                    }
                    handed.records += rendered.1
                    handed.renderFailed += rendered.1.count
                } catch {
                    // Not handed over: the messages go back to the queue, and the error stops the worker.
                    handed.untouched = group.map(\.id) + pending.map(\.id)
                    throw HandingFailed(handed: handed, cause: error)
                }
                handed.renderMS += clock.lap()
                // The node's throttle and the channel's global cap: whichever is slower.
                var ready = outbound[...]
                while !ready.isEmpty {
                    let rates = [plan.settings.throttle, setup.rates[plan.channel]].compactMap { $0 }
                    let slice = ready.prefix(rates.map { max(1, Int($0.perSecond / 10)) }.min() ?? ready.count)
                    for (key, rate) in zip(
                        ["node:\(first.nodeID.name)", "channel:\(plan.channel.rawValue)"],
                        [plan.settings.throttle, setup.rates[plan.channel]])
                    {
                        guard let rate else { continue }
                        pacers[key, default: Pacer(rate: rate)].wait(for: slice.count)
                    }
                    let outcomes = provider.send(Array(slice))
                    for (message, outcome) in zip(slice, outcomes) {
                        handed.records.append(
                            DeliveryRecord(
                                id: message.id, attempts: attempts[message.id] ?? 1, provider: provider.name, verdict: .provider(outcome)))
                        if case .sent = outcome { handed.sent += 1 }
                    }
                    handed.attempted += slice.count
                    ready = ready.dropFirst(slice.count)
                }
                handed.sendMS += clock.lap()
            }
            return handed
        }
    }

    /// A batch that failed part way: what was handed over before the failure, to be recorded.
    struct HandingFailed: Error {
        var handed: Sender.Handed
        var cause: any Error
    }
}

/// Work running on a thread of its own, and its result once it ends.
final class InFlight<T: Sendable>: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var result: Result<T, any Error>?

    init(_ work: @escaping @Sendable () throws -> T) {
        let thread = Thread { [self] in
            result = Result { try work() }
            done.signal()
        }
        thread.start()
    }

    /// Waits for the work to end. Call once.
    func wait() -> Result<T, any Error> {
        done.wait()
        return result!
    }
}

/// Says when something periodic is due (a progress report, a lease renewal): the first time,
/// then at most once every `every` seconds.
final class Throttle: Sendable {
    private let every: UInt64
    private let last = Mutex<UInt64>(0)

    init(every: TimeInterval) { self.every = UInt64(max(every, 0) * 1e9) }

    func due() -> Bool {
        let now = DispatchTime.now().uptimeNanoseconds
        return last.withLock { last in
            guard last == 0 || now - last >= every else { return false }
            last = now
            return true
        }
    }
}
