-- busted helper, loaded before the specs (see the root .busted): put the
-- checkout's lua/ and build/ on package.path and package.cpath, as absolute
-- paths, so the modules in place are found whatever the current directory.
-- The checkout is NAMES_TEST_ROOT, else the directory above spec/.

local function checkout_root()
  local env = os.getenv("NAMES_TEST_ROOT")
  if env and env ~= "" then return env end
  local src = debug.getinfo(1, "S").source
  local dir = src:match("^@(.*)/spec/support/helper%.lua$")
  if not dir or dir == "" then dir = "." end
  if dir:sub(1, 1) ~= "/" then
    local pwd = os.getenv("PWD")
    if pwd then dir = (dir == "." and pwd or pwd .. "/" .. dir) end
  end
  return dir
end

local function prepend(current, entries)
  local add = {}
  for _, e in ipairs(entries) do
    if not (";" .. current .. ";"):find(";" .. e .. ";", 1, true) then
      add[#add + 1] = e
    end
  end
  if #add == 0 then return current end
  return table.concat(add, ";") .. ";" .. current
end

local root = checkout_root()
package.path = prepend(package.path, {
  root .. "/lua/?.lua",
  root .. "/lua/?/init.lua",
  root .. "/spec/support/?.lua",
})
-- NAMES_TEST_BUILD: another build of the module (make asan runs specs with
-- build/asan's)
local build = os.getenv("NAMES_TEST_BUILD")
if not build or build == "" then
  build = "build"
end
if build:sub(1, 1) ~= "/" then
  build = root .. "/" .. build
end
package.cpath = prepend(package.cpath, {
  build .. "/?.so",
})

-- The machine's resolv.conf names a nameserver the tests must never ask:
-- a spec that reaches the global resolver (client.getResolver, or
-- reactor.resolve with none installed) gets one that asks the test server
-- on loopback instead. Specs that want another file set their own.
do
  local port = tonumber(os.getenv("NAMES_TEST_PORT") or "") or 53535
  local conf = root .. "/build/testenv/global-resolv.conf"
  local f = io.open(conf, "w")
  if not f then
    conf = os.tmpname()
    f = io.open(conf, "w")
  end
  if f then
    f:write(("nameserver 127.0.0.1:%d\n"):format(port))
    f:close()
    require("names.client").defaultResolvConf = conf
  end
end

-- A test during which a loop callback raised an error that nothing caught
-- fails: names.core only writes such an error to stderr (as the loop must
-- go on), where no assertion would see it. Each test's body is wrapped, at
-- its start, to compare names.core's count of them before and after.
local busted = require "busted"

local function callbackErrors()
  local core = package.loaded["names.core"]
  return core and core.callback_errors() or 0
end

busted.subscribe({ "test", "start" }, function(element)
  local run = element.run
  element.run = function(...)
    local before = callbackErrors()
    run(...)
    local raised = callbackErrors() - before
    if raised > 0 then
      error(("%d error(s) raised in loop callbacks and not caught (see stderr above)"):format(raised), 0)
    end
  end
  return nil, true
end)

-- A spec file that leaves a libuv handle alive fails, as the C tests end
-- with libuv's check: after the file, what it dropped is collected
-- (finalizers close their handles) and the loop runs a few rounds for
-- close callbacks; any handle still alive then (active and referenced, as
-- uv_loop_alive counts: a socket with a query on it, a timer set, a watch,
-- anything that would keep a loop running) is named.  An idle resolver's
-- handles are not alive: it keeps its UDP socket unreferenced for its
-- next query (udpIdle), a TCP connection until its idle time, and its
-- timer stopped, on purpose.
busted.subscribe({ "file", "end" }, function()
  local core = package.loaded["names.core"]
  if not core then return nil, true end
  collectgarbage()
  collectgarbage()
  for _ = 1, 50 do
    if #core.handles("alive") == 0 then break end
    core.step(false)
  end
  local left = core.handles("alive")
  if #left > 0 then
    error(("%d handle(s) left alive after the file: %s"):format(#left, table.concat(left, ", ")), 0)
  end
  return nil, true
end)
