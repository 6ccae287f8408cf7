#!/usr/bin/env bash
# Benchmark: `herald demo` at scale, against the sqlite3 shell inserting the same number of
# rows into the same tables (one transaction each, no indexes until the end) on this machine.
#
#   Benchmarks/demo-generation.sh [PROFILES]     (default 1000000)
#
# Prints Herald's wall time and peak memory, the shell's time, and the ratio. Release build.
set -euo pipefail
cd "$(dirname "$0")/.."
profiles="${1:-1000000}"
. Benchmarks/setup.sh

rm -f "$out/demo.db" "$out/baseline.db"
/usr/bin/time -f "%e %M" -o "$out/herald.time" "$bin" demo --out "$out/demo.db" --profiles "$profiles" --force
read -r herald_s herald_kb < "$out/herald.time"
bookings=$(sqlite3 "$out/demo.db" "SELECT count(*) FROM bookings")
memberships=$(sqlite3 "$out/demo.db" "SELECT count(*) FROM loyalty_memberships")
consent=$(sqlite3 "$out/demo.db" "SELECT count(*) FROM herald_consent")

# Baseline: the same schema and row counts, values computed in SQL by the shell.
sqlite3 "$out/demo.db" ".schema profiles" ".schema bookings" ".schema loyalty_memberships" ".schema destinations" \
  | grep -v "CREATE INDEX" > "$out/schema.sql"
/usr/bin/time -f "%e %M" -o "$out/baseline.time" sqlite3 "$out/baseline.db" <<SQL
PRAGMA journal_mode = WAL;
PRAGMA synchronous = OFF;
.read $out/schema.sql
CREATE TABLE herald_consent (profile_key NOT NULL, channel TEXT NOT NULL, status TEXT NOT NULL, source TEXT NOT NULL DEFAULT '', updated_at TEXT NOT NULL, PRIMARY KEY (profile_key, channel)) WITHOUT ROWID;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 48)
INSERT INTO destinations SELECT i, 'C' || i, 'City ' || i, 'FR', 'Europe', 'city' FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $profiles)
INSERT INTO profiles SELECT i, 'p' || i || '@example.com', '+99 ' || i, NULL, 'First', 'Last', 'FR', 'Paris', 'fr',
  'Europe/Paris', i || ' Example Street', date('2000-01-01', '+' || (i % 20000) || ' days'),
  date('2021-01-01', '+' || (i % 2000) || ' days'), NULL, abs(random() % 10000) / 100.0 FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $bookings)
INSERT INTO bookings SELECT i, 1 + (i % $profiles), 1 + (i % 48), 'confirmed', '2026-01-01T10:00:00Z',
  date('2026-01-01', '+' || (i % 300) || ' days'), date('2026-01-08', '+' || (i % 300) || ' days'), 2, 500.0, 'web' FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $memberships)
INSERT INTO loyalty_memberships SELECT i, i, 'gold', 100, '2024-01-01' FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $profiles)
INSERT INTO herald_consent SELECT i, c.channel, 'opted_in', 'signup form', '2024-01-01T00:00:00Z' FROM n, (SELECT 'email' AS channel UNION ALL SELECT 'sms') c;
COMMIT;
CREATE INDEX bookings_profile ON bookings(profile_id);
CREATE INDEX bookings_destination ON bookings(destination_id);
CREATE INDEX bookings_departs ON bookings(departs);
CREATE INDEX profiles_country ON profiles(country);
CREATE INDEX profiles_signup ON profiles(signup_date);
ANALYZE;
SQL
read -r base_s base_kb < "$out/baseline.time"

printf '\n%-44s %10s %12s\n' "demo generation, $profiles profiles" "seconds" "peak MB"
printf '%-44s %10s %12s\n' "herald demo (release)" "$herald_s" "$((herald_kb / 1024))"
printf '%-44s %10s %12s\n' "sqlite3 shell, same tables and row counts" "$base_s" "$((base_kb / 1024))"
awk -v a="$herald_s" -v b="$base_s" 'BEGIN { printf "ratio herald / shell: %.2f\n", a / b }'
echo "rows: $profiles profiles, $bookings bookings, $memberships memberships, $consent consent records"
ls -la "$out/demo.db" | awk '{ printf "store size: %.0f MB\n", $5 / 1048576 }'
