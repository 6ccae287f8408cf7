import Foundation
import HeraldCore
import Testing

/// Send windows read in each recipient's zone: when a message reached outside its window may go.
@Suite struct SendWindowTests {
    func utc(_ text: String) -> Int { TemporalText.utcSeconds(canonical: text)! }
    func zone(_ name: String) -> TimeZone { TimeZone(identifier: name)! }

    @Test func parsesAndWritesItsOneForm() throws {
        let w = try SendWindow(parsing: "09:00-20:00 mon-fri")
        #expect(w.text == "09:00-20:00 mon-fri")
        #expect(try SendWindow(parsing: "08:00-24:00").text == "08:00-24:00")
        for bad in ["20:00-09:00", "9-17", "09:00-20:00 moon", "", "09:00-20:00 mon tue", "25:00-26:00"] {
            #expect(throws: ScheduleSyntaxError.self) { try SendWindow(parsing: bad) }
        }
    }

    /// The same instant, 2027-03-10T12:00:00Z, in a dozen zones: open where it is 09:00–20:00
    /// local on a weekday, otherwise the next local 09:00 on a weekday.
    @Test func opensAtTheNextLocalOpeningInEachZone() throws {
        let w = try SendWindow(parsing: "09:00-20:00 mon-fri")
        let now = utc("2027-03-10T12:00:00Z")  // a Wednesday
        let expected: [(String, String?)] = [
            ("UTC", nil),
            ("Europe/Paris", nil),  // 13:00
            ("Europe/London", nil),  // 12:00
            ("America/New_York", nil),  // 07:00 EST -> opens 09:00 EST = 14:00Z
            ("America/Los_Angeles", "2027-03-10T17:00:00Z"),  // 04:00 PST -> 09:00 PST
            ("Asia/Tokyo", "2027-03-11T00:00:00Z"),  // 21:00 -> tomorrow 09:00 JST
            ("Australia/Sydney", "2027-03-10T22:00:00Z"),  // 23:00 AEDT -> Thu 09:00 AEDT
            ("Asia/Kolkata", nil),  // 17:30
            ("Pacific/Auckland", "2027-03-10T20:00:00Z"),  // Thu 01:00 NZDT -> Thu 09:00 NZDT
            ("America/Sao_Paulo", nil),  // 09:00
            ("Asia/Kathmandu", nil),  // 17:45
            ("Pacific/Honolulu", "2027-03-10T19:00:00Z"),  // 02:00 HST -> 09:00 HST
        ]
        for (name, opening) in expected {
            let got = w.nextOpening(after: now, zone: zone(name)).flatMap { TemporalText.canonical(utcSeconds: $0) }
            if name == "America/New_York" {
                #expect(got == "2027-03-10T14:00:00Z", "\(name)")
            } else {
                #expect(got == opening, "\(name)")
            }
        }
    }

    @Test func skipsClosedWeekdaysAndClosesAtItsEnd() throws {
        let w = try SendWindow(parsing: "09:00-20:00 mon-fri")
        let paris = zone("Europe/Paris")
        // Friday 20:00 local is closed (the end is exclusive): Monday 09:00.
        #expect(w.nextOpening(after: utc("2027-03-12T19:00:00Z"), zone: paris) == utc("2027-03-15T08:00:00Z"))
        #expect(w.nextOpening(after: utc("2027-03-12T18:59:59Z"), zone: paris) == nil)
        // Saturday noon: Monday.
        #expect(w.nextOpening(after: utc("2027-03-13T11:00:00Z"), zone: paris) == utc("2027-03-15T08:00:00Z"))
        // 08:59:59 local waits one second.
        #expect(w.nextOpening(after: utc("2027-03-15T07:59:59Z"), zone: paris) == utc("2027-03-15T08:00:00Z"))
    }

