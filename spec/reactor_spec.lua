-- names.reactor against real time on the libuv loop, and names.task.react
-- through child processes.
local async = require "async"
local defer = require "names.defer"
local env = require "testenv"
local reactor = require "names.reactor"
local task = require "names.task"

local function runFor(seconds)
  async.loopUntil(function() return false end, seconds)
end

-- Runs a Lua chunk in a child lua5.4 with the checkout on its paths;
-- returns its exit code, stdout and stderr.
local child = env.run_lua

describe("names.reactor", function()
  describe("callLater", function()
    it("runs calls in the order of their times, not of scheduling", function()
      local order = {}
      reactor.callLater(0.06, function() order[#order + 1] = "c" end)
      reactor.callLater(0.02, function() order[#order + 1] = "a" end)
      reactor.callLater(0.04, function() order[#order + 1] = "b" end)
      runFor(0.1)
      assert.same({ "a", "b", "c" }, order)
    end)

    it("runs calls due at the same time in the order they were made", function()
      local order = {}
      for i = 1, 5 do
        reactor.callLater(0.01, function() order[#order + 1] = i end)
      end
      runFor(0.05)
      assert.same({ 1, 2, 3, 4, 5 }, order)
    end)

    it("passes extra arguments, nils included", function()
      local got
      reactor.callLater(0, function(...) got = table.pack(...) end, 1, nil, "x")
      runFor(0.02)
      assert.same({ n = 3, 1, nil, "x" }, got)
    end)

    it("never runs a call early", function()
      local t0 = reactor.seconds()
      local ran
      reactor.callLater(0.05, function() ran = reactor.seconds() end)
      async.loopUntil(function() return ran ~= nil end, 1)
      assert.is_true(ran - t0 >= 0.05, ran - t0)
      assert.is_true(ran - t0 < 0.5, ran - t0)
    end)

    it("does not run a cancelled call, and says it is no longer active", function()
      local ran = false
      local call = reactor.callLater(0.02, function() ran = true end)
      assert.is_true(call:active())
      call:cancel()
      assert.is_false(call:active())
      runFor(0.05)
      assert.is_false(ran)
      assert.has_error(function() call:cancel() end)
    end)

    it("raises when a call that ran is cancelled", function()
      local call = reactor.callLater(0, function() end)
      runFor(0.02)
      assert.is_false(call:active())
      local ok, err = pcall(call.cancel, call)
      assert.is_false(ok)
      assert.matches("AlreadyCalled", err)
    end)

    it("moves a call with reset and delay", function()
      local t0 = reactor.seconds()
      local ran
      local call = reactor.callLater(0.01, function() ran = reactor.seconds() end)
      call:reset(0.05)
      call:delay(0.03)
      assert.is_true(call:getTime() - t0 >= 0.079)
      async.loopUntil(function() return ran ~= nil end, 1)
      assert.is_true(ran - t0 >= 0.08, ran - t0)
    end)

    it("keeps running after a call raises, and reports it", function()
      local after = false
      local stderr = io.stderr
      local captured = {}
      io.stderr = { write = function(_, ...) for _, s in ipairs({ ... }) do captured[#captured + 1] = s end end }
      reactor.callLater(0, function() error("boom in a call") end)
      reactor.callLater(0.01, function() after = true end)
      runFor(0.03)
      io.stderr = stderr
      assert.is_true(after)
      assert.matches("boom in a call", table.concat(captured))
    end)

    it("refuses a delay that is not a number", function()
      local ok, err = pcall(reactor.callLater, "soon", function() end)
      assert.is_false(ok)
      assert.matches("bad argument #1 to 'callLater'", err)
    end)

    it("refuses NaN and non-numbers in reset and delay, leaving the call where it was", function()
      local ran = false
      local call = reactor.callLater(0.02, function() ran = true end)
      local at = call:getTime()
      for _, bad in ipairs{ 0 / 0, "soon", false } do
        for _, method in ipairs{ "reset", "delay" } do
          local ok, err = pcall(call[method], call, bad)
          assert.is_false(ok)
          assert.matches("bad argument #1 to '" .. method .. "' %(seconds expected, got ", err)
        end
      end
      assert.equal(at, call:getTime())
      -- still on the timer list: it runs, and the loop is not stuck
      async.loopUntil(function() return ran end, 1)
      assert.is_true(ran)
    end)

    it("takes step(0) as cqueues does, for no wait, and refuses other numbers", function()
      local call = reactor.callLater(60, function() end)
      local t0 = reactor.seconds()
      assert.is_true(reactor.step(0))
      assert.is_true(reactor.seconds() - t0 < 1)
      assert.has_error(function() reactor.step(5) end,
        "bad argument #1 to 'step' (wait: a boolean expected, got number)")
      call:cancel()
    end)

    it("refuses a callWhenRunning that is not a function", function()
      local ok, err = pcall(reactor.callWhenRunning, nil)
      assert.is_false(ok)
      assert.equal("bad argument #1 to 'callWhenRunning' (function expected, got nil)", err)
    end)

    it("keeps seconds() moving with the clock", function()
      local a = reactor.seconds()
      runFor(0.02)
      local b = reactor.seconds()
      assert.is_true(b - a >= 0.02 and b - a < 0.5)
    end)
  end)

  describe("run and stop", function()
    it("runs until stop, calling what was queued by callWhenRunning first", function()
      local order = {}
      reactor.callWhenRunning(function() order[#order + 1] = "started" end)
      reactor.callLater(0.02, function()
        order[#order + 1] = "stopping"
        reactor.stop()
      end)
      reactor.run()
      assert.same({ "started", "stopping" }, order)
      assert.is_false(reactor.isRunning())
    end)

    it("keeps running with nothing to do until stopped", function()
      local t0 = reactor.seconds()
      reactor.callLater(0.05, reactor.stop)
      reactor.run()
      assert.is_true(reactor.seconds() - t0 >= 0.05)
    end)

    it("raises on stop when it is not running", function()
      local ok, err = pcall(reactor.stop)
      assert.is_false(ok)
      assert.matches("ReactorNotRunning", err)
    end)
  end)

  describe("for other loops", function()
    it("offers a pollable descriptor and the time to the next call", function()
      local call = reactor.callLater(0.25, function() end)
      assert.is_true(math.type(reactor:pollfd()) == "integer")
      assert.equal("r", reactor:events())
      local t = reactor:timeout()
      assert.is_true(t > 0.1 and t <= 0.25, tostring(t))
      call:cancel()
    end)

    it("runs what is due with step()", function()
      local ran = false
      reactor.callLater(0, function() ran = true end)
      local deadline = reactor.seconds() + 1
      while not ran and reactor.seconds() < deadline do
        reactor.step()
      end
      assert.is_true(ran)
    end)
  end)
end)

describe("names.task", function()
  it("deferLater fires with the function's result after the delay", function()
    local t0 = reactor.seconds()
    local v = async.wait(task.deferLater(reactor, 0.03, function(a, b) return a + b end, 2, 3))
    assert.equal(5, v)
    assert.is_true(reactor.seconds() - t0 >= 0.03)
  end)

  it("deferLater can be cancelled before it runs", function()
    local ran = false
    local d = task.deferLater(reactor, 0.02, function() ran = true end)
    d:cancel()
    local failure = async.failure(d, 1)
    runFor(0.04)
    assert.is_false(ran)
    assert.is_not_nil(failure:check(defer.CancelledError))
  end)

  it("react refuses arguments and a reactor of the wrong type before main runs", function()
    local ran = false
    local function main() ran = true end
    local ok, err = pcall(task.react, main, "abc")
    assert.is_false(ok)
    assert.matches("bad argument #2 to 'react' %(a table of arguments expected, got string%)", err)
    ok, err = pcall(task.react, main, {}, 5)
    assert.is_false(ok)
    assert.matches("bad argument #3 to 'react' %(a reactor expected, got number%)", err)
    assert.is_false(ran)
  end)

  it("react runs main with the arguments and exits 0 when it succeeds", function()
    local status, out = child([[
      local task = require "names.task"
      task.react(function(reactor, a, b)
        return task.deferLater(reactor, 0.01, function() print("args", a, b) end)
      end, {"one", "two"})
      print("never here")
    ]])
    assert.equal(0, status)
    assert.equal("args\tone\ttwo\n", out)
  end)

  it("react lets main wait with coroutine.yield", function()
    local status, out = child([[
      local task = require "names.task"
      task.react(function(reactor)
        local v = coroutine.yield(task.deferLater(reactor, 0.01, function() return 41 end))
        print(v + 1)
      end)
    ]])
    assert.equal(0, status)
    assert.equal("42\n", out)
  end)

  it("react exits 1 and reports the failure of main", function()
    local status, out, err = child([[
      local task = require "names.task"
      task.react(function(reactor)
        return task.deferLater(reactor, 0.01, function() error("main went wrong") end)
      end)
    ]])
    assert.equal(1, status)
    assert.equal("", out)
    assert.matches("^main function encountered error\n", err)
    assert.matches("main went wrong", err)
  end)

  it("react exits 1 when main raises before it returns", function()
    local status, _, err = child([[
      require("names.task").react(function() error("at once") end)
    ]])
    assert.equal(1, status)
    assert.matches("main function encountered error", err)
    assert.matches("at once", err)
  end)

  it("a process exits cleanly with timers pending", function()
    local status, out, err = child([[
      local reactor = require "names.reactor"
      reactor.callLater(60, function() end)
      print("bye")
      os.exit(0, true)
    ]])
    assert.equal(0, status)
    assert.equal("bye\n", out)
    assert.equal("", err)
  end)
end)
