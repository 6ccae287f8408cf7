public import Foundation

extension Channel {
    /// A channel as people write it: `email`, `sms`, `push`, `direct_mail` (or `directMail`, as
    /// campaign files and the store spell it).
    public init?(named text: String) {
        switch text.lowercased() {
        case "email": self = .email
        case "sms": self = .sms
        case "push": self = .push
        case "direct_mail", "directmail": self = .directMail
        default: return nil
        }
    }

    /// How commands name the channel: `direct_mail` for direct mail.
    public var commandName: String { self == .directMail ? "direct_mail" : rawValue }
}

/// Where one message stands in the ledger. The states and the moves between them are declared
/// here once; the ledger's implementations store the raw values and check each move with
/// ``canMove(to:)``.
///
/// ```
/// queued ──claim──▶ claimed ──provider──▶ sent | failed | deferred (transient, retried)
///   │  ▲                │
///   │  └──release───────┤ (claimed, never attempted: shutdown)
///   ▼                   └──executor gone──▶ unknown ──operator──▶ sent | failed | queued
/// deferred(until) ──time comes──▶ claimable like queued
/// excluded(reason): decided when the node enqueued, or at claim (consent, suppression)
/// ```
public enum MessageState: String, Sendable, CaseIterable, Codable {
    case queued, deferred, claimed, sent, failed, excluded, unknown

    /// Whether nothing more happens to the message by itself.
    public var isFinal: Bool { [.sent, .failed, .excluded, .unknown].contains(self) }

    /// The moves the ledger allows.
    public func canMove(to next: MessageState) -> Bool {
        switch (self, next) {
        case (.queued, .claimed), (.deferred, .claimed): true
        case (.queued, .excluded), (.deferred, .excluded): true
        case (.claimed, .sent), (.claimed, .failed), (.claimed, .deferred), (.claimed, .excluded): true
        case (.claimed, .queued), (.claimed, .unknown): true
        case (.unknown, .sent), (.unknown, .failed), (.unknown, .queued): true
        default: false
        }
    }
}

/// Why a message was not sent to its recipient: stored on its ledger row and counted per node.
public enum ExclusionReason: String, Sendable, CaseIterable, Codable {
    case noAddress = "no_address"
    case invalidAddress = "invalid_address"
    case optedOut = "opted_out"
    case consentUnknown = "consent_unknown"
    case suppressed
    case frequencyCap = "frequency_cap"
    case duplicateAddress = "duplicate_address"
}

/// Why a message failed.
public enum FailureReason: String, Sendable, CaseIterable, Codable {
    /// A template could not be rendered for this recipient (a missing value without a default).
    case renderFailed = "render_failed"
    /// The provider refused the message for good.
    case rejected
    /// Transient failures until the retry policy gave up.
    case retriesExhausted = "retries_exhausted"
    /// An operator decided its fate (`herald runs resolve --as sent|failed`): the reason a
    /// resolved message carries, sent or failed.
    case resolved
}

/// A message ready for a provider: rendered, addressed and identified.
public struct OutboundMessage: Sendable, Equatable {
    /// The ledger's stable id; providers pass it on (the e-mail Message-ID is derived from it)
    /// so a provider can de-duplicate too.
    public var id: Int64
    public var runID: Int64
    public var campaignName: String
    public var nodeID: NodeID
    public var channel: Channel
    public var category: MessageCategory
    public var profileKey: String
    public var entityKey: String?
    /// The address on the channel (e-mail, E.164 phone, push token, postal address lines).
    public var address: String
    /// The rendered fields by name (`subject`, `text`, `html`, `title`, `body`, `data`, `columns`…).
    public var fields: [RenderedField]
    /// The signed token naming the profile, channel and campaign for unsubscribe links.
    public var unsubscribeToken: String?
    /// The store the message comes from (its delivery origin), so that ids from two stores
    /// never meet at one provider; nil outside a run (a proof, a test).
    public var origin: String?

    /// The message's key at a provider: unique across stores (`ORIGIN-ID`), the same on every
    /// retry. The webhook's `Idempotency-Key`.
    public var deliveryKey: String { origin.map { "\($0)-\(id)" } ?? String(id) }

