-- N distinct lookups with K in flight through cqueues.dns (Debian
-- lua-cqueues, Lua 5.4), against SERVER PORT. Prints one line as
-- bench/resolver_bench.c does:
--   cqueues queries answered seconds qps cpu_us_per_query user_us sys_us peak_rss_kb
--
--   lua5.4 bench/cqueues_bench.lua SERVER PORT N K
--   QTYPE=a lua5.4 bench/cqueues_bench.lua 127.0.0.1 53700 20000 500
--
-- A cqueues.dns resolver (dns.c's) asks one question at a time on a socket
-- of its own; K questions at once take K of them: K coroutines on one
-- cqueues controller, each with its own resolver, each calling
-- resolver:query(name, type) in a loop. The resolvers share one
-- configuration that names only SERVER#PORT (no resolv.conf is read), the
-- system's hosts file (hosts.stub(), as lua-names' chain reads it) and stub
-- hints made from that configuration. (cqueues.dns.resolvers' pool costs
-- more: a get and a put per query, and with its default bounds a new socket
-- on most queries.) Each answer's records are read (the PTR's target, the
-- A's address), as a user of the answer would.
local cqueues = require "cqueues"
local config = require "cqueues.dns.config"
local hints = require "cqueues.dns.hints"
local hosts = require "cqueues.dns.hosts"
local resolver = require "cqueues.dns.resolver"

local host, port = arg[1] or "127.0.0.1", tonumber(arg[2] or "53700")
local N, K = tonumber(arg[3] or "20000"), tonumber(arg[4] or "500")
local qtype = os.getenv("QTYPE") or "ptr"
assert(qtype == "ptr" or qtype == "a", "QTYPE: ptr or a")
assert(host:match("^127%."), "the server must be on 127.0.0.0/8")

local function userSys()
  local f = assert(io.open("/proc/self/stat"))
  local stat = f:read("a")
  f:close()
  local fields = {}
  for v in stat:match("%) (.*)$"):gmatch("%S+") do fields[#fields + 1] = v end
  return tonumber(fields[12]) / 100, tonumber(fields[13]) / 100
end

local function peakRssKb()
  local f = assert(io.open("/proc/self/status"))
  local kb = f:read("a"):match("VmHWM:%s*(%d+)")
  f:close()
  return tonumber(kb) or 0
end

local names = {}
for i = 0, N - 1 do
  if qtype == "a" then
    names[i + 1] = ("host-%d.bench.test"):format(i)
  else
    names[i + 1] = ("%d.%d.%d.10.in-addr.arpa"):format(i % 256, i // 256 % 256, i // 65536)
  end
end
local rrtype = qtype == "a" and "A" or "PTR"

local conf = config.new{
  nameserver = { "[" .. host .. "]:" .. port },
  options = { timeout = 5, attempts = 2, edns0 = false },
}
local hostsFile, stubHints = hosts.stub(), hints.stub(conf)

local started, answered, failed = 0, 0, 0

local function worker()
  local r = assert(resolver.new(conf, hostsFile, stubHints))
  while started < N do
    started = started + 1
    local pkt = r:query(names[started], rrtype, "IN", 10)
    local got = false
    if pkt then
      for rr in pkt:grep{ section = "answer" } do
        if qtype == "a" then
          got = rr:addr() ~= nil
        else
          got = rr:host() ~= nil
        end
      end
    end
    if got then answered = answered + 1 else failed = failed + 1 end
  end
end

local cq = cqueues.new()
for _ = 1, math.min(K, N) do
  cq:wrap(worker)
end

local u0, s0 = userSys()
local c0 = os.clock()
local t0 = cqueues.monotime()
assert(cq:loop())
local t1 = cqueues.monotime()
local c1 = os.clock()
local u1, s1 = userSys()
local wall = t1 - t0
print(("cqueues %d %d %.4f %.0f %.3f %.3f %.3f %d"):format(N, answered, wall, N / wall,
  (c1 - c0) * 1e6 / N, (u1 - u0) * 1e6 / N, (s1 - s0) * 1e6 / N, peakRssKb()))
os.exit(answered == N and 0 or 1)
