import Foundation
import HeraldCore
import HeraldEngine
import HeraldStore
import HeraldTestServers
import Testing

@testable import HeraldDelivery

@Suite struct WebhookTests {
    static func message(_ id: Int64, to address: String) -> OutboundMessage {
        OutboundMessage(
            id: id, runID: 3, campaignName: "Flash sale", nodeID: "sms", channel: .sms, category: .marketing, profileKey: "p\(id)",
            entityKey: nil, address: address, fields: [RenderedField(name: "text", text: "Été: -20% today, \(id)", segments: nil)])
    }

    @Test func eachAnswerIsRecordedAsItIsAndRetriesCarryTheSameKey() throws {
        let gateway = try HTTPGateway(hang: 3)
        let provider = try WebhookProvider(
            settings: WebhookSettings(
                url: gateway.url, authorization: HTTPHeader(name: "Authorization", value: "Bearer t0k"), idField: "sid",
                options: ConnectionOptions(connections: 3, timeout: 1)))
        let batch = [
            Self.message(1, to: "ok.+33612345601"), Self.message(2, to: "bad.+33612345602"), Self.message(3, to: "busy.+33612345603"),
            Self.message(4, to: "date.+33612345604"), Self.message(5, to: "err.+33612345605"), Self.message(6, to: "hang.+33612345606"),
        ]
        let outcomes = provider.send(batch)
        #expect(outcomes.count == 6)
        guard outcomes.count == 6 else { return }
        // The gateway's id, from its JSON answer (the gateway numbers messages as they arrive).
        guard case .sent(let sid?) = outcomes[0], sid.hasPrefix("SM") else {
            Issue.record("expected sent with the gateway's id, got \(outcomes[0])")
            return
        }
        #expect(outcomes[1] == .permanent("HTTP 400 Bad Request"))
        #expect(outcomes[2] == .transient("HTTP 429 Too Many Requests", retryAfter: 7))
        guard case .transient(let unavailable, let after?) = outcomes[3] else {
            Issue.record("expected a transient with Retry-After, got \(outcomes[3])")
            return
        }
        // An HTTP date 120 seconds ahead, read to the second.
        #expect(unavailable == "HTTP 503 Service Unavailable" && (100...121).contains(after), "\(after)")
        #expect(outcomes[4] == .transient("HTTP 500 Internal Server Error", retryAfter: nil))
        guard case .transient(let hung, nil) = outcomes[5] else {
            Issue.record("a gateway that does not answer in time is transient, got \(outcomes[5])")
            return
        }
        #expect(hung.contains("did not answer within 1s"), "\(hung)")

        // The transient ones again, as the ledger would retry them: all accepted, and the one the
        // gateway had already taken (it hung before answering) is not taken twice.
        let again = provider.send([batch[2], batch[3], batch[4], batch[5]])
        #expect(again.allSatisfy { $0.isSent }, "\(again)")
        let accepted = try gateway.accepted
        #expect(accepted.count == 5)
        #expect(Set(accepted.compactMap { $0["key"] as? String }) == ["1", "3", "4", "5", "6"])
        let requests = try gateway.requests
        #expect(requests.count == 10)
        for request in requests {
            #expect(request["auth"] as? String == "Bearer t0k")
            #expect(request["content_type"] as? String == "application/json")
            let key = try #require(request["key"] as? String)
            // The key is the message's id: each recipient's requests carry their own message's.
            #expect(batch.first { String($0.id) == key }.map { "\($0.address)" } == request["to"] as? String)
        }
        // The documented body: the message id, recipient, rendered fields, campaign and node.
        let body = try #require(accepted.first { $0["key"] as? String == "1" }?["message"] as? [String: Any])
        #expect(body["id"] as? Int == 1 && body["to"] as? String == "ok.+33612345601")
        #expect(body["campaign"] as? String == "Flash sale" && body["node"] as? String == "sms" && body["channel"] as? String == "sms")
        #expect(body["text"] as? String == "Été: -20% today, 1")
    }

    @Test func aGatewayThatIsNotThereIsTransient() throws {
        let url = try HTTPGateway().url  // the gateway has stopped: nothing listens there now
        let provider = try WebhookProvider(settings: WebhookSettings(url: url, options: ConnectionOptions(connectTimeout: 2, timeout: 5)))
        guard case .transient(let why, nil) = provider.send([Self.message(1, to: "+33612345601")]).first else {
            Issue.record("expected transient")
            return
        }
        #expect(why.contains("could not be reached"), "\(why)")
    }

    @Test func retryAfterIsReadInSecondsAndAsAnHTTPDate() {
        let now = Date(timeIntervalSince1970: 784_111_717)  // Sun, 06 Nov 1994 08:48:37 GMT
        #expect(WebhookConnection.retryAfter("120", now: now) == 120)
        #expect(WebhookConnection.retryAfter(" 0 ", now: now) == 0)
        #expect(WebhookConnection.retryAfter("Sun, 06 Nov 1994 08:49:37 GMT", now: now) == 60)
        #expect(WebhookConnection.retryAfter("Sunday, 06-Nov-94 08:49:37 GMT", now: now) == 60)
        #expect(WebhookConnection.retryAfter("Sun Nov  6 08:49:37 1994", now: now) == 60)
        // A date already past: retry now (the policy's own backoff still applies).
        #expect(WebhookConnection.retryAfter("Sun, 06 Nov 1994 08:00:00 GMT", now: now) == 0)
        #expect(WebhookConnection.retryAfter("-5", now: now) == nil)
        #expect(WebhookConnection.retryAfter("soon", now: now) == nil)
    }

