public import Foundation

/// A day of the week, numbered as ISO 8601 does (Monday 1 … Sunday 7).
public enum Weekday: Int, CaseIterable, Sendable, Comparable {
    case monday = 1, tuesday, wednesday, thursday, friday, saturday, sunday

    public var abbreviation: String { ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][rawValue - 1] }

    /// The English name: `Monday`.
    public var name: String { ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"][rawValue - 1] }

    public init?(abbreviation: String) {
        guard let i = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].firstIndex(of: abbreviation.lowercased()) else { return nil }
        self.init(rawValue: i + 1)
    }

    /// The weekday of a day counted from 1970-01-01 (a Thursday).
    public init(days: Int) {
        self.init(rawValue: ((days % 7 + 7 + 3) % 7) + 1)!
    }

    public static func < (a: Weekday, b: Weekday) -> Bool { a.rawValue < b.rawValue }
}

/// A set of weekdays, written `mon,thu` or `mon-fri` (a range runs forward and may wrap:
/// `fri-mon`).
public struct WeekdaySet: Hashable, Sendable {
    public private(set) var days: Set<Weekday>

    public init(_ days: Set<Weekday>) { self.days = days }

    public static let everyDay = WeekdaySet(Set(Weekday.allCases))

    public func contains(_ day: Weekday) -> Bool { days.contains(day) }

    /// Runs of three or more consecutive days as a range, the rest listed: `mon-fri`, `mon,thu`,
    /// `mon-wed,sat`.
    public var text: String {
        let sorted = days.sorted()
        var parts: [String] = []
        var i = 0
        while i < sorted.count {
            var j = i
            while j + 1 < sorted.count && sorted[j + 1].rawValue == sorted[j].rawValue + 1 { j += 1 }
            if j - i >= 2 {
                parts.append("\(sorted[i].abbreviation)-\(sorted[j].abbreviation)")
            } else {
                for k in i...j { parts.append(sorted[k].abbreviation) }
            }
            i = j + 1
        }
        return parts.joined(separator: ",")
    }

    static func parse(_ text: String) throws(ScheduleSyntaxError) -> WeekdaySet {
        var days = Set<Weekday>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            let ends = part.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
            guard ends.count <= 2, let first = Weekday(abbreviation: ends[0]), let last = Weekday(abbreviation: ends.last!) else {
                throw ScheduleSyntaxError("expected weekdays such as 'mon,thu' or 'mon-fri', found '\(part)'")
            }
            var day = first
            while true {
                days.insert(day)
                if day == last { break }
                day = Weekday(rawValue: day.rawValue % 7 + 1)!
            }
        }
        return WeekdaySet(days)
    }
}

/// A wall-clock time of day to the minute; 24:00 only as the end of a window.
public struct LocalTime: Hashable, Comparable, Sendable {
    /// Minutes after midnight.
    public var minutes: Int

    public init(hour: Int, minute: Int) { minutes = hour * 60 + minute }

    public var text: String {
        let h = minutes / 60
        let m = minutes % 60
        return (h < 10 ? "0" : "") + "\(h):" + (m < 10 ? "0" : "") + "\(m)"
    }

    public static func < (a: LocalTime, b: LocalTime) -> Bool { a.minutes < b.minutes }

    /// `HH:MM` (one-digit hours allowed), 00:00 to 23:59, or 24:00 when `allowMidnightEnd`.
    static func parse(_ text: String, allowMidnightEnd: Bool = false) throws(ScheduleSyntaxError) -> LocalTime {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, (1...2).contains(parts[0].count), parts[1].count == 2,
            parts.allSatisfy({ $0.allSatisfy { ("0"..."9").contains($0) } }), let h = Int(parts[0]), let m = Int(parts[1])
        else {
            throw ScheduleSyntaxError("expected a time such as 09:00, found '\(text)'")
        }
        if h == 24 && m == 0 && allowMidnightEnd { return LocalTime(hour: 24, minute: 0) }
        guard h < 24, m < 60 else { throw ScheduleSyntaxError("expected a time between 00:00 and 23:59, found '\(text)'") }
        return LocalTime(hour: h, minute: m)
    }
}

/// Which day of a month a monthly schedule launches on.
public enum MonthDay: Hashable, Sendable {
    /// Day 1…31; a month without that day has no launch (use `lastDay` for month ends).
    case day(Int)
    case lastDay
    /// The first…fifth given weekday of the month; a month without a fifth has no launch.
    case nth(Int, Weekday)
    case last(Weekday)

