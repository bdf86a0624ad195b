--- twisted.names.srvconnect: connecting to a service through its SRV records.
--
--    local srvconnect = require "names.srvconnect"
--    local c = srvconnect.SRVConnector(reactor, "xmpp-client", "example.test", factory)
--    c:connect()
--
-- The targets are ordered as RFC 2782 says (lowest priority first,
-- weighted random within a priority), each is connected to with Happy
-- Eyeballs (names.endpoints), and a target that fails hands over to the
-- next. A domain without SRV records is connected to on the service's
-- default port; a single target "." means the service is not available.
-- @module names.srvconnect

local class = require "names.class"
local defer = require "names.defer"
local dns = require "names.dns"
local endpoints = require "names.endpoints"
local errors = require "names.error"

local M = {}

local format, concat = string.format, table.concat

--- The default ports of common services, for a domain without SRV
-- records (what Twisted asks getservbyname). Names not here are looked up
-- in /etc/services.
M.services = {
  http = 80, https = 443, ftp = 21, ssh = 22, telnet = 23, smtp = 25, domain = 53,
  kerberos = 88, pop3 = 110, nntp = 119, ntp = 123, imap = 143, ldap = 389,
  submission = 587, submissions = 465, ldaps = 636, imaps = 993, pop3s = 995,
  ["xmpp-client"] = 5222, ["xmpp-server"] = 5269, sip = 5060, sips = 5061,
  ["jabber"] = 5222, caldav = 80, caldavs = 443, carddav = 80, carddavs = 443,
  stun = 3478, stuns = 5349, turn = 3478, turns = 5349, minecraft = 25565,
}

--- The default port of `service` over `protocol`: the table above, else
-- the services file (`/etc/services` unless `file` says).
-- @tparam string service
-- @tparam[opt="tcp"] string protocol
-- @tparam[opt] string file
-- @treturn integer|nil
function M.servicePort(service, protocol, file)
  if M.services[service] then
    return M.services[service]
  end
  local f = io.open(file or "/etc/services")
  if not f then
    return nil
  end
  protocol = protocol or "tcp"
  local found
  for line in f:lines() do
    line = line:gsub("#.*", "")
    local name, port, proto, aliases = line:match("^(%S+)%s+(%d+)/(%a+)%s*(.*)$")
    if name and proto == protocol then
      local match = name == service
      for alias in aliases:gmatch("%S+") do
        match = match or alias == service
      end
      if match then
        found = tonumber(port)
        break
      end
    end
  end
  f:close()
  return found
end

