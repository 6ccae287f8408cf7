// Audience counts, end to end in Herald (parse + compile + execute + count), against two
// baselines timed by the sqlite3 shell on the same file, in the same run:
//   - the naive query a person would write by hand (correlated subqueries for one-to-many
//     links), in a shell with its default settings;
//   - Herald's own generated SQL with its bound values, in a shell given the same connection
//     settings Herald uses (memory-mapped I/O, cache, temp storage).
// Release build only.
//
// Every side is timed in processor seconds (user + system: the shell's `.timer` reports them to
// the microsecond, where its wall clock has millisecond steps) and in wall-clock seconds.
//
//   swift run -c release herald-bench bench-data/demo.db [ROUNDS] [--apply-indexes] [--only TEXT]
//
// --apply-indexes first creates the covering indexes `herald catalog indexes` would advise for
// these rules (herald_idx_…; `herald catalog indexes --drop` removes them).
import Foundation
import HeraldCore
import HeraldEngine
import HeraldStore

struct Case {
    var name: String
    var entity: String
    var rule: String
    var sql: String
}

let cases: [Case] = [
    Case(
        name: "selective, indexed", entity: "profiles", rule: #"country = "NL""#, sql: "SELECT count(*) FROM profiles WHERE country = 'NL';"
    ),
    Case(
        name: "broad scan", entity: "profiles", rule: "lifetime_value > 5000",
        sql: "SELECT count(*) FROM profiles WHERE lifetime_value > 5000;"),
    Case(
        name: "date window", entity: "profiles", rule: #"signup_date between "2025-01-01" and "2025-06-30""#,
        sql: "SELECT count(*) FROM profiles WHERE signup_date BETWEEN '2025-01-01' AND '2025-06-30';"),
    Case(
        name: "text prefix", entity: "profiles", rule: #"email starts with "alice.""#,
        sql: "SELECT count(*) FROM profiles WHERE instr(email, 'alice.') = 1;"),
    Case(
        name: "N-1 navigation (bookings)", entity: "bookings", rule: #"destination.kind = "beach" and status = "confirmed""#,
        sql:
            "SELECT count(*) FROM bookings b JOIN destinations d ON d.id = b.destination_id WHERE d.kind = 'beach' AND b.status = 'confirmed';"
    ),
    Case(
        name: "N-1 to the profile", entity: "bookings", rule: #"profile.country = "FR" and departs >= "2026-11-01""#,
        sql: "SELECT count(*) FROM bookings b JOIN profiles p ON p.id = b.profile_id WHERE p.country = 'FR' AND b.departs >= '2026-11-01';"),
    Case(
        name: "1-1 link", entity: "profiles", rule: #"loyalty_memberships.tier in ("gold", "platinum")"#,
        sql: "SELECT count(*) FROM profiles p JOIN loyalty_memberships m ON m.profile_id = p.id WHERE m.tier IN ('gold', 'platinum');"),
    Case(
        name: "1-N exists", entity: "profiles", rule: #"bookings.any(status = "cancelled")"#,
        sql: "SELECT count(*) FROM profiles p WHERE EXISTS (SELECT 1 FROM bookings b WHERE b.profile_id = p.id AND b.status = 'cancelled');"
    ),
    Case(
        name: "1-N none", entity: "profiles", rule: "bookings.none()",
        sql: "SELECT count(*) FROM profiles p WHERE NOT EXISTS (SELECT 1 FROM bookings b WHERE b.profile_id = p.id);"),
    Case(
        name: "1-N count", entity: "profiles", rule: #"bookings.count(status = "confirmed") >= 3"#,
        sql:
            "SELECT count(*) FROM profiles p WHERE (SELECT count(*) FROM bookings b WHERE b.profile_id = p.id AND b.status = 'confirmed') >= 3;"
    ),
    Case(
        name: "1-N sum", entity: "profiles", rule: #"bookings.sum(amount where status = "completed") > 5000"#,
        sql:
            "SELECT count(*) FROM profiles p WHERE (SELECT coalesce(sum(amount), 0) FROM bookings b WHERE b.profile_id = p.id AND b.status = 'completed') > 5000;"
    ),
    Case(
        name: "1-N latest", entity: "profiles", rule: #"bookings.latest(departs) < "2026-01-01""#,
        sql: "SELECT count(*) FROM profiles p WHERE (SELECT max(departs) FROM bookings b WHERE b.profile_id = p.id) < '2026-01-01';"),
    Case(
        name: "saved audience + filter", entity: "profiles", rule: #"in_audience("VIP travellers") and country = "FR""#,
        sql:
            "SELECT count(*) FROM profiles p WHERE p.country = 'FR' AND p.id IN (SELECT m.profile_id FROM loyalty_memberships m WHERE m.tier IN ('gold', 'platinum'));"
    ),
    Case(
        name: "markets + 1-N date window", entity: "profiles",
        rule: #"country in ("FR", "DE") and bookings.count(status = "confirmed" and departs > "2026-10-01") >= 2"#,
        sql:
            "SELECT count(*) FROM profiles p WHERE p.country IN ('FR', 'DE') AND (SELECT count(*) FROM bookings b WHERE b.profile_id = p.id AND b.status = 'confirmed' AND b.departs > '2026-10-01') >= 2;"
    ),
]

