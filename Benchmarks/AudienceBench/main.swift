// Audience counts, end to end in Herald (parse + compile + execute + count), against the same
// query hand-written and timed by the sqlite3 shell on the same file. Release build only.
//
//   swift run -c release herald-bench bench-data/demo.db
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

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: herald-bench STORE [RUNS]\n".utf8))
    exit(2)
}
let path = arguments[1]
let runs = arguments.count > 2 ? max(1, Int(arguments[2]) ?? 3) : 3
let store = try Store.open(path: path)
let service = AudienceService(store: store)

/// The shell's own timer, over `runs` runs after one warm-up, for one statement.
func shellSeconds(_ sql: String) throws -> (Double, Int) {
    let script = ".timer on\n" + String(repeating: sql + "\n", count: runs + 1)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
    process.arguments = ["-readonly", path]
    let input = Pipe()
    let output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    try process.run()
    input.fileHandleForWriting.write(Data(script.utf8))
    try input.fileHandleForWriting.close()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    let lines = text.split(separator: "\n")
    let times = lines.filter { $0.hasPrefix("Run Time: real ") }.compactMap { Double($0.split(separator: " ")[3]) }
    let count = lines.compactMap { Int($0) }.first ?? -1
    return (median(Array(times.dropFirst())), count)
}

print("| rule | entity | rows | herald s | sqlite3 s | ratio |")
print("|---|---|---|---|---|---|")
var ratios: [Double] = []
for c in cases {
    _ = try service.count(AudienceSource(entity: c.entity, rule: try Rule(parsing: c.rule)))  // warm-up
    var times: [Double] = []
    var n = 0
    for _ in 0..<runs {
        let start = DispatchTime.now().uptimeNanoseconds
        let rule = try Rule(parsing: c.rule)
        n = try service.count(AudienceSource(entity: c.entity, rule: rule))
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    let herald = median(times)
    let (shell, shellCount) = try shellSeconds(c.sql)
    if shellCount != n {
        print("| \(c.name) | MISMATCH: herald \(n), shell \(shellCount) |")
        exit(1)
    }
    let ratio = herald / shell
    ratios.append(ratio)
    print(
        String(
            format: "| %@ `%@` | %@ | %d | %.3f | %.3f | %.2f |", c.name, c.rule.replacingOccurrences(of: "|", with: "\\|"), c.entity, n,
            herald, shell, ratio))
}
print(
    String(
        format: "\nworst ratio %.2f, median %.2f over %d rules (%d runs each, median)", ratios.max() ?? 0, median(ratios), ratios.count,
        runs))
