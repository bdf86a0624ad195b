--- Argument checks, one way for the whole library: the messages are Lua's
-- own ("bad argument #1 to 'callLater' (function expected, got nil)"),
-- raised at the user's call, as Penlight's `utils.assert_arg` raises them.
--
--    local argcheck = require "names.argcheck"
--    argcheck.check(1, "resolve", name, "string", "name: string")
--    if port < 0 then argcheck.error(1, "listenUDP", "port: 0..65535 expected") end
--
-- `level` counts as `error` does, from the function that calls these: 1
-- (the default) blames that function's caller, 2 the caller's caller (for
-- a checking helper of a module's own). Never tail-call these (`return
-- argcheck.error(...)`): a tail call takes a frame off the count.  On a path
-- run per lookup or per callback, test inline and call `error` only when
-- the test fails: `expect` and `check` cost a call even when all is well.
-- @module names.argcheck

local M = {}

local format = string.format

--- Raises `bad argument #n to 'fname' (msg)`.
-- @tparam int|string n the argument's position, or its name (a table field
--   such as `'servers'`: then `bad argument 'servers' to ...`)
-- @tparam string|nil fname the public function's name (nil: none named,
--   `bad argument 'timeout' (...)`, for a table field of a method)
-- @tparam string msg what is wrong
-- @tparam[opt=1] int level whom to blame (see above)
function M.error(n, fname, msg, level)
  local which = type(n) == "number" and "#" .. n or "'" .. tostring(n) .. "'"
  local to = fname and format(" to '%s'", fname) or ""
  error(format("bad argument %s%s (%s)", which, to, msg), (level or 1) + 2)
end

--- Raises `bad argument #n to 'fname' (<expected> expected, got <type of
-- value>)` unless `ok`.
-- @tparam int|string n
-- @tparam string fname
-- @param ok whether the argument is right
-- @tparam string expected what it should have been ("function", "a reactor")
-- @param value the argument, whose type the message names
-- @tparam[opt=1] int level
-- @return value
function M.expect(n, fname, ok, expected, value, level)
  if not ok then
    M.error(n, fname, format("%s expected, got %s", expected, type(value)), (level or 1) + 1)
  end
  return value
end

--- `expect` for a Lua type: `value` must be of type `tp`.
-- @tparam int|string n
-- @tparam string fname
-- @param value
-- @tparam string tp a Lua type name
-- @tparam[opt=tp] string expected what the message says is expected
-- @tparam[opt=1] int level
-- @return value
function M.check(n, fname, value, tp, expected, level)
  if type(value) ~= tp then
    M.error(n, fname, format("%s expected, got %s", expected or tp, type(value)), (level or 1) + 1)
  end
  return value
end

return M
