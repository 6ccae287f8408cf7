#!/usr/bin/env bash
# Benchmark: how long other writers wait for the store while a run executes. On the
# 1M-profile store, a campaign save (campaign import --replace), an audience save and an import
# of 20,000 rows are each timed alone (the baseline), then again and again while a dry run of
# the ten-node campaign works; the wait is the difference from the baseline median. Prints
# p50/p95/max of the wait per operation and how many failed. Target: p95 ≤ 1 s, none failing.
#
#   Benchmarks/Locks/run.sh [ROUNDS]     (default 3 runs of the campaign)
#
# Release build; the store is bench-data/run-1000000.db (generated, about a minute, when missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
. Benchmarks/setup.sh
db="$out/run-1000000.db"
if [ ! -f "$db" ]; then
  echo "generating $db…" >&2
  "$bin" demo --out "$db" --profiles 1000000 --force >&2
fi
"$bin" campaign import Benchmarks/CampaignRun/ten-nodes.json --db "$db" --replace >/dev/null 2>&1 \
  || "$bin" campaign import Benchmarks/CampaignRun/ten-nodes.json --db "$db" >/dev/null
python3 Benchmarks/Locks/locks.py "$bin" "$db" "$out" "${1:-3}"
