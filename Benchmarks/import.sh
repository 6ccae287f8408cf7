#!/usr/bin/env bash
# Benchmark: `herald import` of a 1,000,000-row, 6-column CSV file into a new table, against the
# sqlite3 shell's `.import` of the same file into a new table, on this machine. Release build.
#
#   Benchmarks/import.sh [ROWS] [ROUNDS]     (defaults: 1000000 rows, 5 rounds)
#
# The file is written by the sqlite3 shell from generated values (ids, names with accents,
# country codes, dates, decimals), so the benchmark needs no other store.
set -euo pipefail
cd "$(dirname "$0")/.."
rows="${1:-1000000}"
rounds="${2:-5}"
. Benchmarks/setup.sh

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
# Rounds alternate which goes first, so a slow spell of the machine hits both; the
# ratio is the median of the rounds' own ratios.
ratios=()
for round in $(seq "$rounds"); do
  rm -f "$out/import-herald.db"* "$out/import-shell.db"*
  run_herald() { /usr/bin/time -f "%e %M" -o "$out/import-herald.time" "$bin" import "$csv" --db "$out/import-herald.db" --table people >/dev/null 2>&1; }
  run_shell() { /usr/bin/time -f "%e %M" -o "$out/import-shell.time" sqlite3 "$out/import-shell.db" ".mode csv" ".import $csv people"; }
  if [ $((round % 2)) -eq 1 ]; then run_herald; run_shell; else run_shell; run_herald; fi
  read -r herald_s herald_kb < "$out/import-herald.time"
  read -r shell_s shell_kb < "$out/import-shell.time"
  echo "round $round: herald import ${herald_s} s (peak ${herald_kb} KB), sqlite3 .import ${shell_s} s (peak ${shell_kb} KB)"
  ratios+=("$(awk -v h="$herald_s" -v s="$shell_s" 'BEGIN { printf "%.3f", h / s }')")
done
echo "file: $csv ($(du -h "$csv" | cut -f1), $rows rows)"
echo "herald: types inferred, key checked, all or nothing; sqlite3: every column text, no key"
median=$(printf '%s\n' "${ratios[@]}" | sort -n | sed -n "$(( (rounds + 1) / 2 ))p")
echo "ratio (median of $rounds rounds): $median (target <= 1.5)"
