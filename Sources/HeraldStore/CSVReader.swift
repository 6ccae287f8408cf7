/// An RFC 4180 CSV reader over UTF-8 bytes: quoted fields, doubled quotes, CRLF or LF line
/// ends, line breaks inside quotes. Reports the line each record starts on.
public struct CSVReader {
    let bytes: UnsafeBufferPointer<UInt8>
    public private(set) var position = 0
    public private(set) var line = 1
    /// Fields a record is expected to have (the header's count), to size each record once.
    public var expectedFields = 0

    public init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        // A UTF-8 byte order mark is not part of the first header name.
        if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { position = 3 }
    }

    public struct SyntaxError: Error {
        public var line: Int
        public var column: Int
        public var message: String
    }

    /// The next record with the line it starts on, or nil at the end of input.
    /// A blank line comes back as one empty field.
    ///
    /// Fields are made straight from the input bytes; only a quoted field with doubled quotes
    /// is copied to remove them.
    public mutating func next() throws(SyntaxError) -> (line: Int, fields: [String])? {
        guard position < bytes.count else { return nil }
        let startLine = line
        var fields: [String] = []
        fields.reserveCapacity(expectedFields)
        var column = 1
        while true {
            // One field, starting at `position`.
            if position < bytes.count && bytes[position] == UInt8(ascii: "\"") {
                position += 1
                let start = position
                var escaped: [UInt8]?
                var closed = false
                while position < bytes.count {
                    let c = bytes[position]
                    if c == UInt8(ascii: "\"") {
                        if position + 1 < bytes.count && bytes[position + 1] == UInt8(ascii: "\"") {
                            if escaped == nil { escaped = Array(bytes[start..<position]) }
                            escaped!.append(c)
                            position += 2
                            continue
                        }
                        closed = true
                        break
                    }
                    if c == 10 { line += 1 }
                    escaped?.append(c)
                    position += 1
                }
                if !closed { throw SyntaxError(line: startLine, column: column, message: "a quoted field is never closed") }
                let end = position
                position += 1  // the closing quote
                if let escaped {
                    fields.append(try Self.validated(escaped, startLine, column))
                } else {
                    fields.append(try text(start, end, startLine, column))
                }
                // After a closing quote: a separator, a line end or the end of input.
                if position < bytes.count {
                    let b = bytes[position]
                    if b != UInt8(ascii: ",") && b != 10 && b != 13 {
                        throw SyntaxError(
                            line: line, column: column,
                            message: "unexpected text after a closing quote (write a quote inside a quoted field as \"\")")
                    }
                }
            } else {
                let start = position
                while position < bytes.count {
                    let b = bytes[position]
                    if b == UInt8(ascii: ",") || b == 10 || b == 13 { break }
                    if b == UInt8(ascii: "\"") {
                        throw SyntaxError(
                            line: line, column: column, message: "a quote inside an unquoted field; quote the field and double the quote")
                    }
                    position += 1
                }
                fields.append(try text(start, position, startLine, column))
            }
            guard position < bytes.count else { return (startLine, fields) }
            let b = bytes[position]
            if b == UInt8(ascii: ",") {
                position += 1
                column += 1
                if position >= bytes.count {
                    fields.append("")
                    return (startLine, fields)
                }
                continue
            }
            // A line end: CRLF, LF or CR.
            position += (b == 13 && position + 1 < bytes.count && bytes[position + 1] == 10) ? 2 : 1
            line += 1
            return (startLine, fields)
        }
    }

    /// The bytes `start..<end` as text, checked to be UTF-8 (ASCII, the common case, needs no check).
    func text(_ start: Int, _ end: Int, _ line: Int, _ column: Int) throws(SyntaxError) -> String {
        let slice = UnsafeBufferPointer(rebasing: bytes[start..<end])
        var ascii = true
        for b in slice where b >= 0x80 {
            ascii = false
            break
        }
        if ascii { return String(decoding: slice, as: UTF8.self) }
        guard let s = String(validating: slice, as: UTF8.self) else {
            throw SyntaxError(line: line, column: column, message: "the field is not valid UTF-8")
        }
        return s
    }

    /// A copied field (its doubled quotes removed) as text, checked to be UTF-8.
    static func validated(_ bytes: [UInt8], _ line: Int, _ column: Int) throws(SyntaxError) -> String {
        guard let s = String(validating: bytes, as: UTF8.self) else {
            throw SyntaxError(line: line, column: column, message: "the field is not valid UTF-8")
        }
        return s
    }
}
