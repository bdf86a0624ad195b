-- N distinct lookups with K in flight through names.client (the whole Lua
-- stack: Deferreds, result objects), against SERVER PORT. Prints one line
-- as bench/resolver_bench.c does:
--   label queries answered seconds qps cpu_us_per_query user_us sys_us peak_rss_kb
--
--   lua5.4 bench/client_bench.lua SERVER PORT N K [API [GC [LABEL]]]
--   QTYPE=a lua5.4 bench/client_bench.lua 127.0.0.1 53700 20000 500 chain gen
--
-- API  chain     client.createResolver{servers = {{SERVER, PORT}}}: the chain
--                hosts file → cache → network as a user gets it, with its
--                defaults (EDNS, timeouts, the system's hosts file and
--                resolv.conf's search list and options; never its servers)
--      resolver  client.Resolver{servers = ..., edns = false}: the network
--                resolver alone, no cache, no hosts file
-- GC   inc | gen | default: collectgarbage("incremental"/"generational") set
--      here, by the benchmark program (the library never touches it)
-- QTYPE=ptr (default): lookupPointer of 10.Z.X.Y's reverse names;
-- QTYPE=a: lookupAddress of host-I.bench.test (bench/run-resolver.sh's zones)
--
-- The names are distinct, so every lookup misses the cache and goes to the
-- network; the chain's cache keeps at most its maxEntries (10,000 by default).
-- CPU is os.clock() (the process's user+system time) around the run, split
-- into user and system from /proc/self/stat; peak RSS is VmHWM at the end.
local client = require "names.client"
local core = require "names.core"
local reactor = require "names.reactor"

local host, port = arg[1] or "127.0.0.1", tonumber(arg[2] or "53700")
local N, K = tonumber(arg[3] or "20000"), tonumber(arg[4] or "500")
local api, gc = arg[5] or "chain", arg[6] or "default"
local qtype = os.getenv("QTYPE") or "ptr"
local label = arg[7] or ("lua-" .. api .. "-" .. gc)
assert(api == "chain" or api == "resolver", "API: chain or resolver")
assert(qtype == "ptr" or qtype == "a", "QTYPE: ptr or a")

if gc == "inc" then
  collectgarbage("incremental")
elseif gc == "gen" then
  collectgarbage("generational")
else
  assert(gc == "default", "GC: inc, gen or default")
end

-- user and system CPU seconds of this process, from /proc (clock ticks)
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

local function nameOf(i) -- i = 1 .. N
  i = i - 1
  if qtype == "a" then
    return ("host-%d.bench.test"):format(i)
  end
  return ("%d.%d.%d.10.in-addr.arpa"):format(i % 256, i // 256 % 256, i // 65536)
end

-- made before the clock starts, as every client of the benchmark does;
-- NAMES=lazy makes each when it is asked instead, so that the program's
-- own memory does not grow with N (the peak RSS runs from 20,000 to 200,000)
local names
if os.getenv("NAMES") == "lazy" then
  names = setmetatable({}, { __index = function(_, i) return nameOf(i) end })
else
  names = {}
  for i = 1, N do names[i] = nameOf(i) end
end

local r
if api == "chain" then
  r = client.createResolver{ servers = { { host, port } } }
else
  r = client.Resolver{ servers = { { host, port } }, timeout = { 5 }, edns = false }
end
local lookup = qtype == "a" and r.lookupAddress or r.lookupPointer
local started, done, answered = 0, 0, 0

local function onResult(result)
  if #result.answers > 0 then answered = answered + 1 end
end

local function onFailure() end

local nextOne
local function finished()
  done = done + 1
  if started < N then
    nextOne()
  elseif done == N then
    reactor.stop()
  end
end

nextOne = function()
  started = started + 1
  lookup(r, names[started]):addCallbacks(onResult, onFailure):addBoth(finished)
end

local u0, s0 = userSys()
local c0 = os.clock()
local t0 = core.now()
reactor.callWhenRunning(function()
  for _ = 1, math.min(K, N) do nextOne() end
end)
reactor.run()
local t1 = core.now()
local c1 = os.clock()
local u1, s1 = userSys()
local wall = t1 - t0
print(("%s %d %d %.4f %.0f %.3f %.3f %.3f %d"):format(label, N, answered, wall, N / wall,
  (c1 - c0) * 1e6 / N, (u1 - u0) * 1e6 / N, (s1 - s0) * 1e6 / N, peakRssKb()))
os.exit(answered == N and 0 or 1)
