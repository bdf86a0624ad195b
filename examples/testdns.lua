-- Print the address, mail exchanger and name server records of a domain:
-- a port of Twisted Names' testdns.py.
--
--   $ lua5.4 examples/testdns.lua example.com
local task = require "names.task"
local client = require "names.client"
local defer = require "names.defer"
local dns = require "names.dns"
local errors = require "names.error"

-- The answers as lines beneath a heading.
local function formatRecords(records, heading)
  local answers = table.unpack(records)
  local lines = { "# " .. heading }
  for _, a in ipairs(answers) do
    local line = { tostring(a.name), dns.QUERY_CLASSES[a.cls] or ("UNKNOWN (%d)"):format(a.cls),
      tostring(a.payload) }
    lines[#lines + 1] = table.concat(line, " ")
  end
  return table.concat(lines, "\n")
end

local function printResults(results, domainname)
  io.stdout:write(("# Domain Summary for '%s'\n"):format(domainname))
  io.stdout:write(table.concat(results, "\n\n"), "\n")
end

local function printError(failure, domainname)
  failure:trap(defer.FirstError)
  failure = failure.value.subFailure
  failure:trap(errors.DNSNameError)
  io.stderr:write(("ERROR: domain name not found '%s'\n"):format(domainname))
end

local function main(reactor, domainname, ...)
  if not domainname or select("#", ...) > 0 then
    io.stderr:write("Usage: testdns.lua DOMAINNAME\nERROR: Wrong number of arguments.\n")
    os.exit(1)
  end
  local r = client.Resolver()
  local d = defer.gatherResults({
    r:lookupAddress(domainname):addCallback(formatRecords, "Addresses"),
    r:lookupMailExchange(domainname):addCallback(formatRecords, "Mail Exchangers"),
    r:lookupNameservers(domainname):addCallback(formatRecords, "Nameservers"),
  }, { consumeErrors = true })
  d:addCallback(printResults, domainname)
  d:addErrback(printError, domainname)
  return d
end

task.react(main, arg)
