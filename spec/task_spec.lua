-- names.task's Clock and LoopingCall: Twisted's deterministic time, and
-- the code that takes a reactor's time (addTimeout, deferLater) run on it.
local defer = require "names.defer"
local task = require "names.task"

describe("task.Clock", function()
  it("starts at 0 and moves only when advanced", function()
    local clock = task.Clock()
    assert.equal(0, clock.seconds())
    assert.equal(0, clock:seconds())
    clock:advance(1.5)
    assert.equal(1.5, clock.seconds())
  end)

  it("runs delayed calls in time order, ties in scheduling order", function()
    local clock = task.Clock()
    local ran = {}
    clock.callLater(2, function() ran[#ran + 1] = "b" end)
    clock:callLater(1, function(x) ran[#ran + 1] = x end, "a")
    clock.callLater(2, function() ran[#ran + 1] = "c" end)
    clock:advance(1)
    assert.same({ "a" }, ran)
    clock:advance(0.5)
    assert.same({ "a" }, ran)
    clock:advance(0.5)
    assert.same({ "a", "b", "c" }, ran)
    assert.same({}, clock:getDelayedCalls())
  end)

  it("runs the calls that due calls schedule for the new present (the clock is already there)", function()
    local clock = task.Clock()
    local ran = {}
    clock.callLater(1, function()
      ran[#ran + 1] = clock.seconds()
      clock.callLater(0, function() ran[#ran + 1] = "inner" end)
      clock.callLater(5, function() ran[#ran + 1] = "later" end)
    end)
    clock:advance(2)
    assert.same({ 2, "inner" }, ran)
    assert.equal(1, #clock:getDelayedCalls())
  end)

  it("cancels, resets and delays calls as the reactor's", function()
    local clock = task.Clock()
    local ran = 0
    local call = clock.callLater(1, function() ran = ran + 1 end)
    assert.is_true(call:active())
    call:reset(3)
    assert.equal(3, call:getTime())
    call:delay(1)
    assert.equal(4, call:getTime())
    clock:advance(3.9)
    assert.equal(0, ran)
    clock:advance(0.1)
    assert.equal(1, ran)
    assert.is_false(call:active())
    assert.has_error(function() call:cancel() end, "AlreadyCalled: cannot cancel a call that has run")
    local other = clock.callLater(1, function() ran = ran + 1 end)
    other:cancel()
    clock:advance(5)
    assert.equal(1, ran)
    assert.has_error(function() other:reset(1) end, "AlreadyCancelled: cannot reset a cancelled call")
  end)

  it("pumps a list of steps", function()
    local clock = task.Clock()
    local times = {}
    for _, t in ipairs({ 0.1, 0.25, 0.3 }) do
      clock.callLater(t, function() times[#times + 1] = clock.seconds() end)
    end
    clock:pump({ 0.1, 0.1, 0.1 })
    assert.same(3, #times)
    assert.near(0.1, times[1], 1e-9)
    assert.near(0.3, times[2], 1e-9)
    assert.near(0.3, times[3], 1e-9)
  end)

  it("refuses to go back and names a bad argument", function()
    local clock = task.Clock()
    assert.has_error(function() clock:advance(-1) end, "bad argument #1 to 'advance' (the clock cannot go back)")
    assert.has_error(function() clock.callLater("x", print) end)
    assert.has_error(function() clock.callLater(1, 5) end)
    assert.has_error(function() clock:pump(3) end)
  end)

  it("times out a Deferred with addTimeout", function()
    local clock = task.Clock()
    local d = defer.Deferred()
    d:addTimeout(10, clock)
    local failure
    d:addErrback(function(f) failure = f end)
    clock:advance(9.9)
    assert.is_nil(failure)
    clock:advance(0.1)
    assert.is_truthy(failure:check(defer.TimeoutError))
    assert.equal(0, #clock:getDelayedCalls())
  end)

  it("leaves no delayed call behind when the Deferred fires before its timeout", function()
    local clock = task.Clock()
    local d = defer.Deferred()
    d:addTimeout(10, clock)
    assert.equal(1, #clock:getDelayedCalls())
    d:callback("ok")
    assert.equal(0, #clock:getDelayedCalls())
  end)

  it("fires deferLater when its time comes, and cancels it", function()
    local clock = task.Clock()
    local d = task.deferLater(clock, 3, function(a, b) return a + b end, 1, 2)
    local got
    d:addCallback(function(v) got = v end)
    clock:advance(2.999)
    assert.is_nil(got)
    clock:advance(0.001)
    assert.equal(3, got)
    local d2 = task.deferLater(clock, 3)
    d2:addErrback(function() end)
    d2:cancel()
    assert.equal(0, #clock:getDelayedCalls())
  end)
end)

describe("task.LoopingCall", function()
  it("calls at once and then every interval", function()
    local clock = task.Clock()
    local times = {}
    local lc = task.LoopingCall(function() times[#times + 1] = clock.seconds() end)
    lc.clock = clock
    local d = lc:start(1)
    assert.same({ 0 }, times)
    clock:pump({ 1, 1, 1 })
    assert.same({ 0, 1, 2, 3 }, times)
    local stopped
    d:addCallback(function(f) stopped = f end)
    lc:stop()
    assert.equal(lc.f, stopped)
    assert.is_false(lc.running)
    clock:advance(5)
    assert.equal(4, #times)
    assert.equal(0, #clock:getDelayedCalls())
  end)

  it("waits the first interval when now is false", function()
    local clock = task.Clock()
    local n = 0
    local lc = task.LoopingCall(function() n = n + 1 end)
    lc.clock = clock
    lc:start(2, false)
    assert.equal(0, n)
    clock:advance(2)
    assert.equal(1, n)
    lc:stop()
  end)

  it("keeps to the interval's multiples when the clock jumps, and counts what was skipped", function()
    local clock = task.Clock()
    local counts, times = {}, {}
    local lc = task.LoopingCall.withCount(function(n)
      counts[#counts + 1] = n
      times[#times + 1] = clock.seconds()
    end)
    lc.clock = clock
    lc:start(1)
    clock:advance(1)
    clock:advance(2.5) -- the call due at 2 runs at 3.5; the next is at 4
    clock:advance(0.5)
    assert.same({ 0, 1, 3.5, 4 }, times)
    assert.same({ 1, 1, 2, 1 }, counts)
    lc:stop()
  end)

  it("waits for a Deferred the function returns", function()
    local clock = task.Clock()
    local calls, pendingD = 0, nil
    local lc = task.LoopingCall(function()
      calls = calls + 1
      pendingD = defer.Deferred()
      return pendingD
    end)
    lc.clock = clock
    lc:start(1)
    clock:advance(5)
    assert.equal(1, calls)
    pendingD:callback(nil)
    clock:advance(1)
    assert.equal(2, calls)
    lc:stop()
  end)

  it("stops and fails its Deferred when the function raises", function()
    local clock = task.Clock()
    local n = 0
    local lc = task.LoopingCall(function()
      n = n + 1
      if n == 2 then error("boom") end
    end)
    lc.clock = clock
    local failure
    lc:start(1):addErrback(function(f) failure = f end)
    clock:advance(1)
    assert.is_truthy(tostring(failure.value):find("boom", 1, true))
    assert.is_false(lc.running)
    assert.equal(0, #clock:getDelayedCalls())
  end)

  it("refuses a second start and a stop when not running", function()
    local lc = task.LoopingCall(function() end)
    lc.clock = task.Clock()
    assert.has_error(function() lc:stop() end)
    lc:start(1)
    assert.has_error(function() lc:start(1) end)
    lc:stop()
    assert.has_error(function() task.LoopingCall(5) end,
      "bad argument #1 to 'LoopingCall' (function expected, got number)")
  end)

  it("restarts the interval from now on reset", function()
    local clock = task.Clock()
    local times = {}
    local lc = task.LoopingCall(function() times[#times + 1] = clock.seconds() end)
    lc.clock = clock
    lc:start(1)
    clock:advance(0.5)
    lc:reset()
    clock:advance(0.9)
    assert.same({ 0 }, times)
    clock:advance(0.1)
    assert.same({ 0, 1.5 }, times)
    lc:stop()
  end)
end)

describe("task.Clock driving lookups", function()
  local async = require "async"
  local client = require "names.client"
  local errors = require "names.error"
  local reactor = require "names.reactor"
  local env = require "testenv"

  -- lets the loop send what the last step started (the send is the loop's)
  local function settle()
    local until_ = reactor.seconds() + 0.02
    repeat reactor.step() until reactor.seconds() > until_
  end

  it("times a lookup's tries out on the clock, not on the machine's time", function()
    local clock = task.Clock()
    local r = client.Resolver{ servers = { { "127.0.0.1", env.bad.silent } }, timeout = { 1, 3 } }
    assert.equal(1, clock:driveResolver(r))
    local d = r:lookupAddress("www.example.test")
    local failure
    d:addErrback(function(f) failure = f end)
    settle()
    clock:advance(0.999)
    settle()
    assert.is_nil(failure)
    clock:advance(0.001) -- the first try times out; the second is sent
    settle()
    assert.is_nil(failure)
    clock:advance(2.999)
    settle()
    assert.is_nil(failure)
    clock:advance(0.001)
    assert.is_truthy(failure and failure:check(errors.DNSQueryTimeoutError))
    r:close()
  end)

  it("drives the network resolver inside a chain, and a deferLater beside it", function()
    local clock = task.Clock()
    local chain = client.createResolver{ servers = { { "127.0.0.1", env.bad.silent } }, hosts = "/dev/null" }
    assert.equal(1, clock:driveResolver(chain))
    local order = {}
    chain:lookupAddress("www.example.test", { 2 }):addErrback(function() order[#order + 1] = "lookup" end)
    task.deferLater(clock, 1, function() order[#order + 1] = "later 1" end)
    task.deferLater(clock, 3, function() order[#order + 1] = "later 3" end)
    settle()
    clock:advance(5)
    assert.same({ "later 1", "lookup", "later 3" }, order)
  end)

  it("refuses what holds no network resolver", function()
    assert.has_error(function() task.Clock():driveResolver({}) end,
      "bad argument #1 to 'driveResolver' (a client.Resolver, or a chain holding one, expected)")
  end)

  it("answers a lookup from the server while the clock stands still", function()
    local clock = task.Clock()
    local r = client.Resolver{ servers = { env.server } }
    clock:driveResolver(r)
    local result = async.wait(r:lookupAddress("www.example.test"))
    assert.equal("192.0.2.10", result.answers[1].payload.address)
    r:close()
  end)
end)
