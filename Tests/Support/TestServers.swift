public import Foundation

/// A test server that did not start, or answered what a test cannot read.
public struct ServerFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A test server: a Python script from `Tests/Servers`, run by Debian's `/usr/bin/python3` in a
/// scratch folder; it writes the port it listens on to `FOLDER/port`. Stopped when the value goes.
public final class ServerProcess {
    public static let servers = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Servers")
    public let folder: String
    public let process = Process()
    public let port: Int

    public init(_ script: String, folder: String, arguments: [String], what: String) throws {
        self.folder = folder
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [Self.servers.appendingPathComponent(script).path, "--port-file", folder + "/port"] + arguments
        try process.run()
        var port: Int?
        for _ in 0..<200 where port == nil {
            if let text = try? String(contentsOfFile: folder + "/port", encoding: .utf8) { port = Int(text) }
            if port == nil {
                guard process.isRunning else { break }
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
        guard let port else {
            kill(process.processIdentifier, SIGKILL)
            throw ServerFailure("the test \(what) did not start")
        }
        self.port = port
    }

    deinit {
        // SIGKILL: the test process may block SIGTERM, and its children inherit the mask.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// A new scratch folder for a server.
    public static func scratch(_ name: String) throws -> String {
        let folder = NSTemporaryDirectory() + "herald-\(name)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }
}

/// A real SMTP server (aiosmtpd, `Tests/Servers/smtp_server.py`).
public final class SMTPServer {
    public let server: ServerProcess
    public var folder: String { server.folder }
    public var port: Int { server.port }

    /// With `starttls`, the server offers STARTTLS with a certificate for 127.0.0.1 made for it
    /// (``certificate``), and refuses mail before it.
    public init(auth: String? = nil, starttls: Bool = false) throws {
        let folder = try ServerProcess.scratch("smtp")
        try FileManager.default.createDirectory(atPath: folder + "/spool", withIntermediateDirectories: true)
        var tls: [String] = []
        if starttls {
            let openssl = Process()
            openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            openssl.arguments = [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
                "subjectAltName=IP:127.0.0.1", "-keyout", folder + "/key.pem", "-out", folder + "/cert.pem",
            ]
            openssl.standardError = FileHandle.nullDevice
            try openssl.run()
            openssl.waitUntilExit()
            tls = ["--starttls", folder + "/cert.pem", folder + "/key.pem"]
        }
        server = try ServerProcess(
            "smtp_server.py", folder: folder, arguments: ["--spool", folder + "/spool"] + (auth.map { ["--auth", $0] } ?? []) + tls,
            what: "SMTP server (is python3-aiosmtpd installed?)")
    }

    /// The server's certificate, when it offers STARTTLS.
    public var certificate: String { folder + "/cert.pem" }

    /// The messages the server accepted, in the order it accepted them.
    public var received: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder + "/spool")) ?? []
        return names.filter { $0.hasSuffix(".eml") }.sorted { Int($0.dropLast(4))! < Int($1.dropLast(4))! }.map { folder + "/spool/" + $0 }
    }

    /// Each received message as Python's `email` package reads it.
    public func parsed() throws -> [[String: Any]] {
        let parser = Process()
        parser.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        parser.arguments = [ServerProcess.servers.appendingPathComponent("parse_mail.py").path] + received
        let pipe = Pipe()
        parser.standardOutput = pipe
        try parser.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        parser.waitUntilExit()
        return try Self.cast(try JSONSerialization.jsonObject(with: data), "the parsed messages")
    }

    /// `value` as `T`, or a failure naming `what`.
    public static func cast<T>(_ value: Any, _ what: String) throws -> T {
        guard let typed = value as? T else { throw ServerFailure("\(what) is not what was expected: \(value)") }
        return typed
    }

    /// The envelope of the message in `file`.
    public func envelope(_ file: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: String(file.dropLast(4)) + ".json"))
        return try Self.cast(try JSONSerialization.jsonObject(with: data), "an envelope")
    }
}

/// A local HTTP gateway (`Tests/Servers/http_server.py`) that logs every request and keeps each
/// message it accepts once per Idempotency-Key.
public final class HTTPGateway {
    public let server: ServerProcess
    public var url: String { "http://127.0.0.1:\(server.port)/sms" }

    /// `hang`: how long a `hang…` recipient's first answer is held back.
    public init(hang: TimeInterval = 3) throws {
        let folder = try ServerProcess.scratch("gateway")
        server = try ServerProcess(
            "http_server.py", folder: folder, arguments: ["--folder", folder, "--hang", "\(hang)"], what: "HTTP gateway")
    }

    /// Applies `fault` (`busy`, `date`, `err`, `bad`, `hang`) to every message's first request.
    public func fault(_ fault: String) throws { try Data(fault.utf8).write(to: URL(fileURLWithPath: server.folder + "/fault")) }

    public func lines(_ name: String) throws -> [[String: Any]] {
        guard let data = FileManager.default.contents(atPath: server.folder + "/" + name) else { return [] }
        return try String(decoding: data, as: UTF8.self).split(separator: "\n").map {
            try SMTPServer.cast(try JSONSerialization.jsonObject(with: Data($0.utf8)), "a logged request")
        }
    }

    /// Every request, in the order answered.
    public var requests: [[String: Any]] { get throws { try lines("requests.jsonl") } }
    /// Each accepted message once: its key and the JSON body it came with.
    public var accepted: [[String: Any]] { get throws { try lines("accepted.jsonl") } }
}