func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }

var arguments = CommandLine.arguments
let applyIndexes = arguments.contains("--apply-indexes")
arguments.removeAll { $0 == "--apply-indexes" }
// --only TEXT: just the rules whose name contains TEXT (to look at a few quickly).
var only: String?
if let i = arguments.firstIndex(of: "--only") {
    guard i + 1 < arguments.count else {
        FileHandle.standardError.write(Data("herald-bench: --only: expected part of a rule's name\n".utf8))
        exit(2)
    }
    only = arguments[i + 1]
    arguments.removeSubrange(i...(i + 1))
}
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: herald-bench STORE [ROUNDS] [--apply-indexes] [--only TEXT]\n".utf8))
    exit(2)
}
let path = arguments[1]
let rounds: Int
if arguments.count > 2 {
    guard let n = Int(arguments[2]), n >= 1 else {
        FileHandle.standardError.write(Data("herald-bench: ROUNDS: expected a whole number of at least 1, found '\(arguments[2])'\n".utf8))
        exit(2)
    }
    rounds = n
} else {
    rounds = 7
}
let store: Store
do { store = try Store.openForReading(path: path) } catch {
    FileHandle.standardError.write(Data("herald-bench: \(error)\n".utf8))
    exit(2)
}
// Time the queries themselves: a repeated count would otherwise come from the result cache.
let service = {
    var service = AudienceService(store: store)
    service.cachesResults = false
    return service
}()

/// One `sqlite3` shell kept open on the store for the whole benchmark, timing each statement with
/// its own `.timer`, so both sides run in turn on the same warm page cache.
final class Shell {
    let process = Process()
    let input = Pipe()
    let output = Pipe()
    var buffer = Data()
    static let marker = "herald-bench-sync"

    init(path: String, pragmas: [String] = []) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = ["-readonly", path]
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        for pragma in pragmas { send(pragma + ";") }
        send(".timer on")
    }

    /// Runs Herald's compiled statement with its values bound as the shell's parameters.
    func time(_ compiled: CompiledSQL) -> (Timing, count: Int) {
        send(".parameter clear")
        var sql = ""
        var index = 0
        for character in compiled.sql {
            if character == "?" {
                index += 1
                sql += "?\(index)"
            } else {
                sql.append(character)
            }
        }
        for (i, value) in compiled.arguments.enumerated() {
            let literal: String =
                switch value {
                case .null: "NULL"
                case .integer(let v): String(v)
                case .real(let v): "\(v)"
                case .text(let t): "'" + t.replacingOccurrences(of: "'", with: "''") + "'"
                }
            // A text value is quoted twice: once for the dot-command's argument, once as SQL.
            send(".parameter set ?\(i + 1) \"\(literal.replacingOccurrences(of: "\"", with: "\\\""))\"")
        }
        return time(sql + ";")
    }

    func send(_ line: String) { input.fileHandleForWriting.write(Data((line + "\n").utf8)) }

    func line() -> String {
        while true {
            if let end = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[buffer.startIndex..<end], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...end)
                return line
            }
            let more = output.fileHandleForReading.availableData
            if more.isEmpty {
                FileHandle.standardError.write(Data("herald-bench: the sqlite3 shell exited\n".utf8))
                exit(1)
            }
            buffer.append(more)
        }
    }

    /// Runs one statement; returns the shell's timing and the count it printed.
    func time(_ sql: String) -> (Timing, count: Int) {
        send(sql)
        send("SELECT '\(Self.marker)';")
        var timing: Timing?
        var count = -1
        while true {
            let text = line()
            if text == Self.marker {
                _ = line()  // the marker's own timing
                return (timing ?? Timing(wall: .nan, cpu: .nan), count)
            }
            // "Run Time: real 0.127 user 0.090000 sys 0.036000"
            let fields = text.split(separator: " ")
            if text.hasPrefix("Run Time: real "), timing == nil, fields.count >= 8,
                let real = Double(fields[3]), let user = Double(fields[5]), let sys = Double(fields[7])
            {
                timing = Timing(wall: real, cpu: user + sys)
            } else if let n = Int(text) {
                count = n
            }
        }
    }

    func close() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}

/// Wall-clock and processor (user + system) seconds of one execution.
struct Timing {
    var wall: Double
    var cpu: Double
}

func processorSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// Herald end to end: parse the rule text, compile it, run the count on a guarded connection.
func heraldTime(_ c: Case) throws -> (Timing, count: Int) {
    let cpu = processorSeconds()
    let start = DispatchTime.now().uptimeNanoseconds
    let rule = try Rule(parsing: c.rule)
    let n = try service.count(AudienceSource(entity: c.entity, rule: rule))
    let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    return (Timing(wall: wall, cpu: processorSeconds() - cpu), n)
}

if applyIndexes {
    let advisor = IndexAdvisor(service: service)
    let advice = try advisor.advice(for: try cases.map { ($0.entity, try Rule(parsing: $0.rule), IndexAdvisor.RuleOrigin.named($0.name)) })
    try advisor.apply(advice) { item in FileHandle.standardError.write(Data("building \(item.sql)\n".utf8)) }
    print("indexes: " + (advice.isEmpty ? "none advised" : advice.map(\.sql).joined(separator: "; ")) + "\n")
}
let naive = try Shell(path: path)
let tuned = try Shell(path: path, pragmas: ReadTuning.current(path: path).pragmas)
print("| rule | form | rows | rounds | herald s | naive SQL s | **herald / naive** | Herald's SQL in the shell s | **herald / own SQL** |")
print("|---|---|---|---|---|---|---|---|---|")
var naiveRatios: [(Double, Bool)] = []
var ownRatios: [Double] = []
for c in cases where only.map({ c.name.contains($0) }) ?? true {
    let rule = try Rule(parsing: c.rule)
    let compiled = try service.compiler().count(entity: c.entity, rule: rule)
    let oneToMany = !compiled.notes.isEmpty
    let form =
        compiled.notes.compactMap { note in
            note.components(separatedBy: ": ").dropFirst().first?.components(separatedBy: ",").first
                .flatMap(OneToManyForm.init(rawValue:))?.rawValue
        }
        .joined(separator: " + ") + (compiled.notes.contains { $0.hasPrefix("none(…) counted as") } ? " (difference)" : "")
    // One warm-up each (counts must agree), then rounds that rotate which side goes first, so
    // drift in the machine's load or page cache favours none of them.
    let (warmUp, n) = try heraldTime(c)
    let (naiveWarm, naiveCount) = naive.time(c.sql)
    let (_, ownCount) = tuned.time(compiled)
    if naiveCount != n || ownCount != n {
        print("| \(c.name) | MISMATCH: herald \(n), naive SQL \(naiveCount), Herald's SQL in the shell \(ownCount) |")
        exit(1)
    }
    // Short queries get more rounds (about six seconds' worth per side), so their rounds spread
    // over more than one of the machine's slow or fast spells; slow naive queries get fewer.
    let slowest = max(warmUp.wall, naiveWarm.wall, 0.000_1)
    let caseRounds = max(rounds, min(3000, Int(6 / slowest)))
    var herald: [Timing] = []
    var baseline: [Timing] = []
    var own: [Timing] = []
    for round in 0..<caseRounds {
        for step in 0..<3 {
            switch (round + step) % 3 {
            case 0: herald.append(try heraldTime(c).0)
            case 1: baseline.append(naive.time(c.sql).0)
            default: own.append(tuned.time(compiled).0)
            }
        }
    }
    // Each round's runs are neighbours in time and share the machine's state, so a ratio is
    // the median of the rounds' own ratios; the seconds shown are each side's best round.
    let naiveRatio = median(zip(herald, baseline).map { $0.cpu / max($1.cpu, 0.000_001) })
    let ownRatio = median(zip(herald, own).map { $0.cpu / max($1.cpu, 0.000_001) })
    naiveRatios.append((naiveRatio, oneToMany))
    ownRatios.append(ownRatio)
    print(
        String(
            format: "| %@ `%@` | %@ | %d | %d | %.4f | %.4f | **%.2f** | %.4f | **%.2f** |", c.name,
            c.rule.replacingOccurrences(of: "|", with: "\\|"), form.isEmpty ? "-" : form, n, caseRounds, herald.map(\.cpu).min()!,
            baseline.map(\.cpu).min()!, naiveRatio, own.map(\.cpu).min()!, ownRatio))
}
naive.close()
tuned.close()
let oneToManyRatios = naiveRatios.filter(\.1).map(\.0)
let otherRatios = naiveRatios.filter { !$0.1 }.map(\.0)
print(
    String(
        format:
            "\nprocessor time, median of at least %d rotating rounds per rule:\n"
            + "  one-to-many rules vs naive SQL: worst %.2f, median %.2f (target <= 0.33)\n"
            + "  other rules vs naive SQL: worst %.2f, median %.2f (target <= 1.1)\n"
            + "  every rule vs Herald's SQL in the shell: worst %.2f, median %.2f (target <= 1.1)",
        rounds, oneToManyRatios.max() ?? 0, oneToManyRatios.isEmpty ? 0 : median(oneToManyRatios), otherRatios.max() ?? 0,
        otherRatios.isEmpty ? 0 : median(otherRatios), ownRatios.max() ?? 0, median(ownRatios)))
