--- The low-level protocols of twisted.names.dns: `DNSDatagramProtocol`
-- (UDP, with `reactor.listenUDP`) and `DNSProtocol` (TCP, with
-- `reactor.connectTCP`). Reached as `dns.DNSDatagramProtocol` and
-- `dns.DNSProtocol`.
--
--    local proto = dns.DNSDatagramProtocol{controller = nil}
--    reactor.listenUDP(0, proto)
--    proto:query({"127.0.0.1", 53}, {dns.Query("example.com", dns.AAAA)})
--      :addCallback(function(message) print(message) end)
--
-- A query fires with the response `dns.Message` whatever its rcode (the
-- client layer maps rcodes to errors); it errbacks with
-- `DNSQueryTimeoutError` when no reply comes in time. The C core does the
-- exchange: a random id, and a reply accepted only from the address asked,
-- with that id and the question asked. Messages nobody waits for go to
-- `controller:messageReceived(message, protocol, address)`.
-- @module names.protocol

local argcheck = require "names.argcheck"
local class = require "names.class"
local common = require "names.common"
local core = require "names.core"
local defer = require "names.defer"
local dns = require "names.dns"
local errors = require "names.error"

local M = {}

-- The resolver that runs the exchanges (it has no servers of its own):
-- made when one starts and closed when the last one in flight ends, so
-- that nothing of it (a timer, a socket) stays open between them.
local exchanger, exchanging = nil, 0

local function exchangeEnded()
  exchanging = exchanging - 1
  if exchanging == 0 and exchanger then
    local idle = exchanger
    exchanger = nil
    idle:close()
  end
end

local function firstTimeout(timeout, default)
  if type(timeout) == "table" then
    if timeout[1] == nil then
      argcheck.error("timeout", nil, "positive seconds expected, got an empty list", 2)
    end
    timeout = timeout[1]
  end
  if timeout == nil then
    return default
  end
  if type(timeout) ~= "number" or not (timeout > 0) then
    argcheck.error("timeout", nil, "positive seconds expected", 2)
  end
  return timeout
end

local function checkQueries(queries, level)
  if getmetatable(queries) == dns.Query then
    return { queries }
  end
  if type(queries) ~= "table" or #queries == 0 then
    argcheck.error("queries", nil, "a list of dns.Query expected", level)
  end
  for i, q in ipairs(queries) do
    if getmetatable(q) ~= dns.Query then
      argcheck.error("queries", nil, ("queries[%d]: a dns.Query expected, got %s"):format(i, type(q)), level)
    end
  end
  return queries
end

-- One exchange: a Deferred of the response Message.
local function exchange(queries, server, transport, timeout, via)
  local bytes = dns.Message{ id = 0, recDes = true, queries = queries }:toStr()
  local d = common.queryDeferred()
  exchanger = exchanger or core.resolver_new{}
  d._handle = exchanger:exchange(bytes, server, transport, timeout, function(message, err, attempts)
    exchangeEnded()
    if common.queryDone(d, err) then
      return
    end
    if message then
      return d:callback(message)
    end
    d:errback(common.failureFor(queries[1], err, attempts))
  end, via)
  exchanging = exchanging + 1
  return d
end

local function messageFor(protocol, data, address)
  local ok, m = pcall(dns.decode, data)
  if ok and protocol.controller and protocol.controller.messageReceived then
    protocol.controller:messageReceived(m, protocol, address)
  end
end

-- DNSDatagramProtocol ------------------------------------------------------------

local Datagram = { __name = "names.dns.DNSDatagramProtocol" }
Datagram.__index = Datagram

--- `DNSDatagramProtocol{controller = c, reactor = r}` (or positional).
-- A controller is nil or has, if anything, a callable messageReceived
-- (checked here: a wrong one would only fail inside a loop callback).
local function checkController(controller, fname)
  if controller == nil then
    return
  end
  if type(controller) ~= "table" then
    argcheck.error(1, fname, "controller: a table expected, got " .. type(controller), 2)
  end
  local received = controller.messageReceived
  if received ~= nil and not class.iscallable(received) then
    argcheck.error(1, fname, "controller.messageReceived: a function expected, got " .. type(received), 2)
  end
