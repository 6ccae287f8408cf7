/// An RFC 4180 CSV reader over UTF-8 bytes: quoted fields, doubled quotes, CRLF or LF line
/// ends, line breaks inside quotes. Reports the line each record starts on.
public struct CSVReader {
    let bytes: UnsafeBufferPointer<UInt8>
    public private(set) var position = 0
    public private(set) var line = 1

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
    public mutating func next() throws(SyntaxError) -> (line: Int, fields: [String])? {
        guard position < bytes.count else { return nil }
        let startLine = line
        var fields: [String] = []
        var field: [UInt8] = []
        var column = 1
        var quotedDone = false
        func text(_ field: [UInt8]) throws(SyntaxError) -> String {
            guard let s = String(validating: field, as: UTF8.self) else {
                throw SyntaxError(line: startLine, column: column, message: "the field is not valid UTF-8")
            }
            return s
        }
        while position < bytes.count {
            let b = bytes[position]
            if b == UInt8(ascii: "\"") && field.isEmpty && !quotedDone {
                position += 1
                var closed = false
                while position < bytes.count {
                    let c = bytes[position]
                    position += 1
                    if c == UInt8(ascii: "\"") {
                        if position < bytes.count && bytes[position] == UInt8(ascii: "\"") {
                            field.append(c)
                            position += 1
                            continue
                        }
                        closed = true
                        break
                    }
                    if c == 10 { line += 1 }
                    field.append(c)
                }
                if !closed { throw SyntaxError(line: startLine, column: column, message: "a quoted field is never closed") }
                quotedDone = true
            } else if b == UInt8(ascii: ",") {
                fields.append(try text(field))
                field = []
                column += 1
                quotedDone = false
                position += 1
            } else if b == 13 || b == 10 {
                position += (b == 13 && position + 1 < bytes.count && bytes[position + 1] == 10) ? 2 : 1
                line += 1
                fields.append(try text(field))
                return (startLine, fields)
            } else if quotedDone {
                throw SyntaxError(
                    line: line, column: column,
                    message: "unexpected text after a closing quote (write a quote inside a quoted field as \"\")")
            } else if b == UInt8(ascii: "\"") {
                throw SyntaxError(
                    line: line, column: column, message: "a quote inside an unquoted field; quote the field and double the quote")
            } else {
                field.append(b)
                position += 1
            }
        }
        fields.append(try text(field))
        return (startLine, fields)
    }
}
