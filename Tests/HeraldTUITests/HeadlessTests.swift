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
