import Foundation
import GRDB
import HeraldCore
import HeraldEngine
import HeraldStore
import Synchronization
import Testing

@testable import HeraldDelivery

/// A provider that keeps what it was given, and can act between two messages.
final class RecordingProvider: ChannelProvider, @unchecked Sendable {
    let name = "recording"
    let destination: String
    private let lock = NSLock()
    private var received: [OutboundMessage] = []
    private let onSend: @Sendable (OutboundMessage) -> ProviderOutcome

    init(
        destination: String = "recording",
        onSend: @escaping @Sendable (OutboundMessage) -> ProviderOutcome = { _ in .sent(providerID: nil) }
    ) {
        self.destination = destination
        self.onSend = onSend
    }

    var messages: [OutboundMessage] {
        lock.lock()
        defer { lock.unlock() }
        return received
    }

    func send(_ batch: [OutboundMessage]) -> [ProviderOutcome] {
        batch.map { m in
            lock.lock()
            received.append(m)
            lock.unlock()
            return onSend(m)
        }
    }
}

/// The delivery engine on the demo store: gates at their edges, send windows, opt-outs during a
/// send, per-entity messages, render failures, unknown messages and their resolution.
@Suite struct DeliveryTests {
    let store: Store
    let t0 = Date(timeIntervalSince1970: 1_812_000_000)  // 2027-06-03T07:20:00Z, a Thursday

    init() throws { store = try Scratch.demoCopy() }

    func count(_ sql: String) throws -> Int { try HeraldStoreTests.count(store, sql) }

    func keys(_ sql: String) throws -> [String] {
        try store.read { db in try DatabaseValue.fetchAll(db, sql: sql).map(\.displayText) }
    }

    /// Profiles `rule`, then one e-mail node `mail` with `settings`.
    func mailing(
        _ name: String, rule: String, settings: ChannelSettings, entity: String = "profiles", channel: Channel = .email
    ) throws -> StoredCampaign {
        var c = Campaign(name: name)
        c.timeZone = "Europe/Paris"
        c.nodes = [
            Node(id: "who", label: "Who", config: .buildAudience(entity: entity, rule: try Rule(parsing: rule), emitWhenEmpty: false)),
            Node(id: "mail", label: "Mail", config: .message(channel, settings)),
        ]
        c.edges = [Edge(from: "who", to: "mail")]
        return try store.saveCampaign(c, replace: false)
    }

    /// One node `mail` to the profiles `ids`: a plain marketing e-mail unless told otherwise.
    func mailing(
        _ name: String, to ids: [Int64], settings: ChannelSettings = ChannelSettings(content: [("subject", "Hi"), ("text", "Hello")]),
        channel: Channel = .email
    ) throws -> StoredCampaign {
        try mailing(name, rule: "id in (\(ids.map(String.init).joined(separator: ", ")))", settings: settings, channel: channel)
    }

    func run(_ stored: StoredCampaign, at now: Date, provider: any ChannelProvider, batch: Int = 500) throws -> RunDetail {
        var executor = Executor(store: store)
        executor.clock = { now }
        executor.delivery = DeliverySetup(providers: [.email: provider, .sms: provider, .push: provider], batchSize: batch)
        return try executor.run(stored, mode: .live)
    }

    func messages(_ run: Int64) throws -> [LedgerMessage] { try store.ledger.messages(MessageFilter(runID: run, limit: 100_000)) }

    /// Profiles with an e-mail address and no opt-out, in key order.
    func mailable(_ limit: Int, where extra: String = "1") throws -> [Int64] {
        try store.read { db in
            try Int64.fetchAll(
                db,
                sql: """
                    SELECT id FROM profiles p WHERE trim(ifnull(email, '')) <> '' AND \(extra)
                      AND NOT EXISTS (SELECT 1 FROM herald_consent c WHERE c.profile_key = p.id AND c.channel = 'email' AND c.status = 'opted_out')
                    ORDER BY id LIMIT \(limit)
                    """)
        }
    }

    func history(_ profile: Int64, at seconds: Int, channel: String = "email", category: String = "marketing") throws {
        let text = TemporalText.canonical(utcSeconds: seconds)!
        try store.write { db in
            try db.execute(
                sql: """
                    INSERT INTO herald_messages (profile_key, channel, category, status, created_at, updated_at, sent_at)
                    VALUES (?, ?, ?, 'sent', ?, ?, ?)
                    """, arguments: [profile, channel, category, text, text, text])
        }
    }

    @Test func frequencyCapsCountExactlyTheirWindow() throws {
        let ids = try mailable(4)
        let now = Int(t0.timeIntervalSince1970)
        let week = 7 * 86_400
        try history(ids[0], at: now - week)  // exactly seven days ago: out of the window
        try history(ids[1], at: now - week + 1)  // one second inside it
        try history(ids[2], at: now - 3600)
        try history(ids[2], at: now - 7200)
        try history(ids[3], at: now - 60, category: "transactional")  // transactional ones do not count
        let list = ids.map(String.init).joined(separator: ", ")
        var settings = ChannelSettings(
            content: [("subject", "Hi"), ("text", "Hello")], frequencyCap: FrequencyCap(maxMessages: 1, days: 7))
        let stored = try mailing("Capped", rule: "id in (\(list))", settings: settings)
        let done = try run(stored, at: t0, provider: RecordingProvider())
        let byProfile = Dictionary(try messages(done.summary.id).map { ($0.profileKey, $0) }, uniquingKeysWith: { a, _ in a })
        #expect(byProfile[String(ids[0])]?.state == .sent)
        #expect(byProfile[String(ids[1])]?.reason == "frequency_cap")
        #expect(byProfile[String(ids[2])]?.reason == "frequency_cap")
        #expect(byProfile[String(ids[3])]?.state == .sent)

        // The messages just sent count now; over one day, only the profile whose last message is
        // older goes.
        settings.frequencyCap = FrequencyCap(maxMessages: 1, days: 1)
        let again = try run(try mailing("Capped again", rule: "id in (\(list))", settings: settings), at: t0, provider: RecordingProvider())
        #expect(try messages(again.summary.id).filter { $0.state == .sent }.map(\.profileKey) == [String(ids[1])])
        #expect(try messages(again.summary.id).filter { $0.reason == "frequency_cap" }.count == 3)
    }