    public init(
        id: Int64, runID: Int64, campaignName: String, nodeID: NodeID, channel: Channel, category: MessageCategory, profileKey: String,
        entityKey: String?, address: String, fields: [RenderedField], unsubscribeToken: String? = nil
    ) {
        self.id = id
        self.runID = runID
        self.campaignName = campaignName
        self.nodeID = nodeID
        self.channel = channel
        self.category = category
        self.profileKey = profileKey
        self.entityKey = entityKey
        self.address = address
        self.fields = fields
        self.unsubscribeToken = unsubscribeToken
    }

    public func field(_ name: String) -> String? { fields.first { $0.name == name }?.text }
}

/// What a provider says about one message.
public enum ProviderOutcome: Sendable, Equatable {
    /// Accepted; the provider's own id when it gives one.
    case sent(providerID: String?)
    /// Not now: retried after the policy's backoff, or `retryAfter` when the provider says.
    case transient(String, retryAfter: TimeInterval?)
    /// Refused for good.
    case permanent(String)
    /// The provider may or may not have accepted it (a connection lost mid-send): never re-sent
    /// by itself.
    case unknown(String)
}

/// What a provider knows of a message claimed by an executor that stopped before recording
/// what became of it.
public enum Reconciliation: Sendable, Equatable {
    /// The provider has it: it is sent.
    case delivered(providerID: String?)
    /// The provider never got it: it can go back to the queue without anyone getting it twice.
    case notDelivered
    /// The provider cannot say: the message's fate is unknown, and only an operator decides.
    case cannotTell
}

/// Something that delivers messages of one channel. Called by the delivery worker with batches
/// already claimed (committed with full sync), so a crash during `send` leaves the batch
/// `claimed`; the next executor asks the provider (`reconcile`) what it has of them, and what it
/// cannot tell becomes `unknown`, never queued again by itself.
public protocol ChannelProvider: Sendable {
    /// The provider's name as configured (`outbox`, `discard`, `direct_mail`).
    var name: String { get }
    /// Where its messages go (`outbox /srv/herald/outbox`, `smtp mail.example.com:587`): a run
    /// keeps delivering to the same place, since only that place can say what it already has.
    var destination: String { get }
    /// Delivers each message; one outcome per message, in order.
    func send(_ batch: [OutboundMessage]) -> [ProviderOutcome]
    /// Called when a node has no message left to deliver in this run: a provider that collects
    /// a node's messages in one file makes it final here.
    func complete(runID: Int64, nodeID: NodeID) throws
    /// What the provider has of messages left claimed by a stopped executor, in order.
    func reconcile(_ messages: [ClaimedMessage], runID: Int64) -> [Reconciliation]
}

extension ChannelProvider {
    public var destination: String { name }
    public func complete(runID: Int64, nodeID: NodeID) throws {}
    /// By default a provider cannot tell (a network gateway that may have accepted them).
    public func reconcile(_ messages: [ClaimedMessage], runID: Int64) -> [Reconciliation] { messages.map { _ in .cannotTell } }
}

/// Hours and weekdays a marketing message may be delivered in, in the recipient's time zone:
/// `09:00-20:00 mon-fri`, `08:00-21:00` (every day).
public struct SendWindow: Sendable, Equatable {
    public var from: LocalTime
    /// Exclusive; `24:00` for the end of the day.
    public var until: LocalTime
    public var days: WeekdaySet

    public init(from: LocalTime, until: LocalTime, days: WeekdaySet = .everyDay) {
        self.from = from
        self.until = until
        self.days = days
    }

    public var text: String {
        let hours = "\(from.text)-\(until.text)"
        return days == .everyDay ? hours : "\(hours) \(days.text)"
    }

    /// Reads `HH:MM-HH:MM [days]`.
    public init(parsing text: String) throws(ScheduleSyntaxError) {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard (1...2).contains(parts.count) else {
            throw ScheduleSyntaxError("expected hours and optional weekdays such as '09:00-20:00 mon-fri', found '\(text)'")
        }
        let ends = parts[0].split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        guard ends.count == 2 else { throw ScheduleSyntaxError("expected hours such as '09:00-20:00', found '\(parts[0])'") }
        from = try LocalTime.parse(ends[0])
        until = try LocalTime.parse(ends[1], allowMidnightEnd: true)
        guard from < until else {
            throw ScheduleSyntaxError("the window must end after it starts (it cannot run past midnight), found '\(parts[0])'")
        }
        days = parts.count == 2 ? try WeekdaySet.parse(parts[1]) : .everyDay
        guard !days.days.isEmpty else { throw ScheduleSyntaxError("the window names no weekday") }
    }

