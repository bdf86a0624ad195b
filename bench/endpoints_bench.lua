-- Connecting by name: what the Happy Eyeballs machinery costs, median of 5 runs.
--
--   lua5.4 bench/endpoints_bench.lua [iterations]
--
--   sort       endpoints.sortAddresses of 6 loopback addresses (3 IPv6, 3
--              IPv4), route probes included (one UDP socket per address,
--              connect()ed and closed: nothing is sent)
--   race       endpoints.race of 6 addresses on a task.Clock, the second
--              attempt winning: lookups given, two attempts, the rest
--              cancelled (the algorithm alone, no socket)
--   connect    HostnameEndpoint to 127.0.0.1 (a literal) on a listener of
--              its own, through reactor.connectTCP, then closed: wall time
--              (needs lua-luv for the listener)
package.path = "lua/?.lua;lua/?/init.lua;spec/support/?.lua;" .. package.path
package.cpath = "build/?.so;" .. package.cpath

local defer = require "names.defer"
local endpoints = require "names.endpoints"
local reactor = require "names.reactor"
local task = require "names.task"

local N = tonumber(arg and arg[1]) or 2000
local RUNS = 5

local function median(t)
  table.sort(t)
  return t[(#t + 1) // 2]
end

local function timeIt(n, f)
  local runs = {}
  for r = 1, RUNS do
    local t0 = os.clock()
    for _ = 1, n do f() end
    runs[r] = (os.clock() - t0) / n * 1e6
  end
  return median(runs)
end

local addresses = { "127.0.0.2", "::1", "127.0.0.3", "::ffff:127.0.0.2", "127.0.0.4", "::ffff:127.0.0.3" }

print(("sort     %8.2f us per sort of 6 (CPU)"):format(timeIt(N, function()
  endpoints.sortAddresses(addresses)
end)))

local noRoute = function(a) return a:find(":") and "::1" or "127.0.0.1" end
print(("race     %8.2f us per race of 6, 2 attempts (CPU)"):format(timeIt(N, function()
  local clock = task.Clock()
  local pending = {}
  local d = endpoints.race(addresses, function()
    local x = defer.Deferred()
    pending[#pending + 1] = x
    return x
  end, { clock = clock, port = 80, sourceFor = noRoute })
  clock:advance(0.25)
  pending[2]:callback("conn")
  assert(d.called)
end)))

if not pcall(require, "luv") then
  print("connect  (skipped: lua-luv is not installed)")
  return
end
local port = tonumber(os.getenv("BENCH_PORT") or "") or 55700
local p = assert(io.popen("exec lua5.4 spec/support/tcp_listener.lua 60 127.0.0.1:" .. port))
local pid = assert(p:read("l"):match("^(%d+) ready$"))
local async = require "async"
local M = math.min(N, 200)
local runs = {}
for r = 1, RUNS do
  local t0 = reactor.seconds()
  for _ = 1, M do
    local proto = async.wait(endpoints.HostnameEndpoint(reactor, "127.0.0.1", port)
      :connect({ buildProtocol = function() return {} end }))
    proto.transport:loseConnection()
  end
  runs[r] = (reactor.seconds() - t0) / M * 1e6
end
os.execute("kill " .. pid)
p:close()
print(("connect  %8.2f us per connect and close on loopback (wall)"):format(median(runs)))
