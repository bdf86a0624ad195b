-- Print the SRV records of a service: a port of Twisted Names'
-- dns-service.py.
--
--   $ lua5.4 examples/dns-service.lua sip udp example.com
local task = require "names.task"
local client = require "names.client"
local errors = require "names.error"

local function printResult(records, domainname)
  local answers = table.unpack(records)
  if #answers > 0 then
    local lines = {}
    for i, x in ipairs(answers) do lines[i] = tostring(x.payload) end
    io.stdout:write(domainname, " IN \n ", table.concat(lines, "\n "), "\n")
  else
    io.stderr:write(("ERROR: No SRV records found for name '%s'\n"):format(domainname))
  end
end

local function printError(failure, domainname)
  failure:trap(errors.DNSNameError)
  io.stderr:write(("ERROR: domain name not found '%s'\n"):format(domainname))
end

local function main(reactor, service, proto, domain, ...)
  if not domain or select("#", ...) > 0 then
    io.stderr:write("Usage: dns-service.lua SERVICE PROTO DOMAINNAME\n" ..
      "ERROR: Wrong number of arguments.\n")
    os.exit(1)
  end
  local resolver = client.Resolver()
  local domainname = ("_%s._%s.%s"):format(service, proto, domain)
  local d = resolver:lookupService(domainname)
  d:addCallback(printResult, domainname)
  d:addErrback(printError, domainname)
  return d
end

task.react(main, arg)
