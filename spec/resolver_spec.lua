-- The resolver core (csrc/resolver.c, udp.c, tcp.c) through its binding,
-- names.core: against named (spec/support/named) and the misbehaving servers
-- of spec/support/badserver.c. Every test ends with its resolvers closed,
-- nothing pending and no live handle on the loop.
local env = require "testenv"
local dns = require "names.dns"
local core = require "names.core"

local A, AAAA, TXT, SOA, AXFR = dns.A, dns.AAAA, dns.TXT, dns.SOA, dns.AXFR

local now = core.now

-- Runs the loop until cond() holds or secs pass; returns whether it held.
local function wait(cond, secs)
  local deadline = now() + (secs or 10)
  while not cond() do
    if now() > deadline then return false end
    core.step(true)
  end
  return true
end

-- Runs the loop for a while, whatever happens.
local function spin(secs)
  local deadline = now() + secs
  while now() < deadline do
    if not core.step(false) then
      -- nothing referenced: sleep a little rather than spin hot
      core.step(true)
    end
  end
end

-- Runs the loop without ever blocking until cond() holds or secs of real
-- time pass: on a resolver's own clock no timer of the loop's would wake a
-- blocked step.
local function poll(cond, secs)
  local deadline = now() + (secs or 10)
  repeat
    if cond() then return true end
    core.step(false)
  until now() > deadline
  return cond() and true or false
end

-- Puts a resolver on its own clock (r:set_clock, the seam for Twisted's
-- task.Clock), standing at 0 until the test moves it: no timeout falls
-- due by itself, so "answered without waiting for a timeout" is exact,
-- and retries and failover run to the millisecond, on no machine's time.
local clocked = setmetatable({}, { __mode = "k" })
local function standStill(r)
  r:set_clock(0)
  clocked[r] = true
  return r
end

-- Moves a clocked resolver's time to t (whatever falls due runs at once),
-- after letting the loop send what the last move started.
local function clockTo(r, t)
  poll(function() return false end, 0.02)
  r:set_clock(t)
end

local live = {}

