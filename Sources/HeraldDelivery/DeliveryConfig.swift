public import Foundation
public import HeraldCore
import TOMLKit

/// Which provider delivers a channel's messages.
public enum ProviderKind: String, Sendable, CaseIterable {
    /// Files in the outbox: `.eml` per e-mail, JSON lines for SMS and push. Nothing leaves the machine.
    case outbox
    /// Accepts everything and keeps nothing (benchmarks).
    case discard
    /// One CSV extract per run and node (the direct-mail channel's only provider).
    case directMail = "direct_mail"
    /// E-mail to an SMTP server (`[channels.email]` says which and how).
    case smtp
    /// SMS or push as a JSON POST to a gateway's URL (`[channels.sms]`, `[channels.push]`).
    case webhook
}

/// The SMTP provider's settings as configured: credentials only as the names of the
/// environment variables holding them.
public struct SMTPConfig: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var security: SMTPSecurity
    public var usernameEnv: String?
    public var passwordEnv: String?
    public var options: ConnectionOptions

    public init(
        host: String, port: Int? = nil, security: SMTPSecurity = .none, usernameEnv: String? = nil, passwordEnv: String? = nil,
        options: ConnectionOptions = ConnectionOptions(timeout: 60)
    ) {
        self.host = host
        self.port = port ?? (security == .tls ? 465 : security == .starttls ? 587 : 25)
        self.security = security
        self.usernameEnv = usernameEnv
        self.passwordEnv = passwordEnv
        self.options = options
    }

    /// The settings with the credentials read from `environment`: a named variable that is not
    /// set is refused (a relay that needs them would refuse every message).
    public func settings(environment: [String: String], source: String) throws -> SMTPSettings {
        let secret = { (name: String?, key: String) in
            try DeliveryConfig.secret(name, key: "channels.email.\(key)", environment: environment, source: source)
        }
        try DeliveryConfig.requireFile(options.caFile, key: "channels.email.ca_file", source: source)
        var settings = SMTPSettings(
            host: host, port: port, security: security, username: try secret(usernameEnv, "username_env"),
            password: try secret(passwordEnv, "password_env"))
        settings.options = options
        return settings
    }
}

/// The webhook provider's settings as configured (SMS or push): the auth header's value only
/// as the name of the environment variable holding it.
public struct WebhookConfig: Sendable, Equatable {
    public var url: String
    /// The header that carries the credential (`Authorization` unless configured).
    public var authHeader: String
    public var authHeaderEnv: String?
    /// Where the gateway's id for the message is in its JSON answer (`sid`, `data.id`).
    public var idField: String?
    public var options: ConnectionOptions

    public init(
        url: String, authHeader: String = "Authorization", authHeaderEnv: String? = nil, idField: String? = nil,
        options: ConnectionOptions = ConnectionOptions(timeout: 10)
    ) {
        self.url = url
        self.authHeader = authHeader
        self.authHeaderEnv = authHeaderEnv
        self.idField = idField
        self.options = options
    }

    /// The settings with the auth header's value read from `environment` (refused when the
    /// variable it names is not set).
    public func settings(_ channel: Channel, environment: [String: String], source: String) throws -> WebhookSettings {
        try DeliveryConfig.requireFile(options.caFile, key: "channels.\(channel.rawValue).ca_file", source: source)
        let value = try DeliveryConfig.secret(
            authHeaderEnv, key: "channels.\(channel.rawValue).auth_header_env", environment: environment, source: source)
        return WebhookSettings(
            url: url, authorization: value.map { HTTPHeader(name: authHeader, value: $0) }, idField: idField, options: options)
    }
}

/// `herald serve`'s settings: the inbound SMS webhook's shared secret, only as the name of the
/// environment variable holding it.
public struct ServeConfig: Sendable, Equatable {
    /// The header a gateway sends the secret in.
    public var secretHeader = "X-Herald-Secret"
    public var secretEnv: String?

    public init(secretHeader: String = "X-Herald-Secret", secretEnv: String? = nil) {
        self.secretHeader = secretHeader
        self.secretEnv = secretEnv
    }
}

