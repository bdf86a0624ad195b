-- Deferred hot-path benchmark: ns per operation, median of 5 runs.
--
--   lua5.4 bench/defer_bench.lua [iterations]
--
-- (create, addCallback, callback) is what every DNS query costs; the second
-- case goes down the error path: (create, addCallbacks, errback, recover).
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path

local defer = require "names.defer"

local N = tonumber(arg and arg[1]) or 1000000
local RUNS = 5

local Deferred, Failure = defer.Deferred, defer.Failure

local function identity(r)
  return r
end

local function recover()
  return 0
end

local failure = Failure("benchmark failure")

local function callbackCase(n)
  for i = 1, n do
    local d = Deferred()
    d:addCallback(identity)
    d:callback(i)
  end
end

local function errbackCase(n)
  for _ = 1, n do
    local d = Deferred()
    d:addCallbacks(identity, recover)
    d:errback(failure)
  end
end

local function nsPerOp(case)
  collectgarbage()
  local t0 = os.clock()
  case(N)
  return (os.clock() - t0) / N * 1e9
end

local function median(case)
  local samples = {}
  for i = 1, RUNS do
    samples[i] = nsPerOp(case)
  end
  table.sort(samples)
  return samples[(RUNS + 1) // 2], samples
end

local function report(name, case)
  local m, samples = median(case)
  local parts = {}
  for i, s in ipairs(samples) do
    parts[i] = string.format("%.0f", s)
  end
  print(string.format("%-44s %7.0f ns/op  (runs: %s)", name, m, table.concat(parts, " ")))
end

print(string.format("%s, %d iterations, median of %d runs", _VERSION, N, RUNS))
report("Deferred: create, addCallback, callback", callbackCase)
report("Deferred: create, addCallbacks, errback, recover", errbackCase)
