#!/usr/bin/env bash
# Benchmark: a ten-node campaign's dry run (ten-nodes.json: a build audience with a 1-N
# aggregate, a second audience, a seeded 10% holdout split, an exclusion, one per household,
# an enrichment with two aggregates, a change of dimension, a wait, an email count and an end)
# against the same statements written by hand (baseline.sql) in the sqlite3 shell, on the same
# file, in the same script. Prints, per store size, the totals and their ratio, the per-node
# breakdown, and Herald's peak memory (sampled in an extra, untimed pass: anonymous memory —
# heap, SQLite's page cache and sorter — apart from the store's pages mapped from the file,
# which the kernel can drop); checks that both sides computed the same populations.
#
#   Benchmarks/CampaignRun/run.sh [ROUNDS] [PROFILES…]     (defaults: 3 rounds; 100000 1000000)
#
# Release build. Stores are generated once into bench-data/run-PROFILES.db (about a minute per
# million profiles) and reused.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds="${1:-3}"
shift || true
sizes=("${@:-100000 1000000}")
read -r -a sizes <<< "${sizes[*]}"
. Benchmarks/setup.sh
here=Benchmarks/CampaignRun
name="Benchmark: ten nodes"
sed 's/^-- node: \(.*\)$/.print node: \1/' "$here/baseline.sql" > "$out/baseline-run.sql"

for profiles in "${sizes[@]}"; do
  db="$out/run-$profiles.db"
  if [ ! -f "$db" ]; then
    echo "generating $db…" >&2
    "$bin" demo --out "$db" --profiles "$profiles" --force >&2
  fi
  "$bin" campaign import "$here/ten-nodes.json" --db "$db" --replace >/dev/null 2>&1 \
    || "$bin" campaign import "$here/ten-nodes.json" --db "$db" >/dev/null
  # One untimed pass each, so both sides start from a warm page cache.
  "$bin" run "$name" --dry-run --db "$db" >/dev/null
  sqlite3 "$db" < "$out/baseline-run.sql" >/dev/null
  # Peak memory, from /proc while the run works.
  "$bin" run "$name" --dry-run --db "$db" >/dev/null &
  pid=$!
  anon=0 mapped=0
  while kill -0 "$pid" 2>/dev/null; do
    if read -r a f < <(awk '/RssAnon/{a=$2} /RssFile/{f=$2} END{print a+0, f+0}' "/proc/$pid/status" 2>/dev/null); then
      [ "$a" -gt "$anon" ] && anon=$a
      [ "$f" -gt "$mapped" ] && mapped=$f
    fi
    sleep 0.02
  done
  wait "$pid"
  echo "$anon $mapped" > "$out/run-herald-$profiles.mem"
  for round in $(seq "$rounds"); do
    start=$(date +%s%N)
    "$bin" run "$name" --dry-run --json --db "$db" > "$out/run-herald-$profiles-$round.json"
    end=$(date +%s%N)
    echo $(( (end - start) / 1000000 )) > "$out/run-herald-$profiles-$round.ms"
    start=$(date +%s%N)
    (echo ".timer on"; cat "$out/baseline-run.sql") | sqlite3 "$db" > "$out/run-shell-$profiles-$round.txt"
    end=$(date +%s%N)
    echo $(( (end - start) / 1000000 )) > "$out/run-shell-$profiles-$round.ms"
  done
  python3 - "$out" "$profiles" "$rounds" <<'PY'
import json, re, statistics, sys
out, profiles, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
def read(path): return open(path).read()
herald_total, shell_total = [], []
anon_kb, mapped_kb = map(int, read(f"{out}/run-herald-{profiles}.mem").split())
herald_nodes, shell_nodes = {}, {}
order = []
for r in range(1, rounds + 1):
    base = f"{out}/run-%s-{profiles}-{r}"
    herald_total.append(int(read(base % "herald" + ".ms")))
    shell_total.append(int(read(base % "shell" + ".ms")))
    run = json.loads(read(base % "herald" + ".json"))
    herald_counts = {f"{t['from']}.{t['port']}": t["count"] for t in run["transitions"]}
    for n in run["nodes"]:
        if n["id"] not in order: order.append(n["id"])
        herald_nodes.setdefault(n["id"], []).append(n["durationMs"] or 0)
    node, spent, counts = None, {}, {}
    for line in read(base % "shell" + ".txt").splitlines():
        if line.startswith("node: "):
            node = line[6:]
        elif line.startswith("Run Time: real "):
            spent[node] = spent.get(node, 0) + float(line.split()[3]) * 1000
        elif "|" in line:
            key, value = line.split("|")
            counts[key] = int(value)
    for key, value in counts.items():
        if herald_counts.get(key) != value:
            sys.exit(f"{profiles} profiles, round {r}: {key} is {herald_counts.get(key)} in Herald and {value} in the shell")
    for key, value in spent.items(): shell_nodes.setdefault(key, []).append(value)
h, s = statistics.median(herald_total), statistics.median(shell_total)
print(f"\n{int(profiles):,} profiles, median of {rounds} rounds (same populations on both sides: checked)")
print(f"  total: herald {h:.0f} ms, sqlite3 shell {s:.0f} ms, ratio {h / s:.2f}")
print(f"  herald peak memory: {anon_kb / 1024:.1f} MB anonymous, {mapped_kb / 1024:.0f} MB of mapped file pages")
print(f"  {'node':<12} {'herald ms':>10} {'shell ms':>10} {'ratio':>7}")
for node in order + ["(counts)", "(cleanup)"]:
    hn = statistics.median(herald_nodes[node]) if node in herald_nodes else None
    sn = statistics.median(shell_nodes[node]) if node in shell_nodes else None
    ratio = f"{hn / sn:.2f}" if hn is not None and sn and sn >= 1 else "-"
    print(f"  {node:<12} {('-' if hn is None else f'{hn:.0f}'):>10} {('-' if sn is None else f'{sn:.0f}'):>10} {ratio:>7}")
PY
done
