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
and the resident memory of vuswitch with 2 and 16 ports.  The generator
drives split rings there; with --rings split,packed (the default) the same
runs are made on packed rings too (virtio-user packed_vq=1), one line each:
  RATIO_PACKED size=N vuswitch_mpps=X dpdk_mpps=Y ratio=X/Y ...

Then vupktgen, one direction (A -> B) through either switch, on each ring
layout: the best 1-s rate at full speed and the latency at half of it,
one line per size and layout (vupktgen --packed for the packed ones):
  VUPKTGEN size=N vuswitch_mpps=X dpdk_mpps=Y ratio=X/Y p50_us=... p99_us=... state=S
  VUPKTGEN_PACKED size=N ...

--stats-cost adds what a stats reader polling every 10 ms costs the
datapath (see stats_cost() and BENCHMARKS.md), one line:
  STATS_READ_COST size=64 ... ratio=R ...
(`--runs 0 --stats-cost` measures only that.)

--isolation adds vupktgen's full-speed rate A -> B with and without a
garbage flood on a third port (tests/hostile/hostile --flood), A B A B
(at least two pairs), one line:
  ISOLATION pair_mpps_without=X pair_mpps_with=Y ratio=Y/X state=...

For vuswitch each run also samples the worker's counters every second,
and sorts the 64-byte seconds into the machine's states by their cycles a
frame (--fast-below, --slow-from), one line per ring layout:
  CYCLES_BY_STATE ring=R size=64 fast: seconds=N cycles_per_frame=C ...

--ab BUILDDIR runs only that: this build (A) against another (B) in the
64-byte closed loop, rounds A B, B A, ...; per state, each build's seconds
and the median of the rounds' B/A ratios of cycles a frame:
  AB ring=R state=S build=A seconds=N cycles_per_frame=C min=M mpps=X
  AB_RATIO ring=R state=S cycles_per_frame_b/a=Q rounds=K round_ratios=...

Always, from guests.py: the CPU use of an idle switch (two front ends
connected, no traffic), and, unless --guests 0, 2 and 4 QEMU guests
sending to each other with kernel pktgen (--guests 2,4), one line each:
  IDLE control_thread_cpu_pct=X worker_cpu_pct=Y ...
  GUESTS n=N forwarded_mpps=X dropped=D busy_pct=B cycles_per_frame=C ...
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

import guests       # tests/bench/guests.py: idle switch, pktgen guests

HERE = os.path.dirname(os.path.abspath(__file__))


def tsc_hz():
    """The TSC's rate: these machines have a constant TSC (TESTBED.md),
    which the kernel reports as the CPU's MHz."""
    for line in open("/proc/cpuinfo"):
        if line.startswith("cpu MHz"):
            return float(line.split(":")[1]) * 1e6
    return float("nan")


