import Foundation
import HeraldCore
import HeraldStore
import HeraldTUI
import Testing

/// The interface shares its store with other processes: what it saves after another process
/// wrote and went away is in the file, read back by a separate `sqlite3` process.
@Suite(.serialized) struct SharedStoreTests {
    /// Runs `sql` in the `sqlite3` shell on `db`, a process of its own; its trimmed output.
    @discardableResult
    static func sqlite(_ db: String, _ sql: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = [db, sql]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw StoreTestFailure("sqlite3 failed on \(db): \(sql)") }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The files this process holds open that were deleted under it (a `-wal` or `-shm` that
    /// another process checkpointed away because it saw no lock held here).
    static func deletedFilesHeld(under folder: String) -> [String] {
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return fds.compactMap { fd in
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)") else { return nil }
            return target.hasPrefix(folder) && target.hasSuffix("(deleted)") ? target : nil
        }
    }

    /// Copies the first campaign of the list under the name the prompt offers.
    static func copyFirstCampaign(_ session: HeadlessSession) {
        session.press(.char("g"), .char("y"))
        session.press(.enter)
        #expect(session.waitUntilIdle())
    }

    @Test func aSaveAfterAnotherProcessWroteAndLeftIsInTheFile() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let folder = NSTemporaryDirectory() + "herald-shared-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/sample.db"
        try FileManager.default.copyItem(atPath: root.appendingPathComponent("sample.db").path, toPath: path)
        let before = Int(try Self.sqlite(path, "SELECT count(*) FROM herald_campaigns")) ?? -1

        // The interface opens the store to look, as `herald` does, and becomes writable with
        // its first change while its reading connections stay open.
        let reading = try Store.openForReading(path: path)
        let session = HeadlessSession(store: reading, width: 100, height: 30)
        #expect(session.waitUntilIdle())
        Self.copyFirstCampaign(session)
        #expect(session.state.status.contains("copied"), "\(session.state.status)")

        // Another process writes and exits: the last connection it knows of, it checkpoints
        // and removes the WAL unless it sees this process's locks.
        try Self.sqlite(path, "CREATE TABLE elsewhere(a); INSERT INTO elsewhere VALUES (1);")
        #expect(Self.deletedFilesHeld(under: folder) == [])

        // The interface saves again; then it goes away.
        Self.copyFirstCampaign(session)
        #expect(session.state.status.contains("copied"), "\(session.state.status)")
        session.close()
        try reading.close()

        #expect(Int(try Self.sqlite(path, "SELECT count(*) FROM herald_campaigns")) == before + 2)
        #expect(try Self.sqlite(path, "SELECT a FROM elsewhere") == "1")
        #expect(try Self.sqlite(path, "PRAGMA integrity_check") == "ok")
    }
}

struct StoreTestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// While the screen is too small and shows only its notice, keys act on nothing hidden.
@Suite struct TooSmallScreenTests {
    @Test func onlyQuitAndRedrawActWhileTheNoticeShows() throws {
        let (store, folder) = try HeadlessTests.sampleCopy()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let session = HeadlessSession(store: store, width: 100, height: 30)
        #expect(session.waitUntilIdle())
        let before = try store.listCampaigns().count
        session.resize(width: 100, height: 14)
        #expect(session.screen().contains("Herald needs at least 60×20 cells"))
        // g d y deleted the first campaign from the hidden list before.
        session.press(.char("g"), .char("d"), .char("y"), .char("n"), .enter)
        #expect(session.waitUntilIdle())
        #expect(session.state.modes.isEmpty)
        #expect(try store.listCampaigns().count == before)
        #expect(session.state.screen == .campaignList)
        // Enlarged again, the list is as it was; Q on the small screen quits.
        session.resize(width: 100, height: 30)
        #expect(session.screen().contains("Welcome series"))
        session.resize(width: 50, height: 30)
        session.press(.char("Q"))
        #expect(session.state.quit)
    }
}

/// The list acts on the campaign it shows, by id, whatever the others are named.
@Suite struct ListByIDTests {
    @Test func deletingFromTheListDeletesTheCampaignSelectedNotOneNamedLikeItsID() throws {
        let (store, folder) = try HeadlessTests.sampleCopy()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let first = try #require(try store.listCampaigns().first)
        var impostor = try store.loadCampaign(id: first.id).campaign
        impostor.name = String(first.id)
        let saved = try store.saveCampaign(impostor, replace: false)
        let session = HeadlessSession(store: store, width: 100, height: 30)
        #expect(session.waitUntilIdle())
        // The list is sorted by name: the campaign named with digits comes first, then `first`.
        session.press(.char("g"), .char("j"))
        #expect(session.state.selectedCampaign?.id == first.id)
        session.press(.char("d"), .char("y"))
        #expect(session.waitUntilIdle())
        let ids = Set(try store.listCampaigns().map(\.id))
        #expect(!ids.contains(first.id) && ids.contains(saved.id))
    }
}

/// Words that told a person something untrue.
@Suite struct TruthfulWordsTests {
    @Test func theProblemsPanelOfASavedVersionDoesNotAskToSaveIt() throws {
        let (store, folder) = try HeadlessTests.sampleCopy()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let session = HeadlessSession(store: store, width: 100, height: 30)
        #expect(session.waitUntilIdle())
        session.press(.char("g"), .enter)
        #expect(session.waitUntilIdle())
        session.press(.char("v"))
        #expect(session.screen().contains("this version is saved and validates"), "\(session.screen())")
        #expect(!session.screen().contains("w saves it"))
        session.close()
    }
}