    public var text: String {
        switch self {
        case .day(let n): "day \(n)"
        case .lastDay: "last day"
        case .nth(let n, let w): "\(Self.ordinal(n)) \(w.abbreviation)"
        case .last(let w): "last \(w.abbreviation)"
        }
    }

    static func ordinal(_ n: Int) -> String {
        switch n {
        case 1: "1st"
        case 2: "2nd"
        case 3: "3rd"
        default: "\(n)th"
        }
    }

    /// The day of the month it falls on in `year`-`month`, or nil when the month has none.
    func day(year: Int, month: Int) -> Int? {
        let length = TemporalText.daysIn(month: month, year: year)
        let first = Weekday(days: CivilDate.days(year: year, month: month, day: 1))
        switch self {
        case .day(let n): return n <= length ? n : nil
        case .lastDay: return length
        case .nth(let n, let w):
            let d = 1 + (w.rawValue - first.rawValue + 7) % 7 + (n - 1) * 7
            return d <= length ? d : nil
        case .last(let w):
            let lastWeekday = Weekday(days: CivilDate.days(year: year, month: month, day: length))
            return length - (lastWeekday.rawValue - w.rawValue + 7) % 7
        }
    }
}

/// A 5-field cron expression (minute, hour, day of month, month, day of week), with lists,
/// ranges, steps and month and day names. As in Vixie cron, when both day fields are restricted
/// a day matching either one launches.
public struct CronExpression: Hashable, Sendable {
    public var text: String
    var minutes: Set<Int>
    var hours: Set<Int>
    var monthDays: Set<Int>
    var months: Set<Int>
    /// 0 (Sunday) … 6 (Saturday); 7 is read as 0.
    var weekdays: Set<Int>
    var monthDaysRestricted: Bool
    var weekdaysRestricted: Bool

    static let monthNames = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    static let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    public init(parsing text: String) throws(ScheduleSyntaxError) {
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 else {
            throw ScheduleSyntaxError("a cron expression has 5 fields (minute hour day-of-month month day-of-week), found \(fields.count)")
        }
        self.text = fields.joined(separator: " ")
        minutes = try Self.field(fields[0], name: "minute", 0...59, names: [])
        hours = try Self.field(fields[1], name: "hour", 0...23, names: [])
        monthDays = try Self.field(fields[2], name: "day of month", 1...31, names: [])
        months = try Self.field(fields[3], name: "month", 1...12, names: Self.monthNames, firstName: 1)
        weekdays = Set(try Self.field(fields[4], name: "day of week", 0...7, names: Self.dayNames, firstName: 0).map { $0 % 7 })
        monthDaysRestricted = !fields[2].hasPrefix("*")
        weekdaysRestricted = !fields[4].hasPrefix("*")
        // Both day fields must match unless both are restricted: some chosen month must have one
        // of the chosen days (February counted with 29, as leap years have it).
        if !(monthDaysRestricted && weekdaysRestricted) {
            let possible = months.contains { m in monthDays.contains { $0 <= TemporalText.daysIn(month: m, year: 2000) } }
            if !possible { throw ScheduleSyntaxError("'\(self.text)' never launches: no chosen month has any of the chosen days") }
        }
    }