    /// Spring forward (Paris, 2027-03-28 02:00 → 03:00) and fall back (2027-10-31 03:00 → 02:00).
    @Test func daylightSavingChangesInBothDirections() throws {
        let paris = zone("Europe/Paris")
        let night = try SendWindow(parsing: "02:30-04:00")
        // 02:30 does not exist on the spring day: read as the schedule reads it, one hour on (03:30, 01:30Z).
        #expect(night.nextOpening(after: utc("2027-03-28T00:00:00Z"), zone: paris) == utc("2027-03-28T01:30:00Z"))
        let day = try SendWindow(parsing: "09:00-20:00")
        // Before the change 09:00 is 08:00Z (UTC+1); the day after, 07:00Z (UTC+2).
        #expect(day.nextOpening(after: utc("2027-03-27T21:00:00Z"), zone: paris) == utc("2027-03-28T07:00:00Z"))
        #expect(day.nextOpening(after: utc("2027-03-27T05:00:00Z"), zone: paris) == utc("2027-03-27T08:00:00Z"))
        // Fall back: 09:00 on 2027-10-31 is 08:00Z again (UTC+1); the day before 07:00Z.
        #expect(day.nextOpening(after: utc("2027-10-30T20:00:00Z"), zone: paris) == utc("2027-10-31T08:00:00Z"))
        #expect(day.nextOpening(after: utc("2027-10-30T05:00:00Z"), zone: paris) == utc("2027-10-30T07:00:00Z"))
        // New York changes on other days (2027-03-14): 09:00 EDT is 13:00Z.
        #expect(day.nextOpening(after: utc("2027-03-14T06:00:00Z"), zone: zone("America/New_York")) == utc("2027-03-14T13:00:00Z"))
    }

    @Test func ratesAndRetries() throws {
        #expect(DeliveryRate(parsing: "200/s") == DeliveryRate(messages: 200, seconds: 1))
        #expect(DeliveryRate(parsing: "50/min")?.perSecond == 50.0 / 60)
        #expect(DeliveryRate(parsing: "0/s") == nil && DeliveryRate(parsing: "fast") == nil && DeliveryRate(parsing: "3/week") == nil)
        let retry = RetryPolicy(attempts: 3, first: 30, max: 100)
        #expect(retry.delay(after: 1, jitter: 0) == 30)
        #expect(retry.delay(after: 2, jitter: 0) == 60)
        #expect(retry.delay(after: 2, jitter: 0.5) == 66)
        #expect(retry.delay(after: 3, jitter: 0) == nil)  // no attempt left
        #expect(RetryPolicy(attempts: 9, first: 30, max: 100).delay(after: 5, jitter: 0) == 100)
        #expect(retry.delay(after: 1, jitter: 0, retryAfter: 90) == 90)
    }

    @Test func messageStatesMoveOnlyAsDeclared() {
        #expect(MessageState.queued.canMove(to: .claimed) && MessageState.claimed.canMove(to: .sent))
        #expect(MessageState.claimed.canMove(to: .unknown) && MessageState.unknown.canMove(to: .queued))
        #expect(!MessageState.sent.canMove(to: .queued) && !MessageState.unknown.canMove(to: .claimed))
        #expect(!MessageState.excluded.canMove(to: .queued) && !MessageState.failed.canMove(to: .claimed))
    }
}

@Suite struct SMSKeywordTests {
    @Test func optOutAndOptInKeywordsAreReadInAnyCaseWithSurroundingSpaces() {
        for text in [
            "STOP", " stop ", "Stop.", "stop!", "QUIT", "end", "Revoke", "OPT OUT", "opt   out", "Cancel", "unsubscribe", "STOPALL",
            "optout",
            "\tSTOP\n",
        ] {
            #expect(SMSKeyword(message: text) == .optOut, "\(text)")
        }
        for text in ["START", " start", "Unstop"] { #expect(SMSKeyword(message: text) == .optIn, "\(text)") }
        for text in ["", "stop by tomorrow", "please STOP", "STARTS", "yes"] {
            #expect(SMSKeyword(message: text) == nil, "\(text)")
        }
    }
}
