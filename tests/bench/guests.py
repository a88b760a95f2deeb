"""guests.py -- two benchmarks of `make bench` (bench.py) with real front
ends and no generator of ours (issue 5):

- pktgen-guest: 2 and 4 QEMU guests (TCG) send to each other with kernel
  pktgen at full speed through one vuswitch worker on CPU 1.  Under TCG the
  guests, all on CPU 0, are the bottleneck: the point is that it runs, what
  the switch forwarded and dropped (by reason), and that the worker's busy
  share stays low.  guests.sh (the tests/lib harness) starts and stops the
  switch and the guests; this file measures:
    GUESTS n=N forwarded_mpps=X dropped=D busy_pct=B cycles_per_frame=C ...
- idle: vuswitch with two ports, both connected (DPDK testpmd, two
  net_virtio_user ports, forwarding never started) and no traffic; the
  CPU time of the control thread (the main thread) and of the worker over
  10 s:
    IDLE control_thread_cpu_pct=X worker_cpu_pct=Y ...
  The worker busy-polls, so it uses its whole CPU; the control thread
  wakes for its 100 ms tick and should use well under 1 % of a core.

Both use the Bench helpers of bench.py (processes, the hand-off probe
that labels the machine state fast/slow/mixed, cleanup).
"""
import json
import os
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.dirname(os.path.dirname(HERE))
IDLE_SECONDS = 10


# ---- what a running vuswitch did over an interval --------------------------

