"""Benchmark: the interface in a real terminal (a pseudo-terminal this script reads).

Runs the release herald on a store of 1M profiles, opens the ten-node benchmark campaign
(Benchmarks/CampaignRun/ten-nodes.json; its dry run over 1M profiles takes seconds) and measures,
from the bytes
the terminal receives:
  - keypress-to-frame latency (p50, p95) of cursor moves on the canvas, with nothing running and
    while a dry run counts over the 1M profiles in the background (target p95 <= 16 ms);
  - the bytes written for one cursor move and for one count change (target <= 100 each),
    against a full repaint (Ctrl-L) of the same screen as the baseline;
  - the bytes written by an idle screen in 10 s (target 0).

    /usr/bin/python3 Benchmarks/Designer/terminal.py [STORE] [MOVES]

STORE defaults to bench-data/run-1000000.db, the campaign benchmark's store (generated with
herald demo --profiles 1000000 when missing); MOVES to 100.
The store gets the dry runs' records. A frame ends when the terminal has been quiet for 4 ms;
that window is not counted in the latency.
"""

import fcntl
import json
import os
import pty
import select
import statistics
import struct
import subprocess
import sys
import termios
import time

QUIET = 0.004
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BIN = os.path.join(ROOT, ".build", "release", "herald")
CAMPAIGN = "Benchmark: ten nodes"


class Terminal:
    def __init__(self, store, width=120, height=40):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            env = dict(os.environ, TERM="xterm-256color", LANG="C.UTF-8", LC_ALL="C.UTF-8")
            env.pop("NO_COLOR", None)
            os.execve(BIN, [BIN, store], env)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
        self.screen = b""

    def read(self, timeout):
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return b""
        try:
            data = os.read(self.fd, 65536)
        except OSError:
            return b""
        self.screen = (self.screen + data)[-200000:]
        return data

    def burst(self, first_wait=1.0):
        """Bytes until the terminal is quiet; (bytes, seconds from the call to the last byte)."""
        start = time.perf_counter()
        data = self.read(first_wait)
        if not data:
            return b"", None
        last = time.perf_counter()
        while True:
            more = self.read(QUIET)
            if not more:
                return data, last - start
            data += more
            last = time.perf_counter()

    def settle(self, quiet=0.3, limit=30):
        deadline = time.time() + limit
        while time.time() < deadline:
            if not self.read(quiet):
                return

    def wait_for(self, text, limit=120):
        deadline = time.time() + limit
        while time.time() < deadline:
            if text.encode() in self.screen:
                return True
            self.read(0.1)
        return False

    def key(self, k):
        os.write(self.fd, k.encode())

    def close(self):
        self.key("Q")
        time.sleep(0.5)
        try:
            os.kill(self.pid, 15)
        except ProcessLookupError:
            pass


def moves(term, n, during_run=False):
    """n cursor moves (j and k in turn); their latencies and sizes, and the other frames seen."""
    latencies, sizes, others = [], [], []
    for i in range(n):
        # Frames that arrive on their own (counts) are set apart first.
        while True:
            data, _ = term.burst(first_wait=0.001)
            if not data:
                break
            others.append(len(data))
        term.key("j" if i % 2 == 0 else "k")
        start = time.perf_counter()
        # The move's frame is the one that draws the selection (reverse video); a run's frame
        # arriving meanwhile is counted apart.
        while True:
            data, seconds = term.burst()
            if seconds is None:
                break
            if b"1;7m" in data:
                latencies.append((time.perf_counter() - start - QUIET) * 1000)
                sizes.append(len(data))
                break
            others.append(len(data))
        if during_run and b"completed" in term.screen[-4000:]:
            term.screen = b""
            term.key("r")  # keep a run going for the whole measurement
    return latencies, sizes, others


