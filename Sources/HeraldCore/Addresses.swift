import Foundation

/// Addresses as the gates compare them: e-mail trimmed and lower-cased; phone numbers without
/// spaces, dashes, dots or parentheses, a leading `00` read as `+`. The SQL the gates run does
/// the same, and checks validity with this type's test (registered as a SQL function).
public enum Addresses {
    public static func normalised(_ address: String, channel: Channel) -> String {
        let trimmed = address.trimmingCharacters(in: .whitespacesAndNewlines)
        switch channel {
        case .email: return trimmed.lowercased()
        case .sms:
            var phone = trimmed.filter { !" -().".contains($0) }
            if phone.hasPrefix("00") { phone = "+" + phone.dropFirst(2) }
            return phone
        case .push, .directMail: return trimmed
        }
    }

    /// Whether a normalised address can be used on the channel: e-mail `local@domain.tld` (one
    /// `@`, something before it, a dot in the domain but not at its ends, no spaces, control
    /// characters or `,;<>"`); SMS `+` and 7 to 15 digits, the first not 0.
    public static func isValid(_ address: String, channel: Channel) -> Bool {
        var address = address
        return address.withUTF8 { isValid(bytes: $0, channel: channel) }
    }

    /// ``isValid(_:channel:)`` over the address's UTF-8 bytes, in one pass.
    public static func isValid(bytes: UnsafeBufferPointer<UInt8>, channel: Channel) -> Bool {
        switch channel {
        case .email:
            var at = -1
            var lastDot = -1
            var dotAfterAt = false
            for (i, b) in bytes.enumerated() {
                switch b {
                case 0x40:  // @
                    if at >= 0 { return false }
                    at = i
                case 0x2E:  // .
                    if at >= 0 {
                        if i == at + 1 { return false }
                        dotAfterAt = true
                    }
                    lastDot = i
                case 0...0x20, 0x2C, 0x3B, 0x3C, 0x3E, 0x22: return false
                default: break
                }
            }
            return at > 0 && dotAfterAt && lastDot != bytes.count - 1
        case .sms:
            for (i, b) in bytes.enumerated() {
                if i == 0 {
                    if b != 0x2B { return false }
                } else if b < 0x30 || b > 0x39 || (i == 1 && b == 0x30) {
                    return false
                }
            }
            return (8...16).contains(bytes.count)
        case .push, .directMail:
            return !bytes.isEmpty
        }
    }

    /// Why the address cannot be used on the channel; nil when it can.
    public static func problem(_ address: String, channel: Channel) -> String? {
        let a = normalised(address, channel: channel)
        if a.isEmpty { return "the address is empty" }
        guard !isValid(a, channel: channel) else { return nil }
        switch channel {
        case .email: return "'\(a)' is not an e-mail address"
        case .sms: return "'\(a)' is not a phone number in E.164 form (+ and 7 to 15 digits)"
        case .push, .directMail: return nil
        }
    }

    /// The e-mail address of a mailbox as a header gives it (`Name <local@domain>` or the bare
    /// address), or nil when it has none that ``isValid(_:channel:)`` accepts.
    public static func mailboxAddress(_ mailbox: String) -> String? {
        var text = mailbox.trimmingCharacters(in: .whitespaces)
        if let open = text.lastIndex(of: "<") {
            guard text.hasSuffix(">") else { return nil }
            text = String(text[text.index(after: open)..<text.index(before: text.endIndex)])
        }
        return isValid(text, channel: .email) ? text : nil
    }
}
