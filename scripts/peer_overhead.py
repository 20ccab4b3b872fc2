#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""peer_overhead.py - does the harness measure the language or itself?

For each built peer (jvm, crossbeam-epoch), payload and thread count, runs
the minimal stand-alone program of the same get (peers/jvm/Minimal.java,
peers/crossbeam/src/bin/minimal.rs: a main with threads and a timer, nothing
else) and the peer as `smrbench run` launches it, interleaved, ROUNDS times
(the order alternates per round), and prints the medians and their ratio,
harness / minimal.  The goal is a ratio within 1.2: a peer slower than that
measures the harness (its barrier, checks, pinning, counters), not the
language.  A benchmark, not a test: the ratio depends on the machine and on
what else runs on it.

usage: scripts/peer_overhead.py [--build DIR] [-t 1,2] [-P u64,str:128]
                                [-d SECONDS] [-r ROUNDS] [--warmup-ms MS]
Exit status: 0 done (whatever the ratios), 2 bad usage or no peer built.
"""
import argparse
import csv
import os
import re
import statistics
import subprocess
import sys
import tempfile

GOAL = 1.2  # the bound (issue 16): within 1.2x of the stand-alone get


def die(msg):
    print("peer_overhead: %s" % msg, file=sys.stderr)
    sys.exit(2)


def built_peers(smrbench):
    out = subprocess.run([smrbench, "list"], stdout=subprocess.PIPE, universal_newlines=True,
                         check=True).stdout
    peers, section = [], None
    for line in out.splitlines():
        if line and not line[0].isspace():
            section = line.rstrip(":")
        elif section == "peers":
            m = re.match(r"^  (\S+)\s+built: yes\b", line)
            if m:
                peers.append(m.group(1))
    return peers


def java_of(build):
    """The java configure found (config.h), else the one on PATH."""
    try:
        with open(os.path.join(build, "config.h")) as f:
            m = re.search(r'#define SMRB_JAVA "([^"]+)"', f.read())
            if m:
                return m.group(1)
    except OSError:
        pass
    return "java"


def minimal(build, peer, threads, payload, duration, period, warmup_ms):
    if peer == "jvm":
        cmd = [java_of(build), "-cp", os.path.join(build, "peers", "jvm"), "Minimal", str(threads),
               str(duration), payload, str(period), str(warmup_ms)]
    else:
        cmd = [os.path.join(build, "peers", "crossbeam", "minimal"), str(threads), str(duration), payload,
               str(period)]
    out = subprocess.run(cmd, stdout=subprocess.PIPE, universal_newlines=True, check=True).stdout
    m = re.search(r"ns_per_get=([0-9.eE+-]+)", out)
    if not m:
        die("%s printed no ns_per_get: %r" % (cmd[0], out))
    return float(m.group(1))


def harness(smrbench, peer, threads, payload, duration, period, warmup_ms, tmp, n):
    out = os.path.join(tmp, "run%d" % n)
    cmd = [smrbench, "run", "--no-calibrate", "-w", "lazy", "-s", peer, "-t", str(threads), "-d", str(duration),
           "-P", "payload=" + payload, "-P", "period=%d" % period, "-o", out]
    if peer == "jvm":
        cmd += ["-P", "warmup_ms=%d" % warmup_ms]
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    with open(os.path.join(out, "runs.csv")) as f:
        return float(next(csv.DictReader(f))["ns_per_op"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=".", help="the build tree (smrbench and peers/)")
    ap.add_argument("-t", "--threads", default="1,2")
    ap.add_argument("-P", "--payloads", default="u64,str:128")
    ap.add_argument("-d", "--duration", type=float, default=1.0)
    ap.add_argument("-r", "--rounds", type=int, default=3)
    ap.add_argument("--period", type=int, default=10000, help="ns between two sources (lazy's default)")
    ap.add_argument("--warmup-ms", type=int, default=500, help="the JVM's untimed warm-up, both programs")
    a = ap.parse_args()
    smrbench = os.path.join(a.build, "smrbench")
    if not os.access(smrbench, os.X_OK):
        die("no smrbench in %s (--build DIR)" % a.build)
    try:
        threads = [int(t) for t in a.threads.split(",")]
    except ValueError:
        die("bad thread list '%s'" % a.threads)
    if a.rounds < 1 or not a.duration > 0 or any(t < 1 for t in threads):
        die("want rounds >= 1, duration > 0, threads >= 1")
    payloads = a.payloads.split(",")
    bad = [p for p in payloads if not re.match(r"^(u64|str:[1-9][0-9]*)$", p)]
    if bad:
        die("payloads are u64 or str:N, not %s" % ", ".join(bad))
    peers = built_peers(smrbench)
    if not peers:
        die("no peer is built here (scripts/setup.sh, then configure)")
    res = {}
    with tempfile.TemporaryDirectory() as tmp:
        n = 0
        for rnd in range(a.rounds):
            for peer in peers:
                for p in payloads:
                    for t in threads:
                        key = (peer, p, t)
                        # Alternate which goes first, so that neither always runs on a warmer machine.
                        for which in ("minimal", "harness")[::1 if rnd % 2 == 0 else -1]:
                            if which == "minimal":
                                v = minimal(a.build, peer, t, p, a.duration, a.period, a.warmup_ms)
                            else:
                                n += 1
                                v = harness(smrbench, peer, t, p, a.duration, a.period, a.warmup_ms, tmp, n)
                            res.setdefault(key, {}).setdefault(which, []).append(v)
                            print("round %d %-16s %-8s t=%d %-8s %.3f ns/get" % (rnd + 1, peer, p, t, which, v),
                                  file=sys.stderr)
    print("%-16s %-8s %3s %12s %12s %7s  (medians of %d rounds, ns per get; goal: ratio <= %.1f)" % (
        "peer", "payload", "t", "minimal", "harness", "ratio", a.rounds, GOAL))
    worst = 0
    for (peer, p, t), v in res.items():
        mn, hn = statistics.median(v["minimal"]), statistics.median(v["harness"])
        ratio = hn / mn
        worst = max(worst, ratio)
        print("%-16s %-8s %3d %12.3f %12.3f %7.2f%s" % (peer, p, t, mn, hn, ratio,
                                                         "" if ratio <= GOAL else "  over the goal"))
    print("worst ratio %.2f: %s" % (worst, "within the goal" if worst <= GOAL else "over the goal"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
