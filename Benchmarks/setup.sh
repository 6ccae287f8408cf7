# Sourced by the benchmark scripts, from the repository's root: makes bench-data/, installs what
# the benchmarks need (the Debian packages, GNU time) and builds Herald in release mode.
# Sets `out` (the data folder) and `bin` (the release executable).
out="bench-data"
mkdir -p "$out"
scripts/deps
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }

echo "building release…" >&2
swift build -c release --product herald >&2
bin=.build/release/herald

# Runs herald with the arguments after the first, its standard output to the file the first
# names; prints "SECONDS PEAK_ANON_KB" (anonymous memory sampled from /proc: heap and SQLite's
# caches, apart from the store's pages mapped from the file).
measure() {
  local output=$1 start end pid anon=0
  shift
  start=$(date +%s.%N)
  "$bin" "$@" > "$output" &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    if a=$(awk '/RssAnon/{print $2}' "/proc/$pid/status" 2>/dev/null) && [ -n "$a" ] && [ "$a" -gt "$anon" ]; then anon=$a; fi
    sleep 0.01
  done
  wait "$pid"
  end=$(date +%s.%N)
  echo "$(echo "$end - $start" | bc -l) $anon"
}
