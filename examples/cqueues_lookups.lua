-- Lookups inside a cqueues program, beside its other work: the reactor is
-- a cqueues pollable (reactor:pollfd(), :events(), :timeout()), so one
-- coroutine serves it with cqueues.poll(reactor) and reactor.step(), and
-- any other coroutine waits for a lookup as for a socket. Here each name
-- is looked up by a coroutine of its own while another one ticks a timer.
--
--   $ lua5.4 examples/cqueues_lookups.lua www.example.com example.org
--   www.example.com IN <A address=93.184.215.14 ttl=3600>
--   example.org IN <A address=93.184.215.14 ttl=3600>
--   the timer ticked 3 times meanwhile
--
-- The exit status is 1 when a lookup failed.
local cqueues = require "cqueues"
local condition = require "cqueues.condition"
local reactor = require "names.reactor"
local client = require "names.client"

local names = { ... }
if #names == 0 then
  io.stderr:write("usage: cqueues_lookups.lua NAME...\n")
  os.exit(2)
end

local cq = cqueues.new()
local left, failed = #names, 0
local allDone = condition.new()

-- Waits, inside a cqueues coroutine, for a Deferred: true and its result,
-- or false and the Failure.
local function await(d)
  local cond = condition.new()
  local settled, ok, value = false, nil, nil
  d:addCallbacks(function(result)
    settled, ok, value = true, true, result
    cond:signal()
  end, function(failure)
    settled, ok, value = true, false, failure
    cond:signal()
  end)
  while not settled do
    cond:wait()
  end
  return ok, value
end

-- The reactor's coroutine: asleep until the reactor has work (a lookup
-- started by another coroutine wakes it), then runs what is ready.
cq:wrap(function()
  while left > 0 do
    cqueues.poll(reactor, allDone)
    reactor.step()
  end
end)

-- Other work: a timer ticking while the lookups run.
local ticks = 0
cq:wrap(function()
  repeat
    ticks = ticks + 1
    cqueues.poll(allDone, 0.01)
  until left == 0
end)

for _, name in ipairs(names) do
  cq:wrap(function()
    local ok, result = await(client.lookupAddress(name))
    if ok then
      for _, rr in ipairs(result.answers) do
        print(("%s IN %s"):format(rr.name.name, tostring(rr.payload)))
      end
    else
      failed = failed + 1
      print(("%s: %s"):format(name, result.type and result.type.__name or result:getErrorMessage()))
    end
    left = left - 1
    if left == 0 then
      allDone:signal()
    end
  end)
end

assert(cq:loop())
print(("the timer ticked %d times meanwhile"):format(ticks))
os.exit(failed == 0 and 0 or 1)
