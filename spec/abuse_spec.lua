-- The binding under abuse: Lua code that closes, collects and re-enters
-- at the worst moments gets an error or a clean result, never a crash.
-- Each case is a crash that a hunt under AddressSanitizer found; make asan
-- runs this file again with the sanitized module (spec/support/run-sanitized.sh).
-- Every packet goes to 127.0.0.1, most to port 9, where nothing listens.
local env = require "testenv"
local core = require "names.core"
local dns = require "names.dns"
local reactor = require "names.reactor"

local function runFor(secs)
  reactor.callLater(secs, reactor.stop)
  reactor.run()
end

-- Runs a Lua chunk in a child lua5.4 with the checkout's modules (for what
-- would change this process for good); it must succeed quietly. Returns
-- its standard output.
local function inChild(chunk)
  local status, out, err = env.run_lua(chunk)
  assert.equal("", err)
  assert.equal(0, status)
  return out
end

describe("the binding under abuse", function()
  it("lets a callback close the resolver while a refused socket fails the queries behind it", function()
    local r = core.resolver_new{ timeout = { 2 } }
    r:set_servers{ "127.0.0.1:9" } -- refused: ICMP fails every query on the socket at once
    local seen = {}
    local function cb(_, err)
      seen[#seen + 1] = err and err.status
      if #seen == 1 then r:close() end
    end
    r:query("a.example", dns.A, 1, nil, "", cb)
    r:query("b.example", dns.A, 1, nil, "", cb)
    runFor(0.5)
    assert.same({ "error", "cancelled" }, seen)
  end)

  it("lets a callback cancel the other query of a failing socket", function()
    local r = core.resolver_new{ timeout = { 2 } }
    r:set_servers{ "127.0.0.1:9" }
    local seen, other = {}, nil
    r:query("a.example", dns.A, 1, nil, "", function(_, err)
      seen[#seen + 1] = "a " .. err.status
      if other then other:cancel() end
    end)
    other = r:query("b.example", dns.A, 1, nil, "", function(_, err)
      seen[#seen + 1] = "b " .. err.status
    end)
    runFor(0.5)
    r:close()
    table.sort(seen)
    -- whichever came first, the other was cancelled from its callback or failed
    assert.equal(2, #seen)
  end)

  it("refuses to run the loop from a callback that runs outside it", function()
    local r = core.resolver_new{}
    local port = core.udp_listen("127.0.0.1", 0, function() end)
    local msg = core.encode{ id = 1, queries = { { name = "a.example", type = 1, cls = 1 } } }
    local stepped, why
    r:exchange(msg, "127.0.0.1:9", "udp", 5, function(_, err)
      r:close()
      stepped, why = pcall(core.step)
      assert(err)
    end, port)
    port:close() -- fails the exchange at once, from inside close()
    assert.is_false(stepped)
    assert.matches("step: the loop is already running", why)
    local ran, whyRun
    r = core.resolver_new{}
    port = core.udp_listen("127.0.0.1", 0, function() end)
    r:exchange(msg, "127.0.0.1:9", "udp", 5, function()
      ran, whyRun = pcall(core.run)
    end, port)
    port:close()
    r:close()
    assert.is_false(ran)
    assert.matches("run: not from inside a loop callback", whyRun)
  end)

  it("finds the resolver closed when its arguments' metamethods closed it", function()
    local r
    local function closing(value)
      return setmetatable({}, { __index = function(_, k)
        if k == 1 then
          r:close()
          core.step()
          return value
        end
      end })
    end
    r = core.resolver_new{}
    local ok, err = pcall(r.query, r, "a.example", 1, 1, closing(1), "", print)
    assert.is_false(ok)
    assert.matches("the resolver is closed", err)
    r = core.resolver_new{}
    ok, err = pcall(r.set_servers, r, { closing("127.0.0.1") })
    assert.is_false(ok)
    assert.matches("the resolver is closed", err)
    r = core.resolver_new{}
    local msg = core.encode{ id = 1, queries = { { name = "a.example", type = 1, cls = 1 } } }
    ok, err = pcall(r.exchange, r, msg, closing("127.0.0.1"), "udp", 1, print)
    assert.is_false(ok)
    assert.matches("the resolver is closed", err)
  end)

  it("refuses classes that are not tables, and keeps the ones it had", function()
    local ok, err = pcall(core.dns_setup, { Name = 1, Query = "x", RRHeader = true, Message = 5 })
    assert.is_false(ok)
    assert.matches("dns_setup: classes.Name is not a table", err)
    local m = dns.Message():fromStr(core.encode{ id = 7, queries = { { name = "a.example", type = 1, cls = 1 } } })
    assert.equal("a.example", m.queries[1].name.name)
    assert.equal(dns.Name, getmetatable(m.queries[1].name))
  end)

  it("takes its classes from the first argument of dns_setup whatever follows it", function()
    -- in a child: the classes set here would otherwise stay for the other specs
    local out = inChild([[
      local core = require "names.core"
      local C = { Name = {}, Query = {}, RRHeader = {}, Message = {}, Unknown = {}, [1] = {} }
      local extra = {}
      core.dns_setup(C, extra)
      local m = core.decode(core.encode{ id = 1, queries = { { name = "a.example", type = 1, cls = 1 } } })
      print(getmetatable(m) == C.Message, getmetatable(m.queries[1].name) == C.Name, next(extra) == nil)
      debug.setmetatable(0, { __newindex = function() end })
      core.dns_setup(C, 42)
      print(getmetatable(core.decode(core.encode{ id = 2 })) == C.Message)
    ]])
    assert.equal("true\ttrue\ttrue\ntrue\n", out)
  end)

  -- A finalizer that runs `action` when it finds `armed` set (and unsets
  -- it), and leaves a new one of itself for the next cycle: under the
  -- generational collector it runs inside a call that allocates enough,
  -- when the call is armed. `stop` ends the line.
  local function armedFinalizer(action)
    local state = { armed = false, fired = 0 }
    local function plant()
      setmetatable({}, { __gc = function()
        if not state.stop then
          plant()
        end
        if state.armed then
          state.armed = false
          state.fired = state.fired + 1
          action(state)
        end
      end })
    end
    plant()
    return state
  end

  -- One that closes `target` through its metatable's __gc.
  local function closingFinalizers()
    return armedFinalizer(function(state)
      state.closedTarget = state.target
      getmetatable(state.target).__gc(state.target)
    end)
  end

  it("says closed when a finalizer closes a cache, conf or hosts object while it converts arguments", function()
    local conf = env.write("nameserver 127.0.0.1\nsearch a.example b.example c.example\n")
    local hosts = env.write("192.0.2.1 one.example\n")
    -- numbers where strings go, each new (converting one made before
    -- reuses its string, with no allocation): I is a fresh one each call
    local I = {}
    local cases = {
      { core.resolvconf, conf, "info" },
      { core.resolvconf, conf, "candidates", I },
      { core.hosts, hosts, "addresses", I, 4 },
      { core.hosts, hosts, "find", I, 4 },
      { core.cache, nil, "get", I, 1, 1, 0 },
      { core.cache, nil, "put", I, 1, 1, I, 0 },
    }
    local state = closingFinalizers()
    collectgarbage("generational", 1, 100)
    local closed = {}
    for _, case in ipairs(cases) do
      local make, path, method = case[1], case[2], case[3]
      local args = {}
      -- little is allocated outside the calls (a new object only after a
      -- finalizer closed the last), so most collections happen inside
      -- them; some in the conversion of an argument, before the object
      -- is used: until then (how often depends on the heap the specs
      -- before this one left, since a minor collection comes after 1% of
      -- it is allocated: a bound ten times what usually suffices)
      for i = 1, 200000 do
        if closed[method] then
          break
        end
        if not state.target or state.closedTarget == state.target then
          state.target = path and make(path) or make()
        end
        for k = 4, #case do
          args[k - 3] = case[k] == I and 1000000 * k + i or case[k]
        end
        state.armed = true
        local ok, err = pcall(state.target[method], state.target, table.unpack(args, 1, #case - 3))
        state.armed = false
        if not ok then
          closed[method] = closed[method] or err
        end
      end
    end
    state.stop = true
    collectgarbage("incremental", 200, 100, 13)
    collectgarbage()
    os.remove(conf)
    os.remove(hosts)
    -- the finalizer ran inside some calls (each said "closed")
    assert.same({ info = "closed", candidates = "closed", addresses = "closed", find = "closed",
      get = "closed", put = "closed" }, closed)
  end)

  it("decodes right while finalizers decode other messages in the middle", function()
    local function https(n, len)
      local params = {}
      for i = 1, n do
        params[i] = { key = i, value = string.rep(string.char(65 + i % 26), len) }
      end
      return core.encode{ id = 1, answer = true, queries = { { name = "a.example", type = 65, cls = 1 } },
        answers = { { name = "a.example", type = 65, cls = 1, ttl = 60,
          payload = dns.Record_HTTPS{ priority = 1, target = "b.example", params = params } } } }
    end
    local outer, inner = https(3000, 1), https(20, 300)
    local finalized = 0
    collectgarbage("incremental", 10, 400)
    for _ = 1, 4 do
      for _ = 1, 100 do
        setmetatable({}, { __gc = function()
          finalized = finalized + 1
          pcall(core.decode, inner .. "")
        end })
      end
      local params = core.decode(outer).answers[1].payload.params
      assert.equal(3000, #params)
      for i = 1, 3000, 97 do
        assert.equal(string.char(65 + i % 26), params[i].value)
      end
    end
    collectgarbage("incremental", 200, 100)
    collectgarbage()
    assert.is_true(finalized > 0)
  end)

  it("names a reverse name's address from one version of a hosts file that finalizers reload meanwhile", function()
    local path = os.tmpname()
    local function write(letter, labels)
      local names = {}
      for i = 1, 60 do
        names[i] = ("%s%02d"):format(string.rep(string.rep(letter, 49) .. ".", labels), i)
      end
      local f = assert(io.open(path, "w"))
      f:write("192.0.2.7 ", table.concat(names, " "), "\n")
      f:close()
    end
    write("a", 4)
    local hosts = core.hosts(path)
    local flip, reloads, mixed, counts = false, 0, {}, {}
    local state = armedFinalizer(function()
      flip = not flip
      if flip then write("b", 2) else write("a", 4) end
      if hosts:reload() then
        reloads = reloads + 1
      end
    end)
    -- from a heap the earlier specs left collected (what old objects a
    -- generational minor cycle skips depends on it otherwise)
    collectgarbage()
    collectgarbage("generational", 1, 100)
    for _ = 1, 20000 do
      if reloads >= 5 then
        break
      end
      state.armed = true
      local names = hosts:pointer("7.2.0.192.in-addr.arpa")
      state.armed = false
      -- all from one version
      local prefix = names[1]:sub(1, -3)
      for i, name in ipairs(names) do
        if name ~= prefix .. ("%02d"):format(i) then
          mixed[#mixed + 1] = name
        end
      end
      counts[#names] = true
    end
    state.stop = true
    collectgarbage("incremental", 200, 100, 13) -- Lua's defaults
    collectgarbage()
    os.remove(path)
    assert.same({}, mixed)
    assert.same({ [60] = true }, counts)
    assert.equal(5, reloads) -- each inside pointer()
  end)

  it("says closed when a finalizer closes the hosts object inside pointer()", function()
    local path = os.tmpname()
    local f = assert(io.open(path, "w"))
    for i = 1, 60 do
      f:write(("192.0.2.7 %s%02d\n"):format(string.rep("c", 60), i))
    end
    f:close()
    local state = closingFinalizers()
    local errors = {}
    collectgarbage("generational", 1, 100)
    -- until a finalizer has closed it before the names were copied (after,
    -- the call has all it needs and succeeds)
    for _ = 1, 20000 do
      if errors.closed then
        break
      end
      if not state.target or state.closedTarget == state.target then
        state.target = core.hosts(path)
      end
      state.armed = true
      local ok, err = pcall(state.target.pointer, state.target, "7.2.0.192.in-addr.arpa")
      state.armed = false
      if not ok then
        errors[err] = true
      end
    end
    state.stop = true
    collectgarbage("incremental", 200, 100, 13)
    collectgarbage()
    os.remove(path)
    assert.same({ closed = true }, errors)
  end)

  it("refuses to run or move the loop from inside a finalizer", function()
    local results = {}
    do
      setmetatable({}, { __gc = function()
        results.step = { pcall(core.step) }
        results.run = { pcall(core.run) }
        results.luv = { pcall(core.use_luv, {}) }
      end })
    end
    collectgarbage()
    collectgarbage()
    for what, result in pairs(results) do
      assert.is_false(result[1], what)
      assert.matches(": not from inside a finalizer$", result[2])
    end
    assert.is_not_nil(results.step and results.run and results.luv)
  end)

  it("calls back once a query that a finalizer closed while its handle was made", function()
    collectgarbage("incremental", 1, 1000)
    local calls, made = 0, 0
    local target
    local closer = { __gc = function() if target then target:close() end end }
    for _ = 1, 2000 do
      local r = core.resolver_new{}
      r:set_servers{ { "127.0.0.1", env.bad.silent } }
      for _ = 1, 3 do setmetatable({}, closer) end
      target = r
      local ok = pcall(r.query, r, "a.example.test", 1, 1, nil, "", function() calls = calls + 1 end)
      target = nil
      if ok then made = made + 1 end
      r:close()
    end
    collectgarbage("incremental", 200, 100)
    assert.equal(made, calls)
  end)

  it("frees nothing under a resolver that a finalizer brought back to fill a dying cache", function()
    local called = 0
    do
      local r = core.resolver_new{ timeout = { 2 } }
      r:set_servers{ { "127.0.0.1", env.port } }
      r:set_cache(core.cache())
      setmetatable({}, { __gc = function()
        r:query("www.example.test", 1, 1, nil, "", function() called = called + 1 end)
        -- and the loop may not run here, under the collector
        assert(not pcall(core.step))
      end })
    end
    -- r, its cache and the reviver die together: the cache's finalizer
    -- runs too, and r's own drops the query it was given (its callback
    -- with it: the query was started on a resolver being finalized)
    collectgarbage()
    collectgarbage()
    for _ = 1, 20 do core.step(false) end
    assert.equal(0, called)
  end)

  it("refuses file descriptors out of range rather than truncating them", function()
    local ok, err = pcall(core.repl.watch_fd, 2 ^ 32 + 4, function() end)
    assert.is_false(ok)
    assert.matches("not a file descriptor", err)
    ok, err = pcall(core.repl.fd_read, -1)
    assert.is_false(ok)
    assert.matches("not a file descriptor", err)
  end)

  it("takes the loop it has after its options' metamethods moved it to luv's", function()
    if not pcall(require, "luv") then
      return pending("lua-luv is not installed")
    end
    -- in a child: the move to luv's loop is for good
    local out = inChild([[
local core = require "names.core"
local uv = require "luv"
local r = core.resolver_new(setmetatable({}, { __index = function(_, k)
  if k == "tcpIdle" then core.use_luv(uv) end
end }))
r:set_servers{ "127.0.0.1:9" }
r:query("a.example", 1, 1, { 0.2 }, "", function(_, e) print("done", e.status) end)
uv.run()
]])
    assert.matches("^done\t", out)
  end)
end)

describe("the binding's objects", function()
  -- every object that can be closed closes the same three ways: close(),
  -- a to-be-closed variable, and the collector; closed, it says so
  local makers = {
    resolver = function() return core.resolver_new{ timeout = { 1 } } end,
    ["UDP port"] = function() return core.udp_listen("127.0.0.1", 0, function() end) end,
    ["resolv.conf"] = function() return core.resolvconf("/nonexistent") end,
    ["hosts file"] = function() return core.hosts("/nonexistent") end,
    cache = function() return core.cache(10, 60, 60) end,
    ["signal watch"] = function() return core.repl.watch_signal("SIGWINCH", function() end) end,
  }
  for what, make in pairs(makers) do
    it("closes a " .. what .. " at the end of a to-be-closed variable, and says it is closed", function()
      local kept
      do
        local obj <close> = make()
        kept = obj
        assert.matches("^names%.[%w_]+: 0x%x+$", tostring(obj))
      end
      assert.matches("^names%.[%w_]+ %(closed%)$", tostring(kept))
      kept:close() -- again: nothing
      local obj = make()
      obj:close()
      assert.matches("%(closed%)$", tostring(obj))
    end)
  end
end)
