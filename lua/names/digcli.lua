--- The names-dig command: reads the command line, asks one question or
-- runs bulk mode, prints, and says which exit status dig would give.
--
--    os.exit(require("names.digcli").main(arg), true)
-- @module names.digcli

local dig = require "names.dig"
local bulk = require "names.digbulk"
local defer = require "names.defer"
local options = require "names.digoptions"
local reactor = require "names.reactor"

local M = {}

local function usage(stderr, err)
  stderr:write("names-dig: ", err, "\nUsage: ", options.usage, "\n(names-dig -h for help)\n")
  return dig.EXIT_USAGE
end

local function single(o, argv, stdout, stderr)
  local result
  dig.question(o, table.concat(argv, " ")):addBoth(function(r)
    result = r
    if reactor.isRunning() then
      reactor.stop()
    end
  end)
  -- the question may have been answered at once (the hosts file)
  if result == nil then
    reactor.run()
  end
  -- written after the loop: a failing output is an internal error, not a
  -- loop that never stops
  if result == nil or defer.isFailure(result) then
    stderr:write("names-dig: internal error: ", tostring(result and result.value or "no result"), "\n")
    return dig.EXIT_INTERNAL
  end
  stdout:write(result.text)
  return result.status
end

--- Runs names-dig with the words of its command line.
-- @tparam table argv
-- @tparam[opt] table out `stdout`, `stderr` (default io's)
-- @treturn integer the exit status: 0 (an answer, any rcode), 1 (usage),
--   8 (a batch file that cannot be opened), 9 (no reply), 10 (internal
--   error), 130 (bulk mode interrupted)
function M.main(argv, out)
  out = out or {}
  local stdout, stderr = out.stdout or io.stdout, out.stderr or io.stderr
  local ok, status = xpcall(function()
    local o, err = options.parse(argv or {})
    if not o then
      return usage(stderr, err)
    end
    if o.help then
      stdout:write(options.help())
      return dig.EXIT_OK
    end
    if o.file then
      return bulk.run(o, { stdout = stdout, stderr = stderr })
    end
    return single(o, argv or {}, stdout, stderr)
  end, debug.traceback)
  stdout:flush()
  if not ok then
    stderr:write("names-dig: internal error: ", tostring(status), "\n")
    return dig.EXIT_INTERNAL
  end
  return status
end

return M