    static func field(
        _ text: String, name: String, _ range: ClosedRange<Int>, names: [String], firstName: Int = 0
    ) throws(ScheduleSyntaxError) -> Set<Int> {
        func value(_ s: String) throws(ScheduleSyntaxError) -> Int {
            if let i = names.firstIndex(of: s.lowercased()) { return i + firstName }
            guard !s.isEmpty, s.allSatisfy({ ("0"..."9").contains($0) }), let v = Int(s), range.contains(v) else {
                throw ScheduleSyntaxError("cron \(name): expected \(range.lowerBound)–\(range.upperBound), found '\(s)'")
            }
            return v
        }
        var result = Set<Int>()
        for item in text.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            let stepParts = item.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard stepParts.count <= 2 else { throw ScheduleSyntaxError("cron \(name): unexpected '\(item)'") }
            var step = 1
            if stepParts.count == 2 {
                guard let s = Int(stepParts[1]), s >= 1, s <= range.upperBound else {
                    throw ScheduleSyntaxError("cron \(name): expected a step of 1–\(range.upperBound) after '/', found '\(stepParts[1])'")
                }
                step = s
            }
            let base = stepParts[0]
            var low = range.lowerBound
            var high = range.upperBound
            if base != "*" {
                let ends = base.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
                guard ends.count <= 2 else { throw ScheduleSyntaxError("cron \(name): unexpected '\(item)'") }
                low = try value(ends[0])
                high = ends.count == 2 ? try value(ends[1]) : (stepParts.count == 2 ? range.upperBound : low)
                guard low <= high else { throw ScheduleSyntaxError("cron \(name): the range '\(base)' runs backwards") }
            }
            result.formUnion(stride(from: low, through: high, by: step))
        }
        return result
    }

    /// Vixie cron's day rule: when both day fields start with something other than `*`, a day
    /// matching either launches; when either starts with `*` (`*`, `*/2`), a day must match both,
    /// and the values of a field such as `*/2` still apply.
    func launchesOn(year: Int, month: Int, day: Int, weekday: Weekday) -> Bool {
        guard months.contains(month) else { return false }
        let byMonthDay = monthDays.contains(day)
        let byWeekday = weekdays.contains(weekday.rawValue % 7)
        return monthDaysRestricted && weekdaysRestricted ? byMonthDay || byWeekday : byMonthDay && byWeekday
    }

    var times: [LocalTime] { hours.sorted().flatMap { h in minutes.sorted().map { LocalTime(hour: h, minute: $0) } } }
}

/// Why a schedule's text cannot be read.
public struct ScheduleSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// When a campaign launches, in wall-clock terms of a time zone. One textual form, read by
/// `Schedule(parsing:)` and written by `text`:
///
///     once at 2027-03-28 09:00
///     daily at 09:00            (several times: daily at 09:00,17:30)
///     weekly on mon,thu at 08:30
///     monthly on day 15 at 10:00 | monthly on last day at 10:00 | monthly on 2nd tue at 10:00
///     every 15 minutes from 09:00 to 17:00 on mon-fri    (the end is exclusive)
///     0 9 * * 1-5               (a 5-field cron expression)
public enum Schedule: Hashable, Sendable {
    /// One launch: a day (counted from 1970-01-01) and a time.
    case once(day: Int, at: LocalTime)
    case daily(at: [LocalTime])
    case weekly(on: WeekdaySet, at: [LocalTime])
    case monthly(on: MonthDay, at: [LocalTime])
    /// Every `count` minutes or hours from `from` (the first launch) up to, not including, `to`.
    case every(count: Int, unit: IntervalUnit, from: LocalTime, to: LocalTime, on: WeekdaySet)
    case cron(CronExpression)

    public enum IntervalUnit: String, Sendable, Hashable {
        case minutes, hours
        var minutesEach: Int { self == .minutes ? 1 : 60 }
    }

