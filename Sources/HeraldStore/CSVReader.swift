/// An RFC 4180 CSV reader over UTF-8 bytes: quoted fields, doubled quotes, CRLF or LF line
/// ends, line breaks inside quotes. Reports the line each record starts on.
///
/// `nextFields(into:)` hands out where each field's bytes are, without making a string of any
/// of them (an import binds most values straight from the mapped file); `next()` makes them
/// strings.
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

    /// Where one field's text is in the input: the bytes `start..<end`, already checked to be
    /// UTF-8. A quoted field's range excludes its quotes; when it contains doubled quotes, its
    /// text is the range with each `""` read as one `"`.
    public struct Field: Sendable, Equatable {
        public var start: Int
        public var end: Int
        public var hasDoubledQuotes: Bool

        public var isEmpty: Bool { start == end }
    }

    /// The next record's fields into `fields` (emptied first, its storage reused), and the line
    /// the record starts on; nil at the end of input. A blank line is one empty field.
    public mutating func nextFields(into fields: inout [Field]) throws(SyntaxError) -> Int? {
        fields.removeAll(keepingCapacity: true)
        guard position < bytes.count else { return nil }
        let startLine = line
        var column = 1
        while true {
            // One field, starting at `position`.
            if position < bytes.count && bytes[position] == UInt8(ascii: "\"") {
                position += 1
                let start = position
                var doubled = false
                var closed = false
                var high: UInt8 = 0
                while position < bytes.count {
                    let c = bytes[position]
                    if c == UInt8(ascii: "\"") {
                        if position + 1 < bytes.count && bytes[position + 1] == UInt8(ascii: "\"") {
                            doubled = true
                            position += 2
                            continue
                        }
                        closed = true
                        break
                    }
                    if c == 10 { line += 1 }
                    high |= c
                    position += 1
                }
                if !closed { throw SyntaxError(line: startLine, column: column, message: "a quoted field is never closed") }
                try check(start, position, ascii: high < 0x80, startLine, column)
                fields.append(Field(start: start, end: position, hasDoubledQuotes: doubled))
                position += 1  // the closing quote
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
                var high: UInt8 = 0
                while position < bytes.count {
                    let b = bytes[position]
                    if b == UInt8(ascii: ",") || b == 10 || b == 13 { break }
                    if b == UInt8(ascii: "\"") {
                        throw SyntaxError(
                            line: line, column: column, message: "a quote inside an unquoted field; quote the field and double the quote")
                    }
                    high |= b
                    position += 1
                }
                try check(start, position, ascii: high < 0x80, startLine, column)
                fields.append(Field(start: start, end: position, hasDoubledQuotes: false))
            }
            guard position < bytes.count else { return startLine }
            let b = bytes[position]
            if b == UInt8(ascii: ",") {
                position += 1
                column += 1
                if position >= bytes.count {
                    fields.append(Field(start: position, end: position, hasDoubledQuotes: false))
                    return startLine
                }
                continue
            }
            // A line end: CRLF, LF or CR.
            position += (b == 13 && position + 1 < bytes.count && bytes[position + 1] == 10) ? 2 : 1
            line += 1
            return startLine
        }
    }

    /// The next record as strings, with the line it starts on, or nil at the end of input.
    public mutating func next() throws(SyntaxError) -> (line: Int, fields: [String])? {
        var ranges: [Field] = []
        ranges.reserveCapacity(expectedFields)
        guard let line = try nextFields(into: &ranges) else { return nil }
        return (line, ranges.map(text))
    }

    /// A field's bytes in the input; for a field with doubled quotes, the raw bytes (quotes
    /// still doubled): use `text(_:)` for those.
    public func bytes(_ field: Field) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: bytes[field.start..<field.end])
    }

    /// A field's text.
    public func text(_ field: Field) -> String {
        guard field.hasDoubledQuotes else { return String(decoding: bytes(field), as: UTF8.self) }
        var unescaped: [UInt8] = []
        unescaped.reserveCapacity(field.end - field.start)
        var i = field.start
        while i < field.end {
            unescaped.append(bytes[i])
            i += bytes[i] == UInt8(ascii: "\"") ? 2 : 1
        }
        return String(decoding: unescaped, as: UTF8.self)
    }

    /// Refuses a field that is not UTF-8 (ASCII, the common case, needs no check).
    func check(_ start: Int, _ end: Int, ascii: Bool, _ line: Int, _ column: Int) throws(SyntaxError) {
        if ascii { return }
        if String(validating: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self) == nil {
            throw SyntaxError(line: line, column: column, message: "the field is not valid UTF-8")
        }
    }
}
