-- DNS cookies (RFC 7873, RFC 9018) on UDP and TCP, through the resolver's
-- binding: against named (its query log marks a query "K" when it carried a
-- cookie without a valid server cookie, "V" when the server cookie was
-- valid) and the cookie behaviours of spec/support/badserver.c.
local env = require "testenv"
local dns = require "names.dns"
local core = require "names.core"
local client = require "names.client"
local async = require "async"

local A, TXT = dns.A, dns.TXT
local format = string.format

local function wait(cond, secs)
  local deadline = core.now() + (secs or 10)
  while not cond() do
    if core.now() > deadline then return false end
    core.step(true)
  end
  return true
end

local live = {}
local function resolver(opts, servers)
  local r = core.resolver_new(opts or { timeout = { 1, 2 } })
  r:set_servers(servers)
  live[#live + 1] = r
  return r
end

-- One query to its end, with its attempts.
local function ask(r, name, qtype, flags)
  local res
  r:query(name, qtype or A, 1, nil, (flags or "") .. "r", function(m, e, a) res = { m = m, e = e, a = a } end)
  assert(wait(function() return res ~= nil end, 20), "no callback for " .. name)
  return res
end

local function txt(res)
  return res.m.answers[1].payload.data[1]
end

local function outcomes(res)
  local out = {}
  for i, a in ipairs(res.a) do out[i] = a.outcome end
  return out
end

local function queryLogLine(name)
  local f = io.open(env.root .. "/build/testenv/named/queries.log")
  local found
  for line in f:lines() do
    if line:lower():find(" " .. name:lower() .. " ", 1, true) then found = line end
  end
  f:close()
  return found
end

local serverCookieHex = "5345525645523031" -- "SERVER01"

describe("DNS cookies", function()
  setup(function() env.assert_server_up() end)
  after_each(function()
    for _, r in ipairs(live) do r:close() end
    live = {}
  end)

  for _, tcp in ipairs{ false, true } do
    local over = tcp and "TCP" or "UDP"
    it(format("sends a client cookie and then the server's cookie back (%s)", over), function()
      local r = resolver({ timeout = { 2 }, tcp = tcp }, { env.bad_server("cookie_echo") })
      local first = txt(ask(r, "one.test", TXT))
      local second = txt(ask(r, "two.test", TXT))
      assert.equal(16, #first)          -- 8 octets: the client cookie alone
      assert.equal(32, #second)         -- and the server's 8
      assert.equal(first, second:sub(1, 16))
      assert.equal(serverCookieHex, second:sub(17))
    end)
  end

  it("gives each server its own client cookie", function()
    local a = resolver({ timeout = { 2 } }, { env.bad_server("cookie_echo") })
    local b = resolver({ timeout = { 2 } }, { env.bad_server("cookie_echo") })
    assert.not_equal(txt(ask(a, "a.test", TXT)), txt(ask(b, "b.test", TXT)))
  end)

  it("exchanges cookies with named and sends its server cookie back", function()
    local r = resolver({ timeout = { 2 } }, { env.server })
    local n1 = format("ck-%d-a.example.test", os.time() % 100000)
    local n2 = format("ck-%d-b.example.test", os.time() % 100000)
    ask(r, n1, A)
    ask(r, n2, A)
    local l1, l2 = assert(queryLogLine(n1)), assert(queryLogLine(n2))
    assert.matches("E%(0%)K", l1)  -- a cookie, no server cookie yet
    assert.matches("E%(0%)V", l2)  -- named's own server cookie, valid
  end)

  it("answers BADCOOKIE with one retry carrying the new server cookie", function()
    local r = resolver({ timeout = { 2 } }, { env.bad_server("badcookie") })
    local res = ask(r, "www.test", A)
    assert.is_nil(res.e)
    assert.same({ "badcookie", "answer" }, outcomes(res))
    assert.equal(23, res.a[1].rcode)
    assert.equal(format("192.0.2.%d", env.bad.badcookie - env.bad_base + 1), res.m.answers[1].payload.address)
  end)

  it("retries BADCOOKIE only once, then moves on", function()
    local r = resolver({ timeout = { 2 } }, { env.bad_server("badcookie_always"), env.server })
    local res = ask(r, "www.example.test", A)
    assert.is_nil(res.e)
    assert.same({ "badcookie", "rcode", "answer" }, outcomes(res))
    assert.equal("192.0.2.10", res.m.answers[1].payload.address)
  end)

  it("drops a reply whose client cookie is not ours, as a spoof", function()
    local r = resolver({ timeout = { 2 } }, { env.bad_server("wrong_cookie") })
    local res = ask(r, "www.test", A)
    assert.is_nil(res.e)
    -- the decoy (203.0.113.x, the right id and question) came first
    assert.equal(format("192.0.2.%d", env.bad.wrong_cookie - env.bad_base + 1), res.m.answers[1].payload.address)
    assert.is_true(res.a[1].ignored >= 1)
  end)

  it("takes the decoy when cookies are off (the check is what drops it)", function()
    local r = resolver({ timeout = { 2 }, cookies = false }, { env.bad_server("wrong_cookie") })
    local res = ask(r, "www.test", A)
    assert.matches("^203%.0%.113%.", res.m.answers[1].payload.address)
  end)

  it("sends no cookie when turned off", function()
    local r = resolver({ timeout = { 2 }, cookies = false }, { env.bad_server("cookie_echo") })
    assert.equal("none", txt(ask(r, "x.test", TXT)))
  end)

  it("sends no cookie without EDNS", function()
    local r = resolver({ timeout = { 2 }, edns = false }, { env.bad_server("cookie_echo") })
    assert.equal("none", txt(ask(r, "x.test", TXT)))
  end)

  it("client.Resolver takes cookies = false", function()
    local r = client.Resolver{ servers = { env.bad_server("cookie_echo") }, cookies = false, timeout = { 2 } }
    local result = async.wait(r:lookupText("y.test"))
    assert.equal("none", result.answers[1].payload.data[1])
    r:close()
  end)
end)
