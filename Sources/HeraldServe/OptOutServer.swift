public import Foundation
import HTTPTypes
public import HeraldCore
public import HeraldDelivery
public import HeraldStore
import Hummingbird
public import Logging
import NIOCore

/// What the opt-out server needs: the store, the token signer, and the inbound SMS webhook's
/// shared secret (nil: the SMS endpoint is off).
public struct OptOutServer: Sendable {
    public let store: Store
    public let tokens: UnsubscribeTokens
    public let inbound: HTTPHeader?
    public var clock: @Sendable () -> Date = { Date() }
    /// The most of a request body read (a one-click or keyword message is a few bytes).
    static let bodyLimit = 16 * 1024
    /// What inbound opt-outs and opt-ins record as their source, and the reason of the
    /// suppression an SMS opt-out makes (an opt-in lifts only that one).
    static let smsSuppressionReason = "sms keyword"

    public init(store: Store, tokens: UnsubscribeTokens, inbound: HTTPHeader?) {
        self.store = store
        self.tokens = tokens
        self.inbound = inbound
    }

    /// Serves until SIGINT or SIGTERM, then finishes the requests in progress and returns.
    /// `running` is told the port once the server accepts connections (useful with port 0).
    public func run(host: String, port: Int, logger: Logger, running: @escaping @Sendable (Int) -> Void) async throws {
        let app = Application(
            router: router(logger: logger),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "Herald"),
            onServerRunning: { channel in running(channel.localAddress?.port ?? port) }, logger: logger)
        try await app.runService()
    }

    func router(logger: Logger) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("healthz") { _, _ in try await health() }
        router.get("u/:token") { _, context in try confirmation(try context.parameters.require("token")) }
        // A link checker's HEAD sees what a GET would, without the page.
        router.head("u/:token") { _, context in
            let page = try confirmation(try context.parameters.require("token"))
            return Response(status: page.status, headers: page.headers)
        }
        router.post("u/:token") { request, context in
            var request = request
            let body = try await request.collectBody(upTo: Self.bodyLimit)
            return try await unsubscribe(
                try context.parameters.require("token"), contentType: request.headers[.contentType], body: body, logger: logger)
        }
        router.post("sms/inbound") { request, _ in
            var request = request
            let body = try await request.collectBody(upTo: Self.bodyLimit)
            return try await smsInbound(request.headers, contentType: request.headers[.contentType], body: body, logger: logger)
        }
        return router
    }

    // MARK: Endpoints

    /// 200 when the store can be read, 503 otherwise.
    func health() async throws -> Response {
        do {
            _ = try await blocking { try store.catalog() }
            return Self.text(.ok, "ok\n")
        } catch { return Self.text(.serviceUnavailable, "the store cannot be read\n") }
    }

    /// A GET changes nothing (mail scanners follow links): a page whose button POSTs.
    func confirmation(_ token: String) throws -> Response {
        guard let named = tokens.verify(token) else { throw Self.notFound }
        return Self.page(
            .ok, title: "Unsubscribe",
            body: """
                <p>Stop receiving \(Self.escaped(Self.channelWords(named.channel))) like the one from “\(Self.escaped(named.campaign))”?</p>
                <form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">
                <button type="submit">Unsubscribe</button></form>
                """)
    }

    /// RFC 8058's one-click POST: records the opt-out (once; a second is harmless) and answers
    /// 200. A forged token is 404 and changes nothing; a store that cannot be written is 503,
    /// never a page saying it was done.
    func unsubscribe(_ token: String, contentType: String?, body: ByteBuffer, logger: Logger) async throws -> Response {
        guard let named = tokens.verify(token) else { throw Self.notFound }
        // RFC 8058: multipart/form-data, or application/x-www-form-urlencoded (the page's form).
        let text = String(buffer: body)
        let fields = Self.boundary(contentType).map { Self.multipart(text, boundary: $0) } ?? Self.form(text)
        guard fields.contains(where: { $0.0 == "List-Unsubscribe" && $0.1 == "One-Click" }) else {
            throw HTTPError(.badRequest, message: "expected the body List-Unsubscribe=One-Click (RFC 8058)")
        }
        let now = clock()
        let recorded: Bool
        do {
            recorded = try await written(logger) {
                try store.recordOptOut(
                    profileKey: named.profileKey, channel: named.channel, source: "one-click (\(named.campaign))", at: now)
            }
        } catch {
            // A person may have pressed the button: a page, not JSON, and never "done".
            var page = Self.page(
                .serviceUnavailable, title: "Not recorded yet",
                body: "<p>We could not record this just now. Please try again in a minute.</p>")
            page.headers[.retryAfter] = "30"
            return page
        }
        logger.info("one-click opt-out", metadata: ["channel": "\(named.channel.rawValue)", "recorded": "\(recorded)"])
        return Self.page(
            .ok, title: "Unsubscribed", body: "<p>You will no longer receive \(Self.escaped(Self.channelWords(named.channel))) from us.</p>"
        )
    }

    /// An SMS gateway's inbound message: STOP and its kin opt the sender's number out of SMS,
    /// START and UNSTOP opt it back in. The answer's `reply` is the confirmation to send back,
    /// given only when something changed (at most one per opt-out).
    func smsInbound(_ headers: HTTPFields, contentType: String?, body: ByteBuffer, logger: Logger) async throws -> Response {
        guard let inbound else { throw Self.notFound }
        guard let name = HTTPField.Name(inbound.name), let given = headers[name], Self.same(given, inbound.value) else {
            throw HTTPError(.forbidden, message: "the \(inbound.name) header is missing or wrong")
        }
        let text = String(buffer: body)
        let fields: [(String, String)]
        if contentType?.lowercased().hasPrefix("application/json") == true {
            guard case .object(let pairs)? = try? JSONValue.parse(text) else {
                throw HTTPError(.badRequest, message: "expected a JSON object")
            }
            fields = pairs.compactMap { key, value in
                if case .string(let s) = value { return (key, s) }
                return nil
            }
        } else {
            fields = Self.form(text)
        }
        func field(_ names: [String]) -> String? { fields.first { names.contains($0.0) }?.1 }
        guard let from = field(["from", "From", "msisdn"]), !from.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw HTTPError(.badRequest, message: "expected the sender's number in 'from' (or 'From')")
        }
        guard let keyword = SMSKeyword(message: field(["text", "body", "Body", "Text"]) ?? "") else {
            return Self.json(.ok, [("action", .string("none")), ("reply", .null)])
        }
        if let problem = Addresses.problem(Addresses.normalised(from, channel: .sms), channel: .sms) {
            throw HTTPError(.badRequest, message: "from: \(problem)")
        }
        let status: ConsentStatus = keyword == .optOut ? .optedOut : .optedIn
        let now = clock()
        let change = try await written(logger) {
            try store.applyAddressConsent(
                status, address: from, channel: .sms, source: keyword == .optOut ? "sms STOP" : "sms START",
                suppressionReason: Self.smsSuppressionReason, at: now)
        }
        logger.info(
            "sms keyword", metadata: ["action": "\(status.rawValue)", "profiles": "\(change.profiles)", "changed": "\(change.changed)"])
        let reply =
            keyword == .optOut
            ? "You are unsubscribed and will receive no more messages. Reply START to subscribe again."
            : "You are subscribed again. Reply STOP to unsubscribe."
        return Self.json(
            .ok,
            [
                ("action", .string(status.rawValue)), ("profiles", .integer(Int64(change.profiles))),
                ("reply", change.changed ? .string(reply) : .null),
            ])
    }

    // MARK: Helpers

    /// Runs a store call off the server's threads.
    func blocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
        }
    }

    /// A write; when the store cannot take it, 503 with the reason logged (nothing was done).
    func written<T: Sendable>(_ logger: Logger, _ work: @escaping @Sendable () throws -> T) async throws -> T {
        do { return try await blocking(work) } catch {
            logger.error("a consent write failed: \(error)")
            throw HTTPError(.serviceUnavailable, headers: [.retryAfter: "30"], message: "not recorded; try again")
        }
    }

    static let notFound = HTTPError(.notFound, message: "not found")

    /// Compares secrets in time that does not depend on where they differ.
    static func same(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        var difference = UInt8(x.count == y.count ? 0 : 1)
        for i in 0..<max(x.count, y.count) { difference |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0) }
        return difference == 0
    }

    /// The boundary of a `multipart/form-data` content type; nil for any other type.
    static func boundary(_ contentType: String?) -> String? {
        guard let contentType, contentType.lowercased().hasPrefix("multipart/form-data") else { return nil }
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2, pair[0].lowercased() == "boundary" {
                return pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
        }
        return nil
    }

    /// The text fields of a `multipart/form-data` body (RFC 7578): each part's name, from its
    /// Content-Disposition, and its content.
    static func multipart(_ body: String, boundary: String) -> [(String, String)] {
        body.components(separatedBy: "--" + boundary).dropFirst().compactMap { part in
            guard let split = part.range(of: "\r\n\r\n") else { return nil }
            let headers = part[..<split.lowerBound]
            guard let start = headers.range(of: "name=\"", options: .caseInsensitive) else { return nil }
            let name = headers[start.upperBound...].prefix { $0 != "\"" }
            var value = part[split.upperBound...]
            if let end = value.range(of: "\r\n", options: [.backwards, .anchored]) { value = value[..<end.lowerBound] }
            return (String(name), String(value))
        }
    }

    /// `a=1&b=two+words` decoded.
    static func form(_ text: String) -> [(String, String)] {
        text.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decoded(_ s: Substring?) -> String {
                let plus = (s.map(String.init) ?? "").replacingOccurrences(of: "+", with: " ")
                return plus.removingPercentEncoding ?? plus
            }
            return (decoded(parts.first), decoded(parts.count > 1 ? parts[1] : nil))
        }
    }

    static func channelWords(_ channel: HeraldCore.Channel) -> String {
        switch channel {
        case .email: "e-mails"
        case .sms: "text messages"
        case .push: "notifications"
        case .directMail: "letters"
        }
    }

    static func escaped(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(
            of: ">", with: "&gt;"
        )
        .replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// Pages are not cached, indexed or framed, and run no script.
    static let pageHeaders: HTTPFields = [
        .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
        .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
        HTTPField.Name("X-Robots-Tag")!: "noindex", HTTPField.Name("Referrer-Policy")!: "no-referrer",
    ]

    static func page(_ status: HTTPResponse.Status, title: String, body: String) -> Response {
        let html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(title)</title><style>body{font-family:sans-serif;max-width:32em;margin:4em auto;padding:0 1em}</style></head>
            <body><h1>\(title)</h1>
            \(body)
            </body></html>

            """
        return Response(status: status, headers: pageHeaders, body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    static func text(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(
            status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func json(_ status: HTTPResponse.Status, _ pairs: [(String, JSONValue)]) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: JSONValue.object(pairs).compact() + "\n")))
    }
}
