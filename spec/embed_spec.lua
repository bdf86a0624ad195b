-- The reactor inside other loops: luv's (reactor.useLuv), cqueues' (the
-- reactor as a pollable) and a plain select/poll loop (pollfd, timeout,
-- step). Each case runs in a child lua5.4, since moving onto luv's loop is
-- for the life of a process. A private resolv.conf names the test server
-- and a private hosts file stands for /etc/hosts: nothing leaves loopback.
local env = require "testenv"

local conf, hostsFile

local write, slurp = env.write, env.slurp

local function environment()
  return ("cd %q && NAMES_RESOLV_CONF=%q NAMES_HOSTS=%q LUA_PATH=%q LUA_CPATH=%q"):format(
    env.root, conf, hostsFile, env.root .. "/lua/?.lua;;", env.root .. "/build/?.so;;")
end

-- What every child starts with: the ports of the test servers.
local PRELUDE = ([[
local PORT, SILENT, SLOW = %d, %d, %d
]]):format(env.port, env.bad.silent, env.bad.slow)

-- Runs a Lua chunk in a child; returns its exit status, stdout and stderr.
local function child(code, ...)
  local script = write(PRELUDE .. code)
  local args = {}
  for i, a in ipairs({ ... }) do
    args[i] = ("%q"):format(a)
  end
  local out, err = os.tmpname(), os.tmpname()
  local _, _, status = os.execute(("%s timeout 30 lua5.4 %q %s >%q 2>%q </dev/null"):format(
    environment(), script, table.concat(args, " "), out, err))
  os.remove(script)
  return status, slurp(out), slurp(err)
end

local function example(name, ...)
  local args = {}
  for i, a in ipairs({ ... }) do
    args[i] = ("%q"):format(a)
  end
  local out, err = os.tmpname(), os.tmpname()
  local _, _, status = os.execute(("%s timeout 30 lua5.4 examples/%s %s >%q 2>%q </dev/null"):format(
    environment(), name, table.concat(args, " "), out, err))
  return status, slurp(out), slurp(err)
end

