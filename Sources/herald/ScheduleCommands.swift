import ArgumentParser
import Foundation
import HeraldCore
import HeraldDelivery
import HeraldEngine
import HeraldStore

/// `herald schedule …`: schedules on their own, without a store.
struct ScheduleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule", abstract: "Check a schedule and list when it launches.", subcommands: [Preview.self])

    struct Preview: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the launches of a schedule as ISO 8601 local times with their UTC offset.",
            discussion: """
                Forms: 'once at 2027-03-28 09:00', 'daily at 09:00[,17:30]', 'weekly on mon,thu at 08:30', \
                'monthly on day 15|last day|2nd tue|last fri at 10:00', \
                'every 15 minutes|2 hours [from 09:00 to 17:00] [on mon-fri]' (the window's end is exclusive), \
                or a 5-field cron expression ('0 9 * * 1-5'). A time that does not exist on a day (clocks go \
                forward) launches once, moved forward by the gap; one that occurs twice launches at its first \
                occurrence.
                """)
        @Argument(help: "The schedule, quoted.") var expression: String
        @Option(name: .customLong("time-zone"), help: ArgumentHelp("The IANA time zone it runs in.", valueName: "zone")) var timeZone:
            String
        @Option(name: .long, help: ArgumentHelp("Start at local midnight of this date (default: now).", valueName: "YYYY-MM-DD"))
        var from: String?
        @Option(name: .long, help: ArgumentHelp("How many launches to print (1–1000).", valueName: "n")) var count = 10
        @OptionGroup var output: OutputOptions

        func run() throws {
            let schedule = try parseSchedule(expression)
            let zone = try ianaZone(timeZone)
            guard (1...1000).contains(count) else { throw HeraldError(.invalidInput, "--count: expected 1 to 1000, found \(count)") }
            let start = try from.map { try startOfDay($0, zone: zone, option: "--from") } ?? Int(Date().timeIntervalSince1970)
            printLaunches(schedule.launches(from: start, zone: zone, count: count), schedule: schedule.text, zone: zone, json: output.json)
        }
    }
}

extension CampaignCommand {
    struct ScheduleSet: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "schedule", abstract: "Set, show or clear when a campaign launches.",
            discussion: """
                With a schedule (see 'herald schedule preview --help' for the forms), sets it and prints the next \
                launches; without one, shows the current schedule; --clear removes it. --from and --until take a \
                date (from its local midnight; --until through the end of that day) or a date-time.
                """)
        @Argument(help: "Campaign name or id.") var campaign: String
        @Argument(help: "The schedule, quoted.") var expression: String?
        @Option(name: .customLong("time-zone"), help: ArgumentHelp("Its IANA time zone (default: the campaign's).", valueName: "zone"))
        var timeZone: String?
        @Option(name: .long, help: ArgumentHelp("No launch before this date or date-time.", valueName: "when")) var from: String?
        @Option(name: .long, help: ArgumentHelp("No launch after this date, or from this date-time on.", valueName: "when"))
        var until: String?
        @Flag(name: .long, help: "Remove the campaign's schedule.") var clear = false
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            if clear {
                guard expression == nil, timeZone == nil, from == nil, until == nil else {
                    throw HeraldError(.invalidInput, "--clear: takes no schedule, --time-zone, --from or --until")
                }
                let (name, removed) = try store.openForWriting().clearSchedule(.typed(campaign))
                say(removed ? "'\(name)' has no schedule any more" : "'\(name)' had no schedule")
                return
            }
            guard let expression else {
                guard timeZone == nil, from == nil, until == nil else {
                    throw HeraldError(.invalidInput, "--time-zone, --from and --until need a schedule to set")
                }
                let db = try store.openForReading()
                let stored = try db.loadCampaign(.typed(campaign))
                try showSchedule(try db.schedule(campaignID: stored.id), name: stored.campaign.name, json: output.json)
                return
            }
            let schedule = try parseSchedule(expression)
            // Checked before the store is opened, so a bad value leaves it untouched.
            let db = try store.openForReading()
            let stored = try db.loadCampaign(.typed(campaign))
            let zoneName = timeZone ?? stored.campaign.timeZone
            let zone = try ianaZone(zoneName)
            let validFrom = try from.map { try instant($0, zone: zone, option: "--from", endOfDay: false) }
            let validUntil = try until.map { try instant($0, zone: zone, option: "--until", endOfDay: true) }
            try db.close()
            let value = CampaignSchedule(schedule: schedule, timeZone: zoneName, validFrom: validFrom, validUntil: validUntil)
            let name = try store.openForWriting().setSchedule(.typed(campaign), value)
            if !output.json { say("'\(name)' launches \(value.summary)") }
            try showSchedule(value, name: name, json: output.json, header: false)
        }
    }
}

