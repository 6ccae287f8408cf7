import Crypto
public import Foundation
public import HeraldCore

/// What an e-mail needs beyond its node's content: the configured From and Reply-To, the
/// one-click unsubscribe URL pattern and the host its Message-IDs are under.
public struct EmailSettings: Sendable, Equatable {
    public var from: String?
    public var replyTo: String?
    public var unsubscribeURL: String?

    public init(from: String? = nil, replyTo: String? = nil, unsubscribeURL: String? = nil) {
        self.from = from
        self.replyTo = replyTo
        self.unsubscribeURL = unsubscribeURL
    }
}

/// A message as RFC 5322 / MIME text: multipart/alternative (text, then HTML when the node has
/// one), UTF-8 headers as RFC 2047 encoded words, bodies in base64, Date, a Message-ID derived
/// from the ledger id, and on marketing mail `List-Unsubscribe` with
/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058).
public enum EmailMIME {
    /// `<herald.ID@DOMAIN>`, the domain taken from the From address.
    public static func messageID(_ m: OutboundMessage, from: String? = nil) -> String {
        let sender = from ?? m.field("from") ?? ""
        let domain = sender.split(separator: "@").last.map { $0.filter { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" } }
        let origin = m.origin.map { "\($0)." } ?? ""
        return "<herald.\(origin)\(m.runID).\(m.id)@\(domain.flatMap { $0.isEmpty ? nil : $0 } ?? "herald.invalid")>"
    }

    /// The From an e-mail goes with: the node's, the configuration's, or `herald@localhost`.
    public static func sender(_ m: OutboundMessage, settings: EmailSettings) -> String {
        m.field("from").flatMap { $0.isEmpty ? nil : $0 } ?? settings.from ?? "herald@localhost"
    }

    public static func build(_ m: OutboundMessage, settings: EmailSettings, date: Date) -> String {
        let from = sender(m, settings: settings)
        var headers: [(String, String)] = [
            ("From", address(from)), ("To", address(m.address)), ("Subject", encodedWord(m.field("subject") ?? "")),
            ("Date", rfc5322Date(date)), ("Message-ID", messageID(m, from: from)), ("MIME-Version", "1.0"),
        ]
        if let reply = m.field("replyTo").flatMap({ $0.isEmpty ? nil : $0 }) ?? settings.replyTo {
            headers.append(("Reply-To", address(reply)))
        }
        if m.category == .marketing, let pattern = settings.unsubscribeURL, let token = m.unsubscribeToken {
            headers.append(("List-Unsubscribe", "<\(pattern.replacingOccurrences(of: "{token}", with: token))>"))
            headers.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
        }
        headers.append(("X-Herald-Message", "\(m.id)"))
        let boundary = "herald-\(m.id)-\(m.runID)-alt"
        var text = headers.map { "\($0.0): \($0.1)" }.joined(separator: "\r\n") + "\r\n"
        let plain = m.field("text") ?? ""
        if let html = m.field("html"), !html.isEmpty {
            text += "Content-Type: multipart/alternative; boundary=\"\(boundary)\"\r\n\r\n"
            text += "--\(boundary)\r\n" + part("text/plain", plain)
            text += "--\(boundary)\r\n" + part("text/html", html)
            text += "--\(boundary)--\r\n"
        } else {
            text += part("text/plain", plain)
        }
        return text
    }

    static func part(_ type: String, _ body: String) -> String {
        let encoded = Data(body.utf8).base64EncodedString(options: [
            .lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed,
        ])
        return "Content-Type: \(type); charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n\(encoded)\r\n"
    }

    /// A header value as is when it is printable ASCII, else as RFC 2047 `=?utf-8?B?…?=` words
    /// of at most 75 characters, split between characters.
    public static func encodedWord(_ value: String) -> String {
        if value.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) { return value }
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in value {
            let bytes = Array(String(character).utf8)
            // 39 bytes of UTF-8 make 52 characters of base64: with `=?utf-8?B?` and `?=`, and a
            // header's name before the first word, each line stays within 78 characters.
            if chunk.count + bytes.count > 39 {
                words.append("=?utf-8?B?\(Data(chunk).base64EncodedString())?=")
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append("=?utf-8?B?\(Data(chunk).base64EncodedString())?=") }
        return words.joined(separator: "\r\n ")
    }

    /// `Name <addr>` with the display name encoded when it is not ASCII; a bare address as is.
    static func address(_ text: String) -> String {
        guard let open = text.lastIndex(of: "<"), text.hasSuffix(">") else { return text.filter { $0 != "\r" && $0 != "\n" } }
        let name = text[..<open].trimmingCharacters(in: .whitespaces)
        let addr = text[open...].filter { $0 != "\r" && $0 != "\n" }
        if name.isEmpty { return String(addr) }
        let shown =
            name.unicodeScalars.allSatisfy { $0.isASCII } ? "\"\(name.replacingOccurrences(of: "\"", with: ""))\"" : encodedWord(name)
        return "\(shown) \(addr)"
    }

