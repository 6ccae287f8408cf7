import Foundation
import HeraldCore
import Testing

@Suite struct TemporalTests {
    let utc = TimeZone(identifier: "UTC")!
    let paris = TimeZone(identifier: "Europe/Paris")!
    let newYork = TimeZone(identifier: "America/New_York")!

    func instant(_ text: String, _ zone: TimeZone) throws -> String {
        try TemporalText.instant(text, zone: zone).text
    }

    /// The expected instant computed independently, with Foundation's ISO 8601 parser.
    func reference(_ text: String) -> String {
        let parser = ISO8601DateFormatter()
        parser.formatOptions = [.withInternetDateTime]
        let printer = ISO8601DateFormatter()
        printer.formatOptions = [.withInternetDateTime]
        printer.timeZone = utc
        return printer.string(from: parser.date(from: text)!)
    }

    @Test(arguments: [
        "2020-01-01T09:00:00Z", "2020-01-01T12:00:00+05:00", "2019-12-31T23:30:00-10:00", "2024-02-29T23:59:59+00:30",
        "1999-12-31T23:00:00-01:00", "2026-03-29T01:30:00+01:00", "0001-01-02T00:00:00+01:00",
    ])
    func offsetsBecomeTheUTCInstant(_ text: String) throws {
        #expect(try instant(text, paris) == reference(text))
        #expect(try TemporalText.instant(text, zone: paris).hadOffset)
    }

    @Test func shapesHeraldReads() throws {
        #expect(try instant("2020-01-01 10:00", utc) == "2020-01-01T10:00:00Z")
        #expect(try instant("2020-01-01T10:00:05", utc) == "2020-01-01T10:00:05Z")
        #expect(try instant("2020-01-01 10:00:05.000+01:00", utc) == "2020-01-01T09:00:05Z")
        #expect(try instant("2020-01-01", paris) == "2019-12-31T23:00:00Z")
        #expect(try !TemporalText.instant("2020-01-01 10:00", zone: utc).hadOffset)
    }

    @Test func localTimesAreReadInTheZoneAcrossDaylightSaving() throws {
        #expect(try instant("2026-07-14 12:00", paris) == "2026-07-14T10:00:00Z")
        #expect(try instant("2026-01-14 12:00", paris) == "2026-01-14T11:00:00Z")
        #expect(try instant("2026-07-04 12:00", newYork) == "2026-07-04T16:00:00Z")
        // 02:30 does not exist on 2027-03-28 in Paris: it moves forward by the gap (03:30+02:00).
        #expect(try instant("2027-03-28 02:30", paris) == "2027-03-28T01:30:00Z")
        // 02:30 happens twice on 2027-10-31: the first occurrence (+02:00).
        #expect(try instant("2027-10-31 02:30", paris) == "2027-10-31T00:30:00Z")
        #expect(try instant("2027-10-31 03:30", paris) == "2027-10-31T02:30:00Z")
    }

    @Test func whatCannotBeAnInstantIsAnError() {
        #expect(throws: TemporalText.InstantProblem.fractionOfASecond) { try instant("2020-01-01T10:00:00.5Z", utc) }
        #expect(throws: TemporalText.InstantProblem.notADateTime) { try instant("01/02/2020 10:00", utc) }
        #expect(throws: TemporalText.InstantProblem.notADateTime) { try instant("2020-02-30T10:00:00Z", utc) }
        #expect(throws: TemporalText.InstantProblem.outOfRange) { try instant("0001-01-01T00:30:00+01:00", utc) }
    }

    /// Random instants in random offsets: canonical texts order exactly as the instants do.
    @Test func canonicalTextOrdersLikeTime() throws {
        var random = SplitMix64(seed: 3339)
        var pairs: [(seconds: Int, text: String)] = []
        for _ in 0..<2_000 {
            let seconds = Int(random.next(below: 4_000_000_000)) - 1_000_000_000
            let offsetMinutes = Int(random.next(below: 26 * 4)) * 15 - 12 * 60
            let local = seconds + offsetMinutes * 60
            let days = local >= 0 ? local / 86_400 : -((-local + 86_399) / 86_400)
            let rest = local - days * 86_400
            let sign = offsetMinutes < 0 ? "-" : "+"
            func pad(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
            let text =
                CivilDate.text(days) + "T\(pad(rest / 3600)):\(pad(rest % 3600 / 60)):\(pad(rest % 60))"
                + "\(sign)\(pad(abs(offsetMinutes) / 60)):\(pad(abs(offsetMinutes) % 60))"
            let canonical = try instant(text, paris)
            #expect(canonical == TemporalText.canonical(utcSeconds: seconds))
            pairs.append((seconds, canonical))
        }
        let byTime = pairs.sorted { $0.seconds < $1.seconds }.map(\.text)
        let byText = pairs.map(\.text).sorted()
        #expect(byTime == byText)
    }
}

@Suite struct MonthArithmeticTests {
    @Test func addingMonthsKeepsTheDayOrTheMonthsLast() {
        let jan31 = CivilDate.days(year: 2027, month: 1, day: 31)
        #expect(CivilDate.text(CivilDate.adding(months: 1, to: jan31)) == "2027-02-28")
        #expect(CivilDate.text(CivilDate.adding(months: 13, to: jan31)) == "2028-02-29")
        #expect(CivilDate.text(CivilDate.adding(months: -1, to: jan31)) == "2026-12-31")
        #expect(CivilDate.text(CivilDate.adding(months: -25, to: jan31)) == "2024-12-31")
        #expect(CivilDate.monthName(3) == "March")
        #expect(Weekday(days: CivilDate.days(year: 2027, month: 3, day: 28)).name == "Sunday")
    }
}
