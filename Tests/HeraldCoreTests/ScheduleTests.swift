import Foundation
import HeraldCore
import Testing

@Suite struct ScheduleTests {
    let paris = TimeZone(identifier: "Europe/Paris")!
    let newYork = TimeZone(identifier: "America/New_York")!

    /// The first `count` launches from local midnight of `date`, as ISO 8601 with offsets.
    func launches(_ text: String, _ zone: TimeZone, from date: String, count: Int = 5) throws -> [String] {
        let schedule = try Schedule(parsing: text)
        let start = TemporalText.startOfDay(CivilDate.days(from: date)!, zone: zone)
        return schedule.launches(from: start, zone: zone, count: count).map { TemporalText.local(utcSeconds: $0.utcSeconds, zone: zone) }
    }

    @Test(arguments: [
        ("daily at 09:00", "daily at 09:00"),
        ("Daily  at 9:00,17:30", "daily at 09:00,17:30"),
        ("weekly on thu,mon at 08:30", "weekly on mon,thu at 08:30"),
        ("weekly on mon-fri at 08:30", "weekly on mon-fri at 08:30"),
        ("weekly on mon,tue,wed,sat at 08:30", "weekly on mon-wed,sat at 08:30"),
        ("monthly on last day at 10:00", "monthly on last day at 10:00"),
        ("monthly on 2nd tue at 10:00", "monthly on 2nd tue at 10:00"),
        ("monthly on 15th at 10:00", "monthly on day 15 at 10:00"),
        ("monthly on day 1 at 10:00", "monthly on day 1 at 10:00"),
        ("monthly on last fri at 18:00", "monthly on last fri at 18:00"),
        ("every 15 minutes from 09:00 to 17:00 on mon-fri", "every 15 minutes from 09:00 to 17:00 on mon-fri"),
        ("every 1 hour", "every 1 hour"),
        ("every 2 hours from 08:00 to 24:00", "every 2 hours from 08:00 to 24:00"),
        ("once at 2027-03-28 09:00", "once at 2027-03-28 09:00"),
        ("once at 2027-03-28T09:00", "once at 2027-03-28 09:00"),
        ("0  9 * * 1-5", "0 9 * * 1-5"),
    ])
    func readsAndWritesOneCanonicalForm(text: String, canonical: String) throws {
        let schedule = try Schedule(parsing: text)
        #expect(schedule.text == canonical)
        #expect(try Schedule(parsing: schedule.text) == schedule)
    }

    @Test(arguments: [
        ("", "empty"),
        ("hourly at 09:00", "expected 'once', 'daily'"),
        ("daily 09:00", "expected 'at' after 'daily', found '09:00'"),
        ("daily at 25:00", "between 00:00 and 23:59"),
        ("daily at 9h", "expected a time such as 09:00"),
        ("weekly on moon at 08:30", "expected weekdays"),
        ("monthly on 6th tue at 10:00", "1st to 5th weekday"),
        ("monthly on the 6th at 10:00", "expected 'day N'"),
        ("monthly on day 32 at 10:00", "1–31"),
        ("every 0 minutes", "whole number"),
        ("every 25 hours", "at most 24 hours"),
        ("every 15 seconds", "expected 'minutes' or 'hours'"),
        ("every 15 minutes from 17:00 to 09:00", "before or when it starts"),
        ("daily at 09:00 please", "unexpected 'please'"),
        ("once at 2027-02-30 09:00", "expected a date"),
        ("0 9 * *", "5 fields"),
        ("60 9 * * *", "cron minute: expected 0–59"),
        ("0 9 30 feb *", "never launches"),
        ("0 9 * * 5-1", "runs backwards"),
    ])
    func refusesWhatItCannotRead(text: String, message: String) {
        do {
            let schedule = try Schedule(parsing: text)
            Issue.record("'\(text)' was read as '\(schedule.text)'")
        } catch {
            #expect(error.message.contains(message), "'\(text)': \(error.message)")
        }
    }

