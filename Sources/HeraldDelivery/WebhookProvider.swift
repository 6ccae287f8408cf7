import CCurl
public import Foundation
public import HeraldCore

/// One HTTP header, for a credential a gateway expects.
public struct HTTPHeader: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// Where and how the webhook provider posts, with the credential already read from the
/// environment.
public struct WebhookSettings: Sendable, Equatable {
    public var url: String
    public var authorization: HTTPHeader?
    /// Where the gateway's id for the message is in its JSON answer (`sid`, `data.id`).
    public var idField: String?
    public var options: ConnectionOptions

    public init(
        url: String, authorization: HTTPHeader? = nil, idField: String? = nil, options: ConnectionOptions = ConnectionOptions(timeout: 10)
    ) {
        self.url = url
        self.authorization = authorization
        self.idField = idField
        self.options = options
    }
}

/// Sends SMS or push messages to a gateway as one JSON POST each (the outbox's JSON line:
/// `id`, `run`, `campaign`, `node`, `channel`, `category`, `to` and the rendered fields), with an
/// `Idempotency-Key` header naming the message (``OutboundMessage/deliveryKey``: the store's
/// delivery origin and the message id), so a gateway can drop a retry it has
/// already accepted.
///
/// The answer decides: 2xx accepted (with the gateway's id when `idField` names where it is),
/// 408, 425, 429 and 5xx transient (honouring `Retry-After`), other answers permanent. A gateway
/// that cannot be reached, or does not answer in time, is transient: the retry carries the same
/// key.
public final class WebhookProvider: ChannelProvider, @unchecked Sendable {
    public let name = "webhook"
    public let settings: WebhookSettings
    public var destination: String { "webhook \(settings.url)" }
    private let lanes: [WebhookConnection]
    /// What went to the gateway, for settling after a crash; nil: every message left claimed by
    /// a stopped executor is unknown.
    public let journal: SendJournal?

    public init(settings: WebhookSettings, journal: SendJournal? = nil) throws {
        self.settings = settings
        self.journal = journal
        lanes = try (0..<max(1, settings.options.connections)).map { _ in try WebhookConnection(settings) }
        if let journal { try Files.requireWritable(journal.directory, what: "the webhook journal") }
    }

    public func send(_ batch: [OutboundMessage]) -> [ProviderOutcome] {
        SendJournal.send(batch, over: lanes, journal: journal, what: "webhook") { lane, message in lane.send(message) }
    }

    /// The journal says what the gateway accepted of messages a stopped executor left claimed:
    /// only a request in flight when it stopped is unknown.
    public func reconcile(_ messages: [ClaimedMessage], runID: Int64) -> [Reconciliation] {
        journal?.reconcile(messages, runID: runID) ?? messages.map { _ in .cannotTell }
    }
}

/// One connection to the gateway: a libcurl handle, which keeps it open between messages.
final class WebhookConnection: @unchecked Sendable {
    let settings: WebhookSettings
    let handle: UnsafeMutableRawPointer
    /// The most of an answer's body kept (enough for any gateway's JSON).
    static let bodyLimit = 64 * 1024

    init(_ settings: WebhookSettings) throws {
        self.settings = settings
        handle = try Curl.handle()
    }

    deinit { curl_easy_cleanup(handle) }

    /// One request's answer as it arrives.
    final class Answer {
        var body: [UInt8] = []
        var reason = ""
        var retryAfter: String?
    }

    func send(_ message: OutboundMessage) -> ProviderOutcome {
        let answer = Answer()
        var headers: UnsafeMutablePointer<curl_slist>? = nil
        for line in [
            "Content-Type: application/json", "Accept: application/json", "Idempotency-Key: \(message.deliveryKey)", "User-Agent: Herald",
            // No `Expect: 100-continue` round trip before the body.
            "Expect:",
        ] + (settings.authorization.map { ["\($0.name): \($0.value)"] } ?? []) {
            headers = curl_slist_append(headers, line)
        }
        defer { curl_slist_free_all(headers) }
        let context = Unmanaged.passUnretained(answer).toOpaque()
        let set =
            [
                herald_curl_set_text(handle, CURLOPT_URL, settings.url),
                herald_curl_set_text(handle, CURLOPT_PROTOCOLS_STR, "http,https"),
                herald_curl_set_long(handle, CURLOPT_POST, 1),
                herald_curl_set_text(handle, CURLOPT_COPYPOSTFIELDS, JSONLine.encode(message)),
                herald_curl_set_list(handle, CURLOPT_HTTPHEADER, headers),
                herald_curl_set_io(handle, CURLOPT_WRITEFUNCTION, WebhookConnection.body),
                herald_curl_set_pointer(handle, CURLOPT_WRITEDATA, context),
                herald_curl_set_io(handle, CURLOPT_HEADERFUNCTION, WebhookConnection.header),
                herald_curl_set_pointer(handle, CURLOPT_HEADERDATA, context),
            ] + Curl.apply(settings.options, to: handle)
        if let failed = Curl.refused(set) { return .transient("libcurl refused an HTTP option: \(failed)", retryAfter: nil) }
        var status = 0
        let result = Curl.perform(handle) { _ = herald_curl_get_long($0, CURLINFO_RESPONSE_CODE, &status) }
        return Self.outcome(result, status: status, answer, idField: settings.idField, timeout: settings.options.timeout, now: Date())
    }