    @Test func sendWindowsDeferToEachRecipientsOpeningAndTheLedgerSaysWhichZone() throws {
        let ids = try mailable(12)
        let zones = [
            "Europe/Paris", "America/New_York", "Asia/Tokyo", "Australia/Sydney", "America/Los_Angeles", "Asia/Kolkata", "Europe/London",
            "Pacific/Auckland", "America/Sao_Paulo", "Africa/Nairobi",
        ]
        try store.write { db in
            for (id, zone) in zip(ids, zones) {
                try db.execute(sql: "UPDATE profiles SET time_zone = ? WHERE id = ?", arguments: [zone, id])
            }
            try db.execute(sql: "UPDATE profiles SET time_zone = NULL WHERE id = ?", arguments: [ids[10]])
            try db.execute(sql: "UPDATE profiles SET time_zone = 'Mars/Olympus' WHERE id = ?", arguments: [ids[11]])
        }
        let window = try SendWindow(parsing: "09:00-17:00 mon-fri")
        let settings = ChannelSettings(content: [("subject", "Hi"), ("text", "Hello")], sendWindow: window)
        let stored = try mailing("Windowed", to: ids, settings: settings)
        let provider = RecordingProvider()
        let first = try run(stored, at: t0, provider: provider)
        let now = Int(t0.timeIntervalSince1970)
        let ledger = Dictionary(try messages(first.summary.id).map { ($0.profileKey, $0) }, uniquingKeysWith: { a, _ in a })
        for (i, id) in ids.enumerated() {
            let zone = i < zones.count ? zones[i] : "Europe/Paris"
            let opening = window.nextOpening(after: now, zone: TimeZone(identifier: zone)!)
            let m = try #require(ledger[String(id)])
            #expect(m.zone == zone, "\(id)")
            #expect(m.zoneFallback == (i >= zones.count), "\(id)")
            if let opening {
                #expect(m.state == .deferred && m.notBefore == opening && m.reason == "send_window", "\(zone)")
            } else {
                #expect(m.state == .sent, "\(zone)")
            }
        }
        #expect(ledger.values.contains { $0.state == .deferred } && ledger.values.contains { $0.state == .sent })
        // The run waits for the first opening, and a week later everything has gone.
        #expect(first.summary.state == .waiting)
        var executor = Executor(store: store)
        executor.clock = { self.t0.addingTimeInterval(7 * 86_400) }
        executor.delivery = DeliverySetup(providers: [.email: provider])
        let later = try executor.resume(runID: first.summary.id)
        #expect(later.summary.state == .completed)
        #expect(try messages(first.summary.id).allSatisfy { $0.state == .sent })
        #expect(Set(provider.messages.map(\.id)).count == ids.count)
    }

    @Test func anOptOutRecordedDuringTheSendIsHonoured() throws {
        let ids = try mailable(6)
        let stored = try mailing("Opting out", to: ids)
        let store = self.store
        // While the first message goes, one recipient not yet claimed opts out, and another's
        // address is suppressed. Messages go in key order, a batch of one at a time, and the
        // worker claims the next batch while one is sent: the last two are far from claimed.
        let decided = Mutex<(optedOut: String, suppressed: String)?>(nil)
        let provider = RecordingProvider { m in
            decided.withLock { chosen in
                guard chosen == nil else { return }
                let later = ids.map(String.init).filter { $0 != m.profileKey }.suffix(2).map { $0 }
                let email = try? store.read { db in
                    try String.fetchOne(db, sql: "SELECT email FROM profiles WHERE id = ?", arguments: [Int64(later[1])!])
                }
                try? store.setConsent(profileKey: later[0], channel: .email, status: .optedOut, source: "test")
                try? store.addSuppressions([(email ?? nil)?.uppercased() ?? "?"], channel: .email, reason: "bounced")
                chosen = (later[0], later[1])
            }
            return .sent(providerID: nil)
        }
        let done = try run(stored, at: t0, provider: provider, batch: 1)
        let (optedOut, suppressed) = try #require(decided.withLock { $0 })
        let ledger = Dictionary(try messages(done.summary.id).map { ($0.profileKey, $0) }, uniquingKeysWith: { a, _ in a })
        #expect(ledger[optedOut]?.state == .excluded && ledger[optedOut]?.reason == "opted_out")
        #expect(ledger[suppressed]?.state == .excluded && ledger[suppressed]?.reason == "suppressed")
        #expect(ledger.values.filter { $0.state == .sent }.count == 4)
        #expect(!provider.messages.contains { $0.profileKey == optedOut || $0.profileKey == suppressed })
    }

