#!/usr/bin/env bash
# Benchmark: the delivery pipeline (eligibility gates + render + ledger) of a one-node campaign
# (campaign.json: every profile with an e-mail address, one marketing e-mail each, with a
# frequency cap) to the discard provider and to the outbox (files), at each store size:
# messages per second (the whole `herald run --live`, start to exit, over the messages sent) and
# peak memory (anonymous memory, sampled from /proc: heap and SQLite's caches, apart from the
# store's pages mapped from the file); three rounds each to discard, summed up by their medians
# (DELIVERY_ROUNDS changes how many). Then the gates alone: the e-mail node's gate statement in a
# dry run against the same statement written by hand (gates.sql) in the sqlite3 shell, same file.
# Targets: ≥ 20,000 messages per second through the pipeline (PIPELINE MSG/S) to discard; the
# largest run's peak at most 1.2× the smallest's; the gates at most 1.3× the shell.
#
#   Benchmarks/Delivery/run.sh [PROFILES…]     (default: 100000 1000000)
#
# The outbox runs at the sizes up to 100,000 profiles (DELIVERY_OUTBOX_ALL=1: at every size).
#
# Release build. Stores are generated once into bench-data/run-PROFILES.db (about a minute per
# million profiles) and copied for each measurement (a live run adds to the history).
set -euo pipefail
cd "$(dirname "$0")/../.."
sizes=("${@:-100000 1000000}")
read -r -a sizes <<< "${sizes[*]}"
. Benchmarks/setup.sh
here=Benchmarks/Delivery
name="Benchmark: delivery"


fresh() {  # a copy of the generated store with the campaign, and nothing beside it
  local copy="$out/delivery-$1.db"
  rm -rf "$copy" "$copy-wal" "$copy-shm" "$copy-work" "$copy-outbox" "$copy-extracts"
  cp "$out/run-$1.db" "$copy"
  sync  # the copy's pages reach the disk now, not while the run is timed
  "$bin" campaign import "$here/campaign.json" --db "$copy" >/dev/null
  echo "$copy"
}

# MSG/S: over the whole command (start to exit: audience, gates, ledger, delivery); PIPELINE
# MSG/S: over the channel node's gates, the ledger copy and the delivery worker (from the run's
# records: the node's duration, which includes the copy, and the worker's elapsed time).
# The discard runs are repeated (DELIVERY_ROUNDS, 3 by default: runs on this machine differ by
# 10-20%) and summed up by their medians, the peak by the highest; the outbox runs once.
rounds=${DELIVERY_ROUNDS:-3}
if ! [[ $rounds =~ ^[1-9][0-9]*$ ]]; then
  echo "DELIVERY_ROUNDS: expected a whole number of rounds, at least 1, found '$rounds'" >&2
  exit 2
