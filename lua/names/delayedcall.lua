--- Twisted's DelayedCall, shared by the reactor (`names.reactor`) and by
-- `task.Clock`: the methods a call has, over the schedule of whichever
-- made it. Users get calls from `callLater`; this module is the library's.
--
-- A schedule is a table of functions: `now(call)`, the time now on the
-- call's clock; `remove(call)` and `insert(call)`, which take the call out
-- of the schedule and put it back after `call.time` changed; and, if it
-- has one, `changed()`, run once a method is done with the schedule (the
-- reactor sets its timer for the earliest call there). A call is
-- a table with `time`, `f`, `called` and `cancelled`, and whatever the
-- schedule keeps in it.
-- @module names.delayedcall

local argcheck = require "names.argcheck"

local M = {}

local format = string.format

--- Raises `bad argument #n to 'fname' (seconds expected, got ...)`, blaming
-- the caller of `fname`, unless `seconds` is a number other than NaN.
-- @param seconds
-- @tparam int n
-- @tparam string fname
function M.checkSeconds(seconds, n, fname)
  if type(seconds) ~= "number" or seconds ~= seconds then
    argcheck.error(n, fname, "seconds expected, got " .. (type(seconds) == "number" and "nan" or type(seconds)), 2)
  end
end
local checkSeconds = M.checkSeconds

local function checkActive(self, what)
  if self.cancelled then
    error("AlreadyCancelled: cannot " .. what .. " a cancelled call", 3)
  elseif self.called then
    error("AlreadyCalled: cannot " .. what .. " a call that has run", 3)
  end
end

--- A DelayedCall class over a schedule.
-- @tparam string name the class's `__name`
-- @tparam table schedule `now`, `remove`, `insert` and perhaps `changed`
--   (see above)
-- @treturn table the class: set it as the metatable of each call
function M.class(name, schedule)
  local now, remove, insert = schedule.now, schedule.remove, schedule.insert
  local changed = schedule.changed or function() end
  local DelayedCall = { __name = name }
  DelayedCall.__index = DelayedCall

  function DelayedCall.__tostring(self)
    return format("<DelayedCall %s [%.3fs] called=%s cancelled=%s>", tostring(self.f),
      self.time - now(self), self.called, self.cancelled)
  end

  --- The time on its clock at which the call will run.
  -- @treturn number
  function DelayedCall:getTime()
    return self.time
  end

  --- Whether the call has neither run nor been cancelled.
  -- @treturn boolean
  function DelayedCall:active()
    return not (self.called or self.cancelled)
  end

  --- Cancels the call; raises if it has already run or been cancelled.
  function DelayedCall:cancel()
    checkActive(self, "cancel")
    self.cancelled = true
    remove(self)
    changed()
  end

  --- Moves the call to `seconds` from its clock's present.
  -- @tparam number seconds
  function DelayedCall:reset(seconds)
    checkSeconds(seconds, 1, "reset")
    checkActive(self, "reset")
    remove(self)
    self.time = now(self) + seconds
    insert(self)
    changed()
  end

  --- Postpones the call by `seconds`.
  -- @tparam number seconds
  function DelayedCall:delay(seconds)
    checkSeconds(seconds, 1, "delay")
    checkActive(self, "delay")
    remove(self)
    self.time = self.time + seconds
    insert(self)
    changed()
  end

  return DelayedCall
end

return M