/// Prints a campaign's schedule and its next five launches.
func showSchedule(_ schedule: CampaignSchedule?, name: String, json: Bool, header: Bool = true) throws {
    guard let schedule else {
        if json { printJSON(.object([("campaign", .string(name)), ("schedule", .null)])) } else { say("'\(name)' has no schedule") }
        return
    }
    let zone = try ianaZone(schedule.timeZone)
    let next = schedule.launches(after: Int(Date().timeIntervalSince1970), count: 5)
    if json {
        printJSON(
            .object([
                ("campaign", .string(name)), ("schedule", .string(schedule.schedule.text)), ("timeZone", .string(schedule.timeZone)),
                ("validFrom", schedule.validFrom.map { .string(TemporalText.local(utcSeconds: $0, zone: zone)) } ?? .null),
                ("validUntil", schedule.validUntil.map { .string(TemporalText.local(utcSeconds: $0, zone: zone)) } ?? .null),
                ("nextLaunches", launchesJSON(next, zone: zone)),
            ]))
        return
    }
    if header { say("'\(name)' launches \(schedule.summary)") }
    say(next.isEmpty ? "no launch to come" : "next launches:")
    for line in launchLines(next, zone: zone) { say("  " + line) }
}

func parseSchedule(_ text: String) throws -> Schedule {
    do { return try Schedule(parsing: text) } catch { throw HeraldError(.invalidInput, "schedule: \(error.message)") }
}

func ianaZone(_ name: String) throws -> TimeZone {
    guard let zone = TimeZone(identifier: name) else {
        throw HeraldError(
            .invalidInput,
            "--time-zone: '\(name)' is not an IANA time zone\(Names.suggestion(for: name, in: TimeZone.knownTimeZoneIdentifiers))"
        )
    }
    return zone
}

func startOfDay(_ date: String, zone: TimeZone, option: String) throws -> Int {
    guard let day = CivilDate.validDays(from: date) else {
        throw HeraldError(.invalidInput, "\(option): expected a date such as 2027-03-28, found '\(date)'")
    }
    return TemporalText.startOfDay(day, zone: zone)
}

/// A date (its local midnight, or the next one's for the end of a period) or a date-time
/// (with an offset, or read in `zone`).
func instant(_ text: String, zone: TimeZone, option: String, endOfDay: Bool) throws -> Int {
    if let day = CivilDate.validDays(from: text) { return TemporalText.startOfDay(endOfDay ? day + 1 : day, zone: zone) }
    guard let canonical = try? TemporalText.instant(text, zone: zone).text, let seconds = TemporalText.utcSeconds(canonical: canonical)
    else {
        throw HeraldError(
            .invalidInput, "\(option): expected a date such as 2027-03-28 or a date-time such as 2027-03-28T09:00, found '\(text)'")
    }
    return seconds
}

func launchLines(_ launches: [Schedule.Launch], zone: TimeZone) -> [String] {
    launches.map { launch in
        var line = TemporalText.local(utcSeconds: launch.utcSeconds, zone: zone)
        if let shifted = launch.shiftedFrom {
            line += "  (\(shifted.text) does not exist that day: the clocks go forward)"
        }
        return line
    }
}

