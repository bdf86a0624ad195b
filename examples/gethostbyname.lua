-- Print the IP address for a given hostname: a port of Twisted Names'
-- gethostbyname.py. The global resolver asks the hosts file, then its
-- cache, then the servers of resolv.conf.
--
--   $ lua5.4 examples/gethostbyname.lua localhost
local task = require "names.task"
local client = require "names.client"
local errors = require "names.error"

local function printResult(address, hostname)
  if address then
    io.stdout:write(address, "\n")
  else
    io.stderr:write(("ERROR: No IP addresses found for name '%s'\n"):format(hostname))
  end
end

local function printError(failure, hostname)
  failure:trap(errors.DNSNameError)
  io.stderr:write(("ERROR: hostname not found '%s'\n"):format(hostname))
end

local function main(reactor, hostname, ...)
  if not hostname or select("#", ...) > 0 then
    io.stderr:write("Usage: gethostbyname.lua HOSTNAME\nERROR: Wrong number of arguments.\n")
    os.exit(1)
  end
  local d = client.getHostByName(hostname)
  d:addCallback(printResult, hostname)
  d:addErrback(printError, hostname)
  return d
end

task.react(main, arg)
