import Foundation
import HeraldCore
import HeraldEngine
import Synchronization

/// Ctrl-C (SIGINT), SIGTERM and a hang-up (SIGHUP, the terminal closed) during a long count or dry run stop the statement in progress
/// instead of killing the process: the store records a dry run as stopped, and the command
/// exits with 128 + the signal number, as shells expect.
enum Interruption {
    static func cancellable<T>(_ body: (QueryCancellation) throws -> T) throws -> T {
        let cancellation = QueryCancellation()
        let received = SignalNumber()
        var sources: [any DispatchSourceSignal] = []
        var previous: [(Int32, sighandler_t?)] = []
        for number in [SIGINT, SIGTERM, SIGHUP] {
            // Delivered to the dispatch source instead; a signal the parent chose to ignore (a
            // `nohup` job, say) stays ignored.
            let old = signal(number, SIG_IGN)
            previous.append((number, old))
            if let old, unsafeBitCast(old, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self) { continue }
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                received.set(number)
                cancellation.cancel()
            }
            source.resume()
            sources.append(source)
        }
        defer {
            for source in sources { source.cancel() }
            for (number, old) in previous { signal(number, old) }
        }
        do {
            return try body(cancellation)
        } catch let error as HeraldError where error.code == .cancelled && received.value != 0 {
            throw Interrupted(signal: received.value, message: error.message)
        }
    }

    /// Work stopped by a signal; the command exits with 128 + `signal` after callers clean up.
    struct Interrupted: Error {
        var signal: Int32
        var message: String
    }

    /// The signal that stopped the work (0 while none has).
    final class SignalNumber: Sendable {
        private let number = Atomic<Int32>(0)
        var value: Int32 { number.load(ordering: .relaxed) }
        func set(_ n: Int32) { number.store(n, ordering: .relaxed) }
    }
}
