#!/usr/bin/env python3
"""bench.py -- vuswitch against DPDK testpmd's vhost backend, side by side.

`make bench` runs this (root, hugepages, dpdk-testpmd; not a test: it
asserts nothing, it measures).  On this 2-core machine the switch's worker
runs on CPU 1 and the load on CPU 0.

For each frame size, runs alternate A B A B (vuswitch, testpmd, ...): the
same generator -- DPDK testpmd with two net_virtio_user ports in a closed
loop (TESTBED.md) -- drives either switch.  Each run samples the
generator's receive rate every second; a run is scored by its best sample
(noise only slows a run down), and each contender by the median of its
runs' scores.  Inside each switch, cycles per forwarded frame come from its
own counters (vuswitch: worker busy cycles / frames; testpmd: its
--record-core-cycles report).

The machines flip between a fast and a slow state (TESTBED.md, Measuring).
Each run is labelled with the cache-line hand-off time measured just
before and just after it (handoff-probe): fast, slow or mixed; ratios are
computed from runs in the same state when there are such pairs.

Output: a table, then one line per size:
  RATIO size=N vuswitch_mpps=X dpdk_mpps=Y ratio=X/Y cycles_per_frame=C
and the resident memory of vuswitch with 2 and 16 ports.
"""
import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=True, check=False, **kw)


