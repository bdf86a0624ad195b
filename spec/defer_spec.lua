-- names.defer: Deferred, Failure, DeferredList, gatherResults, addTimeout,
-- unhandled-error reporting and inlineCallbacks. Most cases port what
-- Twisted's twisted/test/test_defer.py checks.
local defer = require "names.defer"
local class = require "names.class"
local repr = require "names.repr"

local Deferred, Failure = defer.Deferred, defer.Failure
local GenericError = class("spec.GenericError")

-- Twisted's task.Clock, reduced to what addTimeout needs. Like
-- names.reactor, callLater is a plain function: clock.callLater(delay, f).
local function Clock()
  local clock = { now = 0, calls = {} }
  function clock.callLater(delay, f, ...)
    local call = { time = clock.now + delay, f = f, args = table.pack(...), cancelled = false, called = false }
    function call.active(c) return not c.cancelled and not c.called end
    function call.cancel(c)
      assert(c:active(), "cancel() of a call that is not active")
      c.cancelled = true
    end
    clock.calls[#clock.calls + 1] = call
    return call
  end
  function clock:advance(dt)
    self.now = self.now + dt
    for _, c in ipairs(self.calls) do
      if c:active() and c.time <= self.now then
        c.called = true
        c.f(table.unpack(c.args, 1, c.args.n))
      end
    end
  end
  return clock
end

-- io.stderr is replaced through rawset: the library looks it up when it
-- writes, so that tests can read what it wrote.
local function swapStderr(new)
  local old = io.stderr
  rawset(io, "stderr", new)
  return old
end

local function stderrRecorder(written)
  return {
    write = function(self, ...)
      for _, s in ipairs({ ... }) do written[#written + 1] = s end
      return self
    end,
  }
end

-- Run fn with io.stderr replaced, collect garbage, and return what was
-- written. Garbage from before is collected first, so that only what fn
-- leaves behind can report.
local function captureStderr(fn)
  collectgarbage()
  collectgarbage()
  local written = {}
  local saved = swapStderr(stderrRecorder(written))
  local ok, err = pcall(fn)
  collectgarbage()
  collectgarbage()
  swapStderr(saved)
  assert(ok, err)
  return table.concat(written)
end

local function appender(list)
  return function(x) list[#list + 1] = x end
end

local function stackDepth()
  local depth = 1
  while debug.getinfo(depth + 1, "l") do depth = depth + 1 end
  return depth
end

describe("names.defer", function()
  describe("Deferred callbacks", function()
    it("passes the result to a callback", function()
      local got
      local d = Deferred()
      d:addCallback(function(...) got = table.pack(...) end)
      d:callback("hello")
      assert.are.same({ "hello", n = 1 }, got)
    end)

    it("passes extra arguments after the result, nils included", function()
      local got
      local d = Deferred()
      d:addCallback(function(...) got = table.pack(...) end, "world", nil)
      d:callback("hello")
      assert.are.same({ "hello", "world", nil, n = 3 }, got)
    end)

    it("makes each callback's return value the next one's argument", function()
      local seen = {}
      local d = Deferred()
      d:addCallback(function(r) seen[#seen + 1] = r; return r .. "!" end)
      d:addCallback(function(r) seen[#seen + 1] = r; return #r end)
      d:callback("hi")
      assert.are.same({ "hi", "hi!" }, seen)
      assert.are.equal(3, d.result)
    end)

    it("runs callbacks added after firing at once", function()
      local d = defer.succeed(1)
      local got
      d:addCallback(function(r) got = r end)
      assert.are.equal(1, got)
    end)

    it("returns the Deferred from every add method, for chaining calls", function()
      local d = Deferred()
      local f = function(r) return r end
      assert.are.equal(d, d:addCallback(f))
      assert.are.equal(d, d:addErrback(f))
      assert.are.equal(d, d:addBoth(f))
      assert.are.equal(d, d:addCallbacks(f, f))
    end)

    it("passes the argument tables of addCallbacks to each side", function()
      local cbGot, ebGot
      local d1, d2 = Deferred(), Deferred()
      local cb = function(...) cbGot = table.pack(...) end
      local eb = function(...) ebGot = table.pack(...) end
      d1:addCallbacks(cb, eb, { 1, 2 }, { 3 })
      d2:addCallbacks(cb, eb, { 1, 2 }, { 3, nil, n = 2 })
      d1:callback("r")
      local f = Failure("x")
      d2:errback(f)
      assert.are.same({ "r", 1, 2, n = 3 }, cbGot)
      assert.are.same({ f, 3, nil, n = 3 }, ebGot)
    end)

    it("lets failures pass a callback-only entry and results pass an errback", function()
      local calls = {}
      local d = Deferred()
      d:addCallback(function() calls[#calls + 1] = "cb" end)
      d:addErrback(function() calls[#calls + 1] = "eb"; return "recovered" end)
      d:addErrback(function() calls[#calls + 1] = "eb2" end)
      d:errback(GenericError("x"))
      assert.are.same({ "eb" }, calls)
      assert.are.equal("recovered", d.result)
    end)

    it("calls an addBoth function with the result and with the failure", function()
      local got = {}
      local f = function(r, tag) got[#got + 1] = { r, tag }; return r end
      local ok, failed = Deferred(), Deferred()
      ok:addBoth(f, "a")
      failed:addBoth(f, "b")
      failed:addErrback(function() end)
      ok:callback(1)
      local failure = Failure("x")
      failed:errback(failure)
      assert.are.same({ { 1, "a" }, { failure, "b" } }, got)
    end)

    it("switches to the errbacks when a callback raises", function()
      local d = Deferred()
      local got
      d:addCallback(function() error(GenericError("bad")) end)
      d:addCallback(function() got = "callback" end)
      d:addErrback(function(f) got = f end)
      d:callback(nil)
      assert.is_true(defer.isFailure(got))
      assert.are.equal(GenericError, got.type)
      assert.are.equal("bad", got:getErrorMessage())
    end)

    it("uses a raised Failure as it is", function()
      local f = Failure(GenericError("x"))
      local got
      local d = Deferred()
      d:addCallback(function() error(f) end)
      d:addErrback(function(g) got = g end)
      d:callback(1)
      assert.are.equal(f, got)
    end)

    it("switches back to the callbacks when an errback returns a value", function()
      local got
      local d = Deferred()
      d:addErrback(function() return "fine" end)
      d:addCallback(function(r) got = r end)
      d:errback(GenericError())
      assert.are.equal("fine", got)
    end)

    it("switches to the errbacks when a callback returns a Failure", function()
      local f = Failure("returned")
      local got
      local d = Deferred()
      d:addCallback(function() return f end)
      d:addErrback(function(g) got = g end)
      d:callback(1)
      assert.are.equal(f, got)
    end)

    it("wraps a non-Failure errback argument in a Failure", function()
      local e = GenericError("x")
      local d = Deferred()
      d:errback(e)
      assert.is_true(defer.isFailure(d.result))
      assert.are.equal(e, d.result.value)
      d:addErrback(function() end)
    end)

    it("makes a Failure of a generic Exception when errback has no argument", function()
      local d = Deferred()
      d:errback()
      assert.are.equal(class.Exception, d.result.type)
      d:addErrback(function() end)
    end)

    it("takes the errback path when callback is given a Failure", function()
      local got
      local d = Deferred()
      d:addErrback(function(f) got = f end)
      local f = Failure("x")
      d:callback(f)
      assert.are.equal(f, got)
    end)

    it("sets called when fired", function()
      local d = Deferred()
      assert.is_false(d.called)
      d:callback(nil)
      assert.is_true(d.called)
    end)

    it("adds a callback added by a running callback at the end of the chain", function()
      local called = {}
      local d = Deferred()
      d:addCallback(function()
        called[#called + 1] = 1
        d:addCallback(function() called[#called + 1] = 3 end)
      end)
      d:addCallback(function() called[#called + 1] = 2 end)
      d:callback(nil)
      assert.are.same({ 1, 2, 3 }, called)
    end)

    it("does not run a callback added by a running callback before it returns", function()
      local called, during = {}, nil
      local d = Deferred()
      d:addCallback(function()
        called[#called + 1] = 1
        d:addCallback(function() called[#called + 1] = 2 end)
        during = #called
      end)
      d:callback(nil)
      assert.are.equal(1, during)
      assert.are.same({ 1, 2 }, called)
    end)

    it("errbacks when a callback added by a running callback raises", function()
      local d = Deferred()
      d:addCallback(function() d:addCallback(function() error(GenericError("inner")) end) end)
      d:callback(nil)
      assert.are.equal("inner", d.result:getErrorMessage())
      d:addErrback(function() end)
    end)

    it("raises at once for a callback that is not callable", function()
      local d = Deferred()
      assert.has_error(function() d:addCallback(42) end,
        "bad argument #1 to 'addCallback' (function expected, got number)")
      assert.has_error(function() d:addCallbacks(print, "x") end,
        "bad argument #2 to 'addCallbacks' (function expected, got string)")
    end)

    it("raises at once for arguments of the wrong type, before anything fires", function()
      local d = Deferred()
      local clock = { callLater = function() return { cancel = function() end } end }
      for _, case in ipairs{
        { function() Deferred(5) end, "bad argument #1 to 'Deferred' (function expected, got number)" },
        { function() d:addCallbacks(print, nil, 5) end,
          "bad argument #3 to 'addCallbacks' (table or nil expected, got number)" },
        { function() d:chainDeferred(nil) end, "bad argument #1 to 'chainDeferred' (Deferred expected, got nil)" },
        { function() d:addTimeout(0 / 0, clock) end, "bad argument #1 to 'addTimeout' (seconds expected, got nan)" },
        { function() d:addTimeout(1, nil) end,
          "bad argument #2 to 'addTimeout' (a clock with callLater expected, got nil)" },
        { function() d:addTimeout(1, clock, 5) end, "bad argument #3 to 'addTimeout' (function expected, got number)" },
        { function() defer.DeferredList(nil) end,
          "bad argument #1 to 'DeferredList' (a list of Deferreds expected, got nil)" },
        { function() defer.DeferredList({ d, 1 }) end,
          "bad argument #1 to 'DeferredList' (Deferred expected at index 2, got number)" },
        { function() defer.gatherResults({}, 5) end,
          "bad argument #2 to 'gatherResults' (table or nil expected, got number)" },
      } do
        assert.has_error(case[1], case[2])
      end
      -- nothing was added to d by the refused calls
      local got
      d:addCallback(function(v) got = v end)
      d:callback(3)
      assert.equal(3, got)
    end)

    it("accepts a callable table as a callback", function()
      local got
      local callable = setmetatable({}, { __call = function(_, r) got = r end })
      Deferred():addCallback(callable):callback(7)
      assert.are.equal(7, got)
    end)

    it("refuses a Deferred as a callback result", function()
      assert.has_error(function() Deferred():callback(Deferred()) end)
    end)
  end)

  describe("callbacks added after firing", function()
    -- a fired, idle Deferred with nothing queued runs an added callback at
    -- once, outside the general loop: these hold it to the loop's rules
    it("gives each added callback the result of the one before", function()
      local d = defer.succeed(1)
      d:addCallback(function(r) return r + 1 end)
      d:addCallbacks(function(r) return r * 10 end, error)
      local got
      d:addBoth(function(r) got = r; return r end)
      assert.are.equal(20, got)
      assert.are.equal(20, d.result)
    end)

    it("runs a callback added inside a callback after it, with its result", function()
      local d, order = defer.succeed("a"), {}
      d:addCallback(function(r)
        d:addCallback(function(r2) order[#order + 1] = "inner " .. r2; return r2 .. "c" end)
        order[#order + 1] = "outer " .. r
        return r .. "b"
      end)
      assert.are.same({ "outer a", "inner ab" }, order)
      assert.are.equal("abc", d.result)
    end)

    it("waits on a pending Deferred a callback returns, callbacks added meanwhile too", function()
      local d, inner, got = defer.succeed(1), Deferred(), nil
      d:addCallback(function() return inner end)
      d:addCallback(function(r) got = r; return r end)
      assert.is_nil(got)
      assert.are.equal(1, d.paused)
      inner:callback("late")
      assert.are.equal("late", got)
      assert.are.equal(0, d.paused)
    end)

    it("takes at once the result of a fired Deferred a callback returns", function()
      local d = defer.succeed(1)
      d:addCallback(function() return defer.succeed("inner") end)
      assert.are.equal("inner", d.result)
    end)

    it("passes a failure by a callback and a result by an errback", function()
      local ran = false
      local ok, failed = defer.succeed(1), defer.fail(GenericError("x"))
      ok:addErrback(function() ran = true end)
      failed:addCallback(function() ran = true end)
      failed:addCallbacks(function() ran = true end)
      assert.is_false(ran)
      assert.are.equal(1, ok.result)
      assert.is_true(failed.result:check(GenericError) ~= nil)
      failed:addErrback(function() end)
    end)

    it("turns a raising callback into a failure that is watched, and clears the watch once handled", function()
      local d = defer.succeed(1)
      d:addCallback(function() error(GenericError("boom")) end)
      assert.is_true(defer.isFailure(d.result))
      assert.is_not_nil(rawget(d, "_watch"))
      d:addBoth(function(f) return f:check(GenericError) and "recovered" end)
      assert.are.equal("recovered", d.result)
      assert.is_nil(rawget(d, "_watch"))
    end)

    it("reports nothing for a failure an addBoth handles, and reports one it raises again", function()
      local quiet = captureStderr(function()
        defer.fail(GenericError("handled")):addBoth(function() return "fine" end)
      end)
      assert.are.equal("", quiet)
      local loud = captureStderr(function()
        defer.fail(GenericError("first")):addBoth(function() error(GenericError("again")) end)
      end)
      assert.matches("^Unhandled error in Deferred:\n%[Failure instance: Traceback: "
        .. "<class 'spec%.GenericError'>: again\n", loud)
    end)
  end)

  describe("with a single callback", function()
    it("waits on a pending Deferred the callback returns", function()
      local inner = Deferred()
      local d = Deferred():addCallback(function() return inner end)
      d:callback(nil)
      assert.are.equal(inner, d.result)
      local got
      d:addCallback(function(r) got = r end)
      inner:callback("x")
      assert.are.equal("x", got)
    end)

    it("takes the result of a fired Deferred the callback returns", function()
      local d = Deferred():addCallback(function() return defer.succeed("y") end)
      d:callback(nil)
      assert.are.equal("y", d.result)
    end)

    it("takes the failure of a failed Deferred the callback returns, and watches it", function()
      local d = Deferred():addCallback(function() return defer.fail(GenericError("z")) end)
      d:callback(nil)
      assert.are.equal(GenericError, d.result.type)
      assert.is_not_nil(rawget(d, "_watch"))
      d:addErrback(function() end)
    end)

    it("watches the failure when the callback raises", function()
      local out = captureStderr(function()
        Deferred():addCallback(function() error(GenericError("raised")) end):callback(nil)
      end)
      assert.matches("^Unhandled error in Deferred:\n%[Failure instance: Traceback: "
        .. "<class 'spec%.GenericError'>: raised", out)
    end)

    it("runs a callback that the callback adds", function()
      local order = {}
      local d = Deferred()
      d:addCallback(function(r)
        d:addCallback(function(r2) order[#order + 1] = r2 end)
        order[#order + 1] = r
        return r + 1
      end)
      d:callback(1)
      assert.are.same({ 1, 2 }, order)
    end)

    it("passes a result by an errback-only entry", function()
      local d = Deferred():addErrback(function() return "no" end)
      d:callback("yes")
      assert.are.equal("yes", d.result)
    end)

    it("passes a failure by a callback-only entry, and watches it", function()
      local out = captureStderr(function()
        Deferred():addCallback(function() return "no" end):errback(GenericError("kept"))
      end)
      assert.matches("<class 'spec%.GenericError'>: kept", out)
    end)

    it("recovers with an errback", function()
      local d = Deferred():addCallbacks(function() return "cb" end, function() return "eb" end)
      d:errback(GenericError())
      assert.are.equal("eb", d.result)
      assert.is_nil(rawget(d, "_watch"))
    end)

    it("holds callbacks added after the callback paused its Deferred", function()
      local d = Deferred()
      d:addCallback(function(r) d:pause(); return r * 10 end)
      d:callback(2)
      local got
      d:addCallback(function(r) got = r end)
      assert.is_nil(got)
      d:unpause()
      assert.are.equal(20, got)
    end)
  end)

  describe("AlreadyCalledError", function()
    local function raisesAlreadyCalled(fire1, fire2)
      local d = Deferred()
      d:addCallbacks(function() end, function() end)
      fire1(d)
      local ok, err = pcall(fire2, d)
      assert.is_false(ok)
      assert.is_true(class.isinstance(err, defer.AlreadyCalledError))
    end
    local cb = function(d) d:callback("hello") end
    local eb = function(d) d:errback(Failure(GenericError())) end

    it("is raised by callback after callback", function() raisesAlreadyCalled(cb, cb) end)
    it("is raised by errback after callback", function() raisesAlreadyCalled(cb, eb) end)
    it("is raised by callback after errback", function() raisesAlreadyCalled(eb, cb) end)
    it("is raised by errback after errback", function() raisesAlreadyCalled(eb, eb) end)
  end)

  describe("chaining", function()
    it("takes the result of a fired Deferred returned by a callback", function()
      local first = defer.succeed("result")
      local second = Deferred()
      second:addCallback(function() return first end)
      second:callback(nil)
      local results = {}
      first:addCallback(function(r) results[1] = r; return r end)
      second:addCallback(function(r) results[2] = r end)
      assert.is_nil(results[1])
      assert.are.equal("result", results[2])
    end)

    it("pauses the chain while a callback's Deferred is pending", function()
      local first, second = Deferred(), Deferred()
      second:addCallback(function() return first end)
      local results = {}
      second:addCallback(function(r) results[#results + 1] = r end)
      second:callback(nil)
      assert.are.same({}, results)
      assert.are.equal(first, second.result)
      first:callback("later")
      assert.are.same({ "later" }, results)
      assert.is_nil(first.result)
    end)

    it("passes a failure of a returned fired Deferred down the errbacks", function()
      local first = defer.fail(GenericError("inner"))
      local second = Deferred()
      second:addCallback(function() return first end)
      second:callback(nil)
      local got
      second:addErrback(function(f) got = f end)
      assert.are.equal("inner", got:getErrorMessage())
      assert.is_nil(first.result)
    end)

    it("passes a later failure of a returned Deferred down the errbacks", function()
      local first, second = Deferred(), Deferred()
      second:addCallback(function() return first end)
      local got
      second:addErrback(function(f) got = f end)
      second:callback(nil)
      assert.is_nil(got)
      first:errback(GenericError("later"))
      assert.are.equal("later", got:getErrorMessage())
    end)

    it("chains two levels of pending Deferreds", function()
      local first, second, third = Deferred(), Deferred(), Deferred()
      local got
      first:addCallback(function() return second end)
      second:addCallback(function() return third end)
      first:addCallback(function(r) got = r end)
      first:callback(nil)
      second:callback(nil)
      assert.is_nil(got)
      third:callback("deep")
      assert.are.equal("deep", got)
    end)

    it("runs the middle Deferred's callbacks before the outer one gets the result", function()
      local results, failures = {}, {}
      local inner = Deferred()
      local outer = defer.succeed("outer")
      outer:addCallback(function(result)
        results[#results + 1] = { "start-of-cb", result }
        local d = defer.succeed("inner")
        d:addCallback(function()
          results[#results + 1] = { "firstCallback", "inner" }
          return inner
        end)
        d:addCallback(function(r)
          results[#results + 1] = { "secondCallback", r }
          return r .. r
        end)
        d:addErrback(appender(failures))
        return d
      end)
      outer:addCallback(appender(results))
      assert.are.same({ { "start-of-cb", "outer" }, { "firstCallback", "inner" } }, results)
      inner:callback("orange")
      outer:addErrback(appender(failures))
      inner:addErrback(appender(failures))
      assert.are.same({}, failures)
      assert.are.same({ { "start-of-cb", "outer" }, { "firstCallback", "inner" },
        { "secondCallback", "orange" }, "orangeorange" }, results)
    end)

    it("keeps callbacks added to the inner Deferred before it was returned", function()
      local results = {}
      local inner = Deferred()
      local outer = defer.succeed("outer")
      outer:addCallback(function()
        local d = defer.succeed("inner")
        d:addCallback(function() return inner:addCallback(function(r) return { r } end) end)
        d:addCallback(function(r) results[#results + 1] = { "second", r }; return { r[1], r[1] } end)
        return d
      end)
      outer:addCallback(appender(results))
      inner:callback("withers")
      assert.are.same({ { "second", { "withers" } }, { "withers", "withers" } }, results)
    end)

    it("runs callbacks added after a chained Deferred in their order", function()
      local results, failures = {}, {}
      local a = Deferred()
      local outer = Deferred()
      outer:addCallback(function(result)
        results[#results + 1] = { "cb", result }
        local d = Deferred()
        d:addCallback(function(r)
          results[#results + 1] = { "firstCallback", r }
          return defer.gatherResults({ a })
        end)
        d:addCallback(function(r) results[#results + 1] = { "secondCallback", { r[1] } } end)
        d:addErrback(appender(failures))
        d:callback(nil)
        return d
      end)
      outer:addCallback(function() results[#results + 1] = { "final" } end)
      outer:addErrback(appender(failures))
      outer:callback("outer")
      assert.are.same({ { "cb", "outer" }, { "firstCallback" } }, results)
      a:callback("withers")
      assert.are.same({}, failures)
      assert.are.same({ { "cb", "outer" }, { "firstCallback" },
        { "secondCallback", { "withers" } }, { "final" } }, results)
    end)

    it("calls callbacks on the middle Deferred of three once the last fires", function()
      local first, second, third = Deferred(), Deferred(), Deferred()
      first:addCallback(function() return second end)
      second:addCallback(function() return third end)
      second:callback(nil)
      first:callback(nil)
      third:callback(nil)
      local results = {}
      second:addCallback(function(r) results[#results + 1] = r == nil end)
      assert.are.same({ true }, results)
    end)

    it("runs callbacks at the same stack depth however many Deferreds are chained", function()
      local function chainDeferreds(howMany)
        local depth
        local top, last = Deferred(), Deferred()
        local inners = {}
        for i = 1, howMany do inners[i] = Deferred() end
        top:addCallback(function() return inners[1] end)
        top:addCallback(function() depth = stackDepth() end)
        for i = 1, howMany - 1 do
          inners[i]:addCallback(function() return inners[i + 1] end)
        end
        inners[howMany]:addCallback(function() return last end)
        top:callback(nil)
        for i = 1, howMany do inners[i]:callback(nil) end
        assert.is_nil(depth)
        last:callback(nil)
        return depth
      end
      assert.are.equal(chainDeferreds(1), chainDeferreds(2))
      assert.are.equal(chainDeferreds(1), chainDeferreds(10000))
    end)

    it("records an explicit chain and clears it when resolved", function()
      local a, b = Deferred(), Deferred()
      b:chainDeferred(a)
      assert.are.equal(b, a._chainedTo)
      b:callback(nil)
      assert.is_nil(a._chainedTo)
      assert.is_true(a.called)
    end)

    it("fails with a TypeError when a callback returns its own Deferred", function()
      local d = Deferred()
      d:addCallback(function() return d end)
      d:callback(nil)
      assert.are.equal(class.TypeError, d.result.type)
      d:addErrback(function() end)
    end)
  end)

  describe("pause", function()
    it("holds the callbacks until unpause", function()
      local got
      local d = Deferred()
      d:pause()
      d:addCallback(function(r) got = r end)
      d:callback(1)
      assert.is_nil(got)
      d:pause()
      d:unpause()
      assert.is_nil(got)
      d:unpause()
      assert.are.equal(1, got)
    end)

    it("makes a Deferred that returns a paused fired Deferred wait for it", function()
      local got
      local inner = defer.succeed("x")
      inner:pause()
      local outer = Deferred()
      outer:addCallback(function() return inner end)
      outer:addCallback(function(r) got = r end)
      outer:callback(nil)
      assert.is_nil(got)
      inner:unpause()
      assert.are.equal("x", got)
    end)

    it("gives a chained paused Deferred its result once unpaused", function()
      local d = Deferred()
      local d2 = Deferred()
      d:addCallback(function() return d2 end)
      d:callback(nil)
      d:pause()
      d2:callback("result")
      local got
      d:addCallback(function(r) got = r end)
      assert.is_nil(got)
      d:unpause()
      assert.are.equal("result", got)
    end)
  end)

  describe("cancel", function()
    local function errbackType(d)
      local t
      d:addErrback(function(f) t = f.type end)
      return t
    end

    it("errbacks with CancelledError when there is no canceller", function()
      local d = Deferred()
      d:cancel()
      assert.are.equal(defer.CancelledError, errbackType(d))
    end)

    it("eats one callback after a cancel without canceller, then raises", function()
      local d = Deferred()
      d:addErrback(function() end)
      d:cancel()
      d:callback(1)
      assert.has_error(function() d:callback(2) end)
    end)

    it("eats one errback after a cancel without canceller, then raises", function()
      local d = Deferred()
      d:addErrback(function() end)
      d:cancel()
      d:errback(GenericError())
      assert.has_error(function() d:errback(GenericError()) end)
    end)

    it("does nothing more when cancelled twice", function()
      local d = Deferred()
      local count = 0
      d:addErrback(function() count = count + 1 end)
      d:cancel()
      d:cancel()
      assert.are.equal(1, count)
    end)

    it("calls the canceller with the Deferred, once", function()
      local args = {}
      local d = Deferred(function(...) args[#args + 1] = table.pack(...) end)
      d:cancel()
      d:cancel()
      assert.are.same({ { d, n = 1 } }, args)
      assert.are.equal(defer.CancelledError, errbackType(d))
    end)

    it("raises AlreadyCalledError for a callback after a cancel with canceller", function()
      local d = Deferred(function() end)
      d:addErrback(function() end)
      d:cancel()
      assert.has_error(function() d:callback(1) end)
    end)

    it("keeps what a canceller that callbacks chose", function()
      local d = Deferred(function(self) self:callback("cancelled value") end)
      d:cancel()
      assert.are.equal("cancelled value", d.result)
    end)

    it("keeps what a canceller that errbacks chose", function()
      local d = Deferred(function(self) self:errback(GenericError("mine")) end)
      d:cancel()
      assert.are.equal(GenericError, errbackType(d))
    end)

    it("does nothing to a Deferred that has fired", function()
      local called = false
      local d = Deferred(function() called = true end)
      d:callback("x")
      d:cancel()
      assert.is_false(called)
      assert.are.equal("x", d.result)
    end)

    it("cancels the Deferred that a cancelled Deferred waits on", function()
      local innerCancels = 0
      local b = Deferred(function() innerCancels = innerCancels + 1 end)
      local a = Deferred(function() error("outer canceller must not run") end)
      a:callback(nil)
      a:addCallback(function() return b end)
      a:cancel()
      assert.are.equal(1, innerCancels)
      assert.are.equal(defer.CancelledError, errbackType(a))
    end)
  end)

  describe("tostring", function()
    it("is <Deferred at 0x...> before firing", function()
      local d = Deferred()
      assert.are.equal("<Deferred at " .. repr.address(d) .. ">", tostring(d))
      assert.matches("^<Deferred at 0x%x+>$", tostring(d))
    end)

    it("shows the repr of the current result", function()
      local d = Deferred()
      d:callback("orange")
      assert.are.equal("<Deferred at " .. repr.address(d) .. " current result: 'orange'>", tostring(d))
      local t = defer.succeed(repr.astuple({ {}, {}, {} }))
      assert.are.equal("<Deferred at " .. repr.address(t) .. " current result: ([], [], [])>", tostring(t))
      local n = defer.succeed(nil)
      assert.are.equal("<Deferred at " .. repr.address(n) .. " current result: None>", tostring(n))
    end)

    it("shows the Deferred it is waiting on", function()
      local a, b = Deferred(), Deferred()
      b:chainDeferred(a)
      assert.are.equal("<Deferred at " .. repr.address(a) .. " waiting on Deferred at "
        .. repr.address(b) .. ">", tostring(a))
      local c = Deferred()
      c:addCallback(function() return b end)
      c:callback(nil)
      assert.are.equal("<Deferred at " .. repr.address(c) .. " waiting on Deferred at "
        .. repr.address(b) .. ">", tostring(c))
      b:callback("done")
      assert.are.equal("<Deferred at " .. repr.address(a) .. " current result: 'done'>", tostring(a))
      assert.are.equal("<Deferred at " .. repr.address(c) .. " current result: None>", tostring(c))
    end)

    it("shows a failure result as Twisted's Failure repr", function()
      local d = defer.fail(defer.CancelledError())
      assert.are.equal("<Deferred at " .. repr.address(d) .. " current result: "
        .. "<names.defer.Failure names.defer.CancelledError: >>", tostring(d))
      d:addErrback(function() end)
    end)

    it("names a DeferredList as such", function()
      local dl = defer.DeferredList({})
      assert.are.equal("<DeferredList at " .. repr.address(dl) .. " current result: []>", tostring(dl))
    end)
  end)

  describe("Failure", function()
    it("keeps the value and its class", function()
      local e = GenericError("x")
      local f = Failure(e)
      assert.are.equal(e, f.value)
      assert.are.equal(GenericError, f.type)
    end)

    it("keeps a raw Lua error value, with no class", function()
      local f = Failure("just a string")
      assert.are.equal("just a string", f.value)
      assert.is_nil(f.type)
      assert.are.equal("just a string", f:getErrorMessage())
    end)

    it("returns a Failure given a Failure", function()
      local f = Failure("x")
      assert.are.equal(f, Failure(f))
    end)

    it("checks classes through the hierarchy and returns the match", function()
      local Sub = class("spec.Sub", GenericError)
      local f = Failure(Sub())
      assert.are.equal(GenericError, f:check(defer.CancelledError, GenericError))
      assert.are.equal(Sub, f:check(Sub, GenericError))
      assert.is_nil(f:check(defer.CancelledError))
      assert.is_nil(Failure("raw"):check(GenericError))
    end)

    it("traps a matching class and re-raises itself otherwise", function()
      local f = Failure(GenericError())
      assert.are.equal(GenericError, f:trap(defer.TimeoutError, GenericError))
      local ok, err = pcall(f.trap, f, defer.CancelledError)
      assert.is_false(ok)
      assert.are.equal(f, err)
    end)

    it("passes an untrapped failure on to the next errback unchanged", function()
      local f = Failure(GenericError())
      local got
      local d = Deferred()
      d:addErrback(function(g) g:trap(defer.CancelledError) end)
      d:addErrback(function(g) got = g end)
      d:errback(f)
      assert.are.equal(f, got)
    end)

    it("gives the message as Python's str", function()
      assert.are.equal("boom", Failure(GenericError("boom")):getErrorMessage())
      assert.are.equal("", Failure(GenericError()):getErrorMessage())
      assert.are.equal("('a', 2)", Failure(GenericError("a", 2)):getErrorMessage())
    end)

    it("prints as Twisted's brief form when it has no frames", function()
      local f = Failure(GenericError("boom"))
      assert.are.equal("[Failure instance: Traceback (failure with no frames): "
        .. "<class 'spec.GenericError'>: boom\n]", tostring(f))
      assert.are.equal("[Failure instance: Traceback (failure with no frames): "
        .. "<class 'string'>: raw\n]", tostring(Failure("raw")))
    end)

    it("prints as Twisted's repr with repr.value", function()
      assert.are.equal("<names.defer.Failure spec.GenericError: boom>", repr.value(Failure(GenericError("boom"))))
    end)

    it("gives Twisted's default traceback when it has no frames", function()
      assert.are.equal("Traceback (most recent call last):\nFailure: spec.GenericError: boom\n",
        Failure(GenericError("boom")):getTraceback())
    end)

    it("keeps the traceback of a Lua error raised in a callback", function()
      local line
      local d = Deferred()
      d:addCallback(function() line = debug.getinfo(1, "l").currentline; error("boom") end)
      d:callback(nil)
      local f = d.result
      d:addErrback(function() end)
      local frames = f:getFrames()
      assert.are.equal(1, #frames)
      assert.matches("defer_spec%.lua$", frames[1].file)
      assert.are.equal(line, frames[1].line)
      local where = frames[1].file .. ":" .. line
      assert.are.equal(where .. ": boom", f:getErrorMessage())
      assert.are.equal("[Failure instance: Traceback: <class 'string'>: " .. where .. ": boom\n"
        .. "--- <exception caught here> ---\n" .. where .. ":<anonymous>\n]", tostring(f))
    end)

    it("lists the frames oldest first, down to the raise point", function()
      local function inner() error(GenericError("deep")) end
      local function middle() inner() end
      local d = Deferred()
      d:addCallback(function() middle() end)
      d:callback(nil)
      local names = {}
      for i, fr in ipairs(d.result:getFrames()) do names[i] = fr.name end
      d:addErrback(function() end)
      assert.are.same({ "<anonymous>", "middle", "inner" }, names)
    end)

    it("writes a Python-style default traceback with the source lines", function()
      local d = Deferred()
      d:addCallback(function() error(GenericError("src")) end) -- the raising line
      d:callback(nil)
      local tb = d.result:getTraceback()
      d:addErrback(function() end)
      assert.matches("^Traceback %(most recent call last%):\n%-%-%- <exception caught here> %-%-%-\n"
        .. '  File "[^"]*defer_spec%.lua", line %d+, in <anonymous>\n'
        .. "    d:addCallback%(function%(%) error%(GenericError%(\"src\"%)%) end%) %-%- the raising line\n"
        .. "spec%.GenericError: src\n$", tb)
    end)

    it("gives the same Failure back when raiseException's value is caught", function()
      local f = Failure(GenericError("again"))
      local ok, err = pcall(f.raiseException, f)
      assert.is_false(ok)
      assert.are.equal(f.value, err)
      local d = Deferred()
      d:addCallback(function() f:raiseException() end)
      d:callback(nil)
      assert.are.equal(f, d.result)
      d:addErrback(function() end)
    end)
  end)

  describe("unhandled errors", function()
    it("are written to stderr when the Deferred is collected", function()
      local out = captureStderr(function()
        local d = Deferred()
        d:errback(defer.CancelledError())
      end)
      assert.are.equal("Unhandled error in Deferred:\n[Failure instance: Traceback (failure with no frames): "
        .. "<class 'names.defer.CancelledError'>: \n]\n", out)
    end)

    it("are not reported once an errback has handled them", function()
      local out = captureStderr(function()
        local d = defer.fail(GenericError("handled"))
        d:addErrback(function() end)
      end)
      assert.are.equal("", out)
    end)

    it("are reported when an errback raises again", function()
      local out = captureStderr(function()
        local d = defer.fail(GenericError("first"))
        d:addErrback(function() error(GenericError("second")) end)
      end)
      assert.matches("^Unhandled error in Deferred:\n%[Failure instance: Traceback: "
        .. "<class 'spec%.GenericError'>: second\n", out)
    end)

    it("are reported once per Deferred", function()
      local out = captureStderr(function()
        defer.fail(GenericError("a"))
        defer.fail(GenericError("b"))
      end)
      local _, count = out:gsub("Unhandled error in Deferred:", "")
      assert.are.equal(2, count)
    end)

    it("are not reported for an inner Deferred whose failure went to the outer one", function()
      local out = captureStderr(function()
        local d = Deferred()
        d:addCallback(function() return defer.fail(GenericError("zoop")) end)
        d:callback(nil)
        d:addErrback(function(f) f:trap(GenericError) end)
      end)
      assert.are.equal("", out)
    end)

    it("are not reported when an errback chains the Deferred to another", function()
      local out = captureStderr(function()
        local bad = defer.fail(GenericError("oh no"))
        local good = Deferred()
        bad:addErrback(function() return good end)
      end)
      assert.are.equal("", out)
    end)

    it("are reported when the process exits with the Deferred alive", function()
      local code = "package.path = " .. string.format("%q", package.path) .. "; "
        .. "KEEP = require('names.defer').fail('at exit')"
      local p = assert(io.popen("lua5.4 -e " .. string.format("%q", code) .. " 2>&1"))
      local out = p:read("a")
      p:close()
      assert.are.equal("Unhandled error in Deferred:\n[Failure instance: Traceback "
        .. "(failure with no frames): <class 'string'>: at exit\n]\n", out)
    end)

    it("watch only Deferreds whose result is a Failure", function()
      local ok = defer.succeed(1)
      local failed = defer.fail("x")
      assert.is_nil(rawget(ok, "_watch"))
      assert.is_not_nil(rawget(failed, "_watch"))
      failed:addErrback(function() end)
      assert.is_nil(rawget(failed, "_watch"))
      assert.is_nil(getmetatable(ok).__gc)
    end)
  end)

  describe("succeed, fail, execute and maybeDeferred", function()
    it("succeed gives a fired Deferred", function()
      local d = defer.succeed("x")
      assert.is_true(d.called)
      assert.are.equal("x", d.result)
    end)

    it("fail gives a failed Deferred", function()
      local d = defer.fail(GenericError("x"))
      assert.are.equal(GenericError, d.result.type)
      d:addErrback(function() end)
    end)

    it("execute fires with the result or fails with the error", function()
      assert.are.equal(5, defer.execute(function(a, b) return a + b end, 2, 3).result)
      local d = defer.execute(function() error(GenericError("e")) end)
      assert.are.equal(GenericError, d.result.type)
      d:addErrback(function() end)
    end)

    it("maybeDeferred wraps a plain result, with arguments", function()
      local d = defer.maybeDeferred(function(a) return a * 2 end, 21)
      assert.is_true(defer.isDeferred(d))
      assert.are.equal(42, d.result)
    end)

    it("maybeDeferred turns a raised error into a failed Deferred", function()
      local d = defer.maybeDeferred(function() error(GenericError("sync")) end)
      assert.are.equal("sync", d.result:getErrorMessage())
      d:addErrback(function() end)
    end)

    it("maybeDeferred turns a returned Failure into a failed Deferred", function()
      local f = Failure(GenericError())
      local d = defer.maybeDeferred(function() return f end)
      assert.are.equal(f, d.result)
      d:addErrback(function() end)
    end)

    it("maybeDeferred returns a returned Deferred itself", function()
      local inner = Deferred()
      assert.are.equal(inner, defer.maybeDeferred(function() return inner end))
    end)
  end)

  describe("DeferredList", function()
    it("fires at once with an empty list for no Deferreds", function()
      local dl = defer.DeferredList({})
      assert.is_true(dl.called)
      assert.are.same({}, dl.result)
    end)

    it("fires with {ok, value} pairs in the order of the list", function()
      local a, b, c = Deferred(), Deferred(), Deferred()
      local dl = defer.DeferredList({ a, b, c })
      local got
      dl:addCallback(function(r) got = r end)
      c:callback("c")
      a:callback("a")
      assert.is_nil(got)
      local f = Failure(GenericError())
      b:errback(f)
      assert.are.same({ { true, "a" }, { false, f }, { true, "c" } }, got)
      assert.are.equal("[(True, 'a'), (False, <names.defer.Failure spec.GenericError: >), (True, 'c')]",
        repr.value(got))
      b:addErrback(function() end)
    end)

    it("leaves the failures to the listed Deferreds without consumeErrors", function()
      local a = Deferred()
      defer.DeferredList({ a })
      a:errback(GenericError())
      assert.is_true(defer.isFailure(a.result))
      a:addErrback(function() end)
    end)

    it("turns the failures of the listed Deferreds into nil with consumeErrors", function()
      local a = Deferred()
      defer.DeferredList({ a }, { consumeErrors = true })
      a:errback(GenericError())
      assert.is_true(a.called)
      assert.is_nil(a.result)
    end)

    it("fires with (result, index) on the first success with fireOnOneCallback", function()
      local a, b = Deferred(), Deferred()
      local dl = defer.DeferredList({ a, b }, { fireOnOneCallback = true })
      a:errback(GenericError())
      assert.is_false(dl.called)
      b:callback("b")
      assert.are.same({ "b", 2 }, dl.result)
      assert.are.equal("('b', 2)", repr.value(dl.result))
      a:addErrback(function() end)
    end)

    it("does not fire for an empty list with fireOnOneCallback", function()
      assert.is_false(defer.DeferredList({}, { fireOnOneCallback = true }).called)
    end)

    it("fails with FirstError on the first failure with fireOnOneErrback", function()
      local a, b = Deferred(), Deferred()
      local dl = defer.DeferredList({ a, b }, { fireOnOneErrback = true })
      a:callback("a")
      local f = Failure(GenericError("second"))
      b:errback(f)
      local first = dl.result.value
      assert.is_true(class.isinstance(first, defer.FirstError))
      assert.are.equal(f, first.subFailure)
      assert.are.equal(2, first.index)
      dl:addErrback(function() end)
      b:addErrback(function() end)
    end)

    it("cancels every listed Deferred when cancelled before firing", function()
      local a, b = Deferred(), Deferred()
      local dl = defer.DeferredList({ a, b }, { consumeErrors = true })
      dl:cancel()
      assert.is_nil(a.result)
      assert.is_nil(b.result)
      assert.are.equal(defer.CancelledError, dl.result[1][2].type)
      assert.are.equal(defer.CancelledError, dl.result[2][2].type)
    end)

    it("cancels nothing once it has fired", function()
      local a, b = Deferred(), Deferred(function() error("must not be cancelled") end)
      local dl = defer.DeferredList({ a, b }, { fireOnOneCallback = true })
      a:callback("a")
      dl:cancel()
      assert.is_false(b.called)
    end)

    it("reports a canceller that raises and cancels the others", function()
      local a = Deferred(function() error("canceller broke") end)
      local b = Deferred()
      local dl = defer.DeferredList({ a, b }, { consumeErrors = true })
      local written = {}
      local saved = swapStderr(stderrRecorder(written))
      local ok = pcall(dl.cancel, dl)
      swapStderr(saved)
      assert.is_true(ok)
      assert.matches("^Exception raised from user supplied canceller\n.*canceller broke", table.concat(written))
      assert.is_true(b.called)
      assert.is_false(a.called)
    end)
  end)

  describe("gatherResults", function()
    it("fires with the list of results", function()
      local a, b = Deferred(), Deferred()
      local d = defer.gatherResults({ a, b })
      a:callback(1)
      b:callback(nil)
      assert.are.same({ 1, nil, n = 2 }, d.result)
    end)

    it("fails with FirstError at the first failure", function()
      local a, b = Deferred(), Deferred()
      local d = defer.gatherResults({ a, b })
      b:errback(GenericError("bad"))
      assert.is_true(class.isinstance(d.result.value, defer.FirstError))
      assert.are.equal(2, d.result.value.index)
      assert.are.equal("bad", d.result.value.subFailure:getErrorMessage())
      d:addErrback(function() end)
      b:addErrback(function() end)
    end)

    it("consumes the failures of the listed Deferreds with consumeErrors", function()
      local a = Deferred()
      local d = defer.gatherResults({ a }, { consumeErrors = true })
      a:errback(GenericError())
      assert.is_nil(a.result)
      d:addErrback(function() end)
    end)

    it("cancels the listed Deferreds when cancelled", function()
      local a, b = Deferred(), Deferred()
      local d = defer.gatherResults({ a, b }, { consumeErrors = true })
      d:cancel()
      local first = d.result.value
      assert.are.equal(defer.CancelledError, first.subFailure.type)
      assert.is_true(b.called)
      d:addErrback(function() end)
    end)

    it("prints FirstError as Twisted", function()
      local f = Failure(GenericError("boom"))
      local e = defer.FirstError(f, 3)
      assert.are.equal("FirstError[#3, " .. tostring(f) .. "]", tostring(e))
      assert.are.equal("FirstError[#3, GenericError('boom')]", repr.value(e))
    end)
  end)

  describe("addTimeout", function()
    it("returns the Deferred itself", function()
      local d = Deferred()
      assert.are.equal(d, d:addTimeout(10, Clock()))
    end)

    it("fails with TimeoutError when the time runs out", function()
      local clock = Clock()
      local d = Deferred():addTimeout(10, clock)
      clock:advance(9)
      assert.is_false(d.called)
      clock:advance(1)
      assert.are.equal(defer.TimeoutError, d.result.type)
      assert.are.equal("(10, 'Deferred')", d.result:getErrorMessage())
      d:addErrback(function() end)
    end)

    it("cancels the pending call when a result comes in time", function()
      local clock = Clock()
      local d = Deferred():addTimeout(10, clock)
      d:callback("in time")
      assert.is_true(clock.calls[1].cancelled)
      clock:advance(20)
      assert.are.equal("in time", d.result)
    end)

    it("passes a failure that comes in time unchanged", function()
      local clock = Clock()
      local d = Deferred():addTimeout(10, clock)
      local f = Failure(GenericError("early"))
      d:errback(f)
      assert.is_true(clock.calls[1].cancelled)
      assert.are.equal(f, d.result)
      d:addErrback(function() end)
    end)

    it("runs onTimeoutCancel with the value and the timeout on a timeout", function()
      local clock = Clock()
      local args
      local d = Deferred():addTimeout(10, clock, function(v, t) args = { v.type, t }; return "custom" end)
      clock:advance(10)
      assert.are.same({ defer.CancelledError, 10 }, args)
      assert.are.equal("custom", d.result)
    end)

    it("does not run onTimeoutCancel for a result in time", function()
      local clock = Clock()
      local ran = false
      local d = Deferred():addTimeout(10, clock, function() ran = true end)
      d:callback(1)
      clock:advance(10)
      assert.is_false(ran)
    end)

    it("fails with CancelledError, not TimeoutError, when cancelled before the timeout", function()
      local clock = Clock()
      local d = Deferred():addTimeout(10, clock)
      d:cancel()
      assert.are.equal(defer.CancelledError, d.result.type)
      assert.is_true(clock.calls[1].cancelled)
      d:addErrback(function() end)
    end)

    it("keeps what a canceller that callbacks chose on a timeout", function()
      local clock = Clock()
      local d = Deferred(function(self) self:callback("I was cancelled") end):addTimeout(10, clock)
      clock:advance(10)
      assert.are.equal("I was cancelled", d.result)
    end)

    it("lets an errback added before addTimeout see the CancelledError", function()
      local clock = Clock()
      local seen
      local d = Deferred()
      d:addErrback(function(f) seen = f.type; return "handled" end)
      d:addTimeout(10, clock)
      clock:advance(10)
      assert.are.equal(defer.CancelledError, seen)
      assert.are.equal("handled", d.result)
    end)
  end)

  describe("inlineCallbacks", function()
    it("returns a Deferred firing with the function's return value", function()
      local f = defer.inlineCallbacks(function(a, b) return a + b end)
      local d = f(2, 3)
      assert.is_true(defer.isDeferred(d))
      assert.are.equal(5, d.result)
    end)

    it("gives the result of a yielded Deferred back at the yield", function()
      local f = defer.inlineCallbacks(function()
        local v = coroutine.yield(defer.succeed("value"))
        return v .. "!"
      end)
      assert.are.equal("value!", f().result)
    end)

    it("waits for a pending Deferred and resumes when it fires", function()
      local pending = Deferred()
      local steps = {}
      local f = defer.inlineCallbacks(function()
        steps[#steps + 1] = "before"
        local v = coroutine.yield(pending)
        steps[#steps + 1] = v
        return "done"
      end)
      local d = f()
      assert.are.same({ "before" }, steps)
      assert.is_false(d.called)
      pending:callback("later")
      assert.are.same({ "before", "later" }, steps)
      assert.are.equal("done", d.result)
      assert.is_nil(pending.result)
    end)

    it("gives a yielded non-Deferred value straight back", function()
      local f = defer.inlineCallbacks(function()
        local t = {}
        return coroutine.yield(t) == t and coroutine.yield(7)
      end)
      assert.are.equal(7, f().result)
    end)

    it("raises the Failure of a failed Deferred at the yield, catchable with pcall", function()
      local failure = Failure(GenericError("at yield"))
      local caught
      local f = defer.inlineCallbacks(function()
        local ok, err = pcall(function() return coroutine.yield(defer.fail(failure)) end)
        caught = { ok, err }
        return "recovered"
      end)
      local d = f()
      assert.is_false(caught[1])
      assert.are.equal(failure, caught[2])
      assert.are.equal("recovered", d.result)
    end)

    it("raises at a yield called directly by pcall", function()
      local failure = Failure(GenericError())
      local f = defer.inlineCallbacks(function()
        local ok, err = pcall(coroutine.yield, defer.fail(failure))
        return not ok and err == failure
      end)
      assert.is_true(f().result)
    end)

    it("raises the failure of a Deferred that fails later", function()
      local pending = Deferred()
      local caught
      local f = defer.inlineCallbacks(function()
        local ok, err = pcall(coroutine.yield, pending)
        caught = err
        return ok
      end)
      local d = f()
      pending:errback(GenericError("later"))
      assert.are.equal("later", caught:getErrorMessage())
      assert.is_false(d.result)
      assert.is_nil(pending.result)
    end)

    it("fails the returned Deferred with the same Failure when not caught", function()
      local failure = Failure(GenericError("uncaught"))
      local f = defer.inlineCallbacks(function()
        coroutine.yield(defer.fail(failure))
        error("not reached")
      end)
      local d = f()
      assert.are.equal(failure, d.result)
      d:addErrback(function() end)
    end)

    it("fails with the Failure at a yield in tail position", function()
      local failure = Failure(GenericError("tail"))
      local f = defer.inlineCallbacks(function() return coroutine.yield(defer.fail(failure)) end)
      local d = f()
      assert.are.equal(failure, d.result)
      d:addErrback(function() end)
    end)

    it("fails with a Failure keeping the traceback of a Lua error", function()
      local line
      local f = defer.inlineCallbacks(function()
        coroutine.yield(defer.succeed(1))
        line = debug.getinfo(1, "l").currentline; error("inside")
      end)
      local d = f()
      local frames = d.result:getFrames()
      assert.are.equal(line, frames[#frames].line)
      assert.matches("defer_spec%.lua:%d+: inside$", d.result:getErrorMessage())
      d:addErrback(function() end)
    end)

    it("chains a returned Deferred", function()
      local later = Deferred()
      local f = defer.inlineCallbacks(function() return later end)
      local d = f()
      assert.is_false(d.called)
      later:callback("chained")
      assert.are.equal("chained", d.result)
    end)

    it("keeps a debug hook the coroutine had when it raises at a yield", function()
      local count = 0
      local f = defer.inlineCallbacks(function()
        debug.sethook(function() count = count + 1 end, "l")
        pcall(coroutine.yield, defer.fail(GenericError()))
        local before = count
        local _ = 1
        local _ = 2
        debug.sethook()
        return count > before
      end)
      assert.is_true(f().result)
    end)

    it("runs 100000 fired Deferreds in a loop without growing the stack", function()
      local depths = {}
      local f = defer.inlineCallbacks(function()
        local sum = 0
        for i = 1, 100000 do
          sum = sum + coroutine.yield(defer.succeed(i))
          if i == 1 or i == 100000 then depths[#depths + 1] = stackDepth() end
        end
        return sum
      end)
      local d = f()
      assert.are.equal(5000050000, d.result)
      assert.are.equal(depths[1], depths[2])
    end)

    it("runs 100000 failed Deferreds caught with pcall in a loop", function()
      local f = defer.inlineCallbacks(function()
        local caught = 0
        for _ = 1, 100000 do
          if not pcall(coroutine.yield, defer.fail("x")) then caught = caught + 1 end
        end
        return caught
      end)
      assert.are.equal(100000, f().result)
    end)

    it("cancels the Deferred it waits on when its own is cancelled", function()
      local awaited = Deferred()
      local caught
      local f = defer.inlineCallbacks(function()
        local ok, err = pcall(coroutine.yield, awaited)
        caught = err
        if not ok then error(err) end
      end)
      local d = f()
      d:cancel()
      assert.are.equal(defer.CancelledError, caught.type)
      assert.are.equal(defer.CancelledError, d.result.type)
      d:addErrback(function() end)
    end)

    it("follows the coroutine to its end when it catches the cancellation", function()
      local awaited, next = Deferred(), Deferred()
      local f = defer.inlineCallbacks(function()
        pcall(coroutine.yield, awaited)
        return coroutine.yield(next)
      end)
      local d = f()
      d:cancel()
      assert.is_true(awaited.called)
      assert.matches("waiting on Deferred", tostring(d))
      next:callback("after cancel")
      assert.are.equal("after cancel", d.result)
    end)

    it("rejects something that is not a function", function()
      assert.has_error(function() defer.inlineCallbacks("nope") end,
        "bad argument #1 to 'inlineCallbacks' (function expected, got string)")
    end)
  end)
end)
