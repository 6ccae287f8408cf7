import CCurl
public import Foundation
public import HeraldCore

/// How an SMTP connection is secured.
public enum SMTPSecurity: String, Sendable, CaseIterable {
    /// Plain text (a relay on the same machine or network).
    case none
    /// Plain connection upgraded with STARTTLS; refused when the server does not offer it.
    case starttls
    /// TLS from the first byte (`smtps`, usually port 465).
    case tls
}

/// Where and how the SMTP provider connects, with the credentials already read from the
/// environment.
public struct SMTPSettings: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var security: SMTPSecurity
    public var username: String?
    public var password: String?
    public var options: ConnectionOptions

    public init(
        host: String, port: Int, security: SMTPSecurity = .none, username: String? = nil, password: String? = nil, connections: Int = 1,
        verify: Bool = true, caFile: String? = nil, connectTimeout: TimeInterval = 10, timeout: TimeInterval = 60
    ) {
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self.password = password
        options = ConnectionOptions(
            connections: connections, verify: verify, caFile: caFile, connectTimeout: connectTimeout, timeout: timeout)
    }

    /// The URL libcurl connects to.
    var url: String {
        let host = self.host.contains(":") ? "[\(self.host)]" : self.host
        return "\(security == .tls ? "smtps" : "smtp")://\(host):\(port)"
    }
}

/// Sends e-mail to an SMTP server through libcurl: one transaction per message with its own
/// envelope, over `connections` connections kept open between messages.
///
/// What the server answered decides the outcome: 250 after the data is sent (with the
/// server's queue id when it names one), 4xx transient, 5xx permanent. A failure before the
/// transaction starts (connecting, TLS, authentication) is transient: it says nothing of the
/// message. A connection lost after the data went out and before the server's answer is
/// `unknown`: the server may have the message, so it is never sent again by itself.
public final class SMTPProvider: ChannelProvider, @unchecked Sendable {
    public let name = "smtp"
    public let settings: SMTPSettings
    public var destination: String { "smtp \(settings.host):\(settings.port)" }
    public let email: EmailSettings
    /// One per connection; each used by one thread at a time (its lane of a batch).
    private let lanes: [SMTPConnection]
    /// What went on the wire, for settling after a crash; nil: every message left claimed by a
    /// stopped executor is unknown.
    public let journal: SendJournal?

    public init(settings: SMTPSettings, email: EmailSettings, journal: SendJournal? = nil) throws {
        self.settings = settings
        self.email = email
        self.journal = journal
        lanes = try (0..<max(1, settings.options.connections)).map { _ in try SMTPConnection(settings) }
        if let journal { try Files.requireWritable(journal.directory, what: "the SMTP journal") }
    }

    public func send(_ batch: [OutboundMessage]) -> [ProviderOutcome] {
        let email = self.email
        return SendJournal.send(batch, over: lanes, journal: journal, what: "SMTP") { lane, message in lane.send(message, email: email) }
    }

    /// The journal says what the server took of messages a stopped executor left claimed: the
    /// message on the wire when it stopped is unknown, the others are settled.
    public func reconcile(_ messages: [ClaimedMessage], runID: Int64) -> [Reconciliation] {
        journal?.reconcile(messages, runID: runID) ?? messages.map { _ in .cannotTell }
    }
}

/// One SMTP connection: a libcurl handle, which keeps the connection open between messages.
final class SMTPConnection: @unchecked Sendable {
    let settings: SMTPSettings
    let handle: UnsafeMutableRawPointer

    init(_ settings: SMTPSettings) throws {
        self.settings = settings
        handle = try Curl.handle()
    }

    deinit { curl_easy_cleanup(handle) }

    /// One message's exchange: the bytes to upload, and what was said.
    final class Exchange {
        let body: [UInt8]
        var offset = 0
        /// The server's replies, in order (code and text of each line's last reply).
        var replies: [(code: Int, text: String)] = []
        /// Whether the MAIL command went out (the transaction started).
        var started = false
        /// Whether libcurl said QUIT (after a failure): the replies after it are the goodbye.
        var quitting = false

        init(body: [UInt8]) { self.body = body }
    }

    func send(_ message: OutboundMessage, email: EmailSettings) -> ProviderOutcome {
        let sender = EmailMIME.sender(message, settings: email)
        guard let envelopeFrom = Addresses.mailboxAddress(sender) else {
            return .permanent("the sender '\(sender)' is not an e-mail address")
        }
        let exchange = Exchange(body: Array(EmailMIME.build(message, settings: email, date: Date()).utf8))
        // Reset clears the last message's options; the open connection stays.
        let recipients: UnsafeMutablePointer<curl_slist>? = curl_slist_append(nil, "<\(message.address)>")
        defer { curl_slist_free_all(recipients) }
        let context = Unmanaged.passUnretained(exchange).toOpaque()
        var set =
            [
                herald_curl_set_text(handle, CURLOPT_URL, settings.url),
                herald_curl_set_text(handle, CURLOPT_MAIL_FROM, "<\(envelopeFrom)>"),
                herald_curl_set_list(handle, CURLOPT_MAIL_RCPT, recipients),
                herald_curl_set_long(handle, CURLOPT_UPLOAD, 1),
                herald_curl_set_io(handle, CURLOPT_READFUNCTION, SMTPConnection.read),
                herald_curl_set_pointer(handle, CURLOPT_READDATA, context),
                // The exchange's lines come to the callback, never to standard error.
                herald_curl_set_long(handle, CURLOPT_VERBOSE, 1),
                herald_curl_set_debug(handle, SMTPConnection.observe),
                herald_curl_set_pointer(handle, CURLOPT_DEBUGDATA, context),
                herald_curl_set_long(
                    handle, CURLOPT_USE_SSL, Int(settings.security == .starttls ? CURLUSESSL_ALL.rawValue : CURLUSESSL_NONE.rawValue)),
            ] + Curl.apply(settings.options, to: handle)
        if let username = settings.username { set.append(herald_curl_set_text(handle, CURLOPT_USERNAME, username)) }
        if let password = settings.password { set.append(herald_curl_set_text(handle, CURLOPT_PASSWORD, password)) }
        if let failed = Curl.refused(set) { return .transient("libcurl refused an SMTP option: \(failed)", retryAfter: nil) }
        let result = Curl.perform(handle)
        return Self.outcome(result, exchange).redacting(message.address)
    }

