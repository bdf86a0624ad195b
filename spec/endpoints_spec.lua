-- names.endpoints: RFC 6724 ordering, the Happy Eyeballs v2 race step by
-- step on a task.Clock with a scripted connect (every socket accounted
-- for), and HostnameEndpoint on real loopback connections against the
-- test zone's he-* names.
local async = require "async"
local client = require "names.client"
local core = require "names.core"
local defer = require "names.defer"
local endpoints = require "names.endpoints"
local reactor = require "names.reactor"
local task = require "names.task"
local testenv = require "testenv"

local PORT = tonumber(os.getenv("NAMES_TEST_PORT")) or 53535
local IPV6 = os.getenv("NAMES_TEST_IPV6") ~= "0"

-- Sources as RFC 6724's examples give them: each destination's source is
-- the entry of `map` for its prefix (the first that matches).
local function sources(map)
  return function(address)
    for _, entry in ipairs(map) do
      if address:sub(1, #entry[1]) == entry[1] then
        return entry[2]
      end
    end
    return nil, "no route"
  end
end

describe("endpoints.sortAddresses (RFC 6724, section 10.2's examples)", function()
  local function sorted(list, map)
    return (endpoints.sortAddresses(list, { sourceFor = sources(map) }))
  end

  it("prefers higher precedence: IPv6 before IPv4", function()
    assert.same({ "2001:db8:1::1", "198.51.100.121" },
      sorted({ "198.51.100.121", "2001:db8:1::1" },
        { { "2001:db8:1::", "2001:db8:1::2" }, { "198.51.100.", "169.254.13.78" } }))
  end)

  it("prefers a matching scope", function()
    assert.same({ "198.51.100.121", "2001:db8:1::1" },
      sorted({ "2001:db8:1::1", "198.51.100.121" },
        { { "2001:db8:1::", "fe80::1" }, { "198.51.100.", "198.51.100.117" } }))
  end)

  it("prefers higher precedence over a private IPv4 address", function()
    assert.same({ "2001:db8:1::1", "10.1.2.3" },
      sorted({ "10.1.2.3", "2001:db8:1::1" }, { { "2001:db8:1::", "2001:db8:1::2" }, { "10.", "10.1.2.4" } }))
  end)

  it("prefers the smaller scope", function()
    assert.same({ "fe80::1", "2001:db8:1::1" },
      sorted({ "2001:db8:1::1", "fe80::1" }, { { "2001:db8:1::", "2001:db8:1::2" }, { "fe80::", "fe80::2" } }))
  end)

  it("prefers the longest matching prefix", function()
    assert.same({ "2001:db8:1::1", "2001:db8:3ffe::1" },
      sorted({ "2001:db8:3ffe::1", "2001:db8:1::1" },
        { { "2001:db8:1::", "2001:db8:1::2" }, { "2001:db8:3ffe::", "2001:db8:3f44::2" } }))
  end)

  it("prefers a matching label", function()
    assert.same({ "2002:c633:6401::1", "2001:db8:1::1" },
      sorted({ "2001:db8:1::1", "2002:c633:6401::1" },
        { { "2002:", "2002:c633:6401::2" }, { "2001:", "fe80::2" } }))
  end)

  it("prefers higher precedence when both labels match", function()
    assert.same({ "2001:db8:1::1", "2002:c633:6401::1" },
      sorted({ "2002:c633:6401::1", "2001:db8:1::1" },
        { { "2002:", "2002:c633:6401::2" }, { "2001:", "2001:db8:1::2" } }))
  end)

  it("puts unreachable destinations last and says why", function()
    local list, info = endpoints.sortAddresses({ "2001:db8::1", "192.0.2.1" },
      { sourceFor = sources({ { "192.0.2.", "192.0.2.99" } }) })
    assert.same({ "192.0.2.1", "2001:db8::1" }, list)
    assert.is_false(info[2].usable)
    assert.equal("no route", info[2].why)
  end)

  it("puts ::1 before 127.0.0.1 and IPv4-mapped loopback with IPv4, by the real probe", function()
    local list = { "127.0.0.1", "::ffff:127.0.0.2" }
    if IPV6 then
      table.insert(list, 2, "::1")
    end
    local handlesBefore = #core.handles()
    local out, info = endpoints.sortAddresses(list)
    if IPV6 then
      assert.equal("::1", out[1])
      assert.equal("::1", info[1].source)
      assert.same({ 50, 0 }, { info[1].precedence, info[1].label })
    end
    for _, i in ipairs(info) do
      assert.is_true(i.usable)
      if i.address ~= "::1" then
        assert.same({ 35, 4 }, { i.precedence, i.label })
      end
    end
    -- the probe sent nothing: it opened no handle on the loop either
    assert.equal(handlesBefore, #core.handles())
  end)

  it("keeps the order of equal addresses (rule 10)", function()
    local src = sources({ { "192.0.2.", "192.0.2.99" } })
    assert.same({ "192.0.2.3", "192.0.2.1", "192.0.2.2" },
      (endpoints.sortAddresses({ "192.0.2.3", "192.0.2.1", "192.0.2.2" }, { sourceFor = src })))
  end)

  it("refuses what is not a list", function()
    assert.has_error(function() endpoints.sortAddresses("::1") end,
      "bad argument #1 to 'sortAddresses' (a list of addresses expected, got string)")
  end)
end)

describe("endpoints.interleave (RFC 8305, section 4)", function()
  it("alternates the families, starting with the first address's", function()
    assert.same({ "2001:db8::1", "192.0.2.1", "2001:db8::2", "192.0.2.2", "192.0.2.3" },
      endpoints.interleave({ "2001:db8::1", "2001:db8::2", "192.0.2.1", "192.0.2.2", "192.0.2.3" }))
  end)

  it("takes the First Address Family Count from the first family first", function()
    assert.same({ "2001:db8::1", "2001:db8::2", "192.0.2.1", "2001:db8::3" },
      endpoints.interleave({ "2001:db8::1", "2001:db8::2", "2001:db8::3", "192.0.2.1" }, 2))
  end)
end)

-- A scripted connect: each attempt is a Deferred the test fires; each is a
-- "socket" that is open until it fails, is cancelled or is closed.
local function script(clock)
  local s = { attempts = {}, open = {}, byAddress = {} }
  function s.connect(address, port)
    local a = { address = address, port = port, time = clock.seconds() }
    s.open[a] = true
    a.d = defer.Deferred(function()
      a.cancelled = true
      s.open[a] = nil
    end)
    a.d:addErrback(function(f)
      s.open[a] = nil
      return f
    end)
    s.attempts[#s.attempts + 1] = a
    s.byAddress[address] = a
    return a.d
  end
  function s.refuse(address)
    s.byAddress[address].d:errback("connection refused")
  end
  function s.accept(address)
    local a = s.byAddress[address]
    local conn = { address = address }
    function conn.close()
      conn.closed = true
      s.open[a] = nil
    end
    a.d:callback(conn)
    return conn
  end
  function s.tried()
    local out = {}
    for _, a in ipairs(s.attempts) do
      out[#out + 1] = a.address .. "@" .. string.format("%.3f", a.time)
    end
    return out
  end
  function s.openCount()
    local n = 0
    for _ in pairs(s.open) do
      n = n + 1
    end
    return n
  end
  return s
end

local globalSources = sources({ { "2001:db8:", "2001:db8::99" }, { "192.0.2.", "192.0.2.99" } })

local function race(addresses, s, clock, options)
  options = options or {}
  options.clock = clock
  options.port = options.port or 80
  options.sourceFor = options.sourceFor or globalSources
  return endpoints.race(addresses, s.connect, options)
end

local function settled(d)
  local out = {}
  d:addCallbacks(function(v)
    out.ok, out.value = true, v
    return v
  end, function(f)
    out.ok, out.failure = false, f
  end)
  return out
end

describe("endpoints.race on a task.Clock", function()
  local clock, s
  before_each(function()
    clock = task.Clock()
    s = script(clock)
  end)

  it("starts at once with IPv6, interleaves, and starts one attempt every 250 ms", function()
    local d = race({ "192.0.2.1", "192.0.2.2", "2001:db8::1", "2001:db8::2" }, s, clock)
    local out = settled(d)
    assert.same({ "2001:db8::1@0.000" }, s.tried())
    clock:advance(0.249)
    assert.equal(1, #s.attempts)
    clock:pump({ 0.001, 0.25, 0.25 })
    assert.same({ "2001:db8::1@0.000", "192.0.2.1@0.250", "2001:db8::2@0.500", "192.0.2.2@0.750" }, s.tried())
    assert.equal(4, s.openCount())
    -- the third connects: the others are cancelled and their sockets freed
    local conn = s.accept("2001:db8::2")
    assert.is_true(out.ok)
    assert.equal(conn, out.value)
    assert.equal(1, s.openCount())
    assert.is_true(s.byAddress["192.0.2.1"].cancelled)
    assert.is_true(s.byAddress["2001:db8::1"].cancelled)
    assert.same({}, clock:getDelayedCalls())
    assert.equal("2001:db8::2", d.address)
    local outcomes = {}
    for _, a in ipairs(d.attempts) do
      outcomes[#outcomes + 1] = a.outcome
    end
    assert.same({ "cancelled", "cancelled", "connected", "cancelled" }, outcomes)
  end)

  it("starts the next attempt at once when one fails", function()
    local d = race({ "2001:db8::1", "192.0.2.1", "2001:db8::2" }, s, clock)
    settled(d)
    clock:advance(0.1)
    s.refuse("2001:db8::1")
    assert.same({ "2001:db8::1@0.000", "192.0.2.1@0.100" }, s.tried())
    -- and the attempt delay counts from that new attempt
    clock:advance(0.249)
    assert.equal(2, #s.attempts)
    clock:advance(0.001)
    assert.same("2001:db8::2@0.350", s.tried()[3])
    d:cancel()
    assert.equal(0, s.openCount())
  end)

  it("clamps the attempt delay to 100 ms - 2 s", function()
    race({ "192.0.2.1", "192.0.2.2" }, s, clock, { attemptDelay = 0.01 })
    clock:advance(0.099)
    assert.equal(1, #s.attempts)
    clock:advance(0.001)
    assert.equal(2, #s.attempts)
    local clock2 = task.Clock()
    local s2 = script(clock2)
    race({ "192.0.2.1", "192.0.2.2" }, s2, clock2, { attemptDelay = 10 })
    clock2:advance(1.999)
    assert.equal(1, #s2.attempts)
    clock2:advance(0.001)
    assert.equal(2, #s2.attempts)
  end)

  it("waits the 50 ms Resolution Delay for AAAA when A answers first", function()
    local aaaa, a = defer.Deferred(), defer.Deferred()
    local d = race({ AAAA = aaaa, A = a }, s, clock)
    settled(d)
    clock:advance(0.01)
    a:callback({ "192.0.2.1" })
    clock:advance(0.049)
    assert.equal(0, #s.attempts)
    -- AAAA comes within the delay: IPv6 first, at once
    aaaa:callback({ "2001:db8::1" })
    assert.same({ "2001:db8::1@0.059" }, s.tried())
    clock:advance(0.25)
    assert.same({ "2001:db8::1@0.059", "192.0.2.1@0.309" }, s.tried())
    d:cancel()
    assert.equal(0, s.openCount())
    assert.same({}, clock:getDelayedCalls())
  end)

  it("starts with IPv4 after the Resolution Delay, and takes IPv6 addresses that come later", function()
    local aaaa, a = defer.Deferred(), defer.Deferred()
    local d = race({ AAAA = aaaa, A = a }, s, clock)
    settled(d)
    a:callback({ "192.0.2.1", "192.0.2.2" })
    clock:advance(0.05)
    assert.same({ "192.0.2.1@0.050" }, s.tried())
    clock:advance(0.05)
    aaaa:callback({ "2001:db8::1" })
    -- no new attempt before the attempt delay from the last one
    assert.equal(1, #s.attempts)
    clock:advance(0.2)
    assert.same({ "192.0.2.1@0.050", "2001:db8::1@0.300" }, s.tried())
    clock:advance(0.25)
    assert.same("192.0.2.2@0.550", s.tried()[3])
    d:cancel()
    assert.equal(0, s.openCount())
  end)

  it("starts with IPv4 at once when AAAA answers with no address", function()
    local aaaa, a = defer.Deferred(), defer.Deferred()
    local out = settled(race({ AAAA = aaaa, A = a }, s, clock))
    a:callback({ "192.0.2.1" })
    clock:advance(0.02)
    aaaa:callback({})
    assert.same({ "192.0.2.1@0.020" }, s.tried())
    s.accept("192.0.2.1")
    assert.is_true(out.ok)
    assert.same({}, clock:getDelayedCalls())
  end)

  it("starts when addresses arrive after every earlier one has failed", function()
    local aaaa, a = defer.Deferred(), defer.Deferred()
    local out = settled(race({ AAAA = aaaa, A = a }, s, clock))
    a:callback({ "192.0.2.1" })
    clock:advance(0.05)
    s.refuse("192.0.2.1")
    clock:advance(0.01)
    assert.is_nil(out.ok) -- AAAA may still bring addresses
    aaaa:callback({ "2001:db8::1" })
    assert.same({ "192.0.2.1@0.050", "2001:db8::1@0.060" }, s.tried())
    s.refuse("2001:db8::1")
    assert.is_false(out.ok)
    local e = out.failure.value
    assert.is_truthy(out.failure:check(endpoints.ConnectError))
    assert.equal("refused", e.attempts[1].outcome)
    assert.equal(
      "could not connect to the addresses: 192.0.2.1:80 refused after 0.000s; [2001:db8::1]:80 refused after 0.000s",
      e.args[1])
  end)

  it("fails with every attempt and what it did when all fail", function()
    local out = settled(race({ "2001:db8::1", "192.0.2.1" }, s, clock, { name = "www.example.test" }))
    clock:advance(0.02)
    s.refuse("2001:db8::1")
    clock:advance(0.03)
    s.byAddress["192.0.2.1"].d:errback("host is unreachable")
    assert.is_false(out.ok)
    assert.equal("could not connect to www.example.test port 80: [2001:db8::1]:80 refused after 0.020s;"
      .. " 192.0.2.1:80 unreachable after 0.030s", out.failure.value.args[1])
    assert.same({}, clock:getDelayedCalls())
    assert.equal(0, s.openCount())
  end)

  it("fails with DNSLookupError when no family has an address", function()
    local aaaa, a = defer.Deferred(), defer.Deferred()
    local out = settled(race({ AAAA = aaaa, A = a }, s, clock, { name = "nothing.test" }))
    aaaa:callback({})
    a:errback(require("names.error").DNSNameError())
    assert.is_false(out.ok)
    assert.is_truthy(out.failure:check(endpoints.DNSLookupError))
    assert.is_truthy(out.failure.value.args[1]:find("no address for nothing.test (AAAA: no address; A:", 1, true))
  end)

  it("times out as a whole, and lists the attempts still connecting as timed out", function()
    local out = settled(race({ "2001:db8::1", "192.0.2.1" }, s, clock, { timeout = 1 }))
    clock:advance(0.999)
    assert.is_nil(out.ok)
    clock:advance(0.001)
    assert.is_false(out.ok)
    assert.is_truthy(out.failure:check(endpoints.ConnectingTimeoutError))
    assert.is_truthy(out.failure:check(defer.TimeoutError))
    assert.equal("timed out", out.failure.value.attempts[1].outcome)
    assert.equal(0, s.openCount())
    assert.same({}, clock:getDelayedCalls())
  end)

  it("cancels the lookups when cancelled while resolving", function()
    local cancelled = {}
    local aaaa = defer.Deferred(function() cancelled.aaaa = true end)
    local a = defer.Deferred(function() cancelled.a = true end)
    local d = race({ AAAA = aaaa, A = a }, s, clock, { timeout = 5 })
    local out = settled(d)
    d:cancel()
    assert.same({ aaaa = true, a = true }, cancelled)
    assert.is_truthy(out.failure:check(defer.CancelledError))
    assert.same({}, clock:getDelayedCalls())
  end)

  it("stops the Resolution Delay when cancelled during it", function()
    local aaaa = defer.Deferred()
    local a = defer.Deferred()
    local d = race({ AAAA = aaaa, A = a }, s, clock, { timeout = 5 })
    settled(d)
    a:callback({ "192.0.2.1" })
    assert.equal(2, #clock:getDelayedCalls()) -- the delay and the timeout
    d:cancel()
    assert.same({}, clock:getDelayedCalls())
    clock:advance(1)
    assert.equal(0, #s.attempts)
  end)

  it("cancels every attempt in flight when cancelled", function()
    local d = race({ "2001:db8::1", "192.0.2.1", "2001:db8::2" }, s, clock, { timeout = 5 })
    settled(d)
    clock:pump({ 0.25, 0.25 })
    assert.equal(3, s.openCount())
    d:cancel()
    assert.equal(0, s.openCount())
    assert.same({}, clock:getDelayedCalls())
  end)

  it("tries the hints until the lookup answers, then the real addresses", function()
    local aaaa, a = defer.Deferred(), defer.Deferred()
    local d = race({ AAAA = aaaa, A = a }, s, clock, { hints = { "2001:db8::7", "2001:db8::8" } })
    settled(d)
    assert.same({ "2001:db8::7@0.000" }, s.tried())
    aaaa:callback({ "2001:db8::1" })
    a:callback({})
    clock:advance(0.25)
    -- ::8 was only a hint: the answer replaced it
    assert.same({ "2001:db8::7@0.000", "2001:db8::1@0.250" }, s.tried())
    clock:advance(1)
    assert.equal(2, #s.attempts)
    d:cancel()
  end)

  it("races sockets through a callback connect, and closes a connection that comes too late", function()
    local pendingDone, cancelled, closed = {}, {}, {}
    local d = endpoints.race({ "192.0.2.1", "192.0.2.2" }, function(address, port, done)
      pendingDone[address] = done
      assert.equal(443, port)
      return function() cancelled[address] = true end
    end, { callback = true, port = 443, clock = clock, sourceFor = globalSources,
      close = function(conn) closed[#closed + 1] = conn end })
    local out = settled(d)
    clock:advance(0.25)
    pendingDone["192.0.2.2"](nil, "conn2")
    assert.equal("conn2", out.value)
    assert.same({ ["192.0.2.1"] = true }, cancelled)
    -- the loser's code ignored the cancel and connected anyway
    pendingDone["192.0.2.1"](nil, "conn1")
    assert.same({ "conn1" }, closed)
  end)

  it("names a bad argument", function()
    assert.has_error(function() endpoints.race("x", s.connect) end)
    assert.has_error(function() endpoints.race({ "nope" }, s.connect, { clock = clock }) end,
      "bad argument #1 to 'race' (address 1: an IP address expected, got 'nope')")
    assert.has_error(function() endpoints.race({}, s.connect, { bogus = 1 }) end,
      "bad argument #3 to 'race' (unknown option 'bogus')")
  end)
end)

-- A reactor for HostnameEndpoint on a task.Clock: connectTCP hands each
-- attempt to the test, and counts the connections open.
local function fakeReactor(clock)
  local r = { callLater = clock.callLater, seconds = clock.seconds, attempts = {}, open = 0 }
  function r.connectTCP(host, port, factory)
    local conn = { peer = { host, port }, closed = false }
    local connector = { transport = conn }
    r.open = r.open + 1
    function conn.loseConnection()
      if not conn.closed then
        conn.closed = true
        r.open = r.open - 1
      end
    end
    function connector.disconnect()
      conn:loseConnection()
    end
    local attempt = { host = host, port = port, time = clock.seconds(), conn = conn }
    function attempt.succeed()
      local p = factory:buildProtocol({ host, port })
      connector.protocol = p
      p:makeConnection(conn)
      return p
    end
    function attempt.fail(reason)
      conn.closed = true
      r.open = r.open - 1
      factory:clientConnectionFailed(connector, reason)
    end
    r.attempts[#r.attempts + 1] = attempt
    return connector
  end
  return r
end

-- A resolver whose answers the test gives.
local function fakeResolver()
  local dns = require "names.dns"
  local common = require "names.common"
  local r = { asked = {} }
  local function lookup(rtype)
    return function(_, name)
      local d = defer.Deferred(function() r.asked[name .. "/" .. rtype].cancelled = true end)
      r.asked[name .. "/" .. rtype] = { d = d }
      return d
    end
  end
  r.lookupAddress = lookup("A")
  r.lookupIPV6Address = lookup("AAAA")
  function r.answer(name, rtype, addresses)
    local rrs = {}
    for _, a in ipairs(addresses) do
      local payload = rtype == "A" and dns.Record_A(a, 60) or dns.Record_AAAA(a, 60)
      rrs[#rrs + 1] = dns.RRHeader(name, rtype == "A" and dns.A or dns.AAAA, dns.IN, 60, payload)
    end
    r.asked[name .. "/" .. rtype].d:callback(common.Result(rrs, {}, {}))
  end
  return r
end

local function protocolFactory()
  local f = { built = {} }
  function f.buildProtocol(_, address)
    local p = { address = address, received = {} }
    function p.makeConnection(self, transport)
      self.transport = transport
    end
    function p.dataReceived(self, data)
      self.received[#self.received + 1] = data
    end
    f.built[#f.built + 1] = p
    return p
  end
  return f
end

describe("HostnameEndpoint on a task.Clock", function()
  it("asks AAAA and A at once, races, and builds the protocol of the winner only", function()
    local clock = task.Clock()
    local r = fakeReactor(clock)
    local resolver = fakeResolver()
    local ep = endpoints.HostnameEndpoint(r, "www.example.test", 8080,
      { resolver = resolver, sourceFor = globalSources })
    local factory = protocolFactory()
    local out = settled(ep:connect(factory))
    assert.is_truthy(resolver.asked["www.example.test/AAAA"])
    assert.is_truthy(resolver.asked["www.example.test/A"])
    resolver.answer("www.example.test", "A", { "192.0.2.10" })
    resolver.answer("www.example.test", "AAAA", { "2001:db8::10" })
    clock:advance(0.25)
    assert.equal(2, #r.attempts)
    assert.same({ "2001:db8::10", "192.0.2.10" }, { r.attempts[1].host, r.attempts[2].host })
    r.attempts[2].succeed()
    assert.is_true(out.ok)
    assert.equal(1, #factory.built)
    assert.equal(factory.built[1], out.value)
    assert.equal("192.0.2.10", out.value.address.host)
    assert.equal(8080, out.value.address.port)
    assert.equal(1, r.open) -- the loser's socket is closed
    assert.is_true(r.attempts[1].conn.closed)
    assert.same({}, clock:getDelayedCalls())
  end)

  it("skips DNS for a literal address", function()
    local clock = task.Clock()
    local r = fakeReactor(clock)
    local resolver = fakeResolver()
    local ep = endpoints.HostnameEndpoint(r, "[2001:db8::5]", 22, { resolver = resolver })
    local out = settled(ep:connect(protocolFactory()))
    assert.same({}, resolver.asked)
    assert.equal("2001:db8::5", r.attempts[1].host)
    r.attempts[1].fail("connection refused")
    assert.is_truthy(out.failure:check(endpoints.ConnectError))
  end)

  it("frees every socket and timer when cancelled at each stage", function()
    for stage = 1, 3 do
      local clock = task.Clock()
      local r = fakeReactor(clock)
      local resolver = fakeResolver()
      local ep = endpoints.HostnameEndpoint(r, "www.example.test", 80,
        { resolver = resolver, sourceFor = globalSources })
      local d = ep:connect(protocolFactory())
      local out = settled(d)
      if stage >= 2 then
        resolver.answer("www.example.test", "A", { "192.0.2.1", "192.0.2.2" })
      end
      if stage >= 3 then
        clock:pump({ 0.05, 0.25 }) -- the resolution delay, then two attempts
        assert.equal(2, r.open)
      end
      d:cancel()
      assert.is_truthy(out.failure:check(defer.CancelledError), "stage " .. stage)
      assert.equal(0, r.open, "stage " .. stage)
      assert.same({}, clock:getDelayedCalls(), "stage " .. stage)
      assert.is_true(resolver.asked["www.example.test/AAAA"].cancelled, "stage " .. stage)
    end
  end)

  it("fails with NoProtocol when the factory builds none, closing the connection", function()
    local clock = task.Clock()
    local r = fakeReactor(clock)
    local ep = endpoints.HostnameEndpoint(r, "192.0.2.1", 80)
    local out = settled(ep:connect({ buildProtocol = function() return nil end }))
    r.attempts[1].succeed()
    assert.is_truthy(out.failure:check(endpoints.NoProtocol))
    assert.equal(0, r.open)
  end)

  it("checks its arguments", function()
    assert.has_error(function() endpoints.HostnameEndpoint(reactor, "x", 0) end,
      "bad argument #3 to 'HostnameEndpoint' (port: 1..65535 expected)")
    assert.has_error(function() endpoints.HostnameEndpoint(reactor, "x", 80, { bogus = 1 }) end,
      "bad argument #4 to 'HostnameEndpoint' (unknown option 'bogus')")
    assert.has_error(function() endpoints.HostnameEndpoint(reactor, "x", 80, { bindAddress = { "nope", 0 } }) end,
      "bad argument #4 to 'HostnameEndpoint' (bindAddress: {host, port} with an IP address expected)")
    assert.has_error(function() endpoints.HostnameEndpoint(reactor, "x", 80):connect({}) end,
      "bad argument #1 to 'connect' (a factory with buildProtocol expected)")
  end)
end)

-- Real connections ---------------------------------------------------------------------

local LISTEN = 55820

-- Starts spec/support/tcp_listener.lua on `addresses`; returns a stop function.
local function listen(addresses)
  local root = os.getenv("NAMES_TEST_ROOT") or "."
  local cmd = "exec lua5.4 " .. root .. "/spec/support/tcp_listener.lua 30 " .. table.concat(addresses, " ")
  local p = assert(io.popen(cmd, "r"))
  local line = p:read("l")
  local pid = line and line:match("^(%d+) ready$")
  assert(pid, "the listener did not start: " .. tostring(line))
  return function()
    os.execute("kill " .. pid)
    p:close()
  end
end

local function hasLuv()
  return pcall(require, "luv") and true
end

-- The loop's handle count once what earlier tests left to the collector
-- is gone (a resolver collected mid-test would close its sockets and make
-- the count drop below the baseline).
-- The handles open on the loop but a resolver's idle UDP sockets, which it
-- keeps (unreferenced) for its next query: no leak.
local function live()
  return #core.handles(true)
end

local function baseline()
  collectgarbage()
  collectgarbage()
  local n
  repeat
    n = live()
    async.loopUntil(function() return false end, 0.02)
  until live() == n
  return n
end

describe("HostnameEndpoint on loopback", function()
  local resolver, stop, hostsFile

  setup(function()
    if not hasLuv() then
      return
    end
    hostsFile = os.tmpname()
    local f = assert(io.open(hostsFile, "w"))
    f:write("127.0.0.1 localhost\n::1 localhost\n")
    f:close()
    resolver = client.createResolver{ servers = { { "127.0.0.1", PORT } }, hosts = hostsFile }
    local addresses = { "127.0.0.1:" .. LISTEN, "127.0.0.3:" .. LISTEN, "127.0.0.1:" .. (LISTEN + 1) }
    if IPV6 then
      addresses[#addresses + 1] = "[::1]:" .. (LISTEN + 1)
    end
    stop = listen(addresses)
  end)

  teardown(function()
    if stop then
      stop()
    end
    if hostsFile then
      os.remove(hostsFile)
    end
  end)

  local function connect(host, port, options)
    options = options or {}
    options.resolver = options.resolver or resolver
    local factory = protocolFactory()
    local ep = endpoints.HostnameEndpoint(reactor, host, port, options)
    local d = ep:connect(factory)
    local ok, value = async.settle(d)
    return ok, value, d
  end

  local function received(p)
    async.loopUntil(function() return #p.received > 0 end, 5)
    return p.received[1]
  end

  local function closeAndCount(p, before)
    p.transport:loseConnection()
    assert.is_true(async.loopUntil(function() return live() == before end, 5),
      "handles left: " .. live() .. " (was " .. before .. ")")
  end

  it("connects over IPv4 at once when IPv6 refuses", function()
    if not hasLuv() then return pending("lua-luv is not installed") end
    local before = baseline()
    local ok, p, d = connect("he-refuse6.example.test", LISTEN)
    assert.is_true(ok, tostring(p))
    assert.equal("hello 127.0.0.1:" .. LISTEN, received(p))
    if IPV6 and d.attempts[1].address == "127.0.0.1" then
      -- AAAA came after the Resolution Delay (a loaded machine): IPv4 won alone
      assert.equal("connected", d.attempts[1].outcome)
    elseif IPV6 then
      -- the refusal started the IPv4 attempt as soon as its address was
      -- known, not when the 250 ms attempt delay ran out
      local first, second = d.attempts[1], d.attempts[2]
      assert.same({ "::1", "refused", "127.0.0.1", "connected" },
        { first.address, first.outcome, second.address, second.outcome })
      assert.is_true(second.started - first.started < 0.24, second.started - first.started)
    end
    closeAndCount(p, before)
  end)

  it("connects to a name with IPv4 addresses only", function()
    if not hasLuv() then return pending("lua-luv is not installed") end
    local before = baseline()
    local ok, p = connect("he-v4only.example.test", LISTEN)
    assert.is_true(ok, tostring(p))
    assert.equal("127.0.0.1", p.address.host)
    closeAndCount(p, before)
  end)

  it("tries the several addresses of a name in turn until one listens", function()
    if not hasLuv() then return pending("lua-luv is not installed") end
    local before = baseline()
    local ok, p, d = connect("he-many.example.test", LISTEN)
    assert.is_true(ok, tostring(p))
    -- only 127.0.0.3 listens: reached as ::ffff:127.0.0.3 or 127.0.0.3
    assert.equal("hello 127.0.0.3:" .. LISTEN, received(p))
    if IPV6 then
      assert.equal("::1", d.attempts[1].address) -- the highest precedence
    end
    -- (which family comes next depends on which answer came first)
    for i, a in ipairs(d.attempts) do
      assert.equal(i == #d.attempts and "connected" or "refused", a.outcome)
    end
    closeAndCount(p, before)
  end)

  it("orders and interleaves real attempts as RFC 6724 and RFC 8305 say", function()
    if not hasLuv() then return pending("lua-luv is not installed") end
    if not IPV6 then return pending("no ::1 on this machine") end
    local before = baseline()
    -- the answers at once, in a known order (named rotates its RRsets)
    local fake = fakeResolver()
    local ep = endpoints.HostnameEndpoint(reactor, "he-many.example.test", LISTEN, { resolver = fake })
    local d = ep:connect(protocolFactory())
    fake.answer("he-many.example.test", "AAAA", { "::1", "::ffff:127.0.0.2", "::ffff:127.0.0.3" })
    fake.answer("he-many.example.test", "A", { "127.0.0.2", "127.0.0.3", "127.0.0.4" })
    local ok, p = async.settle(d)
    assert.is_true(ok, tostring(p))
    local tried = {}
    for _, a in ipairs(d.attempts) do
      tried[#tried + 1] = a.address .. " " .. a.outcome
    end
    -- ::1 first (precedence 50), then the families in turn (all at 35,
    -- IPv4-mapped or IPv4, in the answers' order)
    assert.same({ "::1 refused", "127.0.0.2 refused", "::ffff:127.0.0.2 refused", "127.0.0.3 connected" }, tried)
    closeAndCount(p, before)
  end)

  it("takes localhost from the hosts file", function()
    if not hasLuv() then return pending("lua-luv is not installed") end
    local before = baseline()
    local ok, p, d = connect("localhost", LISTEN + 1)
    assert.is_true(ok, tostring(p))
    assert.equal(IPV6 and "::1" or "127.0.0.1", d.attempts[1].address)
    closeAndCount(p, before)
  end)

  it("fails with every address and what it did", function()
    if not hasLuv() then return pending("lua-luv is not installed") end
    local before = baseline()
    local ok, failure = connect("he-refuse6.example.test", LISTEN + 5)
    assert.is_false(ok)
    assert.is_truthy(failure:check(endpoints.ConnectError))
    local text = failure.value.args[1]
    assert.is_truthy(text:find("127.0.0.1:" .. (LISTEN + 5) .. " refused", 1, true), text)
    if IPV6 then
      assert.is_truthy(text:find("[::1]:" .. (LISTEN + 5) .. " refused", 1, true), text)
    end
    assert.is_true(async.loopUntil(function() return live() == before end, 5))
  end)

  it("fails with DNSLookupError for a name without addresses", function()
    if not hasLuv() then return pending("lua-luv is not installed") end
    local ok, failure = connect("missing.example.test", LISTEN)
    assert.is_false(ok)
    assert.is_truthy(failure:check(endpoints.DNSLookupError))
  end)

  it("frees every handle when cancelled during the lookups and during the attempts", function()
    if not hasLuv() then return pending("lua-luv is not installed") end
    local before = baseline()
    for _, delay in ipairs({ 0, 0.001 }) do
      local ep = endpoints.HostnameEndpoint(reactor, "he-many.example.test", LISTEN + 7, { resolver = resolver })
      local d = ep:connect(protocolFactory())
      d:addErrback(function() end)
      if delay > 0 then
        async.loopUntil(function() return #d.attempts > 0 end, 5)
      end
      d:cancel()
      assert.is_true(async.loopUntil(function() return live() == before end, 5),
        "handles left after a cancel: " .. live() .. " (was " .. before .. ")")
    end
    -- an attempt on the wire: a listener that never accepts would be
    -- needed to hold it; a literal to a listening port cancelled before
    -- the loop runs frees its socket too
    local ep = endpoints.HostnameEndpoint(reactor, "127.0.0.1", LISTEN)
    local d = ep:connect(protocolFactory())
    d:addErrback(function() end)
    d:cancel()
    assert.is_true(async.loopUntil(function() return live() == before end, 5))
  end)
end)

describe("real attempts that hang", function()
  local stop
  local P = LISTEN + 30
  setup(function()
    if hasLuv() then
      -- 127.0.0.5 takes no connection (its SYNs are dropped); 127.0.0.6 does
      stop = listen({ "127.0.0.5:" .. P .. "/hang", "127.0.0.6:" .. P .. "/peer" })
    end
  end)
  teardown(function()
    if stop then stop() end
  end)

  it("start the next attempt after the Connection Attempt Delay, and the loser's socket is closed", function()
    if not hasLuv() then return pending("lua-luv is not installed") end
    local before = baseline()
    local fake = fakeResolver()
    local ep = endpoints.HostnameEndpoint(reactor, "two.test", P,
      { resolver = fake, bindAddress = { "127.0.0.9", 0 } })
    local d = ep:connect(protocolFactory())
    fake.answer("two.test", "AAAA", {})
    fake.answer("two.test", "A", { "127.0.0.5", "127.0.0.6" })
    local ok, p = async.settle(d)
    assert.is_true(ok, tostring(p))
    local first, second = d.attempts[1], d.attempts[2]
    assert.same({ "127.0.0.5", "cancelled", "127.0.0.6", "connected" },
      { first.address, first.outcome, second.address, second.outcome })
    -- 250 ms apart (the loop's timer may fire a little late, never early)
    local gap = second.started - first.started
    assert.is_true(gap >= 0.249 and gap < 0.5, gap)
    async.loopUntil(function() return #p.received > 0 end, 5)
    -- from the bound address
    assert.equal("hello 127.0.0.6:" .. P .. " from 127.0.0.9", p.received[1])
    p.transport:loseConnection()
    assert.is_true(async.loopUntil(function() return live() == before end, 5),
      "handles left: " .. live() .. " (was " .. before .. ")")
  end)

  it("free their sockets when the connect is cancelled", function()
    if not hasLuv() then return pending("lua-luv is not installed") end
    local before = baseline()
    local d = endpoints.HostnameEndpoint(reactor, "127.0.0.5", P):connect(protocolFactory())
    local out = settled(d)
    async.loopUntil(function() return false end, 0.1) -- the attempt is on the wire
    assert.is_nil(out.ok)
    assert.is_true(live() > before)
    d:cancel()
    assert.is_truthy(out.failure:check(defer.CancelledError))
    assert.equal("cancelled", d.attempts[1].outcome)
    assert.is_true(async.loopUntil(function() return live() == before end, 5))
  end)

  it("time out as a whole after the endpoint's timeout", function()
    if not hasLuv() then return pending("lua-luv is not installed") end
    local before = baseline()
    local d = endpoints.HostnameEndpoint(reactor, "127.0.0.5", P, { timeout = 0.2 }):connect(protocolFactory())
    local ok, failure = async.settle(d)
    assert.is_false(ok)
    assert.is_truthy(failure:check(endpoints.ConnectingTimeoutError))
    assert.is_truthy(failure.value.args[1]:find("127.0.0.5:" .. P .. " timed out after", 1, true),
      failure.value.args[1])
    assert.is_true(async.loopUntil(function() return live() == before end, 5))
  end)

  it("time out in reactor.connectTCP after its timeout", function()
    if not hasLuv() then return pending("lua-luv is not installed") end
    local before = baseline()
    local reason
    reactor.connectTCP("127.0.0.5", P, { buildProtocol = function() return {} end,
      clientConnectionFailed = function(_, _, r) reason = r end }, 0.2)
    assert.is_true(async.loopUntil(function() return reason ~= nil end, 5))
    assert.equal("connection timed out", reason)
    assert.is_true(async.loopUntil(function() return live() == before end, 5))
  end)
end)

describe("reactor.connectTCP's timeout and bindAddress", function()
  it("cancels its timer once connected", function()
    if not hasLuv() then return pending("lua-luv is not installed") end
    local stop = listen({ "127.0.0.1:" .. (LISTEN + 31) .. "/peer" })
    local got
    local calls = #reactor.getDelayedCalls()
    local connector = reactor.connectTCP("127.0.0.1", LISTEN + 31, { buildProtocol = function()
      return { dataReceived = function(_, data) got = data end }
    end }, 10, { "127.0.0.7", 0 })
    assert.equal(calls + 1, #reactor.getDelayedCalls())
    async.loopUntil(function() return got ~= nil end, 5)
    stop()
    assert.equal("hello 127.0.0.1:" .. (LISTEN + 31) .. " from 127.0.0.7", got)
    assert.equal(calls, #reactor.getDelayedCalls())
    connector.disconnect()
  end)

  it("names a bad timeout or bindAddress", function()
    local f = { buildProtocol = function() end }
    assert.has_error(function() reactor.connectTCP("127.0.0.1", 9, f, -1) end,
      "bad argument #4 to 'connectTCP' (timeout: seconds expected)")
    assert.has_error(function() reactor.connectTCP("127.0.0.1", 9, f, nil, { "x" }) end,
      "bad argument #5 to 'connectTCP' (bindAddress: an IP address expected, got 'x')")
    assert.has_error(function() reactor.connectTCP("127.0.0.1", 9, f, nil, "127.0.0.1") end,
      "bad argument #5 to 'connectTCP' (bindAddress: {host, port} expected)")
    assert.has_error(function() reactor.connectTCP("127.0.0.1", 9, f, nil, { "::1", 0 }) end,
      "bad argument #5 to 'connectTCP' (bindAddress: not of the host's address family)")
  end)
end)

describe("HostnameEndpoint with HTTPS records", function()
  it("takes the port and the ALPN list from the name's HTTPS record", function()
    if not hasLuv() then return pending("lua-luv is not installed") end
    local stop = listen({ "127.0.0.1:55815" })
    local resolver = client.createResolver{ servers = { { "127.0.0.1", PORT } }, hosts = "/dev/null" }
    local before = baseline()
    local factory = protocolFactory()
    local ep = endpoints.HostnameEndpoint(reactor, "svc-he.example.test", 443, { resolver = resolver, https = true })
    local ok, p = async.settle(ep:connect(factory))
    stop()
    assert.is_true(ok, tostring(p) .. " " .. tostring(p.value))
    assert.equal(55815, p.address.port)
    assert.same({ "h2", "http/1.1" }, p.address.alpn)
    p.transport:loseConnection()
    assert.is_true(async.loopUntil(function() return live() == before end, 5))
  end)
end)

local _ = testenv
