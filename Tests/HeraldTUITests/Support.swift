import Foundation
import HeraldCore
import HeraldStore
import HeraldTUI
import Testing

/// Compares text with a file in `__Snapshots__`. A missing snapshot is written and the test
/// fails, so CI never passes on a snapshot nobody looked at; `HERALD_RECORD=1` rewrites all.
func assertSnapshot(_ text: String, named name: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("__Snapshots__")
    let file = folder.appendingPathComponent(name + ".txt")
    let record = ProcessInfo.processInfo.environment["HERALD_RECORD"] == "1"
    let existing = try? String(contentsOf: file, encoding: .utf8)
    if record || existing == nil {
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try? Data((text + "\n").utf8).write(to: file)
        if !record {
            Issue.record("recorded a new snapshot \(name); check it and run again", sourceLocation: sourceLocation)
        }
        return
    }
    #expect(
        existing == text + "\n", "snapshot \(name) differs; rerun with HERALD_RECORD=1 if the change is intended",
        sourceLocation: sourceLocation)
}

/// The demo's welcome series, decoded from its campaign text.
let welcome: StoredCampaign = {
    let campaign = try! HeraldTUITestsData.campaign(named: "Welcome series")
    return StoredCampaign(id: 1, version: 1, campaign: campaign)
}()

enum HeraldTUITestsData {
    static func campaign(named name: String) throws -> Campaign {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let file = root.appendingPathComponent("Examples").appendingPathComponent(Names.slug(name) + ".json")
        return try CampaignFormat.decode(text: try String(contentsOf: file, encoding: .utf8))
    }
}
