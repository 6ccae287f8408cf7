import Foundation
import HeraldCore

/// Writing what a command prints and the files it makes, with failures reported instead of
/// trapping: Foundation's `FileHandle.write(_:)` traps on a full disk or a closed pipe's error.
enum Output {
    /// Writes every byte of `bytes` to `fd`, retrying short writes and interrupted calls.
    /// - Returns: nil, or the `errno` of the failure.
    static func write(_ bytes: [UInt8], to fd: Int32) -> Int32? {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { raw in Foundation.write(fd, raw.baseAddress! + offset, raw.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                return errno
            }
            offset += n
        }
        return nil
    }

    /// The words for an `errno`.
    static func reason(_ code: Int32) -> String { String(cString: strerror(code)) }

    /// Writes `text` to standard output. A failure (a full disk, a closed file) is said on
    /// standard error and the command exits 1: what it had done is kept, and the message says
    /// the output is incomplete.
    static func standardOutput(_ text: String) {
        if let failure = write(Array(text.utf8), to: 1) {
            _ = write(Array("herald: cannot write to standard output: \(reason(failure)); the output is incomplete\n".utf8), to: 2)
            exit(1)
        }
    }

    /// Writes `text` to standard error; nothing else can be told of a failure there.
    static func standardError(_ text: String) {
        _ = write(Array(text.utf8), to: 2)
    }
}

/// A file a command writes whole or not at all: the bytes go to `PATH.partial` beside it, which
/// is renamed over `PATH` only when complete, so an interrupted or failed write leaves no partial
/// file and keeps an existing one. A directory at the path is refused, never replaced.
final class OutputFile {
    let path: String
    let partial: String
    private var fd: Int32
    private var buffer: [UInt8] = []

    /// Refuses `path` when it is a directory (`option` names the flag in the message), or when
    /// it exists and `replace` is false.
    init(_ path: String, option: String, replace: Bool = true) throws {
        var info = stat()
        if stat(path, &info) == 0 {
            if info.st_mode & S_IFMT == S_IFDIR {
                throw HeraldError(.invalidInput, "\(option): \(path) is a directory; give the path of a file")
            }
            if !replace { throw HeraldError(.invalidInput, "\(option): \(path) already exists; add --force to replace it") }
        }
        self.path = path
        partial = path + ".partial"
        fd = open(partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 { throw HeraldError(.io, "\(option): cannot write \(path): \(Output.reason(errno))") }
    }

    deinit { abandon() }

    /// Adds bytes, written out in blocks of 64 KiB.
    func write(_ bytes: some Sequence<UInt8>) throws {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 16 { try flush() }
    }

    private func flush() throws {
        guard !buffer.isEmpty else { return }
        if let failure = Output.write(buffer, to: fd) {
            abandon()
            throw HeraldError(.io, "cannot write \(path): \(Output.reason(failure)); nothing was written to it")
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Writes what is buffered, syncs it to disk and puts the file in place.
    func commit() throws {
        try flush()
        if fsync(fd) != 0 || close(fd) != 0 {
            let failure = errno
            fd = -1
            abandon()
            throw HeraldError(.io, "cannot write \(path): \(Output.reason(failure)); nothing was written to it")
        }
        fd = -1
        if rename(partial, path) != 0 {
            let failure = errno
            abandon()
            throw HeraldError(.io, "cannot put \(path) in place: \(Output.reason(failure))")
        }
    }

    /// Closes and removes the partial file (after a failure or an interruption).
    func abandon() {
        if fd >= 0 { close(fd) }
        if fd >= 0 || access(partial, F_OK) == 0 { unlink(partial) }
        fd = -1
    }
}
