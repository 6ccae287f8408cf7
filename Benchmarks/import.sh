#!/usr/bin/env bash
# Benchmark: `herald import` of a 1,000,000-row, 6-column CSV file into a new table, against the
# sqlite3 shell's `.import` of the same file into a new table, on this machine. Release build.
#
#   Benchmarks/import.sh [ROWS]     (default 1000000)
#
# The file is written by the sqlite3 shell from generated values (ids, names with accents,
# country codes, dates, decimals), so the benchmark needs no other store.
set -euo pipefail
cd "$(dirname "$0")/.."
rows="${1:-1000000}"
out="bench-data"
mkdir -p "$out"
scripts/deps
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }

echo "building release…" >&2
swift build -c release --product herald >&2
bin=.build/release/herald

csv="$out/import-$rows.csv"
if [ ! -f "$csv" ]; then
  sqlite3 -csv -header :memory: >"$csv" <<SQL
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $rows)
SELECT i AS id,
       CASE i % 5 WHEN 0 THEN 'Zoé' WHEN 1 THEN 'Hugo' WHEN 2 THEN 'Amélie' WHEN 3 THEN 'Samir' ELSE 'Ana' END AS first_name,
       'Name' || (i % 9973) AS last_name,
       CASE i % 4 WHEN 0 THEN 'FR' WHEN 1 THEN 'DE' WHEN 2 THEN 'GB' ELSE 'ES' END AS country,
       date('2020-01-01', '+' || (i % 2000) || ' days') AS signup_date,
       printf('%d.%02d', i % 20000, i % 100) AS lifetime_value
FROM n;
SQL
fi
rm -f "$out/import-herald.db"* "$out/import-shell.db"*
/usr/bin/time -f "%e %M" -o "$out/import-herald.time" "$bin" import "$csv" --db "$out/import-herald.db" --table people >/dev/null 2>&1
/usr/bin/time -f "%e %M" -o "$out/import-shell.time" sqlite3 "$out/import-shell.db" ".mode csv" ".import $csv people"
read -r herald_s herald_kb < "$out/import-herald.time"
read -r shell_s shell_kb < "$out/import-shell.time"
echo "file: $csv ($(du -h "$csv" | cut -f1), $rows rows)"
echo "herald import: ${herald_s} s, peak ${herald_kb} KB (types inferred, key checked, all or nothing)"
echo "sqlite3 .import: ${shell_s} s, peak ${shell_kb} KB (every column text, no key)"
awk -v h="$herald_s" -v s="$shell_s" 'BEGIN { printf "ratio: %.2f (target <= 1.5)\n", h / s }'
