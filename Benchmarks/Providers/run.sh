#!/usr/bin/env bash
# Benchmark: the network providers, release build.
#
# SMTP: Herald's live run of Benchmarks/Delivery/campaign.json (every profile with an e-mail
# address; gates, render, ledger, journal and SMTP) to Postfix's smtp-sink, against Postfix's
# own load generator on the same sink: `smtp-source -d` (one connection kept for many messages),
# with the same number of connections (4), the same number of messages and messages of the
# same size as Herald's. Three rounds each, alternating; medians. Target: Herald ≥ 0.5× the
# messages per second of smtp-source. Herald's rate is over its delivery (the worker's elapsed
# time, from the run's `delivery.pass` log line) and, apart, over the whole command (audience,
# gates and ledger included); its peak memory is the anonymous memory sampled from /proc.
#
# Webhooks: Herald's live run of sms.json (every profile with a phone number) to nginx
# answering 200 with a JSON id (4 connections): messages per second over its delivery.
#
#   Benchmarks/Providers/run.sh [PROFILES]     (default: 100000)
#
# Installs Postfix's tools and nginx when missing (Postfix's own daemon is stopped again).
set -euo pipefail
cd "$(dirname "$0")/../.."
profiles=${1:-100000}
. Benchmarks/setup.sh
here=Benchmarks/Providers
if [ ! -x /usr/sbin/smtp-sink ] || [ ! -x /usr/sbin/nginx ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postfix nginx >/dev/null
  postfix stop >/dev/null 2>&1 || true
fi
work=$(mktemp -d /tmp/herald-providers.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -f "$work/nginx/nginx.pid" ] && kill "$(cat "$work/nginx/nginx.pid")" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }

if [ ! -f "$out/run-$profiles.db" ]; then
  echo "generating $out/run-$profiles.db…" >&2
  "$bin" demo --out "$out/run-$profiles.db" --profiles "$profiles" --force >&2
fi
fresh() {  # a copy of the generated store with the campaign $1
  local copy="$work/store.db"
  rm -rf "$copy" "$copy-wal" "$copy-shm" "$copy-work" "$copy-outbox"
  cp "$out/run-$profiles.db" "$copy"
  sync
  "$bin" campaign import "$1" --db "$copy" >/dev/null
  echo "$copy"
}

# A live run of campaign $1 (named $2) with configuration $3; prints "SENT WORKER_SECONDS
# WHOLE_SECONDS PEAK_KB".
herald_run() {
  local db seconds anon run sent worker_ms
  db=$(fresh "$1")
  read -r seconds anon < <(measure "$work/run.json" run "$2" --live --json --db "$db" --config "$3")
  run=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run"]["id"])' "$work/run.json")
  sent=$(sqlite3 "$db" "SELECT count(*) FROM herald_messages WHERE run_id = $run AND status = 'sent'")
  worker_ms=$("$bin" runs logs "$run" --json --db "$db" | python3 -c 'import json,sys
print(sum(l["figures"]["elapsed_ms"] for l in json.load(sys.stdin) if l["code"] == "delivery.pass"))')
  echo "$sent $(echo "$worker_ms / 1000" | bc -l) $seconds $anon"
}

# --- SMTP ---------------------------------------------------------------------------------
smtp_port=$(free_port)
/usr/sbin/smtp-sink -u nobody 127.0.0.1:"$smtp_port" 1024 &
pids+=($!)
cat > "$work/smtp.toml" <<TOML
[channels.email]
provider = "smtp"
from = "Herald Travel <news@example.com>"
host = "127.0.0.1"
port = $smtp_port
connections = 4
TOML
# The size of Herald's messages: one proof of the campaign's e-mail, to the outbox.
db=$(fresh Benchmarks/Delivery/campaign.json)
printf '[outbox]\ndirectory = "%s"\n' "$work/proof" > "$work/proof.toml"
key=$(sqlite3 "$db" "SELECT id FROM profiles WHERE email <> '' LIMIT 1")
"$bin" proof "Benchmark: delivery" mail --profile "$key" --to proof@example.com --db "$db" --config "$work/proof.toml" >/dev/null
size=$(stat -c %s "$work"/proof/email/run-0/*.eml)

printf '%-6s %-14s %10s %10s %12s %14s %10s\n' ROUND SENDER MESSAGES SECONDS MSG/S "WHOLE MSG/S" PEAK_MB
herald_rates=() source_rates=() peak=0
for round in 1 2 3; do
  read -r sent worker whole anon < <(herald_run Benchmarks/Delivery/campaign.json "Benchmark: delivery" "$work/smtp.toml")
  rate=$(echo "$sent / $worker" | bc -l)
  printf '%-6s %-14s %10d %10.2f %12.0f %14.0f %10.1f\n' "$round" herald "$sent" "$worker" "$rate" "$(echo "$sent / $whole" | bc -l)" \
    "$(echo "$anon / 1024" | bc -l)"
  herald_rates+=("$rate")
  [ "$anon" -gt "$peak" ] && peak=$anon
  start=$(date +%s.%N)
  /usr/sbin/smtp-source -d -s 4 -m "$sent" -l "$size" -f news@example.com -t someone@example.com 127.0.0.1:"$smtp_port"
  end=$(date +%s.%N)
  seconds=$(echo "$end - $start" | bc -l)
  rate=$(echo "$sent / $seconds" | bc -l)
  printf '%-6s %-14s %10d %10.2f %12.0f\n' "$round" "smtp-source -d" "$sent" "$seconds" "$rate"
  source_rates+=("$rate")
done
herald=$(median "${herald_rates[@]}")
source=$(median "${source_rates[@]}")
printf 'SMTP, 4 connections, %d-byte messages: Herald %.0f msg/s, smtp-source %.0f msg/s: %.2fx (target ≥ 0.5x); peak memory %.1f MB\n' \
  "$size" "$herald" "$source" "$(echo "$herald / $source" | bc -l)" "$(echo "$peak / 1024" | bc -l)"

# --- Webhooks -----------------------------------------------------------------------------
http_port=$(free_port)
mkdir -p "$work/nginx"
cat > "$work/nginx/nginx.conf" <<NGINX
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$http_port;
    location / { default_type application/json; return 200 '{"sid": "SM1"}'; }
  }
}
NGINX
/usr/sbin/nginx -c "$work/nginx/nginx.conf" -p "$work/nginx"
cat > "$work/webhook.toml" <<TOML
[channels.sms]
provider = "webhook"
url = "http://127.0.0.1:$http_port/sms"
id_field = "sid"
connections = 4
TOML
echo
printf '%-6s %-14s %10s %10s %12s %14s %10s\n' ROUND SENDER MESSAGES SECONDS MSG/S "WHOLE MSG/S" PEAK_MB
webhook_rates=()
for round in 1 2 3; do
  read -r sent worker whole anon < <(herald_run "$here/sms.json" "Benchmark: SMS" "$work/webhook.toml")
  rate=$(echo "$sent / $worker" | bc -l)
  printf '%-6s %-14s %10d %10.2f %12.0f %14.0f %10.1f\n' "$round" herald "$sent" "$worker" "$rate" "$(echo "$sent / $whole" | bc -l)" \
    "$(echo "$anon / 1024" | bc -l)"
  webhook_rates+=("$rate")
done
printf 'Webhooks, 4 connections, to nginx: Herald %.0f msg/s (median)\n' "$(median "${webhook_rates[@]}")"
