import Foundation
import GRDB
public import HeraldCore
import HeraldStore

/// Generates the fictional travel company behind `sample.db` and the benchmarks.
///
/// The output depends only on the seed and the profile count. Rows are streamed through
/// prepared statements, committed in large batches, so a million profiles use little memory.
public struct DemoGenerator: Sendable {
    public var profiles: Int
    public var seed: UInt64
    /// Day every date is relative to, so generated data never drifts with the clock.
    public static let anchor = "2026-11-01"

    public init(profiles: Int, seed: UInt64) {
        self.profiles = profiles
        self.seed = seed
    }

    /// Figures about what was generated.
    public struct Summary: Sendable {
        public var profiles = 0
        public var bookings = 0
        public var memberships = 0
        public var consentRecords = 0
        public var messages = 0
        public var campaigns = 0
        public var audiences = 0
    }

    /// Writes a new store at `path`. The data goes to a temporary file first and is moved into
    /// place only when complete, so a failure never leaves a half-written store behind.
    public func generate(to path: String, progress: (@Sendable (Double) -> Void)? = nil) throws -> Summary {
        let temporary = path + ".partial-\(ProcessInfo.processInfo.processIdentifier)"
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: temporary + suffix) }
        do {
            let summary = try writeAll(to: temporary, progress: progress)
            for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
            try FileManager.default.moveItem(atPath: temporary, toPath: path)
            for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: temporary + suffix) }
            return summary
        } catch {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: temporary + suffix) }
            throw error
        }
    }

    func writeAll(to path: String, progress: (@Sendable (Double) -> Void)?) throws -> Summary {
        let store = try Store.open(path: path, create: true)
        var summary = Summary()
        try store.writer.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = OFF")
            try createSchema(db)
            try db.inTransaction {
                try writeDestinations(db)
                return .commit
            }
            try writePeople(db, summary: &summary, progress: progress)
            try db.execute(
                sql: """
                    CREATE INDEX bookings_profile ON bookings(profile_id);
                    CREATE INDEX bookings_destination ON bookings(destination_id);
                    CREATE INDEX bookings_departs ON bookings(departs);
                    CREATE INDEX profiles_country ON profiles(country);
                    CREATE INDEX profiles_signup ON profiles(signup_date);
                    """)
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        // Every date and date-time the generator wrote is canonical: rules need not re-check them.
        try store.recordTemporalColumnsCanonical()
        summary.audiences = try writeAudiences(store)
        summary.campaigns = try writeCampaigns(store)
        try store.writer.writeWithoutTransaction { db in
            try db.execute(sql: "ANALYZE")
            try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
        }
        try store.writer.close()
        return summary
    }

    func createSchema(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE destinations (
                    id INTEGER PRIMARY KEY,
                    code TEXT NOT NULL UNIQUE,
                    city TEXT NOT NULL,
                    country TEXT NOT NULL,
                    region TEXT NOT NULL,
                    kind TEXT NOT NULL
                );
                CREATE TABLE profiles (
                    id INTEGER PRIMARY KEY,
                    email TEXT,
                    phone TEXT,
                    push_token TEXT,
                    first_name TEXT NOT NULL,
                    last_name TEXT NOT NULL,
                    country TEXT,
                    city TEXT,
                    language TEXT,
                    time_zone TEXT,
                    postal_address TEXT,
                    birth_date DATE,
                    signup_date DATE NOT NULL,
                    last_booking_date DATE,
                    lifetime_value REAL NOT NULL DEFAULT 0
                );
                CREATE TABLE bookings (
                    id INTEGER PRIMARY KEY,
                    profile_id INTEGER NOT NULL REFERENCES profiles(id),
                    destination_id INTEGER NOT NULL REFERENCES destinations(id),
                    status TEXT NOT NULL,
                    booked_at DATETIME NOT NULL,
                    departs DATE NOT NULL,
                    returns DATE NOT NULL,
                    travellers INTEGER NOT NULL,
                    amount REAL NOT NULL,
                    channel TEXT NOT NULL
                );
                CREATE TABLE loyalty_memberships (
                    id INTEGER PRIMARY KEY,
                    profile_id INTEGER NOT NULL UNIQUE REFERENCES profiles(id),
                    tier TEXT NOT NULL,
                    points INTEGER NOT NULL,
                    joined DATE NOT NULL
                );
                """)
    }

    static let destinations: [(String, String, String, String, String)] = [
        ("LIS", "Lisbon", "PT", "Europe", "city"), ("BCN", "Barcelona", "ES", "Europe", "city"),
        ("PMI", "Palma", "ES", "Europe", "beach"), ("AGP", "Malaga", "ES", "Europe", "beach"),
        ("FCO", "Rome", "IT", "Europe", "city"), ("NAP", "Naples", "IT", "Europe", "city"),
        ("CTA", "Catania", "IT", "Europe", "beach"), ("ATH", "Athens", "GR", "Europe", "city"),
        ("JTR", "Santorini", "GR", "Europe", "beach"), ("HER", "Heraklion", "GR", "Europe", "beach"),
        ("CDG", "Paris", "FR", "Europe", "city"), ("NCE", "Nice", "FR", "Europe", "beach"),
        ("BER", "Berlin", "DE", "Europe", "city"), ("MUC", "Munich", "DE", "Europe", "city"),
        ("AMS", "Amsterdam", "NL", "Europe", "city"), ("DUB", "Dublin", "IE", "Europe", "city"),
        ("EDI", "Edinburgh", "GB", "Europe", "city"), ("LHR", "London", "GB", "Europe", "city"),
        ("PRG", "Prague", "CZ", "Europe", "city"), ("VIE", "Vienna", "AT", "Europe", "city"),
        ("BUD", "Budapest", "HU", "Europe", "city"), ("KRK", "Krakow", "PL", "Europe", "city"),
        ("DBV", "Dubrovnik", "HR", "Europe", "beach"), ("SPU", "Split", "HR", "Europe", "beach"),
        ("IST", "Istanbul", "TR", "Europe", "city"), ("AYT", "Antalya", "TR", "Europe", "beach"),
        ("RAK", "Marrakech", "MA", "Africa", "city"), ("CPT", "Cape Town", "ZA", "Africa", "city"),
        ("ZNZ", "Zanzibar", "TZ", "Africa", "beach"), ("MRU", "Mauritius", "MU", "Africa", "beach"),
        ("JFK", "New York", "US", "Americas", "city"), ("MIA", "Miami", "US", "Americas", "beach"),
        ("YUL", "Montreal", "CA", "Americas", "city"), ("CUN", "Cancun", "MX", "Americas", "beach"),
        ("GIG", "Rio de Janeiro", "BR", "Americas", "beach"), ("LIM", "Lima", "PE", "Americas", "city"),
        ("HND", "Tokyo", "JP", "Asia", "city"), ("ICN", "Seoul", "KR", "Asia", "city"),
        ("BKK", "Bangkok", "TH", "Asia", "city"), ("HKT", "Phuket", "TH", "Asia", "beach"),
        ("DPS", "Bali", "ID", "Asia", "beach"), ("SIN", "Singapore", "SG", "Asia", "city"),
        ("MLE", "Maldives", "MV", "Asia", "beach"), ("DXB", "Dubai", "AE", "Asia", "city"),
        ("SYD", "Sydney", "AU", "Oceania", "city"), ("AKL", "Auckland", "NZ", "Oceania", "city"),
        ("REK", "Reykjavik", "IS", "Europe", "nature"), ("TOS", "Tromso", "NO", "Europe", "nature"),
    ]

    static let countries: [(code: String, weight: Int, language: String, zone: String, cities: [String])] = [
        ("FR", 22, "fr", "Europe/Paris", ["Paris", "Lyon", "Marseille", "Toulouse", "Lille", "Nantes"]),
        ("DE", 18, "de", "Europe/Berlin", ["Berlin", "Hamburg", "Munich", "Cologne", "Frankfurt"]),
        ("GB", 16, "en", "Europe/London", ["London", "Manchester", "Bristol", "Leeds", "Glasgow"]),
        ("ES", 10, "es", "Europe/Madrid", ["Madrid", "Barcelona", "Valencia", "Seville"]),
        ("IT", 9, "it", "Europe/Rome", ["Rome", "Milan", "Turin", "Bologna"]),
        ("NL", 6, "nl", "Europe/Amsterdam", ["Amsterdam", "Rotterdam", "Utrecht"]),
        ("BE", 4, "fr", "Europe/Brussels", ["Brussels", "Antwerp", "Ghent"]),
        ("CH", 4, "de", "Europe/Zurich", ["Zurich", "Geneva", "Basel"]),
        ("US", 6, "en", "America/New_York", ["New York", "Boston", "Chicago"]),
        ("CA", 3, "en", "America/Toronto", ["Toronto", "Montreal", "Ottawa"]),
        ("PT", 2, "pt", "Europe/Lisbon", ["Lisbon", "Porto"]),
    ]

    static let firstNames = [
        "Alice", "Bruno", "Chloé", "David", "Elena", "Farid", "Greta", "Hugo", "Inès", "Jonas", "Kenji", "Léa", "Mateo",
        "Nora", "Oskar", "Paula", "Quentin", "Rosa", "Samir", "Tove", "Ugo", "Valentina", "Wei", "Xavier", "Yasmin",
        "Zoé", "Émile", "Björn", "Sofía", "Łukasz", "Ana", "Ben", "Clara", "Dmitri", "Eva", "Finn", "Giulia", "Hannah",
    ]
    static let lastNames = [
        "Martin", "Müller", "Smith", "García", "Rossi", "de Vries", "Dubois", "Schmidt", "Jones", "López", "Bianchi",
        "Jansen", "Lefèvre", "Fischer", "Taylor", "Fernández", "Romano", "Bakker", "Moreau", "Weber", "Brown", "Sánchez",
        "Ricci", "Visser", "O'Brien", "Nakamura", "Kowalski", "Silva", "Andersen", "Novak",
    ]

    func writeDestinations(_ db: Database) throws {
        let statement = try db.makeStatement(
            sql: "INSERT INTO destinations (id, code, city, country, region, kind) VALUES (?, ?, ?, ?, ?, ?)")
        for (i, d) in Self.destinations.enumerated() {
            try statement.execute(arguments: [i + 1, d.0, d.1, d.2, d.3, d.4])
        }
    }

    func writePeople(_ db: Database, summary: inout Summary, progress: (@Sendable (Double) -> Void)?) throws {
        var random = SplitMix64(seed: seed)
        let anchorDay = CivilDate.days(from: Self.anchor)!
        let profile = try db.makeStatement(
            sql: """
                INSERT INTO profiles (id, email, phone, push_token, first_name, last_name, country, city, language, time_zone,
                  postal_address, birth_date, signup_date, last_booking_date, lifetime_value)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        let booking = try db.makeStatement(
            sql: """
                INSERT INTO bookings (id, profile_id, destination_id, status, booked_at, departs, returns, travellers, amount, channel)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        let membership = try db.makeStatement(
            sql: "INSERT INTO loyalty_memberships (id, profile_id, tier, points, joined) VALUES (?, ?, ?, ?, ?)")
        let consent = try db.makeStatement(
            sql: "INSERT INTO herald_consent (profile_key, channel, status, source, updated_at) VALUES (?, ?, ?, ?, ?)")
        let message = try db.makeStatement(
            sql: """
                INSERT INTO herald_messages (run_id, campaign_id, node_id, profile_key, channel, address, status, reason, attempts,
                  created_at, updated_at)
                VALUES (NULL, NULL, NULL, ?, ?, NULL, ?, ?, ?, ?, ?)
                """)
        let totalWeight = Self.countries.reduce(0) { $0 + $1.weight }
        let asciiFirst = Self.firstNames.map { ascii($0).lowercased() }
        let asciiLast = Self.lastNames.map { ascii($0).lowercased() }
        var bookingID = 0
        let batch = 50_000
        let statuses = ["confirmed", "confirmed", "confirmed", "completed", "completed", "cancelled", "pending"]
        let channels = ["web", "web", "app", "app", "agent"]
        let tiers = ["silver", "silver", "silver", "gold", "gold", "platinum"]
        let consentStates = [
            "opted_in", "opted_in", "opted_in", "opted_in", "opted_in", "opted_in", "opted_in", "opted_in", "opted_out", "unknown",
        ]

        var nextID = 1
        while nextID <= profiles {
            let batchEnd = min(profiles, nextID + batch - 1)
            try db.inTransaction {
                for id in nextID...batchEnd {
                    var pick = Int(random.next(below: UInt64(totalWeight)))
                    var country = Self.countries[0]
                    for c in Self.countries {
                        if pick < c.weight {
                            country = c
                            break
                        }
                        pick -= c.weight
                    }
                    let firstIndex = Int(random.next(below: UInt64(Self.firstNames.count)))
                    let lastIndex = Int(random.next(below: UInt64(Self.lastNames.count)))
                    let first = Self.firstNames[firstIndex]
                    let last = Self.lastNames[lastIndex]
                    let city = country.cities[Int(random.next(below: UInt64(country.cities.count)))]
                    let signupDay = anchorDay - Int(random.next(below: 6 * 365))
                    let birthDay = anchorDay - 365 * 18 - Int(random.next(below: 365 * 60))
                    let localPart = "\(asciiFirst[firstIndex]).\(asciiLast[lastIndex]).\(id)"
                    let email: String? = random.next(below: 100) < 96 ? "\(localPart)@example.com" : nil
                    let phone: String? =
                        random.next(below: 100) < 70
                        ? "+99 " + Digits.padded(id / 10000 % 1000, 3) + " " + Digits.padded(id % 10000, 4) : nil
                    let push: String? = random.next(below: 100) < 35 ? "tok_" + Digits.hex16(random.next()) : nil
                    let address = "\(1 + random.next(below: 200)) Example Street, \(city), \(country.code)"

                    let bookingCount = Int(random.next(below: 11))  // 0…10, five on average
                    var lastBooking: Int?
                    var lifetime = 0.0
                    var rows: [StatementArguments] = []
                    for _ in 0..<bookingCount {
                        bookingID += 1
                        let destination = 1 + Int(random.next(below: UInt64(Self.destinations.count)))
                        let bookedDay = signupDay + Int(random.next(below: UInt64(max(1, anchorDay - signupDay + 1))))
                        let departs = bookedDay + 3 + Int(random.next(below: 200))
                        let nights = 2 + Int(random.next(below: 14))
                        let travellers = 1 + Int(random.next(below: 4))
                        let amount =
                            Double(travellers * (120 + Int(random.next(below: 900))) + nights * 35) + Double(random.next(below: 100)) / 100
                        var status = statuses[Int(random.next(below: UInt64(statuses.count)))]
                        if departs + nights < anchorDay && status == "confirmed" { status = "completed" }
                        if departs > anchorDay && status == "completed" { status = "confirmed" }
                        let minute = Int(random.next(below: 24 * 60))
                        let bookedAt =
                            CivilDate.text(bookedDay) + "T" + Digits.padded(minute / 60, 2) + ":" + Digits.padded(minute % 60, 2) + ":00Z"
                        rows.append([
                            bookingID, id, destination, status, bookedAt, CivilDate.text(departs), CivilDate.text(departs + nights),
                            travellers, amount, channels[Int(random.next(below: UInt64(channels.count)))],
                        ])
                        if status != "cancelled" {
                            lastBooking = max(lastBooking ?? bookedDay, bookedDay)
                            lifetime += amount
                        }
                    }
                    summary.bookings += bookingCount
                    try profile.execute(arguments: [
                        id, email, phone, push, first, last, country.code, city, country.language, country.zone, address,
                        CivilDate.text(birthDay), CivilDate.text(signupDay), lastBooking.map(CivilDate.text),
                        (lifetime * 100).rounded() / 100,
                    ])
                    for row in rows { try booking.execute(arguments: row) }
                    if random.next(below: 100) < 35 {
                        summary.memberships += 1
                        let joined = signupDay + Int(random.next(below: UInt64(max(1, anchorDay - signupDay))))
                        try membership.execute(arguments: [
                            summary.memberships, id, tiers[Int(random.next(below: UInt64(tiers.count)))], Int(random.next(below: 50_000)),
                            CivilDate.text(joined),
                        ])
                    }
                    let consentDay = CivilDate.text(signupDay) + "T00:00:00Z"
                    for channel in ["email", "sms"] {
                        let state = consentStates[Int(random.next(below: UInt64(consentStates.count)))]
                        try consent.execute(arguments: [id, channel, state, "signup form", consentDay])
                        summary.consentRecords += 1
                    }
                    if random.next(below: 100) < 12 {
                        for _ in 0..<(1 + Int(random.next(below: 3))) {
                            let day = anchorDay - 1 - Int(random.next(below: 90))
                            let at = CivilDate.text(day) + "T09:00:00Z"
                            let channel = random.next(below: 4) == 0 ? "sms" : "email"
                            let sent = random.next(below: 20) != 0
                            try message.execute(arguments: [
                                id, channel, sent ? "sent" : "failed", sent ? nil : "provider rejected", 1, at, at,
                            ])
                            summary.messages += 1
                        }
                    }
                    summary.profiles += 1
                }
                return .commit
            }
            progress?(Double(batchEnd) / Double(profiles))
            nextID = batchEnd + 1
        }
    }

    /// Drops accents for e-mail local parts ("Chloé" → "chloe").
    func ascii(_ s: String) -> String {
        let folded = s.folding(options: [.diacriticInsensitive, .caseInsensitive], locale: nil)
        return String(folded.unicodeScalars.filter { $0.isASCII && ($0.properties.isAlphabetic || $0 == "-") }.map(Character.init))
            .replacingOccurrences(of: "ł", with: "l")
    }

    func writeAudiences(_ store: Store) throws -> Int {
        try store.write { db in
            let now = DemoGenerator.anchor + "T08:00:00Z"
            let audiences: [(String, String, String, String)] = [
                ("VIP travellers", "profiles", "loyalty_memberships.tier in (\"gold\", \"platinum\")", "Gold and platinum loyalty members"),
                ("French speakers", "profiles", "language = \"fr\"", "Profiles whose language is French"),
                (
                    "Upcoming beach trips", "bookings",
                    "status = \"confirmed\" and departs >= \"2026-11-01\" and destination.kind = \"beach\"",
                    "Confirmed bookings to beach destinations from the anchor date"
                ),
            ]
            for (name, entity, rule, description) in audiences {
                try db.execute(
                    sql: "INSERT INTO herald_audiences (name, entity, rule, kind, description, created_at) VALUES (?, ?, ?, 'live', ?, ?)",
                    arguments: [name, entity, rule, description, now])
            }
            return audiences.count
        }
    }

    func writeCampaigns(_ store: Store) throws -> Int {
        let campaigns = try DemoCampaigns.all()
        for campaign in campaigns { try store.saveCampaign(campaign, replace: false) }
        return campaigns.count
    }
}

/// The example campaigns shipped in `sample.db`, kept as campaign files in `Examples/` too.
public enum DemoCampaigns {
    public static func all() throws -> [Campaign] {
        try [welcome, reminder, winBack, summerSale].map { try CampaignFormat.decode(text: $0) }
    }

    /// Exercises the kinds the others do not: an exclusion, a test on the inbound count, a wait
    /// until a time of day, a fork and an and-join, and a saved audience.
    static let summerSale = """
        {
          "format": "herald.campaign/2",
          "name": "Summer sale",
          "description": "Past customers who never cancelled, if there are enough of them: a morning email and an app push, then everyone reached is saved as an audience.",
          "timeZone": "Europe/Paris",
          "variables": {"minimum": 100},
          "nodes": [
            {"id": "customers", "kind": "buildAudience", "label": "Past customers", "entity": "profiles", "rule": "bookings.count(status = \\"completed\\") >= 1 and email is not empty"},
            {"id": "cancellers", "kind": "buildAudience", "label": "Ever cancelled", "entity": "profiles", "rule": "bookings.any(status = \\"cancelled\\")"},
            {"id": "exclude", "kind": "combine", "label": "Never cancelled", "operation": "exclusion"},
            {"id": "enough", "kind": "test", "label": "Enough of them?", "branches": [{"label": "Enough", "when": "count >= $minimum"}]},
            {"id": "tooFew", "kind": "end", "label": "Too few"},
            {"id": "morning", "kind": "wait", "label": "Until 9 o'clock", "at": "09:00"},
            {"id": "both", "kind": "fork", "label": "Email and push", "branches": 2},
            {"id": "mail", "kind": "email", "label": "Summer sale email", "category": "marketing", "messagePer": "profile",
             "subject": "Summer sale: 20% off, {{profile.first_name}}", "text": "Book before Sunday for 20% off any summer trip."},
            {"id": "app", "kind": "push", "label": "Summer sale push", "category": "marketing", "messagePer": "profile",
             "title": "Summer sale", "body": "20% off any summer trip until Sunday."},
            {"id": "reached", "kind": "andJoin", "label": "Everyone reached", "inputs": 2},
            {"id": "save", "kind": "saveAudience", "label": "Save as 'Summer sale reached'", "audience": "Summer sale reached"},
            {"id": "done", "kind": "end", "label": "End"}
          ],
          "edges": [
            {"from": "customers", "fromPort": "out", "to": "exclude", "toPort": "primary"},
            {"from": "cancellers", "fromPort": "out", "to": "exclude", "toPort": "secondary"},
            {"from": "exclude", "fromPort": "out", "to": "enough", "toPort": "in"},
            {"from": "enough", "fromPort": "branch1", "to": "morning", "toPort": "in"},
            {"from": "enough", "fromPort": "default", "to": "tooFew", "toPort": "in"},
            {"from": "morning", "fromPort": "out", "to": "both", "toPort": "in"},
            {"from": "both", "fromPort": "branch1", "to": "mail", "toPort": "in"},
            {"from": "both", "fromPort": "branch2", "to": "app", "toPort": "in"},
            {"from": "mail", "fromPort": "out", "to": "reached", "toPort": "in1"},
            {"from": "app", "fromPort": "out", "to": "reached", "toPort": "in2"},
            {"from": "reached", "fromPort": "out", "to": "save", "toPort": "in"},
            {"from": "save", "fromPort": "out", "to": "done", "toPort": "in"}
          ]
        }
        """

    static let welcome = """
        {
          "format": "herald.campaign/1",
          "name": "Welcome series",
          "description": "Greets October sign-ups, waits three days, then sends app users a push and A/B tests two inspiration emails on the rest.",
          "timeZone": "Europe/Paris",
          "nodes": [
            {"id": "signups", "kind": "buildAudience", "label": "New sign-ups", "entity": "profiles", "rule": "signup_date >= \\"2026-10-01\\" and email is not empty"},
            {"id": "welcome", "kind": "email", "label": "Welcome email", "category": "marketing", "messagePer": "profile",
             "subject": "Welcome aboard, {{profile.first_name}}!", "text": "Hello {{profile.first_name}}, thanks for joining Herald Travel."},
            {"id": "wait", "kind": "wait", "label": "Wait 3 days", "duration": "3d"},
            {"id": "split", "kind": "split", "label": "App or A/B", "seed": 42, "subsets": [
              {"label": "App users", "rule": "push_token is not empty"},
              {"label": "Variant A", "percent": 50}
            ]},
            {"id": "push", "kind": "push", "label": "App deals push", "category": "marketing", "messagePer": "profile",
             "title": "Your trips, in your pocket", "body": "Deals for {{profile.city}} travellers are waiting in the app."},
            {"id": "cityBreaks", "kind": "email", "label": "City breaks (A)", "category": "marketing", "messagePer": "profile",
             "subject": "Three city breaks for this winter", "text": "Lisbon, Prague, Vienna: pick yours."},
            {"id": "beaches", "kind": "email", "label": "Beaches (B)", "category": "marketing", "messagePer": "profile",
             "subject": "Sun is never far away", "text": "Zanzibar, Bali, Cancun: escape the winter."}
          ],
          "edges": [
            {"from": "signups", "port": "out", "to": "welcome"},
            {"from": "welcome", "port": "out", "to": "wait"},
            {"from": "wait", "port": "out", "to": "split"},
            {"from": "split", "port": "subset1", "to": "push"},
            {"from": "split", "port": "subset2", "to": "cityBreaks"},
            {"from": "split", "port": "complement", "to": "beaches"}
          ]
        }
        """

    static let reminder = """
        {
          "format": "herald.campaign/1",
          "name": "Departure reminder",
          "description": "One email per confirmed booking departing in the next two weeks, to the booking's traveller.",
          "timeZone": "UTC",
          "nodes": [
            {"id": "departing", "kind": "buildAudience", "label": "Departing soon", "entity": "bookings", "rule": "status = \\"confirmed\\" and departs >= \\"2026-11-01\\" and departs <= \\"2026-11-14\\""},
            {"id": "reminder", "kind": "email", "label": "Trip reminder", "category": "transactional", "messagePer": "entity",
             "subject": "Your trip to {{target.destination.city}} departs on {{target.departs}}", "text": "Have your documents ready, {{profile.first_name}}."},
            {"id": "done", "kind": "end", "label": "End"}
          ],
          "edges": [
            {"from": "departing", "port": "out", "to": "reminder"},
            {"from": "reminder", "port": "out", "to": "done"}
          ]
        }
        """

    static let winBack = """
        {
          "format": "herald.campaign/1",
          "name": "Win-back",
          "description": "Profiles in core markets who have not booked for a year: loyalty members get an SMS, the others an email, each capped.",
          "timeZone": "Europe/London",
          "nodes": [
            {"id": "lapsed", "kind": "buildAudience", "label": "Lapsed customers", "entity": "profiles", "rule": "last_booking_date < \\"2025-11-01\\" and country in (\\"FR\\", \\"DE\\", \\"GB\\", \\"ES\\", \\"IT\\")"},
            {"id": "tier", "kind": "split", "label": "Loyalty tier", "seed": 7, "subsets": [
              {"label": "Members", "rule": "loyalty_memberships.tier is not empty"}
            ]},
            {"id": "sms", "kind": "sms", "label": "Members SMS", "category": "marketing", "messagePer": "profile",
             "text": "{{profile.first_name}}, your points are waiting: 20% off your next trip.", "frequencyCap": {"max": 1, "days": 30}},
            {"id": "email", "kind": "email", "label": "We miss you", "category": "marketing", "messagePer": "profile",
             "subject": "We miss you, {{profile.first_name}}", "text": "Here is 15% off to come back.", "frequencyCap": {"max": 2, "days": 30}}
          ],
          "edges": [
            {"from": "lapsed", "port": "out", "to": "tier"},
            {"from": "tier", "port": "subset1", "to": "sms"},
            {"from": "tier", "port": "complement", "to": "email"}
          ]
        }
        """
}

/// Zero-padded numbers without Foundation's formatter, which dominates generation time otherwise.
enum Digits {
    static func padded(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }

    static func hex16(_ value: UInt64) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: 16 - text.count) + text
    }
}
