import Foundation
import HeraldCore
import HeraldDelivery
import HeraldTestServers
import Testing

@Suite struct SMTPTests {
    static let settings = EmailSettings(
        from: "Northwind Travel <news@example.com>", replyTo: "help@example.com", unsubscribeURL: "https://example.com/u/{token}")

    static func message(_ id: Int64, to address: String, subject: String = "Été à Paris, Zoë", html: Bool = true) -> OutboundMessage {
        var fields = [
            RenderedField(name: "subject", text: subject, segments: nil),
            RenderedField(name: "text", text: "Bonjour ! Message \(id).\n.\nUne ligne qui commence par un point.", segments: nil),
        ]
        if html { fields.append(RenderedField(name: "html", text: "<p>Bonjour ! Message \(id).</p>", segments: nil)) }
        return OutboundMessage(
            id: id, runID: 4, campaignName: "Summer", nodeID: "mail", channel: .email, category: .marketing, profileKey: "p\(id)",
            entityKey: nil, address: address, fields: fields, unsubscribeToken: "tok\(id)")
    }

    @Test func messagesReachARealServerAsValidMIMEAndEachAnswerIsRecordedAsItIs() throws {
        let server = try SMTPServer()
        let provider = try SMTPProvider(
            settings: SMTPSettings(host: "127.0.0.1", port: server.port, connections: 2), email: Self.settings)
        let batch = [
            Self.message(1, to: "ana@example.com"),
            Self.message(2, to: "t451.bob@example.com"),
            Self.message(3, to: "p550.cleo@example.com"),
            Self.message(4, to: "dan@example.com", subject: "Plain", html: false),
            Self.message(5, to: "d451.eve@example.com"),
            Self.message(6, to: "drop.fay@example.com"),
            Self.message(7, to: "gus@example.com"),
            Self.message(8, to: "a530.hal@example.com"),
        ]
        let outcomes = provider.send(batch)
        #expect(outcomes.count == batch.count)
        guard outcomes.count == batch.count else { return }
        var sentIDs: [String] = []
        for (message, outcome) in zip(batch, outcomes) {
            switch (message.address.prefix(4), outcome) {
            case ("t451", .transient(let why, _)): #expect(why.hasPrefix("451"), "\(why)")
            case ("p550", .permanent(let why)):
                #expect(why.hasPrefix("550"), "\(why)")
                // The server's words lose the recipient's address before they are recorded.
                #expect(!why.contains("p550.cleo"), "\(why)")
            case ("a530", .transient(let why, _)): #expect(why.hasPrefix("530") && why.contains("STARTTLS first"), "\(why)")
            case ("d451", .transient(let why, _)): #expect(why.hasPrefix("451"), "\(why)")
            case ("drop", .unknown(let why)): #expect(why.contains("before the server answered"), "\(why)")
            case (_, .sent(let id)):
                #expect(!["t451", "p550", "d451", "drop", "a530"].contains(message.address.prefix(4)))
                sentIDs.append(try #require(id))
            default: Issue.record("message \(message.id): unexpected \(outcome)")
            }
        }
        // The server's queue ids, one per accepted message.
        #expect(Set(sentIDs) == ["Q1", "Q2", "Q3"])
        let received = try server.parsed()
        #expect(received.count == 3)
        for mail in received {
            let to = try #require(mail["to"] as? String)
            let message = try #require(batch.first { $0.address == to })
            #expect(mail["message_id"] as? String == EmailMIME.messageID(message, from: "news@example.com"))
            #expect(mail["subject"] as? String == message.field("subject"))
            #expect(mail["from"] as? String == "Northwind Travel <news@example.com>")
            #expect(mail["list_unsubscribe"] as? String == "<https://example.com/u/tok\(message.id)>")
            #expect(mail["list_unsubscribe_post"] as? String == "List-Unsubscribe=One-Click")
            #expect(mail["defects"] as? Int == 0)
            let bodies = try #require(mail["bodies"] as? [String])
            // A line holding only a dot went through SMTP's dot-stuffing and came back whole.
            #expect(bodies.first?.replacingOccurrences(of: "\r\n", with: "\n") == message.field("text"))
            if message.field("html") != nil {
                #expect(mail["content_type"] as? String == "multipart/alternative")
                #expect(mail["parts"] as? [String] == ["text/plain", "text/html"])
            } else {
                #expect(mail["parts"] as? [String] == ["text/plain"])
            }
        }
        // One transaction per message, each with its own envelope.
        for file in server.received {
            let envelope = try server.envelope(file)
            #expect(envelope["mail_from"] as? String == "news@example.com")
            #expect((envelope["rcpt_tos"] as? [String])?.count == 1)
        }
    }

    /// 421 and 451, then 250: the first attempt is transient, the retry is sent, and the server
    /// has each message once.
    @Test func aServerThatIsBusyOnceTakesTheRetry() throws {
        let server = try SMTPServer()
        let provider = try SMTPProvider(settings: SMTPSettings(host: "127.0.0.1", port: server.port), email: Self.settings)
        let batch = [Self.message(1, to: "once421.ana@example.com"), Self.message(2, to: "once451.bob@example.com")]
        let first = provider.send(batch)
        guard case .transient(let a, _) = first.first, case .transient(let b, _) = first.last else {
            Issue.record("expected two transient outcomes, got \(first)")
            return
        }
        #expect(a.hasPrefix("421") && b.hasPrefix("451"), "\(a) / \(b)")
        #expect(server.received.isEmpty)
        let retried = provider.send(batch)
        #expect(retried.allSatisfy { $0.isSent }, "\(retried)")
        #expect(server.received.count == 2)
    }

    /// The journal settles what a killed executor left claimed: taken by the server → sent,
    /// refused or never tried → back to the queue, on the wire → unknown; after a machine
    /// restart, only what it recorded for certain.
    @Test func theJournalSaysWhatTheServerTookAfterACrash() throws {
        let server = try SMTPServer()
        let folder = try ServerProcess.scratch("journal")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let journal = SendJournal(directory: folder + "/smtp")
        let provider = try SMTPProvider(
            settings: SMTPSettings(host: "127.0.0.1", port: server.port), email: Self.settings, journal: journal)
        let outcomes = provider.send([
            Self.message(1, to: "ana@example.com"), Self.message(2, to: "p550.bob@example.com"),
            Self.message(3, to: "drop.cleo@example.com"),
        ])
        #expect(outcomes.map { $0.isSent } == [true, false, false])
        // Message 4 was claimed but never tried; 5 was on the wire when the process died.
        let file = folder + "/smtp/run-4.journal"
        try Data("S 5\n".utf8).append(to: file)
        let claimed = (1...5).map {
            ClaimedMessage(
                id: Int64($0), nodeID: "mail", channel: .email, category: .marketing, profileKey: "p\($0)", entityKey: nil, address: "x",
                attempts: 1)
        }
        let settled = provider.reconcile(claimed, runID: 4)
        #expect(settled == [.delivered(providerID: "Q1"), .notDelivered, .cannotTell, .notDelivered, .cannotTell])
        // Another boot: what was not recorded for certain may have been lost with the machine.
        try Data("B another-boot\n".utf8).append(to: file)
        #expect(
            provider.reconcile(claimed, runID: 4) == [.delivered(providerID: "Q1"), .notDelivered, .cannotTell, .cannotTell, .cannotTell])
        // A run the provider never sent for has no journal: nothing went out.
        #expect(provider.reconcile(claimed, runID: 5) == claimed.map { _ in .notDelivered })
    }