TSC_HZ = tsc_hz()


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

    def wait_state(self, state, timeout=180):
        """Waits (up to 'timeout' s) until the hand-off time says the
        machine is in 'state': a comparison in a state that comes and goes
        gets more rounds in it."""
        deadline = time.monotonic() + timeout
        while label(self.handoff(), self.handoff()) != state:
            if time.monotonic() > deadline:
                print("(still not %s after %d s: going on)" % (state, timeout))
                return
            time.sleep(2)

    def handoff(self):
        out = subprocess.run([self.probe], capture_output=True, text=True).stdout
        m = re.search(r"handoff_ns=(\d+)", out)
        return int(m.group(1)) if m else -1

    # ---- the two switches -----------------------------------------------
    def start_switch(self, kind, a, b, size, vuswitch=None):
        if kind == "vuswitch":
            p = self.start([vuswitch or self.vuswitch, "--cores", "1", "--control",
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

    def vu_stats(self, ctl=None):
        """vuswitch's counters (`vuswitchctl stats --json`), or None if it
        did not answer.  Read from CPU 0, the generator's: the worker keeps
        CPU 1 to itself."""
        out = subprocess.run(["taskset", "-c", "0", self.ctl, "--control",
                              ctl or os.path.join(self.tmp, "ctl.sock"),
                              "stats", "--json"], capture_output=True,
                             text=True).stdout
        return json.loads(out) if out else None

    def vu_counters(self):
        """The worker's frames, busy and idle cycles."""
        w = self.vu_stats()["workers"][0]
        return w["frames"], w["busy_cycles"], w["idle_cycles"]

    # ---- one run -----------------------------------------------------------
    def run(self, kind, size, ring="split", vuswitch=None):
        """One closed-loop run of 'kind' (vuswitch: the build at 'vuswitch',
        default the one under --builddir).  For vuswitch also one sample a
        second of the worker's counters: the machine can change state
        within a run, and a second is short enough to be in one."""
        a = os.path.join(self.tmp, "a.sock")
        b = os.path.join(self.tmp, "b.sock")
        for s in (a, b):
            if os.path.exists(s):
                os.unlink(s)
        before = self.handoff()
        sw = self.start_switch(kind, a, b, size, vuswitch)
        mrg = "1" if size > 1518 else "0"
        if ring == "packed":
            mrg += ",packed_vq=1"
        # Interactive, so that the loop is seeded ("start tx_first") only
        # once both ports are up, and rates are read every second.
        gen = self.start(["dpdk-testpmd", "--lcores", "0@0,1@0", "-m", "256",
                          "--single-file-segments", "--no-pci",
                          "--file-prefix=vubenchgen",
                          "--vdev", "net_virtio_user0,path=%s,queues=1,mrg_rxbuf=%s" % (a, mrg),
                          "--vdev", "net_virtio_user1,path=%s,queues=1,mrg_rxbuf=%s" % (b, mrg),
                          "--", "-i", "--forward-mode=io", "--nb-cores=1",
                          "--total-num-mbufs=16384", "--txpkts=%d" % (size - 4),
                          "--record-core-cycles"]
                         + jumbo_args(size), "gen.log", stdin=subprocess.PIPE)
        time.sleep(3)
        self.cmd(gen, "start tx_first %d" % self.a.seed_bursts)
        time.sleep(1)
        c0 = c1 = self.vu_counters() if kind == "vuswitch" else None
        t1 = time.monotonic()
        seconds = []
        for _ in range(self.a.seconds):
            time.sleep(1)
            self.cmd(gen, "show port stats all")
            if kind == "vuswitch":
                c, t = self.vu_counters(), time.monotonic()
                if c[0] > c1[0]:
                    seconds.append({"mpps": (c[0] - c1[0]) / (t - t1) / 1e6,
                                    "cpf": (c[1] - c1[1]) / (c[0] - c1[0])})
                c1, t1 = c, t
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
            swlog = open(os.path.join(self.tmp, "vuswitch.log")).read()
            if "vring 1 started: %s" % ring not in swlog:
                sys.exit("bench: vuswitch's rings are not %s (%s)"
                         % (ring, os.path.join(self.tmp, "vuswitch.log")))
        else:
            swlog = open(os.path.join(self.tmp, "dpdk-switch.log")).read()
            m = re.findall(r"CPU cycles/packet=([\d.]+)", swlog)
            cpf = float(m[-1]) if m else float("nan")
        # The generator's own cost per frame it forwarded (over the whole
        # run): at TSC_HZ / gen_cpf frames/s it has no cycle left, and a
        # switch can be shown no faster than that.
        m = re.findall(r"CPU cycles/packet=([\d.]+)", log)
        gen_cpf = float(m[-1]) if m else float("nan")
        state = label(before, after)
        return {"mpps": best, "cpf": cpf, "gen_cpf": gen_cpf, "state": state,
                "handoff": (before, after), "seconds": seconds}

    def run_vupktgen(self, kind, size, ring="split"):
        """vupktgen A -> B through the switch, on 'ring' virtqueues: the
        best 1-s rate at full speed, then latency percentiles at half that
        rate."""
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
        gen += ["--packed"] if ring == "packed" else []
        full = json.loads(subprocess.run(gen + ["--duration", "4"],
                                         capture_output=True, text=True).stdout or "{}")
        if full.get("ring") != ring:
            self.stop(sw)
            sys.exit("bench: vupktgen through %s did not run %s rings (%s)"
                     % (kind, ring, full or "no report"))
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

    # ---- what reading the stats costs the datapath ----------------------
    def vu_snapshot(self):
        """Time, the worker's frames, busy cycles and bursts that did work,
        frames delivered to port b: one read of the counters."""
        d = self.vu_stats()
        w = d["workers"][0]
        b = [p for p in d["ports"] if p["name"] == "b"][0]
        return (time.monotonic(), w["frames"], w["busy_cycles"], w["bursts"],
                b["tx_packets"])

    def start_reader(self):
        """What a user watching the counters runs: vuswitchctl maps the
        stats segment and reads every counter every 10 ms.  It shares CPU 0
        with the generator, so the worker keeps CPU 1 to itself and what
        the reader can change there is the cache traffic its reads cause
        (the counters' lines bouncing to CPU 0 and back)."""
        p = subprocess.Popen(["taskset", "-c", "0", self.ctl, "--control",
                              os.path.join(self.tmp, "ctl.sock"), "stats",
                              "--json", "--watch", "0.01"],
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
        self.procs.append(p)
        return p

    @staticmethod
    def cpu_seconds(p):
        f = open("/proc/%d/stat" % p.pid).read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")

    def stats_cost_phase(self, size, rate, pairs, interval):
        """vupktgen sends A -> B at 'rate' frames/s (None: full speed) on
        CPU 0 through one vuswitch worker on CPU 1; meanwhile intervals
        without and with a reader alternate, A B B A A B ..., so that a
        drift in the machine's speed falls on both alike.  Returns one
        sample per interval and the machine state around the phase."""
        a = os.path.join(self.tmp, "a.sock")
        b = os.path.join(self.tmp, "b.sock")
        for s in (a, b):
            if os.path.exists(s):
                os.unlink(s)
        before = self.handoff()
        sw = self.start_switch("vuswitch", a, b, size)
        gen = [os.path.join(self.a.builddir, "tools/vupktgen"), "--port", a,
               "--port", b, "--cpu", "0", "--size", str(size),
               "--rx-ring-size", "8192", "--json", "--interval", "0",
               "--duration", str(int(pairs * 2 * (interval + 1) + 60))]
        gen += ["--rate", str(int(rate))] if rate else []
        g = self.start(gen, "stats-cost-gen.log")
        deadline = time.monotonic() + 30
        while self.vu_snapshot()[4] == 0:
            if time.monotonic() > deadline or g.poll() is not None:
                raise RuntimeError("stats cost: no traffic from vupktgen")
            time.sleep(0.2)
        time.sleep(1)
        samples = []
        for i in range(pairs):
            for reader in ((False, True) if i % 2 == 0 else (True, False)):
                r = self.start_reader() if reader else None
                time.sleep(0.2)         # it has mapped the segment
                t0, f0, c0, b0, d0 = self.vu_snapshot()
                cpu0 = self.cpu_seconds(r) if r else 0
                time.sleep(interval)
                t1, f1, c1, b1, d1 = self.vu_snapshot()
                cpu1 = self.cpu_seconds(r) if r else 0
                if r:
                    self.stop(r)
                frames = f1 - f0
                samples.append({
                    "reader": reader,
                    "cpf": (c1 - c0) / frames if frames else float("nan"),
                    # Fewer frames per burst cost more cycles each: the
                    # load must have the same shape both ways.
                    "fpb": frames / (b1 - b0) if b1 > b0 else float("nan"),
                    "mpps": (d1 - d0) / (t1 - t0) / 1e6,
                    "reader_cpu": (cpu1 - cpu0) / (t1 - t0)})
                print("stats-cost %s reader=%s %.3f Mpps delivered  %.1f cycles/frame  %.1f frames/burst"
                      % ("rate=%.2fM" % (rate / 1e6) if rate else "full-speed",
                         "yes" if reader else "no ", samples[-1]["mpps"],
                         samples[-1]["cpf"], samples[-1]["fpb"]), flush=True)
        self.stop(g)        # SIGINT: it stops sending and reports
        self.stop(sw)
        after = self.handoff()
        sh("rm -f /dev/hugepages/vubench*")
        return samples, label(before, after), (before, after)

    def stats_cost(self, pairs, size=64):
        """What a stats reader polling every 10 ms costs the datapath: the
        worker's busy cycles per frame with and without the reader, at a
        fixed offered rate the generator sustains with room to spare (half
        its full-speed rate), so that the reader, which shares the
        generator's CPU, does not change the load the worker sees.  Also
        the delivered rate both ways, at that rate and at full speed."""
        full, full_state, full_ho = self.stats_cost_phase(
            size, None, max(2, pairs // 4), STATS_COST_INTERVAL)
        best = max(s["mpps"] for s in full if not s["reader"])
        fixed, state, ho = self.stats_cost_phase(
            size, best * 1e6 / 2, pairs, STATS_COST_INTERVAL)
        return {"full": full, "full_state": full_state, "full_handoff": full_ho,
                "fixed": fixed, "state": state, "handoff": ho,
                "rate": best / 2, "size": size}

    # ---- isolation: a garbage flood next to a forwarding pair -----------
    def isolation_run(self, flood, size=64):
        """vupktgen A -> B at full speed (CPU 0) through one vuswitch worker
        (CPU 1) while port h gets the hostile flooder (flood=True: garbage
        chains at full speed, a kick per burst, the device broken and back
        every second) or its idle twin (the same device, spinning without
        posting).  Both share CPU 0 with the generator: the worker keeps
        its CPU, and the twin makes the generator's share of CPU 0 the same
        in both arms.  Returns the best 1-s rate b received."""
        a, b, h = (os.path.join(self.tmp, n + ".sock") for n in "abh")
        ctl = os.path.join(self.tmp, "ctl.sock")
        for s in (a, b, h):
            if os.path.exists(s):
                os.unlink(s)
        before = self.handoff()
        sw = self.start([self.vuswitch, "--cores", "1", "--control", ctl,
                         "--port", "a=vhost:" + a, "--port", "b=vhost:" + b,
                         "--port", "h=vhost:" + h], "vuswitch.log")
        self.wait_sockets([a, b, h], sw)
        fl = self.start(["taskset", "-c", "0", self.hostile, "--socket", h,
                         "--port", "h", "--control", ctl, "--flood", "600"]
                        + ([] if flood else ["--idle"]), "flood.log")
        deadline = time.monotonic() + 30
        while not self.h_busy(ctl, flood):
            if time.monotonic() > deadline or fl.poll() is not None:
                raise RuntimeError("isolation: the flooder did not start")
            time.sleep(0.2)
        c0 = self.vu_counters()
        gen = subprocess.run([os.path.join(self.a.builddir, "tools/vupktgen"),
                              "--port", a, "--port", b, "--cpu", "0",
                              "--size", str(size), "--rx-ring-size", "8192",
                              "--duration", str(self.a.seconds), "--json"],
                             capture_output=True, text=True).stdout
        c1 = self.vu_counters()
        self.stop(fl, signal.SIGTERM, 30)
        self.stop(sw, signal.SIGTERM)
        after = self.handoff()
        log = open(os.path.join(self.tmp, "flood.log")).read()
        m = re.search(r"chains_per_s=(\d+)", log)
        # The worker's cost of an item: a frame, or a garbage chain.
        items = c1[0] - c0[0]
        return {"mpps": json.loads(gen or "{}").get("best_rx_pps", 0) / 1e6,
                "cpi": (c1[1] - c0[1]) / items if items else float("nan"),
                "flood": flood, "garbage_mpps": int(m.group(1)) / 1e6 if m else 0,
                "verdict": "FAIL" not in log, "state": label(before, after),
                "handoff": (before, after)}

    def h_busy(self, ctl, flood):
        """The flood has reached the switch / the idle twin's device is up."""
        d = self.vu_stats(ctl) or {"ports": []}
        h = [p for p in d["ports"] if p["name"] == "h"]
        return h and (h[0]["rx_packets"] > 0 if flood else h[0]["state"] == "up")

    def isolation(self, pairs):
        """A B A B ...: without the flood (idle twin), with it."""
        self.hostile = os.path.join(self.a.builddir, "tests/hostile/hostile")
        if not os.access(self.hostile, os.X_OK):
            sh("make -C %s tests/hostile/hostile >/dev/null" % self.a.builddir)
        runs = []
        for _ in range(pairs):
            for flood in (False, True):
                r = self.isolation_run(flood)
                runs.append(r)
                print("isolation flood=%-3s %.2f Mpps a->b  garbage %.3f Mchains/s  "
                      "%.0f worker cycles/item  flooder verdict %s  "
                      "state=%s (handoff %d/%d ns)"
                      % ("yes" if flood else "no", r["mpps"], r["garbage_mpps"],
                         r["cpi"], "ok" if r["verdict"] else "FAIL", r["state"],
                         r["handoff"][0], r["handoff"][1]), flush=True)
        return runs

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


STATS_COST_INTERVAL = 1.5      # seconds per interval, with or without reader


def median_of(samples, key, reader):
    return statistics.median(s[key] for s in samples if s["reader"] == reader)


def print_stats_cost(c):
    """STATS_READ_COST: cycles per frame with / without reader (ratio of the
    medians, and the median and quartiles of the ratios within each pair of
    adjacent intervals, which a change of machine state between pairs does
    not move: the quartiles show how fine a difference this run can
    resolve), frames per burst both ways (the same load shape), delivered
    rates, the reader's own CPU use."""
    nan = float("nan")
    fixed, full = c["fixed"], c["full"]
    without, with_ = median_of(fixed, "cpf", False), median_of(fixed, "cpf", True)
    pair_ratios = []
    for i in range(0, len(fixed) - 1, 2):
        x, y = fixed[i], fixed[i + 1]
        w, wo = (x, y) if x["reader"] else (y, x)
        pair_ratios.append(w["cpf"] / wo["cpf"])
    q = statistics.quantiles(pair_ratios, n=4) if len(pair_ratios) > 1 else [nan, nan, nan]
    print("STATS_READ_COST size=%d rate_mpps=%.3f cycles_per_frame=%.1f/%.1f "
          "ratio=%.4f pair_ratio=%.4f pair_ratio_iqr=%.4f..%.4f "
          "frames_per_burst=%.1f/%.1f delivered_mpps=%.3f/%.3f "
          "full_speed_mpps=%.3f/%.3f full_speed_cycles_per_frame=%.1f/%.1f "
          "reader_cpu=%.1f%% intervals=%d state=%s (handoff %d/%d ns) "
          "full_speed_state=%s (handoff %d/%d ns)  [with/without reader]"
          % (c["size"], c["rate"], with_, without, with_ / without,
             statistics.median(pair_ratios), q[0], q[2],
             median_of(fixed, "fpb", True), median_of(fixed, "fpb", False),
             median_of(fixed, "mpps", True), median_of(fixed, "mpps", False),
             max(s["mpps"] for s in full if s["reader"]),
             max(s["mpps"] for s in full if not s["reader"]),
             median_of(full, "cpf", True), median_of(full, "cpf", False),
             100 * median_of(fixed, "reader_cpu", True), len(fixed),
             c["state"], c["handoff"][0], c["handoff"][1],
             c["full_state"], c["full_handoff"][0], c["full_handoff"][1]))


def print_isolation(runs):
    """ISOLATION: the pair's best rate with the flood over its best rate
    without, from runs in the same machine state when there are such; and
    the worker's median cycles per item (a frame, or a garbage chain) with
    and without: about equal means the flood costs the pair only the share
    of the worker that any busy third port would take."""
    for st in ("fast", "slow", None):
        x = [r["mpps"] for r in runs if not r["flood"] and st in (None, r["state"])]
        y = [r["mpps"] for r in runs if r["flood"] and st in (None, r["state"])]
        if x and y:
            break
    x, y = max(x), max(y)
    cpi = lambda flood: statistics.median(r["cpi"] for r in runs
                                          if r["flood"] == flood)
    print("ISOLATION pair_mpps_without=%.2f pair_mpps_with=%.2f ratio=%.3f "
          "state=%s cycles_per_item=%.0f/%.0f (with/without) runs=%s "
          "garbage_mchains_per_s=%.3f flooder_verdicts=%s"
          % (x, y, y / x if x else float("nan"), st or "mixed",
             cpi(True), cpi(False),
             ",".join("%s:%s" % ("with" if r["flood"] else "without", r["state"])
                      for r in runs),
             max(r["garbage_mpps"] for r in runs),
             "ok" if all(r["verdict"] for r in runs) else "FAIL"))


def by_state(seconds, args):
    """Sorts a 64-byte closed loop's one-second samples into the machine's
    states by the worker's cycles a frame: the states differ by about 2x
    (60 against 115-130 on split rings), builds by a few per cent.  A
    second between the two bounds, where the state changed within it,
    counts for neither."""
    return {"fast": [x for x in seconds if x["cpf"] < args.fast_below],
            "slow": [x for x in seconds if x["cpf"] >= args.slow_from]}


def state_summary(seconds):
    """Median and least cycles a frame, median rate, of some seconds."""
    if not seconds:
        return "seconds=0"
    cpf = [x["cpf"] for x in seconds]
    return ("seconds=%d cycles_per_frame=%.1f min=%.1f mpps=%.2f"
            % (len(cpf), statistics.median(cpf), min(cpf),
               statistics.median(x["mpps"] for x in seconds)))


def ab(b, args):
    """--ab: this build (A, --builddir) against another (B), the 64-byte
    closed loop, rounds A B, B A, A B ...  Each round compares the two
    builds within each state where both had seconds in it, and the verdict
    is the median of those round ratios: the state wanders between rounds
    (the same build measured 115 in one round and 134 in another), far
    more than a change to the datapath moves it."""
    builds = [("A", args.builddir), ("B", args.ab)]
    rounds = []
    for ring in args.rings.split(","):
        for r in range(args.ab_rounds):
            if args.ab_wait:
                b.wait_state(args.ab_wait)
            got = {}
            for name, d in (builds if r % 2 == 0 else builds[::-1]):
                res = b.run("vuswitch", 64, ring,
                            os.path.join(d, "switch/vuswitch"))
                got[name] = by_state(res["seconds"], args)
                print("ab ring=%s round=%d build=%s  %s  (handoff %d/%d ns)"
                      % (ring, r, name,
                         " ".join("%.1f/%.0f" % (x["mpps"], x["cpf"])
                                  for x in res["seconds"]),
                         res["handoff"][0], res["handoff"][1]), flush=True)
            rounds.append((ring, got))
    print()
    for ring in args.rings.split(","):
        for st in ("fast", "slow"):
            for name, d in builds:
                print("AB ring=%s state=%s build=%s %s dir=%s"
                      % (ring, st, name,
                         state_summary([x for g, got in rounds if g == ring
                                        for x in got[name][st]]), d))
            ratios = [statistics.median(x["cpf"] for x in got["B"][st])
                      / statistics.median(x["cpf"] for x in got["A"][st])
                      for g, got in rounds
                      if g == ring and got["A"][st] and got["B"][st]]
            print("AB_RATIO ring=%s state=%s cycles_per_frame_b/a=%s rounds=%d "
                  "round_ratios=%s"
                  % (ring, st, "%.3f" % statistics.median(ratios)
                     if ratios else "none", len(ratios),
                     ",".join("%.3f" % x for x in ratios)))


def same_state(vu, dp):
    """The runs of each contender to compare: those labelled fast if both
    have some, else slow, else all of them ("mixed")."""
    for st in ("fast", "slow"):
        v = [r for r in vu if r["state"] == st]
        d = [r for r in dp if r["state"] == st]
        if v and d:
            return v, d, st
    return vu, dp, "mixed"


def interleaved(args):
    """The runs of the main table in their order: per ring layout and
    size, --runs times vuswitch then testpmd (A B A B)."""
    for ring in args.rings.split(","):
        for size in [int(s) for s in args.sizes.split(",")]:
            for _ in range(args.runs):
                for kind in ("vuswitch", "dpdk"):
                    yield ring, size, kind


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
    ap.add_argument("--rings", default="split,packed",
                    help="virtqueue layouts the testpmd closed loop runs on "
                    "(split: the RATIO lines; packed: RATIO_PACKED)")
    ap.add_argument("--seed-bursts", type=int, default=1,
                    help="bursts of 32 frames each generator port sends to "
                    "seed the closed loop (1: 64 frames in flight, a "
                    "latency-bound loop; 4: 256, both switches saturated)")
    ap.add_argument("--stats-cost", action="store_true",
                    help="also measure a stats reader polling every 10 ms")
    ap.add_argument("--stats-cost-pairs", type=int, default=12,
                    help="interval pairs without/with the reader (%.1f s each)"
                    % STATS_COST_INTERVAL)
    ap.add_argument("--isolation", action="store_true",
                    help="also measure the pair's rate next to a garbage flood")
    ap.add_argument("--guests", default="2,4",
                    help="QEMU guest counts for the pktgen-guest benchmark "
                    "(0: skip it; the idle measurement always runs)")
    ap.add_argument("--guest-seconds", type=int, default=12,
                    help="measured interval of each pktgen-guest run")
    ap.add_argument("--ab", metavar="BUILDDIR",
                    help="instead: this build against the one in BUILDDIR, "
                    "64-byte closed loop, worker cycles a frame by machine "
                    "state (AB and AB_RATIO lines)")
    ap.add_argument("--ab-rounds", type=int, default=6,
                    help="--ab: rounds, a run of each build in each")
    ap.add_argument("--ab-wait", choices=("fast", "slow"),
                    help="--ab: before each round, wait (up to 3 minutes) "
                    "for the machine to be in this state")
    ap.add_argument("--fast-below", type=float, default=80,
                    help="a 64-byte second under this many worker cycles a "
                    "frame is in the fast state")
    ap.add_argument("--slow-from", type=float, default=95,
                    help="... and from this many on, in the slow state")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench: needs root (hugepages, testpmd)")
    sh("echo 1024 > /proc/sys/vm/nr_hugepages; mkdir -p /dev/hugepages; "
       "mountpoint -q /dev/hugepages || mount -t hugetlbfs nodev /dev/hugepages")
    if args.ab and not os.access(os.path.join(args.ab, "switch/vuswitch"), os.X_OK):
        sys.exit("bench: no switch/vuswitch under %s (--ab wants another "
                 "build directory)" % args.ab)
    b = Bench(args)
    if args.ab:
        try:
            ab(b, args)
        finally:
            b.cleanup()
        return
    results = {}
    try:
        for ring, size, kind in interleaved(args):
            res = b.run(kind, size, ring)
            results.setdefault((ring, size, kind), []).append(res)
            print("run ring=%s size=%d %-8s %.2f Mpps  %.0f cycles/frame  generator %.0f cycles/frame  state=%s (handoff %d/%d ns)"
                  % (ring, size, kind, res["mpps"], res["cpf"],
                     res["gen_cpf"], res["state"], res["handoff"][0],
                     res["handoff"][1]), flush=True)
        cost = b.stats_cost(args.stats_cost_pairs) if args.stats_cost else None
        iso = b.isolation(max(2, args.runs)) if args.isolation else None
        gen_results = {}
        for ring, size, kind in interleaved(args):
            res = b.run_vupktgen(kind, size, ring)
            gen_results.setdefault((ring, size, kind), []).append(res)
            print("vupktgen ring=%s size=%d %-8s %.2f Mpps  latency at half rate p50 %.1f us p99 %.1f us  state=%s (handoff %d/%d ns)"
                  % (ring, size, kind, res["mpps"], res["p50"], res["p99"],
                     res["state"], res["handoff"][0], res["handoff"][1]),
                  flush=True)
        rss2, rss16 = b.rss(2), b.rss(16)
        with_guests = guests.run(b, [int(n) for n in args.guests.split(",")],
                                 args.guest_seconds, label)
    finally:
        b.cleanup()

    print()
    print("%-7s %-6s %-9s %8s %8s %14s %s" % ("ring", "size", "switch", "best", "median", "cycles/frame", "states"))
    for (ring, size, kind), runs in sorted(results.items(), key=lambda kv: (kv[0][0] != "split", kv[0][1:])):
        print("%-7s %-6d %-9s %8.2f %8.2f %14.0f %s" % (
            ring, size, kind, max(r["mpps"] for r in runs),
            statistics.median(r["mpps"] for r in runs),
            statistics.median(r["cpf"] for r in runs),
            ",".join(r["state"] for r in runs)))
    print()
    for ring, size in sorted({k[:2] for k in results}, key=lambda k: (k[0] != "split", k[1])):
        v, d, st = same_state(results[(ring, size, "vuswitch")],
                              results[(ring, size, "dpdk")])
        x = max(v, key=lambda r: r["mpps"])
        y = max(d, key=lambda r: r["mpps"])
        seed = ("" if args.seed_bursts == 1
                else " seed_bursts=%d" % args.seed_bursts)
        # cycles_per_frame (the switch's, inside it) and the generator's,
        # from the same runs as the rates; the generator can carry at
        # most gen_limit_mpps (TSC rate / its cycles per frame).
        print("%s size=%d vuswitch_mpps=%.2f dpdk_mpps=%.2f ratio=%.2f "
              "cycles_per_frame=%.0f dpdk_cycles_per_frame=%.0f "
              "gen_cycles_per_frame=%.0f/%.0f gen_limit_mpps=%.1f/%.1f state=%s%s"
              % ("RATIO" if ring == "split" else "RATIO_" + ring.upper(),
                 size, x["mpps"], y["mpps"],
                 x["mpps"] / y["mpps"] if y["mpps"] else float("nan"),
                 x["cpf"], y["cpf"], x["gen_cpf"], y["gen_cpf"],
                 TSC_HZ / x["gen_cpf"] / 1e6, TSC_HZ / y["gen_cpf"] / 1e6,
                 st, seed))
    # The worker's cycles a frame at 64 B, by the state each second was in
    # (the target is for the slow state too).
    for ring in args.rings.split(","):
        runs = results.get((ring, 64, "vuswitch"), [])
        got = by_state([x for r in runs for x in r["seconds"]], args)
        if runs:
            print("CYCLES_BY_STATE ring=%s size=64 fast: %s  slow: %s  "
                  "(vuswitch's one-second samples; fast below %g, slow from %g)"
                  % (ring, state_summary(got["fast"]),
                     state_summary(got["slow"]), args.fast_below, args.slow_from))
    print()
    print("With vupktgen (one direction, A -> B):")
    for ring, size in sorted({k[:2] for k in gen_results},
                             key=lambda k: (k[0] != "split", k[1])):
        vu = gen_results[(ring, size, "vuswitch")]
        dp = gen_results[(ring, size, "dpdk")]
        v, d, st = same_state(vu, dp)
        x, y = max(r["mpps"] for r in v), max(r["mpps"] for r in d)
        med = lambda runs, k: statistics.median(r[k] for r in runs)
        print("%s size=%d vuswitch_mpps=%.2f dpdk_mpps=%.2f ratio=%.2f "
              "p50_us=%.1f/%.1f p99_us=%.1f/%.1f (vuswitch/dpdk) state=%s "
              "states=%s/%s"
              % ("VUPKTGEN" if ring == "split" else "VUPKTGEN_" + ring.upper(),
                 size, x, y, x / y if y else float("nan"),
                 med(v, "p50"), med(d, "p50"), med(v, "p99"), med(d, "p99"), st,
                 ",".join(r["state"] for r in vu), ",".join(r["state"] for r in dp)))
    if cost:
        print_stats_cost(cost)
    if iso:
        print_isolation(iso)
    print("MEMORY vuswitch_rss_kib ports=2: %d ports=16: %d (no front end connected: no guest memory mapped)"
          % (rss2, rss16))
    guests.report(with_guests)


if __name__ == "__main__":
    main()