    @Test func theGatewaysIDIsReadWhereConfigured() {
        let body = Array(#"{"data": {"id": 42, "sid": ""}, "sid": "SMabc"}"#.utf8)
        #expect(WebhookConnection.providerID(in: body, at: "sid") == "SMabc")
        #expect(WebhookConnection.providerID(in: body, at: "data.id") == "42")
        #expect(WebhookConnection.providerID(in: body, at: "data.sid") == nil)
        #expect(WebhookConnection.providerID(in: body, at: "missing") == nil)
        #expect(WebhookConnection.providerID(in: Array("not json".utf8), at: "sid") == nil)
    }

    @Test func configurationNamesEachBadWebhookKey() throws {
        let refusal = configRefusal
        let good = try DeliveryConfig.parse(
            """
            [channels.sms]
            provider = "webhook"
            url = "https://sms.example.com/v1/messages"
            auth_header_env = "HERALD_SMS_AUTH"
            id_field = "data.id"
            timeout = "10s"
            connections = 8
            [channels.push]
            provider = "webhook"
            url = "http://127.0.0.1:8080/push"
            auth_header = "X-Api-Key"
            auth_header_env = "HERALD_PUSH_KEY"
            """, source: "h.toml")
        let sms = try #require(good.channel(.sms).webhook)
        #expect(sms.url == "https://sms.example.com/v1/messages" && sms.authHeader == "Authorization" && sms.idField == "data.id")
        #expect(sms.options.connections == 8 && sms.options.timeout == 10)
        #expect(good.channel(.push).webhook?.authHeader == "X-Api-Key")
        #expect(good.effectiveText.contains(#"auth_header_env = "HERALD_SMS_AUTH""#))
        // The credential comes from the environment, and a variable that is not set is refused.
        let settings = try sms.settings(.sms, environment: ["HERALD_SMS_AUTH": "Bearer x"], source: "h.toml")
        #expect(settings.authorization == HTTPHeader(name: "Authorization", value: "Bearer x"))
        #expect(throws: HeraldError.self) { try good.requireSecrets(environment: ["HERALD_SMS_AUTH": "Bearer x"]) }
        #expect(refusal("[channels.sms]\nprovider = \"webhook\"")?.contains("channels.sms.url: needed by the webhook provider") == true)
        #expect(
            refusal("[channels.sms]\nprovider = \"webhook\"\nurl = \"ftp://x/y\"")?.contains("channels.sms.url: expected an http") == true)
        #expect(
            refusal("[channels.push]\nprovider = \"outbox\"\nurl = \"http://x/y\"")?.contains(
                "channels.push.url: only with provider = \"webhook\"") == true)
        #expect(
            refusal("[channels.email]\nprovider = \"webhook\"")?.contains("channels.email.provider: expected outbox, discard or smtp")
                == true)
        #expect(
            refusal("[channels.sms]\nprovider = \"webhook\"\nurl = \"http://x/y\"\nauth_header = \"X Key\"\nauth_header_env = \"K\"")?
                .contains("auth_header: expected a header name") == true)
        #expect(
            refusal("[channels.sms]\nprovider = \"webhook\"\nurl = \"http://x/y\"\nauth_header = \"X-Key\"")?.contains(
                "auth_header_env: needed with auth_header") == true)
        #expect(
            refusal("[channels.sms]\nprovider = \"webhook\"\nurl = \"http://x/y\"\nauth_header_env = \"$K\"")?.contains(
                "expected the name of an environment variable") == true)
        #expect(refusal("[channels.sms]\nprovider = \"webhook\"\nurl = \"http://x/y\"\nid_field = \"a..b\"")?.contains("id_field") == true)
        #expect(
            refusal("[channels.sms]\nprovider = \"webhook\"\nurl = \"http://x/y\"\nconnections = 0")?.contains("channels.sms.connections")
                == true)
        // Values that could never work, or would crash a clock, are refused at once.
        let webhook = "[channels.sms]\nprovider = \"webhook\"\nurl = \"http://x/y\"\n"
        let smtp = "[channels.email]\nprovider = \"smtp\"\nfrom = \"a@example.com\"\n"
        for (toml, key) in [
            (webhook + "timeout = \"9223372036854775807s\"", "channels.sms.timeout"),
            (webhook + "connect_timeout = \"99999999999999d\"", "channels.sms.connect_timeout"),
            (webhook + "timeout = \"1e9s\"", "channels.sms.timeout"),
            ("[delivery]\nretry = { first = \"400d\" }", "delivery.retry.first"),
            ("[channels.sms]\nprovider = \"webhook\"\nurl = \"https://u:pw@x/y\"", "channels.sms.url"),
            (webhook + "auth_header = \"Content-Length\"\nauth_header_env = \"K\"", "channels.sms.auth_header"),
            ("[serve]\nsecret_env = \"S\"\nsecret_header = \"Host\"", "serve.secret_header"),
            ("[serve]\nsecret_header = \"X-Secret\"", "serve.secret_env"),
            (smtp + "host = \"127.0.0.1:2525\"", "channels.email.host"),
            (smtp + "host = \"smtp://mx\"", "channels.email.host"),
        ] {
            #expect(refusal(toml)?.contains(key + ":") == true, "\(toml): \(refusal(toml) ?? "accepted")")
        }
        #expect(try DeliveryConfig.parse(smtp + "host = \"::1\"", source: "h").channel(.email).smtp?.host == "::1")
        #expect(try DeliveryConfig.parse(webhook + "timeout = \"1.5s\"", source: "h").effectiveText.contains(#"timeout = "1.5s""#))
        // A certificate file that is not there is refused before anything is sent.
        var missing = try DeliveryConfig.parse(webhook, source: "h")
        missing.channels[.sms]?.webhook?.options.caFile = "/nonexistent/ca.pem"
        #expect(throws: HeraldError.self) { try missing.requireSecrets(environment: [:]) }
    }
}

