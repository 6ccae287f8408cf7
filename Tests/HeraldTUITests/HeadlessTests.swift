import Foundation
import HeraldCore
import HeraldStore
import HeraldTUI
import Testing

/// The interface driven without a terminal, on a copy of sample.db: keys in, screen text out,
/// waiting for idle rather than sleeping.
@Suite struct HeadlessTests {
    static func sampleCopy() throws -> (Store, String) {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let folder = NSTemporaryDirectory() + "herald-headless-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/sample.db"
        try FileManager.default.copyItem(atPath: root.appendingPathComponent("sample.db").path, toPath: path)
        return (try Store.open(path: path), folder)
    }

    @Test func openACampaignAndRunItWithoutATerminal() throws {
        let (store, folder) = try Self.sampleCopy()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let session = HeadlessSession(store: store, width: 100, height: 30)
        #expect(session.waitUntilIdle())
        #expect(session.screen().contains("Welcome series"))
        session.press(.char("j"), .char("j"), .char("j"), .enter)  // Beach brochure, Departure reminder, Summer sale, Welcome series
        #expect(session.waitUntilIdle())
        #expect(session.screen().contains("New sign-ups"), "\(session.screen())")
        session.press(.char("r"))
        #expect(session.waitUntilIdle())
        let detail = try #require(try store.listRuns().first.map { try store.runDetail($0.id) })
        #expect(detail.summary.state == .completed)
        #expect(session.state.status == "dry run #\(detail.summary.id) completed")
        // The counts on the canvas are the run's, port by port.
        for edge in detail.edges {
            #expect(session.state.canvas?.run?.edgeCounts[PortRef(node: edge.fromNode, port: edge.port)] == edge.count)
        }
        #expect(session.state.runsInFlight.isEmpty)
        session.press(.escape)
        #expect(session.waitUntilIdle())
        #expect(session.state.screen == .campaignList)
        // The list shows what reached the message nodes: the welcome email's 138 and the split's three.
        let channels: Set<NodeID> = ["welcome", "push", "cityBreaks", "beaches"]
        let reached = detail.nodes.filter { channels.contains($0.nodeID) }.compactMap(\.inputCount).reduce(0, +)
        #expect(session.state.campaigns.first { $0.name == "Welcome series" }?.lastRunMessages == reached)
        #expect(session.screen().contains(Names.groupedCount(reached)))
        session.close()
    }

    /// The list shows each scheduled campaign's next launch in its own zone.
    /// The interface hosts the same delivery worker as the command line: a live run, asked for
    /// and confirmed, delivers to the configured outbox and shows what it sent; a broken
    /// configuration refuses the run, naming its key, before anything is written.
    @Test func aLiveRunFromTheInterfaceDeliversAndShowsWhatItSent() throws {
        let (store, folder) = try Self.sampleCopy()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let config = folder + "/herald.toml"
        try "[outbox]\ndirectory = \"\(folder)/out\"\n".write(toFile: config, atomically: true, encoding: .utf8)
        let session = HeadlessSession(store: store, width: 100, height: 30, deliveryConfig: config)
        defer { session.close() }
        #expect(session.waitUntilIdle())
        session.press(.char("j"), .char("j"), .char("j"), .enter)  // Welcome series
        #expect(session.waitUntilIdle())
        // Asked first; cancelling starts nothing.
        session.press(.char("R"))
        #expect(session.screen().contains("Start a live run of 'Welcome series'"), "\(session.screen())")
        session.press(.char("n"))
        #expect(session.waitUntilIdle())
        #expect(try store.listRuns().filter { !$0.dryRun }.isEmpty)

        session.press(.char("R"), .char("y"))
        #expect(session.waitUntilIdle())
        let run = try #require(try store.listRuns().first { !$0.dryRun })
        // The welcome e-mail went out; the rest of the campaign waits three days.
        #expect(run.state == .waiting)
        let counts = try store.ledger.counts(runID: run.id)
        let sent = counts.values.reduce(0) { $0 + $1[.sent] }
        #expect(sent > 0)
        let files = try FileManager.default.contentsOfDirectory(atPath: "\(folder)/out/email/run-\(run.id)")
        #expect(files.filter { $0.hasSuffix(".eml") }.count == sent)
        #expect(session.state.canvas?.run?.live == true)
        #expect(session.state.canvas?.run?.messages == counts)
        #expect(session.state.status.contains("live run #\(run.id) waiting: \(sent) sent"), "\(session.state.status)")
        #expect(session.state.runsInFlight.isEmpty)

        // A configuration that cannot work refuses the next live run, and writes nothing.
        try "[channels.email]\nprovider = \"pigeon\"\n".write(toFile: config, atomically: true, encoding: .utf8)
        let other = try #require(try store.listCampaigns().first { $0.name == "Summer sale" })
        let before = try store.listRuns().count
        session.press(.char("q"))
        #expect(session.waitUntilIdle())
        session.press(.char("k"), .enter)  // Summer sale, above Welcome series
        #expect(session.waitUntilIdle())
        #expect(session.state.canvas?.stored?.id == other.id)
        session.press(.char("R"), .char("y"))
        #expect(session.waitUntilIdle())
        #expect(session.state.status.contains("channels.email.provider"), "\(session.state.status)")
        #expect(try store.listRuns().count == before)
    }

    @Test func theListShowsNextLaunches() throws {
        let (store, folder) = try Self.sampleCopy()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let schedule = CampaignSchedule(schedule: try Schedule(parsing: "daily at 09:00"), timeZone: "Europe/Paris")
        _ = try store.setSchedule("Win-back", schedule)
        let session = HeadlessSession(store: store, width: 100, height: 30)
        #expect(session.waitUntilIdle())
        let screen = session.screen()
        #expect(screen.contains("NEXT LAUNCH"))
        let line = try #require(screen.split(separator: "\n").first { $0.contains("Win-back") })
        let expected = try #require(session.state.nextLaunches.values.first)
        #expect(session.state.nextLaunches.count == 1)
        #expect(expected.hasSuffix(" 09:00") && line.contains(expected), "\(line)")
        session.close()
    }
}
