-- The resolvers that do not touch the network: names.hosts, names.cache,
-- names.resolve's chain.
local async = require "async"
local cache = require "names.cache"
local class = require "names.class"
local core = require "names.core"
local defer = require "names.defer"
local dns = require "names.dns"
local env = require "testenv"
local errors = require "names.error"
local hosts = require "names.hosts"
local resolve = require "names.resolve"

local tempfile = env.write

local function addresses(result)
  local out = {}
  for i, rr in ipairs(result.answers) do
    out[i] = rr.payload.address
  end
  return out
end

describe("names.hosts", function()
  local path, r
  before_each(function()
    path = tempfile(table.concat({
      "# a comment line",
      "127.0.0.1   localhost loopback   # trailing comment",
      "192.0.2.1   one.example ONE-ALIAS",
      "192.0.2.2   two.example",
      "2001:db8::1 one.example",
      "192.0.2.3   one.example",
      "not-an-address bad.example",
      "192.0.2.4   bad..name good.example",
      "",
    }, "\n"))
    r = hosts.Resolver(path)
  end)
  after_each(function()
    os.remove(path)
  end)

  it("answers A with every address of a name, in file order", function()
    local result = async.wait(r:lookupAddress("one.example"))
    assert.same({ "192.0.2.1", "192.0.2.3" }, addresses(result))
    assert.equal("<A address=192.0.2.1 ttl=3600>", tostring(result.answers[1].payload))
    assert.equal("<RR name=one.example type=A class=IN ttl=3600s auth=False>", tostring(result.answers[1]))
  end)

  it("answers AAAA", function()
    assert.same({ "2001:db8::1" }, addresses(async.wait(r:lookupIPV6Address("one.example"))))
  end)

  it("answers aliases, in any case", function()
    assert.same({ "192.0.2.1" }, addresses(async.wait(r:lookupAddress("one-alias"))))
    assert.same({ "127.0.0.1" }, addresses(async.wait(r:lookupAddress("LoopBack."))))
  end)

  it("answers PTR for the addresses it lists", function()
    local result = async.wait(r:lookupPointer("1.0.0.127.in-addr.arpa"))
    assert.equal("<PTR name=localhost ttl=3600>", tostring(result.answers[1].payload))
    assert.equal("<PTR name=loopback ttl=3600>", tostring(result.answers[2].payload))
    result = async.wait(r:lookupPointer(
      "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"))
    assert.equal("one.example", result.answers[1].payload.name.name)
  end)

  it("answers both families for lookupAllRecords", function()
    assert.same({ "192.0.2.1", "192.0.2.3", "2001:db8::1" },
      addresses(async.wait(r:lookupAllRecords("one.example"))))
  end)

  it("skips bad lines and bad names but keeps the good names of a line", function()
    assert.is_not_nil(async.failure(r:lookupAddress("bad.example")):check(errors.DomainError))
    assert.same({ "192.0.2.4" }, addresses(async.wait(r:lookupAddress("good.example"))))
  end)

  it("fails with DomainError for a name it does not list", function()
    local failure = async.failure(r:lookupAddress("unknown.example"))
    assert.is_not_nil(failure:check(errors.DomainError))
    failure = async.failure(r:lookupIPV6Address("unknown.example"))
    assert.is_not_nil(failure:check(errors.DomainError))
  end)

  it("answers an empty list for the family a listed name lacks", function()
    local result = async.wait(r:lookupIPV6Address("two.example"))
    assert.same({ {}, {}, {} }, { result[1], result[2], result[3] })
    result = async.wait(r:lookupAddress("loopback"))
    assert.same({ "127.0.0.1" }, addresses(result))
    assert.equal(0, #async.wait(r:lookupIPV6Address("LOOPBACK")).answers)
  end)

  it("fails with NotImplementedError for other types", function()
    local failure = async.failure(r:lookupMailExchange("one.example"))
    assert.is_not_nil(failure:check(class.NotImplementedError))
  end)

  it("refuses a path with a NUL byte rather than reading the file the path stops at", function()
    for _, open in ipairs{ core.hosts, core.resolvconf } do
      local ok, err = pcall(open, "/etc/hosts\0.bak")
      assert.is_false(ok)
      assert.matches("%(a path with a NUL byte%)", err)
    end
  end)

  it("reads the file again when it changes", function()
    assert.same({ "192.0.2.2" }, addresses(async.wait(r:lookupAddress("two.example"))))
    local f = assert(io.open(path, "w"))
    f:write("192.0.2.99 two.example\n")
    f:close()
    async.loopUntil(function() return false end, 1.1)
    assert.same({ "192.0.2.99" }, addresses(async.wait(r:lookupAddress("two.example"))))
  end)

  it("treats a missing file as an empty one", function()
    local empty = hosts.Resolver("/nonexistent/hosts")
    assert.is_not_nil(async.failure(empty:lookupAddress("localhost")):check(errors.DomainError))
  end)

  it("getHostByName prefers IPv6, as every resolver does", function()
    assert.equal("2001:db8::1", async.wait(r:getHostByName("one.example")))
    assert.equal("192.0.2.2", async.wait(r:getHostByName("two.example")))
  end)
end)

describe("names.cache", function()
  local now
  local clock = { seconds = function() return now end }

  -- A response to `name` `qtype` with the given sections, as the wire has it.
  local function response(name, qtype, rcode, answers, authority)
    return dns.Message{ id = 1, answer = true, auth = true, rCode = rcode or 0,
      queries = { dns.Query(name, qtype) }, answers = answers or {}, authority = authority or {} }
  end

  local function soa(ttl, minimum)
    return dns.RRHeader{ name = "example.test", type = dns.SOA, ttl = ttl,
      payload = dns.Record_SOA{ mname = "ns1.example.test", rname = "hostmaster.example.test",
        serial = 1, refresh = 2, retry = 3, expire = 4, minimum = minimum, ttl = ttl } }
  end

  local function a(name, address, ttl)
    return dns.RRHeader{ name = name, type = dns.A, ttl = ttl, payload = dns.Record_A(address, ttl) }
  end

  local c
  before_each(function()
    now = 1000
    c = cache.CacheResolver{ clock = clock, maxTTL = 3600, maxNegativeTTL = 900, maxEntries = 3 }
  end)

  it("misses with DomainError, so that a chain moves on", function()
    assert.is_not_nil(async.failure(c:lookupAddress("www.example.test")):check(errors.DomainError))
  end)

  it("answers a stored response with the TTLs counted down", function()
    local q = dns.Query("www.example.test", dns.A)
    assert.is_true(c:cacheResult(q, response("www.example.test", dns.A, 0,
      { a("www.example.test", "192.0.2.10", 300) })))
    now = now + 100
    local result = async.wait(c:lookupAddress("www.example.test"))
    assert.equal(200, result.answers[1].ttl)
    assert.equal("192.0.2.10", result.answers[1].payload.address)
    now = now + 199
    assert.equal(1, async.wait(c:lookupAddress("www.example.test")).answers[1].ttl)
    now = now + 1
    assert.is_not_nil(async.failure(c:lookupAddress("www.example.test")):check(errors.DomainError))
  end)

  it("takes Twisted's (answers, authority, additional) form too", function()
    local q = dns.Query("www.example.test", dns.A)
    assert.is_true(c:cacheResult(q, { { a("www.example.test", "192.0.2.10", 60) }, {}, {} }))
    assert.equal("192.0.2.10", async.wait(c:query(q)).answers[1].payload.address)
  end)

  it("ignores case in names", function()
    c:cacheResult(dns.Query("WWW.Example.TEST", dns.A),
      response("WWW.Example.TEST", dns.A, 0, { a("WWW.Example.TEST", "192.0.2.10", 60) }))
    assert.equal(1, #async.wait(c:lookupAddress("www.example.test")).answers)
  end)

  it("caps TTLs at maxTTL", function()
    c:cacheResult(dns.Query("www.example.test", dns.A),
      response("www.example.test", dns.A, 0, { a("www.example.test", "192.0.2.10", 86400) }))
    assert.equal(3600, async.wait(c:lookupAddress("www.example.test")).answers[1].ttl)
    now = now + 3600
    assert.is_not_nil(async.failure(c:lookupAddress("www.example.test")):check(errors.DomainError))
  end)

  it("keeps NXDOMAIN for the SOA's minimum, and answers it with DNSNameError", function()
    local q = dns.Query("gone.example.test", dns.A)
    assert.is_true(c:cacheResult(q, response("gone.example.test", dns.A, dns.ENAME, {}, { soa(600, 120) })))
    now = now + 119
    local failure = async.failure(c:lookupAddress("gone.example.test"))
    assert.is_not_nil(failure:check(errors.DNSNameError))
    assert.equal(dns.ENAME, failure.value.response.rCode)
    now = now + 1
    local after = async.failure(c:lookupAddress("gone.example.test"))
    assert.is_nil(after:check(errors.DNSNameError))
    assert.is_not_nil(after:check(errors.DomainError))
  end)

  it("keeps NODATA for min(SOA TTL, SOA minimum), as RFC 2308 says", function()
    c:cacheResult(dns.Query("www.example.test", dns.AAAA),
      response("www.example.test", dns.AAAA, 0, {}, { soa(60, 300) }))
    now = now + 59
    local result = async.wait(c:lookupIPV6Address("www.example.test"))
    assert.equal(0, #result.answers)
    now = now + 1
    assert.is_not_nil(async.failure(c:lookupIPV6Address("www.example.test")):check(errors.DomainError))
  end)

  it("does not keep a negative answer without an SOA, nor SERVFAIL", function()
    local ok, why = c:cacheResult(dns.Query("x.example.test", dns.A),
      response("x.example.test", dns.A, dns.ENAME))
    assert.is_false(ok)
    assert.is_string(why)
    ok = c:cacheResult(dns.Query("y.example.test", dns.A), response("y.example.test", dns.A, dns.ESERVER))
    assert.is_false(ok)
    assert.equal(0, c:count())
  end)

  it("holds at most maxEntries, dropping the least recently used", function()
    for i = 1, 3 do
      local name = ("n%d.example.test"):format(i)
      c:cacheResult(dns.Query(name, dns.A), response(name, dns.A, 0, { a(name, "192.0.2." .. i, 60) }))
    end
    async.wait(c:lookupAddress("n1.example.test")) -- n1 is used again: n2 is the oldest now
    c:cacheResult(dns.Query("n4.example.test", dns.A),
      response("n4.example.test", dns.A, 0, { a("n4.example.test", "192.0.2.4", 60) }))
    assert.equal(3, c:count())
    assert.is_not_nil(async.failure(c:lookupAddress("n2.example.test")):check(errors.DomainError))
    assert.equal(1, #async.wait(c:lookupAddress("n1.example.test")).answers)
    assert.equal(1, #async.wait(c:lookupAddress("n4.example.test")).answers)
  end)
end)

describe("names.resolve.ResolverChain", function()
  local function fixed(results)
    local r = { asked = 0 }
    function r:query(q)
      self.asked = self.asked + 1
      local v = results[q.type]
      if v == nil then
        return defer.fail(errors.DomainError(q.name.name))
      elseif type(v) == "table" and getmetatable(v) == nil then
        return defer.succeed(v)
      end
      return defer.fail(v)
    end
    return r
  end

  it("moves on after DomainError, a timeout and NotImplementedError", function()
    local first = fixed({ [dns.A] = errors.DNSQueryTimeoutError(1), [dns.MX] = class.NotImplementedError("x") })
    local second = fixed({ [dns.A] = { { "answer" }, {}, {} }, [dns.MX] = { { "mx" }, {}, {} },
      [dns.TXT] = { { "txt" }, {}, {} } })
    local chain = resolve.ResolverChain({ first, second })
    assert.same({ "answer" }, async.wait(chain:lookupAddress("x"))[1])
    assert.same({ "mx" }, async.wait(chain:lookupMailExchange("x"))[1])
    assert.same({ "txt" }, async.wait(chain:lookupText("x"))[1])
    assert.equal(3, second.asked)
  end)

  it("stops at other errors", function()
    local first = fixed({ [dns.A] = errors.ResolverError("broken") })
    local second = fixed({ [dns.A] = { { "answer" }, {}, {} } })
    local failure = async.failure(resolve.ResolverChain({ first, second }):lookupAddress("x"))
    assert.is_not_nil(failure:check(errors.ResolverError))
    assert.equal(0, second.asked)
  end)

  it("fails with DomainError when empty", function()
    assert.is_not_nil(async.failure(resolve.ResolverChain({}):lookupAddress("x")):check(errors.DomainError))
  end)
end)

describe("reverse names", function()
  it("are made from IPv4 and IPv6 addresses and read back", function()
    assert.equal("1.0.0.127.in-addr.arpa", core.reverse_name("127.0.0.1"))
    local v6 = core.reverse_name("2001:db8::1")
    assert.equal("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", v6)
    assert.equal("2001:db8::1", core.reverse_address(v6))
    assert.equal("127.0.0.1", core.reverse_address("1.0.0.127.in-addr.arpa."))
    assert.is_nil(core.reverse_address("1.0.0.256.in-addr.arpa"))
    assert.is_nil(core.reverse_address("www.example.test"))
    assert.is_nil(core.reverse_name("not an address"))
  end)
end)