/// One channel's delivery settings.
public struct ChannelConfig: Sendable, Equatable {
    public var provider: ProviderKind
    /// E-mail: the From and Reply-To used when the node's content gives none.
    public var from: String?
    public var replyTo: String?
    /// E-mail: the one-click unsubscribe URL, with `{token}` where the signed token goes.
    public var unsubscribeURL: String?
    /// A global cap on this channel's provider.
    public var rate: DeliveryRate?
    /// Direct mail: where extracts are written.
    public var directory: String?
    /// E-mail through SMTP: the server and how to reach it.
    public var smtp: SMTPConfig?
    /// SMS or push through a webhook: the gateway's URL and how to reach it.
    public var webhook: WebhookConfig?

    public init(
        provider: ProviderKind, from: String? = nil, replyTo: String? = nil, unsubscribeURL: String? = nil, rate: DeliveryRate? = nil,
        directory: String? = nil
    ) {
        self.provider = provider
        self.from = from
        self.replyTo = replyTo
        self.unsubscribeURL = unsubscribeURL
        self.rate = rate
        self.directory = directory
    }
}

/// Delivery configuration: providers per channel, where files go, throttles, retries and the
/// token secret's environment variable. Read from TOML; secrets only through environment
/// variables the file names.
public struct DeliveryConfig: Sendable, Equatable {
    /// Where the configuration came from (`defaults` when no file was found).
    public var source: String
    /// The outbox directory; nil: `STORE-outbox` beside the store.
    public var outboxDirectory: String?
    public var channels: [Channel: ChannelConfig]
    /// The environment variable holding the secret unsubscribe tokens are signed with.
    public var tokenSecretEnv: String?
    public var retry: RetryPolicy
    /// `herald serve`'s settings.
    public var serve = ServeConfig()
    /// Messages claimed per transaction (`delivery.batch`): at most this many are in doubt
    /// after a crash (twice this many while one batch is sent and the next is claimed).
    public var batch = 1000
    public static let batchRange = 1...20_000

    public static let defaults = DeliveryConfig(
        source: "defaults", outboxDirectory: nil,
        channels: [
            .email: ChannelConfig(provider: .outbox), .sms: ChannelConfig(provider: .outbox), .push: ChannelConfig(provider: .outbox),
            .directMail: ChannelConfig(provider: .directMail),
        ], tokenSecretEnv: nil, retry: RetryPolicy())

    public init(
        source: String, outboxDirectory: String?, channels: [Channel: ChannelConfig], tokenSecretEnv: String?, retry: RetryPolicy
    ) {
        self.source = source
        self.outboxDirectory = outboxDirectory
        self.channels = channels
        self.tokenSecretEnv = tokenSecretEnv
        self.retry = retry
    }

    public func channel(_ channel: Channel) -> ChannelConfig {
        channels[channel] ?? Self.defaults.channels[channel]!
    }

    /// The file to read: `explicit` (`--config`), then `HERALD_CONFIG`, `./herald.toml`, then
    /// `$XDG_CONFIG_HOME/herald/config.toml` (`~/.config/…`); nil when none exists (defaults).
    /// An explicit file or `HERALD_CONFIG` that does not exist is an error, not a fallback.
    public static func locate(explicit: String?, environment: [String: String]) throws -> String? {
        if let path = explicit ?? environment["HERALD_CONFIG"].flatMap({ $0.isEmpty ? nil : $0 }) {
            guard FileManager.default.fileExists(atPath: path) else {
                throw HeraldError(
                    .invalidInput, "\(explicit != nil ? "--config" : "HERALD_CONFIG"): no configuration file at \(path)")
            }
            return path
        }
        if FileManager.default.fileExists(atPath: "herald.toml") { return "herald.toml" }
        let base = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (environment["HOME"].map { $0 + "/.config" } ?? "")
        let user = base + "/herald/config.toml"
        return base.isEmpty || !FileManager.default.fileExists(atPath: user) ? nil : user
    }