    public init(parsing text: String) throws(ScheduleSyntaxError) {
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map(String.init)
        guard let first = words.first?.lowercased() else {
            throw ScheduleSyntaxError("the schedule is empty; expected for example 'daily at 09:00'")
        }
        var reader = WordReader(words: words)
        if first.first.map({ $0.isNumber || $0 == "*" }) == true {
            self = .cron(try CronExpression(parsing: text))
            return
        }
        reader.index = 1
        switch first {
        case "once":
            try reader.expect("at")
            let dateWord = try reader.next("a date such as 2027-03-28")
            var timeWord: String
            if let t = dateWord.firstIndex(where: { $0 == "T" || $0 == "t" }) {
                timeWord = String(dateWord[dateWord.index(after: t)...])
                guard let day = CivilDate.validDays(from: String(dateWord[..<t])) else {
                    throw ScheduleSyntaxError("expected a date such as 2027-03-28, found '\(dateWord)'")
                }
                self = .once(day: day, at: try LocalTime.parse(timeWord))
            } else {
                guard let day = CivilDate.validDays(from: dateWord) else {
                    throw ScheduleSyntaxError("expected a date such as 2027-03-28, found '\(dateWord)'")
                }
                timeWord = try reader.next("a time such as 09:00")
                self = .once(day: day, at: try LocalTime.parse(timeWord))
            }
        case "daily":
            try reader.expect("at")
            self = .daily(at: try Self.times(try reader.next("a time such as 09:00")))
        case "weekly":
            try reader.expect("on")
            let days = try WeekdaySet.parse(try reader.next("weekdays such as mon,thu"))
            try reader.expect("at")
            self = .weekly(on: days, at: try Self.times(try reader.next("a time such as 08:30")))
        case "monthly":
            try reader.expect("on")
            let day = try Self.monthDay(&reader)
            try reader.expect("at")
            self = .monthly(on: day, at: try Self.times(try reader.next("a time such as 10:00")))
        case "every":
            let countWord = try reader.next("a number of minutes or hours")
            guard let count = Int(countWord), count >= 1 else {
                throw ScheduleSyntaxError("expected a whole number of minutes or hours after 'every', found '\(countWord)'")
            }
            let unitWord = try reader.next("'minutes' or 'hours'").lowercased()
            let unit: IntervalUnit
            switch unitWord {
            case "minute", "minutes": unit = .minutes
            case "hour", "hours": unit = .hours
            default: throw ScheduleSyntaxError("expected 'minutes' or 'hours' after 'every \(count)', found '\(unitWord)'")
            }
            guard count * unit.minutesEach <= 24 * 60 else {
                throw ScheduleSyntaxError("an interval is at most 24 hours, found \(count) \(unit.rawValue)")
            }
            var from = LocalTime(hour: 0, minute: 0)
            var to = LocalTime(hour: 24, minute: 0)
            var days = WeekdaySet.everyDay
            if reader.peek() == "from" {
                reader.index += 1
                from = try LocalTime.parse(try reader.next("a time such as 09:00"))
                try reader.expect("to")
                to = try LocalTime.parse(try reader.next("a time such as 17:00"), allowMidnightEnd: true)
                guard from < to else {
                    throw ScheduleSyntaxError(
                        "the window ends (\(to.text)) before or when it starts (\(from.text)); a window lies within one day")
                }
            }
            if reader.peek() == "on" {
                reader.index += 1
                days = try WeekdaySet.parse(try reader.next("weekdays such as mon-fri"))
            }
            self = .every(count: count, unit: unit, from: from, to: to, on: days)
        default:
            throw ScheduleSyntaxError(
                "expected 'once', 'daily', 'weekly', 'monthly', 'every' or a 5-field cron expression, found '\(words[0])'")
        }
        if let extra = reader.peek() {
            throw ScheduleSyntaxError("unexpected '\(extra)' after '\(words[..<reader.index].joined(separator: " "))'")
        }
    }

    /// Reads the words of a schedule in order.
    struct WordReader {
        var words: [String]
        var index = 0

        func peek() -> String? { index < words.count ? words[index].lowercased() : nil }

        mutating func next(_ expected: String) throws(ScheduleSyntaxError) -> String {
            guard index < words.count else {
                throw ScheduleSyntaxError("expected \(expected) after '\(words.joined(separator: " "))'")
            }
            index += 1
            return words[index - 1]
        }

        mutating func expect(_ word: String) throws(ScheduleSyntaxError) {
            let found = try next("'\(word)'")
            guard found.lowercased() == word else {
                throw ScheduleSyntaxError("expected '\(word)' after '\(words[..<(index - 1)].joined(separator: " "))', found '\(found)'")
            }
        }
    }