    /// When the window next opens at or after `now` (UTC seconds) in `zone`; nil when it is
    /// open at `now`. Days in a daylight-saving change open and close at the wall-clock times
    /// as the zone reads them; a time in a spring-forward gap is read one gap later (02:30 as
    /// 03:30), as schedules read it.
    public func nextOpening(after now: Int, zone: TimeZone) -> Int? {
        let offset = zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(now)))
        let today = Int((Double(now + offset) / 86_400).rounded(.down))
        for day in (today - 1)...(today + 8) where days.contains(Weekday(days: day)) {
            let opens = TemporalText.localToUTC(day * 86_400 + from.minutes * 60, zone: zone)
            let closes = TemporalText.localToUTC(day * 86_400 + until.minutes * 60, zone: zone)
            if now >= opens && now < closes { return nil }
            if opens > now { return opens }
        }
        return nil
    }
}

/// A delivery rate: `200/s`, `50/min`, `3000/h`.
public struct DeliveryRate: Sendable, Equatable {
    public var messages: Int
    /// The period in seconds: 1, 60 or 3600.
    public var seconds: Int

    public init(messages: Int, seconds: Int) {
        self.messages = messages
        self.seconds = seconds
    }

    public var text: String { "\(messages)/\(seconds == 1 ? "s" : seconds == 60 ? "min" : "h")" }

    /// Messages per second.
    public var perSecond: Double { Double(messages) / Double(seconds) }

    public init?(parsing text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2, let n = Int(parts[0]), n >= 1 else { return nil }
        switch parts[1].lowercased() {
        case "s", "sec", "second": seconds = 1
        case "m", "min", "minute": seconds = 60
        case "h", "hour": seconds = 3600
        default: return nil
        }
        messages = n
    }
}

/// A message claimed for delivery: what the worker needs to render and send it.
public struct ClaimedMessage: Sendable, Equatable {
    public var id: Int64
    public var nodeID: NodeID
    public var channel: Channel
    public var category: MessageCategory
    public var profileKey: String
    public var entityKey: String?
    public var address: String
    /// Attempts including this one.
    public var attempts: Int

    public init(
        id: Int64, nodeID: NodeID, channel: Channel, category: MessageCategory, profileKey: String, entityKey: String?, address: String,
        attempts: Int
    ) {
        self.id = id
        self.nodeID = nodeID
        self.channel = channel
        self.category = category
        self.profileKey = profileKey
        self.entityKey = entityKey
        self.address = address
        self.attempts = attempts
    }
}

/// What became of one claimed message.
public enum DeliveryVerdict: Sendable, Equatable {
    case provider(ProviderOutcome)
    /// Its templates could not be rendered for this recipient; the reason names the field.
    case renderFailed(String)
}

/// One claimed message's result, for ``MessageLedger/record(_:owner:now:retry:)``.
public struct DeliveryRecord: Sendable, Equatable {
    public var id: Int64
    public var attempts: Int
    public var provider: String
    public var verdict: DeliveryVerdict

    public init(id: Int64, attempts: Int, provider: String, verdict: DeliveryVerdict) {
        self.id = id
        self.attempts = attempts
        self.provider = provider
        self.verdict = verdict
    }
}

/// How transient failures are retried: up to `attempts` in all, the n-th retry after
/// `first × 2^(n-1)` (at most `max`), with up to 20% random jitter so retries spread out.
public struct RetryPolicy: Sendable, Equatable {
    public var attempts: Int
    public var first: TimeInterval
    public var max: TimeInterval

    public init(attempts: Int = 5, first: TimeInterval = 30, max: TimeInterval = 3600) {
        self.attempts = attempts
        self.first = first
        self.max = max
    }

    /// The wait before the next attempt after `attempt` attempts, nil when none is left.
    /// `jitter` is a number in 0..<1 (random in use, fixed in tests).
    public func delay(after attempt: Int, jitter: Double, retryAfter: TimeInterval? = nil) -> TimeInterval? {
        guard attempt < attempts else { return nil }
        let base = Swift.min(max, first * pow(2, Double(Swift.max(0, attempt - 1))))
        return Swift.max(retryAfter ?? 0, base * (1 + 0.2 * jitter))
    }
}