    /// `Thu, 03 Jun 2027 07:20:00 +0000`, from the C library's calendar arithmetic: a date
    /// formatter per message costs more than the rest of the message.
    static func rfc5322Date(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var t = tm()
        gmtime_r(&seconds, &t)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(days[Int(t.tm_wday)]), \(two(t.tm_mday)) \(months[Int(t.tm_mon)]) \(t.tm_year + 1900) "
            + "\(two(t.tm_hour)):\(two(t.tm_min)):\(two(t.tm_sec)) +0000"
    }
}

/// Signed unsubscribe tokens: `profile.channel.campaign.signature`, each part base64url, the
/// signature an HMAC-SHA256 of the rest with the configured secret.
public struct UnsubscribeTokens: Sendable {
    let secret: Data
    /// The HMAC with its key already taken in: each token starts from a copy of it (its digest
    /// state is copied when the copy is first written to), rather than hashing the key again.
    let keyed: Keyed

    /// Never written to in place, only copied (see ``keyed``).
    struct Keyed: @unchecked Sendable {
        let mac: HMAC<SHA256>
    }

    public init(secret: String) {
        self.secret = Data(secret.utf8)
        keyed = Keyed(mac: HMAC<SHA256>(key: SymmetricKey(data: self.secret)))
    }

    var key: SymmetricKey { SymmetricKey(data: secret) }

    public func token(profileKey: String, channel: Channel, campaign: String) -> String {
        let payload = Self.base64url(profileKey.utf8) + "." + Self.base64url(channel.rawValue.utf8) + "." + Self.base64url(campaign.utf8)
        var mac = keyed.mac
        mac.update(data: Array(payload.utf8))
        return payload + "." + Self.base64url(Array(mac.finalize()))
    }