class Bench:
    def __init__(self, args):
        self.a = args
        self.tmp = tempfile.mkdtemp(prefix="vubench.")
        self.procs = []
        self.vuswitch = os.path.join(args.builddir, "switch/vuswitch")
        self.ctl = os.path.join(args.builddir, "tools/vuswitchctl")
        self.probe = os.path.join(args.builddir, "tests/bench/handoff-probe")

    # ---- processes -------------------------------------------------------
    def start(self, argv, log, stdin=subprocess.DEVNULL):
        f = open(os.path.join(self.tmp, log), "w")
        p = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT,
                             stdin=stdin, start_new_session=True, text=True)
        self.procs.append(p)
        return p

    @staticmethod
    def cmd(p, line):
        try:
            p.stdin.write(line + "\n")
            p.stdin.flush()
        except (BrokenPipeError, OSError):
            pass

    def stop(self, p, sig=signal.SIGINT, timeout=10):
        if p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if p in self.procs:
            self.procs.remove(p)

    def cleanup(self):
        for p in list(self.procs):
            self.stop(p, signal.SIGKILL, 5)
        sh("rm -f /dev/hugepages/vubench*")
        shutil.rmtree(self.tmp, ignore_errors=True)

    def wait_sockets(self, paths, p, timeout=20):
        t0 = time.time()
        while time.time() - t0 < timeout:
            if all(os.path.exists(s) for s in paths):
                return
            if p.poll() is not None:
                raise RuntimeError("switch exited at start")
            time.sleep(0.1)
        raise RuntimeError("sockets did not appear")

    def handoff(self):
        out = subprocess.run([self.probe], capture_output=True, text=True).stdout
        m = re.search(r"handoff_ns=(\d+)", out)
        return int(m.group(1)) if m else -1

    # ---- the two switches -----------------------------------------------
    def start_switch(self, kind, a, b, size):
        if kind == "vuswitch":
            p = self.start([self.vuswitch, "--cores", "1", "--control",
                            os.path.join(self.tmp, "ctl.sock"),
                            "--port", "a=vhost:%s,mtu=9000" % a,
                            "--port", "b=vhost:%s,mtu=9000" % b], "vuswitch.log")
        else:
            p = self.start(["dpdk-testpmd", "--lcores", "0@0,1@1", "-m", "256",
                            "--no-pci", "--file-prefix=vubenchsw",
                            "--vdev", "net_vhost0,iface=%s,queues=1" % a,
                            "--vdev", "net_vhost1,iface=%s,queues=1" % b,
                            "--", "--forward-mode=io", "--auto-start",
                            "--nb-cores=1", "--total-num-mbufs=16384",
                            "--record-core-cycles", "--stats-period", "1"]
                           + jumbo_args(size), "dpdk-switch.log")
        self.wait_sockets([a, b], p)
        return p

    def vu_counters(self):
        out = subprocess.run([self.ctl, "--control",
                              os.path.join(self.tmp, "ctl.sock"),
                              "stats", "--json"], capture_output=True,
                             text=True).stdout
        w = json.loads(out)["workers"][0]
        return w["frames"], w["busy_cycles"], w["idle_cycles"]

    # ---- one run -----------------------------------------------------------
    def run(self, kind, size, reader=False):
        a = os.path.join(self.tmp, "a.sock")
        b = os.path.join(self.tmp, "b.sock")
        for s in (a, b):
            if os.path.exists(s):
                os.unlink(s)
        before = self.handoff()
        sw = self.start_switch(kind, a, b, size)
        mrg = "1" if size > 1518 else "0"
        # Interactive, so that the loop is seeded ("start tx_first") only
        # once both ports are up, and rates are read every second.
        gen = self.start(["dpdk-testpmd", "--lcores", "0@0,1@0", "-m", "256",
                          "--single-file-segments", "--no-pci",
                          "--file-prefix=vubenchgen",
                          "--vdev", "net_virtio_user0,path=%s,queues=1,mrg_rxbuf=%s" % (a, mrg),
                          "--vdev", "net_virtio_user1,path=%s,queues=1,mrg_rxbuf=%s" % (b, mrg),
                          "--", "-i", "--forward-mode=io", "--nb-cores=1",
                          "--total-num-mbufs=16384", "--txpkts=%d" % (size - 4)]
                         + jumbo_args(size), "gen.log", stdin=subprocess.PIPE)
        time.sleep(3)
        self.cmd(gen, "start tx_first")
        time.sleep(1)
        watcher = None
        if reader:
            # What a user watching the counters costs the datapath: the CLI
            # maps the stats segment and reads every counter every 10 ms.
            watcher = self.start([self.ctl, "--control",
                                  os.path.join(self.tmp, "ctl.sock"), "stats",
                                  "--json", "--watch", "0.01"], "watch.log")
        c0 = self.vu_counters() if kind == "vuswitch" else None
        for _ in range(self.a.seconds):
            time.sleep(1)
            self.cmd(gen, "show port stats all")
        c1 = self.vu_counters() if kind == "vuswitch" else None
        if watcher:
            self.stop(watcher)
        self.cmd(gen, "quit")
        self.stop(gen)
        self.stop(sw)
        after = self.handoff()
        sh("rm -f /dev/hugepages/vubench*")

        log = open(os.path.join(self.tmp, "gen.log")).read()
        # testpmd prints Rx-pps for port 0 then port 1 every period; the
        # switch forwards both directions, so a sample is their sum.
        pps = [int(x) for x in re.findall(r"Rx-pps:\s+(\d+)", log)]
        samples = [pps[i] + pps[i + 1] for i in range(0, len(pps) - 1, 2)]
        best = max(samples or [0]) / 1e6
        if kind == "vuswitch":
            frames = c1[0] - c0[0]
            cpf = (c1[1] - c0[1]) / frames if frames else float("nan")
        else:
            swlog = open(os.path.join(self.tmp, "dpdk-switch.log")).read()
            m = re.findall(r"CPU cycles/packet=([\d.]+)", swlog)
            cpf = float(m[-1]) if m else float("nan")
        state = label(before, after)
        return {"mpps": best, "cpf": cpf, "state": state,
                "handoff": (before, after)}

    def run_vupktgen(self, kind, size):
        """vupktgen A -> B through the switch: the best 1-s rate at full
        speed, then latency percentiles at half that rate."""
        a = os.path.join(self.tmp, "a.sock")
        b = os.path.join(self.tmp, "b.sock")
        for s in (a, b):
            if os.path.exists(s):
                os.unlink(s)
        before = self.handoff()
        sw = self.start_switch(kind, a, b, size)
        gen = [os.path.join(self.a.builddir, "tools/vupktgen"), "--port", a,
               "--port", b, "--cpu", "0", "--size", str(size),
               "--rx-ring-size", "8192", "--json"]
        gen += ["--mrg"] if size > 1518 else []
        full = json.loads(subprocess.run(gen + ["--duration", "4"],
                                         capture_output=True, text=True).stdout or "{}")
        best = full.get("best_rx_pps", 0)
        half = json.loads(subprocess.run(
            gen + ["--duration", "3", "--rate", str(max(1000, best // 2))],
            capture_output=True, text=True).stdout or "{}")
        self.stop(sw)
        after = self.handoff()
        sh("rm -f /dev/hugepages/vubench*")
        lat = half.get("latency_ns", {})
        return {"mpps": best / 1e6, "p50": lat.get("p50", 0) / 1e3,
                "p99": lat.get("p99", 0) / 1e3, "state": label(before, after),
                "handoff": (before, after)}

    def rss(self, n_ports):
        argv = [self.vuswitch, "--cores", "1", "--control",
                os.path.join(self.tmp, "rss.sock")]
        socks = []
        for i in range(n_ports):
            s = os.path.join(self.tmp, "r%d.sock" % i)
            socks.append(s)
            argv += ["--port", "p%d=vhost:%s" % (i, s)]
        p = self.start(argv, "rss.log")
        self.wait_sockets(socks, p)
        time.sleep(0.5)
        kb = 0
        for line in open("/proc/%d/status" % p.pid):
            if line.startswith("VmRSS:"):
                kb = int(line.split()[1])
        self.stop(p, signal.SIGTERM)
        return kb


def jumbo_args(size):
    """testpmd needs bigger mbufs (and to be told) above a standard frame."""
    if size <= 1518:
        return []
    return ["--max-pkt-len=%d" % (size + 64), "--mbuf-size=%d" % (size + 512)]


def label(before, after):
    fast = lambda ns: 0 < ns < 80
    if fast(before) and fast(after):
        return "fast"
    if not fast(before) and not fast(after):
        return "slow"
    return "mixed"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--builddir", default=".")
    ap.add_argument("--sizes", default="64,512,1518")
    ap.add_argument("--runs", type=int, default=2, help="runs per contender and size")
    ap.add_argument("--seconds", type=int, default=6)
    ap.add_argument("--stats-cost", action="store_true",
                    help="also measure a stats reader polling every 10 ms")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench: needs root (hugepages, testpmd)")
    sh("echo 1024 > /proc/sys/vm/nr_hugepages; mkdir -p /dev/hugepages; "
       "mountpoint -q /dev/hugepages || mount -t hugetlbfs nodev /dev/hugepages")
    b = Bench(args)
    results = {}
    try:
        for size in [int(s) for s in args.sizes.split(",")]:
            for r in range(args.runs):
                for kind in ("vuswitch", "dpdk"):
                    res = b.run(kind, size)
                    results.setdefault((size, kind), []).append(res)
                    print("run size=%d %-8s %.2f Mpps  %.0f cycles/frame  state=%s (handoff %d/%d ns)"
                          % (size, kind, res["mpps"], res["cpf"], res["state"],
                             res["handoff"][0], res["handoff"][1]), flush=True)
        reads = {}
        if args.stats_cost:
            for r in range(args.runs):
                for reader in (False, True):
                    res = b.run("vuswitch", 64, reader)
                    reads.setdefault(reader, []).append(res)
                    print("run size=64 vuswitch stats reader every 10 ms: %s  %.2f Mpps  %.0f cycles/frame  state=%s"
                          % ("yes" if reader else "no ", res["mpps"], res["cpf"], res["state"]), flush=True)
        gen_results = {}
        for size in [int(s) for s in args.sizes.split(",")]:
            for r in range(args.runs):
                for kind in ("vuswitch", "dpdk"):
                    res = b.run_vupktgen(kind, size)
                    gen_results.setdefault((size, kind), []).append(res)
                    print("vupktgen size=%d %-8s %.2f Mpps  latency at half rate p50 %.1f us p99 %.1f us  state=%s (handoff %d/%d ns)"
                          % (size, kind, res["mpps"], res["p50"], res["p99"],
                             res["state"], res["handoff"][0], res["handoff"][1]),
                          flush=True)
        rss2, rss16 = b.rss(2), b.rss(16)
    finally:
        b.cleanup()

    print()
    print("%-6s %-9s %8s %8s %14s %s" % ("size", "switch", "best", "median", "cycles/frame", "states"))
    for (size, kind), runs in sorted(results.items()):
        print("%-6d %-9s %8.2f %8.2f %14.0f %s" % (
            size, kind, max(r["mpps"] for r in runs),
            statistics.median(r["mpps"] for r in runs),
            statistics.median(r["cpf"] for r in runs),
            ",".join(r["state"] for r in runs)))
    print()
    for size in sorted({s for s, _ in results}):
        vu, dp = results[(size, "vuswitch")], results[(size, "dpdk")]
        # Prefer pairs measured in the same state.
        for st in ("fast", "slow"):
            v = [r["mpps"] for r in vu if r["state"] == st]
            d = [r["mpps"] for r in dp if r["state"] == st]
            if v and d:
                break
        else:
            v, d, st = [r["mpps"] for r in vu], [r["mpps"] for r in dp], "mixed"
        x, y = max(v), max(d)
        print("RATIO size=%d vuswitch_mpps=%.2f dpdk_mpps=%.2f ratio=%.2f cycles_per_frame=%.0f state=%s"
              % (size, x, y, x / y if y else float("nan"),
                 statistics.median(r["cpf"] for r in vu), st))
    print()
    print("With vupktgen (one direction, A -> B):")
    for size in sorted({s for s, _ in gen_results}):
        vu, dp = gen_results[(size, "vuswitch")], gen_results[(size, "dpdk")]
        x, y = max(r["mpps"] for r in vu), max(r["mpps"] for r in dp)
        med = lambda runs, k: statistics.median(r[k] for r in runs)
        print("VUPKTGEN size=%d vuswitch_mpps=%.2f dpdk_mpps=%.2f ratio=%.2f "
              "p50_us=%.1f/%.1f p99_us=%.1f/%.1f (vuswitch/dpdk) states=%s/%s"
              % (size, x, y, x / y if y else float("nan"),
                 med(vu, "p50"), med(dp, "p50"), med(vu, "p99"), med(dp, "p99"),
                 ",".join(r["state"] for r in vu), ",".join(r["state"] for r in dp)))
    if reads:
        x = max(r["mpps"] for r in reads[True])
        y = max(r["mpps"] for r in reads[False])
        print("STATS_READ_COST size=64 with_reader_mpps=%.2f without_mpps=%.2f ratio=%.3f states=%s/%s"
              % (x, y, x / y if y else float("nan"),
                 ",".join(r["state"] for r in reads[True]),
                 ",".join(r["state"] for r in reads[False])))
    print("MEMORY vuswitch_rss_kib ports=2: %d ports=16: %d (no front end connected: no guest memory mapped)"
          % (rss2, rss16))


if __name__ == "__main__":
    main()
