-- DNS over TLS and DNS over HTTPS through names.client, against the test
-- named's encrypted listeners (spec/support/servers.sh: a valid chain for
-- dns.example.test from the test CA, an expired one, one for another name, a
-- self-signed one) and the misbehaving TLS servers of spec/support/tlsbad.c.
local env = require "testenv"
local async = require "async"
local client = require "names.client"
local defer = require "names.defer"

local format = string.format

local CA = env.certs .. "/ca.pem"
local function tlsURL(port, name) return format("tls://127.0.0.1:%d#%s", port, name or "dns.example.test") end
local function dohURL(port, path) return format("https://127.0.0.1:%d%s", port, path or "/dns-query") end

local function payloads(result)
  local out = {}
  for i, rr in ipairs(result.answers) do out[i] = tostring(rr.payload) end
  table.sort(out)
  return out
end

-- The records of each section as dig prints them, sorted: two answers
-- compare whatever the order of the records.
local function sections(result)
  local out = {}
  for s = 1, 3 do
    local lines = {}
    for i, rr in ipairs(result[s]) do lines[i] = rr:toText() end
    table.sort(lines)
    out[s] = lines
  end
  return out
end

local function readFile(path)
  local f = io.open(path)
  if not f then return "" end
  local s = f:read("a")
  f:close()
  return s
end

local function pin()
  return (readFile(env.certs .. "/good.spki"):gsub("%s", ""))
end

-- Whether named's query log mentions name.
local function logged(name)
  return readFile(env.root .. "/build/testenv/named/queries.log"):lower():find(name:lower(), 1, true) ~= nil
end

local seq = 0
local function uniqueName(what)
  seq = seq + 1
  return format("%s-%d-%d.example.test", what, os.time() % 100000, seq)
end

