-- names.srvconnect: RFC 2782 ordering (with a fixed-seed statistical
-- check), the endpoint list from the test zone's SRV records, and
-- SRVConnector connecting on loopback with fallback across targets.
local async = require "async"
local client = require "names.client"
local core = require "names.core"
local dns = require "names.dns"
local endpoints = require "names.endpoints"
local reactor = require "names.reactor"
local srvconnect = require "names.srvconnect"

local PORT = tonumber(os.getenv("NAMES_TEST_PORT")) or 53535

local function srv(priority, weight, port, target)
  return dns.Record_SRV(priority, weight, port, target)
end

describe("srvconnect.orderRecords (RFC 2782)", function()
  it("orders by priority, lowest first", function()
    local out = srvconnect.orderRecords({ srv(20, 0, 1, "c"), srv(5, 0, 1, "a"), srv(10, 0, 1, "b") })
    assert.same({ "a", "b", "c" }, { out[1].target.name, out[2].target.name, out[3].target.name })
  end)

  it("picks within a priority in proportion to weight, weight 0 only by a draw of 0", function()
    math.randomseed(20261204)
    local records = { srv(10, 60, 1, "w60"), srv(10, 30, 1, "w30"), srv(10, 10, 1, "w10"),
      srv(10, 0, 1, "w0"), srv(20, 0, 1, "backup") }
    local first, n = {}, 20000
    for _ = 1, n do
      local out = srvconnect.orderRecords(records)
      local t = out[1].target.name
      first[t] = (first[t] or 0) + 1
      assert.equal("backup", out[5].target.name)
    end
    -- the draw is uniform over 0..101: weight w is first with p = w/101,
    -- weight 0 with p = 1/101 (the draw of 0); 4 standard deviations
    local expected = { w60 = 60 / 101, w30 = 30 / 101, w10 = 10 / 101, w0 = 1 / 101 }
    for name, p in pairs(expected) do
      local sd = math.sqrt(n * p * (1 - p))
      local got = first[name] or 0
      assert.is_true(math.abs(got - n * p) < 4 * sd,
        ("%s first %d times of %d, expected about %.0f"):format(name, got, n, n * p))
    end
    math.randomseed() -- the other specs get an unpredictable generator again
  end)

  it("takes weight-0 records in turn when their priority has only them", function()
    local out = srvconnect.orderRecords({ srv(0, 0, 1, "a"), srv(0, 0, 1, "b") }, function() return 0 end)
    assert.same({ "a", "b" }, { out[1].target.name, out[2].target.name })
  end)
end)

