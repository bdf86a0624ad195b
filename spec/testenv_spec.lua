-- The test infrastructure itself: named and badserver answer as the other
-- specs expect. Hand-built queries over LuaSocket (spec/support/rawdns.lua),
-- nothing from lua-names, so a failure here is the environment's, not the
-- library's.
local env = require "testenv"
local raw = require "rawdns"
local socket = require "socket"

local function ask(host, port, name, qtype, opts)
  opts = opts or {}
  local msg, id = raw.query{ name = name, qtype = qtype, edns = opts.edns, id = opts.id }
  local reply, ip, rport = raw.udp_exchange(host, port, msg, opts.timeout or 1)
  assert(reply, ("no reply from %s port %d to %s"):format(host, port, name))
  local r = raw.parse(reply)
  r.from_ip, r.from_port = ip, rport
  assert.are.equal(id, r.id)
  return r
end

local function ask_tcp(host, port, name, qtype, opts)
  opts = opts or {}
  local msg, id = raw.query{ name = name, qtype = qtype, edns = opts.edns }
  local reply, err = raw.tcp_exchange(host, port, msg, opts.timeout or 2)
  assert(reply, ("no TCP reply from %s port %d to %s: %s"):format(host, port, name, tostring(err)))
  local r = raw.parse(reply)
  assert.are.equal(id, r.id)
  return r
end

