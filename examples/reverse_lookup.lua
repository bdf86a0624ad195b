-- Lookup the reverse DNS pointer record for an IPv4 address: a port of
-- Twisted Names' documented reverse_lookup.py, line for line.
--
--   $ lua5.4 examples/reverse_lookup.lua 127.0.0.1
--   1.0.0.127.in-addr.arpa IN <PTR name=localhost ttl=3600>
local task   = require "names.task"
local client = require "names.client"

local function reverseNameFromIPAddress(address)
  local parts = {}
  for p in address:gmatch("[^.]+") do table.insert(parts, 1, p) end
  return table.concat(parts, ".") .. ".in-addr.arpa"
end

local function printResult(result)
  local answers, authority, additional = table.unpack(result)
  if #answers > 0 then
    local a = answers[1]
    print(("%s IN %s"):format(a.name.name, a.payload))
  end
end

local function main(reactor, address)
  local d = client.lookupPointer{name = reverseNameFromIPAddress(address)}
  d:addCallback(printResult)
  return d
end

task.react(main, arg)