def pct(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main():
    store = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "bench-data", "run-1000000.db")
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    if not os.path.exists(store):
        print(f"generating {store}…", file=sys.stderr)
        subprocess.run([BIN, "demo", "--out", store, "--profiles", "1000000", "--force"], check=True, stdout=subprocess.DEVNULL)
    listed = json.loads(subprocess.run([BIN, "campaign", "list", "--db", store, "--json"], check=True, capture_output=True).stdout)
    if CAMPAIGN not in [c["name"] for c in listed]:
        ten = os.path.join(ROOT, "Benchmarks", "CampaignRun", "ten-nodes.json")
        subprocess.run([BIN, "campaign", "import", ten, "--db", store], check=True, stdout=subprocess.DEVNULL)
        listed = json.loads(subprocess.run([BIN, "campaign", "list", "--db", store, "--json"], check=True, capture_output=True).stdout)
    position = [c["name"] for c in listed].index(CAMPAIGN)
    term = Terminal(store)
    if not term.wait_for("LAST RUN"):
        sys.exit("the campaign list never showed")
    term.settle()
    for k in "g" + "j" * position:
        term.key(k)
        term.settle(0.05)
    term.key("\r")
    if not term.wait_for("Regulars"):
        sys.exit("the canvas never showed")
    term.settle(0.5)
    term.key("\x0c")  # Ctrl-L: a full repaint, the baseline for sizes
    repaint, _ = term.burst()
    idle_latency, idle_sizes, _ = moves(term, n)
    # The same with the other zoom (z: full boxes where the automatic zoom chose compact nodes).
    term.key("z")
    term.settle(0.3)
    _, other_zoom_sizes, _ = moves(term, n)
    term.key("z")
    term.settle(0.1)
    term.key("z")
    term.settle(0.3)
    term.screen = b""
    term.key("r")
    started, _ = term.burst()  # the run's first frame: last run's counts cleared, status line
    busy_latency, busy_sizes, _ = moves(term, n, during_run=True)
    # Then a run on its own: each frame it draws is a count (or a node's state) changing.
    term.settle(0.5)
    while b"completed" not in term.screen[-4000:]:
        term.read(0.5)
    term.settle(0.5)
    term.screen = b""
    term.key("r")
    term.burst()
    count_frames = []
    deadline = time.time() + 600
    while time.time() < deadline:
        data, _ = term.burst(first_wait=1.0)
        if data:
            count_frames.append(len(data))
        if b"completed" in term.screen[-4000:]:
            break
    term.settle(1.0)
    idle_bytes = 0
    deadline = time.time() + 10
    while time.time() < deadline:
        idle_bytes += len(term.read(deadline - time.time()))
    term.close()

    print(f"Benchmark: the interface in a terminal, 120x40, on {os.path.basename(store)} ({n} moves each)")
    print(f"{'':34}{'p50 ms':>8}{'p95 ms':>8}")
    print(f"{'cursor move, nothing running':34}{pct(idle_latency, 50):8.2f}{pct(idle_latency, 95):8.2f}")
    print(f"{'cursor move, dry run over 1M':34}{pct(busy_latency, 50):8.2f}{pct(busy_latency, 95):8.2f}")
    ratio = pct(busy_latency, 95) / pct(idle_latency, 95) if idle_latency else float("nan")
    print(f"p95 under load / p95 idle: {ratio:.2f}   (target: p95 under load <= 16 ms)")
    print()
    print(f"full repaint (Ctrl-L), the baseline: {len(repaint)} bytes")
    move = statistics.median(idle_sizes) if idle_sizes else float("nan")
    print(f"one cursor move: median {move:.0f} bytes ({move / max(len(repaint), 1):.3f} of a repaint; target <= 100)")
    if other_zoom_sizes:
        print(f"one cursor move in the other zoom (z): median {statistics.median(other_zoom_sizes):.0f} bytes")
    print(f"a run's first frame (the last run's counts cleared): {len(started)} bytes")
    if count_frames:
        print(
            f"one count change (each frame of a run after its first): median {statistics.median(count_frames):.0f} bytes, "
            f"largest {max(count_frames)}, {len(count_frames)} frames (target <= 100)"
        )
    else:
        print("one count change: no frame arrived between the moves")
    print(f"idle screen for 10 s: {idle_bytes} bytes (target 0)")


main()