    @Test func authenticationIsUsedAndAWrongPasswordIsTransientForEveryMessage() throws {
        let server = try SMTPServer(auth: "herald:s3cret")
        let good = try SMTPProvider(
            settings: SMTPSettings(host: "127.0.0.1", port: server.port, username: "herald", password: "s3cret"), email: Self.settings)
        #expect(good.send([Self.message(1, to: "ana@example.com")]).map(\.isSent) == [true])
        let wrong = try SMTPProvider(
            settings: SMTPSettings(host: "127.0.0.1", port: server.port, username: "herald", password: "nope"), email: Self.settings)
        let outcomes = wrong.send([Self.message(2, to: "bob@example.com")])
        guard case .transient(let why, _) = outcomes.first else {
            Issue.record("expected transient, got \(outcomes)")
            return
        }
        #expect(why.contains("no SMTP transaction could be started"), "\(why)")
        #expect(server.received.count == 1)
    }

    /// STARTTLS with the server's certificate trusted goes through; with certificates checked
    /// against the system's alone, nothing is sent (transient); without STARTTLS the server
    /// refuses the mail; `verify = false` sends.
    @Test func starttlsChecksTheServersCertificate() throws {
        let server = try SMTPServer(starttls: true)
        func send(_ security: SMTPSecurity, caFile: String? = nil, verify: Bool = true, _ id: Int64) throws -> ProviderOutcome? {
            let provider = try SMTPProvider(
                settings: SMTPSettings(host: "127.0.0.1", port: server.port, security: security, verify: verify, caFile: caFile),
                email: Self.settings)
            return provider.send([Self.message(id, to: "ana\(id)@example.com")]).first
        }
        #expect(try send(.starttls, caFile: server.certificate, 1)?.isSent == true)
        guard case .transient(let untrusted, _) = try send(.starttls, 2) else {
            Issue.record("an untrusted certificate must stop the message")
            return
        }
        #expect(untrusted.contains("no SMTP transaction could be started"), "\(untrusted)")
        #expect(try send(.none, 3)?.isSent == false)
        #expect(try send(.starttls, verify: false, 4)?.isSent == true)
        #expect(server.received.count == 2)
    }

