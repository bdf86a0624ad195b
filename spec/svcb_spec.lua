-- names.svcb: SvcParams decoded, and the endpoint lists of RFC 9460
-- section 3 from the test zone's SVCB and HTTPS records (its section 10
-- examples on loopback names, AliasMode chains, a loop, an unknown
-- mandatory key, hints without addresses).
local async = require "async"
local client = require "names.client"
local dns = require "names.dns"
local svcb = require "names.svcb"

local PORT = tonumber(os.getenv("NAMES_TEST_PORT")) or 53535

local function param(key, value)
  return { key = key, value = value }
end

describe("svcb.parseParams", function()
  it("decodes every standard key", function()
    local p = assert(svcb.parseParams({
      param(0, "\0\1\0\3"), param(1, "\2h2\2h3"), param(3, "\32\251"), param(4, "\127\0\0\1\192\0\2\1"),
      param(5, "ECH"), param(6, ("\0"):rep(15) .. "\1"), param(65000, "x") }))
    assert.same({ 1, 3 }, p.mandatory)
    assert.same({ "h2", "h3" }, p.alpn)
    assert.equal(8443, p.port)
    assert.same({ "127.0.0.1", "192.0.2.1" }, p.ipv4hint)
    assert.same({ "::1" }, p.ipv6hint)
    assert.equal("ECH", p.ech)
    assert.equal("x", p.keys[65000])
  end)

  it("refuses malformed values", function()
    local cases = {
      { { param(3, "\0\80"), param(1, "\2h2") }, "SvcParamKeys not in increasing order" },
      { { param(3, "\0\80\0") }, "malformed port" },
      { { param(4, "\127\0\0\1\0") }, "malformed ipv4hint" },
      { { param(6, "\0") }, "malformed ipv6hint" },
      { { param(1, "\0") }, "malformed alpn" },
      { { param(1, "\5h2") }, "malformed alpn" },
      { { param(2, "") }, "no-default-alpn without alpn" },
      { { param(0, "\0\0") }, "mandatory lists itself" },
      { { param(0, "\0") }, "malformed mandatory" },
    }
    for _, c in ipairs(cases) do
      local p, why = svcb.parseParams(c[1])
      assert.is_nil(p)
      assert.equal(c[2], why)
    end
  end)

  it("prints IPv6 hints in RFC 5952 form", function()
    local function bytes(hex)
      return (hex:gsub("..", function(x) return string.char(tonumber(x, 16)) end))
    end
    assert.equal("2001:db8::10", svcb.ipv6Text(bytes("20010db8000000000000000000000010")))
    assert.equal("2001:db8:0:1:1:1:1:1", svcb.ipv6Text(bytes("20010db8000000010001000100010001")))
    assert.equal("2001:0:0:1::1", svcb.ipv6Text(bytes("20010000000000010000000000000001")))
    assert.equal("::", svcb.ipv6Text(bytes(("00"):rep(16))))
  end)
end)

describe("svcb.queryName", function()
  it("names the question as RFC 9460 sections 2.3 and 9.1 do", function()
    assert.same({ "example.com", dns.HTTPS }, { svcb.queryName("example.com", "https", 443) })
    assert.same({ "example.com", dns.HTTPS }, { svcb.queryName("example.com.", "https") })
    assert.same({ "_8443._https.example.com", dns.HTTPS }, { svcb.queryName("example.com", "https", 8443) })
    assert.same({ "_8080._foo.api.example.com", dns.SVCB }, { svcb.queryName("api.example.com", "foo", 8080) })
    assert.same({ "_dns.example.com", dns.SVCB }, { svcb.queryName("example.com", "dns") })
  end)
end)

