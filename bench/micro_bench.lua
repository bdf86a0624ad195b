-- Answers that never touch the network, through the public API of a
-- client.createResolver{servers = {{SERVER, PORT}}, hosts = HOSTS} chain
-- (hosts file → cache → network):
--
--   cache-lookupAddress    lookupAddress(name), the answer in the cache
--   cache-getHostByName    getHostByName(name), its A and AAAA in the cache
--   hosts-getHostByName    getHostByName(name), the name in the hosts file
--
-- Each call's Deferred has fired when the call returns (checked: every
-- call's callback must have run, with the right address, before the clock
-- stops). The calls cycle over M = 1,000 names: host-I.bench.test, put in
-- the cache by one real lookup each (to SERVER#PORT, before the clock
-- starts; bench/run-resolver.sh's NSD serves them), and hosts-I.bench.local,
-- written to HOSTS by this program.
--
--   lua5.4 bench/micro_bench.lua SERVER PORT HOSTS [GC]
--     per case: µs per call over a loop of CALLS = 20,000 calls, the best
--     and the median of ROUNDS = 5 rounds; and bytes allocated per call,
--     with the collector stopped around 2,000 calls (the difference of
--     collectgarbage("count")). One line per case:
--       micro-CASE-GC best_us median_us bytes_per_call
--   lua5.4 bench/micro_bench.lua SERVER PORT HOSTS GC CASE COUNT
--     the set-up, then COUNT calls of CASE and nothing else (for callgrind:
--     the difference of two COUNTs is the cost of the calls)
--
-- GC: inc | gen | default, set here by the benchmark (the library never
-- sets the collector).
local client = require "names.client"
local defer = require "names.defer"
local reactor = require "names.reactor"

local host, port, hostsPath = arg[1] or "127.0.0.1", tonumber(arg[2] or "53700"), arg[3]
local gc = arg[4] or "default"
local onlyCase, onlyCount = arg[5], tonumber(arg[6] or "0")
local CALLS, ROUNDS, ALLOC_CALLS, M = 20000, 5, 2000, 1000
assert(hostsPath, "usage: lua5.4 bench/micro_bench.lua SERVER PORT HOSTS [GC [CASE COUNT]]")

if gc == "inc" then
  collectgarbage("incremental")
elseif gc == "gen" then
  collectgarbage("generational")
else
  assert(gc == "default", "GC: inc, gen or default")
end

local cachedNames, cachedAddress, hostsNames, hostsAddress = {}, {}, {}, {}
for i = 0, M - 1 do
  cachedNames[i + 1] = ("host-%d.bench.test"):format(i)
  cachedAddress[i + 1] = ("10.%d.%d.%d"):format(i // 65536, i // 256 % 256, i % 256)
  hostsNames[i + 1] = ("hosts-%d.bench.local"):format(i)
  hostsAddress[i + 1] = ("10.200.%d.%d"):format(i // 256, i % 256)
end
do
  local f = assert(io.open(hostsPath, "w"))
  f:write("# written by bench/micro_bench.lua\n127.0.0.1 localhost\n")
  for i = 1, M do
    f:write(hostsAddress[i], " ", hostsNames[i], "\n")
  end
  f:close()
end

local chain = client.createResolver{ servers = { { host, port } }, hosts = hostsPath }

-- fill the cache: one lookupAddress and one getHostByName (A and AAAA) per
-- name, 100 names at a time (all at once would overflow a socket's buffer,
-- and the retries would make the set-up slow and its cost vary)
do
  local failed
  local function batch(first)
    local all = {}
    for i = first, math.min(first + 99, M) do
      all[#all + 1] = chain:lookupAddress(cachedNames[i])
      all[#all + 1] = chain:getHostByName(cachedNames[i])
    end
    defer.DeferredList(all, { consumeErrors = true }):addCallback(function(results)
      for _, pair in ipairs(results) do
        if not pair[1] then failed = tostring(pair[2]) end
      end
      if first + 100 <= M and not failed then
        batch(first + 100)
      else
        reactor.stop()
      end
    end)
  end
  reactor.callWhenRunning(function() batch(1) end)
  reactor.run()
  assert(not failed, "filling the cache failed: " .. tostring(failed))
end

-- the cases: each makes n calls, and counts the callbacks that saw the right answer
local fired = 0
local expected
local function onAddressResult(result)
  if result.answers[1].payload.address == expected then
    fired = fired + 1
  end
end
local function onHost(address)
  if address == expected then fired = fired + 1 end
end

local cases = {
  ["cache-lookupAddress"] = function(n)
    for i = 1, n do
      local k = i % M + 1
      expected = cachedAddress[k]
      chain:lookupAddress(cachedNames[k]):addCallback(onAddressResult)
    end
  end,
  ["cache-getHostByName"] = function(n)
    for i = 1, n do
      local k = i % M + 1
      expected = cachedAddress[k]
      chain:getHostByName(cachedNames[k]):addCallback(onHost)
    end
  end,
  ["hosts-getHostByName"] = function(n)
    for i = 1, n do
      local k = i % M + 1
      expected = hostsAddress[k]
      chain:getHostByName(hostsNames[k]):addCallback(onHost)
    end
  end,
}
local order = { "cache-lookupAddress", "cache-getHostByName", "hosts-getHostByName" }

local function run(case, n)
  fired = 0
  cases[case](n)
  if fired ~= n then
    error(("%s: %d of %d calls fired at once with the right answer"):format(case, fired, n))
  end
end

if onlyCase then
  assert(cases[onlyCase], "CASE: " .. table.concat(order, ", "))
  run(onlyCase, onlyCount)
  os.exit(0)
end

for _, case in ipairs(order) do
  run(case, 1000) -- warm up
  local samples = {}
  for r = 1, ROUNDS do
    collectgarbage()
    local t0 = os.clock()
    run(case, CALLS)
    samples[r] = (os.clock() - t0) * 1e6 / CALLS
  end
  table.sort(samples)
  collectgarbage()
  collectgarbage("stop")
  local k0 = collectgarbage("count")
  run(case, ALLOC_CALLS)
  local k1 = collectgarbage("count")
  collectgarbage("restart")
  print(("micro-%s-%s %.3f %.3f %.0f"):format(case, gc, samples[1], samples[(ROUNDS + 1) // 2],
    (k1 - k0) * 1024 / ALLOC_CALLS))
end