def thread_cpu_ns(pid):
    """{tid: (comm, cpu_ns, preempted)} of every thread of 'pid'.  The
    on-CPU time comes from schedstat (ns, the scheduler's own clock) rather
    than stat's utime+stime (10 ms ticks); 'preempted' counts involuntary
    context switches (another task took the CPU), which the worker's busy
    share does not see (see report())."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        base = "/proc/%d/task/%s/" % (pid, tid)
        try:
            comm = open(base + "comm").read().strip()
            ns = int(open(base + "schedstat").read().split()[0])
            preempted = [int(line.split()[1]) for line in open(base + "status")
                         if line.startswith("nonvoluntary_ctxt_switches")][0]
        except (OSError, ValueError, IndexError):
            continue            # the thread ended meanwhile
        out[int(tid)] = (comm, ns, preempted)
    return out


def thread_cpus(pid, tid):
    """The CPUs a thread may run on, as the kernel prints them ("1")."""
    for line in open("/proc/%d/task/%d/status" % (pid, tid)):
        if line.startswith("Cpus_allowed_list:"):
            return line.split()[1]
    return ""


def ctl_json(ctl, sock, what):
    out = subprocess.run([ctl, "--control", sock, what, "--json"],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def snapshot(ctl, sock, pid):
    return {"t": time.monotonic(), "stats": ctl_json(ctl, sock, "stats"),
            "threads": thread_cpu_ns(pid)}


def interval(ctl, sock, pid, seconds):
    """The switch's counters and its threads' CPU time over 'seconds'.
    Threads are not named (all are "vuswitch"): the control thread is the
    main thread (tid == pid, switch/vuswitch.c runs control_run() there);
    a worker is pinned to the CPU that `stats --json` gives it."""
    s0 = snapshot(ctl, sock, pid)
    time.sleep(seconds)
    s1 = snapshot(ctl, sock, pid)
    dt = s1["t"] - s0["t"]

    def cpu_pct(tid):
        return 100.0 * (s1["threads"][tid][1] - s0["threads"][tid][1]) / (dt * 1e9)

    def delta(tid, i):
        return s1["threads"][tid][i] - s0["threads"][tid][i]

    workers = []
    for w0, w1 in zip(s0["stats"]["workers"], s1["stats"]["workers"]):
        tids = [t for t in s1["threads"] if t != pid and t in s0["threads"]
                and s1["threads"][t][0] == "vuswitch"
                and thread_cpus(pid, t) == str(w1["cpu"])]
        busy = w1["busy_cycles"] - w0["busy_cycles"]
        idle = w1["idle_cycles"] - w0["idle_cycles"]
        stalled = w1["stalled_cycles"] - w0["stalled_cycles"]
        frames = w1["frames"] - w0["frames"]
        total = busy + idle + stalled
        workers.append({
            "id": w1["id"], "cpu": w1["cpu"], "frames": frames,
            "busy_pct": 100.0 * busy / total if total else float("nan"),
            "stalled_pct": 100.0 * stalled / total if total else float("nan"),
            "stalls": w1["stalls"] - w0["stalls"],
            "cycles_per_frame": busy / frames if frames else float("nan"),
            "cpu_pct": cpu_pct(tids[0]) if len(tids) == 1 else float("nan"),
            "preempted": delta(tids[0], 2) if len(tids) == 1 else -1})
    ports = []
    p0 = {p["name"]: p for p in s0["stats"]["ports"]}
    for p1 in s1["stats"]["ports"]:
        p = p0[p1["name"]]
        d = {k: p1[k] - p[k] for k in ("rx_packets", "tx_packets",
                                        "rx_dropped", "tx_dropped")}
        d["drops"] = {r: n - p["drops"][r] for r, n in p1["drops"].items()
                      if n - p["drops"][r]}
        d["name"] = p1["name"]
        ports.append(d)
    return {"seconds": dt, "control_cpu_pct": cpu_pct(pid),
            "workers": workers, "ports": ports}


def wait_ports_up(ctl, sock, n, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ports = ctl_json(ctl, sock, "ports")["ports"]
        if sum(p["state"] == "up" for p in ports) == n:
            return
        time.sleep(0.2)
    raise RuntimeError("idle: the front ends' ports did not come up")


# ---- idle ---------------------------------------------------------------


def idle(b, label):
    """Two ports, both connected to testpmd, no traffic: CPU time of the
    control thread and of the worker over IDLE_SECONDS."""
    socks = [os.path.join(b.tmp, s) for s in ("a.sock", "b.sock")]
    for s in socks:
        if os.path.exists(s):
            os.unlink(s)
    before = b.handoff()
    sw = b.start_switch("vuswitch", socks[0], socks[1], 64)
    # Interactive and never told "start": the ports are started (rings
    # live, the switch sees them up) but nothing is sent.  stdin stays
    # open, so testpmd waits at its prompt.
    fe = b.start(["dpdk-testpmd", "--lcores", "0@0,1@0", "-m", "256",
                  "--single-file-segments", "--no-pci",
                  "--file-prefix=vubenchidle",
                  "--vdev", "net_virtio_user0,path=%s,queues=1" % socks[0],
                  "--vdev", "net_virtio_user1,path=%s,queues=1" % socks[1],
                  "--", "-i", "--nb-cores=1", "--total-num-mbufs=16384"],
                 "idle-testpmd.log", stdin=subprocess.PIPE)
    ctl_sock = os.path.join(b.tmp, "ctl.sock")
    wait_ports_up(b.ctl, ctl_sock, 2)
    time.sleep(1)
    res = interval(b.ctl, ctl_sock, sw.pid, IDLE_SECONDS)
    b.cmd(fe, "quit")
    b.stop(fe)
    b.stop(sw)
    after = b.handoff()
    subprocess.run("rm -f /dev/hugepages/vubench*", shell=True, check=False)
    res["state"], res["handoff"] = label(before, after), (before, after)
    return res


# ---- pktgen guests ------------------------------------------------------

def guests(b, n, seconds, label, warmup=3):
    """N guests sending to each other (guests.sh); the switch's counters,
    busy share and threads' CPU over 'seconds' once the traffic runs."""
    out = os.path.join(b.tmp, "guests%d" % n)
    log = os.path.join(b.tmp, "guests%d.log" % n)
    os.makedirs(out)
    before = b.handoff()
    # A SIGINT from b.stop() reaches the harness's trap, which stops the
    # guests and the switch by PID and removes their files; the work dir
    # of a failed run is kept under b.tmp until bench.py ends.
    p = b.start(["env", "VU_BUILDDIR=" + os.path.abspath(b.a.builddir),
                 "VU_SRCDIR=" + SRCDIR, "VU_TMPDIR=" + b.tmp,
                 "bash", os.path.join(HERE, "guests.sh"), str(n), out],
                os.path.basename(log))
    try:
        running = os.path.join(out, "running")
        deadline = time.monotonic() + 900
        while not os.path.exists(running):
            if p.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("guests n=%d: the guests did not start:\n%s"
                                   % (n, open(log).read()[-3000:]))
            time.sleep(0.5)
        pid, sock = open(running).read().split()
        time.sleep(warmup)
        res = interval(b.ctl, sock, int(pid), seconds)
        open(os.path.join(out, "done"), "w").close()
        p.wait(600)
    finally:
        b.stop(p)
    after = b.handoff()
    if p.returncode != 0:
        raise RuntimeError("guests n=%d: guests.sh exited %d:\n%s"
                           % (n, p.returncode, open(log).read()[-3000:]))
    res["guests"] = open(os.path.join(out, "guests.txt")).read().split("\n")
    res["n"] = n
    res["state"], res["handoff"] = label(before, after), (before, after)
    return res


