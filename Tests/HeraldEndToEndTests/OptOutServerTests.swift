import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `herald serve` started as a user would, on a copy of the sample: one-click unsubscribe from
/// a link in a message Herald sent, and SMS opt-out keywords from a gateway.
@Suite struct OptOutServerTests {
    /// A running `herald serve`, stopped with SIGTERM when the value goes.
    final class Server {
        let process = Process()
        let output = Pipe()
        var port = 0

        init(db: String, folder: String, environment: [String: String]) throws {
            process.executableURL = URL(fileURLWithPath: Herald.binary)
            process.arguments = ["serve", "--db", db, "--port", "0"]
            process.currentDirectoryURL = URL(fileURLWithPath: folder)
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            // The first line says where it listens: "… listening on http://127.0.0.1:PORT (…".
            var line = Data()
            while !line.contains(UInt8(ascii: "\n")) {
                let more = output.fileHandleForReading.availableData
                if more.isEmpty { break }
                line += more
            }
            let text = String(decoding: line, as: UTF8.self)
            guard let range = text.range(of: "http://127.0.0.1:"), let port = Int(text[range.upperBound...].prefix(while: \.isNumber))
            else {
                throw Failure("herald serve did not say where it listens: \(text)")
            }
            self.port = port
        }

        /// Stops it as a service manager would; its exit status and what it said last.
        func stop() -> (Int32, String) {
            kill(process.processIdentifier, SIGTERM)
            let rest = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: rest, as: UTF8.self))
        }

        deinit {
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }

        /// One request; the status and body.
        func request(_ method: String, _ path: String, body: String? = nil, headers: [String: String] = [:]) throws -> (Int, String) {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
            request.httpMethod = method
            request.httpBody = body.map { Data($0.utf8) }
            for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
            if body != nil && headers["Content-Type"] == nil {
                request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
            }
            let done = DispatchSemaphore(value: 0)
            nonisolated(unsafe) var answer: (Int, String)?
            URLSession.shared.dataTask(with: request) { data, response, _ in
                if let response = response as? HTTPURLResponse {
                    answer = (response.statusCode, String(decoding: data ?? Data(), as: UTF8.self))
                }
                done.signal()
            }.resume()
            done.wait()
            guard let answer else { throw Failure("no answer to \(method) \(path)") }
            return answer
        }
    }

    static let environment = ["HERALD_TEST_TOKEN_SECRET": "a long test secret", "HERALD_TEST_INBOUND": "gateway-secret"]

    static let config = """
        [channels.email]
        from = "Northwind Travel <news@example.com>"
        unsubscribe_url = "https://news.example.com/u/{token}"
        [delivery]
        token_secret_env = "HERALD_TEST_TOKEN_SECRET"
        [serve]
        secret_env = "HERALD_TEST_INBOUND"
        """

    /// The e-mail consent record of `profile` as `consent show --json` prints it.
    static func emailConsent(_ profile: String, db: String) throws -> [String: Any] {
        let shown = try Herald.run(["consent", "show", profile, "--db", db, "--json"])
        let channels = try #require(try json(shown.stdout) as? [[String: Any]])
        return try #require(channels.first { $0["channel"] as? String == "email" })
    }

    @Test func oneClickFromASentMessageOptsOutOnceAndTheNextRunExcludesTheProfile() throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        _ = scratch.file("herald.toml", Self.config)
        let sent = try Herald.run(["run", "Win-back", "--live", "--db", db], environment: Self.environment, in: scratch.path)
        #expect(sent.status == 0, "\(sent.stderr)")
        // A recipient's link, from the message as it was written.
        let folder = try #require(try FileManager.default.contentsOfDirectory(atPath: db + "-outbox/email").first)
        let file = try #require(try FileManager.default.contentsOfDirectory(atPath: db + "-outbox/email/" + folder).sorted().first)
        let mime = try String(contentsOfFile: db + "-outbox/email/\(folder)/\(file)", encoding: .utf8)
        let link = try #require(mime.split(separator: "\r\n").first { $0.hasPrefix("List-Unsubscribe: <") })
        let token = String(link.dropFirst("List-Unsubscribe: <https://news.example.com/u/".count).dropLast())
        let profile = String(decoding: Data(base64Encoded: Self.padded(String(token.prefix { $0 != "." })))!, as: UTF8.self)
        let before = try Self.emailConsent(profile, db: db)
        #expect(before["status"] as? String != "opted_out")

        let server = try Server(db: db, folder: scratch.path, environment: Self.environment)
        #expect(try server.request("GET", "/healthz").0 == 200)
        // A GET (a mail scanner following the link) shows a button and changes nothing.
        let page = try server.request("GET", "/u/\(token)")
        #expect(page.0 == 200 && page.1.contains("<form method=\"post\">") && page.1.contains("List-Unsubscribe"))
        #expect(try Self.emailConsent(profile, db: db)["status"] as? String == before["status"] as? String)
        // A forged token (its signature changed) is not found, and changes nothing.
        let forged = String(token.dropLast()) + (token.last == "A" ? "B" : "A")
        #expect(try server.request("POST", "/u/\(forged)", body: "List-Unsubscribe=One-Click").0 == 404)
        #expect(try server.request("GET", "/u/\(forged)").0 == 404)
        // A link checker's HEAD: as a GET would answer, and nothing changes.
        #expect(try server.request("HEAD", "/u/\(token)").0 == 200)
        #expect(try server.request("HEAD", "/u/\(forged)").0 == 404)
        // Another profile's key under this signature is forged too.
        #expect(try server.request("POST", "/u/MQ" + token.drop { $0 != "." }, body: "List-Unsubscribe=One-Click").0 == 404)
        // A POST without RFC 8058's body is refused.
        #expect(try server.request("POST", "/u/\(token)", body: "unsubscribe=yes").0 == 400)
        #expect(try Self.emailConsent(profile, db: db)["status"] as? String == before["status"] as? String)

        // RFC 8058's preferred form: multipart/form-data.
        let multipart = "--XyZ\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--XyZ--\r\n"
        let done = try server.request(
            "POST", "/u/\(token)", body: multipart, headers: ["Content-Type": "multipart/form-data; boundary=XyZ"])
        #expect(done.0 == 200 && done.1.contains("Unsubscribed"))
        let after = try Self.emailConsent(profile, db: db)
        #expect(after["status"] as? String == "opted_out" && after["source"] as? String == "one-click (Win-back)")
        // The second is harmless: 200, and the first record, its time included, stays.
        #expect(try server.request("POST", "/u/\(token)", body: "List-Unsubscribe=One-Click").0 == 200)
        #expect(try Self.emailConsent(profile, db: db)["updatedAt"] as? String == after["updatedAt"] as? String)
        let (status, said) = server.stop()
        #expect(status == 0 && said.contains("stopped"), "\(said)")

        // The next run excludes the profile, with the reason.
        let again = try Herald.run(["run", "Win-back", "--live", "--db", db], environment: Self.environment, in: scratch.path)
        #expect(again.status == 0, "\(again.stderr)")
        let history = try Herald.run(["history", "--profile", profile, "--db", db, "--json"])
        let messages = try #require(try json(history.stdout) as? [[String: Any]])
        let latest = try #require(messages.first { $0["channel"] as? String == "email" })
        #expect(latest["status"] as? String == "excluded" && latest["reason"] as? String == "opted_out", "\(latest)")
    }

    @Test func smsKeywordsOptTheSendersNumberOutAndBackIn() throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        _ = scratch.file("herald.toml", Self.config)
        // A profile with a phone number, as the sample writes it (with spaces); a gateway sends E.164.
        let row = try Herald.sqlite(db, "SELECT id || '|' || phone FROM profiles WHERE phone LIKE '+% %' ORDER BY id LIMIT 1")
        let parts = row.split(separator: "|")
        let profile = String(parts[0])
        let e164 = String(parts[1]).filter { $0 != " " }
        let server = try Server(db: db, folder: scratch.path, environment: Self.environment)
        let secret = ["X-Herald-Secret": "gateway-secret"]
        func sms(_ text: String, from: String = e164, headers: [String: String] = secret) throws -> (Int, [String: Any]) {
            let body =
                "From=\(from.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)&Body=\(text.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)"
            let (status, text) = try server.request("POST", "/sms/inbound", body: body, headers: headers)
            return (status, (try? json(text) as? [String: Any]) ?? [:])
        }
        func smsConsent() throws -> String? {
            let shown = try Herald.run(["consent", "show", profile, "--db", db, "--json"])
            let channels = try #require(try json(shown.stdout) as? [[String: Any]])
            return channels.first { $0["channel"] as? String == "sms" }?["status"] as? String
        }
        // Without the shared secret, or with a wrong one: refused, nothing changes.
        #expect(try sms("STOP", headers: [:]).0 == 403)
        #expect(try sms("STOP", headers: ["X-Herald-Secret": "guess"]).0 == 403)
        #expect(try smsConsent() != "opted_out")
        // Not a keyword: nothing.
        #expect(try sms("Please stop by the desk").1["action"] as? String == "none")
        #expect(try smsConsent() != "opted_out")

        let first = try sms("  stop ")
        #expect(first.0 == 200 && first.1["action"] as? String == "opted_out" && first.1["profiles"] as? Int == 1)
        #expect(first.1["reply"] is String)
        #expect(try smsConsent() == "opted_out")
        // Already out: other spellings answer without a second confirmation.
        for spelling in ["Opt Out", "UNSUBSCRIBE.", "cancel", "Quit", "end", "REVOKE", "StopAll"] {
            let again = try sms(spelling)
            #expect(again.1["action"] as? String == "opted_out" && again.1["reply"] is NSNull, "\(spelling): \(again.1)")
        }
        let suppressed = try Herald.run(["suppression", "list", "--db", db])
        #expect(suppressed.stdout.contains(e164))

        let back = try sms("Start")
        #expect(back.1["action"] as? String == "opted_in" && back.1["reply"] is String)
        #expect(try smsConsent() == "opted_in")
        #expect(!(try Herald.run(["suppression", "list", "--db", db]).stdout.contains(e164)))
        #expect(try sms("UNSTOP").1["reply"] is NSNull)
        // A number no profile has is still suppressed on STOP.
        let stranger = try sms("STOP", from: "+15005550006")
        #expect(stranger.1["profiles"] as? Int == 0 && stranger.1["reply"] is String)
        #expect(try Herald.run(["suppression", "list", "--db", db]).stdout.contains("+15005550006"))
        #expect(try sms("STOP", from: "not a number").0 == 400)
        _ = server.stop()
    }

    static func padded(_ base64url: String) -> String {
        let s = base64url.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        return s + String(repeating: "=", count: (4 - s.count % 4) % 4)
    }

    @Test func serveRefusesWhatItCannotWorkWith() throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        let none = try Herald.run(["serve", "--db", db, "--port", "0"], in: scratch.path)
        #expect(none.status == 2 && none.stderr.contains("delivery.token_secret_env is needed"), "\(none.stderr)")
        _ = scratch.file("herald.toml", Self.config)
        let unset = try Herald.run(["serve", "--db", db, "--port", "0"], environment: ["HERALD_TEST_TOKEN_SECRET": "s"], in: scratch.path)
        #expect(unset.status == 2 && unset.stderr.contains("serve.secret_env names HERALD_TEST_INBOUND"), "\(unset.stderr)")
        let port = try Herald.run(["serve", "--db", db, "--port", "70000"], environment: Self.environment, in: scratch.path)
        #expect(port.status == 2 && port.stderr.contains("--port"), "\(port.stderr)")
    }
}