local function resolver(opts, servers)
  local r = core.resolver_new(opts or { timeout = { 1, 2 } })
  if servers then r:set_servers(servers) end
  live[#live + 1] = r
  return r
end

local function named(v6) return v6 and { "::1", env.port } or { "127.0.0.1", env.port } end
local function bad(name, v6) return env.bad_server(name, v6) end

-- One query, run to its end: {message, err, attempts, took} (the attempts
-- reported even for a plain answer: flag "r").
local function ask(r, name, qtype, flags, timeouts)
  local res
  local t0 = now()
  r:query(name, qtype or A, 1, timeouts, (flags or "") .. "r", function(m, e, a)
    res = { m = m, e = e, a = a, took = now() - t0 }
  end)
  local finished = function() return res ~= nil end
  assert((clocked[r] and poll or wait)(finished, 30), "no callback for " .. name)
  return res
end

local function addresses(m, field)
  local out = {}
  for _, rr in ipairs(m.answers) do out[#out + 1] = rr.payload[field or "address"] end
  table.sort(out)
  return table.concat(out, " ")
end

local function outcomes(a)
  local out = {}
  for i, x in ipairs(a) do out[i] = x.transport .. " " .. x.outcome end
  return table.concat(out, ", ")
end

-- The end of every test: nothing pending, everything closed, the loop empty.
local function done(...)
  for _, r in ipairs({ ... }) do
    local st = r:stats()
    assert.are.equal(0, st.pending)
    assert.are.equal(0, st.inflight)
    assert.are.equal(0, st.queued)
    assert.are.equal(0, st.timers)
    r:close()
    assert.has_error(function() r:stats() end, "the resolver is closed")
  end
  assert.is_true(wait(function() return not core.alive() end, 2), "handles still live after close")
end

local function v6_only()
  if not env.ipv6 then
    pending("no ::1 on this machine (NAMES_TEST_IPV6=0)")
    return true
  end
end

setup(function()
  env.assert_server_up()
end)

after_each(function()
  -- a failed test may leave resolvers open: close them, quietly
  for _, r in ipairs(live) do pcall(r.close, r) end
  live = {}
  wait(function() return not core.alive() end, 2)
end)

describe("the resolver against named", function()
  it("answers an A query over UDP on IPv4", function()
    local r = resolver({ timeout = { 2 } }, { named() })
    local res = ask(r, "www.example.test", A)
    assert.is_nil(res.e)
    assert.are.equal("192.0.2.10", addresses(res.m))
    assert.are.equal(1, #res.a)
    assert.are.equal("127.0.0.1:" .. env.port, res.a[1].server)
    assert.are.equal("udp answer", outcomes(res.a))
    local st = r:stats()
    assert.are.equal(1, st.sentUDP)
    assert.are.equal(0, st.sentTCP)
    done(r)
  end)

  it("hands a query's own argument to its callback first, and lets go of both when it ends", function()
    local r = resolver()
    r:set_servers{ named() }
    local holder = { state = { name = "state" } } -- let go of below
    local got, plain
    local handle = r:query("www.example.test", A, 1, nil, "", function(arg, m, e, a)
      got = { arg = arg, m = m, e = e, a = a }
    end, holder.state)
    r:query("www.example.test", A, 1, nil, "", function(m, e, a)
      plain = { m = m, e = e, a = a }
    end)
    assert.is_true(handle:active())
    assert.is_true(wait(function() return got ~= nil and plain ~= nil end, 5))
    assert.are.equal(holder.state, got.arg)
    assert.are.equal("192.0.2.10", addresses(got.m))
    assert.is_nil(got.e)
    assert.are.equal("192.0.2.10", addresses(plain.m))
    assert.is_false(handle:active())
    -- the ended handle, still held, holds neither the callback nor its argument
    local weak = setmetatable({ holder.state }, { __mode = "v" })
    holder.state, got = nil, nil
    collectgarbage()
    collectgarbage()
    assert.is_nil(weak[1])
    handle:cancel() -- over: nothing to do
    done(r)
  end)

  it("answers an AAAA query over UDP on IPv6", function()
    if v6_only() then return end
    local r = resolver({ timeout = { 2 } }, { named(true) })
    local res = ask(r, "www.example.test", AAAA)
    assert.is_nil(res.e)
    assert.are.equal("2001:db8::10", addresses(res.m))
    assert.are.equal("[::1]:" .. env.port, res.a[1].server)
    assert.are.equal("udp answer", outcomes(res.a))
    done(r)
  end)

  it("asks over TCP when the query says so, on IPv4 and IPv6", function()
    local r = resolver({ timeout = { 2 } }, { named() })
    local res = ask(r, "mail.example.test", A, "t")
    assert.are.equal("192.0.2.25", addresses(res.m))
    assert.are.equal("tcp answer", outcomes(res.a))
    assert.are.equal(1, r:stats().tcpOpened)
    assert.are.equal(0, r:stats().sentUDP)
    if env.ipv6 then
      local r6 = resolver({ timeout = { 2 } }, { named(true) })
      res = ask(r6, "mail.example.test", AAAA, "t")
      assert.are.equal("2001:db8::25", addresses(res.m))
      assert.are.equal("[::1]:" .. env.port, res.a[1].server)
      assert.are.equal("tcp answer", outcomes(res.a))
      done(r6)
    end
    done(r)
  end)

  it("asks every query over TCP with tcp = true", function()
    local r = resolver({ timeout = { 2 }, tcp = true }, { named() })
    local res = ask(r, "ns1.example.test", A)
    assert.are.equal("192.0.2.1", addresses(res.m))
    assert.are.equal("tcp answer", outcomes(res.a))
    res = ask(r, "ns2.example.test", A)
    assert.are.equal("192.0.2.2", addresses(res.m))
    local st = r:stats()
    assert.are.equal(2, st.sentTCP)
    assert.are.equal(0, st.sentUDP)
    assert.are.equal(1, st.tcpOpened) -- the connection is kept for the next query
    done(r)
  end)

  it("asks again over TCP when the UDP answer is truncated", function()
    local r = resolver({ timeout = { 2 } }, { named() })
    local res = ask(r, "bigtxt.example.test", TXT)
    assert.is_nil(res.e)
    assert.are.equal(40, #res.m.answers)
    assert.is_false(res.m.trunc)
    assert.are.equal("udp truncated, tcp answer", outcomes(res.a))
    assert.are.equal(1, r:stats().tcpOpened)
    if env.ipv6 then
      local r6 = resolver({ timeout = { 2 } }, { named(true) })
      res = ask(r6, "bigtxt.example.test", TXT)
      assert.are.equal(40, #res.m.answers)
      assert.are.equal("udp truncated, tcp answer", outcomes(res.a))
      done(r6)
    end
    done(r)
  end)

  it("pipelines several queries on one TCP connection", function()
    local r = resolver({ timeout = { 2 } }, { named() })
    local names = { "www", "mail", "mail2", "ns1", "ns2", "a", "sip", "svc", "https", "nodata" }
    local got, how, n = {}, {}, 0
    for _, name in ipairs(names) do
      r:query(name .. ".example.test", A, 1, nil, "tr", function(m, e, a)
        n = n + 1
        got[name] = e and e.status or addresses(m)
        how[name] = outcomes(a)
      end)
    end
    assert.are.equal(#names, r:stats().inflight)
    assert.is_true(wait(function() return n == #names end, 5))
    for _, name in ipairs(names) do assert.are.equal("tcp answer", how[name]) end
    assert.are.equal("192.0.2.10", got.www)
    assert.are.equal("192.0.2.26", got.mail2)
    assert.are.equal("192.0.2.50", got.nodata)
    local st = r:stats()
    assert.are.equal(#names, st.sentTCP)
    assert.are.equal(1, st.tcpOpened)
    done(r)
  end)

  it("opens a new TCP connection after the idle one closed", function()
    local r = resolver({ timeout = { 2 }, tcpIdle = 0.05 }, { named() })
    local res = ask(r, "www.example.test", A, "t")
    assert.are.equal("192.0.2.10", addresses(res.m))
    assert.are.equal(1, r:stats().socketsOpen) -- the connection, idle
    -- an idle connection never holds the loop: run it as an application does
    local reactor = require "names.reactor"
    reactor.callLater(0.2, reactor.stop)
    reactor.run()
    assert.are.equal(0, r:stats().socketsOpen)
    res = ask(r, "mail.example.test", A, "t")
    assert.are.equal("192.0.2.25", addresses(res.m))
    assert.are.equal(2, r:stats().tcpOpened)
    done(r)
  end)

  it("reports the attempts with every failure, and with a plain answer only when asked", function()
    local r = resolver({ timeout = { 2 } }, { named() })
    local got = {}
    local function keep(key) return function(m, e, a) got[key] = { m = m, e = e, a = a } end end
    r:query("www.example.test", A, 1, nil, "", keep("plain"))
    r:query("mail.example.test", A, 1, nil, "r", keep("asked"))
    r:query("nxdomain.example.test", A, 1, nil, "", keep("nxdomain"))
    assert.is_true(wait(function() return got.plain and got.asked and got.nxdomain end, 5))
    assert.are.equal("192.0.2.10", addresses(got.plain.m))
    assert.is_nil(got.plain.a)
    assert.are.equal("udp answer", outcomes(got.asked.a))
    assert.are.equal(3, got.nxdomain.m.rCode)
    assert.are.equal("udp answer", outcomes(got.nxdomain.a))
    assert.are.equal("127.0.0.1:" .. env.port, got.nxdomain.a[1].server)
    local silent = resolver({ timeout = { 0.1 } }, { bad("silent") })
    local res = ask(silent, "www.example.test", A, "")
    assert.are.equal("timeout", res.e.status)
    assert.are.equal("udp timeout", outcomes(res.a))
    assert.has_error(function() r:query("www.example.test", A, 1, nil, "z", function() end) end,
      "bad argument #5 to 'query' (unknown flag)")
    done(r)
    done(silent)
  end)

  it("transfers axfr.test in 12 messages", function()
    local r = resolver({ timeout = { 5 } }, { named() })
    local msgs, e, attempts
    r:query("axfr.test", AXFR, 1, nil, "xr", function(m, err, a) msgs, e, attempts = m or false, err, a end)
    assert.is_true(wait(function() return msgs ~= nil end, 20))
    assert.is_nil(e)
    assert.are.equal(12, #msgs)
    local n, txt = 0, 0
    for _, m in ipairs(msgs) do
      for _, rr in ipairs(m.answers) do
        n = n + 1
        if rr.type == TXT then txt = txt + 1 end
      end
    end
    assert.are.equal(SOA, msgs[1].answers[1].type)
    assert.are.equal(SOA, msgs[12].answers[#msgs[12].answers].type)
    assert.are.equal(3000, txt)
    assert.are.equal(3003, n) -- SOA, NS, 3000 TXT, SOA
    assert.are.equal("tcp answer", outcomes(attempts))
    done(r)
  end)

  it("sends EDNS with its buffer size, and none when EDNS is off", function()
    local r = resolver({ timeout = { 2 }, edns = 1232 }, { named() })
    local res = ask(r, "txt.example.test", TXT)
    assert.is_true(res.a[1].edns)
    assert.are.equal(0, res.m.ednsVersion) -- named answers EDNS with EDNS
    local plain = resolver({ timeout = { 2 }, edns = false }, { named() })
    res = ask(plain, "txt.example.test", TXT)
    assert.is_false(res.a[1].edns)
    assert.is_nil(res.m.ednsVersion)
    -- without EDNS the big answer truncates at 512 bytes and goes to TCP too
    res = ask(plain, "bigtxt.example.test", TXT)
    assert.are.equal("udp truncated, tcp answer", outcomes(res.a))
    assert.is_false(res.a[2].edns)
    done(r, plain)
  end)

  it("reports NXDOMAIN and NODATA as answers with their rcode", function()
    local r = resolver({ timeout = { 2 } }, { named() })
    local res = ask(r, "absent.example.test", A)
    assert.is_nil(res.e)
    assert.are.equal(dns.ENAME, res.m.rCode)
    assert.are.equal(SOA, res.m.authority[1].type)
    res = ask(r, "nodata.example.test", AAAA)
    assert.are.equal(dns.OK, res.m.rCode)
    assert.are.equal(0, #res.m.answers)
    done(r)
  end)

  it("shares one exchange between identical queries in flight", function()
    local r = resolver({ timeout = { 2 } }, { named() })
    local n, got = 0, {}
    local function cb(m, e)
      got[#got + 1] = e and e.status or addresses(m)
      n = n + 1
    end
    r:query("www.example.test", A, 1, nil, "", cb)
    r:query("WWW.Example.TEST", A, 1, nil, "", cb) -- names compare case-insensitively
    r:query("www.example.test", A, 1, nil, "a", cb) -- "a": never shared
    local st = r:stats()
    assert.are.equal(3, st.queries)
    assert.are.equal(2, st.exchanges)
    assert.are.equal(1, st.shared)
    assert.is_true(wait(function() return n == 3 end, 5))
    assert.are.same({ "192.0.2.10", "192.0.2.10", "192.0.2.10" }, got)
    assert.are.equal(2, r:stats().sentUDP)
    done(r)
  end)

  it("starts each query at the next server with rotate", function()
    local r = resolver({ timeout = { 1 }, rotate = true }, { bad("ok"), bad("echo_case") })
    local got = {}
    for i = 1, 4 do
      local res = ask(r, "www.example.test", A, "a")
      got[i] = addresses(res.m)
    end
    assert.are.same({ "192.0.2.1", "192.0.2.17", "192.0.2.1", "192.0.2.17" }, got)
    done(r)
  end)

  it("keeps a query's servers when the list changes under it", function()
    env.bad_reset("slow")
    local r = resolver({ timeout = { 2 } }, { bad("slow") })
    local first
    r:query("www.example.test", A, 1, nil, "", function(m, e) first = e and e.status or addresses(m) end)
    r:set_servers{ named() }
    local res = ask(r, "www.example.test", A, "a") -- "a": not shared with the first
    assert.are.equal("192.0.2.10", addresses(res.m)) -- a new exchange, on the new list
    assert.is_true(wait(function() return first ~= nil end, 2))
    assert.are.equal("192.0.2.11", first) -- the old one still asked the old server
    assert.are.equal(1, env.bad_count("slow"))
    done(r)
  end)

  it("sends one message to a server and hands back the reply as it is", function()
    local r = resolver({ timeout = { 2 } }, {})
    local m = dns.Message{ id = 7, recDes = false }
    m:addQuery("www.example.test", A)
    local got, e, attempts
    r:exchange(m:toStr(), named(), "udp", 2, function(reply, err, a) got, e, attempts = reply or false, err, a end)
    assert.is_true(wait(function() return got ~= nil end, 5))
    assert.is_nil(e)
    assert.are.equal("192.0.2.10", addresses(got))
    assert.are.equal("127.0.0.1:" .. env.port, attempts[1].server)
    got = nil
    r:exchange(m:toStr(), named(), "tcp", 2, function(reply, _, a) got, attempts = reply or false, a end)
    assert.is_true(wait(function() return got ~= nil end, 5))
    assert.are.equal("192.0.2.10", addresses(got))
    assert.are.equal("tcp answer", outcomes(attempts))
    -- the transport asked for wins over the resolver's tcp option
    local tcp = resolver({ timeout = { 2 }, tcp = true }, {})
    got = nil
    tcp:exchange(m:toStr(), named(), "udp", 2, function(reply, _, a) got, attempts = reply or false, a end)
    assert.is_true(wait(function() return got ~= nil end, 5))
    assert.are.equal("udp answer", outcomes(attempts))
    done(r, tcp)
  end)
end)

describe("the resolver against misbehaving servers", function()
  it("times out a silent server after every round over every server", function()
    env.bad_reset("silent")
    local servers = { bad("silent"), env.ipv6 and bad("silent", true) or bad("silent") }
    local r = standStill(resolver({ timeout = { 0.2, 0.4 } }, servers))
    local res
    r:query("www.example.test", A, 1, nil, "r", function(m, e, a) res = { m = m, e = e, a = a } end)
    -- rounds x servers: 0.2 + 0.2 + 0.4 + 0.4, on the resolver's clock
    for _, t in ipairs{ 0.2, 0.4, 0.8, 1.199 } do clockTo(r, t) end
    assert.is_nil(res, "gave up early")
    clockTo(r, 1.2)
    assert.is_not_nil(res, "gave up late")
    assert.is_nil(res.m)
    assert.are.equal("timeout", res.e.status)
    assert.are.equal("udp timeout, udp timeout, udp timeout, udp timeout", outcomes(res.a))
    assert.are.equal(res.a[1].server, res.a[3].server)
    assert.are.equal(res.a[2].server, res.a[4].server)
    assert.are.same({ 0, 0.2, 0.4, 0.8 }, { res.a[1].sent, res.a[2].sent, res.a[3].sent, res.a[4].sent })
    assert.are.same({ 0.2, 0.2, 0.4, 0.4 }, { res.a[1].took, res.a[2].took, res.a[3].took, res.a[4].took })
    assert.is_true(poll(function() return env.bad_count("silent") == 4 end, 5))
    done(r)
  end)

  it("ignores a reply with a wrong id and takes the right one after it", function()
    local r = resolver({ timeout = { 2 } }, { bad("wrongid") })
    local res = ask(r, "www.example.test", A)
    assert.is_nil(res.e)
    assert.are.equal("192.0.2.3", addresses(res.m)) -- not the decoy's 203.0.113.3
    assert.are.equal("udp answer", outcomes(res.a))
    assert.are.equal(1, res.a[1].ignored)
    assert.is_true(res.took >= 0.045)
    assert.are.equal(1, r:stats().dropped)
    -- over TCP too
    res = ask(r, "www.example.test", TXT, "t")
    assert.are.equal("wrongid", res.m.answers[1].payload.data[1])
    assert.are.equal(1, res.a[1].ignored)
    done(r)
  end)

  for _, case in ipairs{
    { "otherquestion", "a reply for another question" },
    { "garbage", "garbage" },
    { "noqr", "a reply without QR" },
  } do
    it("never accepts " .. case[2] .. ": the query times out", function()
      env.bad_reset(case[1])
      local r = resolver({ timeout = { 0.2, 0.2 } }, { bad(case[1]) })
      local res = ask(r, "www.example.test", A)
      assert.is_nil(res.m)
      assert.are.equal("timeout", res.e.status)
      assert.are.equal("udp timeout, udp timeout", outcomes(res.a))
      assert.are.equal(2, env.bad_count(case[1]))
      if case[1] ~= "garbage" then -- garbage sometimes sends nothing at all
        assert.is_true(res.a[1].ignored >= 1)
        assert.is_true(r:stats().dropped >= 2)
      end
      done(r)
    end)
  end

  it("never accepts garbage over TCP either, whatever the framing", function()
    local r = resolver({ timeout = { 0.3 } }, { bad("garbage") })
    local ended, answered, n = {}, 0, 20
    for i = 1, n do
      r:query("g" .. i .. ".example.test", A, 1, nil, "t", function(m, e)
        if m then answered = answered + 1 else ended[e.status] = (ended[e.status] or 0) + 1 end
      end)
    end
    assert.is_true(wait(function() return answered + (ended.timeout or 0) + (ended.error or 0) == n end, 5))
    assert.are.equal(0, answered)
    done(r)
  end)

  it("never accepts a reply from another port", function()
    env.bad_reset("otherport")
    local r = resolver({ timeout = { 0.3 } }, { bad("otherport") })
    local res = ask(r, "www.example.test", A)
    assert.are.equal("timeout", res.e.status)
    assert.are.equal(1, env.bad_count("otherport")) -- it did answer, from elsewhere
    done(r)
  end)

  it("asks over TCP when the UDP reply is truncated", function()
    local r = resolver({ timeout = { 2 } }, { bad("tc") })
    local res = ask(r, "www.example.test", A)
    assert.is_nil(res.e)
    assert.are.equal("192.0.2.4", addresses(res.m))
    assert.are.equal("udp truncated, tcp answer", outcomes(res.a))
    done(r)
  end)

  for _, case in ipairs{ { "servfail", 2 }, { "refused", 5 }, { "notimp", 4 } } do
    local name, rcode = case[1], case[2]
    it("asks the next server after " .. name:upper(), function()
      env.bad_reset(name)
      env.bad_reset("ok")
      -- on a clock standing still: no waiting for a timeout
      local r = standStill(resolver({ timeout = { 1, 1 } }, { bad(name), bad("ok") }))
      local res = ask(r, "www.example.test", A)
      assert.is_nil(res.e)
      assert.are.equal("192.0.2.1", addresses(res.m))
      assert.are.equal("udp rcode, udp answer", outcomes(res.a))
      assert.are.equal(rcode, res.a[1].rcode)
      assert.are.equal(1, env.bad_count(name))
      assert.are.equal(1, env.bad_count("ok"))
      done(r)
    end)
  end

  it("stops waiting at once for a server that is not listening", function()
    -- a port that was just free: ICMP port unreachable answers each try
    local port = core.udp_listen("127.0.0.1", 0, function() end)
    local number = port:port()
    port:close()
    -- on a clock standing still: no waiting for a timeout
    local r = standStill(resolver({ timeout = { 2, 2 } }, { { "127.0.0.1", number } }))
    local res = ask(r, "www.example.test", A)
    assert.are.equal("error", res.e.status)
    assert.are.equal("udp error, udp error", outcomes(res.a))
    -- with a live server after it, that one answers
    r:set_servers{ { "127.0.0.1", number }, named() }
    res = ask(r, "www.example.test", A)
    assert.are.equal("192.0.2.10", addresses(res.m))
    assert.are.equal("udp error, udp answer", outcomes(res.a))
    done(r)
  end)

  it("reports the last server's error when every server fails, asking each once", function()
    env.bad_reset("servfail")
    env.bad_reset("refused")
    local r = resolver({ timeout = { 0.5, 0.5, 0.5 } }, { bad("servfail"), bad("refused") })
    local res = ask(r, "www.example.test", A)
    assert.is_nil(res.m)
    assert.are.equal("rcode", res.e.status)
    assert.are.equal(dns.EREFUSED, res.e.message.rCode)
    assert.are.equal("udp rcode, udp rcode", outcomes(res.a))
    assert.are.equal(1, env.bad_count("servfail"))
    assert.are.equal(1, env.bad_count("refused"))
    -- the other way round
    r:set_servers{ bad("refused"), bad("notimp"), bad("servfail") }
    res = ask(r, "mail.example.test", A)
    assert.are.equal("rcode", res.e.status)
    assert.are.equal(dns.ESERVER, res.e.message.rCode)
    assert.are.equal("udp rcode, udp rcode, udp rcode", outcomes(res.a))
    -- a silent server last: the timeout is the last outcome
    r:set_servers{ bad("servfail"), bad("silent") }
    res = ask(r, "www.example.test", A, nil, { 0.1, 0.1 })
    assert.are.equal("timeout", res.e.status)
    assert.are.equal("udp rcode, udp timeout, udp timeout", outcomes(res.a))
    done(r)
  end)

  it("asks again without EDNS after FORMERR, and remembers the server", function()
    env.bad_reset("formerr_on_edns")
    local r = resolver({ timeout = { 1 } }, { bad("formerr_on_edns") })
    local res = ask(r, "www.example.test", A)
    assert.is_nil(res.e)
    assert.are.equal("192.0.2.8", addresses(res.m))
    assert.are.equal("udp noedns, udp answer", outcomes(res.a))
    assert.are.equal(dns.EFORMAT, res.a[1].rcode)
    assert.is_true(res.a[1].edns)
    assert.is_false(res.a[2].edns)
    -- the next query goes without EDNS at once
    res = ask(r, "mail.example.test", A)
    assert.are.equal("udp answer", outcomes(res.a))
    assert.is_false(res.a[1].edns)
    -- and so does TCP
    res = ask(r, "mail.example.test", TXT, "t")
    assert.are.equal("tcp answer", outcomes(res.a))
    assert.is_false(res.a[1].edns)
    assert.are.equal(4, env.bad_count("formerr_on_edns"))
    done(r)
  end)

  it("takes a slow server's answer on the first try's socket", function()
    env.bad_reset("slow")
    local r = standStill(resolver({ timeout = { 0.1, 5 } }, { bad("slow") }))
    local res
    r:query("www.example.test", A, 1, nil, "r", function(m, e, a) res = { m = m, e = e, a = a } end)
    -- the first try times out at 100 ms on the resolver's clock and the
    -- second goes; the server answers each 300 ms (of real time) after it
    -- came, the first first, while the clock stands at 100 ms
    clockTo(r, 0.1)
    assert.is_nil(res)
    assert.is_true(poll(function() return res ~= nil end, 10))
    assert.is_nil(res.e)
    assert.are.equal("192.0.2.11", addresses(res.m))
    assert.are.equal("udp late, udp pending", outcomes(res.a))
    assert.are.same({ 0, 0.1 }, { res.a[1].sent, res.a[2].sent })
    assert.are.equal(0.1, res.a[1].took)
    assert.are.equal(2, env.bad_count("slow"))
    done(r)
  end)

  it("accepts a reply that repeats the random case of the question (0x20)", function()
    local r = resolver({ timeout = { 1 }, dns0x20 = true }, { bad("echo_case") })
    local res = ask(r, "abcdefghijklmnopqrstuvwxyz.example.test", A)
    assert.is_nil(res.e)
    assert.are.equal("192.0.2.17", addresses(res.m))
    assert.are.equal(0, res.a[1].ignored)
    done(r)
  end)

  it("rejects a reply whose question lost the random case (0x20)", function()
    local r = resolver({ timeout = { 0.3 }, dns0x20 = true }, { bad("lowercase_question") })
    local res = ask(r, "abcdefghijklmnopqrstuvwxyz.example.test", A)
    assert.are.equal("timeout", res.e.status)
    assert.are.equal(1, res.a[1].ignored)
    -- without 0x20 the same server is believed
    local plain = resolver({ timeout = { 1 } }, { bad("lowercase_question") })
    res = ask(plain, "ABCdef.example.test", A)
    assert.are.equal("192.0.2.18", addresses(res.m))
    done(r, plain)
  end)

  it("reads a TCP reply that trickles in one byte at a time", function()
    local r = resolver({ timeout = { 3 } }, { bad("tcp_trickle") })
    local res = ask(r, "www.example.test", A)
    assert.is_nil(res.e)
    assert.are.equal("192.0.2.14", addresses(res.m))
    assert.are.equal("udp truncated, tcp answer", outcomes(res.a))
    done(r)
  end)

  it("matches TCP replies that come in another order", function()
    local r = resolver({ timeout = { 2 } }, { bad("tcp_reorder") })
    local got, n = {}, 0
    for _, q in ipairs{ { "one.example.test", A }, { "two.example.test", AAAA } } do
      r:query(q[1], q[2], 1, nil, "t", function(m, e)
        n = n + 1
        got[#got + 1] = e and e.status or m.queries[1].name.name .. " " .. addresses(m)
      end)
    end
    assert.is_true(wait(function() return n == 2 end, 3))
    -- the second query is answered first
    assert.are.same({ "two.example.test 2001:db8::f", "one.example.test 192.0.2.15" }, got)
    assert.are.equal(1, r:stats().tcpOpened)
    done(r)
  end)

  it("moves on when the TCP connection closes before the answer", function()
    -- on a clock standing still: no waiting for a timeout
    local r = standStill(resolver({ timeout = { 1 } }, { bad("tcp_close"), bad("ok") }))
    local res = ask(r, "www.example.test", A, "t")
    assert.is_nil(res.e)
    assert.are.equal("192.0.2.1", addresses(res.m))
    assert.are.equal("tcp error, tcp answer", outcomes(res.a))
    -- alone, it fails with the socket error
    r:set_servers{ bad("tcp_close") }
    res = ask(r, "www.example.test", A, "t")
    assert.are.equal("error", res.e.status)
    assert.are.equal("tcp error", outcomes(res.a))
    assert.is_string(res.a[1].error)
    done(r)
  end)

  it("asks again at once on a new connection when a server closes one it has served", function()
    -- tcp_once answers one query per connection and drops the connection on
    -- the next (RFC 7766 6.2.1): not the server's failure, no round lost
    -- on a clock standing still: a round's timeout cannot pass
    local r = standStill(resolver({ timeout = { 5 } }, { bad("tcp_once") }))
    local res = ask(r, "www.example.test", A, "t")
    assert.are.equal("192.0.2.19", addresses(res.m))
    assert.are.equal("tcp answer", outcomes(res.a))
    res = ask(r, "mail.example.test", A, "t")
    assert.is_nil(res.e)
    assert.are.equal("192.0.2.19", addresses(res.m))
    assert.are.equal("tcp error, tcp answer", outcomes(res.a))
    assert.are.equal(2, r:stats().tcpOpened)
    -- after a TC over UDP too
    res = ask(r, "www.example.test", A, "")
    assert.are.equal("192.0.2.19", addresses(res.m))
    assert.are.equal("udp truncated, tcp error, tcp answer", outcomes(res.a))
    assert.are.equal(3, r:stats().tcpOpened)
    done(r)
  end)
end)

describe("the resolver's lifetime", function()
  it("cancels a query at once and frees its socket and timer (sockets closing when idle)", function()
    local r = resolver({ timeout = { 5 }, udpIdle = 0 }, { bad("silent") })
    local res
    local h = r:query("www.example.test", A, 1, nil, "", function(m, e, a) res = { m = m, e = e, a = a } end)
    core.step(false)
    assert.are.equal(1, r:stats().socketsOpen)
    assert.are.equal(1, r:stats().timers)
    assert.is_true(h:active())
    h:cancel()
    assert.is_not_nil(res) -- before cancel returned
    assert.is_nil(res.m)
    assert.are.equal("cancelled", res.e.status)
    assert.is_false(h:active())
    h:cancel() -- again: nothing
    local st = r:stats()
    assert.are.equal(0, st.inflight)
    assert.are.equal(0, st.timers)
    assert.are.equal(0, st.pending)
    assert.is_true(wait(function() return r:stats().socketsOpen == 0 end, 1))
    assert.is_false(core.alive())
    done(r)
  end)

  it("keeps an idle socket for the next query, without keeping the loop alive", function()
    local r = resolver({ timeout = { 2 } }, { named() })
    for _ = 1, 3 do
      local got = ask(r, "www.example.test", A, "")
      assert.are.equal("192.0.2.10", got.m.answers[1].payload.address)
    end
    local st = r:stats()
    assert.are.equal(1, st.socketsOpened)
    assert.are.equal(1, st.socketsOpen)
    assert.are.equal(0, st.inflight)
    assert.is_false(core.alive())
    done(r)
  end)

  it("keeps a shared exchange going when one of its queries is cancelled", function()
    env.bad_reset("slow")
    local r = resolver({ timeout = { 2 } }, { bad("slow") })
    local first, second
    local h = r:query("www.example.test", A, 1, nil, "", function(_, e) first = e and e.status or "answer" end)
    r:query("www.example.test", A, 1, nil, "", function(m, e) second = e and e.status or addresses(m) end)
    assert.are.equal(1, r:stats().shared)
    h:cancel()
    assert.are.equal("cancelled", first)
    assert.is_true(wait(function() return second ~= nil end, 2))
    assert.are.equal("192.0.2.11", second)
    assert.are.equal(1, env.bad_count("slow")) -- one exchange for the two
    done(r)
  end)

  it("hands back the options and servers it cannot take: nil, the reason naming them, EVALUE", function()
    assert.same({ nil, "maxInflight: a number expected, got boolean", "EVALUE" },
      { core.resolver_new{ maxInflight = true } })
    assert.same({ nil, "timeout: timeouts must be positive numbers", "EVALUE" },
      { core.resolver_new{ timeout = { 1, -2 } } })
    local r = resolver({ timeout = { 1 } })
    assert.same({ nil, "server 2: bad address '300.1.2.3'", "EVALUE" },
      { r:set_servers{ "127.0.0.1", "300.1.2.3" } })
    assert.is_true(r:set_servers{ named() })
    assert.same({ "127.0.0.1:" .. env.port }, r:servers())
    done(r)
  end)

  it("changes clocks only with nothing in flight, and never turns its own clock back", function()
    local r = resolver({ timeout = { 5 } }, { bad("silent") })
    r:set_clock(10)
    local ok, err = pcall(r.set_clock, r, 9)
    assert.is_false(ok)
    assert.matches("the clock cannot go back", err)
    local status
    r:query("www.example.test", A, 1, nil, "", function(_, e) status = e.status end)
    ok, err = pcall(r.set_clock, r, nil)
    assert.is_false(ok)
    assert.matches("the resolver has queries in flight", err)
    clockTo(r, 14.999)
    assert.is_nil(status)
    r:set_clock(15)
    assert.are.equal("timeout", status)
    -- back on the loop's clock, deadlines run on real time again
    r:set_clock(nil)
    local res = ask(r, "www.example.test", A, nil, { 0.05 })
    assert.are.equal("timeout", res.e.status)
    assert.is_true(res.took >= 0.04)
    done(r)
  end)

  it("finishes queries whose handles and resolver were collected", function()
    local results = {}
    local r
    do
      local lost = core.resolver_new{ timeout = { 2 } }
      lost:set_servers{ bad("slow") }
      lost:query("www.example.test", A, 1, nil, "", function(m) results[#results + 1] = addresses(m) end)
      lost:query("mail.example.test", A, 1, nil, "", function(m) results[#results + 1] = addresses(m) end)
      r = resolver({ timeout = { 2 } }, { named() })
      r:query("www.example.test", A, 1, nil, "", function(m) results[#results + 1] = addresses(m) end)
    end
    collectgarbage("collect")
    collectgarbage("collect")
    core.step(false)
    collectgarbage("collect")
    assert.is_true(wait(function() return #results == 3 end, 3))
    table.sort(results)
    assert.are.same({ "192.0.2.10", "192.0.2.11", "192.0.2.11" }, results)
    -- the idle, unreachable resolver is collected now and closes itself
    collectgarbage("collect")
    collectgarbage("collect")
    done(r)
  end)

  it("closes the resolver from inside its own callback", function()
    local r = resolver({ timeout = { 2 }, maxInflight = 2 }, { named() })
    local log, again = {}, nil
    r:query("www.example.test", A, 1, nil, "", function(m, e)
      log[#log + 1] = "www " .. (e and e.status or addresses(m))
      r:close()
      log[#log + 1] = "closed"
      again = { pcall(r.query, r, "x.example.test", A, 1, nil, "", print) }
    end)
    -- a query that waits on a silent server, and one queued behind it
    r:set_servers{ bad("silent") }
    r:query("one.example.test", A, 1, nil, "", function(_, e) log[#log + 1] = "one " .. e.status end)
    r:query("two.example.test", A, 1, nil, "", function(_, e) log[#log + 1] = "two " .. e.status end)
    assert.are.equal(1, r:stats().queued)
    assert.is_true(wait(function() return #log >= 4 end, 3))
    assert.are.equal("www 192.0.2.10", log[1])
    assert.are.equal("closed", log[4]) -- the others were cancelled inside close
    local middle = { log[2], log[3] }
    table.sort(middle)
    assert.are.same({ "one cancelled", "two cancelled" }, middle)
    assert.is_false(again[1])
    assert.matches("the resolver is closed", again[2])
    r:close() -- again: nothing
    assert.is_true(wait(function() return not core.alive() end, 2))
  end)

  it("ignores a cancel from inside the query's own callback", function()
    local r = resolver({ timeout = { 2 } }, { named() })
    local h, calls = nil, 0
    h = r:query("www.example.test", A, 1, nil, "", function()
      calls = calls + 1
      h:cancel()
    end)
    assert.is_true(wait(function() return calls == 1 end, 2))
    spin(0.05)
    assert.are.equal(1, calls)
    done(r)
  end)

  it("starts queries from inside callbacks, cancelled ones included", function()
    local r = resolver({ timeout = { 2 }, maxInflight = 2 }, { named() })
    local answers, cancelled = 0, 0
    local function chain(i)
      if i > 20 then return end
      local h = r:query("h" .. i .. ".example.test", A, 1, nil, "", function(_, e)
        if e then
          cancelled = cancelled + 1
        else
          answers = answers + 1
        end
        chain(i + 1)
      end)
      if i % 5 == 0 then h:cancel() end
    end
    chain(1)
    assert.is_true(wait(function() return answers + cancelled == 20 end, 5))
    assert.are.equal(4, cancelled)
    done(r)
  end)

  it("survives a protocol's TCP connection that the server closes", function()
    local r = resolver({ timeout = { 1 } }, {})
    local opened, got, e
    local conn = core.tcp_connect("127.0.0.1", env.bad.tcp_close, function(err) opened = err or "ok" end,
      function() end)
    local m = dns.Message{ id = 9 }
    m:addQuery("www.example.test", A)
    r:exchange(m:toStr(), bad("tcp_close"), "tcp", 1, function(reply, err) got, e = reply or false, err end, conn)
    assert.is_true(wait(function() return got ~= nil end, 3))
    assert.are.equal("ok", opened)
    assert.is_false(got)
    assert.are.equal("error", e.status)
    -- the connection closed itself: its handle says so, and nothing is freed twice
    assert.is_true(wait(function() return not pcall(conn.write, conn, "x") end, 2))
    assert.has_error(function() conn:write("\0\0") end, "the transport is closed")
    conn:close()
    conn = nil
    collectgarbage("collect")
    done(r)
  end)

  it("answers 20,000 queries, 500 in flight, with few descriptors", function()
    local r = resolver({ timeout = { 2, 2, 2 }, maxInflight = 500, edns = false }, { named() })
    local stat = assert(io.open("/proc/self/stat"))
    local pid = stat:read("n")
    stat:close()
    local function fds()
      local p = io.popen("ls /proc/" .. pid .. "/fd")
      local n = 0
      for _ in p:lines() do n = n + 1 end
      p:close()
      return n
    end
    local before = fds()
    local total, answered, errors, most_fds, most_inflight = 20000, 0, 0, 0, 0
    local t0 = now()
    for i = 1, total do
      r:query("q" .. i .. ".example.test", A, 1, nil, "", function(_, e)
        if e then errors = errors + 1 else answered = answered + 1 end
        if (answered + errors) % 2000 == 0 then
          most_fds = math.max(most_fds, fds())
          most_inflight = math.max(most_inflight, r:stats().inflight)
        end
      end)
    end
    local st = r:stats()
    assert.are.equal(500, st.inflight)
    assert.are.equal(total - 500, st.queued)
    assert.is_true(wait(function() return answered + errors == total end, 60))
    assert.are.equal(0, errors)
    assert.are.equal(total, answered)
    assert.is_true(most_inflight <= 500)
    -- 500 in flight, 256 queries a socket: a few sockets, and a few more
    -- that wait for a query named dropped (its socket buffer overflows at
    -- this rate), never one a query
    assert.is_true(most_fds - before <= 24, ("%d descriptors at most, %d before"):format(most_fds, before))
    st = r:stats()
    -- a few queries named dropped were asked again
    assert.is_true(st.sentUDP >= total and st.sentUDP < total * 1.05)
    assert.is_true(st.socketsOpened >= st.sentUDP / 256 and st.socketsOpened <= st.sentUDP / 256 + 4)
    assert.is_true(now() - t0 < 60)
    done(r)
  end)

  -- runs a Lua chunk in a child lua5.4 with our paths, SIGPIPE at its
  -- default (LuaSocket, loaded by testenv, ignores it here, and children
  -- would inherit that); its output and status
  local function child(body)
    local lua = "env --default-signal=PIPE " .. (os.getenv("NAMES_TEST_LUA") or "lua5.4")
    local script = ("package.path = %q\npackage.cpath = %q\n%s"):format(package.path, package.cpath, body)
    local path = os.tmpname()
    local f = assert(io.open(path, "w"))
    f:write(script)
    f:close()
    local p = io.popen(("%s %s 2>&1; echo \"status $?\""):format(lua, path))
    local out = p:read("a")
    p:close()
    os.remove(path)
    return out
  end

  it("is not killed by SIGPIPE when servers close their TCP end", function()
    -- in a child: a process that dies of SIGPIPE shows it as status 141
    local out = child(([[
      local dns = require "names.dns"
      local core = require "names.core"
      local r = core.resolver_new{timeout = {0.3}, maxInflight = 50}
      r:set_servers{%q, %q}
      local n = 0
      for i = 1, 200 do
        r:query("p" .. i .. ".example.test", dns.A, 1, nil, "t", function() n = n + 1 end)
      end
      while n < 200 do core.step(true) end
      r:close()
      core.step(false)
    ]]):format("127.0.0.1:" .. env.bad.garbage, "127.0.0.1:" .. env.bad.tcp_close))
    assert.are.equal("status 0\n", out)
  end)

  it("lets a child process exit with I/O pending", function()
    local function run(exit)
      return child(([[
        local dns = require "names.dns"
        local core = require "names.core"
        local r = core.resolver_new{timeout = {5}}
        r:set_servers{%q, %q}
        r:query("www.example.test", dns.A, 1, nil, "", function() end)
        r:query("www.example.test", dns.TXT, 1, nil, "t", function() end)
        local r2 = core.resolver_new{timeout = {5}}
        r2:set_servers{%q}
        for i = 1, 50 do r2:query("q" .. i .. ".example.test", dns.A, 1, nil, "", function() end) end
        core.step(false)
        %s
      ]]):format("127.0.0.1:" .. env.bad.silent, "127.0.0.1:" .. env.bad.slow,
        "127.0.0.1:" .. env.port, exit))
    end
    assert.are.equal("status 0\n", run("os.exit(0, true)"))
    assert.are.equal("status 0\n", run("os.exit(0)"))
    assert.are.equal("status 0\n", run("-- the end of the chunk"))
    assert.are.equal("status 0\n", run("collectgarbage() r = nil r2 = nil collectgarbage()"))
  end)
end)
