import Foundation
import Testing

@Suite struct ScheduleCLITests {
    /// The example, as a user types it: the gap day launches at 03:30+02:00, and says why.
    @Test func previewPrintsLaunchesWithOffsets() throws {
        let result = try Herald.run([
            "schedule", "preview", "daily at 02:30", "--time-zone", "Europe/Paris", "--from", "2027-03-27", "--count", "3",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(lines[0] == "2027-03-27T02:30:00+01:00")
        #expect(lines[1].hasPrefix("2027-03-28T03:30:00+02:00  (02:30 does not exist that day"))
        #expect(lines[2] == "2027-03-29T02:30:00+02:00")

        let json = try Herald.run([
            "schedule", "preview", "every 15 minutes from 09:00 to 17:00 on mon-fri", "--time-zone", "Europe/Paris", "--from",
            "2027-03-26", "--count", "33", "--json",
        ])
        #expect(json.status == 0, "\(json.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let launches = try #require(object["launches"] as? [[String: Any]])
        #expect(launches.count == 33)
        #expect(launches[31]["at"] as? String == "2027-03-26T16:45:00+01:00")
        #expect(launches[31]["utc"] as? String == "2027-03-26T15:45:00Z")
        #expect(launches[32]["at"] as? String == "2027-03-29T09:00:00+02:00")
    }

    @Test(arguments: [
        (["schedule", "preview", "daily at 9", "--time-zone", "Europe/Paris"], "schedule: expected a time such as 09:00"),
        (
            ["schedule", "preview", "daily at 09:00", "--time-zone", "Europe/Pariss"],
            "--time-zone: 'Europe/Pariss' is not an IANA time zone"
        ),
        (["schedule", "preview", "daily at 09:00", "--time-zone", "UTC", "--from", "2027-13-01"], "--from: expected a date"),
        (["schedule", "preview", "daily at 09:00", "--time-zone", "UTC", "--count", "0"], "--count: expected 1 to 1000"),
    ])
    func badInputIsRefusedWithStatus2(arguments: [String], message: String) throws {
        let result = try Herald.run(arguments)
        #expect(result.status == 2)
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }

    /// A campaign's schedule is stored, shown with its next launches by `campaign show`, and
    /// cleared; refusals leave the store as it was.
    @Test func campaignsKeepTheirSchedule() throws {
        let scratch = Scratch()
        let db = try Herald.sampleCopy(in: scratch.path)
        let set = try Herald.run([
            "campaign", "schedule", "Win-back", "weekly on mon,thu at 08:30", "--time-zone", "Europe/Paris", "--from", "2031-01-01",
            "--until", "2031-01-31", "--db", db,
        ])
        #expect(set.status == 0, "\(set.stderr)")
        #expect(set.stdout.contains("'Win-back' launches weekly on mon,thu at 08:30 in Europe/Paris, from 2031-01-01T00:00:00+01:00"))
        // 2031-01-02 is a Thursday.
        #expect(set.stdout.contains("  2031-01-02T08:30:00+01:00\n  2031-01-06T08:30:00+01:00"), "\(set.stdout)")

        let show = try Herald.run(["campaign", "show", "Win-back", "--db", db])
        #expect(show.status == 0, "\(show.stderr)")
        #expect(show.stdout.contains("next launches:"))
        let launchLines = show.stdout.split(separator: "\n").filter { $0.hasPrefix("  2031-") }
        #expect(launchLines.count == 5)
        #expect(launchLines.last == "  2031-01-16T08:30:00+01:00")

        let asJSON = try Herald.run(["campaign", "schedule", "Win-back", "--db", db, "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(asJSON.stdout.utf8)) as? [String: Any])
        #expect(object["schedule"] as? String == "weekly on mon,thu at 08:30")
        #expect(object["validUntil"] as? String == "2031-02-01T00:00:00+01:00")

        #expect((object["nextLaunches"] as? [Any])?.count == 5)

        // The period's end is respected: Monday 27 and Thursday 30 January, nothing after the 31st.
        let short = try Herald.run([
            "campaign", "schedule", "Win-back", "weekly on mon,thu at 08:30", "--from", "2031-01-27", "--until", "2031-01-31", "--db",
            db, "--json",
        ])
        let shortObject = try #require(try JSONSerialization.jsonObject(with: Data(short.stdout.utf8)) as? [String: Any])
        let shortLaunches = try #require(shortObject["nextLaunches"] as? [[String: Any]])
        #expect(shortLaunches.compactMap { $0["at"] as? String } == ["2031-01-27T08:30:00+00:00", "2031-01-30T08:30:00+00:00"])
        // Without --time-zone the campaign's own zone is used.
        #expect(shortObject["timeZone"] as? String == "Europe/London")

        let bytes = try Data(contentsOf: URL(fileURLWithPath: db))
        for bad in [
            ["campaign", "schedule", "Win-back", "weekly on someday at 08:30", "--db", db],
            ["campaign", "schedule", "Win-back", "daily at 08:30", "--time-zone", "Mars/Olympus", "--db", db],
            ["campaign", "schedule", "Win-back", "daily at 08:30", "--from", "2031-02-01", "--until", "2031-01-01", "--db", db],
            ["campaign", "schedule", "Nope", "daily at 08:30", "--db", db],
        ] {
            let refused = try Herald.run(bad)
            #expect(refused.status == 2, "\(bad): \(refused.stderr)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: db)) == bytes, "\(bad) changed the store")
        }

        let cleared = try Herald.run(["campaign", "schedule", "Win-back", "--clear", "--db", db])
        #expect(cleared.status == 0 && cleared.stdout.contains("has no schedule any more"), "\(cleared.stderr)")
        let after = try Herald.run(["campaign", "show", "Win-back", "--db", db])
        #expect(after.stdout.contains("'Win-back' has no schedule"))
    }
}
