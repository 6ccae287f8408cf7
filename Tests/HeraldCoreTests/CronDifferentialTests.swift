import Foundation
import HeraldCore
import Testing

/// Cron expressions against a brute-force reference written from Vixie cron's rules: every
/// minute of a span is tested field by field, and the launches must be the same.
@Suite struct CronDifferentialTests {
    /// The values one cron field allows, read independently of Herald's parser.
    static func values(_ field: String, _ low: Int, _ high: Int) -> Set<Int> {
        var result = Set<Int>()
        for item in field.split(separator: ",") {
            let parts = item.split(separator: "/")
            let step = parts.count == 2 ? Int(parts[1])! : 1
            var from = low
            var to = high
            if parts[0] != "*" {
                let ends = parts[0].split(separator: "-").map { Int($0)! }
                from = ends[0]
                to = ends.count == 2 ? ends[1] : (parts.count == 2 ? high : from)
            }
            var v = from
            while v <= to {
                result.insert(v)
                v += step
            }
        }
        return result
    }

    /// Vixie cron's match of one minute (`cron.c`: the day fields OR unless either starts with `*`).
    static func matches(_ fields: [String], minute: Int, hour: Int, day: Int, month: Int, weekday: Int) -> Bool {
        let dows = Set(values(fields[4], 0, 7).map { $0 % 7 })
        let doms = values(fields[2], 1, 31)
        let domStar = fields[2].hasPrefix("*")
        let dowStar = fields[4].hasPrefix("*")
        let dayOK = domStar || dowStar ? (doms.contains(day) && dows.contains(weekday)) : (doms.contains(day) || dows.contains(weekday))
        return values(fields[0], 0, 59).contains(minute) && values(fields[1], 0, 23).contains(hour)
            && values(fields[3], 1, 12).contains(month) && dayOK
    }

    /// A random field: `*`, `*/n`, a value, a range, a range with a step, or a list of them.
    static func field(_ low: Int, _ high: Int, _ rng: inout SystemRandomNumberGenerator) -> String {
        func one() -> String {
            let a = Int.random(in: low...high, using: &rng)
            let b = Int.random(in: a...high, using: &rng)
            switch Int.random(in: 0..<6, using: &rng) {
            case 0: return "*"
            case 1: return "*/\(Int.random(in: 2...max(2, (high - low) / 2), using: &rng))"
            case 2: return "\(a)"
            case 3: return "\(a)-\(b)"
            case 4: return "\(a)-\(b)/\(Int.random(in: 2...4, using: &rng))"
            default: return "\(a)/\(Int.random(in: 2...5, using: &rng))"
            }
        }
        if Int.random(in: 0..<4, using: &rng) == 0 { return "\(one()),\(one())".replacingOccurrences(of: "*,", with: "1,") }
        return one()
    }

    @Test func generatedExpressionsLaunchAsVixieCronWould() throws {
        var rng = SystemRandomNumberGenerator()
        let utc = TimeZone(identifier: "UTC")!
        // 2027-01-01T00:00Z, over 120 days: every day rule, months and weekdays come round.
        let start = 1_798_761_600
        let span = 120 * 86_400
        var checked = 0
        var tried = 0
        while checked < 300 && tried < 2000 {
            tried += 1
            // Minutes and hours kept few so the brute force stays quick; the day fields are the point.
            let fields = [
                "\(Int.random(in: 0...59, using: &rng))", "\(Int.random(in: 0...23, using: &rng))",
                Self.field(1, 31, &rng), Self.field(1, 12, &rng), Self.field(0, 6, &rng),
            ]
            let text = fields.joined(separator: " ")
            guard let schedule = try? Schedule(parsing: text) else { continue }
            checked += 1
            var expected: [Int] = []
            let minute = Int(fields[0])!
            let hour = Int(fields[1])!
            for dayIndex in 0..<(span / 86_400) {
                let t = start + dayIndex * 86_400 + hour * 3600 + minute * 60
                let c = Calendar(identifier: .gregorian)
                var cal = c
                cal.timeZone = utc
                let parts = cal.dateComponents([.day, .month, .weekday], from: Date(timeIntervalSince1970: TimeInterval(t)))
                if Self.matches(fields, minute: minute, hour: hour, day: parts.day!, month: parts.month!, weekday: parts.weekday! - 1) {
                    expected.append(t)
                }
            }
            let actual = schedule.launches(from: start, zone: utc, count: 500, before: start + span).map(\.utcSeconds)
            #expect(actual == expected, "'\(text)': \(actual.count) launches, Vixie cron \(expected.count)")
        }
        #expect(checked >= 300)
    }

    @Test(arguments: [
        ("0 0 */2 * *", ["2027-01-01", "2027-01-03", "2027-01-05"]),
        // 2027-01-01 is a Friday: */2 on the weekday is Sunday, Tuesday, Thursday and Saturday.
        ("0 0 * * */2", ["2027-01-02", "2027-01-03", "2027-01-05"]),
        ("0 9 */2 * 1", ["2027-01-11", "2027-01-25", "2027-02-01"]),
        ("0 9 1-7 * */2", ["2027-01-02", "2027-01-03", "2027-01-05"]),
    ])
    func dayStepsApply(cron: String, days: [String]) throws {
        let utc = TimeZone(identifier: "UTC")!
        let launches = try Schedule(parsing: cron).launches(from: 1_798_761_600, zone: utc, count: 3)
        #expect(launches.map { String(TemporalText.local(utcSeconds: $0.utcSeconds, zone: utc).prefix(10)) } == days)
    }
}