# ---- bench.py's entry points --------------------------------------------

def run(b, counts, seconds, label):
    """The idle benchmark, then the guest benchmark for each N in 'counts'
    (none for [0]); progress on stdout, results for report()."""
    res = {"idle": idle(b, label), "guests": []}
    print("idle control thread %.3f%% worker %.1f%% state=%s"
          % (res["idle"]["control_cpu_pct"],
             res["idle"]["workers"][0]["cpu_pct"], res["idle"]["state"]),
          flush=True)
    for n in [c for c in counts if c > 0]:
        g = guests(b, n, seconds, label)
        res["guests"].append(g)
        print("guests n=%d %.4f Mpps forwarded, worker busy %.1f%% state=%s"
              % (n, forwarded_mpps(g), g["workers"][0]["busy_pct"],
                 g["state"]), flush=True)
    return res


def forwarded_mpps(r):
    return sum(p["tx_packets"] for p in r["ports"]) / r["seconds"] / 1e6


def report(res):
    i = res["idle"]
    w = i["workers"][0]
    moved = sum(p["rx_packets"] + p["tx_packets"] for p in i["ports"])
    print("IDLE control_thread_cpu_pct=%.3f worker_cpu_pct=%.1f "
          "worker_busy_pct=%.2f frames=%d seconds=%.1f state=%s "
          "(handoff %d/%d ns)"
          % (i["control_cpu_pct"], w["cpu_pct"], w["busy_pct"], moved,
             i["seconds"], i["state"], i["handoff"][0], i["handoff"][1]))
    if not res["guests"]:
        return
    print()
    print("pktgen guests (frames over the interval; drops by reason):")
    print("%-3s %-5s %10s %10s %10s %10s  %s"
          % ("n", "port", "rx", "tx", "rx_drop", "tx_drop", "drops"))
    for g in res["guests"]:
        for p in g["ports"]:
            print("%-3d %-5s %10d %10d %10d %10d  %s"
                  % (g["n"], p["name"], p["rx_packets"], p["tx_packets"],
                     p["rx_dropped"], p["tx_dropped"],
                     " ".join("%s=%d" % kv for kv in sorted(p["drops"].items()))
                     or "-"))
    for g in res["guests"]:
        w = g["workers"][0]
        print("GUESTS n=%d forwarded_mpps=%.4f dropped=%d busy_pct=%.2f "
              "stalled_pct=%.2f stalls=%d "
              "cycles_per_frame=%.0f worker_cpu_pct=%.1f worker_preempted=%d "
              "control_thread_cpu_pct=%.3f seconds=%.1f state=%s "
              "(handoff %d/%d ns) pktgen: %s"
              % (g["n"], forwarded_mpps(g),
                 sum(p["rx_dropped"] + p["tx_dropped"] for p in g["ports"]),
                 w["busy_pct"], w["stalled_pct"], w["stalls"],
                 w["cycles_per_frame"], w["cpu_pct"],
                 w["preempted"], g["control_cpu_pct"], g["seconds"], g["state"],
                 g["handoff"][0], g["handoff"][1],
                 ", ".join(x for x in g["guests"] if x)))
        if w["busy_pct"] > w["cpu_pct"]:
            print("  (n=%d: the worker was busy longer than it ran: it lost "
                  "its CPU in passes short enough not to count as stalls; "
                  "CPU 1 was shared)" % g["n"])