--- Orders SRV records as RFC 2782 says: by priority, lowest first; within a
-- priority, by weighted random selection: the records of weight 0 placed
-- first, a number drawn uniformly from 0 to the sum of the weights, and
-- the first record whose running sum reaches it taken, until none is left
-- (so a weight-0 record is chosen only when its priority has nothing else
-- left, or the draw is 0).
-- @tparam {Record_SRV,...} records payloads (`priority`, `weight`, `port`, `target`)
-- @tparam[opt] function random `random(m, n)` as `math.random` (the default)
-- @treturn {Record_SRV,...}
function M.orderRecords(records, random)
  random = random or math.random
  local byPriority, priorities = {}, {}
  for _, r in ipairs(records) do
    local p = r.priority
    if not byPriority[p] then
      byPriority[p] = {}
      priorities[#priorities + 1] = p
    end
    table.insert(byPriority[p], r)
  end
  table.sort(priorities)
  local out = {}
  for _, p in ipairs(priorities) do
    local left = {}
    -- weight 0 first, the rest in the order given
    for _, r in ipairs(byPriority[p]) do
      if r.weight == 0 then left[#left + 1] = r end
    end
    for _, r in ipairs(byPriority[p]) do
      if r.weight ~= 0 then left[#left + 1] = r end
    end
    while #left > 0 do
      local total = 0
      for _, r in ipairs(left) do
        total = total + r.weight
      end
      local draw = total > 0 and random(0, total) or 0
      local sum, pick = 0, #left
      for i, r in ipairs(left) do
        sum = sum + r.weight
        if sum >= draw then
          pick = i
          break
        end
      end
      out[#out + 1] = table.remove(left, pick)
    end
  end
  return out
end

local function nameText(n)
  if type(n) == "table" then
    n = n.name
  end
  return (tostring(n):gsub("%.$", ""))
end

local function serviceName(service, protocol, domain)
  return format("_%s._%s.%s", service, protocol, (domain:gsub("%.$", "")))
end

local function checkArgs(fname, service, domain, options, first)
  if type(service) ~= "string" or service == "" then
    error(format("bad argument #%d to '%s' (service: a name expected)", first, fname), 3)
  end
  if type(domain) ~= "string" or domain == "" then
    error(format("bad argument #%d to '%s' (domain: a name expected)", first + 1, fname), 3)
  end
  if options ~= nil and type(options) ~= "table" then
    error(format("bad argument #%d to '%s' (an options table expected)", first + 2, fname), 3)
  end
end

--- The ordered endpoints of a service, without connecting: a Deferred of a
-- list of `{host =, port =, priority =, weight =}`. No SRV records (NXDOMAIN
-- or an empty answer) gives `{{host = domain, port = defaultPort}}`, with
-- the service's port when `defaultPort` is not given; a single target "."
-- fails with `DNSLookupError` "service not available".
-- @tparam string service e.g. "xmpp-client"
-- @tparam string domain
-- @tparam[opt] table options `protocol` ("tcp"), `resolver` (default:
--   names.client's global one), `defaultPort`, `random` (as math.random)
-- @treturn Deferred
function M.serviceEndpoints(service, domain, options)
  checkArgs("serviceEndpoints", service, domain, options, 1)
  options = options or {}
  local protocol = options.protocol or "tcp"
  local resolver = options.resolver or require("names.client").getResolver()
  local qname = serviceName(service, protocol, domain)
  local function fallback()
    local port = options.defaultPort or M.servicePort(service, protocol)
    if not port then
      return defer.fail(endpoints.DNSLookupError(format(
        "no SRV records for %s and no default port for service %s", qname, service)))
    end
    return { { host = (domain:gsub("%.$", "")), port = port } }
  end
  return resolver:lookupService(qname):addCallbacks(function(result)
    local records = {}
    for _, rr in ipairs(result.answers or result[1] or {}) do
      if rr.type == dns.SRV and rr.payload then
        records[#records + 1] = rr.payload
      end
    end
    if #records == 1 and nameText(records[1].target) == "" then
      return defer.fail(endpoints.DNSLookupError(format("service %s not available for domain %s",
        service, domain)))
    end
    if #records == 0 then
      return fallback()
    end
    local list = {}
    for _, r in ipairs(M.orderRecords(records, options.random)) do
      if nameText(r.target) ~= "" then
        list[#list + 1] = { host = nameText(r.target), port = r.port, priority = r.priority,
          weight = r.weight }
      end
    end
    return list
  end, function(failure)
    -- as Twisted: NXDOMAIN is no SRV records
    if failure:check(errors.DNSNameError) then
      return fallback()
    end
    return failure
  end)
end

-- SRVConnector -----------------------------------------------------------------------

local SRVConnector = { __name = "names.srvconnect.SRVConnector" }
SRVConnector.__index = SRVConnector

function SRVConnector.__tostring(self)
  return format("<SRVConnector %s>", serviceName(self.service, self.protocol, self.domain))
end

--- Twisted's `SRVConnector(reactor, service, domain, factory [, options])`.
-- `connect()` looks up `_service._protocol.domain`, orders the targets by
-- RFC 2782 and connects to each in turn with a `HostnameEndpoint` (Happy
-- Eyeballs), until one connects. The factory is used as Twisted uses a
-- connector's: `startedConnecting(connector)`, `buildProtocol(address)`,
-- and when every target failed, `clientConnectionFailed(connector,
-- failure)`.
-- @tparam table reactor
-- @tparam string service e.g. "xmpp-client"
-- @tparam string domain
-- @tparam table factory with `buildProtocol`
-- @tparam[opt] table options `protocol` ("tcp"), `defaultPort`, `resolver`,
--   `timeout` (per target, 30 s), `attemptDelay`, `random`
-- @treturn SRVConnector with `connect`, `disconnect`, `stopConnecting`,
--   `getDestination`
function M.SRVConnector(reactor, service, domain, factory, options)
  if type(reactor) ~= "table" or not class.iscallable(reactor.callLater) then
    error("bad argument #1 to 'SRVConnector' (a reactor expected, got " .. type(reactor) .. ")", 2)
  end
  checkArgs("SRVConnector", service, domain, nil, 2)
  if type(factory) ~= "table" or not class.iscallable(factory.buildProtocol) then
    error("bad argument #4 to 'SRVConnector' (a factory with buildProtocol expected)", 2)
  end
  if options ~= nil and type(options) ~= "table" then
    error("bad argument #5 to 'SRVConnector' (an options table expected)", 2)
  end
  options = options or {}
  return setmetatable({ reactor = reactor, service = service, domain = domain, factory = factory,
    protocol = options.protocol or "tcp", options = options, state = "disconnected" }, SRVConnector)
end

--- Starts connecting; returns a Deferred of the connected protocol too
-- (beyond Twisted, whose connect returns nothing). Each failed target is in
-- the failure's `attempts`: `{host, port, error}`.
-- @treturn Deferred
function SRVConnector:connect()
  if self.state ~= "disconnected" then
    error("SRVConnector: can't connect in the current state (" .. self.state .. ")", 2)
  end
  self.state = "connecting"
  local factory, options = self.factory, self.options
  if factory.startedConnecting then
    factory:startedConnecting(self)
  end
  local current
  local d = defer.Deferred(function()
    if current then
      current:cancel()
    end
  end)
  self._deferred = d
  local tried = {}
  local function try(list, i)
    local target = list[i]
    if not target then
      local parts = {}
      for _, t in ipairs(tried) do
        parts[#parts + 1] = format("%s port %d: %s", t.host, t.port, tostring(t.error))
      end
      local e = endpoints.ConnectError(format("could not connect to %s: %s",
        serviceName(self.service, self.protocol, self.domain), concat(parts, "; ")))
      e.attempts = tried
      return defer.fail(e)
    end
    self.destination = { host = target.host, port = target.port, type = "TCP" }
    local ep = endpoints.HostnameEndpoint(self.reactor, target.host, target.port,
      { timeout = options.timeout, attemptDelay = options.attemptDelay, resolver = options.resolver })
    current = ep:connect(factory)
    return current:addErrback(function(failure)
      if failure:check(defer.CancelledError) then
        return failure
      end
      tried[#tried + 1] = { host = target.host, port = target.port, error = failure.value }
      return try(list, i + 1)
    end)
  end
  current = M.serviceEndpoints(self.service, self.domain, { protocol = self.protocol,
    resolver = options.resolver, defaultPort = options.defaultPort, random = options.random })
  current:addCallback(function(list)
    return try(list, 1)
  end):addCallbacks(function(protocol)
    self.state = "connected"
    self.connectedProtocol = protocol
    return protocol
  end, function(failure)
    self.state = "disconnected"
    if factory.clientConnectionFailed and not failure:check(defer.CancelledError) then
      factory:clientConnectionFailed(self, failure)
    end
    return failure
  end):chainDeferred(d)
  return d
end

--- Stops a connect in progress (lookups and attempts, every socket freed).
function SRVConnector:stopConnecting()
  if self.state ~= "connecting" then
    error("SRVConnector: not connecting", 2)
  end
  self.state = "disconnected"
  self._deferred:cancel()
end

--- Stops connecting, or closes the connection made.
function SRVConnector:disconnect()
  if self.state == "connecting" then
    self:stopConnecting()
  elseif self.state == "connected" then
    local p = self.connectedProtocol
    self.state = "disconnected"
    if p and p.transport then
      p.transport:loseConnection()
    end
  end
end

--- The target being connected to, or connected: `{host =, port =, type = "TCP"}`.
function SRVConnector:getDestination()
  return self.destination
end

return M
