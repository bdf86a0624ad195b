-- Lookup the reverse DNS pointer records for one or more IP addresses,
-- IPv4 or IPv6, in parallel: a port of Twisted Names' multi_reverse_lookup.py.
--
--   $ lua5.4 examples/multi_reverse_lookup.lua 127.0.0.1 192.0.2.100
local task = require "names.task"
local client = require "names.client"
local defer = require "names.defer"

local usage = "Usage: multi_reverse_lookup.lua IPADDRESS [IPADDRESS]"

-- A reverse domain name for an IPv4 address.
local function reverseNameFromIPv4Address(address)
  local tokens = {}
  for p in address:gmatch("[^.]+") do table.insert(tokens, 1, p) end
  tokens[#tokens + 1] = "in-addr.arpa"
  return table.concat(tokens, ".")
end

-- One group of an IPv6 address, as four hex digits.
local function group(g, address)
  local n = #g <= 4 and tonumber(g, 16)
  if not n then
    error("not an IPv6 address: " .. address, 0)
  end
  return ("%04x"):format(n)
end

-- A reverse domain name for an IPv6 address, expanding "::" first.
local function reverseNameFromIPv6Address(address)
  local original = address
  -- a dotted IPv4 tail (::ffff:192.0.2.1) stands for the last two groups
  local o1, o2, o3, o4 = address:match(":(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  if o1 then
    address = address:gsub("[%d.]+$", ("%x:%x"):format(o1 * 256 + o2, o3 * 256 + o4))
  end
  local head, tail = address:match("^(.-)::(.*)$")
  local groups = {}
  local function add(part)
    for g in part:gmatch("[^:]+") do groups[#groups + 1] = group(g, original) end
  end
  if head then
    add(head)
    local before = #groups
    local rest = {}
    for g in tail:gmatch("[^:]+") do rest[#rest + 1] = group(g, original) end
    for _ = 1, 8 - before - #rest do groups[#groups + 1] = "0000" end
    for _, g in ipairs(rest) do groups[#groups + 1] = g end
  else
    add(address)
  end
  local nibbles = {}
  for c in table.concat(groups):gmatch(".") do table.insert(nibbles, 1, c) end
  nibbles[#nibbles + 1] = "ip6.arpa"
  return table.concat(nibbles, ".")
end

local function reverseNameFromIPAddress(address)
  if address:find(":", 1, true) then
    return reverseNameFromIPv6Address(address)
  end
  return reverseNameFromIPv4Address(address)
end

-- A comma separated list of reverse domain names and their pointer records.
local function printResult(result)
  local answers = result[1]
  if #answers > 0 then
    local parts = {}
    for i, a in ipairs(answers) do parts[i] = ("%s IN %s"):format(a.name.name, a.payload) end
    io.stdout:write(table.concat(parts, ", "), "\n")
  end
end

-- How many queries got a response.
local function printSummary(results)
  local ok = 0
  for _, r in ipairs(results) do
    if r[1] then ok = ok + 1 end
  end
  io.stdout:write(("%d responses to %d queries"):format(ok, #results), "\n")
end

local function main(reactor, ...)
  local addresses = { ... }
  if #addresses == 0 then
    io.stderr:write(usage, "\n", "ERROR: Wrong number of arguments.\n")
    os.exit(1)
  end
  local pending = {}
  for _, address in ipairs(addresses) do
    local pointerName = reverseNameFromIPAddress(address)
    -- a single 1 s timeout, so that slow or offline servers do not slow
    -- the script down
    local result = client.lookupPointer(pointerName, { 1 })
    result:addCallback(printResult)
    pending[#pending + 1] = result
  end
  local allResults = defer.DeferredList(pending, { consumeErrors = true })
  allResults:addCallback(printSummary)
  return allResults
end

task.react(main, arg)