    /// The issue's examples: a time in the spring-forward gap launches once, moved forward by the
    /// gap; a time that occurs twice launches once, at its first occurrence.
    @Test func daylightSavingInParis() throws {
        #expect(
            try launches("daily at 02:30", paris, from: "2027-03-27", count: 3) == [
                "2027-03-27T02:30:00+01:00", "2027-03-28T03:30:00+02:00", "2027-03-29T02:30:00+02:00",
            ])
        #expect(
            try launches("daily at 02:30", paris, from: "2027-10-30", count: 3) == [
                "2027-10-30T02:30:00+02:00", "2027-10-31T02:30:00+02:00", "2027-11-01T02:30:00+01:00",
            ])
        let shifted = try Schedule(parsing: "daily at 02:30").launches(
            from: TemporalText.startOfDay(CivilDate.days(from: "2027-03-28")!, zone: paris), zone: paris, count: 1)
        #expect(shifted.first?.shiftedFrom == LocalTime(hour: 2, minute: 30))
    }

    @Test func daylightSavingInNewYork() throws {
        // 2027-03-14 02:00 → 03:00; 2027-11-07 02:00 → 01:00.
        #expect(
            try launches("daily at 02:15", newYork, from: "2027-03-13", count: 3) == [
                "2027-03-13T02:15:00-05:00", "2027-03-14T03:15:00-04:00", "2027-03-15T02:15:00-04:00",
            ])
        #expect(
            try launches("daily at 01:30", newYork, from: "2027-11-06", count: 3) == [
                "2027-11-06T01:30:00-04:00", "2027-11-07T01:30:00-04:00", "2027-11-08T01:30:00-05:00",
            ])
    }

    /// Every half hour through both transition nights: each launch once, in order, and none of
    /// the gap's times twice.
    @Test func intervalsAcrossTransitionsNeverRepeatALaunch() throws {
        for (zone, day) in [(paris, "2027-03-28"), (paris, "2027-10-31"), (newYork, "2027-03-14"), (newYork, "2027-11-07")] {
            let all = try Schedule(parsing: "every 30 minutes").launches(
                from: TemporalText.startOfDay(CivilDate.days(from: day)!, zone: zone), zone: zone, count: 48)
            let instants = all.map(\.utcSeconds)
            #expect(instants == instants.sorted() && Set(instants).count == instants.count, "\(zone.identifier) \(day)")
            // A 23-hour day has 46 half-hours, a 25-hour day 48 distinct wall-clock times (the
            // repeated hour launches once).
            let nextDay = TemporalText.startOfDay(CivilDate.days(from: day)! + 1, zone: zone)
            let thatDay = instants.filter { $0 < nextDay }.count
            #expect(thatDay == (day.contains("-03-") ? 46 : 48), "\(zone.identifier) \(day): \(thatDay)")
        }
    }

    @Test func windowsEndBeforeTheirEndTime() throws {
        let day = try launches("every 15 minutes from 09:00 to 17:00 on mon-fri", paris, from: "2027-03-26", count: 40)
        // 2027-03-26 is a Friday: 32 launches 09:00…16:45, then Monday.
        #expect(day.first == "2027-03-26T09:00:00+01:00")
        #expect(day[31] == "2027-03-26T16:45:00+01:00")
        #expect(day[32] == "2027-03-29T09:00:00+02:00")
    }

    @Test func monthlyDays() throws {
        #expect(
            try launches("monthly on last day at 10:00", paris, from: "2027-01-15", count: 3) == [
                "2027-01-31T10:00:00+01:00", "2027-02-28T10:00:00+01:00", "2027-03-31T10:00:00+02:00",
            ])
        #expect(try launches("monthly on last day at 10:00", paris, from: "2028-02-01", count: 1) == ["2028-02-29T10:00:00+01:00"])
        #expect(
            try launches("monthly on 2nd tue at 10:00", paris, from: "2027-01-01", count: 3) == [
                "2027-01-12T10:00:00+01:00", "2027-02-09T10:00:00+01:00", "2027-03-09T10:00:00+01:00",
            ])
        // Months without a 31st have no launch.
        #expect(
            try launches("monthly on day 31 at 08:00", paris, from: "2027-01-01", count: 3) == [
                "2027-01-31T08:00:00+01:00", "2027-03-31T08:00:00+02:00", "2027-05-31T08:00:00+02:00",
            ])
        #expect(
            try launches("monthly on last fri at 18:00", paris, from: "2027-01-01", count: 2) == [
                "2027-01-29T18:00:00+01:00", "2027-02-26T18:00:00+01:00",
            ])
        // A fifth Monday exists only in some months.
        #expect(
            try launches("monthly on 5th mon at 07:00", paris, from: "2027-01-01", count: 2) == [
                "2027-03-29T07:00:00+02:00", "2027-05-31T07:00:00+02:00",
            ])
    }

    @Test func onceLaunchesOnceAndNotAfterItsTime() throws {
        #expect(try launches("once at 2027-03-28 09:00", paris, from: "2027-01-01") == ["2027-03-28T09:00:00+02:00"])
        #expect(try launches("once at 2027-03-28 09:00", paris, from: "2027-03-29").isEmpty)
    }

    /// Cron expressions launch exactly when the equivalent textual schedule does.
    @Test func cronMatchesTheTextualForms() throws {
        for (cron, text) in [
            ("0 9 * * 1-5", "weekly on mon-fri at 09:00"), ("*/15 9-16 * * mon-fri", "every 15 minutes from 09:00 to 17:00 on mon-fri"),
            ("30 8 * * 1,4", "weekly on mon,thu at 08:30"), ("0 10 1 * *", "monthly on day 1 at 10:00"),
            ("0 0,12 * * *", "daily at 00:00,12:00"), ("0 9 * * 0,7", "weekly on sun at 09:00"),
        ] {
            #expect(
                try launches(cron, paris, from: "2027-03-01", count: 60) == launches(text, paris, from: "2027-03-01", count: 60), "\(cron)")
        }
        // Both day fields restricted: either one launches (Vixie cron).
        #expect(
            try launches("0 12 13 * fri", paris, from: "2027-08-01", count: 4) == [
                "2027-08-06T12:00:00+02:00", "2027-08-13T12:00:00+02:00", "2027-08-20T12:00:00+02:00", "2027-08-27T12:00:00+02:00",
            ])
        #expect(try launches("0 12 13 * fri", paris, from: "2027-09-01", count: 3).contains("2027-09-13T12:00:00+02:00"))
    }

    /// Launches after an instant in the middle of a day start with the next one, not the day's first.
    @Test func launchesStartAtTheGivenInstant() throws {
        let schedule = try Schedule(parsing: "daily at 09:00,17:00")
        let noon = TemporalText.startOfDay(CivilDate.days(from: "2027-06-01")!, zone: paris) + 12 * 3600
        let next = schedule.launches(from: noon, zone: paris, count: 2).map { TemporalText.local(utcSeconds: $0.utcSeconds, zone: paris) }
        #expect(next == ["2027-06-01T17:00:00+02:00", "2027-06-02T09:00:00+02:00"])
        let bounded = schedule.launches(from: noon, zone: paris, count: 10, before: noon + 24 * 3600)
        #expect(bounded.count == 2)
    }
}