/// One message as the ledger holds it.
public struct LedgerMessage: Sendable, Equatable {
    public var id: Int64
    public var runID: Int64?
    public var campaignID: Int64?
    public var nodeID: NodeID?
    public var profileKey: String
    public var entityKey: String?
    public var channel: Channel
    public var category: MessageCategory
    public var state: MessageState
    /// The exclusion or failure reason code, or why it is deferred (`send_window`, `retry`).
    public var reason: String?
    /// When a deferred message may go (UTC seconds).
    public var notBefore: Int?
    /// The zone its send window was read in, and whether that was the campaign's because the
    /// profile's was missing or unknown.
    public var zone: String?
    public var zoneFallback: Bool
    public var attempts: Int
    public var provider: String?
    public var providerID: String?
    public var error: String?
    public var createdAt: String
    public var updatedAt: String
    public var sentAt: String?

    public init(
        id: Int64, runID: Int64?, campaignID: Int64?, nodeID: NodeID?, profileKey: String, entityKey: String?, channel: Channel,
        category: MessageCategory, state: MessageState, reason: String?, notBefore: Int?, zone: String?, zoneFallback: Bool,
        attempts: Int, provider: String?, providerID: String?, error: String?, createdAt: String, updatedAt: String, sentAt: String?
    ) {
        self.id = id
        self.runID = runID
        self.campaignID = campaignID
        self.nodeID = nodeID
        self.profileKey = profileKey
        self.entityKey = entityKey
        self.channel = channel
        self.category = category
        self.state = state
        self.reason = reason
        self.notBefore = notBefore
        self.zone = zone
        self.zoneFallback = zoneFallback
        self.attempts = attempts
        self.provider = provider
        self.providerID = providerID
        self.error = error
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.sentAt = sentAt
    }
}

/// Which messages to list.
public struct MessageFilter: Sendable, Equatable {
    public var runID: Int64?
    public var campaignID: Int64?
    public var profileKey: String?
    public var channel: Channel?
    public var state: MessageState?
    public var ids: [Int64]?
    public var limit: Int

    public init(
        runID: Int64? = nil, campaignID: Int64? = nil, profileKey: String? = nil, channel: Channel? = nil, state: MessageState? = nil,
        ids: [Int64]? = nil, limit: Int = 1000
    ) {
        self.runID = runID
        self.campaignID = campaignID
        self.profileKey = profileKey
        self.channel = channel
        self.state = state
        self.ids = ids
        self.limit = limit
    }
}

/// A channel node's messages by state, and its exclusions and failures by reason.
public struct MessageCounts: Sendable, Equatable {
    public var byState: [MessageState: Int] = [:]
    public var excluded: [String: Int] = [:]
    public var failed: [String: Int] = [:]
    /// Deferred messages by why they wait: `send_window`, or `retry` after a provider's
    /// transient failure.
    public var deferred: [String: Int] = [:]

    public init() {}

    /// `(a 2, b 1)`, the largest first; empty for none.
    static func breakdown(_ reasons: [String: Int]) -> String {
        let parts = reasons.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { "\($0.key) \(Names.groupedCount($0.value))" }
        return parts.isEmpty ? "" : " (\(parts.joined(separator: ", ")))"
    }

    public var total: Int { byState.values.reduce(0, +) }
    public subscript(_ state: MessageState) -> Int { byState[state] ?? 0 }
    /// Messages that will still go by themselves: queued, deferred or claimed.
    public var remaining: Int { self[.queued] + self[.deferred] + self[.claimed] }

    /// `sent 40 · excluded 3 (opted_out 2, no_address 1) · deferred 5 · failed 0 · unknown 0`.
    public var line: String {
        let n = Names.groupedCount
        var parts = ["sent \(n(self[.sent]))"]
        parts.append("excluded \(n(self[.excluded]))" + Self.breakdown(excluded))
        parts.append("deferred \(n(self[.deferred]))" + Self.breakdown(deferred))
        parts.append("failed \(n(self[.failed]))")
        parts.append("unknown \(n(self[.unknown]))")
        if self[.queued] > 0 { parts.append("queued \(n(self[.queued]))") }
        // Held by an executor (or left by one that stopped, until the run is continued).
        if self[.claimed] > 0 { parts.append("claimed \(n(self[.claimed]))") }
        return parts.joined(separator: " · ")
    }
}

