"""N PTR lookups with K in flight through dnspython's asyncio query API,
against SERVER PORT; prints one line as bench/resolver_bench.c does:
    mode queries answered seconds qps cpu_us_per_query user_us sys_us peak_rss_kb

QTYPE=a: A lookups of host-I.bench.test instead of PTR lookups.

    python3 bench/dnspython_bench.py 127.0.0.1 53700 20000 500
"""
import asyncio
import os
import resource
import sys
import time

import dns.asyncquery
import dns.message
import dns.rdatatype


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


async def run(host, port, n, k):
    names = make_names(n)
    state = {"next": 0, "answered": 0}

    async def worker():
        while state["next"] < n:
            i = state["next"]
            state["next"] += 1
            q = dns.message.make_query(names[i], dns.rdatatype.A if QTYPE == "a" else dns.rdatatype.PTR)
            try:
                r = await dns.asyncquery.udp(q, host, port=port, timeout=5)
                if r.answer:
                    state["answered"] += 1
            except Exception:
                pass

    await asyncio.gather(*(worker() for _ in range(min(k, n))))
    return state["answered"]


def main(host="127.0.0.1", port="53700", n="20000", k="500"):
    n, k = int(n), int(k)
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.monotonic()
    answered = asyncio.run(run(host, int(port), n, k))
    wall = time.monotonic() - t0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    user = (r1.ru_utime - r0.ru_utime) * 1e6 / n
    sys_ = (r1.ru_stime - r0.ru_stime) * 1e6 / n
    print("dnspython %d %d %.4f %.0f %.3f %.3f %.3f %d"
          % (n, answered, wall, n / wall, user + sys_, user, sys_, peak_rss_kb()))


main(*sys.argv[1:])
