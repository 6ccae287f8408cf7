import Foundation
import HeraldTestServers
import Testing

/// Delivery from the command line: a live run killed again and again while it sends, logs that
/// never show a recipient, and bad configuration refused with its key.
@Suite struct DeliveryCLITests {
    /// Every profile of the sample with an e-mail address and an id up to `limit`, one e-mail each.
    static func everyone(limit: Int, throttle: String? = nil) -> String {
        """
        {"format": "herald.campaign/2", "name": "Everyone", "timeZone": "Europe/Paris",
         "nodes": [
           {"id": "who", "kind": "buildAudience", "entity": "profiles", "rule": "id <= \(limit) and email is not empty"},
           {"id": "mail", "kind": "email", "category": "marketing", "subject": "Hello {{profile.first_name}}",\(throttle.map { "\"throttle\": \"\($0)\"," } ?? "")
            "text": "Dear {{profile.first_name}} {{profile.last_name}}, see you in {{profile.city}}."}
         ],
         "edges": [{"from": "who", "to": "mail"}]}
        """
    }

    static func importCampaign(_ text: String, db: String, folder: String) throws {
        let file = folder + "/campaign.json"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        let imported = try Herald.run(["campaign", "import", file, "--db", db])
        #expect(imported.status == 0, "\(imported.stderr)")
    }

