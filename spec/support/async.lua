--- Waiting for Deferreds inside busted specs: the reactor's loop runs until
-- the Deferred fires or a watchdog's time is up.
--
--   local async = require "async"
--   local r = async.wait(client.lookupAddress("www.example.test"))
--   local failure = async.failure(client.lookupAddress("nope.example.test"))
--   async.run(function() local r = coroutine.yield(d) ... end)
local core = require "names.core"
local defer = require "names.defer"
local reactor = require "names.reactor"

local M = {}

M.timeout = 20

-- Runs the loop until done() is true or seconds pass; true if done.
function M.loopUntil(done, seconds)
  seconds = seconds or M.timeout
  local deadline = reactor.seconds() + seconds
  -- the watchdog keeps the loop from sleeping past the deadline
  local watchdog = reactor.callLater(seconds, function() end)
  while not done() and reactor.seconds() < deadline do
    core.step(true)
  end
  if watchdog:active() then
    watchdog:cancel()
  end
  return done()
end

--- Waits for d; returns (true, result) or (false, failure).
function M.settle(d, seconds)
  local settled, ok, value = false, nil, nil
  -- the chain keeps its result (so the Deferred's text shows it); a
  -- failure is consumed here, since the caller gets it
  d:addCallbacks(function(v)
    settled, ok, value = true, true, v
    return v
  end, function(f)
    settled, ok, value = true, false, f
  end)
  if not M.loopUntil(function() return settled end, seconds) then
    error("the Deferred did not fire within " .. (seconds or M.timeout) .. " s", 2)
  end
  return ok, value
end

--- The result of d; raises (the Failure's text) if it failed.
function M.wait(d, seconds)
  local ok, value = M.settle(d, seconds)
  if not ok then
    error(tostring(value), 2)
  end
  return value
end

--- The Failure d fails with; raises if it succeeded.
function M.failure(d, seconds)
  local ok, value = M.settle(d, seconds)
  if ok then
    error("expected a failure, got " .. tostring(value), 2)
  end
  return value
end

--- Runs fn as a coroutine (coroutine.yield(d) waits) and waits for it.
function M.run(fn, seconds)
  return M.wait(defer.inlineCallbacks(fn)(), seconds)
end

--- Seconds f(...) takes, with its results.
function M.timed(f, ...)
  local t0 = reactor.seconds()
  local r = table.pack(f(...))
  return reactor.seconds() - t0, table.unpack(r, 1, r.n)
end

return M
