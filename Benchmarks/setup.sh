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
