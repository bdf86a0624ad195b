-- testdns.lua again, written with coroutines instead of callbacks: each
-- coroutine.yield(d) waits for the Deferred d, and a failed lookup raises
-- its Failure right there, so pcall catches it.
--
--   $ lua5.4 examples/coroutine_lookup.lua example.com
local task = require "names.task"
local client = require "names.client"
local errors = require "names.error"

local function section(heading, lookup, name)
  local ok, result = pcall(coroutine.yield, lookup(name))
  if not ok then
    local failure = result
    if failure:check(errors.DNSNameError) then
      io.stderr:write(("ERROR: domain name not found '%s'\n"):format(name))
      os.exit(1)
    end
    error(failure, 0)
  end
  print("# " .. heading)
  for _, rr in ipairs(result.answers) do
    print(rr:toText())
  end
end

task.react(function(reactor, name)
  if not name then
    io.stderr:write("Usage: coroutine_lookup.lua DOMAINNAME\n")
    os.exit(1)
  end
  local r = client.Resolver()
  print(("# Domain Summary for '%s'"):format(name))
  section("Addresses", function(n) return r:lookupAddress(n) end, name)
  section("Mail Exchangers", function(n) return r:lookupMailExchange(n) end, name)
  section("Nameservers", function(n) return r:lookupNameservers(n) end, name)
end, arg)