describe("srvconnect.serviceEndpoints", function()
  local resolver
  setup(function()
    resolver = client.Resolver{ servers = { { "127.0.0.1", PORT } } }
  end)

  it("lists the targets of the test zone by priority", function()
    local list = async.wait(srvconnect.serviceEndpoints("ep", "srv.example.test", { resolver = resolver }))
    assert.equal(5, #list)
    local seen = {}
    for i = 1, 4 do
      assert.equal(10, list[i].priority)
      seen[list[i].host .. ":" .. list[i].port] = true
    end
    assert.same({ ["he-v4only.example.test:55810"] = true, ["he-refuse6.example.test:55810"] = true,
      ["he-many.example.test:55810"] = true, ["he-many.example.test:55811"] = true }, seen)
    assert.same({ host = "he-v4only.example.test", port = 55812, priority = 20, weight = 0 }, list[5])
  end)

  it("falls back to the domain on the service's default port without SRV records", function()
    local list = async.wait(srvconnect.serviceEndpoints("http", "he-v4only.example.test", { resolver = resolver }))
    assert.same({ { host = "he-v4only.example.test", port = 80 } }, list)
    list = async.wait(srvconnect.serviceEndpoints("nosuch", "he-v4only.example.test",
      { resolver = resolver, defaultPort = 4242 }))
    assert.same({ { host = "he-v4only.example.test", port = 4242 } }, list)
  end)

  it("fails with 'service not available' for a single target '.'", function()
    local f = async.failure(srvconnect.serviceEndpoints("gone", "srv.example.test", { resolver = resolver }))
    assert.is_truthy(f:check(endpoints.DNSLookupError))
    assert.equal("service gone not available for domain srv.example.test", f.value.args[1])
  end)

  it("knows service ports from the services file", function()
    local path = os.tmpname()
    local file = assert(io.open(path, "w"))
    file:write("# comment\nfoo-svc\t7777/tcp\tfoo-alias # tail\nfoo-svc\t7778/udp\n")
    file:close()
    assert.equal(7777, srvconnect.servicePort("foo-alias", "tcp", path))
    assert.equal(7778, srvconnect.servicePort("foo-svc", "udp", path))
    assert.is_nil(srvconnect.servicePort("bar", "tcp", path))
    assert.equal(5222, srvconnect.servicePort("xmpp-client"))
    os.remove(path)
  end)
end)

-- The loop's handle count once what earlier tests left to the collector is gone.
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

describe("srvconnect.SRVConnector on loopback", function()
  local function hasLuv()
    return pcall(require, "luv") and true
  end

  it("falls back to the next target when the first refuses, and calls the factory as Twisted", function()
    if not hasLuv() then return pending("lua-luv is not installed") end
    local root = os.getenv("NAMES_TEST_ROOT") or "."
    local p = assert(io.popen("exec lua5.4 " .. root .. "/spec/support/tcp_listener.lua 30 127.0.0.1:55814"))
    local pid = assert(p:read("l"):match("^(%d+) ready$"))
    local resolver = client.createResolver{ servers = { { "127.0.0.1", PORT } }, hosts = "/dev/null" }
    local before = baseline()
    local events = {}
    local factory = {
      startedConnecting = function(_, c) events[#events + 1] = "started " .. tostring(c.service) end,
      buildProtocol = function(_, address)
        events[#events + 1] = "built " .. address.port
        return { received = {}, makeConnection = function(self, t) self.transport = t end,
          dataReceived = function(self, d) self.received[#self.received + 1] = d end }
      end,
      clientConnectionFailed = function() events[#events + 1] = "failed" end,
    }
    local c = srvconnect.SRVConnector(reactor, "fb", "srv.example.test", factory, { resolver = resolver })
    local ok, proto = async.settle(c:connect())
    assert.is_true(ok, tostring(proto))
    assert.same({ "started fb", "built 55814" }, events)
    assert.same({ host = "he-v4only.example.test", port = 55814, type = "TCP" }, c:getDestination())
    async.loopUntil(function() return #proto.received > 0 end, 5)
    assert.equal("hello 127.0.0.1:55814", proto.received[1])
    c:disconnect()
    os.execute("kill " .. pid)
    p:close()
    assert.is_true(async.loopUntil(function() return live() == before end, 5))
  end)

  it("calls clientConnectionFailed with every target when none connects", function()
    local resolver = client.createResolver{ servers = { { "127.0.0.1", PORT } }, hosts = "/dev/null" }
    local failed
    local factory = { buildProtocol = function() return {} end,
      clientConnectionFailed = function(_, _, reason) failed = reason end }
    local c = srvconnect.SRVConnector(reactor, "fb", "srv.example.test", factory, { resolver = resolver })
    local f = async.failure(c:connect())
    assert.equal(f, failed)
    local text = f.value.args[1]
    assert.is_truthy(text:find("he-v4only.example.test port 55813", 1, true), text)
    assert.is_truthy(text:find("he-v4only.example.test port 55814", 1, true), text)
    assert.equal(2, #f.value.attempts)
  end)

  it("stops connecting and frees everything", function()
    local resolver = client.createResolver{ servers = { { "127.0.0.1", PORT } }, hosts = "/dev/null" }
    local before = baseline()
    local c = srvconnect.SRVConnector(reactor, "ep", "srv.example.test", { buildProtocol = function() end },
      { resolver = resolver })
    local d = c:connect()
    d:addErrback(function() end)
    c:stopConnecting()
    assert.is_true(async.loopUntil(function() return live() == before end, 5))
    assert.has_error(function() c:stopConnecting() end, "SRVConnector: not connecting")
  end)
end)
