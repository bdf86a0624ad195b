-- N PTR lookups with K in flight through names.client (the whole Lua
-- stack: Deferreds, result objects), against SERVER PORT. Prints one line
-- as bench/resolver_bench.c does:
--   mode queries answered seconds qps cpu_us_per_query user_us sys_us
--
--   lua5.4 bench/client_bench.lua 127.0.0.1 53700 20000 500
local client = require "names.client"
local core = require "names.core"
local reactor = require "names.reactor"

local host, port = arg[1] or "127.0.0.1", tonumber(arg[2] or "53700")
local N, K = tonumber(arg[3] or "20000"), tonumber(arg[4] or "500")

-- user and system CPU seconds of this process, from /proc
local function cpu()
  local f = assert(io.open("/proc/self/stat"))
  local stat = f:read("a")
  f:close()
  local fields = {}
  for v in stat:match("%) (.*)$"):gmatch("%S+") do fields[#fields + 1] = v end
  local hz = 100
  return tonumber(fields[12]) / hz, tonumber(fields[13]) / hz
end

local names = {}
for i = 0, N - 1 do
  names[i + 1] = ("%d.%d.0.10.in-addr.arpa"):format(i % 256, i // 256)
end

local r = client.Resolver{ servers = { { host, port } }, timeout = { 5 }, edns = false }
local started, done, answered = 0, 0, 0

local function onResult(result)
  if #result.answers > 0 then answered = answered + 1 end
end

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
  r:lookupPointer(names[started]):addCallback(onResult):addBoth(finished)
end

local u0, s0 = cpu()
local t0 = core.now()
reactor.callWhenRunning(function()
  for _ = 1, math.min(K, N) do nextOne() end
end)
reactor.run()
local t1 = core.now()
local u1, s1 = cpu()
local wall = t1 - t0
print(("lua %d %d %.4f %.0f %.3f %.3f %.3f"):format(N, answered, wall, N / wall,
  ((u1 - u0) + (s1 - s0)) * 1e6 / N, (u1 - u0) * 1e6 / N, (s1 - s0) * 1e6 / N))
