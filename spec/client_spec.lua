-- names.client against the test server (named on loopback) and the
-- misbehaving servers: every lookup, the result's shape, errors, the
-- global resolver, getHostByName, resolv.conf and the search list.
local async = require "async"
local client = require "names.client"
local defer = require "names.defer"
local dns = require "names.dns"
local env = require "testenv"
local errors = require "names.error"
local reactor = require "names.reactor"

local tempfile = env.write

local function resolver(opts)
  opts = opts or {}
  opts.servers = opts.servers or { env.server }
  return client.Resolver(opts)
end

-- A resolver's lookups on a clock of the test's (the core resolver's
-- set_clock: the seam for Twisted's task.Clock), standing at 0 until
-- clockTo moves it, after letting the loop send what the last move started:
-- timeouts fall due to the millisecond, on no machine's time.
local function standStill(r)
  r._core:set_clock(0)
  return r
end

local function clockTo(r, t)
  local settled = reactor.seconds() + 0.02
  repeat reactor.step() until reactor.seconds() > settled
  r._core:set_clock(t)
end

-- The payloads' reprs, sorted: record order within an RRset is the server's.
local function payloads(result)
  local out = {}
  for i, rr in ipairs(result.answers) do
    out[i] = tostring(rr.payload)
  end
  table.sort(out)
  return out
end

describe("names.client", function()
  setup(function()
    env.assert_server_up()
  end)

  describe("a lookup method for every type", function()
    local r
    before_each(function()
      r = resolver()
    end)
    after_each(function()
      r:close()
    end)

    local cases = {
      { "lookupAddress", "www.example.test", { "<A address=192.0.2.10 ttl=3600>" } },
      { "lookupIPV6Address", "www.example.test", { "<AAAA address=2001:db8::10 ttl=3600>" } },
      { "lookupAddress6", "a6-prefix.example.test",
        { "<A6 suffix=::1:2:3:4 prefix=www.example.test ttl=3600>" } },
      { "lookupMailExchange", "example.test",
        { "<MX preference=10 name=mail.example.test ttl=3600>",
          "<MX preference=20 name=mail2.example.test ttl=3600>" } },
      { "lookupNameservers", "example.test",
        { "<NS name=ns1.example.test ttl=3600>", "<NS name=ns2.example.test ttl=3600>" } },
      { "lookupCanonicalName", "cname.example.test", { "<CNAME name=www.example.test ttl=3600>" } },
      { "lookupMailBox", "mb.example.test", { "<MB name=mail.example.test ttl=3600>" } },
      { "lookupMailGroup", "mg.example.test", { "<MG name=mail.example.test ttl=3600>" } },
      { "lookupMailRename", "mr.example.test", { "<MR name=mail.example.test ttl=3600>" } },
      { "lookupPointer", "10.2.0.192.in-addr.arpa", { "<PTR name=www.example.test ttl=3600>" } },
      { "lookupAuthority", "example.test",
        { "<SOA mname=ns1.example.test rname=hostmaster.example.test serial=2024010101 "
          .. "refresh=7200 retry=3600 expire=1209600 minimum=300 ttl=3600>" } },
      { "lookupNull", "null.example.test", { "<NULL payload='\\xde\\xad\\xbe\\xef' ttl=3600>" } },
      { "lookupWellKnownServices", "wks.example.test",
        { "<WKS address=192.0.2.10 protocol=6 ttl=3600>" } },
      { "lookupService", "_sip._udp.example.test",
        { "<SRV priority=0 weight=0 target=sip.example.test port=5060 ttl=3600>",
          "<SRV priority=10 weight=0 target=www.example.test port=5060 ttl=3600>" } },
      { "lookupHostInfo", "hinfo.example.test", { "<HINFO cpu='Generic PC' os='Linux' ttl=3600>" } },
      { "lookupMailboxInfo", "minfo.example.test",
        { "<MINFO responsibility=admin.example.test errors=errors.example.test ttl=3600>" } },
      { "lookupText", "txt.example.test", { "<TXT data=['hello world'] ttl=3600>" } },
      { "lookupSenderPolicy", "spf.example.test",
        { "<SPF data=['v=spf1 ip4:192.0.2.0/24 -all'] ttl=3600>" } },
      { "lookupResponsibility", "rp.example.test",
        { "<RP mbox=admin.example.test txt=rp-info.example.test ttl=3600>" } },
      { "lookupAFSDatabase", "afsdb.example.test",
        { "<AFSDB subtype=1 hostname=afsdb-server.example.test ttl=3600>" } },
      { "lookupNamingAuthorityPointer", "naptr.example.test",
        { "<NAPTR order=100 preference=10 flags=S service=SIP+D2U regexp= "
          .. "replacement=_sip._udp.example.test ttl=3600>",
          "<NAPTR order=100 preference=20 flags=U service=E2U+sip "
          .. "regexp=!^.*$!sip:info@example.test! replacement= ttl=3600>" } },
    }
    for _, case in ipairs(cases) do
      local method, name, expected = case[1], case[2], case[3]
      it(("%s(%q) gives the zone's records"):format(method, name), function()
        local result = async.wait(r[method](r, name))
        assert.same(expected, payloads(result))
        for _, rr in ipairs(result.answers) do
          assert.equal(name, rr.name.name)
          assert.is_true(rr.auth)
        end
      end)
      it(("client.%s is the same lookup on the global resolver"):format(method), function()
        local saved = client.theResolver
        client.theResolver = r
        local ok, result = pcall(async.wait, client[method](name))
        client.theResolver = saved
        assert.is_true(ok, result)
        assert.same(expected, payloads(result))
      end)
    end

    it("lookupAllRecords asks ANY and takes whatever the server gives", function()
      local result = async.wait(r:lookupAllRecords("www.example.test"))
      assert.is_true(#result.answers >= 1)
      for _, rr in ipairs(result.answers) do
        assert.equal("www.example.test", rr.name.name)
      end
    end)

    it("query(dns.Query) asks any type, the unknown ones too", function()
      local result = async.wait(r:query(dns.Query("type65280.example.test", 65280)))
      assert.equal(1, #result.answers)
      assert.equal("<UNKNOWN data='\\xc0\\x00\\x02\\x01' ttl=3600>", tostring(result.answers[1].payload))
      assert.equal("\\# 4 C0000201", result.answers[1].payload:toText())
    end)

    it("takes its arguments as one table too", function()
      local result = async.wait(r:lookupAddress{ name = "www.example.test", timeout = { 2 } })
      assert.same({ "<A address=192.0.2.10 ttl=3600>" }, payloads(result))
    end)
  end)

  describe("the result", function()
    local r
    before_each(function()
      r = resolver()
    end)
    after_each(function()
      r:close()
    end)

    it("carries no tries unless the resolver reports them", function()
      local result = async.wait(r:lookupAddress("www.example.test"))
      assert.is_nil(result.attempts)
      local reporting = client.Resolver{ servers = { env.server }, reportAttempts = true }
      result = async.wait(reporting:lookupAddress("www.example.test"))
      reporting:close()
      assert.equal(1, #result.attempts)
      assert.same({ "127.0.0.1:" .. env.port, "udp", "answer", 0 }, { result.attempts[1].server,
        result.attempts[1].transport, result.attempts[1].outcome, result.attempts[1].rcode })
    end)

    it("sets the DO bit with dnssec = true and clears RD with recurse = false", function()
      local plain = async.wait(r:lookupAddress("www.example.test")).message
      assert.is_true(plain.recDes)
      assert.is_false(plain.dnssecOK)
      local asking = client.Resolver{ servers = { env.server }, dnssec = true, recurse = false }
      local m = async.wait(asking:lookupAddress("www.example.test")).message
      asking:close()
      -- the server copies RD and echoes DO (RFC 3225)
      assert.is_false(m.recDes)
      assert.is_true(m.dnssecOK)
    end)

    it("unpacks into answers, authority and additional", function()
      local result = async.wait(r:lookupMailExchange("example.test"))
      local answers, authority, additional = table.unpack(result)
      assert.equal(result.answers, answers)
      assert.equal(result.authority, authority)
      assert.equal(result.additional, additional)
      assert.equal(2, #answers)
      assert.equal(2, #authority)
      assert.is_true(#additional >= 2)
    end)

    it("never holds the OPT record among the additional records", function()
      local result = async.wait(r:lookupMailExchange("example.test"))
      assert.is_not_nil(result.message.ednsVersion)
      for _, rr in ipairs(result.additional) do
        assert.are_not.equal(dns.OPT, rr.type)
      end
    end)

    it("prints as Twisted's tuple", function()
      local result = async.wait(r:lookupAddress("www.example.test"))
      local expected = "([<RR name=www.example.test type=A class=IN ttl=3600s auth=True>], "
        .. "[<RR name=example.test type=NS class=IN ttl=3600s auth=True>, "
        .. "<RR name=example.test type=NS class=IN ttl=3600s auth=True>], ["
      assert.equal(expected, tostring(result):sub(1, #expected))
      assert.matches("auth=True>%]%)$", tostring(result))
    end)

    it("shows in the Deferred's text once it has fired", function()
      local d = r:lookupCanonicalName("cname.example.test")
      assert.matches("^<Deferred at 0x%x+>$", tostring(d))
      async.wait(d)
      assert.matches("^<Deferred at 0x%x+ current result: %(%[<RR name=cname.example.test type=CNAME "
        .. "class=IN ttl=3600s auth=True>%], ", tostring(d))
    end)

    it("is a success with no answers for NODATA", function()
      local result = async.wait(r:lookupIPV6Address("nodata.example.test"))
      assert.equal(0, #result.answers)
      assert.equal(dns.SOA, result.authority[1].type)
    end)

    it("is a success with no answers for a referral", function()
      local result = async.wait(r:lookupAddress("www.sub.example.test"))
      assert.equal(0, #result.answers)
      assert.equal(dns.NS, result.authority[1].type)
      assert.equal("sub.example.test", result.authority[1].name.name)
      assert.is_false(result.authority[1].auth)
    end)
  end)

  describe("errors", function()
    local r
    before_each(function()
      r = resolver({ timeout = { 0.3 } })
    end)
    after_each(function()
      r:close()
    end)

    it("errbacks a missing name with DNSNameError carrying the response", function()
      local failure = async.failure(r:lookupAddress("no-such-name.example.test"))
      assert.equal(errors.DNSNameError, failure:trap(errors.DNSNameError))
      local response = failure.value.args[1]
      assert.equal(dns.ENAME, response.rCode)
      assert.equal(response, failure.value.response)
      assert.equal(dns.SOA, response.authority[1].type)
      assert.matches("no%-such%-name%.example%.test A IN>: 127%.0%.0%.1:%d+ udp answer", failure.value.reason)
    end)

    it("errbacks a refusal with DNSQueryRefusedError", function()
      local failure = async.failure(r:lookupAddress("www.not-served.test"))
      assert.is_not_nil(failure:check(errors.DNSQueryRefusedError))
      assert.is_not_nil(failure:check(errors.DomainError))
    end)

    it("asks for the root as '' and as '.', through the search list too", function()
      -- named serves no root zone: it refuses, which shows the question went out
      local conf = tempfile(("nameserver [127.0.0.1]:%d\nsearch example.test\n"):format(env.port))
      local chain = client.createResolver{ resolvconf = conf, hosts = "/nonexistent" }
      for _, d in ipairs{ r:lookupNameservers(""), chain:lookupNameservers("."),
        chain:query(dns.Query("", dns.SOA)) } do
        local failure = async.failure(d)
        assert.is_not_nil(failure:check(errors.DNSQueryRefusedError))
        assert.equal("", failure.value.response.queries[1].name.name)
      end
      os.remove(conf)
    end)

    it("errbacks a silent server with DNSQueryTimeoutError, a TimeoutError", function()
      local silent = standStill(resolver({ servers = { { "127.0.0.1", env.bad.silent } },
        timeout = { 0.1, 0.2 } }))
      local failure
      silent:lookupAddress("www.example.test"):addErrback(function(f) failure = f end)
      clockTo(silent, 0.1)
      clockTo(silent, 0.299)
      assert.is_nil(failure)
      clockTo(silent, 0.3)
      silent:close()
      assert.is_not_nil(failure:check(errors.DNSQueryTimeoutError))
      assert.is_not_nil(failure:check(defer.TimeoutError))
      assert.equal(2, #failure.value.attempts)
      assert.equal("timeout", failure.value.attempts[2].outcome)
      assert.matches("udp timeout after 0%.1", failure:getErrorMessage())
    end)

    it("reports the last server's error when every server fails", function()
      local both = resolver({ servers = { { "127.0.0.1", env.bad.servfail }, { "127.0.0.1", env.bad.refused } } })
      local failure = async.failure(both:lookupAddress("www.example.test"))
      both:close()
      assert.is_not_nil(failure:check(errors.DNSQueryRefusedError))
      assert.equal(2, #failure.value.attempts)
      assert.equal(2, failure.value.attempts[1].rcode)
      assert.equal(5, failure.value.attempts[2].rcode)
    end)

    it("asks the next server after SERVFAIL", function()
      local two = resolver({ servers = { { "127.0.0.1", env.bad.servfail }, env.server } })
      local result = async.wait(two:lookupAddress("www.example.test"))
      two:close()
      assert.same({ "<A address=192.0.2.10 ttl=3600>" }, payloads(result))
    end)

    it("raises at once for a label over 63 octets, naming the argument", function()
      local ok, err = pcall(r.lookupAddress, r, ("a"):rep(64) .. ".example.test")
      assert.is_false(ok)
      assert.matches("bad argument #1 to 'lookupAddress' %(label longer than 63 octets", err)
    end)

    it("raises at once for a name over 255 octets", function()
      local long = ("abcdefghij."):rep(24) .. "example.test"
      local ok, err = pcall(r.lookupMailExchange, r, long)
      assert.is_false(ok)
      assert.matches("name longer than 255 octets", err)
    end)

    it("raises at once for a name of the wrong type", function()
      local ok, err = pcall(r.lookupAddress, r, 42)
      assert.is_false(ok)
      assert.matches("bad argument #1 to 'lookupAddress' %(name: string expected, got number%)", err)
    end)

    it("raises at once for a bad timeout", function()
      local ok, err = pcall(r.lookupAddress, r, "www.example.test", { 1, -2 })
      assert.is_false(ok)
      assert.matches("timeout%[2%]: positive seconds expected", err)
    end)

    it("raises at once for a bad server address or port", function()
      local ok, err = pcall(client.Resolver, { servers = { "300.1.2.3" } })
      assert.is_false(ok)
      assert.matches("bad address '300.1.2.3'", err)
      ok, err = pcall(client.Resolver, { servers = { { "127.0.0.1", 70000 } } })
      assert.is_false(ok)
      assert.matches("port in 1..65535", err)
    end)

    it("blames the caller's line for a bad server, in Resolver and createResolver", function()
      local line
      local ok, err = pcall(function()
        line = debug.getinfo(1, "l").currentline + 1
        local made = client.Resolver{ servers = { "1.2.3" } }
        return made
      end)
      assert.is_false(ok)
      assert.equal(("client_spec.lua:%d: bad argument 'servers' to 'Resolver' (server 1: bad address '1.2.3')")
        :format(line), err:match("[^/]*$"))
      ok, err = pcall(function()
        line = debug.getinfo(1, "l").currentline + 1
        local made = client.createResolver{ servers = { "[::1]:0" }, resolvconf = "/nonexistent" }
        return made
      end)
      assert.is_false(ok)
      assert.matches("^client_spec%.lua:" .. line .. ": bad argument 'servers' to 'Resolver' %(server 1",
        err:match("[^/]*$"))
    end)

    it("names the option whose value has the wrong type", function()
      local cache = require "names.cache"
      local resolve = require "names.resolve"
      local server = { { "127.0.0.1", env.bad.silent } }
      for _, case in ipairs{
        { { edns = 1.5 }, "edns: a boolean, 0 or 512..65535 expected" },
        { { maxInflight = true }, "maxInflight: a number expected, got boolean" },
        { { udpMaxQueries = "x" }, "udpMaxQueries: a number expected, got string" },
        { { rotate = "yes" }, "rotate: a boolean expected, got string" },
        { { dnssec = 1 }, "dnssec: a boolean expected, got number" },
        { { recurse = "no" }, "recurse: a boolean expected, got string" },
        { { reportAttempts = {} }, "reportAttempts: a boolean expected, got table" },
      } do
        case[1].servers = server
        local ok, err = pcall(client.Resolver, case[1])
        assert.is_false(ok)
        assert.equal("bad argument #1 to 'Resolver' (" .. case[2] .. ")", err:match("bad argument.*"))
      end
      local network = client.Resolver{ servers = server }
      local ok, err = pcall(network.setCache, network, {})
      assert.is_false(ok)
      assert.matches("bad argument #1 to 'setCache' %(a names%.cache%.CacheResolver expected", err)
      network:close()
      ok, err = pcall(cache.CacheResolver, { clock = 5 })
      assert.is_false(ok)
      assert.matches("%(clock: something with seconds%(%) expected, got number%)", err)
      ok, err = pcall(cache.CacheResolver, { maxTTL = "x" })
      assert.is_false(ok)
      assert.matches("%(maxTTL: an integer expected, got string%)", err)
      ok, err = pcall(resolve.ResolverChain, { network, 5 })
      assert.is_false(ok)
      assert.matches("%(resolver 2: something with query%(%) expected, got number%)", err)
      for _, case in ipairs{
        { function() client.Resolver(nil, server, nil, 5) end,
          "bad argument #4 to 'Resolver' (a table of options expected, got number)" },
        { function() client.Resolver{ servers = { { true, 53 } } } end,
          "bad argument 'servers' to 'Resolver' (server 1: a host string expected, got boolean)" },
        { function() client.Resolver{ servers = { x = 1 } } end,
          "bad argument 'servers' to 'Resolver' (a list expected, got a table with no list part)" },
        { function() client.createResolver{ resolvconf = 0 } end,
          "bad argument 'resolvconf' to 'createResolver' (a path expected, got number)" },
        { function() client.createResolver{ servers = server, hosts = "/etc/hosts\0.bak" } end,
          "bad argument 'hosts' to 'createResolver' (a path expected, got a string with a NUL byte)" },
        { function() network:getHostByName("x", nil, "x") end,
          "bad argument #3 to 'getHostByName' (effort: a count of CNAMEs to follow expected)" },
        { function() reactor.resolve("x", "y") end,
          "bad argument #2 to 'resolve' (timeout: a list of seconds expected, got string)" },
      } do
        assert.has_error(case[1], case[2])
      end
    end)

    it("refuses unknown options and a server list where options belong", function()
      local ok, err = pcall(client.Resolver, { { "127.0.0.1", 53 } })
      assert.is_false(ok)
      assert.matches("bad argument #1 to 'Resolver' %(a table of options expected, got a list", err)
      ok, err = pcall(client.Resolver, { server = "127.0.0.1" })
      assert.is_false(ok)
      assert.matches("unknown option 'server'", err)
      ok, err = pcall(client.createResolver, { servres = {} })
      assert.is_false(ok)
      assert.matches("bad argument #1 to 'createResolver' %(unknown option 'servres'%)", err)
      -- {} is every default; a list is Twisted's positional servers
      local saved = client.defaultResolvConf
      client.defaultResolvConf = tempfile(("nameserver 127.0.0.1:%d\n"):format(env.port))
      local chain = client.createResolver{}
      assert.same({ "127.0.0.1:" .. env.port }, chain.resolvers[3]:getServers())
      os.remove(client.defaultResolvConf)
      client.defaultResolvConf = saved
      chain = client.createResolver({ { "127.0.0.1", env.bad.ok } }, "/nonexistent", "/nonexistent")
      assert.same({ "127.0.0.1:" .. env.bad.ok }, chain.resolvers[3]:getServers())
    end)

    it("errbacks with CancelledError when the lookup is cancelled", function()
      local silent = resolver({ servers = { { "127.0.0.1", env.bad.silent } } })
      local d = silent:lookupAddress("www.example.test")
      d:cancel()
      local failure = async.failure(d, 1)
      silent:close()
      assert.is_not_nil(failure:check(defer.CancelledError))
    end)
  end)

  describe("getHostByName", function()
    local r
    before_each(function()
      r = resolver()
    end)
    after_each(function()
      r:close()
    end)

    it("prefers the IPv6 address, as Twisted", function()
      assert.equal("2001:db8::10", async.wait(r:getHostByName("www.example.test")))
    end)

    it("gives the IPv4 address of a name that has only that", function()
      assert.equal("192.0.2.50", async.wait(r:getHostByName("nodata.example.test")))
    end)

    it("follows a CNAME chain the server followed", function()
      assert.equal("2001:db8::30", async.wait(r:getHostByName("chain1.example.test")))
    end)

    it("asks again for a CNAME target the server did not follow", function()
      assert.equal("2001:db8::100", async.wait(r:getHostByName("to-other.example.test")))
    end)

    it("answers a wildcard", function()
      assert.equal("192.0.2.40", async.wait(r:getHostByName("anything.wild.example.test")))
    end)

    it("errbacks a missing name with DNSNameError", function()
      local failure = async.failure(r:getHostByName("missing.example.test"))
      assert.is_not_nil(failure:check(errors.DNSNameError))
    end)

    it("errbacks a name without an address with DNSNameError", function()
      local failure = async.failure(r:getHostByName("txt.example.test"))
      assert.is_not_nil(failure:check(errors.DNSNameError))
      assert.matches("no address for txt.example.test", failure:getErrorMessage())
    end)

    it("gives a Deferred that prints as Twisted's while it waits", function()
      local d = r:getHostByName("www.example.test")
      assert.matches("^<Deferred at 0x%x+ waiting on Deferred at 0x%x+>$", tostring(d))
      async.wait(d)
      assert.matches("^<Deferred at 0x%x+ current result: '2001:db8::10'>$", tostring(d))
    end)

    it("cancels both of its lookups when cancelled", function()
      local silent = resolver({ servers = { { "127.0.0.1", env.bad.silent } } })
      local d = silent:getHostByName("www.example.test")
      d:cancel()
      assert.is_not_nil(async.failure(d, 1):check(defer.CancelledError))
      assert.equal(0, silent._core:stats().pending)
      silent:close()
    end)

    it("asks AAAA and A, never ANY", function()
      env.bad_reset("ok")
      local ok = resolver({ servers = { { "127.0.0.1", env.bad.ok } } })
      assert.equal("2001:db8::1", async.wait(ok:getHostByName("x.bad.test")))
      ok:close()
      assert.equal(2, env.bad_count("ok"))
    end)
  end)

  describe("zone transfers", function()
    it("lookupZone gives every record of every message, closing SOA included", function()
      local r = resolver()
      local result = async.wait(r:lookupZone("axfr.test"))
      r:close()
      assert.equal(dns.SOA, result.answers[1].type)
      assert.equal(dns.SOA, result.answers[#result.answers].type)
      local expected = #env.dig("axfr.test", "AXFR")
      assert.equal(expected, #result.answers)
      assert.is_true(#result.answers > 3000)
    end)

    it("lookupZone of a zone the server does not have fails", function()
      local r = resolver()
      local failure = async.failure(r:lookupZone("not-served.test"))
      r:close()
      assert.is_not_nil(failure:check(errors.DomainError))
    end)

    it("lookupZone takes its timeout from the table form too", function()
      local silent = standStill(resolver({ servers = { { "127.0.0.1", env.bad.silent } } }))
      local failure
      silent:lookupZone{ name = "axfr.test", timeout = 0.2 }:addErrback(function(f) failure = f end)
      clockTo(silent, 0.199)
      assert.is_nil(failure)
      clockTo(silent, 0.2) -- not the default 10 s
      silent:close()
      assert.is_not_nil(failure:check(errors.DNSQueryTimeoutError))
    end)
  end)

  describe("resolv.conf", function()
    it("gives the servers, the search list and ndots", function()
      local conf = tempfile(("nameserver [127.0.0.1]:%d\nsearch example.test other.test\n"
        .. "options ndots:2\n"):format(env.port))
      local r = client.Resolver(conf)
      assert.same({ "127.0.0.1:" .. env.port }, r:getServers())
      assert.same({ "www.example.test", "www.other.test", "www" }, r:_candidates("www"))
      assert.same({ "a.b.c", "a.b.c.example.test", "a.b.c.other.test" }, r:_candidates("a.b.c"))
      assert.same({ "www.example.test" }, r:_candidates("www.example.test."))
      assert.equal("2001:db8::100", async.wait(r:getHostByName("to-other")))
      local result = async.wait(r:lookupAddress("www"))
      assert.equal("www.example.test", result.answers[1].name.name)
      r:close()
      os.remove(conf)
    end)

    it("skips lines it cannot parse, and comments", function()
      local conf = tempfile(("# comment\n; another\nnameserver not-an-address\nbogus line\n"
        .. "nameserver 127.0.0.1:%d\noptions timeout:1 attempts:3 rotate\n"):format(env.port))
      local r = client.Resolver(conf)
      assert.same({ "127.0.0.1:" .. env.port }, r:getServers())
      assert.same({ 1, 1, 1 }, r.timeout)
      assert.equal("2001:db8::10", async.wait(r:getHostByName("www.example.test")))
      r:close()
      os.remove(conf)
    end)

    it("means 127.0.0.1:53 when missing or empty, as Twisted", function()
      local r = client.Resolver("/nonexistent/resolv.conf")
      assert.same({ "127.0.0.1:53" }, r:getServers())
      assert.same(client.defaultTimeout, r.timeout)
      r:close()
      local empty = tempfile("")
      r = client.Resolver(empty)
      assert.same({ "127.0.0.1:53" }, r:getServers())
      r:close()
      os.remove(empty)
    end)

    it("is read again when it changes", function()
      local conf = tempfile("nameserver 127.0.0.1:" .. env.bad.silent .. "\n")
      local r = client.Resolver(conf)
      assert.same({ "127.0.0.1:" .. env.bad.silent }, r:getServers())
      local f = assert(io.open(conf, "w"))
      f:write("nameserver 127.0.0.1:" .. env.port .. "\n\n")
      f:close()
      async.loopUntil(function() return false end, 1.1)
      assert.same({ "127.0.0.1:" .. env.port }, r:getServers())
      assert.equal("192.0.2.10", async.wait(r:lookupAddress("www.example.test")).answers[1].payload.address)
      r:close()
      os.remove(conf)
    end)

    it("asks over TCP with use-vc", function()
      local conf = tempfile(("nameserver 127.0.0.1:%d\noptions use-vc\n"):format(env.port))
      local r = client.Resolver(conf)
      async.wait(r:lookupAddress("www.example.test"))
      local stats = r._core:stats()
      r:close()
      os.remove(conf)
      assert.equal(0, stats.sentUDP)
      assert.equal(1, stats.sentTCP)
    end)
  end)

  describe("the global resolver", function()
    local saved
    before_each(function()
      saved = { client.theResolver, client.defaultResolvConf, client.defaultHosts }
    end)
    after_each(function()
      client.theResolver, client.defaultResolvConf, client.defaultHosts = table.unpack(saved)
    end)

    it("is made on first use from the default files", function()
      client.theResolver = nil
      client.defaultResolvConf = tempfile(("nameserver 127.0.0.1:%d\n"):format(env.port))
      client.defaultHosts = tempfile("192.0.2.200 fromhosts.example.test\n")
      local r = client.getResolver()
      assert.equal(r, client.theResolver)
      assert.equal(r, client.getResolver())
      assert.equal("192.0.2.200", async.wait(client.getHostByName("fromhosts.example.test")))
      assert.equal("2001:db8::10", async.wait(client.getHostByName("www.example.test")))
      os.remove(client.defaultResolvConf)
      os.remove(client.defaultHosts)
    end)

    it("is replaced by assigning client.theResolver", function()
      local fake = { lookupAddress = function() return defer.succeed("fake") end }
      client.theResolver = fake
      assert.equal("fake", async.wait(client.lookupAddress("anything")))
    end)
  end)

  describe("createResolver", function()
    it("chains the hosts file, the cache and the network, in that order", function()
      local hosts = tempfile("192.0.2.250 www.example.test\n")
      env.bad_reset("ok")
      local chain = client.createResolver{ servers = { { "127.0.0.1", env.bad.ok } }, hosts = hosts,
        resolvconf = "/nonexistent" }
      -- the hosts file wins over the network
      assert.equal("192.0.2.250", async.wait(chain:lookupAddress("www.example.test")).answers[1].payload.address)
      assert.equal(0, env.bad_count("ok"))
      -- the network answers what the file lacks, and the cache keeps it
      local first = async.wait(chain:lookupAddress("cached.bad.test"))
      assert.equal("192.0.2.1", first.answers[1].payload.address)
      local second = async.wait(chain:lookupAddress("CACHED.bad.test"))
      assert.equal("192.0.2.1", second.answers[1].payload.address)
      assert.equal(1, env.bad_count("ok"))
      os.remove(hosts)
    end)

    it("answers getHostByName of a name the hosts file lists with IPv4 only, without the network", function()
      local hosts = tempfile("192.0.2.251 v4only.example.test\n")
      -- a silent server: asking it would cost the whole timeout
      local chain = client.createResolver{ servers = { { "127.0.0.1", env.bad.silent } }, hosts = hosts,
        resolvconf = "/nonexistent" }
      env.bad_reset("silent")
      local t0 = reactor.seconds()
      assert.equal("192.0.2.251", async.wait(chain:getHostByName("v4only.example.test")))
      assert.is_true(reactor.seconds() - t0 < 0.5)
      assert.equal(0, env.bad_count("silent"))
      os.remove(hosts)
    end)

    it("keeps a negative answer: the chain does not ask the network again", function()
      env.bad_reset("ok")
      local chain = client.createResolver{ servers = { { "127.0.0.1", env.bad.ok } }, hosts = "/nonexistent",
        resolvconf = "/nonexistent" }
      local cacheResolver = chain.resolvers[2]
      local nx = dns.Message{ answer = true, rCode = dns.ENAME, queries = { dns.Query("gone.bad.test") },
        authority = { dns.RRHeader("bad.test", dns.SOA, dns.IN, 300,
          dns.Record_SOA{ mname = "ns.bad.test", rname = "h.bad.test", minimum = 300 }) } }
      cacheResolver:cacheResult(dns.Query("gone.bad.test"), nx)
      local failure = async.failure(chain:lookupAddress("gone.bad.test"))
      assert.is_not_nil(failure:check(errors.DNSNameError))
      assert.equal(0, env.bad_count("ok"))
    end)

    it("finds what the cache holds under a name the search list made", function()
      local conf = tempfile(("nameserver [127.0.0.1]:%d\nsearch bad.test\noptions ndots:1\n"):format(env.bad.ok))
      env.bad_reset("ok")
      local chain = client.createResolver{ resolvconf = conf, hosts = "/nonexistent" }
      -- "www" has no dot: www.bad.test is asked first, and answered
      assert.equal("192.0.2.1", async.wait(chain:lookupAddress("www")).answers[1].payload.address)
      assert.equal(1, env.bad_count("ok"))
      local again = async.wait(chain:lookupAddress("www"))
      assert.equal("www.bad.test", again.answers[1].name.name)
      assert.equal(1, env.bad_count("ok"))
      os.remove(conf)
    end)
  end)

  describe("reactor.resolve", function()
    it("answers an address with itself, and '' with 0.0.0.0, asking no one", function()
      local old = reactor.installResolver({ getHostByName = function() error("asked") end })
      assert.equal("192.0.2.7", async.wait(reactor.resolve("192.0.2.7")))
      assert.equal("2001:db8::7", async.wait(reactor.resolve("2001:db8::7")))
      assert.equal("0.0.0.0", async.wait(reactor.resolve("")))
      local ok, err = pcall(reactor.resolve, 5)
      assert.is_false(ok)
      assert.matches("bad argument #1 to 'resolve' %(name: string expected, got number%)", err)
      -- back as it was: with none installed, resolve asks the global
      -- resolver (made on first use, not now), which the spec helper points
      -- at the test server
      reactor.installResolver(old or { getHostByName = function(_, ...)
        return client.getResolver():getHostByName(...)
      end })
      assert.is_truthy(client.defaultResolvConf ~= "/etc/resolv.conf")
    end)

    it("uses the installed resolver", function()
      local r = client.createResolver{ servers = { env.server }, resolvconf = "/nonexistent",
        hosts = "/nonexistent" }
      local old = reactor.installResolver(r)
      assert.equal("2001:db8::10", async.wait(reactor.resolve("www.example.test")))
      if old then reactor.installResolver(old) end
    end)
  end)
end)
