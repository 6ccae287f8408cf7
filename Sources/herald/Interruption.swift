import Foundation
import HeraldCore
import HeraldEngine
import Synchronization

/// Ctrl-C (SIGINT) and SIGTERM during a long count or dry run stop the statement in progress
/// instead of killing the process: the store records a dry run as stopped, and the command
/// exits with 128 + the signal number, as shells expect.
enum Interruption {
    static func cancellable<T>(_ body: (QueryCancellation) throws -> T) throws -> T {
        let cancellation = QueryCancellation()
        let received = SignalNumber()
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)  // delivered to the dispatch source instead
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
            signal(SIGINT, SIG_DFL)
            signal(SIGTERM, SIG_DFL)
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