    @Test func aServerThatIsNotThereIsTransient() throws {
        // A port nothing listens on: the one just used by a server that has stopped.
        let port = try SMTPServer().port
        let provider = try SMTPProvider(
            settings: SMTPSettings(host: "127.0.0.1", port: port, connectTimeout: 2), email: Self.settings)
        let outcomes = provider.send([Self.message(1, to: "ana@example.com")])
        guard case .transient(let why, _) = outcomes.first else {
            Issue.record("expected transient, got \(outcomes)")
            return
        }
        #expect(why.contains("no SMTP transaction could be started"), "\(why)")
    }

    @Test func configurationNamesEachBadSMTPKey() throws {
        let refusal = configRefusal
        let good = try DeliveryConfig.parse(
            """
            [channels.email]
            provider = "smtp"
            from = "News <news@example.com>"
            host = "127.0.0.1"
            port = 2525
            tls = "starttls"
            username_env = "U"
            password_env = "P"
            connections = 4
            verify = false
            """, source: "h.toml")
        let smtp = try #require(good.channel(.email).smtp)
        #expect(smtp.port == 2525 && smtp.security == .starttls && smtp.options.connections == 4 && !smtp.options.verify)
        #expect(good.effectiveText.contains("# WARNING: the server's certificate is not checked"))
        #expect(
            try DeliveryConfig.parse(
                "[channels.email]\nprovider = \"smtp\"\nfrom = \"a@example.com\"\nhost = \"mx\"\ntls = \"tls\"", source: "h"
            ).channel(.email)
                .smtp?.port == 465)
        #expect(refusal("[channels.email]\nprovider = \"smtp\"")?.contains("channels.email.host: needed by the smtp provider") == true)
        #expect(
            refusal("[channels.email]\nprovider = \"smtp\"\nhost = \"mx\"")?.contains("channels.email.from: needed by the smtp provider")
                == true)
        #expect(
            refusal("[channels.email]\nprovider = \"smtp\"\nhost = \"\"")?.contains("channels.email.host: expected a value, found nothing")
                == true)
        #expect(refusal("[channels.email]\nhost = \"mx\"")?.contains("channels.email.host: only with provider = \"smtp\"") == true)
        #expect(
            refusal("[channels.email]\nprovider = \"smtp\"\nfrom = \"a@example.com\"\nhost = \"mx\"\ntls = \"ssl\"")?.contains(
                "channels.email.tls: expected none")
                == true)
        #expect(
            refusal("[channels.email]\nprovider = \"smtp\"\nfrom = \"a@example.com\"\nhost = \"mx\"\nport = 70000")?.contains(
                "channels.email.port") == true)
        #expect(
            refusal("[channels.email]\nprovider = \"smtp\"\nfrom = \"a@example.com\"\nhost = \"mx\"\nusername_env = \"U\"")?.contains(
                "channels.email.password_env")
                == true)
        #expect(
            refusal("[channels.email]\nprovider = \"smtp\"\nfrom = \"a@example.com\"\nhost = \"mx\"\nconnections = 0")?.contains(
                "channels.email.connections") == true
        )
        #expect(
            refusal("[channels.sms]\nprovider = \"smtp\"")?.contains("channels.sms.provider: expected outbox, discard or webhook") == true)
        // Credentials come from the environment, and a variable that is not set is refused before anything is sent.
        #expect(throws: HeraldError.self) { try smtp.settings(environment: ["U": "u"], source: "h.toml") }
        let settings = try smtp.settings(environment: ["U": "u", "P": "p"], source: "h.toml")
        #expect(settings.username == "u" && settings.password == "p")
    }
}

extension ProviderOutcome {
    var isSent: Bool {
        if case .sent = self { return true }
        return false
    }
}

extension Data {
    /// Appends the bytes to `path`.
    func append(to path: String) throws {
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: self)
        try handle.close()
    }
}

/// Why `DeliveryConfig.parse` refuses `toml`; nil when it accepts it.
func configRefusal(_ toml: String) -> String? {
    do {
        _ = try DeliveryConfig.parse(toml, source: "h.toml")
        return nil
    } catch { return "\(error)" }
}