    /// The profile, channel and campaign a token names, when its signature is right (compared
    /// in constant time); nil for a forged or damaged token.
    public func verify(_ token: String) -> (profileKey: String, channel: Channel, campaign: String)? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 4, let signature = Self.data(base64url: parts[3]) else { return nil }
        let payload = parts[0..<3].joined(separator: ".")
        guard HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: Data(payload.utf8), using: key) else { return nil }
        let fields = parts[0..<3].compactMap { Self.data(base64url: $0).flatMap { String(data: $0, encoding: .utf8) } }
        guard fields.count == 3, let channel = Channel(rawValue: fields[1]) else { return nil }
        return (fields[0], channel, fields[2])
    }

    static let base64urlDigits = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// RFC 4648's URL-safe base64, without padding (a token renders with every message).
    static func base64url(_ bytes: some Sequence<UInt8>) -> String {
        let digits = base64urlDigits
        var out: [UInt8] = []
        var group: UInt32 = 0
        var count = 0
        for byte in bytes {
            group = group << 8 | UInt32(byte)
            count += 1
            if count == 3 {
                for shift in [18, 12, 6, 0] { out.append(digits[Int(group >> UInt32(shift) & 63)]) }
                group = 0
                count = 0
            }
        }
        // The last one or two bytes, padded with zero bits to whole digits.
        if count == 1 {
            out += [digits[Int(group >> 2 & 63)], digits[Int(group << 4 & 63)]]
        } else if count == 2 {
            out += [digits[Int(group >> 10 & 63)], digits[Int(group >> 4 & 63)], digits[Int(group << 2 & 63)]]
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func data(base64url text: String) -> Data? {
        var s = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while s.count % 4 != 0 { s += "=" }
        return Data(base64Encoded: s)
    }
}

/// What the delivery worker is given: a provider per channel, the retry policy, throttles and
/// the token signer, built from the configuration.
public struct DeliverySetup: Sendable {
    public var providers: [Channel: any ChannelProvider]
    public var retry: RetryPolicy
    public var rates: [Channel: DeliveryRate]
    public var tokens: UnsubscribeTokens?
    /// Messages claimed per transaction.
    public var batchSize: Int
    /// Where the configuration came from (a file's path, or `defaults`), for messages.
    public var source = "defaults"

    public init(
        providers: [Channel: any ChannelProvider], retry: RetryPolicy = RetryPolicy(), rates: [Channel: DeliveryRate] = [:],
        tokens: UnsubscribeTokens? = nil, batchSize: Int = 1000
    ) {
        self.providers = providers
        self.retry = retry
        self.rates = rates
        self.tokens = tokens
        self.batchSize = batchSize
    }

    /// The providers the configuration names, for a store at `storePath`. Refuses (naming the
    /// key) an unwritable directory or a token secret variable that is not set. Without
    /// `journals`, network providers keep no journal (a proof, which no run will settle).
    public static func make(
        _ config: DeliveryConfig, storePath: String, environment: [String: String] = ProcessInfo.processInfo.environment,
        journals: Bool = true
    )
        throws -> DeliverySetup
    {
        let secret = try config.tokenSecret(environment: environment)
        let email = config.channel(.email)
        let settings = EmailSettings(from: email.from, replyTo: email.replyTo, unsubscribeURL: email.unsubscribeURL)
        var providers: [Channel: any ChannelProvider] = [:]
        var outbox: OutboxProvider?
        for channel in Channel.allCases {
            switch config.channel(channel).provider {
            case .discard: providers[channel] = DiscardProvider()
            case .outbox:
                if outbox == nil {
                    outbox = try OutboxProvider(directory: Files.absolute(config.outbox(storePath: storePath)), email: settings)
                }
                providers[channel] = outbox
            case .directMail: providers[channel] = try DirectMailProvider(directory: Files.absolute(config.extracts(storePath: storePath)))
            case .smtp:
                guard let smtp = config.channel(channel).smtp else {
                    throw HeraldError(.invalidInput, "\(config.source): channels.email.host: needed by the smtp provider")
                }
                providers[channel] = try SMTPProvider(
                    settings: try smtp.settings(environment: environment, source: config.source), email: settings,
                    journal: journals ? SendJournal(directory: Files.absolute(config.outbox(storePath: storePath)) + "/smtp") : nil)
            case .webhook:
                guard let webhook = config.channel(channel).webhook else {
                    throw HeraldError(.invalidInput, "\(config.source): channels.\(channel.rawValue).url: needed by the webhook provider")
                }
                providers[channel] = try WebhookProvider(
                    settings: try webhook.settings(channel, environment: environment, source: config.source),
                    journal: journals
                        ? SendJournal(directory: Files.absolute(config.outbox(storePath: storePath)) + "/\(channel.rawValue)-webhook") : nil
                )
            }
        }
        var setup = DeliverySetup(
            providers: providers, retry: config.retry, rates: config.channels.compactMapValues(\.rate),
            tokens: secret.map(UnsubscribeTokens.init), batchSize: config.batch)
        setup.source = config.source
        return setup
    }
}