    /// Starts `arguments` and kills it with SIGKILL after `delay` seconds; false when it had
    /// already finished. With `sending`, the delay starts once a new file appears in that
    /// folder: the kill then lands while the executor holds claimed messages, whatever the
    /// machine's speed (waiting at most 30 s for it).
    static func killed(_ arguments: [String], after delay: TimeInterval, sending folder: String? = nil) throws -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Herald.binary)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        func files() -> Int { folder.flatMap { try? FileManager.default.contentsOfDirectory(atPath: $0).count } ?? 0 }
        let before = files()
        try process.run()
        if folder != nil {
            let patience = Date().addingTimeInterval(30)
            while process.isRunning && files() <= before && Date() < patience { Thread.sleep(forTimeInterval: 0.005) }
        }
        let deadline = Date().addingTimeInterval(delay)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
        guard process.isRunning else { return false }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        return true
    }

    /// Where the killed run delivers: the outbox, or a real SMTP server over the wire.
    enum Wire: String, CaseIterable, Sendable { case outbox, smtp }

    @Test(arguments: Wire.allCases) func aLiveRunKilledTwentyTimesSendsNoMessageTwice(_ wire: Wire) throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        var server: SMTPServer?
        var config: [String] = []
        if wire == .smtp {
            let smtp = try SMTPServer()
            server = smtp
            // One connection: at most one message is on the wire when a kill lands.
            let file = scratch.file(
                "smtp.toml",
                """
                [channels.email]
                provider = "smtp"
                from = "Northwind Travel <news@example.com>"
                host = "127.0.0.1"
                port = \(smtp.port)
                connections = 1
                [delivery]
                batch = 200
                """)
            config = ["--config", file]
        }
        // Throttled to 500 a second, so that the sending lasts long enough for twenty kills.
        try Self.importCampaign(Self.everyone(limit: 10_000, throttle: "500/s"), db: db, folder: scratch.path)
        let expected = Int(try Herald.sqlite(db, "SELECT count(*) FROM profiles WHERE email IS NOT NULL AND email <> ''"))!
        #expect(expected >= 5000)
        // Kill moments from a fixed seed: repeatable, spread over the run's nodes and its sending.
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func nextDelay() -> TimeInterval {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return 0.3 + Double(seed >> 40) / Double(1 << 24) * 1.2
        }
        var kills = 0
        var started = false
        var attempts = 0
        // Where the messages appear as they are delivered.
        let arrivals = server.map { $0.folder + "/spool" } ?? db + "-outbox/email/run-1"
        while kills < 20 && attempts < 60 {
            attempts += 1
            let arguments = (started ? ["runs", "resume", "1", "--db", db] : ["run", "Everyone", "--live", "--db", db]) + config
            // Every other kill lands while messages are being sent, the others anywhere.
            let sending = kills % 2 == 1 ? arrivals : nil
            if try Self.killed(arguments, after: sending == nil ? nextDelay() : nextDelay() / 4, sending: sending) {
                kills += 1
            } else {
                let state = try Herald.sqlite(db, "SELECT state FROM herald_runs WHERE id = 1")
                if state == "completed" { break }
            }
            started = try Herald.sqlite(db, "SELECT count(*) FROM herald_runs") != "0"
        }
        #expect(kills >= 20, "the run finished after \(kills) kills; it is too short to test")
        // Then to the end, untouched.
        while try Herald.sqlite(db, "SELECT state FROM herald_runs WHERE id = 1") != "completed" {
            let resumed = try Herald.run(["runs", "resume", "1", "--db", db] + config)
            #expect(resumed.status == 0, "\(resumed.stderr)")
            if resumed.status != 0 { break }
        }
        // One ledger row per recipient; every message in a final state; unknown at most one per kill.
        #expect(try Herald.sqlite(db, "SELECT count(*) FROM herald_messages WHERE run_id = 1") == String(expected))
        #expect(try Herald.sqlite(db, "SELECT count(DISTINCT profile_key) FROM herald_messages WHERE run_id = 1") == String(expected))
        #expect(
            try Herald.sqlite(
                db,
                "SELECT count(*) FROM herald_messages WHERE run_id = 1 AND status NOT IN ('sent', 'failed', 'excluded', 'deferred', 'unknown')"
            )
                == "0")
        let unknown = Int(try Herald.sqlite(db, "SELECT count(*) FROM herald_messages WHERE run_id = 1 AND status = 'unknown'"))!
        #expect(unknown <= kills)
        // Kills landed while batches were claimed, and the next executor settled them with the provider.
        let recoveries = Int(
            try Herald.sqlite(db, "SELECT count(*) FROM herald_run_logs WHERE run_id = 1 AND code = 'delivery.recovered'"))!
        #expect(recoveries >= 5, "\(recoveries) recoveries in \(kills) kills")
        let sent = Set(try Herald.sqlite(db, "SELECT id FROM herald_messages WHERE run_id = 1 AND status = 'sent'").split(separator: "\n"))
        let unknownIDs = Set(
            try Herald.sqlite(db, "SELECT id FROM herald_messages WHERE run_id = 1 AND status = 'unknown'").split(separator: "\n").map(
                String.init))
        // What was delivered: each message's id and recipient, from the outbox's files or the server's spool.
        var delivered: [(id: String, to: String)] = []
        if let server {
            for file in server.received {
                let text = try String(contentsOfFile: file, encoding: .utf8)
                // Message-ID: <herald.ORIGIN.1.ID@example.com>
                let header = text.components(separatedBy: "\r\n").first { $0.hasPrefix("Message-ID: <herald.") } ?? ""
                let parts = header.split(separator: "@").first?.split(separator: ".") ?? []
                let envelope = try server.envelope(file)
                let to = (envelope["rcpt_tos"] as? [String] ?? []).joined(separator: ",")
                #expect(parts.count == 4 && parts[2] == "1", "\(header)")
                delivered.append((parts.last.map(String.init) ?? "", to))
            }
        } else {
            let folder = db + "-outbox/email/run-1"
            for file in try FileManager.default.contentsOfDirectory(atPath: folder) where file.hasSuffix(".eml") {
                let text = try String(contentsOfFile: folder + "/" + file, encoding: .utf8)
                delivered.append((String(file.dropLast(4)), text.components(separatedBy: "\r\n").first { $0.hasPrefix("To: ") } ?? ""))
            }
            // A file the kill cut short stays under its temporary name, and only for a message whose fate is unknown.
            for partial in try FileManager.default.contentsOfDirectory(atPath: folder) where partial.hasSuffix(".partial") {
                #expect(unknownIDs.contains(String(partial.prefix { $0 != "." })), "\(partial)")
            }
        }
        // No recipient twice, every sent message delivered, nothing delivered that is not sent or unknown.
        var recipients = Set<String>()
        for message in delivered {
            #expect(recipients.insert(message.to).inserted, "message \(message.id): a second message to the same recipient")
        }
        let ids = Set(delivered.map { Substring($0.id) })
        #expect(ids.count == delivered.count)
        #expect(sent.isSubset(of: ids))
        #expect(ids.subtracting(sent).allSatisfy { unknownIDs.contains(String($0)) })
    }

    /// The example campaign's SMS go to a gateway's webhook: each once, with its key, and the
    /// gateway's ids in the history.
    @Test func smsGoesToAWebhookFromTheCommandLine() throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        let gateway = try HTTPGateway()
        let config = scratch.file(
            "herald.toml",
            """
            [channels.sms]
            provider = "webhook"
            url = "\(gateway.url)"
            auth_header_env = "HERALD_TEST_SMS_AUTH"
            id_field = "sid"
            connections = 2
            """)
        let run = try Herald.run(
            ["run", "Win-back", "--live", "--db", db, "--config", config], environment: ["HERALD_TEST_SMS_AUTH": "Bearer test"])
        #expect(run.status == 0, "\(run.stderr)")
        let sent = try Herald.sqlite(
            db,
            "SELECT id FROM herald_messages WHERE run_id = (SELECT max(id) FROM herald_runs) AND channel = 'sms' AND status = 'sent' ORDER BY id"
        )
        .split(separator: "\n").map(String.init)
        #expect(sent.count > 100)
        let accepted = try gateway.accepted
        let origin = try Herald.sqlite(db, "SELECT value FROM herald_meta WHERE key = 'delivery_origin'")
        #expect(origin.count == 12)
        #expect(accepted.compactMap { $0["key"] as? String }.sorted() == sent.map { "\(origin)-\($0)" }.sorted())
        #expect(try gateway.requests.allSatisfy { $0["auth"] as? String == "Bearer test" })
        #expect(
            try Herald.sqlite(
                db,
                "SELECT count(*) FROM herald_messages WHERE run_id = (SELECT max(id) FROM herald_runs) AND channel = 'sms' AND status = 'sent' AND provider_id LIKE 'SM%'"
            )
                == String(sent.count))
    }

    /// A proof goes through the configured provider (a real SMTP server here) to the test
    /// address, marked as a proof, and the store is left as it was.
    @Test func aProofIsSentThroughTheProviderAndRecordsNothing() throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        let server = try SMTPServer()
        let config = scratch.file(
            "herald.toml",
            """
            [channels.email]
            provider = "smtp"
            from = "Northwind Travel <news@example.com>"
            host = "127.0.0.1"
            port = \(server.port)
            """)
        let before = try Data(contentsOf: URL(fileURLWithPath: db))
        let proof = try Herald.run([
            "proof", "Win-back", "email", "--profile", "21", "--to", "proof@example.org", "--db", db, "--config", config,
        ])
        #expect(proof.status == 0 && proof.stdout.contains("sent through smtp 127.0.0.1:\(server.port)"), "\(proof.stderr)")
        #expect(!proof.stdout.contains("proof@example.org"))
        let received = try server.parsed()
        #expect(received.count == 1)
        #expect(received.first?["to"] as? String == "proof@example.org")
        #expect((received.first?["subject"] as? String)?.hasPrefix("[Proof] We miss you") == true, "\(received)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: db)) == before)
        #expect(!FileManager.default.fileExists(atPath: db + "-outbox"))
        // Refused before anything is sent: an address the channel cannot take, a node that is not a message.
        let bad = try Herald.run(["proof", "Win-back", "email", "--profile", "21", "--to", "nobody", "--db", db, "--config", config])
        #expect(bad.status == 2 && bad.stderr.contains("--to:"), "\(bad.stderr)")
        let split = try Herald.run([
            "proof", "Win-back", "tier", "--profile", "21", "--to", "a@example.org", "--db", db, "--config", config,
        ])
        #expect(split.status == 2 && split.stderr.contains("not a message node"), "\(split.stderr)")
        // A server that refuses it: exit 1 with its answer.
        let refused = try Herald.run([
            "proof", "Win-back", "email", "--profile", "21", "--to", "p550.x@example.org", "--db", db, "--config", config,
        ])
        #expect(refused.status == 1 && refused.stderr.contains("550"), "\(refused.stderr)")
        #expect(server.received.count == 1)
    }

    @Test func logsAtTraceLevelNeverShowARecipient() throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        // Unique canaries in the addresses and in what the bodies show.
        _ = try Herald.sqlite(
            db,
            """
            UPDATE profiles SET email = 'canary-addr-' || id || '@example.com', first_name = 'CanaryName' || id,
              last_name = 'CanaryLast' || id, city = 'CanaryCity' || id
            WHERE id <= 40;
            DELETE FROM herald_consent WHERE profile_key <= 40;
            """)
        try Self.importCampaign(Self.everyone(limit: 40), db: db, folder: scratch.path)
        let run = try Herald.run(["run", "Everyone", "--live", "--db", db], environment: ["HERALD_LOG_LEVEL": "trace"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try Herald.sqlite(db, "SELECT count(*) FROM herald_messages WHERE run_id = 1 AND status = 'sent'") == "40")
        let logs = try Herald.run(["runs", "logs", "1", "--db", db], environment: ["HERALD_LOG_LEVEL": "trace"])
        let history = try Herald.run(["history", "--run", "1", "--db", db], environment: ["HERALD_LOG_LEVEL": "trace"])
        for text in [run.stdout, run.stderr, logs.stdout, logs.stderr, history.stdout, history.stderr] {
            #expect(!text.lowercased().contains("canary"), "\(text.prefix(2000))")
        }
        // The messages themselves did go, with the canaries in them.
        let files = try FileManager.default.contentsOfDirectory(atPath: db + "-outbox/email/run-1")
        #expect(files.count == 40)
    }

    @Test(arguments: [
        ("[channels.email]\nprovider = \"pigeon\"\n", "channels.email.provider: expected outbox, discard or smtp, found 'pigeon'"),
        ("[channels.sms]\nprovider = \"webhook\"\n", "channels.sms.url: needed by the webhook provider"),
        (
            "[channels.sms]\nprovider = \"webhook\"\nurl = \"http://127.0.0.1:9/sms\"\nauth_header_env = \"HERALD_TEST_NO_SUCH_SECRET\"\n",
            "channels.sms.auth_header_env names HERALD_TEST_NO_SUCH_SECRET"
        ),
        ("[outbox]\ndirectori = \"x\"\n", "outbox.directori: unknown key"),
        ("[delivery]\ntoken_secret_env = \"HERALD_TEST_NO_SUCH_SECRET\"\n", "names HERALD_TEST_NO_SUCH_SECRET, which is not set"),
        ("[outbox]\ndirectory = \"BLOCKED\"\n", "outbox.directory: cannot be written to:"),
        ("[channels.direct_mail]\ndirectory = \"BLOCKED\"\n", "channels.direct_mail.directory: cannot be written to:"),
        ("[outbox\n", "herald.toml:"),
    ])
    func badConfigurationIsRefusedNamingItsKeyAndChangesNothing(text: String, message: String) throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        let blocked = scratch.path + "/blocked"
        try "a file".write(toFile: blocked, atomically: true, encoding: .utf8)
        let config = scratch.path + "/herald.toml"
        try text.replacingOccurrences(of: "BLOCKED", with: blocked + "/outbox").write(toFile: config, atomically: true, encoding: .utf8)
        let before = try Data(contentsOf: URL(fileURLWithPath: db))
        let run = try Herald.run(["run", "Win-back", "--live", "--db", db], in: scratch.path)
        #expect(run.status == 2 && run.stderr.contains(message), "\(run.stderr)")
        let check = try Herald.run(["config", "check"], in: scratch.path)
        #expect(check.status == 2 && check.stderr.contains(message), "\(check.stderr)")
        // Refused before any directory is made.
        #expect(!FileManager.default.fileExists(atPath: db + "-outbox") && !FileManager.default.fileExists(atPath: db + "-extracts"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: db)) == before)
        #expect(try Herald.sqlite(db, "SELECT count(*) FROM herald_runs") == "0")
    }

    /// A run delivers to one place for its whole life: continuing it with a configuration that
    /// delivers elsewhere is refused before anything is written, and the one it started with
    /// goes on.
    @Test func aRunIsContinuedOnlyWhereItDelivers() throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        try Self.importCampaign(Self.everyone(limit: 40), db: db, folder: scratch.path)
        let config = scratch.path + "/mine.toml"
        try "[outbox]\ndirectory = \"mine\"\n".write(toFile: config, atomically: true, encoding: .utf8)
        // A file where the run's e-mail folder goes: every message fails transiently and waits.
        try FileManager.default.createDirectory(atPath: scratch.path + "/mine/email", withIntermediateDirectories: true)
        try "".write(toFile: scratch.path + "/mine/email/run-1", atomically: true, encoding: .utf8)
        let started = try Herald.run(["run", "Everyone", "--live", "--db", db, "--config", config])
        #expect(started.status == 0, "\(started.stderr)")
        #expect(try Herald.sqlite(db, "SELECT state FROM herald_runs WHERE id = 1") == "waiting")
        // Why they wait is said: a provider that failed for now, not a send window.
        #expect(started.stdout.contains("deferred 33 (retry 33)"), "\(started.stdout)")
        #expect(started.stdout.contains("33 messages could not be handed over"), "\(started.stdout)")
        let before = try Data(contentsOf: URL(fileURLWithPath: db))
        let refused = try Herald.run(["runs", "resume", "1", "--db", db], in: scratch.path)
        #expect(refused.status == 2, "\(refused.stderr)")
        #expect(refused.stderr.contains("delivers email to outbox \(scratch.path)/mine"), "\(refused.stderr)")
        #expect(refused.stderr.contains("could send its messages twice"), "\(refused.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: db)) == before)
        let resumed = try Herald.run(["runs", "resume", "1", "--db", db, "--config", config])
        #expect(resumed.status == 0, "\(resumed.stderr)")
    }

    /// The default outbox is one place however the store is named (`s.db`, `./s.db`, its
    /// absolute path, from another folder); a stopped run's unknown messages cannot be retried.
    @Test func aRunWithTheDefaultOutboxIsContinuedUnderAnyNameOfItsStore() throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        try Self.importCampaign(Self.everyone(limit: 20), db: db, folder: scratch.path)
        // A file where the run's e-mail folder goes: every message fails transiently and waits.
        try FileManager.default.createDirectory(atPath: db + "-outbox/email", withIntermediateDirectories: true)
        try "".write(toFile: db + "-outbox/email/run-1", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: scratch.path + "/elsewhere", withIntermediateDirectories: true)
        let started = try Herald.run(["run", "Everyone", "--live", "--db", "sample.db"], in: scratch.path)
        #expect(started.status == 0, "\(started.stderr)")
        for (name, folder) in [
            ("./sample.db", scratch.path), (db, "/"),
            ("../sample.db", scratch.path + "/elsewhere"),
        ] {
            let resumed = try Herald.run(["runs", "resume", "1", "--db", name], in: folder)
            #expect(resumed.status == 0, "\(name): \(resumed.stderr)")
        }
        #expect(try Herald.run(["runs", "stop", "1", "--db", db]).status == 0)
        let retry = try Herald.run(["runs", "resolve", "1", "--as", "retry", "--db", db])
        #expect(retry.status == 2 && retry.stderr.contains("is stopped and will send nothing more"), "\(retry.stderr)")
    }

    @Test func consentSuppressionHistoryAndResolveFromTheCommandLine() throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        let set = try Herald.run(["consent", "set", "3", "email", "opted_out", "--source", "phone call", "--db", db])
        #expect(set.status == 0, "\(set.stderr)")
        let shown = try Herald.run(["consent", "show", "3", "--db", db, "--json"])
        #expect(shown.stdout.contains("\"opted_out\"") && shown.stdout.contains("phone call"), "\(shown.stdout)")
        // Every channel, as the table lists them: one with no record says so.
        let channels = try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [[String: Any]]
        #expect(channels?.count == 4 && channels?.contains { $0["recorded"] as? Bool == false } == true, "\(shown.stdout)")
        let directory = try Herald.run(["config", "check", "--config", scratch.path])
        #expect(directory.status == 2 && directory.stderr.contains("is a directory"), "\(directory.stderr)")
        #expect(try Herald.run(["consent", "set", "3", "fax", "opted_out", "--db", db]).status == 2)
        #expect(try Herald.run(["consent", "set", "abc", "email", "opted_out", "--db", db]).status == 2)
        let csv = scratch.path + "/consent.csv"
        try "profile,channel,status\n4,sms,opted_out\n5,email,maybe\n".write(toFile: csv, atomically: true, encoding: .utf8)
        let badImport = try Herald.run(["consent", "import", csv, "--db", db])
        #expect(badImport.status == 2 && badImport.stderr.contains("line 3: status"), "\(badImport.stderr)")
        #expect(try Herald.sqlite(db, "SELECT status FROM herald_consent WHERE profile_key = 4 AND channel = 'sms'") != "opted_out")
        // A profile that does not exist refuses the file, as 'consent set' refuses it.
        try "profile,channel,status\n4,sms,opted_out\n999999,email,opted_out\n".write(toFile: csv, atomically: true, encoding: .utf8)
        let unknownProfile = try Herald.run(["consent", "import", csv, "--db", db])
        #expect(
            unknownProfile.status == 2 && unknownProfile.stderr.contains("line 3: profile: no profiles row with key 999999"),
            "\(unknownProfile.stderr)")
        #expect(
            try Herald.sqlite(
                db,
                "SELECT count(*) FROM herald_consent WHERE ((profile_key = 4 AND channel = 'sms') OR profile_key = 999999) AND status = 'opted_out'"
            ) == "0")
        // The newest record wins: an older export does not undo the opt-out recorded above.
        try "profile,channel,status,updated_at\n3,email,opted_in,2020-01-01T00:00:00Z\n".write(
            toFile: csv, atomically: true, encoding: .utf8)
        let older = try Herald.run(["consent", "import", csv, "--db", db])
        #expect(older.status == 0 && older.stdout.contains("imported 0 consent records"), "\(older.stdout)\(older.stderr)")
        #expect(try Herald.sqlite(db, "SELECT status FROM herald_consent WHERE profile_key = 3 AND channel = 'email'") == "opted_out")

        let email = try Herald.sqlite(db, "SELECT email FROM profiles WHERE id = 5")
        let added = try Herald.run(["suppression", "add", "email", " \(email.uppercased()) ", "--reason", "bounced", "--db", db])
        #expect(added.status == 0 && added.stdout.contains("suppressed 1 new address"), "\(added.stderr)")
        let list = try Herald.run(["suppression", "list", "--db", db])
        #expect(list.stdout.contains(email.lowercased()))

        let run = try Herald.run(["run", "Welcome series", "--live", "--db", db])
        #expect(run.status == 0, "\(run.stderr)")
        let history = try Herald.run(["history", "--profile", "3", "--db", db])
        #expect(history.status == 0)
        let cut = try Herald.run(["history", "--run", "1", "--limit", "1", "--db", db])
        #expect(cut.status == 0 && cut.stderr.contains("showing the newest 1 message; there may be more"), "\(cut.stderr)")
        let excluded = try Herald.run(["history", "--run", "1", "--status", "excluded", "--json", "--db", db])
        #expect(excluded.status == 0 && !excluded.stdout.contains(email), "addresses are not printed")
        #expect(try Herald.run(["history", "--db", db]).status == 2)
        // What is named must exist, and an address must be one.
        let ghost = try Herald.run(["consent", "set", "999999999", "email", "opted_in", "--db", db])
        #expect(ghost.status == 2 && ghost.stderr.contains("no profiles row with key 999999999"), "\(ghost.stderr)")
        #expect(try Herald.run(["history", "--run", "99", "--db", db]).status == 2)
        #expect(try Herald.run(["history", "--profile", "999999999", "--db", db]).status == 2)
        let notAnAddress = try Herald.run(["suppression", "add", "email", "not-an-address", "--db", db])
        #expect(notAnAddress.status == 2 && notAnAddress.stderr.contains("is not an e-mail address"), "\(notAnAddress.stderr)")
        let directMail = scratch.path + "/direct.csv"
        try "profile,channel,status\n4,direct_mail,opted_out\n".write(toFile: directMail, atomically: true, encoding: .utf8)
        #expect(try Herald.run(["consent", "import", directMail, "--db", db]).status == 0)
        #expect(try Herald.sqlite(db, "SELECT status FROM herald_consent WHERE profile_key = 4 AND channel = 'directMail'") == "opted_out")
        #expect(try Herald.run(["history", "--run", "1", "--status", "lost", "--db", db]).status == 2)
        // The interface shows each channel node's sent count on the canvas.
        let script = scratch.path + "/open.txt"
        try "press j j j enter\nwait\nscreen\n".write(toFile: script, atomically: true, encoding: .utf8)
        let sentCount = try Herald.sqlite(
            db, "SELECT count(*) FROM herald_messages WHERE run_id = 1 AND node_id = 'welcome' AND status = 'sent'")
        let canvas = try Herald.run(["script", script, "--db", db, "--width", "120", "--height", "40"])
        #expect(canvas.stdout.contains("\(sentCount) sent"), "\(canvas.stdout)")
        let none = try Herald.run(["runs", "resolve", "1", "--as", "retry", "--db", db])
        #expect(none.status == 0 && none.stdout.contains("0 unknown messages resolved"), "\(none.stdout)\(none.stderr)")
        // A message whose fate is unknown (as a stopped executor would leave it with a gateway
        // that cannot tell) is listed by 'runs show' and resolved by id.
        let lost = try Herald.sqlite(db, "SELECT min(id) FROM herald_messages WHERE run_id = 1 AND status = 'sent'")
        _ = try Herald.sqlite(db, "UPDATE herald_messages SET status = 'unknown' WHERE id = \(lost)")
        let shownRun = try Herald.run(["runs", "show", "1", "--db", db])
        #expect(shownRun.stdout.contains("unknown messages: \(lost)"), "\(shownRun.stdout)")
        let resolved = try Herald.run(["runs", "resolve", "1", "--as", "sent", "--message", lost, "--db", db])
        #expect(resolved.stdout.contains("1 unknown message resolved as sent"), "\(resolved.stdout)\(resolved.stderr)")
        #expect(try Herald.sqlite(db, "SELECT status || ' ' || reason FROM herald_messages WHERE id = \(lost)") == "sent resolved")
        #expect(try Herald.run(["runs", "resolve", "1", "--as", "maybe", "--db", db]).status == 2)
        let notUnknown = try Herald.run(["runs", "resolve", "1", "--as", "failed", "--message", "999999", "--db", db])
        #expect(notUnknown.status == 2 && notUnknown.stderr.contains("nothing was changed"), "\(notUnknown.stderr)")
    }
}
