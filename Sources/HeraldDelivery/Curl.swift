import CCurl
public import Foundation
public import HeraldCore
import Synchronization

/// How a network provider connects, whatever it speaks: parallel connections, certificate
/// checks and time limits.
public struct ConnectionOptions: Sendable, Equatable {
    /// Connections open at once; each carries one message at a time.
    public var connections: Int
    /// Whether the server's certificate is checked (on unless configured off).
    public var verify: Bool
    /// Certificates to trust besides the system's (a private server's own CA).
    public var caFile: String?
    public var connectTimeout: TimeInterval
    /// The longest one message's whole exchange may take.
    public var timeout: TimeInterval
    public static let connectionsRange = 1...64

    public init(connections: Int = 1, verify: Bool = true, caFile: String? = nil, connectTimeout: TimeInterval = 10, timeout: TimeInterval)
    {
        self.connections = connections
        self.verify = verify
        self.caFile = caFile
        self.connectTimeout = connectTimeout
        self.timeout = timeout
    }
}

extension ProviderOutcome {
    /// The outcome with the recipient's address taken out of its words (a server's answer such as
    /// `550 <ana@example.com>: unknown user` is shown by `runs show` and `history`).
    func redacting(_ address: String) -> ProviderOutcome {
        guard !address.isEmpty else { return self }
        func clean(_ text: String) -> String { text.replacingOccurrences(of: address, with: "(recipient)", options: .caseInsensitive) }
        switch self {
        case .sent: return self
        case .transient(let why, let after): return .transient(clean(why), retryAfter: after)
        case .permanent(let why): return .permanent(clean(why))
        case .unknown(let why): return .unknown(clean(why))
        }
    }
}

/// libcurl's process-wide set-up, and what every provider's handles share.
enum Curl {
    private static let result: CURLcode = curl_global_init(Int(CURL_GLOBAL_DEFAULT))

    /// Done once before the first handle.
    static func initialize() throws {
        guard result == CURLE_OK else {
            throw HeraldError(.internalFailure, "libcurl could not be initialised: \(String(cString: curl_easy_strerror(result)))")
        }
    }

    static func handle() throws -> UnsafeMutableRawPointer {
        try initialize()
        guard let handle = curl_easy_init() else { throw HeraldError(.internalFailure, "libcurl could not make a handle") }
        return handle
    }

    /// Sets `options` on `handle`: time limits, certificate checks, no signals (the handle is
    /// used from worker threads). The results of each setter, for the caller to check.
    static func apply(_ options: ConnectionOptions, to handle: UnsafeMutableRawPointer) -> [CURLcode] {
        var set = [
            herald_curl_set_long(handle, CURLOPT_NOSIGNAL, 1),
            herald_curl_set_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(options.connectTimeout * 1000)),
            herald_curl_set_long(handle, CURLOPT_TIMEOUT_MS, Int(options.timeout * 1000)),
            herald_curl_set_long(handle, CURLOPT_SSL_VERIFYPEER, options.verify ? 1 : 0),
            herald_curl_set_long(handle, CURLOPT_SSL_VERIFYHOST, options.verify ? 2 : 0),
        ]
        if let caFile = options.caFile { set.append(herald_curl_set_text(handle, CURLOPT_CAINFO, caFile)) }
        return set
    }

    /// Performs the transfer set on `handle`, lets `after` read what it needs of it, then
    /// resets its options: the callbacks' data (this message's, gone once the caller returns)
    /// must not stay set for what libcurl does between messages, such as saying QUIT to a
    /// connection it closes when the handle goes. The open connection stays for the next one.
    static func perform(_ handle: UnsafeMutableRawPointer, after: (UnsafeMutableRawPointer) -> Void = { _ in }) -> CURLcode {
        let result = curl_easy_perform(handle)
        after(handle)
        curl_easy_reset(handle)
        return result
    }

    /// The first failed setter's words, nil when all were taken.
    static func refused(_ results: [CURLcode]) -> String? {
        results.first { $0 != CURLE_OK }.map { String(cString: curl_easy_strerror($0)) }
    }

    /// Sends `batch` over `lanes` (one thread each, each lane's connection used by it alone),
    /// message `i` on lane `i % lanes.count`; the outcomes in the batch's order. Threads of their
    /// own, not a concurrent loop: the lanes wait on the network, and a loop sized to the cores
    /// would leave connections idle.
    static func send<Lane: Sendable>(
        _ batch: [OutboundMessage], over lanes: [Lane], _ send: @escaping @Sendable (Lane, OutboundMessage) -> ProviderOutcome
    ) -> [ProviderOutcome] {
        let outcomes = Mutex([ProviderOutcome?](repeating: nil, count: batch.count))
        let width = min(lanes.count, batch.count)
        let done = DispatchGroup()
        for lane in 0..<width {
            done.enter()
            let connection = lanes[lane]
            Thread.detachNewThread {
                for i in stride(from: lane, to: batch.count, by: width) {
                    let outcome = send(connection, batch[i])
                    outcomes.withLock { $0[i] = outcome }
                }
                done.leave()
            }
        }
        done.wait()
        return outcomes.withLock { $0.map { $0 ?? .unknown("not attempted") } }
    }
}