local resolvers = {}
local function resolver(o)
  o.timeout = o.timeout or { 3 }
  local r = client.Resolver(o)
  resolvers[#resolvers + 1] = r
  return r
end

describe("encrypted DNS", function()
  setup(function()
    env.assert_server_up()
  end)
  after_each(function()
    for _, r in ipairs(resolvers) do r:close() end
    resolvers = {}
  end)

  describe("every lookup type", function()
    local cases = {
      { "lookupAddress", "www.example.test" }, { "lookupIPV6Address", "www.example.test" },
      { "lookupAddress6", "a6-prefix.example.test" }, { "lookupMailExchange", "example.test" },
      { "lookupNameservers", "example.test" }, { "lookupCanonicalName", "cname.example.test" },
      { "lookupMailBox", "mb.example.test" }, { "lookupMailGroup", "mg.example.test" },
      { "lookupMailRename", "mr.example.test" }, { "lookupPointer", "10.2.0.192.in-addr.arpa" },
      { "lookupAuthority", "example.test" }, { "lookupNull", "null.example.test" },
      { "lookupWellKnownServices", "wks.example.test" }, { "lookupService", "_sip._udp.example.test" },
      { "lookupHostInfo", "hinfo.example.test" }, { "lookupMailboxInfo", "minfo.example.test" },
      { "lookupText", "txt.example.test" }, { "lookupSenderPolicy", "spf.example.test" },
      { "lookupResponsibility", "rp.example.test" }, { "lookupAFSDatabase", "afsdb.example.test" },
      { "lookupNamingAuthorityPointer", "naptr.example.test" }, { "lookupAllRecords", "www.example.test" },
      { "lookupText", "bigtxt.example.test" },
    }
    for _, transport in ipairs{ "tls", "https" } do
      it(format("over %s:// returns exactly what UDP returns", transport), function()
        local plain = resolver{ servers = { env.server } }
        local secure = resolver{
          servers = { transport == "tls" and tlsURL(env.tls.dot) or dohURL(env.tls.doh) }, caFile = CA,
        }
        for _, case in ipairs(cases) do
          local method, name = case[1], case[2]
          local want = async.wait(plain[method](plain, name))
          local got = async.wait(secure[method](secure, name))
          assert.is_true(#want.answers > 0, method .. " " .. name)
          assert.same(sections(want), sections(got), method .. " " .. name)
          assert.same(payloads(want), payloads(got))
        end
        -- a name that does not exist fails the same way
        local f1 = async.failure(plain:lookupAddress("nonexistent.example.test"))
        local f2 = async.failure(secure:lookupAddress("nonexistent.example.test"))
        assert.is_truthy(f1:check(require("names.error").DNSNameError))
        assert.is_truthy(f2:check(require("names.error").DNSNameError))
        -- every query went over the encrypted transport, on one connection
        local stats = secure._core:stats()
        assert.equal(0, stats.sentUDP + stats.sentTCP)
        assert.equal(1, transport == "tls" and stats.tlsOpened or stats.httpsOpened)
        local sec = secure:getServerSecurity()[1]
        assert.is_true(sec.verified)
        -- named agrees to ALPN "dot" (RFC 7858 asks for none) and "h2"
        assert.equal(transport == "https" and "h2" or "dot", sec.alpn)
      end)
    end

    it("transfers a zone over TLS (RFC 9103)", function()
      local plain = resolver{ servers = { env.server } }
      local secure = resolver{ servers = { tlsURL(env.tls.dot) }, caFile = CA }
      local want = async.wait(plain:lookupZone("axfr.test"))
      local got = async.wait(secure:lookupZone("axfr.test"))
      assert.is_true(#want[1] > 2)
      assert.same(sections(want), sections(got))
      assert.equal(0, secure._core:stats().sentTCP)
    end)

    it("refuses a zone transfer over https:// (one answer per query), saying so", function()
      local r = resolver{ servers = { dohURL(env.tls.doh) }, caFile = CA }
      local f = async.failure(r:lookupZone("axfr.test"))
      assert.equal("https", f.value.attempts[1].transport)
      assert.equal("operation not supported on socket", f.value.attempts[1].error)
    end)

    it("speaks to ::1 over TLS and HTTPS", function()
      if not env.ipv6 then return end -- no ::1 on this machine: servers.sh listens on 127.0.0.1 only
      for _, url in ipairs{ format("tls://[::1]:%d#dns.example.test", env.tls.dot),
                            format("https://dns.example.test:%d/dns-query#::1", env.tls.doh) } do
        local r = resolver{ servers = { url }, caFile = CA }
        assert.same({ "<A address=192.0.2.10 ttl=3600>" }, payloads(async.wait(r:lookupAddress("www.example.test"))))
      end
    end)

    it("GET queries (dohGet) are answered as POST ones", function()
      local r = resolver{ servers = { dohURL(env.tls.doh) }, caFile = CA, dohGet = true }
      assert.same({ "<A address=192.0.2.10 ttl=3600>" }, payloads(async.wait(r:lookupAddress("www.example.test"))))
    end)
  end)

  describe("strict verification", function()
    local bad = {
      { "an expired certificate", "expired", "certificate expired" },
      { "a certificate for another name", "wrongname", "certificate for another name" },
      { "a self-signed certificate", "selfsigned", "certificate from an unknown CA" },
    }
    for _, case in ipairs(bad) do
      it(format("refuses %s, says why and sends no query", case[1]), function()
        local name = uniqueName("strict-" .. case[2])
        local r = resolver{ servers = { tlsURL(env.tls[case[2]]) }, caFile = CA }
        local f = async.failure(r:lookupAddress(name))
        local attempts = f.value.attempts
        assert.equal("tls", attempts[1].transport)
        assert.equal(case[3], attempts[1].error)
        assert.matches(case[3], tostring(f.value), 1, true)
        assert.is_false(logged(name))
      end)
    end

    it("refuses the test CA's chain when only the system's CAs are trusted", function()
      local r = resolver{ servers = { tlsURL(env.tls.dot) } }
      local f = async.failure(r:lookupAddress("www.example.test"))
      assert.equal("certificate from an unknown CA", f.value.attempts[1].error)
    end)

    it("checks the address when the URL gives no name", function()
      local r = resolver{ servers = { format("tls://127.0.0.1:%d", env.tls.dot) }, caFile = CA }
      assert.same({ "<A address=192.0.2.10 ttl=3600>" }, payloads(async.wait(r:lookupAddress("www.example.test"))))
    end)

    it("holds for https:// servers too", function()
      local r = resolver{ servers = { format("https://dns.example.test:%d/dns-query#127.0.0.1", env.tls.doh) } }
      local f = async.failure(r:lookupAddress("www.example.test"))
      assert.equal("https", f.value.attempts[1].transport)
      assert.equal("certificate from an unknown CA", f.value.attempts[1].error)
    end)

    it("fails over to the next server, naming what failed", function()
      local r = resolver{ servers = { tlsURL(env.tls.expired), tlsURL(env.tls.dot) }, caFile = CA }
      local result = async.wait(r:lookupAddress("www.example.test"))
      assert.same({ "<A address=192.0.2.10 ttl=3600>" }, payloads(result))
    end)
  end)

  describe("opportunistic mode", function()
    it("goes on past a bad certificate and says so", function()
      local name = uniqueName("opportunistic")
      local r = resolver{ servers = { tlsURL(env.tls.expired) }, caFile = CA, tls = "opportunistic" }
      local result = async.wait(r:lookupAddress("www.example.test"))
      assert.same({ "<A address=192.0.2.10 ttl=3600>" }, payloads(result))
      local sec = r:getServerSecurity()[1]
      assert.is_false(sec.verified)
      assert.equal("certificate expired", sec.check)
      -- over TLS, not in clear
      assert.is_nil(sec.clear)
      assert.equal(0, r._core:stats().sentUDP)
      -- and what it asks reaches named (the log check above can see queries)
      async.failure(r:lookupAddress(name))
      assert.is_true(logged(name))
    end)
  end)

  describe("the opportunistic fallback to clear text", function()
    it("asks in clear when no encrypted connection can be had, and says so", function()
      -- the alert server speaks no TLS we accept; named's plain port stands for port 53
      local r = resolver{ servers = { tlsURL(env.tls.alert) }, caFile = CA, tls = "opportunistic",
        clearPort = env.port }
      local d = r:lookupAddress("www.example.test")
      local result = async.wait(d)
      assert.same({ "<A address=192.0.2.10 ttl=3600>" }, payloads(result))
      assert.is_true(r:getServerSecurity()[1].clear)
      local stats = r._core:stats()
      assert.equal(1, stats.sentTLS)
      assert.equal(1, stats.sentUDP)
    end)

    it("asks in clear when the handshake does not finish within the try's time", function()
      -- the silent server accepts the connection and never says a word
      local r = resolver{ servers = { format("tls://127.0.0.1:%d#dns.example.test", env.bad.silent) },
        caFile = CA, tls = "opportunistic", clearPort = env.port, timeout = { 0.3, 0.3 } }
      local d = r:lookupAddress("www.example.test")
      local result = async.wait(d)
      assert.same({ "<A address=192.0.2.10 ttl=3600>" }, payloads(result))
      assert.is_true(r:getServerSecurity()[1].clear)
      local stats = r._core:stats()
      assert.equal(1, stats.sentTLS)
      assert.equal(1, stats.sentUDP)
      -- that server makes a TLS try time out (it accepts and says nothing),
      -- as strict mode, which never falls back, shows
      local timedOut = async.failure(resolver{ servers = {
        format("tls://127.0.0.1:%d#dns.example.test", env.bad.silent) }, caFile = CA,
        timeout = { 0.3 } }:lookupAddress("www.example.test"))
      assert.equal("timeout", timedOut.value.attempts[1].outcome)
    end)

    it("never happens in strict mode", function()
      local r = resolver{ servers = { tlsURL(env.tls.alert) }, caFile = CA, clearPort = env.port }
      local f = async.failure(r:lookupAddress("www.example.test"))
      assert.equal(1, #f.value.attempts)
      assert.equal("TLS handshake failed", f.value.attempts[1].error)
      assert.equal(0, r._core:stats().sentUDP)
      assert.is_nil(r:getServerSecurity()[1].clear)
    end)
  end)

  describe("SPKI pins", function()
    it("a matching pin authenticates without a trusted CA", function()
      local r = resolver{ servers = { tlsURL(env.tls.dot) }, pins = { pin() } }
      assert.same({ "<A address=192.0.2.10 ttl=3600>" }, payloads(async.wait(r:lookupAddress("www.example.test"))))
      assert.is_true(r:getServerSecurity()[1].verified)
    end)

    it("a pin mismatch is refused and sends no query", function()
      local name = uniqueName("pin-mismatch")
      local r = resolver{ servers = { tlsURL(env.tls.selfsigned) }, caFile = CA, pins = { pin() } }
      local f = async.failure(r:lookupAddress(name))
      assert.equal("no pinned key in the certificate chain", f.value.attempts[1].error)
      assert.is_false(logged(name))
    end)

    it("a pin that is not a SHA-256 digest in base64 is refused at once", function()
      assert.has_error(function()
        client.Resolver{ servers = { tlsURL(env.tls.dot) }, pins = { "not-a-pin" } }
      end, "bad argument #1 to 'Resolver' (pin 1 is not the base64 of 32 bytes (a SHA-256 digest))")
    end)
  end)

  describe("one connection per server", function()
    for _, transport in ipairs{ "tls", "https" } do
      -- The 1,000 lookups are made before the loop runs, so the server's
      -- answers wait unread meanwhile. On a loaded machine named 9.18 has
      -- closed such a connection before a byte of answer reached us, having
      -- read all 1,000 queries (its query log): once in CI, and once in a
      -- dozen runs with both CPUs kept busy. A run that ends so is made once
      -- more, on a new resolver; any other failure, or a second close, fails
      -- the test.
      local function serverClosed(results)
        for _, res in ipairs(results) do
          local f = res.failure
          if f and f:check(require("names.error").ResolverError)
              and tostring(f.value):find("connection closed by the server", 1, true) then
            return true
          end
        end
        return false
      end

      it(format("carries 1,000 queries in flight over %s, each answer matched to its question", transport),
        function()
          local r, names, results
          for _ = 1, 2 do
            r = resolver{
              servers = { transport == "tls" and tlsURL(env.tls.dot) or dohURL(env.tls.doh) }, caFile = CA,
              timeout = { 20 }, maxInflight = 1000,
            }
            local ds = {}
            names = {}
            for i = 1, 1000 do
              -- distinct names, so that nothing is shared; none of them exists
              names[i] = format("x%d.example.test", i)
              ds[i] = r:lookupAddress(names[i]):addCallbacks(function(res) return { result = res } end,
                function(f) return { failure = f } end)
            end
            results = async.wait(defer.gatherResults(ds), 60)
            if not serverClosed(results) then break end
          end
          assert.equal(1000, #results)
          for i, res in ipairs(results) do
            -- each NXDOMAIN carries its own question
            assert.is_truthy(res.failure, "query " .. i)
            assert.is_truthy(res.failure:check(require("names.error").DNSNameError), tostring(res.failure.value))
            local msg = res.failure.value.response
            assert.equal(names[i], msg.queries[1].name.name)
          end
          local stats = r._core:stats()
          assert.equal(1, transport == "tls" and stats.tlsOpened or stats.httpsOpened)
        end)
    end

    it("takes answers in any order: a server answering a burst last first", function()
      local r = resolver{ servers = { tlsURL(env.tls.reverse) }, caFile = CA }
      local order, ds = {}, {}
      for i = 1, 20 do
        ds[i] = r:lookupText(format("q%d.example.test", i)):addCallback(function(res)
          order[#order + 1] = i
          return res
        end)
      end
      local results = async.wait(defer.gatherResults(ds))
      for i = 1, 20 do
        -- each answer repeats its own question, and says where it was in the burst
        assert.equal(format("q%d.example.test", i), results[i].answers[1].name.name)
      end
      assert.equal(20, #order)
      assert.equal(20, order[1])  -- the last asked came first
      assert.equal(1, order[20])
      assert.equal(1, r._core:stats().tlsOpened)
    end)

    it("resumes the TLS session on a new connection", function()
      local r = resolver{ servers = { tlsURL(env.tls.dot) }, caFile = CA }
      async.wait(r:lookupAddress("www.example.test"))
      assert.is_false(r:getServerSecurity()[1].resumed)
      -- the same trust settings, a new server list: a new connection
      r._core:set_servers({ tlsURL(env.tls.dot) })
      async.wait(r:lookupAddress("mail.example.test"))
      assert.is_true(r:getServerSecurity()[1].resumed)
    end)
  end)

  describe("failure modes", function()
    it("a handshake that never finishes costs the query's time, then fails", function()
      local r = resolver{ servers = { format("tls://127.0.0.1:%d", env.bad.silent) }, caFile = CA,
        timeout = { 0.5 } }
      local f = async.failure(r:lookupAddress("www.example.test"))
      assert.is_truthy(f:check(require("names.error").DNSQueryTimeoutError))
    end)

    it("a TLS alert fails clearly", function()
      local r = resolver{ servers = { tlsURL(env.tls.alert) }, caFile = CA }
      local f = async.failure(r:lookupAddress("www.example.test"))
      assert.equal("TLS handshake failed", f.value.attempts[1].error)
    end)

    it("a server closing in the middle of an answer fails clearly", function()
      local r = resolver{ servers = { tlsURL(env.tls.close_mid) }, caFile = CA, timeout = { 2 } }
      local f = async.failure(r:lookupAddress("www.example.test"))
      assert.equal("connection closed by the server", f.value.attempts[1].error)
    end)

    it("an HTTP error status fails the query with it", function()
      local r = resolver{ servers = { dohURL(env.tls.http500) }, caFile = CA }
      local f = async.failure(r:lookupAddress("www.example.test"))
      assert.equal("HTTP status 500", f.value.attempts[1].error)
      local r404 = resolver{ servers = { dohURL(env.tls.doh, "/no-such-path") }, caFile = CA }
      f = async.failure(r404:lookupAddress("www.example.test"))
      assert.equal("HTTP status 404", f.value.attempts[1].error)
    end)

    it("a truncated HTTP/2 frame fails clearly", function()
      local r = resolver{ servers = { dohURL(env.tls.truncated) }, caFile = CA, timeout = { 2 } }
      local f = async.failure(r:lookupAddress("www.example.test"))
      assert.equal("connection closed", f.value.attempts[1].error)
    end)
  end)

  describe("padding", function()
    it("pads every query to a multiple of 128 octets (RFC 8467)", function()
      local r = resolver{ servers = { tlsURL(env.tls.echo_len) }, caFile = CA }
      local seen = {}
      for _, name in ipairs{ "a.test", "www.example.test", string.rep("x", 60) .. ".example.test",
                             string.rep("y", 63) .. "." .. string.rep("z", 63) .. ".test" } do
        local result = async.wait(r:lookupText(name))
        local len = tonumber(result.answers[1].payload.data[1])
        assert.equal(0, len % 128, name .. ": " .. len)
        seen[len] = true
      end
      assert.is_true(seen[128] and seen[256] and true or false)
    end)
  end)

  describe("naming servers", function()
    it("refuses URLs it cannot use, naming the server", function()
      local cases = {
        { "tls://dns.example.test", "tls:// takes an address" },
        { "https://127.0.0.1:853", "https:// needs a path" },
        { "quic://127.0.0.1", "an unknown scheme" },
        { "https://not-in-hosts.invalid/dns-query", "is not in" },
      }
      for _, case in ipairs(cases) do
        local ok, err = pcall(client.Resolver, { servers = { case[1] } })
        assert.is_false(ok)
        assert.matches(case[2], err, 1, true)
      end
    end)

    it("takes a DoH host's address from the hosts file", function()
      local hosts = os.tmpname()
      local f = assert(io.open(hosts, "w"))
      f:write("127.0.0.1 dns.example.test\n")
      f:close()
      local saved = client.defaultHosts
      client.defaultHosts = hosts
      local ok, r = pcall(resolver, { servers = { format("https://dns.example.test:%d/dns-query", env.tls.doh) },
        caFile = CA })
      client.defaultHosts = saved
      os.remove(hosts)
      assert.is_true(ok, r)
      assert.same({ format("https://dns.example.test:%d/dns-query#127.0.0.1", env.tls.doh) }, r:getServers())
      assert.same({ "<A address=192.0.2.10 ttl=3600>" }, payloads(async.wait(r:lookupAddress("www.example.test"))))
    end)

    it("createResolver takes encrypted servers and the TLS options", function()
      local chain = client.createResolver{ servers = { tlsURL(env.tls.dot) }, caFile = CA, hosts = "/dev/null" }
      local result = async.wait(chain:lookupAddress("www.example.test"))
      assert.same({ "<A address=192.0.2.10 ttl=3600>" }, payloads(result))
      chain.resolvers[3]:close()
    end)

    it("a bad tls mode is refused", function()
      assert.has_error(function() client.Resolver{ servers = { tlsURL(env.tls.dot) }, tls = "maybe" } end,
        "bad argument 'tls' to 'Resolver' ('strict' or 'opportunistic' expected, got maybe)")
    end)
  end)
end)

describe("the encrypted transports as a module of their own", function()
  -- in a child: this process has loaded them already
  local function child(chunk)
    local status, out, err = env.run_lua(chunk)
    assert.equal("", err)
    assert.equal(0, status)
    return out
  end

  it("are not loaded (nor OpenSSL) for clear servers, and are on the first tls:// server", function()
    local out = child(format([[
      local client = require "names.client"
      local reactor = require "names.reactor"
      local function libssl()
        local f = assert(io.open("/proc/self/maps"))
        local maps = f:read("a")
        f:close()
        return maps:find("libssl", 1, true) ~= nil
      end
      local clear = client.Resolver{ servers = { { "127.0.0.1", %d } } }
      local got
      clear:lookupAddress("www.example.test"):addBoth(function(r) got = r; reactor.stop() end)
      reactor.run()
      print(got.answers[1].payload.address, package.loaded["names.tls"] ~= nil, libssl())
      local secure = client.Resolver{ servers = { %q }, caFile = %q }
      secure:lookupAddress("www.example.test"):addBoth(function(r) got = r; reactor.stop() end)
      reactor.run()
      print(got.answers[1].payload.address, package.loaded["names.tls"] ~= nil, libssl())
    ]], env.port, tlsURL(env.tls.dot), CA))
    assert.equal("192.0.2.10\tfalse\tfalse\n192.0.2.10\ttrue\ttrue\n", out)
  end)
end)