    static func times(_ text: String) throws(ScheduleSyntaxError) -> [LocalTime] {
        var times: [LocalTime] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) { times.append(try LocalTime.parse(String(part))) }
        return Array(Set(times)).sorted()
    }

    static func monthDay(_ reader: inout WordReader) throws(ScheduleSyntaxError) -> MonthDay {
        let word = try reader.next("a day such as 'day 15', 'last day' or '2nd tue'").lowercased()
        if word == "day" {
            let n = try reader.next("a day of the month")
            guard let d = Int(n), (1...31).contains(d) else { throw ScheduleSyntaxError("expected a day of the month 1–31, found '\(n)'") }
            return .day(d)
        }
        if word == "last" {
            let what = try reader.next("'day' or a weekday").lowercased()
            if what == "day" { return .lastDay }
            guard let w = Weekday(abbreviation: what) else {
                throw ScheduleSyntaxError("expected 'day' or a weekday such as 'fri' after 'last', found '\(what)'")
            }
            return .last(w)
        }
        for (n, suffix) in [(1, "st"), (2, "nd"), (3, "rd"), (4, "th"), (5, "th")] where word == "\(n)\(suffix)" {
            if let w = reader.peek().flatMap(Weekday.init(abbreviation:)) {
                reader.index += 1
                return .nth(n, w)
            }
            return .day(n)
        }
        if word.hasSuffix("th") || word.hasSuffix("st") || word.hasSuffix("nd") || word.hasSuffix("rd"),
            let d = Int(word.dropLast(2)), (1...31).contains(d)
        {
            if reader.peek().flatMap(Weekday.init(abbreviation:)) != nil {
                throw ScheduleSyntaxError("a month has a 1st to 5th weekday at most, found '\(word)'")
            }
            return .day(d)
        }
        throw ScheduleSyntaxError("expected 'day N', 'last day', 'last fri' or an ordinal weekday such as '2nd tue', found '\(word)'")
    }

    /// The days of the week it launches on, when it is chosen by weekdays (daily: every day);
    /// nil for a single launch, a day of the month or a cron expression.
    public var weekdays: WeekdaySet? {
        switch self {
        case .daily: .everyDay
        case .weekly(let days, _), .every(_, _, _, _, let days): days
        case .once, .monthly, .cron: nil
        }
    }

    /// The same schedule on `days` instead (every day is a daily schedule); nil when it is not
    /// chosen by weekdays or `days` is empty.
    public func onWeekdays(_ days: WeekdaySet) -> Schedule? {
        guard !days.days.isEmpty else { return nil }
        switch self {
        case .daily(let at), .weekly(_, let at): return days == .everyDay ? .daily(at: at) : .weekly(on: days, at: at)
        case .every(let count, let unit, let from, let to, _): return .every(count: count, unit: unit, from: from, to: to, on: days)
        case .once, .monthly, .cron: return nil
        }
    }

    /// The canonical text; `Schedule(parsing: s.text) == s`.
    public var text: String {
        func times(_ t: [LocalTime]) -> String { t.map(\.text).joined(separator: ",") }
        switch self {
        case .once(let day, let at): return "once at \(CivilDate.text(day)) \(at.text)"
        case .daily(let at): return "daily at \(times(at))"
        case .weekly(let days, let at): return "weekly on \(days.text) at \(times(at))"
        case .monthly(let day, let at): return "monthly on \(day.text) at \(times(at))"
        case .every(let count, let unit, let from, let to, let days):
            var s = "every \(count) \(count == 1 ? String(unit.rawValue.dropLast()) : unit.rawValue)"
            if from.minutes != 0 || to.minutes != 24 * 60 { s += " from \(from.text) to \(to.text)" }
            if days != .everyDay { s += " on \(days.text)" }
            return s
        case .cron(let c): return c.text
        }
    }

    /// The wall-clock times it launches at on a day (counted from 1970-01-01), in order.
    func times(onDay day: Int) -> [LocalTime] {
        let (y, m, d) = CivilDate.civil(days: day)
        let weekday = Weekday(days: day)
        switch self {
        case .once(let onDay, let at): return onDay == day ? [at] : []
        case .daily(let at): return at
        case .weekly(let days, let at): return days.contains(weekday) ? at : []
        case .monthly(let monthDay, let at): return monthDay.day(year: y, month: m) == d ? at : []
        case .every(let count, let unit, let from, let to, let days):
            guard days.contains(weekday) else { return [] }
            return stride(from: from.minutes, to: to.minutes, by: count * unit.minutesEach).map {
                LocalTime(hour: $0 / 60, minute: $0 % 60)
            }
        case .cron(let c): return c.launchesOn(year: y, month: m, day: d, weekday: weekday) ? c.times : []
        }
    }

    /// One launch: its instant, and when daylight saving moved it off its wall-clock time, the
    /// time it was written for.
    public struct Launch: Sendable, Equatable {
        /// Seconds since 1970-01-01T00:00:00Z.
        public var utcSeconds: Int
        /// The scheduled wall-clock time when it does not exist that day (a spring-forward gap).
        public var shiftedFrom: LocalTime?
    }

    /// The launches at or after `start` (UTC seconds) in `zone`, up to `count` of them and before
    /// `end` when given. A wall-clock time in a spring-forward gap launches once, moved forward by
    /// the gap; one that occurs twice launches once, at its first occurrence. Looks up to 20
    /// years ahead.
    public func launches(from start: Int, zone: TimeZone, count: Int, before end: Int? = nil) -> [Launch] {
        var result: [Launch] = []
        guard count > 0 else { return result }
        let startOffset = zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(start)))
        var day = Int((Double(start + startOffset) / 86_400).rounded(.down)) - 1
        let lastDay = day + 366 * 20
        if case .once(let onDay, _) = self { day = max(day, onDay - 1) }
        var last = Int.min
        while day <= lastDay && result.count < count {
            var today: [Launch] = []
            for time in times(onDay: day) {
                let civil = day * 86_400 + time.minutes * 60
                let utc = TemporalText.localToUTC(civil, zone: zone)
                let shown = utc + zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(utc)))
                today.append(Launch(utcSeconds: utc, shiftedFrom: shown == civil ? nil : time))
            }
            today.sort { $0.utcSeconds < $1.utcSeconds }
            for launch in today where launch.utcSeconds > last && launch.utcSeconds >= start {
                if let end, launch.utcSeconds >= end { return result }
                result.append(launch)
                last = launch.utcSeconds
                if result.count == count { return result }
            }
            if case .once(let onDay, _) = self, day > onDay { break }
            day += 1
        }
        return result
    }
}

