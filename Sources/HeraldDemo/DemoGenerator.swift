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
            // The old store's journal must not be applied to the new file.
            for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            // rename(2) replaces a file at once and refuses a directory, which is never removed.
            guard rename(temporary, path) == 0 else {
                throw HeraldError(.io, "cannot put the store at \(path): \(String(cString: strerror(errno)))")
            }
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
        try store.close()
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

/// The example campaigns shipped in `sample.db`: the files in `Examples/`, embedded when Herald
/// is built, in the order they are saved (a campaign another one starts comes first).
public enum DemoCampaigns {
    static let order = ["welcome-series", "departure-reminder", "win-back", "summer-sale", "beach-brochure"]

    public static func all() throws -> [Campaign] {
        let files = Dictionary(ExampleFiles.all.map { ($0.name, $0.text) }, uniquingKeysWith: { a, _ in a })
        let unlisted = Set(files.keys).subtracting(order)
        guard unlisted.isEmpty, order.allSatisfy({ files[$0] != nil }) else {
            throw HeraldError(
                .internalFailure,
                "the embedded examples (\(files.keys.sorted().joined(separator: ", "))) do not match the demo's list (\(order.joined(separator: ", ")))"
            )
        }
        return try order.map { name in
            do { return try CampaignFormat.decode(text: files[name]!) } catch {
                throw HeraldError(.internalFailure, "the example Examples/\(name).json does not read: \(error)")
            }
        }
    }
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
