-- The examples, run as child processes against the test server: a private
-- resolv.conf names named's [127.0.0.1]:port and a private hosts file
-- stands for /etc/hosts, so nothing goes anywhere but loopback.
local env = require "testenv"

local conf, hostsFile

-- Runs examples/<script> with arguments; returns status, stdout, stderr.
local function run(script, ...)
  local args = {}
  for i, a in ipairs({ ... }) do
    args[i] = ("%q"):format(a)
  end
  return env.run(("%s examples/%s %s </dev/null"):format(env.lua_command(conf, hostsFile), script,
    table.concat(args, " ")))
end

describe("the examples", function()
  setup(function()
    env.assert_server_up()
    conf, hostsFile = env.private_files("127.0.0.1 localhost\n::1 localhost ip6-localhost\n"
      .. "192.0.2.77 fromhosts.test\n")
  end)
  teardown(function()
    os.remove(conf)
    os.remove(hostsFile)
  end)

  describe("reverse_lookup.lua, the seed's listing", function()
    it("answers 127.0.0.1 from the hosts file", function()
      local status, out, err = run("reverse_lookup.lua", "127.0.0.1")
      assert.equal("", err)
      assert.equal(0, status)
      assert.equal("1.0.0.127.in-addr.arpa IN <PTR name=localhost ttl=3600>\n", out)
    end)

    it("answers a test address from the server", function()
      local status, out = run("reverse_lookup.lua", "192.0.2.10")
      assert.equal(0, status)
      assert.equal("10.2.0.192.in-addr.arpa IN <PTR name=www.example.test ttl=3600>\n", out)
    end)
  end)

  describe("multi_reverse_lookup.lua", function()
    it("looks up IPv4 and IPv6 addresses in parallel and counts the responses", function()
      local status, out = run("multi_reverse_lookup.lua", "192.0.2.10", "2001:db8::25", "192.0.2.254")
      assert.equal(0, status)
      assert.equal(table.concat({
        "10.2.0.192.in-addr.arpa IN <PTR name=www.example.test ttl=3600>",
        "5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa IN "
          .. "<PTR name=mail.example.test ttl=3600>",
        "2 responses to 3 queries",
        "",
      }, "\n"), out)
    end)

    it("takes an IPv6 address with an IPv4 tail, and refuses one that is not an address", function()
      local status, out = run("multi_reverse_lookup.lua", "::ffff:192.0.2.10")
      assert.equal(0, status)
      assert.equal("0 responses to 1 queries\n", out) -- not served here; no crash
      local err
      status, out, err = run("multi_reverse_lookup.lua", "2001:zz::1")
      assert.equal("", out)
      assert.equal(1, status)
      assert.matches("not an IPv6 address: 2001:zz::1", err)
    end)

    it("prints its usage without arguments", function()
      local status, _, err = run("multi_reverse_lookup.lua")
      assert.equal(1, status)
      assert.matches("Usage: multi_reverse_lookup.lua IPADDRESS", err)
    end)
  end)

  describe("gethostbyname.lua", function()
    it("prints the address, IPv6 first", function()
      local status, out = run("gethostbyname.lua", "www.example.test")
      assert.equal(0, status)
      assert.equal("2001:db8::10\n", out)
    end)

    it("uses the hosts file first", function()
      local _, out = run("gethostbyname.lua", "fromhosts.test")
      assert.equal("192.0.2.77\n", out)
    end)

    it("applies the search list", function()
      local _, out = run("gethostbyname.lua", "mail2")
      assert.equal("192.0.2.26\n", out)
    end)

    it("says so when the name does not exist", function()
      local status, out, err = run("gethostbyname.lua", "missing.example.test")
      assert.equal(0, status)
      assert.equal("", out)
      assert.equal("ERROR: hostname not found 'missing.example.test'\n", err)
    end)
  end)

  describe("testdns.lua", function()
    it("prints the domain summary", function()
      local status, out = run("testdns.lua", "www.example.test")
      assert.equal(0, status)
      assert.equal(table.concat({
        "# Domain Summary for 'www.example.test'",
        "# Addresses",
        "www.example.test IN <A address=192.0.2.10 ttl=3600>",
        "",
        "# Mail Exchangers",
        "",
        "# Nameservers",
        "",
      }, "\n"), out)
    end)

    it("lists mail exchangers and name servers", function()
      local _, out = run("testdns.lua", "example.test")
      assert.matches("# Mail Exchangers\nexample.test IN <MX preference=%d+ name=mail2?%.example%.test ttl=3600>\n"
        .. "example.test IN <MX preference=%d+ name=mail2?%.example%.test ttl=3600>\n", out)
      assert.matches("# Nameservers\nexample.test IN <NS name=ns[12]%.example%.test ttl=3600>\n", out)
    end)

    it("says so when the domain does not exist", function()
      local status, out, err = run("testdns.lua", "missing.example.test")
      assert.equal(0, status)
      assert.equal("", out)
      assert.equal("ERROR: domain name not found 'missing.example.test'\n", err)
    end)
  end)

  describe("dns-service.lua", function()
    it("prints the SRV records", function()
      local status, out = run("dns-service.lua", "http", "tcp", "example.test")
      assert.equal(0, status)
      assert.equal("_http._tcp.example.test IN \n "
        .. "<SRV priority=10 weight=5 target=www.example.test port=80 ttl=3600>\n", out)
    end)

    it("says so when there is no such service", function()
      local status, _, err = run("dns-service.lua", "ldap", "tcp", "example.test")
      assert.equal(0, status)
      assert.equal("ERROR: domain name not found '_ldap._tcp.example.test'\n", err)
    end)
  end)

  describe("install_resolver.lua", function()
    it("resolves through the resolver it installs", function()
      local status, out = run("install_resolver.lua", "mail.example.test", "127.0.0.1", tostring(env.port))
      assert.equal(0, status)
      assert.equal("mail.example.test is 2001:db8::25\n", out)
    end)
  end)

  describe("coroutine_lookup.lua", function()
    it("prints the summary with no callbacks at all", function()
      local status, out = run("coroutine_lookup.lua", "www.example.test")
      assert.equal(0, status)
      assert.equal(table.concat({
        "# Domain Summary for 'www.example.test'",
        "# Addresses",
        "www.example.test.\t3600\tIN\tA\t192.0.2.10",
        "# Mail Exchangers",
        "# Nameservers",
        "",
      }, "\n"), out)
    end)

    it("catches the failure of a missing name with pcall", function()
      local status, _, err = run("coroutine_lookup.lua", "missing.example.test")
      assert.equal(1, status)
      assert.equal("ERROR: domain name not found 'missing.example.test'\n", err)
    end)
  end)

  describe("datagram_query.lua", function()
    it("asks the server given with DNSDatagramProtocol", function()
      local status, out = run("datagram_query.lua", "127.0.0.1", tostring(env.port), "www.example.test")
      assert.equal(0, status)
      assert.equal("ANSWERS:  [<AAAA address=2001:db8::10 ttl=3600>]\n", out)
    end)
  end)
  describe("luv_connect.lua", function()
    it("races luv's own sockets to a name whose IPv6 address refuses", function()
      if not pcall(require, "luv") then return pending("lua-luv is not installed") end
      local p = assert(io.popen("exec lua5.4 spec/support/tcp_listener.lua 20 127.0.0.1:55830"))
      local pid = assert(p:read("l"):match("^(%d+) ready$"))
      local status, out, err = run("luv_connect.lua", "he-refuse6.example.test", "55830")
      os.execute("kill " .. pid)
      p:close()
      assert.equal("", err)
      assert.equal(0, status)
      local first, tried, received = out:match("^(.-)\n(.-)\n(.-)\n$")
      assert.equal("connected to 127.0.0.1 port 55830", first)
      if env.ipv6 ~= false then
        assert.is_truthy(tried:find("^tried: %[::1%]:55830 refused after [%d.]+s; 127%.0%.0%.1:55830 connected"), tried)
      end
      assert.equal("received 23 bytes", received)
    end)

    it("says what each address did when none connects", function()
      if not pcall(require, "luv") then return pending("lua-luv is not installed") end
      local status, out, err = run("luv_connect.lua", "he-v4only.example.test", "55831")
      assert.equal(1, status)
      assert.equal("", out)
      assert.is_truthy(err:find("could not connect to he-v4only.example.test port 55831: "
        .. "127.0.0.1:55831 refused after", 1, true), err)
    end)
  end)
end)
