import Foundation

/// A self-pipe: worker threads write a byte when they have something for the interface, and
/// the interface's loop sleeps in poll() on the terminal and this pipe together, so it wakes
/// for a key or a result and otherwise does not run at all.
final class Wakeup: Sendable {
    let readEnd: Int32
    let writeEnd: Int32

    init?() {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { return nil }
        readEnd = ends[0]
        writeEnd = ends[1]
        for fd in ends { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
    }

    deinit {
        close(readEnd)
        close(writeEnd)
    }

    /// Wakes the loop (a full pipe already will: the byte is not needed then).
    func signal() {
        var byte: UInt8 = 1
        _ = write(writeEnd, &byte, 1)
    }

    /// Empties the pipe.
    func drain() {
        var buffer = [UInt8](repeating: 0, count: 256)
        while read(readEnd, &buffer, buffer.count) > 0 {}
    }

    /// Sleeps until the terminal has input, a worker signalled, or a signal arrived.
    func wait(input: Int32 = STDIN_FILENO) {
        var fds = [pollfd(fd: input, events: Int16(POLLIN), revents: 0), pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)]
        _ = poll(&fds, 2, -1)
        if fds[1].revents != 0 { drain() }
    }
}