    /// What a message's exchange comes to (see ``SMTPProvider``).
    static func outcome(_ result: CURLcode, _ exchange: Exchange) -> ProviderOutcome {
        let dataSent = exchange.replies.contains { $0.code == 354 }
        let last = exchange.replies.last
        let said = last.map { " (the server answered \($0.code) \($0.text))" } ?? ""
        if result == CURLE_OK { return .sent(providerID: last.flatMap { queueID($0.text) }) }
        let why = String(cString: curl_easy_strerror(result))
        if dataSent {
            // After the data, only the server's answer to it tells what became of the message.
            guard let last, last.code != 354 else {
                return .unknown("the connection ended after the message was sent and before the server answered (\(why))")
            }
            return last.code >= 500 ? .permanent("\(last.code) \(last.text)") : .transient("\(last.code) \(last.text)", retryAfter: nil)
        }
        guard exchange.started, let last else {
            // Connecting, TLS or authentication: nothing of this message reached the server.
            return .transient("no SMTP transaction could be started: \(why)\(said)", retryAfter: nil)
        }
        switch last.code {
        case 530:
            // Authentication or STARTTLS required: the configuration's doing, not the message's.
            return .transient(
                "\(last.code) \(last.text) (the server wants authentication or STARTTLS first: see tls and username_env)",
                retryAfter: nil)
        case 500...: return .permanent("\(last.code) \(last.text)")
        case 400..<500: return .transient("\(last.code) \(last.text)", retryAfter: nil)
        default: return .transient("the SMTP exchange failed: \(why)\(said)", retryAfter: nil)
        }
    }

    /// `queued as ABC123` in a 250 reply (Postfix, and most servers); nil otherwise.
    static func queueID(_ text: String) -> String? {
        guard let range = text.range(of: "queued as ", options: .caseInsensitive) else { return nil }
        let id = text[range.upperBound...].prefix { !$0.isWhitespace }
        return id.isEmpty ? nil : String(id)
    }

    /// Hands libcurl the next part of the message.
    static let read: herald_curl_io_callback = { buffer, size, count, context in
        guard let buffer, let context else { return 0 }
        let exchange = Unmanaged<Exchange>.fromOpaque(context).takeUnretainedValue()
        let n = min(size * count, exchange.body.count - exchange.offset)
        exchange.body.withUnsafeBytes { bytes in
            UnsafeMutableRawPointer(buffer).copyMemory(from: bytes.baseAddress! + exchange.offset, byteCount: n)
        }
        exchange.offset += n
        return n
    }

    /// Notes the commands sent and the server's replies (never the message itself), reading
    /// the bytes as they are: this runs for every line of every message.
    static let observe: herald_curl_debug_callback = { _, type, data, size, context in
        guard let data, let context, type == CURLINFO_HEADER_IN || type == CURLINFO_HEADER_OUT else { return 0 }
        let exchange = Unmanaged<Exchange>.fromOpaque(context).takeUnretainedValue()
        let bytes = UnsafeRawBufferPointer(start: data, count: size).bindMemory(to: UInt8.self)
        var start = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
            var last = end
            if last > start && bytes[last - 1] == UInt8(ascii: "\r") { last -= 1 }
            note(UnsafeBufferPointer(rebasing: bytes[start..<last]), sent: type == CURLINFO_HEADER_OUT, in: exchange)
            start = end + 1
        }
        return 0
    }

    /// One line of the exchange: a command Herald sent, or a line of the server's reply.
    static func note(_ line: UnsafeBufferPointer<UInt8>, sent: Bool, in exchange: Exchange) {
        func starts(with word: StaticString) -> Bool {
            guard line.count >= word.utf8CodeUnitCount else { return false }
            for i in 0..<word.utf8CodeUnitCount where line[i] & 0xDF != word.utf8Start[i] & 0xDF { return false }
            return true
        }
        if sent {
            if starts(with: "MAIL FROM") { exchange.started = true }
            if starts(with: "QUIT") { exchange.quitting = true }
            return
        }
        // `250-…` continues a multi-line reply, `250 …` ends it.
        guard !exchange.quitting, line.count >= 3, line[0..<3].allSatisfy({ (0x30...0x39).contains($0) }) else { return }
        if line.count > 3 && line[3] == UInt8(ascii: "-") { return }
        let code = Int(line[0] - 0x30) * 100 + Int(line[1] - 0x30) * 10 + Int(line[2] - 0x30)
        let text = String(decoding: UnsafeBufferPointer(rebasing: line[min(3, line.count)...]), as: UTF8.self)
        exchange.replies.append((code, text.trimmingCharacters(in: .whitespaces)))
    }
}
