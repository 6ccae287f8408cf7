#!/usr/bin/env bash
# Benchmark: the designer. Layout time of 10-, 50- and 200-node graphs (in process), then the
# interface in a real pseudo-terminal on a 1M-profile store: keypress-to-frame latency with and
# without a dry run counting in the background, bytes per cursor move and per count change
# against a full repaint, and bytes written by an idle screen in 10 s.
#
#   Benchmarks/Designer/run.sh [MOVES]     (default 100 moves per measurement)
#
# Release build. The store is the campaign benchmark's bench-data/run-1000000.db (generated,
# about a minute, when missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
. Benchmarks/setup.sh
swift build -c release --product herald-layout-bench >&2
.build/release/herald-layout-bench 50
echo
/usr/bin/python3 Benchmarks/Designer/terminal.py "$out/run-1000000.db" "${1:-100}"
