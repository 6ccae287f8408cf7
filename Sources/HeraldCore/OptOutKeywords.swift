/// What an inbound SMS asks, when it is one of the opt-out or opt-in keywords (the FCC's opt-out
/// list: STOP, QUIT, END, REVOKE, OPT OUT, CANCEL, UNSUBSCRIBE; and STOPALL and OPTOUT; START and UNSTOP
/// to opt back in). Any case, surrounding spaces and a final `.` or `!` are accepted; a
/// keyword inside a longer message is not one (“please stop by” is not an opt-out).
public enum SMSKeyword: String, Sendable, Equatable {
    case optOut = "opted_out"
    case optIn = "opted_in"

    public static let optOutWords = ["STOP", "QUIT", "END", "REVOKE", "OPT OUT", "CANCEL", "UNSUBSCRIBE", "STOPALL", "OPTOUT"]
    public static let optInWords = ["START", "UNSTOP"]

    public init?(message: String) {
        var words = message.uppercased().split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
        while let last = words.last, last == "." || last == "!" { words.removeLast() }
        if Self.optOutWords.contains(words) {
            self = .optOut
        } else if Self.optInWords.contains(words) {
            self = .optIn
        } else {
            return nil
        }
    }
}