end

function M.DNSDatagramProtocol(controller, theReactor)
  if type(controller) == "table" and getmetatable(controller) == nil and
      (controller.controller ~= nil or controller.reactor ~= nil or next(controller) == nil) then
    controller, theReactor = controller.controller, controller.reactor
  end
  checkController(controller, "DNSDatagramProtocol")
  return setmetatable({ controller = controller, reactor = theReactor }, Datagram)
end

--- Called by reactor.listenUDP.
function Datagram:makeConnection(transport)
  self.transport = transport
  if self.startProtocol then
    self:startProtocol()
  end
end

function Datagram:startProtocol()
end

--- A datagram that answers no query of ours: handed to the controller.
function Datagram:datagramReceived(data, address)
  messageFor(self, data, address)
end

--- Sends a message (an answer, when this protocol serves).
function Datagram:writeMessage(message, address)
  self.transport:write(message:toStr(), address)
end

--- Asks `queries` of the server at `address` (`{host, port}`); fires with
-- the response Message. `timeout` is seconds (Twisted's default 10).
-- @treturn Deferred
function Datagram:query(address, queries, timeout)
  if type(address) ~= "table" or type(address[1]) ~= "string" then
    argcheck.error(1, "query", "address: {host, port} expected")
  end
  queries = checkQueries(queries, 2)
  timeout = firstTimeout(timeout, 10)
  if not self.transport then
    require("names.reactor").listenUDP(0, self)
  end
  local server = { address[1], address[2] or 53 }
  -- the port is IPv4 (as Twisted's listenUDP(0)); an IPv6 server is asked
  -- from a socket of the core's own
  local via = self.transport._port
  if address[1]:find(":", 1, true) then
    via = nil
  end
  return exchange(queries, server, "udp", timeout, via)
end

M.DNSDatagramProtocol_class = Datagram

-- DNSProtocol -----------------------------------------------------------------------

local Stream = { __name = "names.dns.DNSProtocol" }
Stream.__index = Stream

--- `DNSProtocol{controller = c}`: DNS over a TCP connection made by
-- reactor.connectTCP.
function M.DNSProtocol(controller, theReactor)
  if type(controller) == "table" and getmetatable(controller) == nil and
      (controller.controller ~= nil or controller.reactor ~= nil or next(controller) == nil) then
    controller, theReactor = controller.controller, controller.reactor
  end
  checkController(controller, "DNSProtocol")
  return setmetatable({ controller = controller, reactor = theReactor }, Stream)
end

function Stream:makeConnection(transport)
  self.transport = transport
  self:connectionMade()
end

function Stream:connectionMade()
  if self.controller and self.controller.connectionMade then
    self.controller:connectionMade(self)
  end
end

function Stream:connectionLost(reason)
  if self.controller and self.controller.connectionLost then
    self.controller:connectionLost(self, reason)
  end
end

function Stream:dataReceived(data)
  messageFor(self, data, nil)
end

function Stream:writeMessage(message)
  self.transport:write(message:toStr())
end

--- Asks `queries` over the connection; fires with the response Message.
-- `timeout` is seconds (Twisted's default 60).
-- @treturn Deferred
function Stream:query(queries, timeout)
  queries = checkQueries(queries, 2)
  timeout = firstTimeout(timeout, 60)
  if not self.transport then
    return defer.fail(errors.ResolverError("not connected"))
  end
  return exchange(queries, self.transport.peer, "tcp", timeout, self.transport._conn)
end

--- Twisted's client.DNSClientFactory: builds DNSProtocols for connectTCP.
function M.DNSClientFactory(controller, timeout)
  checkController(controller, "DNSClientFactory")
  return {
    controller = controller,
    timeout = timeout,
    buildProtocol = function(self)
      return M.DNSProtocol(self.controller)
    end,
  }
end

return M
