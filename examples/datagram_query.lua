-- The low-level API: DNSDatagramProtocol straight on a UDP port, as in
-- Twisted's client guide. Failures and retries are yours at this level;
-- names.client handles them for you.
--
--   $ lua5.4 examples/datagram_query.lua [SERVER [PORT [NAME]]]
--   $ lua5.4 examples/datagram_query.lua 127.0.0.1 53535 www.example.test
-- The default server is the guide's, 8.8.8.8 port 53: give one on a
-- machine without the internet.
local task = require "names.task"
local dns = require "names.dns"

local function printResult(res)
  local payloads = {}
  for i, a in ipairs(res.answers) do payloads[i] = tostring(a.payload) end
  -- Python's print("ANSWERS: ", [...]): a space between the two
  print("ANSWERS:  [" .. table.concat(payloads, ", ") .. "]")
end

local function main(reactor, server, port, name)
  local proto = dns.DNSDatagramProtocol{controller = nil}
  reactor.listenUDP(0, proto)

  local d = proto:query({server or "8.8.8.8", tonumber(port) or 53},
    {dns.Query(name or "www.example.com", dns.AAAA)})
  d:addCallback(printResult)
  return d
end

task.react(main, arg)