    /// A message excluded when claimed says what the node's gates would have said for the same
    /// facts: consent before suppression.
    @Test func exclusionsWhenClaimedGiveTheGatesOrderOfReasons() throws {
        let ids = try mailable(2)
        let stored = try mailing("Late reasons", to: ids)
        let flaky = RecordingProvider { _ in .transient("421 try later", retryAfter: nil) }
        let first = try run(stored, at: t0, provider: flaky)
        // Both wait for a retry; meanwhile one's consent becomes unknown and its address is
        // suppressed, the other opts in.
        let email = try store.read { db in try String.fetchOne(db, sql: "SELECT email FROM profiles WHERE id = ?", arguments: [ids[0]]) }
        try store.setConsent(profileKey: String(ids[0]), channel: .email, status: .unknown, source: "test")
        _ = try store.addSuppressions([try #require(email)], channel: .email, reason: "bounced")
        try store.setConsent(profileKey: String(ids[1]), channel: .email, status: .optedIn, source: "test")
        let claimed = try store.ledger.claim(
            ClaimRequest(runID: first.summary.id, limit: 10, optIn: [.email]), owner: "late", now: Int(t0.timeIntervalSince1970) + 86_400)
        #expect(claimed.map(\.profileKey) == [String(ids[1])])
        let excluded = try messages(first.summary.id).filter { $0.state == .excluded }
        #expect(excluded.map(\.profileKey) == [String(ids[0])] && excluded.first?.reason == "consent_unknown")
    }

    /// Several recipients with one address (as the gates compare addresses: trimmed, lower
    /// case): the first of them that no other gate excluded gets the message, the others are
    /// excluded as duplicates; one excluded for another reason takes no address from anyone.
    @Test func duplicateAddressesGoToTheFirstRecipientNoOtherGateExcluded() throws {
        let ids = try mailable(6)
        let (a, b, c, d, e, f) = (ids[0], ids[1], ids[2], ids[3], ids[4], ids[5])
        try store.write { db in
            let shared = "  Shared.Inbox@Example.com "
            try db.execute(sql: "UPDATE profiles SET email = ? WHERE id = ?", arguments: ["shared.inbox@example.com", b])
            try db.execute(sql: "UPDATE profiles SET email = ? WHERE id IN (?, ?)", arguments: [shared, a, e])
            // c opts out: d, with c's address, is the first left for it.
            try db.execute(sql: "UPDATE profiles SET email = 'pair@example.com' WHERE id IN (?, ?)", arguments: [c, d])
        }
        try store.setConsent(profileKey: String(c), channel: .email, status: .optedOut, source: "test")
        let stored = try mailing("Shared inboxes", to: ids)
        let done = try run(stored, at: t0, provider: RecordingProvider())
        let ledger = Dictionary(try messages(done.summary.id).map { ($0.profileKey, $0) }, uniquingKeysWith: { a, _ in a })
        #expect(ledger[String(a)]?.state == .sent)
        #expect(ledger[String(b)]?.reason == "duplicate_address" && ledger[String(e)]?.reason == "duplicate_address")
        #expect(ledger[String(c)]?.reason == "opted_out")
        #expect(ledger[String(d)]?.state == .sent && ledger[String(f)]?.state == .sent)
        #expect(ledger.count == 6)
    }

    /// One message per booking under a frequency cap: a profile's own messages in the node count
    /// toward its cap in booking order, after its history; a second profile with the same
    /// address gets none of its bookings' messages (duplicates), and they take nothing from the
    /// first profile's cap.
    @Test func aCapCountsAProfilesOwnBookingsInOrderAndDuplicatesTakeNothingFromIt() throws {
        let owners = try store.read { db in
            try Int64.fetchAll(
                db,
                sql: """
                    SELECT p.id FROM profiles p JOIN bookings b ON b.profile_id = p.id
                    WHERE trim(ifnull(p.email, '')) <> ''
                      AND NOT EXISTS (SELECT 1 FROM herald_consent c WHERE c.profile_key = p.id AND c.channel = 'email' AND c.status = 'opted_out')
                    GROUP BY p.id HAVING count(*) >= 3 ORDER BY p.id LIMIT 2
                    """)
        }
        try #require(owners.count == 2)
        let (first, second) = (owners[0], owners[1])
        func bookings(of profile: Int64) throws -> [Int64] {
            try store.read { db in
                try Int64.fetchAll(db, sql: "SELECT id FROM bookings WHERE profile_id = ? ORDER BY id LIMIT 3", arguments: [profile])
            }
        }
        let (mine, theirs) = (try bookings(of: first), try bookings(of: second))
        try store.write { db in
            try db.execute(
                sql: "UPDATE profiles SET email = (SELECT upper(email) FROM profiles WHERE id = ?) WHERE id = ?",
                arguments: [first, second])
        }
        try history(first, at: Int(t0.timeIntervalSince1970) - 3600)
        let settings = ChannelSettings(
            messagePer: .entity, content: [("subject", "Trip"), ("text", "Soon")], frequencyCap: FrequencyCap(maxMessages: 2, days: 7))
        let list = (mine + theirs).map(String.init).joined(separator: ", ")
        let done = try run(
            try mailing("Capped per booking", rule: "id in (\(list))", settings: settings, entity: "bookings"), at: t0,
            provider: RecordingProvider())
        let rows = try messages(done.summary.id)
        func outcomes(_ profile: Int64) -> [String] {
            rows.filter { $0.profileKey == String(profile) }.sorted { Int64($0.entityKey ?? "") ?? 0 < Int64($1.entityKey ?? "") ?? 0 }
                .map { $0.reason ?? $0.state.rawValue }
        }
        // One in the history: the first booking's message makes two, the others would be three.
        #expect(outcomes(first) == ["sent", "frequency_cap", "frequency_cap"])
        #expect(outcomes(second) == ["duplicate_address", "duplicate_address", "duplicate_address"])
    }

    /// What a run still has to settle, per node, is what is queued, deferred or claimed; a
    /// batch's record and the next claim go in one transaction.
    @Test func remainingCountsWhatIsLeftAndRecordAndClaimDoesBoth() throws {
        let ids = try mailable(5)
        let stored = try mailing("Left to send", to: ids)
        let flaky = RecordingProvider { _ in .transient("421 try later", retryAfter: nil) }
        let first = try run(stored, at: t0, provider: flaky)
        let runID = first.summary.id
        let ledger = store.ledger
        #expect(try ledger.remaining(runID: runID) == ["mail": 5])
        let later = Int(t0.timeIntervalSince1970) + 86_400
        let two = try ledger.claim(ClaimRequest(runID: runID, limit: 2, optIn: []), owner: "w", now: later)
        #expect(try ledger.remaining(runID: runID) == ["mail": 5])  // claimed ones are still to settle
        let records = two.map {
            DeliveryRecord(id: $0.id, attempts: $0.attempts, provider: "recording", verdict: .provider(.sent(providerID: nil)))
        }
        let next = try ledger.recordAndClaim(
            records, owner: "w", now: later, retry: RetryPolicy(), jitter: { 0 }, next: ClaimRequest(runID: runID, limit: 10, optIn: []))
        #expect(next.count == 3 && Set(next.map(\.id)).isDisjoint(with: two.map(\.id)))
        #expect(try ledger.counts(runID: runID)["mail"]?.byState == [.sent: 2, .claimed: 3])
        #expect(try ledger.remaining(runID: runID) == ["mail": 3])
        try ledger.record(
            next.map { DeliveryRecord(id: $0.id, attempts: $0.attempts, provider: "recording", verdict: .provider(.permanent("550 no"))) },
            owner: "w", now: later, retry: RetryPolicy(), jitter: { 0 })
        #expect(try ledger.remaining(runID: runID).isEmpty)
    }

    /// Refuses every claim in a run that has sent something: the first claim goes, the one
    /// made with the first record does not.
    func refuseClaimsOnceSent() throws {
        try store.write { db in
            try db.execute(
                sql: """
                    CREATE TRIGGER test_refuse_claims BEFORE INSERT ON herald_claims
                    WHEN EXISTS (SELECT 1 FROM herald_messages WHERE run_id = NEW.run_id AND status = 'sent')
                    BEGIN SELECT RAISE(ABORT, 'claims refused'); END
                    """)
        }
    }

    /// A record and claim that fails keeps neither (the messages stay claimed as they were);
    /// the worker then records the results alone, and those of the batch in flight, before it
    /// stops: nothing is left claimed and nothing handed over is recorded twice or lost.
    @Test func aFailedRecordAndClaimKeepsNeitherAndTheWorkerRecordsTheResultsAlone() throws {
        let ids = try mailable(5)
        let flaky = RecordingProvider { _ in .transient("421 try later", retryAfter: nil) }
        let first = try run(try mailing("All or nothing", to: ids), at: t0, provider: flaky)
        let runID = first.summary.id
        let ledger = store.ledger
        let later = Int(t0.timeIntervalSince1970) + 86_400
        let two = try ledger.claim(ClaimRequest(runID: runID, limit: 2, optIn: []), owner: "w", now: later)
        try refuseClaimsOnceSent()
        let records = two.map {
            DeliveryRecord(id: $0.id, attempts: $0.attempts, provider: "recording", verdict: .provider(.sent(providerID: nil)))
        }
        #expect(throws: (any Error).self) {
            try ledger.recordAndClaim(
                records, owner: "w", now: later, retry: RetryPolicy(), jitter: { 0 }, next: ClaimRequest(runID: runID, limit: 10, optIn: [])
            )
        }
        #expect(try ledger.counts(runID: runID)["mail"]?.byState == [.claimed: 2, .deferred: 3])

        // Through the worker, two messages a batch: the second batch is claimed before anything
        // is sent, the third claim (with the first record) is refused.
        let provider = RecordingProvider()
        let campaign = try mailing("Refused halfway", to: ids)
        #expect(throws: (any Error).self) { try run(campaign, at: t0, provider: provider, batch: 2) }
        let rows = try store.ledger.messages(MessageFilter(campaignID: campaign.id, limit: 100))
        #expect(provider.messages.count == 4)
        #expect(rows.filter { $0.state == .sent }.count == 4 && rows.filter { $0.state == .queued }.count == 1)
        #expect(!rows.contains { $0.state == .claimed })
    }

    /// One message per booking, and one per profile from a bookings population, against SQL
    /// written by hand.
    @Test func perEntityAndPerProfileMessagesGiveTheExpectedRows() throws {
        let rule = #"status = "confirmed" and departs >= "2026-11-01" and departs <= "2026-11-14""#
        let bookings = """
            SELECT b.id FROM bookings b WHERE b.status = 'confirmed' AND b.departs >= '2026-11-01' AND b.departs <= '2026-11-14'
            """
        var settings = ChannelSettings(category: .transactional, messagePer: .entity, content: [("subject", "Trip"), ("text", "Soon")])
        let perBooking = try run(
            try mailing("Per booking", rule: rule, settings: settings, entity: "bookings"), at: t0, provider: RecordingProvider())
        let rows = try messages(perBooking.summary.id)
        #expect(Set(rows.compactMap(\.entityKey)) == Set(try keys(bookings)))
        #expect(rows.count == (try count("SELECT count(*) FROM (\(bookings))")))
        let noAddress = try keys(
            "SELECT b.id FROM (\(bookings)) b JOIN bookings x ON x.id = b.id JOIN profiles p ON p.id = x.profile_id WHERE trim(ifnull(p.email, '')) = ''"
        )
        #expect(Set(rows.filter { $0.reason == "no_address" }.compactMap(\.entityKey)) == Set(noAddress))
        #expect(rows.filter { $0.state == .sent }.count == rows.count - noAddress.count)
        for row in rows {
            let owner = try keys("SELECT profile_id FROM bookings WHERE id = \(row.entityKey!)")
            #expect(owner == [row.profileKey])
        }

        settings.messagePer = .profile
        settings.category = .marketing
        let perProfile = try run(
            try mailing("Per profile", rule: rule, settings: settings, entity: "bookings"), at: t0, provider: RecordingProvider())
        let profiles = try messages(perProfile.summary.id)
        #expect(
            Set(profiles.map(\.profileKey))
                == Set(try keys("SELECT DISTINCT x.profile_id FROM (\(bookings)) b JOIN bookings x ON x.id = b.id")))
        #expect(profiles.count == Set(profiles.map(\.profileKey)).count)
        // The target of each is the profile's first booking among them.
        for row in profiles {
            let first = try keys(
                "SELECT min(b.id) FROM (\(bookings)) b JOIN bookings x ON x.id = b.id WHERE x.profile_id = \(row.profileKey)")
            #expect([row.entityKey ?? ""] == first)
        }
    }