func launchesJSON(_ launches: [Schedule.Launch], zone: TimeZone) -> JSONValue {
    .array(
        launches.map { launch in
            .object([
                ("at", .string(TemporalText.local(utcSeconds: launch.utcSeconds, zone: zone))),
                ("utc", .string(TemporalText.canonical(utcSeconds: launch.utcSeconds) ?? "")),
                ("shiftedFrom", launch.shiftedFrom.map { .string($0.text) } ?? .null),
            ])
        })
}

func printLaunches(_ launches: [Schedule.Launch], schedule: String, zone: TimeZone, json: Bool) {
    if json {
        printJSON(
            .object([
                ("schedule", .string(schedule)), ("timeZone", .string(zone.identifier)), ("launches", launchesJSON(launches, zone: zone)),
            ]))
        return
    }
    if launches.isEmpty { warn("'\(schedule)' has no launch from then on") }
    for line in launchLines(launches, zone: zone) { say(line) }
}

/// `herald scheduler`: launches due campaigns and resumes abandoned runs until told to stop.
struct SchedulerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scheduler",
        abstract: "Launch scheduled campaigns when they are due, continue waiting runs, and resume runs whose executor has gone.",
        discussion: """
            Each due occurrence is launched once, even with several schedulers on one store; after downtime the \
            latest missed occurrence is launched once, not once per missed tick. Runs whose Wait nodes have ended, \
            and runs another campaign's End node started, go on. SIGTERM or Ctrl-C halts the run in progress (its \
            current node is rolled back and left for the next executor) and exits 0. Scheduled launches are live \
            runs, which deliver through the configured providers, unless --dry-run.
            """)
    @Flag(name: .long, help: "Launch scheduled runs as dry runs, which count and send nothing.") var dryRun = false
    @Flag(name: .long, help: "Do one pass and exit.") var once = false
    @Option(name: .long, help: ArgumentHelp("Seconds between passes at most (1–3600).", valueName: "seconds")) var poll = 30
    @OptionGroup var store: StoreOptions
    @OptionGroup var config: ConfigOptions

    func run() throws {
        guard (1...3600).contains(poll) else { throw HeraldError(.invalidInput, "--poll: expected 1 to 3600 seconds, found \(poll)") }
        let delivery = try config.load()
        let db = try store.openForWriting()
        let stop = Interruption.SignalNumber()
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { stop.set(number) }
            source.resume()
            sources.append(source)
        }
        defer { for source in sources { source.cancel() } }
        var scheduler = Scheduler(store: db, dryRun: dryRun)
        if !dryRun { scheduler.delivery = try delivery.setup(storePath: db.path) }
        scheduler.halt = { stop.value != 0 }
        warn("scheduler: watching \(db.path)\(once ? " (one pass)" : "")")
        while stop.value == 0 {
            let now = Date()
            do {
                for action in try scheduler.tick(now: now) {
                    switch action {
                    case .launched(let campaign, let occurrence, let run):
                        say(
                            "launched '\(campaign)' for \(TemporalText.canonical(utcSeconds: occurrence) ?? "?"): run #\(run.summary.id) \(run.summary.state.rawValue)"
                        )
                    case .resumed(let run):
                        say("resumed run #\(run.summary.id) of '\(run.summary.campaignName)': \(run.summary.state.rawValue)")
                    case .skipped(let campaign, let reason):
                        warn("skipped '\(campaign)': \(reason)")
                    }
                }
            } catch let error as HeraldError where error.code == .cancelled && stop.value != 0 {
                warn("scheduler: \(error.message)")
                break
            }
            if once { break }
            // Sleep until the next launch or the poll interval, whichever comes first, waking
            // early on a signal.
            let next = try scheduler.nextLaunch(after: Date())
            let wake = min(next ?? .distantFuture, Date().addingTimeInterval(TimeInterval(poll)))
            while stop.value == 0 && Date() < wake { Thread.sleep(forTimeInterval: min(0.2, max(0.01, wake.timeIntervalSinceNow))) }
        }
        warn("scheduler: stopped")
    }
}