describe("svcb.resolveService against the test zone", function()
  local resolver
  setup(function()
    resolver = client.Resolver{ servers = { { "127.0.0.1", PORT } } }
  end)

  local function resolve(options)
    options.resolver = resolver
    return async.wait(client.resolveService(options))
  end

  -- the list as "target:port alpn,... [fallback]" lines
  local function lines(list)
    local out = {}
    for _, e in ipairs(list) do
      out[#out + 1] = ("%s:%d %s%s"):format(e.target, e.port, table.concat(e.alpn, ","),
        e.fallback and " fallback" or "")
    end
    return out
  end

  it("follows an apex alias to ServiceMode records (RFC 9460, 10.2)", function()
    local list = resolve{ name = "svc-apex.example.test", scheme = "https" }
    assert.same({ "svc-pool.example.test:443 h2,http/1.1", "svc-pool.example.test:443 http/1.1 fallback",
      "svc-apex.example.test:443 http/1.1 fallback" }, lines(list))
    assert.same({ "svc-pool.example.test" }, list.aliases)
    assert.is_nil(list.error)
  end)

  it("uses port prefix naming and the record's port for a non-HTTP scheme (RFC 9460, 10.5)", function()
    local list = resolve{ name = "svc-api.example.test", scheme = "foo", port = 8080, addresses = true }
    assert.equal("_8080._foo.svc-api.example.test", list.qname)
    assert.same({ "svc4.example.test:8004 bar", "svc4.example.test:8080  fallback",
      "svc-api.example.test:8080  fallback" }, lines(list))
    assert.same({ "127.0.0.4" }, list[1].addresses)
    assert.same({}, list[3].addresses)
  end)

  it("orders ServiceMode records by SvcPriority, '.' meaning the owner", function()
    local list = resolve{ name = "svc-prio.example.test", scheme = "https" }
    assert.same({ "svc-prio.example.test:8443 h3,http/1.1", "svc-pool.example.test:443 h2,http/1.1",
      "svc4.example.test:443 h3", "svc-prio.example.test:443 http/1.1 fallback" }, lines(list))
    assert.same({ 1, 2, 3 }, { list[1].priority, list[2].priority, list[3].priority })
    assert.is_true(list[3].noDefaultAlpn)
  end)

  it("leaves out a record whose mandatory key is not understood", function()
    local list = resolve{ name = "svc-mand.example.test", scheme = "https" }
    assert.same({ "svc-mand.example.test:443 h2,http/1.1", "svc-mand.example.test:443 http/1.1 fallback" },
      lines(list))
    assert.equal(1, #list.unusable)
    assert.equal("mandatory key key65000 not understood", list.unusable[1].reason)
    -- a client that understands the key may use it
    list = resolve{ name = "svc-mand.example.test", scheme = "https", understood = { 65000 } }
    assert.equal(1, list[1].priority)
    assert.equal("x", list[1].params[65000])
  end)

  it("follows an AliasMode chain, within its bound", function()
    local list = resolve{ name = "svc-chain1.example.test", scheme = "https" }
    assert.same({ "svc-chain3.example.test:443 h2,http/1.1", "svc-chain3.example.test:443 http/1.1 fallback",
      "svc-chain1.example.test:443 http/1.1 fallback" }, lines(list))
    assert.same({ "svc-chain2.example.test", "svc-chain3.example.test" }, list.aliases)
    list = resolve{ name = "svc-chain1.example.test", scheme = "https", maxAliases = 1 }
    assert.same({ "svc-chain1.example.test:443 http/1.1 fallback" }, lines(list))
    assert.is_truthy(list.error:find("AliasMode chain longer than 1", 1, true))
  end)

  it("detects an alias loop and falls back to the origin", function()
    local list = resolve{ name = "svc-loop1.example.test", scheme = "https" }
    assert.equal("AliasMode loop: svc-loop1.example.test -> svc-loop2.example.test -> svc-loop1.example.test",
      list.error)
    assert.same({ "svc-loop1.example.test:443 http/1.1 fallback" }, lines(list))
  end)

  it("keeps hints apart from the addresses the lookups found", function()
    local list = resolve{ name = "svc-hints.example.test", scheme = "https", addresses = true }
    assert.same({ "127.0.0.7" }, list[1].ipv4hint)
    assert.same({ "::1" }, list[1].ipv6hint)
    assert.same({}, list[1].addresses) -- the hints are no addresses
  end)

  it("says 'service not available' for an AliasMode '.'", function()
    local list = resolve{ name = "svc-none.example.test", scheme = "https" }
    assert.is_truthy(list.error:find("service not available", 1, true))
    assert.same({ "svc-none.example.test:443 http/1.1 fallback" }, lines(list))
    list = resolve{ name = "svc-none.example.test", scheme = "https", fallback = false }
    assert.equal(0, #list)
  end)

  it("passes ech through untouched", function()
    local list = resolve{ name = "https.example.test", scheme = "https" }
    local r = async.wait(resolver:query(dns.Query("https.example.test", dns.HTTPS)))
    local raw
    for _, p in ipairs(r.answers[1].payload.params) do
      if p.key == 5 then raw = p.value end
    end
    assert.equal(raw, list[1].ech)
    assert.equal(8443, list[1].port)
    assert.same({ "h2", "h3", "http/1.1" }, list[1].alpn)
  end)

  it("goes on without SVCB when the name has none", function()
    local list = resolve{ name = "www.example.test", scheme = "https", port = 8443 }
    assert.equal("_8443._https.www.example.test", list.qname)
    assert.same({ "www.example.test:8443 http/1.1 fallback" }, lines(list))
  end)

  it("names a bad argument", function()
    assert.has_error(function() svcb.resolveService(resolver, { scheme = "https" }) end,
      "bad argument #2 to 'resolveService' (name: a host name expected)")
    assert.has_error(function() svcb.resolveService(resolver, { name = "x", port = 0 }) end,
      "bad argument #2 to 'resolveService' (port: 1..65535 expected)")
    assert.has_error(function() svcb.resolveService(resolver, { name = "x", bogus = true }) end,
      "bad argument #2 to 'resolveService' (unknown option 'bogus')")
  end)
end)