    /// Profiles filtered on their own attributes, then one message per confirmed upcoming booking
    /// of each: the ledger's rows against SQL written by hand, and each message about its booking.
    @Test func oneMessagePerRelatedRowThroughALink() throws {
        var settings = ChannelSettings(
            category: .transactional, messagePer: .related,
            content: [("subject", "Your trip on {{target.departs}}"), ("text", "Hello {{profile.first_name}}")])
        settings.related = RelatedMessages(link: "bookings", rule: try Rule(parsing: #"status = "confirmed" and departs >= "2026-11-01""#))
        let provider = RecordingProvider()
        let done = try run(try mailing("Per upcoming booking", rule: #"country = "FR""#, settings: settings), at: t0, provider: provider)
        #expect(done.summary.state == .completed)
        let expected = try keys(
            """
            SELECT b.id FROM bookings b JOIN profiles p ON p.id = b.profile_id
            WHERE p.country = 'FR' AND b.status = 'confirmed' AND b.departs >= '2026-11-01'
            """)
        #expect(expected.count > 10)
        let rows = try messages(done.summary.id)
        #expect(Set(rows.compactMap(\.entityKey)) == Set(expected) && rows.count == expected.count)
        // Several messages for some profiles, each to its booking's owner, about its booking.
        #expect(Set(rows.map(\.profileKey)).count < rows.count)
        for m in provider.messages.prefix(20) {
            let departs = try keys("SELECT departs FROM bookings WHERE id = \(m.entityKey!) AND profile_id = \(m.profileKey)")
            #expect(m.field("subject") == "Your trip on \(departs.first ?? "?")")
        }
        // A related link that is not one-to-many is refused before anything runs, naming the field.
        var wrong = settings
        wrong.related = RelatedMessages(link: "loyalty_memberships")
        let stored = try mailing("Wrong link", rule: #"country = "FR""#, settings: wrong)
        #expect {
            try run(stored, at: t0, provider: RecordingProvider())
        } throws: { error in
            "\(error)".contains("related.link") && "\(error)".contains("not a one-to-many link")
        }
        var unused = settings
        unused.messagePer = .profile
        #expect {
            try run(try mailing("Unused rows", rule: #"country = "FR""#, settings: unused), at: t0, provider: RecordingProvider())
        } throws: { error in
            "\(error)".contains("related rows need messagePer 'related'")
        }
    }

    @Test func aTemplateThatFailsForOneRecipientFailsThatMessageOnly() throws {
        let ids = try mailable(5)
        try store.write { db in try db.execute(sql: "UPDATE profiles SET first_name = '' WHERE id = ?", arguments: [ids[2]]) }
        let stored = try mailing(
            "Named", to: ids, settings: ChannelSettings(content: [("subject", "Hi {{profile.first_name}}"), ("text", "Hello")]))
        let done = try run(stored, at: t0, provider: RecordingProvider())
        #expect(done.summary.state == .completed)
        let ledger = Dictionary(try messages(done.summary.id).map { ($0.profileKey, $0) }, uniquingKeysWith: { a, _ in a })
        let failed = try #require(ledger[String(ids[2])])
        #expect(failed.state == .failed && failed.reason == "render_failed" && failed.error?.contains("profile.first_name") == true)
        #expect(ledger.values.filter { $0.state == .sent }.count == 4)
        // The run's log says so, as a warning, with where to look.
        let pass = try #require(try store.runLogs(done.summary.id).map(\.line).first { $0.code == "delivery.pass" })
        #expect(pass.level == "warning" && pass.figures["render_failed"] == 1 && pass.message.contains("--status failed"))
    }

    /// Push data is a JSON object once rendered, or that message fails (with no value in the
    /// reason); the outbox line carries it as an object.
    @Test func pushDataThatIsNotAJSONObjectFailsThatMessageOnly() throws {
        let ids = try store.read { db in
            try Int64.fetchAll(db, sql: "SELECT id FROM profiles WHERE trim(ifnull(push_token, '')) <> '' ORDER BY id LIMIT 4")
        }
        try #require(ids.count == 4)
        try store.write { db in try db.execute(sql: "UPDATE profiles SET city = 'Quote\"Town' WHERE id = ?", arguments: [ids[1]]) }
        let stored = try mailing(
            "Pushed", to: ids,
            settings: ChannelSettings(
                category: .transactional,
                content: [("title", "Hi"), ("body", "Trips from {{profile.city}}"), ("data", #"{"city": "{{profile.city}}"}"#)]),
            channel: .push)
        let outbox = NSTemporaryDirectory() + "herald-push-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: outbox) }
        let done = try run(stored, at: t0, provider: try OutboxProvider(directory: outbox, email: EmailSettings()))
        let ledger = Dictionary(try messages(done.summary.id).map { ($0.profileKey, $0) }, uniquingKeysWith: { a, _ in a })
        let failed = try #require(ledger[String(ids[1])])
        #expect(failed.state == .failed && failed.reason == "render_failed")
        #expect(failed.error?.contains("not a JSON object") == true && failed.error?.contains("Quote") == false)
        #expect(ledger.values.filter { $0.state == .sent }.count == 3)
        let lines = try String(contentsOfFile: "\(outbox)/push/run-\(done.summary.id).jsonl", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines.allSatisfy { $0.contains(#""data":{"city":"#) }, "\(lines)")
    }

    /// While the worker delivers, someone watching gets the run's counts from the ledger (at
    /// most as often as asked); nobody watching, nothing is counted.
    @Test func deliveryReportsItsProgressOnlyWhenWatched() throws {
        let ids = try mailable(6)
        let stored = try mailing("Watched", to: ids)
        for every in [nil, 0.0] as [TimeInterval?] {
            let seen = Mutex<[[NodeID: MessageCounts]]>([])
            var executor = Executor(store: store)
            executor.clock = { self.t0 }
            executor.delivery = DeliverySetup(providers: [.email: RecordingProvider()], batchSize: 2)
            executor.deliveryProgressEvery = every
            let done = try executor.run(
                stored, mode: .live,
                events: { event in
                    if case .delivering(let counts) = event { seen.withLock { $0.append(counts) } }
                })
            let reports = seen.withLock { $0 }
            if every == nil {
                #expect(reports.isEmpty)
                continue
            }
            // One report per batch of two, each counting more sent than the one before.
            let sent = reports.map { $0[NodeID("mail")]?[.sent] ?? 0 }
            #expect(sent == [2, 4, 6], "\(sent)")
            #expect(reports.last == (try store.ledger.counts(runID: done.summary.id)))
        }
    }

    @Test func claimsLeftByAStoppedExecutorBecomeUnknownAndAreResolvedByAnOperator() throws {
        let ids = try mailable(5)
        let stored = try mailing("Interrupted", to: ids)
        // A provider that fails transiently: the messages wait for a retry, and the run with them.
        let flaky = RecordingProvider { _ in .transient("421 try later", retryAfter: nil) }
        let first = try run(stored, at: t0, provider: flaky)
        #expect(first.summary.state == .waiting)
        #expect(try messages(first.summary.id).allSatisfy { $0.state == .deferred && $0.reason == "retry" && $0.attempts == 1 })
        // Another executor claims two of them and dies before recording anything.
        let later = t0.addingTimeInterval(3600)
        let claimed = try store.ledger.claim(
            ClaimRequest(runID: first.summary.id, limit: 2, optIn: []), owner: "gone", now: Int(later.timeIntervalSince1970))
        #expect(claimed.count == 2)
        let provider = RecordingProvider()
        var executor = Executor(store: store)
        executor.clock = { later }
        executor.delivery = DeliverySetup(providers: [.email: provider])
        let resumed = try executor.resume(runID: first.summary.id)
        #expect(resumed.summary.state == .completed)
        let unknown = try messages(first.summary.id).filter { $0.state == .unknown }
        #expect(Set(unknown.map(\.id)) == Set(claimed.map(\.id)))
        #expect(provider.messages.count == 3)  // never re-sent by itself
        let logs = try store.runLogs(first.summary.id).map(\.line)
        #expect(logs.contains { $0.code == "delivery.recovered" && $0.figures["unknown"] == 2 && $0.level == "warning" })
        // The operator decides: one was sent, the other is retried.
        #expect(
            try store.ledger.resolve(runID: first.summary.id, ids: [claimed[0].id], as: .sent, now: Int(later.timeIntervalSince1970)) == 1)
        #expect(try store.ledger.resolve(runID: first.summary.id, ids: nil, as: .retry, now: Int(later.timeIntervalSince1970)) == 1)
        #expect(try store.ledger.resolve(runID: first.summary.id, ids: nil, as: .failed, now: Int(later.timeIntervalSince1970)) == 0)
        let queued = try messages(first.summary.id).filter { $0.state == .queued }
        #expect(queued.map(\.id) == [claimed[1].id])
    }

    /// A run stopped while an executor that died held some of its messages: nobody is left to
    /// ask the provider, so they are unknown, and still the run's, for an operator to resolve.
    @Test func claimsOfAStoppedRunBecomeUnknownAndStayResolvable() throws {
        let ids = try mailable(3)
        let stored = try mailing("Stopped", to: ids)
        let flaky = RecordingProvider { _ in .transient("421 try later", retryAfter: nil) }
        let first = try run(stored, at: t0, provider: flaky)
        #expect(first.summary.state == .waiting)
        let later = t0.addingTimeInterval(3600)
        let claimed = try store.ledger.claim(
            ClaimRequest(runID: first.summary.id, limit: 2, optIn: []), owner: "gone", now: Int(later.timeIntervalSince1970))
        #expect(claimed.count == 2)
        #expect(try store.request(.stop, runID: first.summary.id) == false)
        let after = try messages(first.summary.id)
        #expect(Set(after.filter { $0.state == .unknown }.map(\.id)) == Set(claimed.map(\.id)))
        #expect(after.filter { $0.state == .unknown }.allSatisfy { $0.error?.contains("its run was stopped") == true })
        #expect(after.filter { $0.state == .deferred }.count == 1)
        #expect(
            try store.ledger.resolve(runID: first.summary.id, ids: nil, as: .failed, now: Int(later.timeIntervalSince1970)) == 2)
    }

    /// A run keeps its destinations: continuing it with providers that deliver elsewhere is
    /// refused before anything runs (the first place alone knows what it already has), and
    /// with the same destinations it goes on.
    @Test func aRunContinuedWithProvidersThatDeliverElsewhereIsRefused() throws {
        let ids = try mailable(4)
        let stored = try mailing("Moved", to: ids)
        let flaky = RecordingProvider(destination: "outbox /a") { _ in .transient("421 try later", retryAfter: nil) }
        let first = try run(stored, at: t0, provider: flaky)
        #expect(first.summary.state == .waiting)
        let later = t0.addingTimeInterval(3600)
        var executor = Executor(store: store)
        executor.clock = { later }
        let elsewhere = RecordingProvider(destination: "outbox /b")
        executor.delivery = DeliverySetup(providers: [.email: elsewhere])
        #expect {
            try executor.resume(runID: first.summary.id)
        } throws: { error in
            let message = (error as? HeraldError)?.message ?? ""
            return (error as? HeraldError)?.code == .invalidInput && message.contains("delivers email to outbox /a")
                && message.contains("delivers it to outbox /b") && message.contains("could send its messages twice")
        }
        #expect(elsewhere.messages.isEmpty)
        #expect(try messages(first.summary.id).allSatisfy { $0.state == .deferred })
        let same = RecordingProvider(destination: "outbox /a")
        executor.delivery = DeliverySetup(providers: [.email: same])
        #expect(try executor.resume(runID: first.summary.id).summary.state == .completed)
        #expect(same.messages.count == 4)
    }

    /// A run purged while messages were claimed (its executor died, then the run was stopped):
    /// with no run left to settle them, they are unknown, never silently queued again.
    @Test func claimsOfAPurgedRunBecomeUnknown() throws {
        let ids = try mailable(3)
        let stored = try mailing("Purged", to: ids)
        let flaky = RecordingProvider { _ in .transient("421 try later", retryAfter: nil) }
        let first = try run(stored, at: t0, provider: flaky)
        let claimed = try store.ledger.claim(
            ClaimRequest(runID: first.summary.id, limit: 2, optIn: []), owner: "gone", now: Int(t0.timeIntervalSince1970) + 3600)
        #expect(claimed.count == 2)
        try store.write { db in try db.execute(sql: "UPDATE herald_runs SET state = 'stopped' WHERE id = ?", arguments: [first.summary.id])
        }
        #expect(try store.purgeRuns(startedBefore: t0.addingTimeInterval(365 * 86400)).runs == 1)
        let left = try store.ledger.messages(MessageFilter(campaignID: stored.id))
        #expect(left.count == 3 && left.allSatisfy { $0.runID == nil })
        #expect(Set(left.filter { $0.state == .unknown }.map(\.id)) == Set(claimed.map(\.id)))
        #expect(left.filter { $0.state == .deferred }.count == 1)
        #expect(try count("SELECT count(*) FROM herald_claims") == 0)
    }

    @Test func transientFailuresAreRetriedUntilThePolicyGivesUp() throws {
        let ids = try mailable(2)
        let stored = try mailing("Retried", to: ids)
        let refusing = RecordingProvider { m in
            m.profileKey == String(ids[0]) ? .permanent("550 no such user") : .transient("451 later", retryAfter: 120)
        }
        var executor = Executor(store: store)
        let start = t0
        executor.clock = { start }
        executor.delivery = DeliverySetup(providers: [.email: refusing], retry: RetryPolicy(attempts: 2, first: 30, max: 60))
        let first = try executor.run(stored, mode: .live)
        var ledger = Dictionary(try messages(first.summary.id).map { ($0.profileKey, $0) }, uniquingKeysWith: { a, _ in a })
        #expect(ledger[String(ids[0])]?.state == .failed && ledger[String(ids[0])]?.reason == "rejected")
        let retried = try #require(ledger[String(ids[1])])
        // Retry-After (120 s) is longer than the policy's first delay: it wins.
        #expect(retried.state == .deferred && retried.notBefore == Int(t0.timeIntervalSince1970) + 120)
        let later = t0.addingTimeInterval(121)
        executor.clock = { later }
        _ = try executor.resume(runID: first.summary.id)
        ledger = Dictionary(try messages(first.summary.id).map { ($0.profileKey, $0) }, uniquingKeysWith: { a, _ in a })
        #expect(ledger[String(ids[1])]?.state == .failed && ledger[String(ids[1])]?.reason == "retries_exhausted")
        #expect(ledger[String(ids[1])]?.attempts == 2)
    }
}

/// The configuration, e-mail MIME and unsubscribe tokens.
@Suite struct DeliveryConfigTests {
    @Test func parsesTheDocumentedKeys() throws {
        let config = try DeliveryConfig.parse(
            """
            [outbox]
            directory = "outbox"
            [channels.email]
            provider = "outbox"
            from = "Northwind Travel <news@example.com>"
            reply_to = "help@example.com"
            unsubscribe_url = "https://example.com/u/{token}"
            rate = "200/s"
            [channels.sms]
            provider = "discard"
            [channels.push]
            provider = "outbox"
            [channels.direct_mail]
            directory = "extracts"
            [delivery]
            token_secret_env = "HERALD_TOKEN_SECRET"
            retry = { attempts = 5, first = "30s", max = "1h" }
            batch = 250
            """, source: "herald.toml")
        #expect(config.outboxDirectory == "outbox")
        #expect(config.batch == 250)
        let folder = NSTemporaryDirectory() + "herald-config-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var placed = config
        placed.outboxDirectory = folder + "/outbox"
        placed.channels[.directMail]?.directory = folder + "/extracts"
        let setup = try DeliverySetup.make(placed, storePath: folder + "/x.db", environment: ["HERALD_TOKEN_SECRET": "s"])
        #expect(setup.batchSize == 250)
        #expect(config.effectiveText.contains("batch = 250"))
        #expect(config.channel(.email).rate == DeliveryRate(messages: 200, seconds: 1))
        #expect(config.channel(.sms).provider == .discard)
        #expect(config.channel(.directMail).directory == "extracts")
        #expect(config.retry == RetryPolicy(attempts: 5, first: 30, max: 3600))
        // The effective configuration names the secret's variable, never a value.
        #expect(config.effectiveText.contains(#"token_secret_env = "HERALD_TOKEN_SECRET""#))
        #expect(config.effectiveText.contains(#"rate = "200/s""#) && config.effectiveText.contains(#"directory = "outbox""#))
        #expect(throws: HeraldError.self) { try config.tokenSecret(environment: [:]) }
        #expect(try config.tokenSecret(environment: ["HERALD_TOKEN_SECRET": "s"]) == "s")
    }

    /// `config check` prints what applies, and that text reads back as the same configuration;
    /// relative directories are the file's, whatever the working directory.
    @Test func effectiveTextReadsBackAndDirectoriesAreTheFiles() throws {
        let folder = NSTemporaryDirectory() + "herald-config-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder + "/conf", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/conf/herald.toml"
        try """
        [outbox]
        directory = "out"
        [channels.email]
        from = "Northwind Travel <news@example.com>"
        [channels.direct_mail]
        directory = "../extracts"
        [delivery]
        batch = 300
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let config = try DeliveryConfig.load(explicit: path, environment: [:])
        #expect(config.outboxDirectory == folder + "/conf/out")
        #expect(config.channel(.directMail).directory == folder + "/conf/../extracts")
        #expect(config.outbox(storePath: "/elsewhere/x.db") == folder + "/conf/out")
        // Unset values are comments: the text parses back to the same configuration.
        #expect(config.effectiveText.contains("# reply_to: none"))
        var again = try DeliveryConfig.parse(config.effectiveText, source: "check")
        again.source = config.source
        #expect(again == config)
        var defaults = try DeliveryConfig.parse(DeliveryConfig.defaults.effectiveText, source: "check")
        defaults.source = DeliveryConfig.defaults.source
        #expect(defaults == DeliveryConfig.defaults)
    }

    @Test(arguments: [
        ("[channels.email]\nprovider = \"pigeon\"", "channels.email.provider: expected outbox, discard or smtp, found 'pigeon'"),
        ("[channels.email]\nfrom_address = \"x\"", "channels.email.from_address: unknown key"),
        ("[channels.fax]\nprovider = \"outbox\"", "channels.fax: unknown key"),
        ("[delivery]\nretry = { attempts = 0 }", "delivery.retry.attempts: expected a whole number from 1 to 100"),
        ("[delivery]\nbatch = 0", "delivery.batch: expected a whole number of messages from 1 to 20000"),
        ("[channels.email]\nfrom = \"not an address\"", "channels.email.from: expected an e-mail address"),
        ("[channels.email]\nreply_to = \"Help <help@>\"", "channels.email.reply_to: expected an e-mail address"),
        ("[outbox]\ndirectory = \"\"", "outbox.directory: expected a directory, found nothing"),
        ("[delivery]\nbatch = \"big\"", "delivery.batch: expected a whole number of messages from 1 to 20000"),
        ("[delivery]\nretry = { first = \"soon\" }", "delivery.retry.first: expected a duration"),
        ("[channels.email]\nrate = \"fast\"", "channels.email.rate: expected messages per second"),
        (
            "[channels.email]\nunsubscribe_url = \"https://x/u\"",
            "channels.email.unsubscribe_url: expected an http(s) URL containing {token}"
        ),
        ("[outbox\n", "herald.toml:"),
        ("[channels.email]\nunsubscribe_url = \"https://x/u/{token}\"", "channels.email.unsubscribe_url: needs delivery.token_secret_env"),
    ])
    func refusesBadConfigurationNamingTheKey(text: String, message: String) {
        #expect {
            try DeliveryConfig.parse(text, source: "herald.toml")
        } throws: { error in
            (error as? HeraldError)?.code == .invalidInput && "\(error)".contains(message)
        }
    }

    @Test func anUnwritableOutboxIsRefusedBeforeAnythingIsClaimed() throws {
        let scratch = Scratch()
        // A file where the directory should be: no user, root included, can write into it.
        let blocked = scratch.file("outbox", "not a directory")
        var config = DeliveryConfig.defaults
        config.outboxDirectory = blocked
        #expect {
            try DeliverySetup.make(config, storePath: scratch.file("s.db"))
        } throws: { error in
            "\(error)".contains(blocked)
        }
        config.outboxDirectory = nil
        config.channels[.directMail]?.directory = blocked + "/extracts"
        #expect(throws: HeraldError.self) { try DeliverySetup.make(config, storePath: scratch.file("s.db")) }
    }

    /// The outbox knows what it holds: after a stop, what it has is sent and what it does not is
    /// queued again, so nothing is unknown and nothing goes twice.
    @Test func theOutboxReconcilesWhatAStoppedExecutorLeftClaimed() throws {
        let scratch = Scratch()
        let outbox = try OutboxProvider(directory: scratch.file("outbox"), email: EmailSettings())
        func message(_ id: Int64, _ channel: Channel) -> OutboundMessage {
            OutboundMessage(
                id: id, runID: 9, campaignName: "C", nodeID: "n", channel: channel, category: .marketing, profileKey: "\(id)",
                entityKey: nil,
                address: "a\(id)@example.com", fields: [RenderedField(name: "subject", text: "S", segments: nil)])
        }
        #expect(
            outbox.send([message(1, .email), message(3, .sms)]) == [
                .sent(providerID: "<herald.9.1@localhost>"), .sent(providerID: nil),
            ])
        // The provider id is the file's own Message-ID.
        let written = try String(contentsOfFile: scratch.file("outbox/email/run-9/1.eml"), encoding: .utf8)
        #expect(written.contains("Message-ID: <herald.9.1@localhost>\r\n"))
        try "cut short".write(toFile: scratch.file("outbox/email/run-9/2.eml.partial"), atomically: false, encoding: .utf8)
        func claimed(_ id: Int64, _ channel: Channel) -> ClaimedMessage {
            ClaimedMessage(
                id: id, nodeID: "n", channel: channel, category: .marketing, profileKey: "\(id)", entityKey: nil, address: "", attempts: 1)
        }
        let known = outbox.reconcile(
            [claimed(1, .email), claimed(2, .email), claimed(3, .sms), claimed(4, .sms), claimed(5, .push)], runID: 9)
        #expect(known == [.delivered(providerID: nil), .notDelivered, .delivered(providerID: nil), .notDelivered, .notDelivered])
        #expect(!FileManager.default.fileExists(atPath: scratch.file("outbox/email/run-9/2.eml.partial")))
        #expect(RecordingProvider().reconcile([claimed(1, .email)], runID: 9) == [.cannotTell])
    }

    @Test func tokensAreSignedAndForgeriesRefused() throws {
        let tokens = UnsubscribeTokens(secret: "s3cret")
        let token = tokens.token(profileKey: "42", channel: .email, campaign: "Summer sale")
        let parsed = try #require(tokens.verify(token))
        #expect(parsed.profileKey == "42" && parsed.channel == .email && parsed.campaign == "Summer sale")
        let forged = token.replacingOccurrences(of: "NDI", with: "NDM")
        #expect(tokens.verify(forged) == nil)
        #expect(UnsubscribeTokens(secret: "other").verify(token) == nil)
        #expect(tokens.verify("not.a.token") == nil)
        // The same token every time (the keyed MAC is reused, never changed), and base64url as RFC 4648 spells it.
        #expect(tokens.token(profileKey: "42", channel: .email, campaign: "Summer sale") == token)
        for text in ["", "f", "fo", "foo", "foob", "fooba", "foobar", "\u{FF}\u{FE}?>"] {
            let expected = Data(text.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            #expect(UnsubscribeTokens.base64url(text.utf8) == expected)
        }
        #expect(UnsubscribeTokens.base64url([0xFB, 0xFF, 0xBF]) == "-_-_")
    }

    @Test func emailIsValidMIME() throws {
        let message = OutboundMessage(
            id: 7, runID: 3, campaignName: "Été", nodeID: "mail", channel: .email, category: .marketing, profileKey: "42", entityKey: nil,
            address: "ana@example.com",
            fields: [
                RenderedField(
                    name: "subject", text: "Bonjour Zoë, l'été arrive à grands pas pour tous nos voyageurs fidèles", segments: nil),
                RenderedField(name: "text", text: "Salut", segments: nil), RenderedField(name: "html", text: "<p>Salut</p>", segments: nil),
            ], unsubscribeToken: "tok")
        let mime = EmailMIME.build(
            message, settings: EmailSettings(from: "Northwind Travel <news@example.com>", unsubscribeURL: "https://e.com/u/{token}"),
            date: Date(timeIntervalSince1970: 0))
        #expect(mime.contains("Message-ID: <herald.3.7@example.com>\r\n"))
        #expect(mime.contains("List-Unsubscribe: <https://e.com/u/tok>\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"))
        #expect(mime.contains("Subject: =?utf-8?B?"))
        #expect(mime.contains("Content-Type: multipart/alternative; boundary="))
        #expect(mime.contains("Date: Thu, 01 Jan 1970 00:00:00 +0000"))
        // Every header line is ASCII and at most 78 characters.
        let headers = mime.components(separatedBy: "\r\n\r\n")[0]
        for line in headers.components(separatedBy: "\r\n") {
            #expect(line.utf8.count <= 78 && line.allSatisfy(\.isASCII), "\(line)")
        }
        var transactional = message
        transactional.category = .transactional
        #expect(
            !EmailMIME.build(transactional, settings: EmailSettings(unsubscribeURL: "https://e.com/u/{token}"), date: Date()).contains(
                "List-Unsubscribe"))
    }
}

/// The gates' address checks.
@Suite struct AddressTests {
    static let emails = (
        good: ["a@b.co", "first.last@example.com", "x+tag@sub.example.org", "ü@exämple.de"],
        bad: ["", "@b.co", "a@", "a@b", "a@.b", "a@b.", "a@@b.co", "a@b@c.co", "a b@c.co", "a,b@c.co", "<a@b.co>", "a@b..", "a\t@b.co"]
    )
    static let phones = (
        good: ["+33612345678", "+4915112345678", "+1234567"],
        bad: ["33612345678", "+0612345678", "+123456", "+1234567890123456", "+33 6 12", "+33-6"]
    )

    @Test func emailAndPhoneValidity() {
        for good in Self.emails.good { #expect(Addresses.isValid(good, channel: .email), "\(good)") }
        for bad in Self.emails.bad { #expect(!Addresses.isValid(bad, channel: .email), "\(bad)") }
        for good in Self.phones.good { #expect(Addresses.isValid(good, channel: .sms), "\(good)") }
        for bad in Self.phones.bad { #expect(!Addresses.isValid(bad, channel: .sms), "\(bad)") }
        #expect(Addresses.normalised(" 0033 (6) 12-34.56.78 ", channel: .sms) == "+33612345678")
        #expect(Addresses.normalised(" Ana@Example.COM ", channel: .email) == "ana@example.com")
        #expect(Addresses.problem("0033 6 12 34 56 78", channel: .sms) == nil)
        #expect(Addresses.problem("06 12 34 56 78", channel: .sms)?.contains("E.164") == true)
    }

    /// The gates' SQL function gives the same verdicts, and 0 for NULL, a number or an unknown channel.
    @Test func sqlFunctionAgrees() throws {
        let db = try DatabaseQueue()
        try db.inDatabase { db in
            try Addresses.addValidityFunction(to: db)
            func valid(_ channel: String?, _ address: (any DatabaseValueConvertible)?) throws -> Int? {
                try Int.fetchOne(db, sql: "SELECT herald_valid_address(?, ?)", arguments: [channel, address])
            }
            for (channel, lists) in [("email", Self.emails), ("sms", Self.phones)] {
                for good in lists.good { #expect(try valid(channel, good) == 1, "\(good)") }
                for bad in lists.bad { #expect(try valid(channel, bad) == 0, "\(bad)") }
            }
            #expect(try valid("push", "token") == 1)
            #expect(try valid("push", "") == 0)
            #expect(try valid("email", nil) == 0)
            #expect(try valid(nil, "a@b.co") == 0)
            #expect(try valid("fax", "a@b.co") == 0)
            #expect(try valid("sms", 33_612_345_678) == 0)
        }
    }
}
