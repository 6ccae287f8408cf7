"""Times writers against the store alone, then while dry runs execute; see run.sh."""
import json
import os
import statistics
import subprocess
import sys
import time

binary, db, out, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
campaign_file = os.path.join(out, "locks-campaign.json")
csv_file = os.path.join(out, "locks-visits.csv")
with open(csv_file, "w") as f:
    f.write("id,page,seen\n")
    for i in range(1, 20001):
        f.write(f"{i},/p/{i % 37},{i % 5}\n")
exported = subprocess.run([binary, "campaign", "export", "Welcome series", "--db", db], capture_output=True, text=True, check=True)
doc = json.loads(exported.stdout)
doc["name"] = "Locks benchmark"
with open(campaign_file, "w") as f:
    json.dump(doc, f)
subprocess.run([binary, "campaign", "import", campaign_file, "--db", db], capture_output=True)

operations = {
    "campaign save": [binary, "campaign", "import", campaign_file, "--replace", "--db", db],
    "audience save": [binary, "audience", "save", "Locks benchmark", "--entity", "profiles", "--rule", 'country = "FR"', "--replace", "--db", db],
    "import 20k rows": [binary, "import", csv_file, "--table", "locks_visits", "--db", db],
}


def timed(command):
    start = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True)
    return (time.monotonic() - start) * 1000, done.returncode, done.stderr.strip()


baseline = {}
for name, command in operations.items():
    baseline[name] = statistics.median(timed(command)[0] for _ in range(5))

waits = {name: [] for name in operations}
failures = {name: [] for name in operations}
run_ms = []
for _ in range(rounds):
    start = time.monotonic()
    run = subprocess.Popen([binary, "run", "Benchmark: ten nodes", "--dry-run", "--db", db], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(0.5)
    while run.poll() is None:
        for name, command in operations.items():
            if run.poll() is not None:
                break
            ms, status, err = timed(command)
            if status != 0:
                failures[name].append(err[:120])
            else:
                waits[name].append(max(0.0, ms - baseline[name]))
    run_ms.append((time.monotonic() - start) * 1000)
    if run.returncode != 0:
        print(f"the dry run failed: {run.stderr.read().decode()[:200]}")

print(f"dry run of the ten-node campaign on 1M profiles: {statistics.median(run_ms) / 1000:.1f} s (median of {rounds})")
print(f"{'operation':<18} {'alone (ms)':>10} {'n':>4} {'wait p50':>9} {'wait p95':>9} {'wait max':>9} {'failed':>7}")
worst = 0.0
for name in operations:
    values = sorted(waits[name])
    if values:
        p95 = values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))]
        worst = max(worst, p95)
        print(f"{name:<18} {baseline[name]:>10.0f} {len(values):>4} {statistics.median(values):>9.0f} {p95:>9.0f} {values[-1]:>9.0f} {len(failures[name]):>7}")
    else:
        print(f"{name:<18} {baseline[name]:>10.0f} {0:>4} {'-':>9} {'-':>9} {'-':>9} {len(failures[name]):>7}")
    for reason in failures[name][:3]:
        print(f"    failed: {reason}")
print(f"worst p95 wait: {worst / 1000:.2f} s (target ≤ 1 s, none failing)")
