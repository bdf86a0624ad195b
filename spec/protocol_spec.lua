-- The low-level protocols: DNSDatagramProtocol over reactor.listenUDP and
-- DNSProtocol over reactor.connectTCP, against named and the misbehaving
-- servers.
local async = require "async"
local defer = require "names.defer"
local core = require "names.core"
local dns = require "names.dns"
local env = require "testenv"
local errors = require "names.error"
local reactor = require "names.reactor"
local task = require "names.task"

describe("dns.DNSDatagramProtocol", function()
  local proto, port
  before_each(function()
    env.assert_server_up()
    proto = dns.DNSDatagramProtocol{ controller = nil }
    port = reactor.listenUDP(0, proto)
  end)
  after_each(function()
    port:stopListening()
  end)

  it("listens on a port of its own", function()
    assert.equal(port, proto.transport)
    local p = port:getHost().port
    assert.is_true(p > 0 and p < 65536)
  end)

  it("fires with the response Message", function()
    local m = async.wait(proto:query(env.server, { dns.Query("www.example.test", dns.AAAA) }))
    assert.equal(getmetatable(dns.Message()), getmetatable(m))
    assert.is_true(m.answer)
    assert.equal("<AAAA address=2001:db8::10 ttl=3600>", tostring(m.answers[1].payload))
    assert.equal("www.example.test", m.queries[1].name.name)
  end)

  it("fires with the Message whatever its rcode", function()
    local m = async.wait(proto:query(env.server, { dns.Query("missing.example.test") }))
    assert.equal(dns.ENAME, m.rCode)
  end)

  it("hands back a truncated answer as it came", function()
    local m = async.wait(proto:query(env.server, { dns.Query("bigtxt.example.test", dns.TXT) }))
    assert.is_true(m.trunc)
  end)

  it("ignores a decoy with the wrong id", function()
    local m = async.wait(proto:query({ "127.0.0.1", env.bad.wrongid }, { dns.Query("x.bad.test") }))
    assert.equal("192.0.2.3", m.answers[1].payload.address)
  end)

  it("errbacks with DNSQueryTimeoutError when nothing answers", function()
    local took, failure = async.timed(async.failure,
      proto:query({ "127.0.0.1", env.bad.silent }, { dns.Query("x.bad.test") }, 0.2))
    assert.is_not_nil(failure:check(errors.DNSQueryTimeoutError))
    assert.is_true(took >= 0.19 and took < 1, took)
  end)

  it("never takes a reply from another port", function()
    local failure = async.failure(proto:query({ "127.0.0.1", env.bad.otherport }, { dns.Query("x.bad.test") }, 0.3))
    assert.is_not_nil(failure:check(errors.DNSQueryTimeoutError))
  end)

  it("can be cancelled", function()
    local d = proto:query({ "127.0.0.1", env.bad.silent }, { dns.Query("x.bad.test") })
    d:cancel()
    assert.is_not_nil(async.failure(d, 1):check(defer.CancelledError))
  end)

  it("asks an IPv6 server", function()
    if not env.ipv6 then
      pending("no ::1 here")
      return
    end
    local m = async.wait(proto:query(env.server6, { dns.Query("www.example.test") }))
    assert.equal("192.0.2.10", m.answers[1].payload.address)
  end)

  it("hands messages nobody asked for to the controller", function()
    local got = {}
    local served = dns.DNSDatagramProtocol{ controller = {
      messageReceived = function(_, message, protocol, address)
        got[#got + 1] = { message = message, protocol = protocol, address = address }
      end,
    } }
    local servedPort = reactor.listenUDP(0, served, "127.0.0.1")
    local m = dns.Message{ id = 4242, recDes = true }
    m:addQuery("hello.test", dns.A)
    port:write(m:toStr(), { "127.0.0.1", servedPort:getHost().port })
    async.loopUntil(function() return #got > 0 end, 2)
    servedPort:stopListening()
    assert.equal(1, #got)
    assert.equal(4242, got[1].message.id)
    assert.equal(served, got[1].protocol)
    assert.equal("127.0.0.1", got[1].address[1])
    assert.equal(port:getHost().port, got[1].address[2])
  end)

  it("refuses bad arguments at once", function()
    assert.has_error(function() proto:query("127.0.0.1", { dns.Query("x") }) end)
    assert.has_error(function() proto:query(env.server, { "not a query" }) end)
    assert.has_error(function() reactor.listenUDP(70000, proto) end)
    assert.has_error(function() proto:query(env.server, { dns.Query("x") }, {}) end,
      "bad argument 'timeout' (positive seconds expected, got an empty list)")
    assert.has_error(function() dns.DNSDatagramProtocol{ controller = { messageReceived = 7 } } end,
      "bad argument #1 to 'DNSDatagramProtocol' (controller.messageReceived: a function expected, got number)")
    assert.has_error(function() dns.DNSClientFactory(5) end,
      "bad argument #1 to 'DNSClientFactory' (controller: a table expected, got number)")
  end)
end)

describe("reactor's UDP ports and TCP connections", function()
  it("refuse, when they are made, what would only fail in a loop callback later", function()
    for _, case in ipairs{
      { function() reactor.listenUDP(0, {}) end,
        "bad argument #2 to 'listenUDP' (a protocol with datagramReceived expected, got table)" },
      { function() reactor.listenUDP(0, { datagramReceived = print }, "localhost") end,
        "bad argument #3 to 'listenUDP' (interface: an IP address expected, got 'localhost';"
          .. " names are not resolved here)" },
      { function() reactor.connectTCP("localhost", 53, { buildProtocol = print }) end,
        "bad argument #1 to 'connectTCP' (host: an IP address expected, got 'localhost';"
          .. " names are not resolved here)" },
      { function() reactor.connectTCP("127.0.0.1", 53, { buildProtocol = print, clientConnectionFailed = 5 }) end,
        "bad argument #3 to 'connectTCP' (the factory's clientConnectionFailed is not a function)" },
    } do
      assert.has_error(case[1], case[2])
    end
    local port = reactor.listenUDP(0, { datagramReceived = print }, "127.0.0.1")
    assert.has_error(function() port:write("x", nil) end,
      "bad argument #2 to 'write' (an address {host, port} expected, got nil)")
    -- a socket error is the caller's, in libuv's words
    local taken = port:getHost().port
    local ok, err = pcall(reactor.listenUDP, taken, { datagramReceived = print }, "127.0.0.1")
    assert.is_false(ok)
    assert.matches("listenUDP: address already in use$", err)
    port:stopListening()
  end)

  it("get structured failures from the core's openers: nil, a message and a code", function()
    local port, why, code = core.udp_listen("localhost", 0, print)
    assert.same({ nil, "bad address", "ESYNTAX" }, { port, why, code })
    local first = assert(core.udp_listen("127.0.0.1", 0, print))
    port, why, code = core.udp_listen("127.0.0.1", first:port(), print)
    assert.same({ nil, "address already in use", "EADDRINUSE" }, { port, why, code })
    first:close()
    local conn
    conn, why, code = core.tcp_connect("::g", 53, print, print)
    assert.same({ nil, "bad address", "ESYNTAX" }, { conn, why, code })
  end)

  it("closes a connection whose factory builds no protocol, as Twisted", function()
    env.assert_server_up()
    local built = false
    reactor.connectTCP(env.server[1], env.server[2], { buildProtocol = function() built = true end })
    -- the spec helper fails this test if a loop callback raises meanwhile
    async.loopUntil(function() return built end, 2)
    assert.is_true(built)
  end)
end)

describe("dns.DNSProtocol", function()
  local lost
  local function connect(host, port)
    local connected = defer.Deferred()
    lost = {}
    local factory = dns.DNSClientFactory({
      connectionMade = function(_, p) connected:callback(p) end,
      connectionLost = function(_, _, reason) lost[#lost + 1] = reason end,
    })
    factory.clientConnectionFailed = function(_, _, reason) connected:errback(errors.ResolverError(reason)) end
    reactor.connectTCP(host, port, factory)
    return connected
  end

  it("asks over a TCP connection, several questions on one connection", function()
    local p = async.wait(connect("127.0.0.1", env.port))
    local d1 = p:query({ dns.Query("bigtxt.example.test", dns.TXT) })
    local d2 = p:query({ dns.Query("www.example.test", dns.A) })
    local m1, m2 = async.wait(d1), async.wait(d2)
    p.transport:loseConnection()
    assert.equal(40, #m1.answers)
    assert.is_false(m1.trunc)
    assert.equal("192.0.2.10", m2.answers[1].payload.address)
  end)

  it("takes answers in any order", function()
    local p = async.wait(connect("127.0.0.1", env.bad.tcp_reorder))
    local d1 = p:query({ dns.Query("first.bad.test", dns.A) })
    local d2 = p:query({ dns.Query("second.bad.test", dns.A) })
    local m1, m2 = async.wait(d1), async.wait(d2)
    p.transport:loseConnection()
    assert.equal("first.bad.test", m1.queries[1].name.name)
    assert.equal("second.bad.test", m2.queries[1].name.name)
  end)

  it("tells the controller once when the connection is lost, closed here or there", function()
    local p = async.wait(connect("127.0.0.1", env.port))
    p.transport:loseConnection()
    p.transport:loseConnection()
    assert.same({ "the connection was closed cleanly" }, lost)
    -- tcp_once answers one query, then closes on the next
    p = async.wait(connect("127.0.0.1", env.bad.tcp_once))
    assert.equal("192.0.2.19", async.wait(p:query({ dns.Query("www.bad.test", dns.A) })).answers[1].payload.address)
    local failure = async.failure(p:query({ dns.Query("www.bad.test", dns.A) }))
    assert.is_not_nil(failure)
    local deadline = reactor.seconds() + 5
    while #lost == 0 and reactor.seconds() < deadline do
      async.wait(task.deferLater(reactor, 0.05))
    end
    assert.same({ "the connection was closed by the other side or lost" }, lost)
    p.transport:loseConnection() -- gone already: nothing more
    assert.equal(1, #lost)
  end)

  it("reports a connection that cannot be made", function()
    local failure = async.failure(connect("127.0.0.1", 1))
    assert.is_not_nil(failure:check(errors.ResolverError))
  end)
end)
