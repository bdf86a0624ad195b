-- Results and messages that come off the wire decode their sections when
-- first read (issue 10): everything a user can observe must read as if they
-- had been decoded at once.
local async = require "async"
local cache = require "names.cache"
local client = require "names.client"
local common = require "names.common"
local dns = require "names.dns"
local env = require "testenv"
local errors = require "names.error"
local hosts = require "names.hosts"
local resolve = require "names.resolve"

local function keys(t)
  local out = {}
  for k in pairs(t) do
    if type(k) == "string" then out[#out + 1] = k end
  end
  table.sort(out)
  return table.concat(out, " ")
end

describe("a response read lazily", function()
  local r
  setup(function()
    env.assert_server_up()
  end)
  before_each(function()
    r = client.Resolver{ servers = { env.server } }
  end)
  after_each(function()
    r:close()
  end)

  it("has the same fields, pairs, text and bytes as the message decoded at once", function()
    local result = async.wait(r:lookupMailExchange("example.test"))
    local lazy = result.message
    local eager = dns.Message():fromStr(lazy:toStr())
    assert.are.equal(tostring(eager), tostring(lazy))
    assert.are.equal(eager:toStr(), lazy:toStr())
    assert.are.equal(keys(eager), keys(lazy))
    for _, k in ipairs{ "queries", "answers", "authority", "additional" } do
      assert.are.equal(#eager[k], #lazy[k])
      for i = 1, #eager[k] do
        assert.are.equal(eager[k][i], lazy[k][i])
        assert.are.equal(tostring(eager[k][i]), tostring(lazy[k][i]))
      end
    end
  end)

  it("gives sections that are the result's own tables, and keeps what is assigned", function()
    local result = async.wait(r:lookupAddress("www.example.test"))
    assert.are.equal(3, #result)
    local answers, authority, additional = table.unpack(result)
    assert.are.equal(result.answers, answers)
    assert.are.equal(result[1], result.message.answers)
    assert.are.equal(result.authority, authority)
    assert.are.equal(result.additional, additional)
    assert.are.equal("<A address=192.0.2.10 ttl=3600>", tostring(answers[1].payload))
    local mine = {}
    result.message.additional = mine
    local fresh = async.wait(r:lookupAddress("www.example.test"))
    fresh.message.authority = mine
    assert.are.equal(mine, fresh.authority)
    assert.are.equal(mine, fresh[2])
  end)

  it("keeps a header field assigned before the header was read", function()
    -- nothing of the header read before the assignment (an id drawn at
    -- random matches 12345 once in 65,536)
    local m = async.wait(r:lookupAddress("www.example.test")).message
    m.id = 12345
    assert.is_true(m.answer)
    assert.are.equal(12345, m.id)
    m = async.wait(r:lookupAddress("www.example.test")).message
    m.recDes = false
    local fields = {}
    for k, v in pairs(m) do fields[k] = v end
    assert.is_false(fields.recDes)
    assert.is_true(fields.answer)
  end)

  it("lists every field in pairs before any was read", function()
    local result = async.wait(r:lookupAddress("www.example.test"))
    local seen = {}
    for k in pairs(result) do seen[#seen + 1] = tostring(k) end
    table.sort(seen)
    assert.are.equal("1 2 3 additional answers authority message", table.concat(seen, " "))
    local fields = keys(async.wait(r:lookupAddress("www.example.test")).message)
    assert.matches("answers", fields)
    assert.matches("queries", fields)
  end)

  it("refuses bytes that are not a message, naming the problem", function()
    local core = require "names.core"
    assert.has_error(function() core.decode_section("\1\2\3", "answers") end)
    local ok, err = pcall(core.decode_section, ("\0"):rep(12), "nothing")
    assert.is_false(ok)
    assert.matches("invalid option", err)
  end)
end)

describe("answers without waiting", function()
  local hostsFile
  setup(function()
    hostsFile = env.write("192.0.2.77 fast.example.test\n2001:db8::77 fast.example.test\n")
  end)

  it("come from the hosts file and the cache through a chain, fired at once", function()
    local c = cache.CacheResolver()
    local chain = resolve.ResolverChain{ hosts.Resolver(hostsFile), c }
    local d = chain:lookupAddress("fast.example.test")
    assert.is_true(d.called)
    assert.are.equal("<A address=192.0.2.77 ttl=3600>", tostring(d.result.answers[1].payload))
    assert.are.equal("2001:db8::77", chain:getHostByName("fast.example.test").result)
    -- a name in neither: the last one's error, a DomainError
    local failed = chain:lookupAddress("slow.example.test")
    assert.is_true(failed.called)
    assert.is_truthy(failed.result:check(errors.DomainError))
    failed:addErrback(function() end)
  end)

  it("answer getHostByName of a name written with its final dot or in another case", function()
    local chain = resolve.ResolverChain{ hosts.Resolver(hostsFile), cache.CacheResolver() }
    assert.are.equal("2001:db8::77", chain:getHostByName("fast.example.test.").result)
    assert.are.equal("2001:db8::77", chain:getHostByName("FAST.example.TEST").result)
  end)

  it("are not taken from a resolver whose _lookup was replaced", function()
    local h = hosts.Resolver(hostsFile)
    local asked = 0
    local own = h._lookup
    h._lookup = function(self, ...)
      asked = asked + 1
      return own(self, ...)
    end
    assert.is_false(common.answerNow(h, "fast.example.test", dns.IN, dns.A))
    local chain = resolve.ResolverChain{ h }
    assert.are.equal("192.0.2.77", tostring(chain:lookupAddress("fast.example.test").result.answers[1].payload.address))
    assert.are.equal(1, asked)
  end)
end)

describe("the hosts object's one-call questions", function()
  local core = require "names.core"
  local env2 = require "testenv"
  it("find gives the addresses of one family, or nil and whether the other has some", function()
    local h = core.hosts(env2.write("192.0.2.5 both.test\n2001:db8::5 both.test\n192.0.2.6 v4only.test\n"))
    assert.are.same({ "192.0.2.5" }, h:find("both.test", 4))
    assert.are.same({ "2001:db8::5" }, h:find("both.test", 6))
    local list, other = h:find("v4only.test", 6)
    assert.is_nil(list)
    assert.is_true(other)
    list, other = h:find("absent.test", 4)
    assert.is_nil(list)
    assert.is_false(other)
  end)

  it("pointer names the hosts of a reverse name, nil for any other name", function()
    local h = core.hosts(env2.write("192.0.2.5 five.test cinq.test\n2001:db8::5 five.test\n"))
    assert.are.same({ "five.test", "cinq.test" }, h:pointer("5.2.0.192.in-addr.arpa"))
    assert.are.same({ "five.test", "cinq.test" }, h:pointer("5.2.0.192.IN-ADDR.ARPA."))
    assert.are.same({ "five.test" },
      h:pointer("5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"))
    assert.is_nil(h:pointer("6.2.0.192.in-addr.arpa"))
    assert.is_nil(h:pointer("256.2.0.192.in-addr.arpa"))
    assert.is_nil(h:pointer("five.test"))
    assert.has_error(function() h:pointer() end)
  end)
end)

describe("getHostByName's address from the cache without records", function()
  local soa = dns.RRHeader{ name = "x.test", type = dns.SOA, ttl = 300,
    payload = dns.Record_SOA{ mname = "ns.x.test", rname = "hostmaster.x.test", minimum = 300 } }
  local function held(c, name, qtype, records, rcode)
    local m = dns.Message{ answer = true, rCode = rcode or 0, queries = { dns.Query(name, qtype) },
      answers = records, authority = #records == 0 and { soa } or {} }
    assert.is_true(c._cache:put(name, qtype, dns.IN, m:toStr(), c.clock.seconds()))
  end
  local function rr(name, rtype, payload)
    return dns.RRHeader{ name = name, type = rtype, ttl = 300, payload = payload }
  end

  it("is nil when neither answer is held, false when one is", function()
    local c = cache.CacheResolver()
    assert.is_nil(c._cache:address("x.test", dns.IN, c.clock.seconds()))
    held(c, "x.test", dns.A, { rr("x.test", dns.A, dns.Record_A("192.0.2.1")) })
    assert.is_false(c._cache:address("x.test", dns.IN, c.clock.seconds()))
  end)

  it("prefers the IPv6 address and follows CNAMEs within the answers, as the records would", function()
    local c = cache.CacheResolver()
    held(c, "www.x.test", dns.AAAA, {
      rr("www.x.test", dns.CNAME, dns.Record_CNAME("edge.x.test")),
      rr("edge.x.test", dns.AAAA, dns.Record_AAAA("2001:db8::1")) })
    held(c, "www.x.test", dns.A, {
      rr("www.x.test", dns.CNAME, dns.Record_CNAME("edge.x.test")),
      rr("edge.x.test", dns.A, dns.Record_A("192.0.2.1")) })
    assert.are.equal("2001:db8::1", c._cache:address("WWW.x.test", dns.IN, c.clock.seconds()))
    -- one CNAME deep is as far as effort 1 goes: the general way decides
    assert.is_false(c._cache:address("www.x.test", dns.IN, c.clock.seconds(), 1))
    local chain = resolve.ResolverChain{ c }
    assert.are.equal("2001:db8::1", chain:getHostByName("www.x.test").result)
  end)

  it("takes the A answer when the AAAA one is NXDOMAIN or empty, and leaves a CNAME elsewhere to the general way",
    function()
    local c = cache.CacheResolver()
    held(c, "v4.x.test", dns.AAAA, {})
    held(c, "v4.x.test", dns.A, { rr("v4.x.test", dns.A, dns.Record_A("192.0.2.4")) })
    assert.are.equal("192.0.2.4", c._cache:address("v4.x.test", dns.IN, c.clock.seconds()))
    held(c, "gone.x.test", dns.AAAA, {}, dns.ENAME)
    held(c, "gone.x.test", dns.A, { rr("gone.x.test", dns.A, dns.Record_A("192.0.2.5")) })
    assert.are.equal("192.0.2.5", c._cache:address("gone.x.test", dns.IN, c.clock.seconds()))
    held(c, "away.x.test", dns.AAAA, { rr("away.x.test", dns.CNAME, dns.Record_CNAME("far.y.test")) })
    held(c, "away.x.test", dns.A, { rr("away.x.test", dns.CNAME, dns.Record_CNAME("far.y.test")) })
    assert.is_false(c._cache:address("away.x.test", dns.IN, c.clock.seconds()))
  end)

  it("gives what the records give, name by name, through a chain with the hosts file first", function()
    local c = cache.CacheResolver()
    held(c, "both.x.test", dns.AAAA, { rr("both.x.test", dns.AAAA, dns.Record_AAAA("2001:db8::b")) })
    held(c, "both.x.test", dns.A, { rr("both.x.test", dns.A, dns.Record_A("192.0.2.11")) })
    local h = hosts.Resolver(env.write("192.0.2.99 both.x.test\n"))
    local chain = resolve.ResolverChain{ h, c }
    -- the hosts file answers both questions for a name it lists
    assert.are.equal("192.0.2.99", chain:getHostByName("both.x.test").result)
    local slow = resolve.ResolverChain{ c }
    local fast = slow:getHostByName("both.x.test").result
    -- the general way, from the same answers
    local r6 = c:lookupIPV6Address("both.x.test").result
    assert.are.equal(r6.answers[1].payload.address, fast)
  end)
end)
