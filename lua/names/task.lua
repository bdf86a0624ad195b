--- twisted.internet.task: `react`, `deferLater`, `Clock` and `LoopingCall`.
--
--    local task = require "names.task"
--    task.react(function(reactor, name)
--      local r = coroutine.yield(client.lookupAddress(name))
--      print(r.answers[1].payload)
--    end, arg)
--
-- `main` runs in a coroutine, as `defer.inlineCallbacks` runs it, so it may
-- wait with `coroutine.yield(d)` or return a Deferred.
--
-- `Clock()` is Twisted's deterministic clock: time moves only when a test
-- calls `advance`, so code written against a reactor's `callLater` and
-- `seconds` (Deferred `addTimeout`, `deferLater`, `LoopingCall`, the
-- endpoints of names.endpoints) runs step by step without waiting.
-- @module names.task

local argcheck = require "names.argcheck"
local class = require "names.class"
local defer = require "names.defer"
local delayedcall = require "names.delayedcall"
local reactor = require "names.reactor"

local M = {}

local unpack, pack = table.unpack, table.pack
local format = string.format

--- Runs `main(reactor, ...)` with the elements of `argv`, runs the loop
-- until the Deferred it returns fires, and exits: 0 on success; 1 on
-- failure, after writing `main function encountered error` and the
-- failure to stderr.
-- @tparam function main
-- @tparam[opt] table argv a script passes `arg`
-- @tparam[opt] table theReactor defaults to names.reactor
function M.react(main, argv, theReactor)
  argcheck.check(1, "react", main, "function")
  argcheck.expect(2, "react", argv == nil or type(argv) == "table", "a table of arguments", argv)
  argcheck.expect(3, "react", theReactor == nil or (type(theReactor) == "table" and type(theReactor.run) == "function"),
    "a reactor", theReactor)
  theReactor = theReactor or reactor
  argv = argv or {}
  local outcome, value
  local d = defer.inlineCallbacks(main)(theReactor, unpack(argv, 1, #argv))
  d:addCallbacks(function(result)
    outcome, value = "ok", result
  end, function(failure)
    outcome, value = "failed", failure
  end)
  if not outcome then
    d:addBoth(function()
      if theReactor.isRunning() then
        theReactor.stop()
      end
    end)
    theReactor.run()
  end
  if outcome == "failed" then
    io.stderr:write("main function encountered error\n", tostring(value), "\n")
    io.stderr:flush()
    os.exit(1, true)
  end
  io.stdout:flush()
  os.exit(0, true)
end

--- A Deferred that fires with `f(...)` after `delay` seconds (with nil if
-- `f` is nil). Cancelling it cancels the call.
-- @tparam table clock the reactor (anything with `callLater`)
-- @tparam number delay
-- @tparam[opt] function f
-- @treturn Deferred
function M.deferLater(clock, delay, f, ...)
  argcheck.expect(1, "deferLater", type(clock) == "table" and type(clock.callLater) == "function", "a reactor", clock)
  argcheck.expect(2, "deferLater", type(delay) == "number" and delay == delay, "number", delay)
  argcheck.expect(3, "deferLater", f == nil or class.iscallable(f), "function", f)
  local call
  local d = defer.Deferred(function()
    call:cancel()
  end)
  local args = table.pack(...)
  call = clock.callLater(delay, function()
    d:callback(nil)
  end)
  if f then
    d:addCallback(function()
      return f(unpack(args, 1, args.n))
    end)
  end
  return d
end

-- Clock ----------------------------------------------------------------------------

local Clock = { __name = "names.task.Clock" }
Clock.__index = Clock

function Clock.__tostring(self)
  return format("<Clock at %.3fs, %d delayed calls>", self.rightNow, #self.calls)
end

-- Keeps `calls` ordered by time, and by scheduling order among equal
-- times (Twisted sorts with a stable sort).
local function schedule(self, call)
  local calls = self.calls
  local i = #calls
  while i > 0 and calls[i].time > call.time do
    i = i - 1
  end
  table.insert(calls, i + 1, call)
end

local function unschedule(self, call)
  local calls = self.calls
  for i = 1, #calls do
    if calls[i] == call then
      table.remove(calls, i)
      return
    end
  end
end

local ClockCall = delayedcall.class("names.task.DelayedCall", {
  now = function(call) return call.clock.rightNow end,
  remove = function(call) unschedule(call.clock, call) end,
  insert = function(call) schedule(call.clock, call) end,
})
local checkSeconds = delayedcall.checkSeconds

--- Twisted's `task.Clock`: a reactor's time that moves only by `advance`.
-- Its `callLater` and `seconds` work called as plain functions, as
-- `names.reactor`'s (`clock.callLater(1, f)`, which is how `addTimeout`,
-- `deferLater` and the endpoints call them), and as methods
-- (`clock:callLater(1, f)`), so a Clock goes wherever a reactor's time does.
--
--    local clock = task.Clock()
--    local d = task.deferLater(clock, 5, function() return "done" end)
--    clock:advance(5)      -- d has fired
-- @treturn Clock with `rightNow` (its time, from 0), `calls` (the pending
--   calls, earliest first) and the methods below
function M.Clock()
  local self = setmetatable({ rightNow = 0, calls = {} }, Clock)
  -- bound here, so that clock.seconds() and clock:seconds() both work
  self.seconds = function(_)
    return self.rightNow
  end
  self.callLater = function(first, ...)
    if first == self then
      return Clock._callLater(self, ...)
    end
    return Clock._callLater(self, first, ...)
  end
  return self
end

function Clock._callLater(self, delay, f, ...)
  checkSeconds(delay, 1, "callLater")
  if not class.iscallable(f) then
    error("bad argument #2 to 'callLater' (function expected, got " .. type(f) .. ")", 3)
  end
  local call = setmetatable({ clock = self, time = self.rightNow + math.max(delay, 0), f = f,
    args = pack(...), called = false, cancelled = false }, ClockCall)
  schedule(self, call)
  return call
end

--- Moves the clock forward by `amount` seconds and runs, in order, every
-- call that is due, including those the calls themselves schedule within
-- the new time. An error in a call propagates, as in Twisted's Clock.
-- @tparam number amount not negative
function Clock:advance(amount)
  checkSeconds(amount, 1, "advance")
  if amount < 0 then
    error("bad argument #1 to 'advance' (the clock cannot go back)", 2)
  end
  local target = self.rightNow + amount
  local calls = self.calls
  -- the driven resolvers' deadlines fall due in step with the calls: each
  -- call runs after the lookups' timeouts due before it
  self.rightNow = target
  while calls[1] and calls[1].time <= target do
    local call = table.remove(calls, 1)
    self:_moveResolvers(call.time)
    call.called = true
    call.f(unpack(call.args, 1, call.args.n))
  end
  self:_moveResolvers(target)
end

-- Moves every driven resolver's clock to `t` (never back), running the
-- lookups' deadlines that fall due; a closed resolver is let go.
function Clock:_moveResolvers(t)
  local driven = self._resolvers
  if not driven then
    return
  end
  for coreResolver, at in pairs(driven) do
    if t > at then
      driven[coreResolver] = t
      if not pcall(coreResolver.set_clock, coreResolver, t) then
        driven[coreResolver] = nil
      end
    end
  end
end

-- The core resolvers inside `resolver`: a client.Resolver's, and those of
-- the resolvers a chain holds.
local function coreResolvers(resolver, out, depth)
  if type(resolver) ~= "table" or depth > 8 then
    return out
  end
  local c = rawget(resolver, "_core")
  if c ~= nil and type(c) ~= "table" then
    out[#out + 1] = c
  end
  for _, r in ipairs(rawget(resolver, "resolvers") or {}) do
    coreResolvers(r, out, depth + 1)
  end
  return out
end

--- Puts the lookups of `resolver` on this clock: their per-try timeouts
-- (the core's deadlines, e.g. the `{1, 3, 11, 45}` of a lookup) fall due
-- as `advance` moves past them, not on the machine's time, so a test can
-- walk a lookup's retries and its `DNSQueryTimeoutError` without waiting.
-- Beyond Twisted, whose Clock only serves callLater. Call it while the
-- resolver has nothing in flight; a closed resolver is let go.
-- @tparam table resolver a `client.Resolver`, or a chain holding one
--   (`client.createResolver`)
-- @treturn integer how many network resolvers it found
function Clock:driveResolver(resolver)
  local found = coreResolvers(resolver, {}, 0)
  if #found == 0 then
    error("bad argument #1 to 'driveResolver' (a client.Resolver, or a chain holding one, expected)", 2)
  end
  self._resolvers = self._resolvers or setmetatable({}, { __mode = "k" })
  for _, c in ipairs(found) do
    local ok, err = pcall(c.set_clock, c, self.rightNow)
    if not ok then
      error("driveResolver: " .. tostring(err):gsub("^[^:]*:%d+: ", ""), 2)
    end
    self._resolvers[c] = self.rightNow
  end
  return #found
end

--- Advances the clock by each amount of `timings` in turn.
-- @tparam {number,...} timings
function Clock:pump(timings)
  if type(timings) ~= "table" then
    error("bad argument #1 to 'pump' (a list of seconds expected, got " .. type(timings) .. ")", 2)
  end
  for _, amount in ipairs(timings) do
    self:advance(amount)
  end
end

--- The calls that have not run yet, earliest first.
-- @treturn {DelayedCall,...}
function Clock:getDelayedCalls()
  return { unpack(self.calls) }
end

-- LoopingCall ------------------------------------------------------------------------

local LoopingCall = { __name = "names.task.LoopingCall" }
LoopingCall.__index = LoopingCall

function LoopingCall.__tostring(self)
  return format("<LoopingCall %s every %ss running=%s>", tostring(self.f),
    tostring(self.interval), self.running)
end

local function newLoopingCall(f, args, level)
  if not class.iscallable(f) then
    error("bad argument #1 to 'LoopingCall' (function expected, got " .. type(f) .. ")", level + 1)
  end
  return setmetatable({ f = f, args = args, running = false, clock = reactor,
    call = nil, interval = nil }, LoopingCall)
end

--- Twisted's `task.LoopingCall(f, ...)`: calls `f(...)` every `interval`
-- seconds once started. When `f` returns a Deferred, the next call waits
-- for it. Set `lc.clock` to a `Clock` (or any reactor) before `start`; it
-- defaults to names.reactor. A late call (the clock jumped, `f` took long)
-- does not shift the ones after it: calls stay on the multiples of the
-- interval from the start, and the missed ones are skipped, as Twisted's.
--
-- `task.LoopingCall.withCount(countCallable)`, as Twisted's, calls
-- `countCallable(n)` with the number of intervals that have passed since
-- the previous call (1 when on time).
-- @tparam function f
-- @treturn LoopingCall with `start`, `stop`, `reset`, `running`, `interval`, `clock`
M.LoopingCall = setmetatable({}, {
  __call = function(_, f, ...)
    return newLoopingCall(f, pack(...), 2)
  end,
})

function M.LoopingCall.withCount(countCallable)
  local lc = newLoopingCall(countCallable, pack(), 2)
  lc.f = function()
    return countCallable(lc._elapsedIntervals)
  end
  return lc
end

local function scheduleNext(self)
  local now = self.clock.seconds()
  if self.interval == 0 then
    self.call = self.clock.callLater(0, self._run)
    return
  end
  -- the next multiple of the interval after now, counted from the start
  local count = math.floor((now - self.starttime) / self.interval) + 1
  self.call = self.clock.callLater(self.starttime + count * self.interval - now, self._run)
end

--- Starts calling: at once when `now` is true (the default), then every
-- `interval` seconds.
-- @tparam number interval seconds, not negative
-- @tparam[opt=true] boolean now
-- @treturn Deferred that fires with the function when `stop` is called,
--   or fails with its error when it raises or its Deferred fails
function LoopingCall:start(interval, now)
  if self.running then
    error("AssertionError: Tried to start an already running LoopingCall.", 2)
  end
  if type(interval) ~= "number" or interval ~= interval or interval < 0 then
    error("bad argument #1 to 'start' (interval: seconds, not negative, expected)", 2)
  end
  self.running = true
  self.interval = interval
  self.starttime = self.clock.seconds()
  self._lastCount = now == false and 0 or -1
  self._elapsedIntervals = 1
  local deferred = defer.Deferred()
  self._deferred = deferred
  self._run = function()
    self.call = nil
    -- intervals since the previous call, for withCount
    if self.interval > 0 then
      local count = math.floor((self.clock.seconds() - self.starttime) / self.interval + 1e-9)
      self._elapsedIntervals = math.max(count - self._lastCount, 1)
      self._lastCount = count
    end
    local ok, result = pcall(self.f, unpack(self.args, 1, self.args.n))
    if not ok then
      self.running = false
      self._deferred = nil
      deferred:errback(defer.isFailure(result) and result or defer.Failure(result))
      return
    end
    local function again()
      if self.running and self._deferred == deferred then
        scheduleNext(self)
      end
    end
    if defer.isDeferred(result) then
      self._waiting = result
      result:addCallbacks(function()
        self._waiting = nil
        again()
      end, function(failure)
        self._waiting = nil
        self.running = false
        self._deferred = nil
        deferred:errback(failure)
      end)
    else
      again()
    end
  end
  if now == nil or now then
    self._run()
  else
    scheduleNext(self)
  end
  return deferred
end

--- Stops calling; the Deferred from `start` fires with the function.
function LoopingCall:stop()
  if not self.running then
    error("AssertionError: Tried to stop a LoopingCall that was not running.", 2)
  end
  self.running = false
  if self.call then
    self.call:cancel()
    self.call = nil
  end
  local deferred = self._deferred
  self._deferred = nil
  deferred:callback(self.f)
end

--- Restarts the interval from now (the next call is `interval` seconds away).
function LoopingCall:reset()
  if not self.running then
    error("AssertionError: Tried to reset a LoopingCall that was not running.", 2)
  end
  if self.call then
    self.call:cancel()
    self.starttime = self.clock.seconds()
    self._lastCount = 0
    scheduleNext(self)
  end
end

return M
