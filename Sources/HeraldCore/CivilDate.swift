public import Foundation

/// Proleptic Gregorian day numbers (days since 1970-01-01) without Foundation calendars:
/// exact, fast, and the same on every platform.
public enum CivilDate {
    /// The day number of `YYYY-MM-DD`, or nil when the text is not three numbers.
    public static func days(from text: String) -> Int? {
        let parts = text.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3 else { return nil }
        return days(year: parts[0], month: parts[1], day: parts[2])
    }

    /// The day number of a real calendar date written `YYYY-MM-DD` (`2027-02-30` is not), or nil.
    public static func validDays(from text: String) -> Int? {
        TemporalText.isDate(text) ? days(from: text) : nil
    }

    public static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    /// Year, month and day of a day number.
    public static func civil(days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp + (mp < 10 ? 3 : -9)
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    /// The English name of a month, 1 to 12.
    public static func monthName(_ month: Int) -> String {
        [
            "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December",
        ][(month - 1 + 12) % 12]
    }

    /// The day number `months` months after `days` (before, when negative), on the same day of
    /// the month or the last day of a shorter one.
    public static func adding(months: Int, to days: Int) -> Int {
        let (year, month, day) = civil(days: days)
        let index = year * 12 + (month - 1) + months
        let y = Int((Double(index) / 12).rounded(.down))
        let m = index - y * 12 + 1
        return Self.days(year: y, month: m, day: min(day, TemporalText.daysIn(month: m, year: y)))
    }

    /// `YYYY-MM-DD` of a day number.
    public static func text(_ days: Int) -> String {
        let (y, m, d) = civil(days: days)
        func pad(_ v: Int, _ n: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, n - s.count)) + s
        }
        return pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2)
    }
}

extension TimeZone {
    /// The IANA name to show: Foundation on Linux calls UTC "GMT".
    public var ianaName: String { identifier == "GMT" ? "UTC" : identifier }
}
