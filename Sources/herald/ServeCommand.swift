import ArgumentParser
import Foundation
import HeraldCore
import HeraldDelivery
import HeraldServe
import HeraldStore
import Logging

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Serve one-click unsubscribe (RFC 8058) and inbound SMS opt-out keywords over HTTP.",
        discussion: """
            POST /u/TOKEN with the body List-Unsubscribe=One-Click opts the token's profile out of its channel; GET /u/TOKEN \
            shows a page whose button does so (a GET alone changes nothing). POST /sms/inbound (with the shared secret of \
            [serve] secret_env in the [serve] secret_header header, X-Herald-Secret by default) takes STOP, QUIT, END, REVOKE, OPT OUT, CANCEL, UNSUBSCRIBE, STOPALL, OPTOUT, START and UNSTOP. GET /healthz. \
            Plain HTTP: put it behind a TLS reverse proxy. SIGINT or SIGTERM finishes the requests in progress, then exits.
            """)
    @OptionGroup var store: StoreOptions
    @OptionGroup var config: ConfigOptions
    @Option(help: ArgumentHelp("The port to listen on (0: any free port, printed).", valueName: "port")) var port: Int
    @Option(help: ArgumentHelp("The address to listen on.", valueName: "address")) var bind = "127.0.0.1"

    func run() throws {
        guard (0...65_535).contains(port) else {
            throw HeraldError(.invalidInput, "--port: expected a port from 0 to 65535, found \(port)")
        }
        let environment = ProcessInfo.processInfo.environment
        let loaded = try config.load()
        guard let secret = try loaded.tokenSecret(environment: environment) else {
            throw HeraldError(
                .invalidInput,
                "\(loaded.source): delivery.token_secret_env is needed to check unsubscribe tokens (the secret the messages' links were signed with)"
            )
        }
        let inbound = try loaded.inboundSecret(environment: environment)
        let opened = try store.openForWriting()
        let server = OptOutServer(store: opened, tokens: UnsubscribeTokens(secret: secret), inbound: inbound)
        let bind = self.bind
        let sms = inbound.map { "on (header \($0.name))" } ?? "off ([serve] secret_env is not set)"
        let outcome = Outcome()
        Task {
            do {
                try await server.run(host: bind, port: port, logger: Logger(label: "herald.serve")) { port in
                    let host = bind.contains(":") ? "[\(bind)]" : bind
                    say("herald serve: listening on http://\(host):\(port) (one-click unsubscribe: /u/TOKEN; SMS keywords: \(sms))")
                }
                outcome.finish(nil)
            } catch { outcome.finish(error) }
        }
        if let error = outcome.wait() {
            let why = "\(error)".contains("Address already in use") ? "the address is in use by another process" : "\(error)"
            throw HeraldError(.io, "herald serve cannot go on listening on \(bind):\(port): \(why)")
        }
        say("herald serve: stopped")
    }

    /// The server task's end, waited for on the command's thread.
    final class Outcome: @unchecked Sendable {
        private let done = DispatchSemaphore(value: 0)
        private var error: (any Error)?

        func finish(_ error: (any Error)?) {
            self.error = error
            done.signal()
        }

        func wait() -> (any Error)? {
            done.wait()
            return error
        }
    }
}