extension TemporalText {
    /// An instant as ISO 8601 local time with its UTC offset in `zone`: `2027-03-28T03:30:00+02:00`.
    public static func local(utcSeconds: Int, zone: TimeZone) -> String {
        let offset = zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(utcSeconds)))
        let utcText = canonical(utcSeconds: utcSeconds + offset) ?? "?"
        let sign = offset < 0 ? "-" : "+"
        let h = abs(offset) / 3600
        let m = abs(offset) % 3600 / 60
        return String(utcText.dropLast()) + sign + (h < 10 ? "0" : "") + "\(h):" + (m < 10 ? "0" : "") + "\(m)"
    }
}

extension TemporalText {
    /// The instant (UTC seconds) a day (counted from 1970-01-01) starts in `zone`: its local
    /// midnight, or the first moment after it when midnight falls in a daylight-saving gap.
    public static func startOfDay(_ day: Int, zone: TimeZone) -> Int { localToUTC(day * 86_400, zone: zone) }
}

/// A campaign's schedule: when it launches, in which time zone, and between which instants.
public struct CampaignSchedule: Sendable, Equatable {
    public var schedule: Schedule
    /// An IANA time zone name.
    public var timeZone: String
    /// The first instant a launch may happen (UTC seconds), if limited.
    public var validFrom: Int?
    /// The instant launches stop (exclusive, UTC seconds), if limited.
    public var validUntil: Int?

    public init(schedule: Schedule, timeZone: String, validFrom: Int? = nil, validUntil: Int? = nil) {
        self.schedule = schedule
        self.timeZone = timeZone
        self.validFrom = validFrom
        self.validUntil = validUntil
    }

    /// The zone, or nil when the name is not one this system knows.
    public var zone: TimeZone? { TimeZone(identifier: timeZone) }

    /// The next `count` launches at or after `now` within the validity period.
    public func launches(after now: Int, count: Int) -> [Schedule.Launch] {
        guard let zone else { return [] }
        return schedule.launches(from: max(now, validFrom ?? now), zone: zone, count: count, before: validUntil)
    }

    /// One line: `weekly on mon,thu at 08:30 in Europe/Paris, from … until …`.
    public var summary: String {
        var s = "\(schedule.text) in \(timeZone)"
        if let zone, let validFrom { s += ", from \(TemporalText.local(utcSeconds: validFrom, zone: zone))" }
        if let zone, let validUntil { s += ", until \(TemporalText.local(utcSeconds: validUntil, zone: zone))" }
        return s
    }
}

extension TemporalText {
    /// The seconds since 1970-01-01T00:00:00Z of a canonical date-time (`2027-03-28T01:30:00Z`),
    /// or nil for any other text.
    public static func utcSeconds(canonical text: String) -> Int? {
        let u = Array(text.utf8)
        guard u.count == 20, u[10] == 84, u[13] == 58, u[16] == 58, u[19] == 90,
            let day = CivilDate.validDays(from: String(decoding: u[0..<10], as: UTF8.self)),
            let h = digits(u[11..<13]), let m = digits(u[14..<16]), let s = digits(u[17..<19]), h < 24, m < 60, s < 60
        else { return nil }
        return day * 86_400 + h * 3600 + m * 60 + s
    }
}