    /// Loads the configuration Herald uses: the located file, or the defaults.
    public static func load(
        explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws
        -> DeliveryConfig
    {
        guard let path = try locate(explicit: explicit, environment: environment) else { return defaults }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw HeraldError(.invalidInput, "\(path) is a directory; give the path of a TOML file")
        }
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw HeraldError(.invalidInput, "\(path): cannot be read: \(error.localizedDescription)")
        }
        var config = try parse(text, source: path)
        // Relative directories are the file's, not the working directory's: a scheduler or a
        // resume started elsewhere must find the same outbox (to reconcile what it holds).
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        config.resolveDirectories(against: (absolute as NSString).deletingLastPathComponent)
        return config
    }

    /// Makes relative directories absolute, under `folder`.
    public mutating func resolveDirectories(against folder: String) {
        func resolved(_ d: String?) -> String? {
            d.map { ($0 as NSString).expandingTildeInPath }.map { $0.hasPrefix("/") ? $0 : (folder as NSString).appendingPathComponent($0) }
        }
        outboxDirectory = resolved(outboxDirectory)
        if var mail = channels[.directMail] {
            mail.directory = resolved(mail.directory)
            channels[.directMail] = mail
        }
        for (channel, var c) in channels {
            let smtpCA = c.smtp?.options.caFile
            let webhookCA = c.webhook?.options.caFile
            c.smtp?.options.caFile = resolved(smtpCA)
            c.webhook?.options.caFile = resolved(webhookCA)
            channels[channel] = c
        }
    }

    /// Parses TOML; every problem names its key, and an unknown key is refused (a typo must
    /// not silently fall back to a default that sends differently).
    public static func parse(_ text: String, source: String) throws -> DeliveryConfig {
        let table: TOMLTable
        do { table = try TOMLTable(string: text) } catch let error as TOMLParseError {
            throw HeraldError(.invalidInput, "\(source): \(error.source.begin.debugDescription): \(error.description)")
        }
        func fail(_ key: String, _ message: String) -> HeraldError { HeraldError(.invalidInput, "\(source): \(key): \(message)") }
        func allow(_ t: TOMLTable, _ prefix: String, _ keys: [String]) throws {
            for key in t.keys.sorted() where !keys.contains(key) {
                throw fail(prefix + key, "unknown key (expected \(keys.map { prefix + $0 }.joined(separator: ", ")))")
            }
        }
        func string(_ t: TOMLTable, _ key: String, _ path: String) throws -> String? {
            guard let value = t[key] else { return nil }
            guard let s = value.string else { throw fail(path, "expected text in quotes") }
            return s
        }
        func directory(_ t: TOMLTable, _ path: String) throws -> String? {
            guard let d = try string(t, "directory", path) else { return nil }
            guard !d.trimmingCharacters(in: .whitespaces).isEmpty else { throw fail(path, "expected a directory, found nothing") }
            return d
        }
        func mailbox(_ t: TOMLTable, _ key: String, _ path: String) throws -> String? {
            guard let m = try string(t, key, path) else { return nil }
            guard Addresses.mailboxAddress(m) != nil else {
                throw fail(path, "expected an e-mail address such as \"Northwind Travel <news@example.com>\", found '\(m)'")
            }
            return m
        }
        func duration(_ t: TOMLTable, _ key: String, _ path: String) throws -> TimeInterval? {
            guard let s = try string(t, key, path) else { return nil }
            guard let seconds = Self.seconds(s) else {
                throw fail(path, "expected a duration such as \"30s\", \"5m\" or \"1h\" (up to 365d), found '\(s)'")
            }
            return seconds
        }
        try allow(table, "", ["outbox", "channels", "delivery", "serve"])
        var config = defaults
        config.source = source
        if let value = table["outbox"] {
            guard let outbox = value.table else { throw fail("outbox", "expected a table [outbox]") }
            try allow(outbox, "outbox.", ["directory"])
            config.outboxDirectory = try directory(outbox, "outbox.directory")
        }
        if let value = table["channels"] {
            guard let channels = value.table else { throw fail("channels", "expected tables such as [channels.email]") }
            let names: [String: Channel] = ["email": .email, "sms": .sms, "push": .push, "direct_mail": .directMail]
            try allow(channels, "channels.", ["email", "sms", "push", "direct_mail"])
            for (name, channel) in names {
                guard let entry = channels[name] else { continue }
                let prefix = "channels.\(name)."
                guard let t = entry.table else { throw fail("channels.\(name)", "expected a table [channels.\(name)]") }
                var c = config.channel(channel)
                if channel == .directMail {
                    try allow(t, prefix, ["provider", "directory", "rate"])
                    c.directory = try directory(t, prefix + "directory")
                } else {
                    try allow(
                        t, prefix,
                        channel == .email
                            ? ["provider", "from", "reply_to", "unsubscribe_url", "rate"] + Self.smtpKeys
                            : ["provider", "rate"] + Self.webhookKeys)
                }
                if let p = try string(t, "provider", prefix + "provider") {
                    let allowed: [ProviderKind] =
                        switch channel {
                        case .directMail: [.directMail, .discard]
                        case .email: [.outbox, .discard, .smtp]
                        case .sms, .push: [.outbox, .discard, .webhook]
                        }
                    guard let kind = ProviderKind(rawValue: p), allowed.contains(kind) else {
                        throw fail(prefix + "provider", "expected \(Self.alternatives(allowed.map(\.rawValue))), found '\(p)'")
                    }
                    c.provider = kind
                }
                if channel == .sms || channel == .push {
                    c.webhook = try webhook(t, channel: channel, provider: c.provider, fail: fail)
                }
                if channel == .email {
                    c.smtp = try smtp(t, provider: c.provider, fail: fail)
                    c.from = try mailbox(t, "from", prefix + "from")
                    c.replyTo = try mailbox(t, "reply_to", prefix + "reply_to")
                    if let url = try string(t, "unsubscribe_url", prefix + "unsubscribe_url") {
                        guard url.contains("{token}"), url.hasPrefix("https://") || url.hasPrefix("http://") else {
                            throw fail(prefix + "unsubscribe_url", "expected an http(s) URL containing {token}, found '\(url)'")
                        }
                        c.unsubscribeURL = url
                    }
                }
                if let r = try string(t, "rate", prefix + "rate") {
                    guard let rate = DeliveryRate(parsing: r) else {
                        throw fail(prefix + "rate", "expected messages per second, minute or hour such as \"200/s\", found '\(r)'")
                    }
                    c.rate = rate
                }
                config.channels[channel] = c
            }
        }
        if let value = table["serve"] {
            guard let serve = value.table else { throw fail("serve", "expected a table [serve]") }
            try allow(serve, "serve.", ["secret_env", "secret_header"])
            let keys = NetworkTable(table: serve, prefix: "serve.", fail: fail)
            config.serve.secretEnv = try keys.variable("secret_env")
            if let header = try keys.header("secret_header") { config.serve.secretHeader = header }
            if serve["secret_header"] != nil && config.serve.secretEnv == nil {
                throw fail("serve.secret_env", "needed with secret_header (the environment variable holding the shared secret)")
            }
        }
        if let value = table["delivery"] {
            guard let delivery = value.table else { throw fail("delivery", "expected a table [delivery]") }
            try allow(delivery, "delivery.", ["token_secret_env", "retry", "batch"])
            if let b = delivery["batch"] {
                guard let n = b.int, Self.batchRange.contains(n) else {
                    throw fail(
                        "delivery.batch",
                        "expected a whole number of messages from \(Self.batchRange.lowerBound) to \(Self.batchRange.upperBound)")
                }
                config.batch = n
            }
            config.tokenSecretEnv = try string(delivery, "token_secret_env", "delivery.token_secret_env")
            if let r = delivery["retry"] {
                guard let retry = r.table else { throw fail("delivery.retry", "expected { attempts = 5, first = \"30s\", max = \"1h\" }") }
                try allow(retry, "delivery.retry.", ["attempts", "first", "max"])
                if let a = retry["attempts"] {
                    guard let n = a.int, (1...100).contains(n) else {
                        throw fail("delivery.retry.attempts", "expected a whole number from 1 to 100")
                    }
                    config.retry.attempts = n
                }
                if let first = try duration(retry, "first", "delivery.retry.first") { config.retry.first = first }
                if let max = try duration(retry, "max", "delivery.retry.max") { config.retry.max = max }
                if config.retry.max < config.retry.first {
                    throw fail("delivery.retry.max", "must not be shorter than delivery.retry.first")
                }
            }
        }
        // One-click unsubscribe needs signed tokens: a URL without a secret would send marketing
        // mail without the link it promises.
        if config.channel(.email).unsubscribeURL != nil && config.tokenSecretEnv == nil {
            throw fail(
                "channels.email.unsubscribe_url", "needs delivery.token_secret_env, the environment variable holding the tokens' secret")
        }
        return config
    }

    /// `a or b`, `a, b or c`.
    static func alternatives(_ names: [String]) -> String {
        names.count < 2 ? names.joined() : names.dropLast().joined(separator: ", ") + " or " + names.last!
    }

    /// The keys every network provider takes: how it connects.
    static let connectionKeys = ["connections", "verify", "ca_file", "connect_timeout", "timeout"]

    /// The SMTP provider's keys in `[channels.email]`.
    static let smtpKeys = ["host", "port", "tls", "username_env", "password_env"] + connectionKeys

    /// The webhook provider's keys in `[channels.sms]` and `[channels.push]`.
    static let webhookKeys = ["url", "auth_header", "auth_header_env", "id_field"] + connectionKeys

    /// Reads a network provider's values in a channel's table, each problem naming its key.
    struct NetworkTable {
        let table: TOMLTable
        let prefix: String
        let fail: (String, String) -> HeraldError

        func text(_ key: String) throws -> String? {
            guard let value = table[key] else { return nil }
            guard let s = value.string else { throw fail(prefix + key, "expected text in quotes") }
            guard !s.trimmingCharacters(in: .whitespaces).isEmpty else { throw fail(prefix + key, "expected a value, found nothing") }
            return s
        }

        func whole(_ key: String, _ range: ClosedRange<Int>, _ what: String) throws -> Int? {
            guard let value = table[key] else { return nil }
            guard let n = value.int, range.contains(n) else {
                throw fail(prefix + key, "expected \(what) from \(range.lowerBound) to \(range.upperBound)")
            }
            return n
        }

        func duration(_ key: String) throws -> TimeInterval? {
            guard let s = try text(key) else { return nil }
            guard let seconds = DeliveryConfig.seconds(s) else {
                throw fail(prefix + key, "expected a duration such as \"10s\" (up to 365d), found '\(s)'")
            }
            return seconds
        }

        /// A name of an environment variable (letters, digits and `_`, not first a digit).
        func variable(_ key: String) throws -> String? {
            guard let name = try text(key) else { return nil }
            guard name.first.map({ !$0.isNumber }) == true, name.allSatisfy({ ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "_" })
            else { throw fail(prefix + key, "expected the name of an environment variable such as HERALD_SECRET, found '\(name)'") }
            return name
        }

        /// An HTTP header's name: a token, without spaces, colons or control characters.
        func header(_ key: String) throws -> String? {
            guard let header = try text(key) else { return nil }
            guard header.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_".contains($0)) }) else {
                throw fail(prefix + key, "expected a header name such as Authorization or X-Api-Key, found '\(header)'")
            }
            // Headers HTTP itself or Herald sets: a credential there would break every request.
            let reserved = [
                "accept", "connection", "content-length", "content-type", "cookie", "expect", "host", "idempotency-key",
                "transfer-encoding", "user-agent",
            ]
            guard !reserved.contains(header.lowercased()) else {
                throw fail(prefix + key, "'\(header)' is set by HTTP or by Herald; name a header of its own, such as X-Api-Key")
            }
            return header
        }

        /// Refuses the keys of `keys` present in the table: they belong to another provider.
        func refuse(_ keys: [String], provider: ProviderKind, owner: ProviderKind) throws {
            if let key = keys.first(where: { table[$0] != nil }) {
                throw fail(prefix + key, "only with provider = \"\(owner.rawValue)\" (the provider is '\(provider.rawValue)')")
            }
        }

        func options(defaultTimeout: TimeInterval) throws -> ConnectionOptions {
            var options = ConnectionOptions(timeout: defaultTimeout)
            options.connections = try whole("connections", ConnectionOptions.connectionsRange, "a number of connections") ?? 1
            if let v = table["verify"] {
                guard let b = v.bool else { throw fail(prefix + "verify", "expected true or false") }
                options.verify = b
            }
            options.caFile = try text("ca_file")
            options.connectTimeout = try duration("connect_timeout") ?? options.connectTimeout
            options.timeout = try duration("timeout") ?? options.timeout
            return options
        }
    }

    /// `[channels.email]`'s SMTP settings: required with `provider = "smtp"`, refused without it.
    static func smtp(_ t: TOMLTable, provider: ProviderKind, fail: @escaping (String, String) -> HeraldError) throws -> SMTPConfig? {
        let prefix = "channels.email."
        let table = NetworkTable(table: t, prefix: prefix, fail: fail)
        guard provider == .smtp else {
            try table.refuse(smtpKeys, provider: provider, owner: .smtp)
            return nil
        }
        guard let host = try table.text("host") else {
            throw fail(prefix + "host", "needed by the smtp provider (the server's name or address)")
        }
        // A name or an IPv4 address, or an IPv6 address: no scheme, no port, no spaces.
        let name = host.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-") }
        let ipv6 = host.contains(":") && host.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." } && host.filter { $0 == ":" }.count >= 2
        guard name || ipv6 else {
            throw fail(prefix + "host", "expected the server's name or address alone (the port goes in port), found '\(host)'")
        }
        // A relay needs a real envelope sender: herald@localhost, the outbox's last resort, is none.
        guard t["from"] != nil else {
            throw fail(prefix + "from", "needed by the smtp provider (the sender of messages whose node names none)")
        }
        var security = SMTPSecurity.none
        if let s = try table.text("tls") {
            guard let value = SMTPSecurity(rawValue: s) else {
                throw fail(prefix + "tls", "expected \(SMTPSecurity.allCases.map(\.rawValue).joined(separator: ", ")), found '\(s)'")
            }
            security = value
        }
        var config = SMTPConfig(
            host: host, port: try table.whole("port", 1...65_535, "a port number"), security: security,
            options: try table.options(defaultTimeout: 60))
        config.usernameEnv = try table.variable("username_env")
        config.passwordEnv = try table.variable("password_env")
        if (config.usernameEnv == nil) != (config.passwordEnv == nil) {
            throw fail(prefix + (config.usernameEnv == nil ? "username_env" : "password_env"), "needed with the other: AUTH takes both")
        }
        return config
    }

    /// `[channels.sms]`'s or `[channels.push]`'s webhook settings: required with
    /// `provider = "webhook"`, refused without it.
    static func webhook(
        _ t: TOMLTable, channel: Channel, provider: ProviderKind, fail: @escaping (String, String) -> HeraldError
    ) throws -> WebhookConfig? {
        let prefix = "channels.\(channel.rawValue)."
        let table = NetworkTable(table: t, prefix: prefix, fail: fail)
        guard provider == .webhook else {
            try table.refuse(webhookKeys, provider: provider, owner: .webhook)
            return nil
        }
        guard let url = try table.text("url") else { throw fail(prefix + "url", "needed by the webhook provider (the gateway's URL)") }
        guard let parts = URLComponents(string: url), let scheme = parts.scheme?.lowercased(), ["http", "https"].contains(scheme),
            parts.host?.isEmpty == false
        else { throw fail(prefix + "url", "expected an http:// or https:// URL, found '\(url)'") }
        guard parts.user == nil && parts.password == nil else {
            throw fail(prefix + "url", "must not hold credentials (they would be printed); give them with auth_header_env")
        }
        var config = WebhookConfig(url: url, options: try table.options(defaultTimeout: 10))
        if let header = try table.header("auth_header") { config.authHeader = header }
        config.authHeaderEnv = try table.variable("auth_header_env")
        if t["auth_header"] != nil && config.authHeaderEnv == nil {
            throw fail(prefix + "auth_header_env", "needed with auth_header (the environment variable holding the header's value)")
        }
        if let field = try table.text("id_field") {
            guard !field.split(separator: ".", omittingEmptySubsequences: false).contains(where: \.isEmpty) else {
                throw fail(
                    prefix + "id_field", "expected a key of the gateway's JSON answer such as \"sid\" or \"data.id\", found '\(field)'")
            }
            config.idField = field
        }
        return config
    }

    /// Refuses a file that is not there or cannot be read (a certificate file named by `key`).
    static func requireFile(_ path: String?, key: String, source: String) throws {
        guard let path else { return }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw HeraldError(.invalidInput, "\(source): \(key): no file at \(path)")
        }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw HeraldError(.invalidInput, "\(source): \(key): \(path) cannot be read")
        }
    }

    /// The value of the environment variable `name` names for `key`: refused when it is not set.
    static func secret(_ name: String?, key: String, environment: [String: String], source: String) throws -> String? {
        guard let name else { return nil }
        guard let value = environment[name] else {
            throw HeraldError(.invalidInput, "\(source): \(key) names \(name), which is not set in the environment")
        }
        guard !value.isEmpty else { throw HeraldError(.invalidInput, "\(source): \(key) names \(name), which is empty") }
        return value
    }

    /// `30s`, `5m`, `1h`, `2d` in seconds.
    /// Up to a year: longer is a typo, and would not fit the clocks it is added to.
    static func seconds(_ text: String) -> TimeInterval? {
        let number = text.dropLast()
        // Digits and one point only: no exponent, no sign, no "inf".
        guard let unit = text.last, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }), let n = Double(number), n > 0
        else { return nil }
        let seconds: TimeInterval
        switch unit {
        case "s": seconds = n
        case "m": seconds = n * 60
        case "h": seconds = n * 3600
        case "d": seconds = n * 86_400
        default: return nil
        }
        return seconds <= 365 * 86_400 ? seconds : nil
    }

    /// A duration as the configuration writes it (`30s`, `1.5s`).
    static func durationText(_ seconds: TimeInterval) -> String {
        seconds == seconds.rounded() ? "\(Int(seconds))s" : "\(seconds)s"
    }

    /// The directories this file names for its providers that Herald could not write to, each
    /// with its key and why (nothing is created to find out; the providers check the store's
    /// default directories when they are made).
    public var directoryProblems: [(key: String, problem: String)] {
        let providers = Set(Channel.allCases.map { channel($0).provider })
        let named: [(ProviderKind, String, String?)] = [
            (.outbox, "outbox.directory", outboxDirectory), (.directMail, "channels.direct_mail.directory", channel(.directMail).directory),
        ]
        return named.compactMap { kind, key, path in
            guard providers.contains(kind), let path, let problem = Files.problem(directory: path) else { return nil }
            return (key, problem)
        }
    }

    /// The outbox directory for a store at `storePath`.
    public func outbox(storePath: String) -> String { outboxDirectory ?? storePath + "-outbox" }

    /// The extracts directory for a store at `storePath`.
    public func extracts(storePath: String) -> String { channel(.directMail).directory ?? storePath + "-extracts" }

    /// The token secret from the environment: refuses a named variable that is not set (a
    /// marketing e-mail cannot carry an unsubscribe link it cannot sign).
    public func tokenSecret(environment: [String: String]) throws -> String? {
        guard let name = tokenSecretEnv else { return nil }
        guard let secret = environment[name], !secret.isEmpty else {
            throw HeraldError(.invalidInput, "\(source): delivery.token_secret_env names \(name), which is not set in the environment")
        }
        return secret
    }

    /// The inbound SMS webhook's shared secret as the header a gateway must send; nil when
    /// `[serve] secret_env` is not configured. A named variable that is not set is refused.
    public func inboundSecret(environment: [String: String]) throws -> HTTPHeader? {
        try Self.secret(serve.secretEnv, key: "serve.secret_env", environment: environment, source: source).map {
            HTTPHeader(name: serve.secretHeader, value: $0)
        }
    }

    /// Refuses, naming the key, a secret whose environment variable is not set: the token
    /// secret, each network provider's credentials and the inbound webhook's secret.
    public func requireSecrets(environment: [String: String]) throws {
        _ = try tokenSecret(environment: environment)
        _ = try inboundSecret(environment: environment)
        for channel in Channel.allCases {
            let c = self.channel(channel)
            _ = try c.smtp?.settings(environment: environment, source: source)
            _ = try c.webhook?.settings(channel, environment: environment, source: source)
        }
    }

    /// The effective configuration as TOML, without secrets (only the names of their variables).
    public var effectiveText: String {
        var lines = ["# from \(source)", "[outbox]", entry("directory", outboxDirectory, unset: "beside the store (STORE-outbox)")]
        for (channel, name) in [(Channel.email, "email"), (.sms, "sms"), (.push, "push"), (.directMail, "direct_mail")] {
            let c = self.channel(channel)
            lines.append("[channels.\(name)]")
            lines.append("provider = \(quoted(c.provider.rawValue))")
            if channel == .email {
                lines.append(entry("from", c.from, unset: "the node's, else herald@localhost"))
                lines.append(entry("reply_to", c.replyTo, unset: "none"))
                lines.append(entry("unsubscribe_url", c.unsubscribeURL, unset: "none (marketing e-mail gets no List-Unsubscribe)"))
                if let smtp = c.smtp {
                    lines.append("host = \(quoted(smtp.host))")
                    lines.append("port = \(smtp.port)")
                    lines.append("tls = \(quoted(smtp.security.rawValue))")
                    lines.append(entry("username_env", smtp.usernameEnv, unset: "none (no AUTH)"))
                    lines.append(entry("password_env", smtp.passwordEnv, unset: "none (no AUTH)"))
                    lines += connectionLines(smtp.options)
                }
            }
            if let webhook = c.webhook {
                lines.append("url = \(quoted(webhook.url))")
                lines.append("auth_header = \(quoted(webhook.authHeader))")
                lines.append(entry("auth_header_env", webhook.authHeaderEnv, unset: "none (no credential is sent)"))
                lines.append(entry("id_field", webhook.idField, unset: "none (the gateway's id is not read)"))
                lines += connectionLines(webhook.options)
            }
            if channel == .directMail { lines.append(entry("directory", c.directory, unset: "beside the store (STORE-extracts)")) }
            lines.append(entry("rate", c.rate?.text, unset: "unlimited"))
        }
        lines.append("[serve]")
        lines.append(entry("secret_env", serve.secretEnv, unset: "none (herald serve's SMS endpoint is off)"))
        lines.append(
            serve.secretEnv == nil
                ? "# secret_header: \(serve.secretHeader) (with secret_env)" : "secret_header = \(quoted(serve.secretHeader))")
        lines.append("[delivery]")
        lines.append(entry("token_secret_env", tokenSecretEnv, unset: "none"))
        lines.append("batch = \(batch)")
        lines.append(
            "retry = { attempts = \(retry.attempts), first = \(quoted(Self.durationText(retry.first))), max = \(quoted(Self.durationText(retry.max))) }"
        )
        return lines.joined(separator: "\n") + "\n"
    }

    /// How a network provider connects, as TOML lines; turning certificate checks off is said loudly.
    func connectionLines(_ options: ConnectionOptions) -> [String] {
        var lines = ["connections = \(options.connections)"]
        if !options.verify {
            lines.append("# WARNING: the server's certificate is not checked; anyone on the path can read and change the messages")
        }
        lines.append("verify = \(options.verify)")
        lines.append(entry("ca_file", options.caFile, unset: "the system's certificates"))
        lines.append("connect_timeout = \(quoted(Self.durationText(options.connectTimeout)))")
        lines.append("timeout = \(quoted(Self.durationText(options.timeout)))")
        return lines
    }

    /// `key = "value"`, or a comment saying what applies when the value is not set: the text
    /// reads back as the same configuration.
    func entry(_ key: String, _ value: String?, unset: String) -> String {
        value.map { "\(key) = \(quoted($0))" } ?? "# \(key): \(unset)"
    }

    func quoted(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