local function types_of(rrs, rtype)
  local out = {}
  for _, rr in ipairs(rrs) do
    if rr.type == rtype then out[#out + 1] = rr end
  end
  return out
end

describe("the test environment", function()
  it("knows the ports of the servers", function()
    assert.is_number(env.port)
    assert.are.equal(env.bad_base, env.bad.ok)
    assert.are.equal(env.bad_base + 17, env.bad.lowercase_question)
    assert.are.equal(env.bad_base + 18, env.bad.tcp_once)
    assert.are.equal(env.bad_base + 21, env.bad.tc_cut)
    assert.are.equal(env.bad_base + 25, env.bad.badcookie_always)
    assert.are.equal(26, #env.behaviours)
    assert.are.same({ "127.0.0.1", env.port }, env.server)
    assert.are.same({ "::1", env.port }, env.server6)
  end)

  it("finds the servers up", function()
    assert.is_true(env.assert_server_up())
  end)

  it("reads zone-types.txt", function()
    local list = env.zone_types()
    assert.is_true(#list > 50)
    local seen = {}
    for _, e in ipairs(list) do seen[e.owner .. " " .. e.type] = true end
    for _, want in ipairs{ "example.test. SOA", "www.example.test. AAAA", "https.example.test. HTTPS",
                           "type65280.example.test. TYPE65280", "10.2.0.192.in-addr.arpa. PTR" } do
      assert.is_true(seen[want], want)
    end
  end)
end)

describe("named, the real server", function()
  local hosts = { "127.0.0.1", "::1" }
  for _, host in ipairs(hosts) do
    describe("on " .. host, function()
      local function skip_without_ipv6()
        if host == "::1" and not env.ipv6 then
          pending("this machine has no ::1")
          return true
        end
      end

      it("answers the SOA of example.test with authority", function()
        if skip_without_ipv6() then return end
        local r = ask(host, env.port, "example.test", raw.SOA)
        assert.is_true(r.qr)
        assert.is_true(r.aa)
        assert.is_false(r.ra)
        assert.are.equal(raw.NOERROR, r.rcode)
        assert.are.equal(1, #r.answers)
        local soa = r.answers[1].data
        assert.are.equal("ns1.example.test.", soa.mname)
        assert.are.equal("hostmaster.example.test.", soa.rname)
        assert.are.equal(300, soa.minimum)
      end)

      it("answers the A and AAAA of www.example.test", function()
        if skip_without_ipv6() then return end
        local a = ask(host, env.port, "www.example.test", raw.A)
        assert.are.equal("192.0.2.10", a.answers[1].data)
        assert.are.equal(3600, a.answers[1].ttl)
        local aaaa = ask(host, env.port, "www.example.test", raw.AAAA)
        assert.are.equal("2001:db8::10", aaaa.answers[1].data)
      end)

      it("answers NXDOMAIN for a missing name, with the SOA for negative caching", function()
        if skip_without_ipv6() then return end
        local r = ask(host, env.port, "no-such-name.example.test", raw.A)
        assert.are.equal(raw.NXDOMAIN, r.rcode)
        assert.is_true(r.aa)
        assert.are.equal(0, #r.answers)
        local soa = types_of(r.authority, raw.SOA)
        assert.are.equal(1, #soa)
        assert.are.equal(300, soa[1].ttl)
      end)
    end)
  end

  it("answers NODATA for the AAAA of nodata.example.test", function()
    local r = ask("127.0.0.1", env.port, "nodata.example.test", raw.AAAA)
    assert.are.equal(raw.NOERROR, r.rcode)
    assert.are.equal(0, #r.answers)
    assert.are.equal(1, #types_of(r.authority, raw.SOA))
  end)

  it("truncates the big TXT set over UDP with a 1232-byte EDNS buffer", function()
    local r = ask("127.0.0.1", env.port, "bigtxt.example.test", raw.TXT, { edns = 1232 })
    assert.is_true(r.tc)
    assert.is_true(r.size <= 1232)
    assert.are.equal(1232, r.opt.udp)
  end)

  it("gives the whole big TXT set over TCP", function()
    local r = ask_tcp("127.0.0.1", env.port, "bigtxt.example.test", raw.TXT, { edns = 1232 })
    assert.is_false(r.tc)
    local txt = types_of(r.answers, raw.TXT)
    assert.are.equal(40, #txt)
    assert.is_true(r.size > 1232)
    for _, rr in ipairs(txt) do assert.are.equal(60, #rr.data[1]) end
  end)

  it("follows the CNAME chain inside the zone", function()
    local r = ask("127.0.0.1", env.port, "chain1.example.test", raw.A)
    assert.are.equal(3, #types_of(r.answers, raw.CNAME))
    assert.are.equal("192.0.2.30", types_of(r.answers, raw.A)[1].data)
  end)

  it("refuses names outside its zones and does not recurse", function()
    local r = ask("127.0.0.1", env.port, "www.not-served.test", raw.A)
    assert.are.equal(raw.REFUSED, r.rcode)
    assert.is_false(r.ra)
  end)

  it("gives a referral below the delegation", function()
    local r = ask("127.0.0.1", env.port, "host.sub.example.test", raw.A)
    assert.are.equal(raw.NOERROR, r.rcode)
    assert.is_false(r.aa)
    assert.are.equal(0, #r.answers)
    assert.are.equal("ns.sub.example.test.", types_of(r.authority, raw.NS)[1].data)
  end)

  it("answers the reverse zones", function()
    local r4 = ask("127.0.0.1", env.port, "10.2.0.192.in-addr.arpa", raw.PTR)
    assert.are.equal("www.example.test.", r4.answers[1].data)
    local r6 = ask("127.0.0.1", env.port,
      "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", raw.PTR)
    assert.are.equal("www.example.test.", r6.answers[1].data)
  end)

  it("transfers example.test with AXFR over TCP", function()
    local c = assert(raw.tcp_connect("127.0.0.1", env.port, 5))
    local msg, id = raw.query{ name = "example.test", qtype = raw.AXFR, rd = false }
    assert(raw.tcp_send(c, msg))
    local rrs, soas = {}, 0
    while soas < 2 do
      local reply = assert(raw.tcp_receive(c))
      local r = raw.parse(reply)
      assert.are.equal(id, r.id)
      assert.are.equal(raw.NOERROR, r.rcode)
      for _, rr in ipairs(r.answers) do
        rrs[#rrs + 1] = rr
        if rr.type == raw.SOA then soas = soas + 1 end
      end
    end
    c:close()
    assert.are.equal(raw.SOA, rrs[1].type)
    assert.are.equal(raw.SOA, rrs[#rrs].type)
    assert.is_true(#rrs > 100)
  end)
end)

describe("badserver, the misbehaving servers", function()
  local H = "127.0.0.1"

  it("ok: answers A, AAAA, TXT and PTR with its own data", function()
    local r = ask(H, env.bad.ok, "www.example.test", raw.A)
    assert.is_true(r.qr and r.aa)
    assert.are.equal("192.0.2.1", r.answers[1].data)
    assert.are.equal(60, r.answers[1].ttl)
    assert.are.equal("2001:db8::1", ask(H, env.bad.ok, "x.test", raw.AAAA).answers[1].data)
    assert.are.same({ "ok" }, ask(H, env.bad.ok, "x.test", raw.TXT).answers[1].data)
    assert.are.equal("ok.bad.test.", ask(H, env.bad.ok, "x.test", raw.PTR).answers[1].data)
    local nodata = ask(H, env.bad.ok, "x.test", raw.MX)
    assert.are.equal(raw.NOERROR, nodata.rcode)
    assert.are.equal(0, #nodata.answers)
  end)

  it("ok: echoes an OPT record when the query has one", function()
    assert.is_table(ask(H, env.bad.ok, "x.test", raw.A, { edns = 1232 }).opt)
    assert.is_nil(ask(H, env.bad.ok, "x.test", raw.A).opt)
  end)

  it("ok: answers on ::1 too", function()
    if not env.ipv6 then return pending("this machine has no ::1") end
    assert.are.equal("192.0.2.1", ask("::1", env.bad.ok, "x.test", raw.A).answers[1].data)
  end)

  it("silent: no reply within 200 ms", function()
    local got = raw.udp_collect(H, env.bad.silent, (raw.query{ name = "x.test" }), 0.2)
    assert.are.equal(0, #got)
  end)

  it("wrongid: sends the decoy first, then the right reply", function()
    local msg, id = raw.query{ name = "x.test", qtype = raw.A }
    local got = raw.udp_collect(H, env.bad.wrongid, msg, 1, 2)
    assert.are.equal(2, #got)
    local decoy, right = raw.parse(got[1].data), raw.parse(got[2].data)
    assert.are.equal(id ~ 0x5555, decoy.id)
    assert.are.equal("203.0.113.3", decoy.answers[1].data)
    assert.are.equal(id, right.id)
    assert.are.equal("192.0.2.3", right.answers[1].data)
    assert.is_true(got[2].t - got[1].t >= 0.04)
  end)

  it("tc: truncates over UDP and answers over TCP", function()
    local u = ask(H, env.bad.tc, "x.test", raw.A)
    assert.is_true(u.tc)
    assert.are.equal(0, #u.answers)
    local t = ask_tcp(H, env.bad.tc, "x.test", raw.A)
    assert.is_false(t.tc)
    assert.are.equal("192.0.2.4", t.answers[1].data)
  end)

  it("servfail, refused, notimp: answer with their rcode", function()
    assert.are.equal(raw.SERVFAIL, ask(H, env.bad.servfail, "x.test", raw.A).rcode)
    assert.are.equal(raw.REFUSED, ask(H, env.bad.refused, "x.test", raw.A).rcode)
    assert.are.equal(raw.NOTIMP, ask(H, env.bad.notimp, "x.test", raw.A).rcode)
    assert.are.equal(raw.SERVFAIL, ask_tcp(H, env.bad.servfail, "x.test", raw.A).rcode)
  end)

  it("formerr_on_edns: FORMERR without OPT to EDNS, an answer without EDNS", function()
    local e = ask(H, env.bad.formerr_on_edns, "x.test", raw.A, { edns = 1232 })
    assert.are.equal(raw.FORMERR, e.rcode)
    assert.is_nil(e.opt)
    local p = ask(H, env.bad.formerr_on_edns, "x.test", raw.A)
    assert.are.equal(raw.NOERROR, p.rcode)
    assert.are.equal("192.0.2.8", p.answers[1].data)
  end)

  it("garbage: sends what it likes and stays up", function()
    env.bad_reset("garbage")
    for _ = 1, 20 do
      raw.udp_collect(H, env.bad.garbage, (raw.query{ name = "x.test" }), 0.05, 1)
    end
    assert.are.equal(20, env.bad_count("garbage"))
  end)

  it("otherquestion: keeps the id but changes the question", function()
    local r = ask(H, env.bad.otherquestion, "x.test", raw.A)
    assert.are.equal("otherquestion.bad.test.", r.question.name)
  end)

  it("slow: answers after about 300 ms", function()
    local t0 = socket.gettime()
    local r = ask(H, env.bad.slow, "x.test", raw.A, { timeout = 2 })
    assert.is_true(socket.gettime() - t0 >= 0.25)
    assert.are.equal("192.0.2.11", r.answers[1].data)
  end)

  it("otherport: replies from another port", function()
    local r = ask(H, env.bad.otherport, "x.test", raw.A)
    assert.are_not.equal(env.bad.otherport, r.from_port)
    assert.are.equal("192.0.2.12", r.answers[1].data)
  end)

  it("noqr: replies with QR=0", function()
    local r = ask(H, env.bad.noqr, "x.test", raw.A)
    assert.is_false(r.qr)
    assert.are.equal(1, #r.answers)
  end)

  it("tcp_trickle: truncates over UDP and trickles over TCP", function()
    assert.is_true(ask(H, env.bad.tcp_trickle, "x.test", raw.A).tc)
    local t0 = socket.gettime()
    local r = ask_tcp(H, env.bad.tcp_trickle, "x.test", raw.A)
    -- some 40 bytes, 5 ms apart
    assert.is_true(socket.gettime() - t0 >= 0.1)
    assert.are.equal("192.0.2.14", r.answers[1].data)
  end)

  it("tcp_reorder: answers the second query of a connection first", function()
    assert.is_true(ask(H, env.bad.tcp_reorder, "x.test", raw.A).tc)
    local c = assert(raw.tcp_connect(H, env.bad.tcp_reorder))
    local q1, id1 = raw.query{ name = "first.test", qtype = raw.A }
    local q2, id2 = raw.query{ name = "second.test", qtype = raw.A, id = (id1 + 1) % 0x10000 }
    assert(raw.tcp_send(c, q1))
    assert(raw.tcp_send(c, q2))
    local r1 = raw.parse(assert(raw.tcp_receive(c)))
    local r2 = raw.parse(assert(raw.tcp_receive(c)))
    c:close()
    assert.are.equal(id2, r1.id)
    assert.are.equal("second.test.", r1.question.name)
    assert.are.equal(id1, r2.id)
  end)

  it("tcp_close: closes the connection without an answer", function()
    assert.is_true(ask(H, env.bad.tcp_close, "x.test", raw.A).tc)
    local reply = raw.tcp_exchange(H, env.bad.tcp_close, (raw.query{ name = "x.test" }), 1)
    assert.is_nil(reply)
  end)

  it("echo_case: returns the question exactly as sent", function()
    local msg = raw.query{ name = "MiXeD.CaSe.TeSt", qtype = raw.A }
    local r = raw.parse(assert(raw.udp_exchange(H, env.bad.echo_case, msg, 1)))
    assert.are.equal(raw.encode_name("MiXeD.CaSe.TeSt"), r.question.raw_name)
  end)

  it("lowercase_question: returns the question name lower-cased", function()
    local msg = raw.query{ name = "MiXeD.CaSe.TeSt", qtype = raw.A }
    local r = raw.parse(assert(raw.udp_exchange(H, env.bad.lowercase_question, msg, 1)))
    assert.are.equal(raw.encode_name("mixed.case.test"), r.question.raw_name)
  end)

  it("stats: counts the queries of a port over UDP and TCP, reset zeroes", function()
    env.bad_reset("servfail")
    assert.are.equal(0, env.bad_count("servfail"))
    ask(H, env.bad.servfail, "a.test", raw.A)
    ask(H, env.bad.servfail, "b.test", raw.AAAA)
    ask_tcp(H, env.bad.servfail, "c.test", raw.A)
    assert.are.equal(3, env.bad_count("servfail"))
    local msg = raw.query{ name = "StAtS.", qtype = raw.TXT }
    local r = raw.parse(assert(raw.udp_exchange(H, env.bad.servfail, msg, 1)))
    assert.are.same({ "3" }, r.answers[1].data)
    assert.are.equal(3, env.bad_reset("servfail"))
    assert.are.equal(0, env.bad_count("servfail"))
  end)
end)
