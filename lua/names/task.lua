--- twisted.internet.task: `react` and `deferLater`.
--
--    local task = require "names.task"
--    task.react(function(reactor, name)
--      local r = coroutine.yield(client.lookupAddress(name))
--      print(r.answers[1].payload)
--    end, arg)
--
-- `main` runs in a coroutine, as `defer.inlineCallbacks` runs it, so it may
-- wait with `coroutine.yield(d)` or return a Deferred.
-- @module names.task

local args = require "names.args"
local class = require "names.class"
local defer = require "names.defer"
local reactor = require "names.reactor"

local M = {}

local unpack = table.unpack

--- Runs `main(reactor, ...)` with the elements of `argv`, runs the loop
-- until the Deferred it returns fires, and exits: 0 on success; 1 on
-- failure, after writing `main function encountered error` and the
-- failure to stderr.
-- @tparam function main
-- @tparam[opt] table argv a script passes `arg`
-- @tparam[opt] table theReactor defaults to names.reactor
function M.react(main, argv, theReactor)
  args.check(1, "react", main, "function")
  args.expect(2, "react", argv == nil or type(argv) == "table", "a table of arguments", argv)
  args.expect(3, "react", theReactor == nil or (type(theReactor) == "table" and type(theReactor.run) == "function"),
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
  args.expect(1, "deferLater", type(clock) == "table" and type(clock.callLater) == "function", "a reactor", clock)
  args.expect(2, "deferLater", type(delay) == "number" and delay == delay, "number", delay)
  args.expect(3, "deferLater", f == nil or class.iscallable(f), "function", f)
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

return M
