-- names-dig, one question at a time: its options, and its output held
-- against real dig's, both asking the test named (127.0.0.1 and a port,
-- never the system's resolver); the errors and exit statuses against the
-- misbehaving servers; resolv.conf and hosts-file answers through private
-- files; dig() in the REPL. EDNS options that named does not send (client
-- subnet, extended errors) are served by hand, to dig and to names-dig alike.
local async = require "async"
local cjson = require "cjson"
local dig = require "names.dig"
local digcli = require "names.digcli"
local digformat = require "names.digformat"
local dns = require "names.dns"
local env = require "testenv"
local options = require "names.digoptions"

local port = env.port

local function quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function lines(s)
  local t = {}
  for line in s:gmatch("[^\n]+") do
    t[#t + 1] = line
  end
  return t
end

local function sorted(t)
  table.sort(t)
  return t
end

-- Real dig, at the test server, with some words; its standard output.
local function realDig(words)
  local args = { "dig", "@127.0.0.1", "-p", tostring(port), "+time=3", "+tries=1" }
  for _, w in ipairs(words) do
    args[#args + 1] = quote(w)
  end
  local p = assert(io.popen(table.concat(args, " ") .. " 2>&1"))
  local out = p:read("a")
  p:close()
  return out
end

-- names-dig in this process (parse, ask, format); the text and the exit status.
local function namesDig(words)
  local o = assert(options.parse(words))
  local r = async.wait(dig.question(o, table.concat(words, " ")))
  return r.text, r.status, r.outcome
end

-- bin/names-dig as a child process, with private resolv.conf and hosts files.
local conf, hostsFile

local function command(words, extra)
  local args = {}
  for i, w in ipairs(words) do
    args[i] = quote(w)
  end
  return ("cd %s && env -u LUA_PATH -u LUA_CPATH NAMES_RESOLV_CONF=%s NAMES_HOSTS=%s %s timeout 60 bin/names-dig %s")
    :format(quote(env.root), quote(conf), quote(hostsFile), extra or "", table.concat(args, " "))
end

local function child(words, extra)
  return env.run(command(words, extra))
end

-- The records of each section of dig's text (blanks squeezed, sorted),
-- and the header's status and flags.
local function sections(text)
  local out, current = { ANSWER = {}, AUTHORITY = {}, ADDITIONAL = {}, QUESTION = {} }, nil
  for line in (text .. "\n"):gmatch("(.-)\n") do
    local title = line:match("^;; (%u+) SECTION:$")
    if title then
      current = out[title]
    elseif line == "" then
      current = nil
    elseif current then
      current[#current + 1] = (line:gsub("%s+", " "))
    end
    out.status = out.status or line:match("status: (%u+),")
    out.flags = out.flags or line:match("^;; flags: (.*)$")
    out.edns = out.edns or line:match("^; EDNS: (.*)$")
  end
  for _, k in ipairs{ "ANSWER", "AUTHORITY", "ADDITIONAL", "QUESTION" } do
    sorted(out[k])
  end
  return out
end

describe("names-dig's command line", function()
  it("takes dig's @server, -p, NAME and TYPE in any order", function()
    local o = assert(options.parse{ "MX", "@192.0.2.1", "example.test", "-p", "5353", "+short" })
    assert.are.same({ "192.0.2.1", 5353, "example.test", dns.MX, true },
      { o.server, o.port, o.name, o.qtype, o.short })
    o = assert(options.parse("example.test -t txt +norec +dnssec +tcp +json"))
    assert.are.same({ dns.TXT, false, true, true, true }, { o.qtype, o.recurse, o.dnssec, o.tcp, o.json })
  end)

  it("asks A of a name and NS of the root when no type is given", function()
    assert.are.equal(dns.A, options.parse("www.example.test").qtype)
    local o = options.parse("")
    assert.are.same({ ".", dns.NS }, { o.name, o.qtype })
  end)

  it("turns -x into the PTR question of the address's reverse name", function()
    local o = assert(options.parse("-x 192.0.2.1"))
    assert.are.same({ "1.2.0.192.in-addr.arpa", dns.PTR }, { o.name, o.qtype })
    o = assert(options.parse("-x 2001:db8::1"))
    assert.are.equal("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", o.name)
  end)

  it("reads RFC 3597 type names and +time and +tries", function()
    local o = assert(options.parse("x.test TYPE65534 +time=0.5 +tries=2"))
    assert.are.same({ 65534, 0.5, 2 }, { o.qtype, o.time, o.tries })
    assert.are.equal("TYPE65534", options.typeText(65534))
  end)

  it("refuses what dig refuses, with a message that says what", function()
    local cases = {
      { "+bogus", "Invalid option: %+bogus" },
      { "-x 300.1.1.1", "is not an IPv4 or IPv6 address" },
      { "-p 70000 x.test", "%-p: '70000' is not an integer from 0 to 65535" },
      { "-t FOO x.test", "'FOO' is not a record type" },
      { "a.test b.test", "more than one name" },
      { "+time=0 x.test", "%+time: '0' is not a positive number" },
      { "+short=1 x.test", "Invalid option" },
      { "--qps 5 x.test", "belongs to bulk mode" },
      { "-f in.txt --shard 4/3", "is not K/N" },
      { "--nonsense", "unknown option" },
    }
    for _, c in ipairs(cases) do
      local o, err = options.parse(c[1])
      assert.is_nil(o, c[1])
      assert.matches(c[2], err)
    end
  end)
end)

describe("names-dig against the test server, beside dig", function()
  setup(function()
    env.assert_server_up()
    conf, hostsFile = env.private_files("127.0.0.1 localhost\n192.0.2.99 fromhosts.example.test\n")
  end)
  teardown(function()
    os.remove(conf)
    os.remove(hostsFile)
  end)

  it("prints what dig +short prints for every RRset of the test zones", function()
    local types = env.zone_types()
    assert.is_true(#types > 50)
    for _, rr in ipairs(types) do
      local words = { "@127.0.0.1", "-p", tostring(port), "+norec", "+short", rr.owner, rr.type }
      if rr.owner == "bigtxt.example.test." then
        words[#words + 1] = "+tcp"
      end
      local mine = namesDig(words)
      local theirs = realDig({ "+norec", "+short", rr.owner, rr.type, words[8] })
      assert.is_true(#theirs > 0, rr.owner .. " " .. rr.type)
      assert.are.same(sorted(lines(theirs)), sorted(lines(mine)), rr.owner .. " " .. rr.type)
    end
  end)

  it("writes each record's rdata from its fields as toText writes it", function()
    local seen = 0
    for _, rr in ipairs(env.zone_types()) do
      local words = { "@127.0.0.1", "-p", tostring(port), "+norec", rr.owner, rr.type }
      if rr.owner == "bigtxt.example.test." then
        words[#words + 1] = "+tcp"
      end
      local _, _, outcome = namesDig(words)
      for _, answer in ipairs(outcome.answers) do
        assert.are.equal(answer.payload:toText(), digformat.rdataText(answer), rr.owner .. " " .. rr.type)
        seen = seen + 1
      end
    end
    assert.is_true(seen > 50)
    -- names that need escapes, the root, addresses in every form
    for _, payload in ipairs{ dns.Record_PTR("a\\.b\\032c\\(.example"), dns.Record_NS(""), dns.Record_CNAME("."),
      dns.Record_MX(0, "\\@.example"), dns.Record_AAAA("::ffff:192.0.2.1"), dns.Record_AAAA("2001:DB8:0:0:1::1"),
      dns.Record_A("0.0.0.0"), dns.Record_DNAME("x\\;y.example") } do
      assert.are.equal(payload:toText(), digformat.rdataText(dns.RRHeader{ payload = payload }))
    end
  end)

  it("carries the same header, flags, EDNS line and records in every section as dig", function()
    for _, q in ipairs{
      { "example.test", "MX" }, { "www.example.test", "A" }, { "nx.example.test", "A" },
      { "example.test", "SOA" }, { "_sip._udp.example.test", "SRV" }, { "chain1.example.test", "A" },
      { "ds.example.test", "DS" }, { "aaaa.example.test", "TXT" }, { "-x", "192.0.2.1" },
    } do
      local mine = sections((namesDig{ "@127.0.0.1", "-p", tostring(port), "+norec", q[1], q[2] }))
      local theirs = sections(realDig{ "+norec", "+nocookie", q[1], q[2] })
      local what = q[1] .. " " .. q[2]
      assert.is_not_nil(theirs.status, what)
      for _, k in ipairs{ "status", "flags", "edns", "QUESTION", "ANSWER", "AUTHORITY", "ADDITIONAL" } do
        assert.are.same(theirs[k], mine[k], what .. ": " .. k)
      end
    end
  end)

  it("lays the output out as dig does, line by line, but for the id, times and sizes", function()
    local mine = namesDig{ "@127.0.0.1", "-p", tostring(port), "+norec", "+nocookie", "www.example.test" }
    local theirs = realDig{ "+norec", "+nocookie", "www.example.test" }
    local function shape(text)
      local out = {}
      for _, line in ipairs(lines(text)) do
        if not line:match("^; <<>>") and not line:match("^; %(") and not line:match("^;; Query time")
            and not line:match("^;; WHEN") and not line:match("^;; MSG SIZE") then
          out[#out + 1] = (line:gsub("id: %d+", "id: N"))
        end
      end
      return out
    end
    local a, b = shape(theirs), shape(mine)
    -- dig's answer and additional records come in the server's order
    assert.are.same(sorted(a), sorted(b))
    assert.matches(";; SERVER: 127.0.0.1#" .. port .. "%(127.0.0.1%) %(UDP%)", mine)
    assert.matches(";; Query time: %d+ msec", mine)
  end)

  it("sets the DO bit with +dnssec and asks over TCP with +tcp", function()
    local text = namesDig{ "@127.0.0.1", "-p", tostring(port), "+dnssec", "+tcp", "example.test", "SOA" }
    assert.matches("; EDNS: version: 0, flags: do; udp: 1232", text, 1, true)
    assert.matches("(TCP)", text, 1, true)
    -- BIG answers come whole over TCP
    local short = namesDig{ "@127.0.0.1", "-p", tostring(port), "+short", "+tcp", "bigtxt.example.test", "TXT" }
    assert.is_true(#short > 1232)
  end)

  it("leaves RD clear with +norecurse and sets it by default", function()
    local on = sections((namesDig{ "@127.0.0.1", "-p", tostring(port), "www.example.test" }))
    local off = sections((namesDig{ "@127.0.0.1", "-p", tostring(port), "+norec", "www.example.test" }))
    assert.matches("^qr aa rd;", on.flags)
    assert.matches("^qr aa;", off.flags)
  end)

  it("prints NXDOMAIN as dig does, with the try under it, and exits 0", function()
    local text, status = namesDig{ "@127.0.0.1", "-p", tostring(port), "nx.example.test" }
    assert.are.equal(0, status)
    assert.matches("status: NXDOMAIN", text, 1, true)
    assert.matches(";; tried 127.0.0.1:" .. port .. " udp answer NXDOMAIN after", text, 1, true)
    assert.are.same(sections(realDig{ "+nocookie", "nx.example.test" }).AUTHORITY, sections(text).AUTHORITY)
  end)

  it("says no server could be reached, lists each try, and exits 9", function()
    local status, out = child{ "@127.0.0.1", "-p", tostring(env.bad.silent), "+time=0.2", "+tries=2", "a.test" }
    assert.are.equal(9, status)
    assert.matches(";; connection timed out; no servers could be reached", out, 1, true)
    local _, tries = out:gsub(";; tried 127.0.0.1:" .. env.bad.silent .. " udp timeout after 0%.2", "")
    assert.are.equal(2, tries)
  end)

  it("prints a SERVFAIL answer with status SERVFAIL, and exits 0", function()
    local text, status = namesDig{ "@127.0.0.1", "-p", tostring(env.bad.servfail), "+tries=1", "a.test" }
    assert.are.equal(0, status)
    assert.matches("status: SERVFAIL", text, 1, true)
    assert.matches(";; tried 127.0.0.1:" .. env.bad.servfail .. " udp rcode SERVFAIL", text, 1, true)
  end)

  it("exits 1 on a usage error, naming it on standard error, as dig", function()
    local status, out, err = child{ "+bogus", "x.test" }
    assert.are.equal(1, status)
    assert.are.equal("", out)
    assert.matches("names-dig: Invalid option: +bogus", err, 1, true)
    assert.matches("Usage: names-dig", err, 1, true)
  end)

  it("exits 10 on an internal error (output that cannot be written)", function()
    local failing = { write = function() error("disk on fire") end, flush = function() end }
    local quiet = { write = function() end, flush = function() end }
    local status = digcli.main({ "@127.0.0.1", "-p", tostring(port), "+short", "a.example.test" },
      { stdout = failing, stderr = quiet })
    assert.are.equal(10, status)
  end)

  it("asks resolv.conf's servers with its search list when no server is named", function()
    local status, out = child{ "+short", "www" }
    assert.are.equal(0, status)
    assert.are.equal("192.0.2.10\n", out)
    status, out = child{ "www" }
    assert.are.equal(0, status)
    assert.matches(";www.example.test.\t\tIN\tA", out, 1, true)
    assert.matches(";; SERVER: 127.0.0.1#" .. port, out, 1, true)
  end)

  it("moves resolv.conf's servers to the port of -p", function()
    -- resolv.conf names port 53 here: only -p reaches the test server
    local saved = conf
    conf = env.write("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
    local status, out = child{ "-p", tostring(port), "+short", "www.example.test" }
    os.remove(conf)
    conf = saved
    assert.are.equal(0, status)
    assert.are.equal("192.0.2.10\n", out)
  end)

  it("answers from the hosts file and says so", function()
    local status, out = child{ "fromhosts.example.test" }
    assert.are.equal(0, status)
    assert.matches(";; Got answer from the hosts file " .. hostsFile, out, 1, true)
    assert.matches("fromhosts.example.test.\t3600\tIN\tA\t192.0.2.99", out, 1, true)
    assert.matches(";; SERVER: hosts file " .. hostsFile, out, 1, true)
    local _, json = child{ "+json", "-x", "192.0.2.99" }
    local t = cjson.decode(json)
    assert.are.equal("hosts", t.source)
    assert.are.equal(1, #t.answer)
    assert.are.equal("99.2.0.192.in-addr.arpa. 3600 IN PTR fromhosts.example.test.", (t.answer[1]:gsub("%s+", " ")))
  end)

  it("prints one JSON object with what the full output shows", function()
    local text = namesDig{ "@127.0.0.1", "-p", tostring(port), "+json", "+nocookie", "example.test", "MX" }
    local t = cjson.decode(text)
    local full = sections((namesDig{ "@127.0.0.1", "-p", tostring(port), "+nocookie", "example.test", "MX" }))
    assert.are.equal("NOERROR", t.status)
    assert.are.equal(0, t.rcode)
    assert.are.same({ name = "example.test.", type = "MX", class = "IN" }, t.question)
    assert.are.same({ "qr", "aa", "rd" }, t.flags)
    assert.are.same({ version = 0, dnssecOK = false, udp = 1232, options = {} }, t.edns)
    for key, section in pairs{ answer = "ANSWER", authority = "AUTHORITY", additional = "ADDITIONAL" } do
      local squeezed = {}
      for i, line in ipairs(t[key]) do
        squeezed[i] = line:gsub("%s+", " ")
      end
      assert.are.same(full[section], sorted(squeezed), key)
    end
    assert.are.equal("127.0.0.1:" .. port, t.server)
    assert.are.equal("udp", t.transport)
    assert.are.equal(1, #t.attempts)
    assert.are.equal("answer", t.attempts[1].outcome)
  end)

  it("prints a JSON object for a timeout too, with the tries", function()
    local status, out = child{ "@127.0.0.1", "-p", tostring(env.bad.silent), "+time=0.2", "+tries=1", "+json",
      "a.test" }
    assert.are.equal(9, status)
    local t = cjson.decode(out)
    assert.are.equal("TIMEOUT", t.status)
    assert.are.equal("timeout", t.attempts[1].outcome)
    assert.are.same({}, t.answer)
  end)
end)

describe("names-dig's OPT pseudo-section, beside dig's", function()
  local socket = require "socket"

  -- A reply to `query` with EDNS options dig and names-dig both decode.
  local function replyWith(query, ednsOptions)
    local q = dns.decode(query)
    return dns.Message{ id = q.id, answer = true, auth = true, recDes = q.recDes, queries = q.queries,
      ednsVersion = 0, maxSize = 1232, ednsOptions = ednsOptions,
      answers = { dns.RRHeader{ name = q.queries[1].name.name, type = dns.A, ttl = 60,
        payload = dns.Record_A("192.0.2.7", 60) } } }:toStr()
  end

  -- Runs `cmd` (its output to a file) while a UDP socket on 127.0.0.1
  -- answers every query with `ednsOptions`; the output.
  local function served(cmdFor, ednsOptions)
    local u = assert(socket.udp4())
    assert(u:setsockname("127.0.0.1", 0))
    local _, sport = u:getsockname()
    local out = os.tmpname()
    os.execute(("(%s >%s 2>&1; echo __DONE__ >>%s) &"):format(cmdFor(sport), out, out))
    local deadline = socket.gettime() + 20
    u:settimeout(0.05)
    local text = ""
    while socket.gettime() < deadline do
      local query, ip, qport = u:receivefrom()
      if query then
        u:sendto(replyWith(query, ednsOptions), ip, qport)
      else
        local f = io.open(out)
        text = f and f:read("a") or ""
        if f then f:close() end
        if text:find("__DONE__", 1, true) then
          break
        end
      end
    end
    u:close()
    os.remove(out)
    return text
  end

  local function optLines(text)
    local out, inside = {}, false
    for _, line in ipairs(lines(text)) do
      if line == ";; OPT PSEUDOSECTION:" then
        inside = true
      elseif line:match("^;; ") then
        inside = false
      elseif inside then
        out[#out + 1] = line
      end
    end
    return out
  end

  it("decodes a cookie, a client subnet and an extended DNS error as dig does", function()
    local ecs = string.pack(">I2BB", 1, 24, 0) .. "\192\0\2"
    local opts = {
      { code = 10, data = "\1\2\3\4\5\6\7\8" .. "\9\10\11\12\13\14\15\16" },
      { code = 8, data = ecs },
      { code = 15, data = "\0\18" .. "not for you" },
      { code = 15, data = "\0\3" },
    }
    local theirs = optLines(served(function(p)
      return ("dig @127.0.0.1 -p %d +norec +nocookie +time=5 +tries=1 x.test"):format(p)
    end, opts))
    local mine = optLines(served(function(p)
      return command({ "@127.0.0.1", "-p", tostring(p), "+norec", "+nocookie", "+time=5", "+tries=1", "x.test" })
    end, opts))
    assert.are.equal(5, #theirs)
    -- dig judges the cookie against the one it sent; names-dig sends none
    theirs[2] = theirs[2]:gsub(" %(%a+%)$", "")
    assert.are.same(theirs, mine)
  end)
end)

describe("dig() in names-repl", function()
  setup(function()
    env.assert_server_up()
    conf, hostsFile = env.private_files()
  end)
  teardown(function()
    os.remove(conf)
    os.remove(hostsFile)
  end)

  local function repl(input)
    local inFile = env.write(input)
    local status, out, err = env.run(("cd %s && env -u LUA_PATH -u LUA_CPATH HOME=/nonexistent "
      .. "NAMES_RESOLV_CONF=%s NAMES_HOSTS=%s timeout 30 bin/names-repl -q <%s"):format(
      quote(env.root), quote(conf), quote(hostsFile), quote(inFile)))
    os.remove(inFile)
    return status, out, err
  end

  it("prints the answer in dig's layout from a string or a table of words", function()
    local status, out = repl(([[
dig("@127.0.0.1 -p %d example.test MX")
dig{"@127.0.0.1", "-p", "%d", "+short", "-x", "192.0.2.1"}
dig("+short www")
]]):format(port, port))
    assert.are.equal(0, status)
    local theirs = sections(realDig{ "+nocookie", "example.test", "MX" })
    local mine = sections(out)
    assert.are.same(theirs.ANSWER, mine.ANSWER)
    assert.are.same(theirs.ADDITIONAL, mine.ADDITIONAL)
    assert.matches("> ns1.example.test.\n", out, 1, true)
    -- resolv.conf's search list, as on the command line
    assert.matches("> 192.0.2.10\n", out, 1, true)
  end)

  it("raises a usage error at the prompt and carries on", function()
    local status, out, err = repl("dig('+bogus')\nprint('still here')\n")
    assert.are.equal(0, status)
    assert.matches("dig: Invalid option: +bogus", err, 1, true)
    assert.matches("still here", out, 1, true)
  end)
end)

describe("names-dig over the encrypted transports and with cookies", function()
  local CA = env.certs .. "/ca.pem"
  local function tlsArgs(extra)
    local words = { "@127.0.0.1", "-p", tostring(env.tls.dot), "+tls", "+tls-ca=" .. CA,
      "+tls-hostname=dns.example.test" }
    for _, w in ipairs(extra) do words[#words + 1] = w end
    return words
  end

  it("asks over TLS (+tls) what dig asks over UDP, and shows the verified TLS session", function()
    for _, q in ipairs{ { "www.example.test", "A" }, { "example.test", "MX" }, { "www.example.test", "AAAA" } } do
      local mine = namesDig(tlsArgs{ "+short", q[1], q[2] })
      assert.are.same(sorted(lines(realDig{ "+short", q[1], q[2] })), sorted(lines(mine)), q[1] .. " " .. q[2])
    end
    local full = namesDig(tlsArgs{ "www.example.test" })
    assert.matches(";; SERVER: 127.0.0.1#" .. env.tls.dot .. "%(127.0.0.1%) %(TLS%)", full)
    assert.matches(";; TLS session: TLSv1%.[23], [%w_%-]+, ALPN dot, verified", full)
  end)

  it("asks over HTTPS (+https), verifying the address the certificate names", function()
    local words = { "@127.0.0.1", "-p", tostring(env.tls.doh), "+https", "+tls-ca=" .. CA }
    local short = words
    short[#short + 1] = "+short"
    short[#short + 1] = "www.example.test"
    assert.are.equal("192.0.2.10\n", (namesDig(short)))
    local full = namesDig{ "@127.0.0.1", "-p", tostring(env.tls.doh), "+https", "+tls-ca=" .. CA, "www.example.test" }
    assert.matches("%(HTTPS%)", full)
    assert.matches(";; TLS session: .*ALPN h2, verified", full)
  end)

  it("refuses a server it cannot verify, naming why, with dig's no-reply status", function()
    local text, status, outcome = namesDig{ "@127.0.0.1", "-p", tostring(env.tls.dot), "+tls", "+tries=1",
      "www.example.test" }
    assert.matches("certificate from an unknown CA", text, 1, true)
    assert.are_not.equal("NOERROR", status)
    assert.are.equal(dig.EXIT_NOREPLY, dig.exitStatus(outcome))
  end)

  it("sends a cookie by default and takes the server's back, none with +nocookie", function()
    local with = namesDig{ "@127.0.0.1", "-p", tostring(port), "www.example.test" }
    -- BIND answers a client cookie with its own: 8 octets of ours, 16 of its
    assert.matches("; COOKIE: " .. ("%x"):rep(48) .. "\n", with)
    local without = namesDig{ "@127.0.0.1", "-p", tostring(port), "+nocookie", "www.example.test" }
    assert.is_nil(without:find("COOKIE", 1, true))
  end)
end)