    /// What a request comes to (see ``WebhookProvider``).
    static func outcome(
        _ result: CURLcode, status: Int, _ answer: Answer, idField: String?, timeout: TimeInterval, now: Date
    )
        -> ProviderOutcome
    {
        guard result == CURLE_OK else {
            if result == CURLE_OPERATION_TIMEDOUT {
                return .transient(
                    "the gateway did not answer within \(Int(timeout))s; the retry carries the same Idempotency-Key", retryAfter: nil)
            }
            return .transient("the gateway could not be reached: \(String(cString: curl_easy_strerror(result)))", retryAfter: nil)
        }
        let said = "HTTP \(status)" + (answer.reason.isEmpty ? "" : " \(answer.reason)")
        switch status {
        case 200..<300: return .sent(providerID: idField.flatMap { providerID(in: answer.body, at: $0) })
        case 408, 425, 429, 500..<600:
            return .transient(said, retryAfter: answer.retryAfter.flatMap { retryAfter($0, now: now) })
        default: return .permanent(said)
        }
    }

    /// The value at `path` (`sid`, `data.id`) of a JSON object, as text; nil when the body is
    /// not JSON or has no text or number there.
    static func providerID(in body: [UInt8], at path: String) -> String? {
        guard var value = try? JSONValue.parse(String(decoding: body, as: UTF8.self)) else { return nil }
        for key in path.split(separator: ".") {
            guard case .object(let pairs) = value, let next = pairs.first(where: { $0.0 == key })?.1 else { return nil }
            value = next
        }
        switch value {
        case .string(let s): return s.isEmpty ? nil : s
        case .integer(let n): return String(n)
        default: return nil
        }
    }

    /// `Retry-After` in seconds from `now`: a number of seconds, or an HTTP date (RFC 9110:
    /// IMF-fixdate, and the obsolete RFC 850 and asctime forms); nil when it is neither.
    static func retryAfter(_ value: String, now: Date) -> TimeInterval? {
        let text = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Int(text) { return seconds >= 0 ? TimeInterval(seconds) : nil }
        for format in ["EEE, dd MMM yyyy HH:mm:ss 'GMT'", "EEEE, dd-MMM-yy HH:mm:ss 'GMT'", "EEE MMM d HH:mm:ss yyyy"] {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = format
            if let date = formatter.date(from: text.replacingOccurrences(of: "  ", with: " ")) {
                return max(0, date.timeIntervalSince(now))
            }
        }
        return nil
    }

    /// Keeps the answer's body, up to ``bodyLimit``.
    static let body: herald_curl_io_callback = { buffer, size, count, context in
        guard let buffer, let context else { return 0 }
        let answer = Unmanaged<Answer>.fromOpaque(context).takeUnretainedValue()
        let n = size * count
        let kept = min(n, bodyLimit - answer.body.count)
        if kept > 0 { answer.body += UnsafeRawBufferPointer(start: buffer, count: kept) }
        return n
    }

    /// Reads the status line's reason and `Retry-After` (a new status line, after a
    /// `100 Continue`, starts again).
    static let header: herald_curl_io_callback = { buffer, size, count, context in
        guard let buffer, let context else { return 0 }
        let answer = Unmanaged<Answer>.fromOpaque(context).takeUnretainedValue()
        let line = String(decoding: UnsafeRawBufferPointer(start: buffer, count: size * count), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        if line.hasPrefix("HTTP/") {
            answer.retryAfter = nil
            answer.reason = line.split(separator: " ", maxSplits: 2).dropFirst(2).first.map(String.init) ?? ""
        } else if let colon = line.firstIndex(of: ":"), line[..<colon].lowercased() == "retry-after" {
            answer.retryAfter = String(line[line.index(after: colon)...])
        }
        return size * count
    }
}