local function lines(s)
  local t = {}
  for line in s:gmatch("[^\n]+") do
    t[#t + 1] = line
  end
  return t
end

describe("the reactor inside other loops", function()
  setup(function()
    env.assert_server_up()
    conf = write(("nameserver [127.0.0.1]:%d\n"):format(env.port))
    hostsFile = write("127.0.0.1 localhost\n::1 localhost ip6-localhost\n")
  end)
  teardown(function()
    os.remove(conf)
    os.remove(hostsFile)
  end)

  describe("luv: reactor.useLuv", function()
    it("serves lookups and luv's timers in one uv.run(), which returns when both are done", function()
      local status, out, err = child([[
        local uv = require "luv"
        local reactor = require "names.reactor"
        reactor.useLuv(uv)
        local client = require "names.client"
        local ticks = 0
        local t = uv.new_timer()
        t:start(20, 20, function()
          ticks = ticks + 1
          if ticks == 5 then t:close() end
        end)
        local answers = {}
        for _, name in ipairs{ "www.example.test", "mail.example.test" } do
          client.lookupAddress(name):addCallback(function(r)
            answers[#answers + 1] = tostring(r.answers[1].payload)
          end)
        end
        local t0 = uv.hrtime()
        uv.run()
        table.sort(answers)
        print(ticks, table.concat(answers, ","), (uv.hrtime() - t0) / 1e9 < 2)
      ]])
      assert.equal("", err)
      assert.equal(0, status)
      assert.equal("5\t<A address=192.0.2.10 ttl=3600>,<A address=192.0.2.25 ttl=3600>\ttrue\n", out)
    end)

    it("returns from uv.run() once the lookups are done: an idle resolver keeps no loop alive", function()
      local status, out, err = child([[
        local uv = require "luv"
        local reactor = require "names.reactor"
        reactor.useLuv(uv)
        local client = require "names.client"
        -- a long attempt timeout: its timer must not outlive the answer
        local r = client.Resolver{ servers = { { "127.0.0.1", PORT } }, timeout = { 5 } }
        local answered
        r:lookupAddress("www.example.test"):addCallback(function() answered = reactor.seconds() end)
        client.lookupAddress("mail.example.test"):addCallback(function() end)
        uv.run()
        local late = reactor.seconds() - answered
        print("answered", late < 0.5 or late)
        -- idle: another run returns at once
        local t0 = reactor.seconds()
        uv.run()
        print("idle", reactor.seconds() - t0 < 0.1)
        -- a delayed call keeps it alive until it runs; a cancelled one does not
        reactor.callLater(5, function() end):cancel()
        local fired
        reactor.callLater(0.2, function() fired = reactor.seconds() end)
        t0 = reactor.seconds()
        uv.run()
        print("delayed", fired - t0 >= 0.2, reactor.seconds() - t0 < 1)
      ]])
      assert.equal("", err)
      assert.equal(0, status)
      assert.equal("answered\ttrue\nidle\ttrue\ndelayed\ttrue\ttrue\n", out)
    end)

    it("keeps uv.run() going while a lookup is pending, until it times out", function()
      local status, out, err = child([[
        local uv = require "luv"
        local reactor = require "names.reactor"
        reactor.useLuv(uv)
        local client = require "names.client"
        local r = client.Resolver{ servers = { { "127.0.0.1", SILENT } }, timeout = { 0.3 } }
        local failed
        r:lookupAddress("www.example.test"):addErrback(function(f)
          failed = { f.type.__name, reactor.seconds() }
        end)
        local t0 = reactor.seconds()
        uv.run()
        local t1 = reactor.seconds()
        print(failed[1], failed[2] - t0 >= 0.29, t1 - failed[2] < 0.2)
      ]])
      assert.equal("", err)
      assert.equal(0, status)
      assert.equal("DNSQueryTimeoutError\ttrue\ttrue\n", out)
    end)

    it("refuses useLuv after I/O, with an error that says why and where", function()
      local code = [[
        local reactor = require "names.reactor"
        local client = require "names.client"
        local uv = require "luv"
        local r = client.Resolver{ servers = { { "127.0.0.1", PORT } } }
        local ok, e = pcall(function()
          reactor.useLuv(uv) -- here
        end)
        print(ok, e)
        ok, e = pcall(reactor.useLuv, {})
        print(ok, e)
        -- the module's own loop still serves lookups
        r:lookupAddress("www.example.test"):addCallback(function(x)
          print(x.answers[1].payload)
          reactor.stop()
        end)
        reactor.run()
      ]]
      local status, out, err = child(code)
      assert.equal("", err)
      assert.equal(0, status)
      local l = lines(out)
      local _, here = (PRELUDE .. code):sub(1, (PRELUDE .. code):find("-- here", 1, true)):gsub("\n", "")
      assert.matches("^false\t[^\n]*:" .. (here + 1) .. ": useLuv must be called before any I/O: "
        .. "I/O has already started", l[1])
      assert.matches("^false\tbad argument #1 to 'useLuv' %(the luv module expected", l[2])
      assert.equal("<A address=192.0.2.10 ttl=3600>", l[3])
    end)

    it("exits cleanly when names was loaded before luv, with a lookup and a luv handle open", function()
      local status, out, err = child([[
        local reactor = require "names.reactor"
        local client = require "names.client"
        local uv = require "luv"
        reactor.useLuv(uv)
        client.lookupAddress("www.example.test"):addCallback(function(r)
          print(r.answers[1].payload)
        end)
        uv.run()
        local r = client.Resolver{ servers = { { "127.0.0.1", SILENT } }, timeout = { 5 } }
        r:lookupAddress("www.example.test")
        reactor.callLater(10, function() end)
        uv.new_timer():start(10000, 0, function() end)
        os.exit(0, true) -- lua_close: our handles close before luv's loop does
      ]])
      assert.equal("", err)
      assert.equal(0, status)
      assert.equal("<A address=192.0.2.10 ttl=3600>\n", out)
    end)

    it("runs examples/luv_server.lua: names each client, stops after --max clients", function()
      local socket = require "socket"
      local out = os.tmpname()
      local p = assert(io.popen(("%s timeout 30 lua5.4 examples/luv_server.lua 0 --max 2 2>&1 >%q"):format(
        environment(), out), "r"))
      local port
      for _ = 1, 400 do -- up to 20 s: a cold machine starts slowly
        local f = io.open(out)
        local text = f and f:read("a") or ""
        if f then f:close() end
        port = tonumber(text:match("listening on 127%.0%.0%.1 port (%d+)"))
        if port then break end
        socket.sleep(0.05)
      end
      assert.is_number(port)
      local names = {}
      for i = 1, 2 do
        local c = socket.tcp()
        c:settimeout(10)
        assert(c:connect("127.0.0.1", port))
        names[i] = c:receive("*l")
        c:close()
      end
      local stderr = p:read("a")
      local _, _, status = p:close()
      assert.equal("", stderr)
      assert.equal(0, status)
      assert.same({ "localhost", "localhost" }, names)
      assert.matches("\nserved 2 clients\n$", slurp(out))
    end)
  end)

  describe("cqueues: the reactor as a pollable", function()
    it("serves lookups other coroutines start, beside a cqueues timer, and the loop ends", function()
      local status, out, err = child([[
        local cqueues = require "cqueues"
        local condition = require "cqueues.condition"
        local reactor = require "names.reactor"
        local client = require "names.client"
        local cq = cqueues.new()
        local left, allDone = 3, condition.new()
        local function await(d)
          local cond, settled, ok, v = condition.new(), false
          d:addCallbacks(function(r) settled, ok, v = true, true, r; cond:signal() end,
                         function(f) settled, ok, v = true, false, f; cond:signal() end)
          while not settled do cond:wait() end
          return ok, v
        end
        -- the driver: asleep in cqueues.poll(reactor) until there is work
        local rounds = 0
        cq:wrap(function()
          while left > 0 do
            cqueues.poll(reactor, allDone)
            reactor.step()
            rounds = rounds + 1
          end
        end)
        local ticks = 0
        cq:wrap(function()
          for _ = 1, 5 do cqueues.sleep(0.02); ticks = ticks + 1 end
        end)
        local results = {}
        for i, name in ipairs{ "www.example.test", "nope.example.test", "mail.example.test" } do
          cq:wrap(function()
            cqueues.sleep(0.03 * i) -- the driver is asleep by then
            local ok, v = await(client.lookupAddress(name))
            results[i] = ok and tostring(v.answers[1].payload) or v.type.__name
            left = left - 1
            if left == 0 then allDone:signal() end
          end)
        end
        local t0 = cqueues.monotime()
        assert(cq:loop())
        print(table.concat(results, ","))
        -- a few rounds per lookup, not a spin
        print(ticks, cqueues.monotime() - t0 < 2, rounds < 30 or rounds)
      ]])
      assert.equal("", err)
      assert.equal(0, status)
      assert.equal("<A address=192.0.2.10 ttl=3600>,DNSNameError,<A address=192.0.2.25 ttl=3600>\n"
        .. "5\ttrue\ttrue\n", out)
    end)

    it("wakes the sleeping driver for a lookup's timer: a silent server times out on time", function()
      local status, out, err = child([[
        local cqueues = require "cqueues"
        local condition = require "cqueues.condition"
        local reactor = require "names.reactor"
        local client = require "names.client"
        local cq = cqueues.new()
        local done = condition.new()
        local finished, rounds = false, 0
        cq:wrap(function()
          while not finished do
            cqueues.poll(reactor, done)
            reactor.step()
            rounds = rounds + 1
          end
        end)
        -- the resolver exists before the driver sleeps: only the new
        -- query's timer and socket can wake it
        local r = client.Resolver{ servers = { { "127.0.0.1", SILENT } } }
        cq:wrap(function()
          cqueues.sleep(0.05)
          local d = r:lookupAddress("www.example.test", { 0.2 })
          local cond, failure = condition.new()
          d:addErrback(function(f) failure = f; cond:signal() end)
          local t0 = cqueues.monotime()
          while not failure do cond:wait() end
          local took = cqueues.monotime() - t0
          print(failure.type.__name, took > 0.19 and took < 1, rounds < 10 or rounds)
          finished = true
          done:signal()
        end)
        cq:wrap(function() -- a watchdog
          cqueues.poll(done, 5)
          if not finished then print("stuck") os.exit(3) end
        end)
        assert(cq:loop())
      ]])
      assert.equal("", err)
      assert.equal(0, status)
      assert.equal("DNSQueryTimeoutError\ttrue\ttrue\n", out)
    end)

    it("runs examples/cqueues_lookups.lua: every answer, the timer's ticks, the status", function()
      local status, out, err = example("cqueues_lookups.lua", "www.example.test", "mail.example.test")
      assert.equal("", err)
      assert.equal(0, status)
      local l = lines(out)
      table.sort(l, function(a, b) return a < b end)
      assert.equal(3, #l)
      assert.equal("mail.example.test IN <A address=192.0.2.25 ttl=3600>", l[1])
      assert.matches("^the timer ticked %d+ times meanwhile$", l[2])
      assert.equal("www.example.test IN <A address=192.0.2.10 ttl=3600>", l[3])
      status, out = example("cqueues_lookups.lua", "nope.example.test")
      assert.equal(1, status)
      assert.matches("^nope%.example%.test: DNSNameError\n", out)
    end)
  end)

  describe("a plain poll loop: pollfd, timeout, step", function()
    it("drives a lookup to completion with socket.select, and is idle after", function()
      local status, out, err = child([[
        local socket = require "socket"
        local reactor = require "names.reactor"
        local client = require "names.client"
        local fd = reactor.pollfd()
        local wrapped = { getfd = function() return fd end, dirty = function() return false end }
        local result
        client.lookupAddress("www.example.test"):addCallback(function(r) result = r end)
        local rounds = 0
        while not result and rounds < 100 do
          socket.select({ wrapped }, nil, reactor.timeout() or 5)
          reactor.step()
          rounds = rounds + 1
        end
        print(result.answers[1].payload)
        -- idle: no timeout, nothing to step, and nothing to read (no spinning)
        local readable = socket.select({ wrapped }, nil, 0)
        print(reactor.timeout(), reactor.step(), #readable)
      ]])
      assert.equal("", err)
      assert.equal(0, status)
      assert.equal("<A address=192.0.2.10 ttl=3600>\nnil\tfalse\t0\n", out)
    end)

    it("runs the ready I/O in the step after poll says the descriptor is readable", function()
      local status, out, err = child([[
        local socket = require "socket"
        local reactor = require "names.reactor"
        local client = require "names.client"
        local wrapped = { getfd = function() return reactor.pollfd() end, dirty = function() return false end }
        -- a server that answers after 300 ms
        local r = client.Resolver{ servers = { { "127.0.0.1", SLOW } }, timeout = { 5 } }
        local d = r:lookupAddress("www.example.test")
        local settled = false
        d:addBoth(function() settled = true end)
        print("due now", reactor.timeout()) -- a socket to register
        reactor.step()
        local t = reactor.timeout()
        print("the retry timer", t > 4 and t <= 5)
        local readable = socket.select({ wrapped }, nil, 3)
        print("readable", #readable, settled)
        reactor.step()
        print("settled", settled)
      ]])
      assert.equal("", err)
      assert.equal(0, status)
      assert.equal("due now\t0.0\nthe retry timer\ttrue\nreadable\t1\tfalse\nsettled\ttrue\n", out)
    end)

    it("gives the time to the next delayed call or resolver retry as timeout()", function()
      local status, out, err = child([[
        local socket = require "socket"
        local reactor = require "names.reactor"
        local client = require "names.client"
        local wrapped = { getfd = function() return reactor.pollfd() end, dirty = function() return false end }
        local call = reactor.callLater(0.5, function() end)
        local t = reactor.timeout()
        print("delayed call", t > 0.4 and t <= 0.5)
        call:cancel()
        print("none", reactor.timeout())
        local r = client.Resolver{ servers = { { "127.0.0.1", SILENT } }, timeout = { 0.3 } }
        local t0 = reactor.seconds()
        local failed
        r:lookupAddress("www.example.test"):addErrback(function(f) failed = reactor.seconds() end)
        reactor.step()
        t = reactor.timeout()
        print("retry", t > 0.2 and t <= 0.3)
        local rounds = 0
        while not failed and rounds < 100 do
          socket.select({ wrapped }, nil, reactor.timeout())
          reactor.step()
          rounds = rounds + 1
        end
        print("timed out", failed - t0 >= 0.29 and failed - t0 < 0.6, rounds < 10)
      ]])
      assert.equal("", err)
      assert.equal(0, status)
      assert.equal("delayed call\ttrue\nnone\tnil\nretry\ttrue\ntimed out\ttrue\ttrue\n", out)
    end)

    it("refuses step() from inside the running loop", function()
      local status, out, err = child([[
        local reactor = require "names.reactor"
        reactor.callLater(0, function()
          print(pcall(reactor.step))
          reactor.stop()
        end)
        reactor.run()
      ]])
      assert.equal("", err)
      assert.equal(0, status)
      assert.matches("^false\t.*step: the loop is already running", out)
    end)
  end)
end)