extension TruthfulWordsTests {
    @Test func theKeyBarOfAMultiLineFieldSaysWhatFinishesIt() throws {
        let widgets = FieldWidgetTests()
        let (session, folder) = try widgets.canvas(selecting: "welcome")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        session.press(.enter)
        try widgets.select(session, "text")
        session.press(.char("e"))
        let bar = session.screen().split(separator: "\n").last.map(String.init) ?? ""
        #expect(bar.contains("^S  done") && !bar.contains("enter  done"), "\(bar)")
        session.press(.enter)
        #expect(try widgets.form(session).editing?.text.hasSuffix("\n") == true)
        session.press(.ctrl("s"))
        #expect(try widgets.form(session).editing == nil)
        try widgets.select(session, "subject")
        session.press(.char("e"))
        #expect(session.screen().split(separator: "\n").last?.contains("enter  done") == true)
        session.close()
    }
}

extension TruthfulWordsTests {
    @Test func theListMarksACampaignWithAKeptDraft() throws {
        let (store, folder) = try HeadlessTests.sampleCopy()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let stored = try store.loadCampaign("Win-back")
        var edited = stored.campaign
        edited.description = "edited, not saved"
        try store.keepDraft(Draft(key: DraftKey("test"), campaignID: stored.id, baseVersion: stored.version, campaign: edited))
        let session = HeadlessSession(store: store, width: 100, height: 30)
        #expect(session.waitUntilIdle())
        let screen = session.screen()
        #expect(screen.contains("Win-back (draft)"), "\(screen)")
        #expect(!screen.contains("Welcome series (draft)"))
        session.close()
    }
}

/// The inspector leaves nothing of a node out: every setting, and which node feeds each input.
@Suite struct InspectorTests {
    func inspect(_ campaign: String, _ node: NodeID) throws -> String {
        let (session, folder) = try FieldWidgetTests().canvas(of: campaign, selecting: node, width: 120, height: 40)
        defer {
            session.close()
            try? FileManager.default.removeItem(atPath: folder)
        }
        session.press(.char("i"))
        return session.screen()
    }

    @Test func aDeduplicationShowsItsPreference() throws {
        let screen = try inspect("Beach brochure", "households")
        #expect(screen.contains(#"prefer: {"highest":"lifetime_value"}"#), "\(screen)")
        #expect(screen.contains(#"by: ["postal_address"]"#))
    }

    @Test func aCombineShowsWhichInputIsThePrimary() throws {
        let screen = try inspect("Summer sale", "exclude")
        #expect(screen.contains("operation: exclusion"), "\(screen)")
        #expect(screen.contains("input primary ← "), "\(screen)")
        #expect(screen.contains("input secondary ← "))
    }
}

extension TruthfulWordsTests {
    @Test func aLongLineWrapsWhileItIsTyped() throws {
        let widgets = FieldWidgetTests()
        let (session, folder) = try widgets.canvas(selecting: "welcome")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        session.press(.enter)
        try widgets.select(session, "text")
        session.press(.char("e"), .ctrl("u"))
        let words = (1...30).map { "word\($0)" }.joined(separator: " ")
        session.type(words)
        let screen = session.screen()
        // Every word shows, over several rows inside the form, none cut at its edge.
        for n in [1, 15, 30] { #expect(screen.contains("word\(n)"), "word\(n) is not on the screen:\n\(screen)") }
        session.close()
    }
}

extension TruthfulWordsTests {
    @Test func theListShowsAWholeDescriptionWhereThereIsRoom() throws {
        let (store, folder) = try HeadlessTests.sampleCopy()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let session = HeadlessSession(store: store, width: 80, height: 24)
        #expect(session.waitUntilIdle())
        while session.state.selectedCampaign?.name != "Win-back" && session.state.listSelection < session.state.campaigns.count {
            session.press(.char("j"))
        }
        let description = try #require(session.state.selectedCampaign?.description)
        #expect(description.count > 78)
        let shown = session.screen().split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
        #expect(shown.contains(description), "\(shown)")
        session.close()
    }
}

extension InspectorTests {
    @Test func aReadAudienceShowsWhatItReads() throws {
        let screen = try inspect("Beach brochure", "trips")
        #expect(screen.contains("reads bookings"), "\(screen)")
        #expect(screen.contains("rule: status = \"confirmed\""), "\(screen)")
    }
}

extension SharedStoreTests {
    /// How many descriptors this process holds on `path` itself.
    static func descriptors(on path: String) -> Int {
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return fds.filter { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)")) == path }.count
    }

    /// The interface opens the store for writing once: dry runs reuse that connection instead of
    /// opening (and keeping) one more each.
    @Test func dryRunsReuseTheWritableStore() throws {
        let (store, folder) = try HeadlessTests.sampleCopy()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let reading = try Store.openForReading(path: store.path)
        try store.close()
        let session = HeadlessSession(store: reading, width: 100, height: 30)
        #expect(session.waitUntilIdle())
        session.press(.char("j"), .char("j"), .char("j"), .enter)
        #expect(session.waitUntilIdle())
        session.press(.char("r"))
        #expect(session.waitUntilIdle())
        let afterOne = Self.descriptors(on: store.path)
        for _ in 0..<3 {
            session.press(.char("r"))
            #expect(session.waitUntilIdle())
        }
        #expect(Self.descriptors(on: store.path) == afterOne, "each dry run left a connection open")
        session.close()
    }
}
