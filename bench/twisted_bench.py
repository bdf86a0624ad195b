"""N PTR lookups with K in flight through Twisted Names' client.Resolver,
against SERVER PORT; prints one line as bench/resolver_bench.c does:
    mode queries answered seconds qps cpu_us_per_query user_us sys_us peak_rss_kb

QTYPE=a: A lookups of host-I.bench.test instead of PTR lookups.

    python3 bench/twisted_bench.py 127.0.0.1 53700 20000 500
"""
import os
import resource
import sys
import time

from twisted.internet import defer, task
from twisted.names import client


QTYPE = os.environ.get("QTYPE", "ptr")


def make_names(n):
    """10.Z.X.Y's reverse names (PTR), or host-I.bench.test (QTYPE=a)."""
    if QTYPE == "a":
        return ["host-%d.bench.test" % i for i in range(n)]
    return ["%d.%d.%d.10.in-addr.arpa" % (i % 256, i // 256 % 256, i // 65536) for i in range(n)]


def peak_rss_kb():
    """VmHWM of this process, from /proc."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def main(reactor, host="127.0.0.1", port="53700", n="20000", k="500"):
    n, k = int(n), int(k)
    names = make_names(n)
    resolver = client.Resolver(servers=[(host, int(port))], timeout=(5,))
    state = {"next": 0, "answered": 0}
    done = defer.Deferred()

    def one():
        i = state["next"]
        state["next"] += 1
        d = (resolver.lookupAddress if QTYPE == "a" else resolver.lookupPointer)(names[i])
        d.addCallback(got)
        d.addBoth(finished)

    def got(result):
        if result[0]:
            state["answered"] += 1

    finished_count = [0]

    def finished(_):
        finished_count[0] += 1
        if state["next"] < n:
            one()
        elif finished_count[0] == n:
            done.callback(None)

    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.monotonic()
    for _ in range(min(k, n)):
        one()

    def report(_):
        wall = time.monotonic() - t0
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        user = (r1.ru_utime - r0.ru_utime) * 1e6 / n
        sys_ = (r1.ru_stime - r0.ru_stime) * 1e6 / n
        print("twisted %d %d %.4f %.0f %.3f %.3f %.3f %d"
              % (n, state["answered"], wall, n / wall, user + sys_, user, sys_, peak_rss_kb()))

    done.addCallback(report)
    return done


task.react(main, sys.argv[1:])