fi
median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
row() { printf '%-10s %-8s %-6s %10d %10.2f %10.0f %14.0f %10.1f\n' "$@"; }
printf '%-10s %-8s %-6s %10s %10s %10s %14s %10s\n' PROFILES PROVIDER ROUND MESSAGES SECONDS MSG/S "PIPELINE MSG/S" PEAK_MB
declare -A peaks
for profiles in "${sizes[@]}"; do
  if [ ! -f "$out/run-$profiles.db" ]; then
    echo "generating $out/run-$profiles.db…" >&2
    "$bin" demo --out "$out/run-$profiles.db" --profiles "$profiles" --force >&2
  fi
  providers=(discard outbox)
  # The outbox fsyncs every file (about 1,300 a second here): past 100,000 profiles only when asked.
  [ "$profiles" -gt 100000 ] && [ -z "${DELIVERY_OUTBOX_ALL:-}" ] && providers=(discard)
  for provider in "${providers[@]}"; do
    config=()
    times=1
    if [ "$provider" = discard ]; then config=(--config "$here/discard.toml"); times=$rounds; fi
    all_seconds=() all_rates=() all_pipelines=() peak=0
    for round in $(seq "$times"); do
      db=$(fresh "$profiles")
      read -r seconds anon < <(measure "$out/delivery-out.json" run "$name" --live --json --db "$db" "${config[@]}")
      # The run's own id and node duration from its report: the generated store may hold runs
      # of other benchmarks (Benchmarks/CampaignRun runs its campaign in the same file).
      read -r run node_ms < <(python3 -c 'import json,sys
r = json.load(open(sys.argv[1]))
print(r["run"]["id"], next(n["durationMs"] for n in r["nodes"] if n["id"] == "mail"))' "$out/delivery-out.json")
      sent=$(sqlite3 "$db" "SELECT count(*) FROM herald_messages WHERE run_id = $run AND status = 'sent'")
      worker_ms=$("$bin" runs logs "$run" --json --db "$db" | python3 -c 'import json,sys
print(next(l["figures"]["elapsed_ms"] for l in json.load(sys.stdin) if l["code"]=="delivery.pass"))')
      rate=$(echo "$sent / $seconds" | bc -l)
      pipeline=$(echo "$sent * 1000 / ($node_ms + $worker_ms)" | bc -l)
      row "$profiles" "$provider" "$round" "$sent" "$seconds" "$rate" "$pipeline" "$(echo "$anon / 1024" | bc -l)"
      all_seconds+=("$seconds") all_rates+=("$rate") all_pipelines+=("$pipeline")
      [ "$anon" -gt "$peak" ] && peak=$anon
      rm -rf "$db" "$db-wal" "$db-shm" "$db-work" "$db-outbox"
    done
    if [ "$times" -gt 1 ]; then
      row "$profiles" "$provider" median "$sent" "$(median "${all_seconds[@]}")" "$(median "${all_rates[@]}")" \
        "$(median "${all_pipelines[@]}")" "$(echo "$peak / 1024" | bc -l)"
    fi
    [ "$provider" = discard ] && peaks[$profiles]=$peak
  done
done
first=${sizes[0]}
last=${sizes[${#sizes[@]}-1]}
if [ "$first" != "$last" ]; then
  printf 'peak memory, %s vs %s profiles (discard): %.2fx (target ≤ 1.2x)\n' "$last" "$first" \
    "$(echo "${peaks[$last]} / ${peaks[$first]}" | bc -l)"
fi

echo
# The gates: three rounds each, alternating, after a dry run that warms the page cache; medians.
printf '%-10s %14s %14s %8s\n' PROFILES HERALD_GATES_MS SHELL_GATES_MS RATIO
for profiles in "${sizes[@]}"; do
  db=$(fresh "$profiles")
  "$bin" run "$name" --dry-run --db "$db" >/dev/null
  heralds=() shells=()
  for _ in 1 2 3; do
    run=$("$bin" run "$name" --dry-run --json --db "$db" | python3 -c 'import json,sys; print(json.load(sys.stdin)["run"]["id"])')
    # The gate statement's own time, from the node's log line (the node also counts and sorts
    # out who passes on, which the shell's statement does not).
    "$bin" runs logs "$run" --json --db "$db" > "$out/delivery-dry.json"
    heralds+=("$(python3 -c 'import json,sys; print(next(l["figures"]["gates_ms"] for l in json.load(open(sys.argv[1])) if l["code"]=="channel.gates"))' "$out/delivery-dry.json")")
    rm -f "$out/delivery-gates-work.db"
    shell_s=$(sed "s|WORKFILE|$out/delivery-gates-work.db|" "$here/gates.sql" | sqlite3 "$db" 2>&1 | awk '/Run Time/ {print $4; exit}')
    shells+=("$(echo "$shell_s * 1000 / 1" | bc)")
  done
  herald_ms=$(median "${heralds[@]}")
  shell_ms=$(median "${shells[@]}")
  printf '%-10s %14.0f %14.0f %8.2f\n' "$profiles" "$herald_ms" "$shell_ms" "$(echo "$herald_ms / $shell_ms" | bc -l)"
  rm -rf "$db" "$db-wal" "$db-shm" "$db-work" "$out/delivery-gates-work.db"
done