/// How many messages left claimed were found sent, put back in the queue, or left unknown.
public struct SettledClaims: Sendable, Equatable {
    public var sent = 0
    public var requeued = 0
    public var unknown = 0

    public init() {}

    public var total: Int { sent + requeued + unknown }
}

/// What an operator decides for messages whose fate is unknown.
public enum Resolution: String, Sendable, CaseIterable {
    /// The provider accepted it: counted as sent (and in the history).
    case sent
    /// It did not go: failed, not retried.
    case failed
    /// Queue it again: the next delivery sends it (the recipient may get it twice).
    case retry
}

/// What a claim asks for: up to `limit` due messages of the run, with consent checked again on
/// the `optIn` channels (see ``MessageLedger/claim(_:owner:now:)``).
public struct ClaimRequest: Sendable, Equatable {
    public var runID: Int64
    public var limit: Int
    public var optIn: Set<Channel>

    public init(runID: Int64, limit: Int, optIn: Set<Channel>) {
        self.runID = runID
        self.limit = limit
        self.optIn = optIn
    }
}

/// The message ledger: every message of every live run, its state and reason, and the
/// communication history gates read. Implementations keep the moves of ``MessageState``.
///
/// A claim must be safe with several executors: on SQLite the claim is one write transaction
/// (the database's single writer) inserting a claim row per message, keyed by the message; on a
/// server database the same rows come from
/// `INSERT … SELECT id … FOR UPDATE SKIP LOCKED LIMIT n ON CONFLICT DO NOTHING RETURNING …`. Either way
/// the claim is committed durably (full sync) before the claimed messages are returned, so
/// nothing is sent that the ledger does not know is claimed.
public protocol MessageLedger: Sendable {
    /// Claims up to `request.limit` of the run's due messages (queued, or deferred whose time
    /// has come) for `owner`. Consent and suppression are checked again first: a due marketing
    /// message whose profile has opted out since (or, on the `optIn` channels, has no opt-in), or
    /// whose address was suppressed since, is excluded instead.
    func claim(_ request: ClaimRequest, owner: String, now: Int) throws -> [ClaimedMessage]
    /// Records the results of claimed messages: sent, failed (permanent, or transient with no
    /// attempt left), deferred for a retry, or unknown.
    func record(_ records: [DeliveryRecord], owner: String, now: Int, retry: RetryPolicy, jitter: @Sendable () -> Double) throws
    /// Records `records` and claims the next batch in one transaction, committed as a claim is
    /// (durably, before any message of the new batch reaches a provider): a worker's one write
    /// per batch. Nothing of either is kept when it fails.
    func recordAndClaim(
        _ records: [DeliveryRecord], owner: String, now: Int, retry: RetryPolicy, jitter: @Sendable () -> Double,
        next: ClaimRequest
    ) throws -> [ClaimedMessage]
    /// Gives back claimed messages that were never handed to a provider (a shutdown).
    func release(_ ids: [Int64], owner: String) throws
    /// The run's messages still claimed: by an executor that is gone, when the caller holds the
    /// run's lease.
    func leftClaimed(runID: Int64) throws -> [ClaimedMessage]
    /// Settles messages left claimed with what their provider knows: delivered ones are sent,
    /// ones it never got go back to the queue, the others become `unknown`.
    func settle(_ decisions: [Int64: Reconciliation], runID: Int64, now: Int) throws -> SettledClaims
    /// Messages matching `filter`, newest first.
    func messages(_ filter: MessageFilter) throws -> [LedgerMessage]
    /// The run's messages counted per node.
    func counts(runID: Int64) throws -> [NodeID: MessageCounts]
    /// The run's messages not yet settled (queued, deferred or claimed) per node; nodes with none
    /// are absent. Cheap however many messages the run has settled.
    func remaining(runID: Int64) throws -> [NodeID: Int]
    /// When the run's next deferred message may go; nil when none waits.
    func nextDue(runID: Int64) throws -> Int?
    /// Decides the fate of the run's unknown messages (all, or `ids`).
    /// - Returns: how many changed.
    func resolve(runID: Int64, ids: [Int64]?, as resolution: Resolution, now: Int) throws -> Int
}