/// Webhook delivery through the executor and the ledger, against the local gateway.
@Suite struct WebhookRunTests {
    let store: Store
    let t0 = Date(timeIntervalSince1970: 1_812_000_000)  // 2027-06-03T07:20:00Z, a Thursday

    init() throws { store = try Scratch.demoCopy() }

    /// A marketing SMS to the profiles with a phone among the first 300.
    func campaign() throws -> StoredCampaign {
        var c = Campaign(name: "Flash sale")
        c.nodes = [
            Node(
                id: "who", label: "Who",
                config: .buildAudience(entity: "profiles", rule: try Rule(parsing: "id <= 300"), emitWhenEmpty: false)),
            Node(
                id: "sms", label: "SMS",
                config: .message(.sms, ChannelSettings(content: [("text", "Hi {{profile.first_name}}: -20% today")]))),
        ]
        c.edges = [Edge(from: "who", to: "sms")]
        return try store.saveCampaign(c, replace: false)
    }

    /// A gateway that answers 503 with an HTTP date: every message waits for that date, then goes
    /// once; the ledger keeps the gateway's ids and the gateway took no message twice.
    @Test func retryAfterDefersTheRunAndTheRetryDeliversEachMessageOnce() throws {
        let gateway = try HTTPGateway()
        try gateway.fault("date")
        let provider = try WebhookProvider(
            settings: WebhookSettings(url: gateway.url, idField: "sid", options: ConnectionOptions(connections: 2, timeout: 5)))
        var executor = Executor(store: store)
        let start = t0
        executor.clock = { start }
        executor.delivery = DeliverySetup(providers: [.sms: provider], retry: RetryPolicy(attempts: 3, first: 30, max: 60))
        let stored = try campaign()
        let first = try executor.run(stored, mode: .live)
        let waiting = try store.ledger.messages(MessageFilter(runID: first.summary.id, limit: 10_000)).filter { $0.channel == .sms }
        let deferred = waiting.filter { $0.state == .deferred }
        #expect(!deferred.isEmpty)
        // Retry-After (about 120 s) is longer than the policy's first delay (30 s): it wins.
        for m in deferred {
            let wait = (m.notBefore ?? 0) - Int(t0.timeIntervalSince1970)
            #expect((100...121).contains(wait), "\(wait)")
        }
        let later = t0.addingTimeInterval(122)
        executor.clock = { later }
        _ = try executor.resume(runID: first.summary.id)
        let done = try store.ledger.messages(MessageFilter(runID: first.summary.id, limit: 10_000)).filter { $0.channel == .sms }
        let sent = done.filter { $0.state == .sent }
        #expect(sent.count == deferred.count)
        #expect(sent.allSatisfy { $0.attempts == 2 && $0.providerID?.hasPrefix("SM") == true })
        let accepted = try gateway.accepted
        #expect(accepted.count == sent.count)
        // Each key names the store's origin and the message.
        let origin = try store.deliveryOrigin()
        #expect(Set(accepted.compactMap { $0["key"] as? String }) == Set(sent.map { "\(origin)-\($0.id)" }))
        #expect(Set(sent.compactMap(\.providerID)).count == sent.count)
        // Two requests per message, both with its key; none for a message that was excluded.
        let requests = try gateway.requests
        #expect(requests.count == 2 * sent.count)
    }
}

@Suite struct MIMEDateTests {
    /// The Date header reads as a formatter in the POSIX locale would write it.
    @Test(arguments: [0, 784_111_777, 951_782_400, 1_812_000_000, 4_102_444_799] as [TimeInterval])
    func theDateHeaderIsRFC5322(_ seconds: TimeInterval) {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        let date = Date(timeIntervalSince1970: seconds + 0.75)
        #expect(EmailMIME.rfc5322Date(date) == f.string(from: date))
    }
}