@Suite struct ScheduleWeekdayTests {
    @Test func weekdaysOfEachForm() throws {
        #expect(try Schedule(parsing: "daily at 09:00").weekdays == .everyDay)
        #expect(try Schedule(parsing: "weekly on mon,thu at 08:30").weekdays?.text == "mon,thu")
        #expect(try Schedule(parsing: "every 2 hours on sat-sun").weekdays?.text == "sat,sun")
        #expect(try Schedule(parsing: "monthly on day 1 at 10:00").weekdays == nil)
        #expect(try Schedule(parsing: "once at 2027-03-28 09:00").weekdays == nil)
        #expect(try Schedule(parsing: "0 9 * * 1-5").weekdays == nil)
    }

    @Test func onOtherWeekdays() throws {
        let workdays = WeekdaySet(Set(Weekday.allCases.filter { $0 < .saturday }))
        #expect(try Schedule(parsing: "daily at 09:00,17:30").onWeekdays(workdays)?.text == "weekly on mon-fri at 09:00,17:30")
        #expect(try Schedule(parsing: "weekly on mon at 09:00").onWeekdays(.everyDay)?.text == "daily at 09:00")
        #expect(try Schedule(parsing: "weekly on mon at 09:00").onWeekdays(WeekdaySet([])) == nil)
        #expect(try Schedule(parsing: "monthly on last fri at 10:00").onWeekdays(workdays) == nil)
        let interval = try Schedule(parsing: "every 15 minutes from 09:00 to 17:00 on mon-fri")
        #expect(interval.onWeekdays(.everyDay)?.text == "every 15 minutes from 09:00 to 17:00")
    }
}
