--- The reactor: twisted.internet.reactor on a libuv loop.
--
-- The loop is the module's own unless `useLuv` moves it onto luv's. Timed
-- calls live in a heap here and share one libuv timer, as Twisted keeps
-- them; `run()` holds the loop open until `stop()`, as Twisted's does.
--
--    local reactor = require "names.reactor"
--    reactor.callLater(0.5, function() print("later") reactor.stop() end)
--    reactor.run()
--
-- Embedding: `useLuv(require "luv")` before any I/O shares luv's loop, so
-- `uv.run()` serves both. For any other loop the module is a cqueues
-- pollable (`pollfd`, `events`, `timeout`) and `step()` runs what is ready
-- without blocking.
-- @module names.reactor

local argcheck = require "names.argcheck"
local class = require "names.class"
local core = require "names.core"
local defer = require "names.defer"
local delayedcall = require "names.delayedcall"

local M = {}

local pack, unpack = table.pack, table.unpack
local floor = math.floor
local format = string.format

local function report(err)
  io.stderr:write("Unhandled Error\n", tostring(err), "\n")
end

local function protectedCall(f, args)
  local ok, err = xpcall(f, debug.traceback, unpack(args, 1, args.n))
  if not ok then
    report(err)
  end
end

-- The heap of delayed calls ---------------------------------------------------

local heap = {}     -- heap[1] is the earliest call
local sequence = 0  -- ties run in the order they were scheduled

local function earlier(a, b)
  if a.time ~= b.time then
    return a.time < b.time
  end
  return a.seq < b.seq
end

local function swap(i, j)
  heap[i], heap[j] = heap[j], heap[i]
  heap[i].slot, heap[j].slot = i, j
end

local function siftUp(i)
  while i > 1 do
    local parent = floor(i / 2)
    if not earlier(heap[i], heap[parent]) then
      break
    end
    swap(i, parent)
    i = parent
  end
end

local function siftDown(i)
  local n = #heap
  while true do
    local l, r, best = 2 * i, 2 * i + 1, i
    if l <= n and earlier(heap[l], heap[best]) then best = l end
    if r <= n and earlier(heap[r], heap[best]) then best = r end
    if best == i then
      return
    end
    swap(i, best)
    i = best
  end
end

local function insert(call)
  sequence = sequence + 1
  call.seq = sequence
  heap[#heap + 1] = call
  call.slot = #heap
  siftUp(#heap)
end

local function remove(call)
  local i, n = call.slot, #heap
  call.slot = nil
  if i ~= n then
    heap[i] = heap[n]
    heap[i].slot = i
    heap[n] = nil
    siftDown(i)
    siftUp(i)
  else
    heap[n] = nil
  end
end

local armedFor -- the time the libuv timer is set for, or nil

local function arm()
  local first = heap[1]
  if not first then
    if armedFor then
      core.set_timer(nil)
      armedFor = nil
    end
    return
  end
  if armedFor ~= first.time then
    armedFor = first.time
    core.set_timer(first.time - core.now())
  end
end

-- Runs every call that is due, then re-arms the timer.
local function runUntilCurrent()
  armedFor = nil
  local now = core.now()
  while heap[1] and heap[1].time <= now do
    local call = heap[1]
    remove(call)
    call.called = true
    protectedCall(call.f, call.args)
  end
  arm()
end

core.on_timer(runUntilCurrent)

-- DelayedCall -------------------------------------------------------------------

local DelayedCall = delayedcall.class("names.reactor.DelayedCall", {
  now = function() return core.now() end,
  remove = remove,
  insert = insert,
  changed = arm,
})
local checkSeconds = delayedcall.checkSeconds

-- The reactor's functions ---------------------------------------------------------

--- The loop's clock: seconds on a monotonic clock, with sub-millisecond
-- precision. (The core's function itself: this is read on every lookup.)
-- @function seconds
-- @treturn number
M.seconds = core.now

--- Calls `f(...)` after `delay` seconds.
-- @tparam number delay
-- @tparam function f
-- @treturn DelayedCall with `cancel`, `reset`, `delay`, `active`, `getTime`
function M.callLater(delay, f, ...)
  checkSeconds(delay, 1, "callLater")
  if not class.iscallable(f) then
    argcheck.error(2, "callLater", "function expected, got " .. type(f))
  end
  if delay < 0 then
    delay = 0
  end
  local call = setmetatable({ time = core.now() + delay, f = f, args = pack(...),
    called = false, cancelled = false }, DelayedCall)
  insert(call)
  arm()
  return call
end

--- The delayed calls that have not run yet.
-- @treturn {DelayedCall,...}
function M.getDelayedCalls()
  local out = {}
  for i, call in ipairs(heap) do
    out[i] = call
  end
  return out
end

local startup = {}

--- Calls `f(...)` once the reactor runs (at once if it is running).
-- @tparam function f
function M.callWhenRunning(f, ...)
  argcheck.expect(1, "callWhenRunning", class.iscallable(f), "function", f)
  if core.running() then
    f(...)
    return
  end
  startup[#startup + 1] = { f = f, args = pack(...) }
end

--- Runs the loop until `stop()` is called.
function M.run()
  local calls = startup
  startup = {}
  for _, c in ipairs(calls) do
    M.callLater(0, c.f, unpack(c.args, 1, c.args.n))
  end
  core.run()
end

--- Stops the running loop; raises if it is not running, as Twisted.
function M.stop()
  if not core.running() then
    error("ReactorNotRunning: can't stop reactor that isn't running.", 2)
  end
  core.stop()
end

--- Whether `run()` is in progress.
-- @treturn boolean
function M.isRunning()
  return core.running()
end

--- Runs what is ready without blocking: due calls, and the I/O that
-- `pollfd()` reported (with `wait`, blocks for one round of the loop
-- instead; 0 is taken as false, as cqueues' `step(0)`). Raises when called
-- from inside the loop (a callback of `run()` or of `step()`). Callable as
-- a method.
-- @tparam[opt] boolean wait
-- @treturn boolean whether anything is still pending (a lookup, a delayed
--   call): false once the reactor is idle
function M.step(wait)
  if wait == M then -- called as reactor:step()
    wait = nil
  end
  if wait == 0 then -- cqueues' step(0): do not wait
    wait = false
  elseif wait ~= nil and type(wait) ~= "boolean" then
    argcheck.error(1, "step", "wait: a boolean expected, got " .. type(wait))
  end
  return core.step(wait)
end

--- The descriptor that becomes readable when the loop has work, for
-- cqueues.poll and poll/select loops: `cqueues.poll(reactor)` then
-- `reactor.step()`. From the first call on, lookups started outside the
-- loop make it readable, so a coroutine asleep in `cqueues.poll(reactor)`
-- wakes up to serve them. Callable as a method.
-- @treturn integer
function M.pollfd()
  return core.pollfd()
end

--- The events to wait for on `pollfd()`: always "r".
-- @treturn string
function M.events()
  return "r"
end

--- Seconds until `step()` has something to do (the next delayed call or
-- resolver retry; 0 when something is ready now), or nil when only I/O
-- can bring work. Callable as a method.
-- @treturn number|nil
function M.timeout()
  return core.backend_timeout()
end

--- Wakes a loop polling `pollfd()`: it becomes readable until the next
-- `step()`. Work started through this module does it by itself.
function M.wakeUp()
  core.wake()
end

-- Network ----------------------------------------------------------------------------

-- A transport of the core, opened for the reactor function `fname`: its
-- failures are the caller's errors, the address argument (number `n`,
-- `what`) named when it is no IP address (the core's code ESYNTAX).
local function open(fname, n, what, opener, address, ...)
  local transport, why, code = opener(address, ...)
  if transport then
    return transport
  end
  if code == "ESYNTAX" then
    argcheck.error(n, fname, format("%s: an IP address expected, got '%s'; names are not resolved here", what,
      address), 2)
  end
  error(fname .. ": " .. why, 3)
end

local Port = { __name = "names.reactor.UDPPort" }
Port.__index = Port

--- The address the port is bound to: `{host = ..., port = ..., type = "UDP"}`.
function Port:getHost()
  return { type = "UDP", host = self.interface, port = self._port:port() }
end

--- Sends one datagram to `{host, port}`.
function Port:write(data, address)
  if type(address) ~= "table" then
    argcheck.error(2, "write", "an address {host, port} expected, got " .. type(address))
  end
  return self._port:write(data, address[1], address[2])
end

--- Closes the port.
function Port:stopListening()
  if self._port then
    self._port:close()
  end
  if self.protocol and self.protocol.doStop then
    self.protocol:doStop()
  end
end
Port.loseConnection = Port.stopListening

--- Binds a UDP port (0 for any) and connects `protocol` to it
-- (`protocol:makeConnection(port)`, then `datagramReceived(data, {host, port})`
-- for each datagram nobody waits for).
-- @treturn table the port: `getHost()`, `write(data, address)`, `stopListening()`
function M.listenUDP(port, protocol, interface)
  if math.type(port) ~= "integer" or port < 0 or port > 65535 then
    argcheck.error(1, "listenUDP", "port: 0..65535 expected")
  end
  argcheck.expect(2, "listenUDP", type(protocol) == "table" and class.iscallable(protocol.datagramReceived),
    "a protocol with datagramReceived", protocol)
  if interface ~= nil then
    argcheck.check(3, "listenUDP", interface, "string", "interface: an IP address")
  end
  if interface == nil or interface == "" then
    interface = "0.0.0.0" -- Twisted's '': every IPv4 interface
  end
  local p = setmetatable({ interface = interface, protocol = protocol }, Port)
  p._port = open("listenUDP", 3, "interface", core.udp_listen, interface, port, function(data, host, fromPort)
    protocol:datagramReceived(data, { host, fromPort })
  end)
  if protocol.makeConnection then
    protocol:makeConnection(p)
  else
    protocol.transport = p
  end
  return p
end

local Connection = { __name = "names.reactor.TCPConnection" }
Connection.__index = Connection

--- Sends one DNS message (the two-byte length is added).
function Connection:write(data)
  return self._conn:write(data)
end

-- The protocol learns once that the connection is gone, as Twisted's
-- connectionLost(reason) (a string here).
function Connection:_lost(reason)
  if self._gone then
    return
  end
  self._gone = true
  local protocol = self.protocol
  if protocol and protocol.connectionLost then
    protocol:connectionLost(reason)
  end
end

function Connection:loseConnection()
  if self._conn and not self._gone then
    self._conn:close()
    self:_lost("the connection was closed cleanly")
  end
end

--- Connects to `host`:`port` and, once connected, builds the protocol with
-- `factory:buildProtocol(address)` and calls `protocol:makeConnection`.
-- On failure, `factory:clientConnectionFailed(connector, reason)`.
-- Twisted's `timeout` (seconds to wait for the connection; none when nil)
-- and `bindAddress` (`{host, port}`, the local address to connect from)
-- may follow.
-- @treturn table the connector: `disconnect()`
function M.connectTCP(host, port, factory, timeout, bindAddress)
  argcheck.check(1, "connectTCP", host, "string", "host: string")
  if math.type(port) ~= "integer" or port < 1 or port > 65535 then
    argcheck.error(2, "connectTCP", "port: 1..65535 expected")
  end
  if type(factory) ~= "table" or not class.iscallable(factory.buildProtocol) then
    argcheck.error(3, "connectTCP", "a factory with buildProtocol expected")
  end
  if factory.clientConnectionFailed ~= nil and not class.iscallable(factory.clientConnectionFailed) then
    argcheck.error(3, "connectTCP", "the factory's clientConnectionFailed is not a function")
  end
  if timeout ~= nil and (type(timeout) ~= "number" or not (timeout > 0)) then
    argcheck.error(4, "connectTCP", "timeout: seconds expected")
  end
  local bindHost, bindPort
  if bindAddress ~= nil then
    if type(bindAddress) ~= "table" or type(bindAddress[1]) ~= "string" then
      argcheck.error(5, "connectTCP", "bindAddress: {host, port} expected")
    end
    bindHost, bindPort = bindAddress[1], bindAddress[2] or 0
    local _, bindFamily = core.address_bytes(bindHost)
    if not bindFamily then
      argcheck.error(5, "connectTCP", format("bindAddress: an IP address expected, got '%s'", bindHost))
    end
    if math.type(bindPort) ~= "integer" or bindPort < 0 or bindPort > 65535 then
      argcheck.error(5, "connectTCP", "bindAddress: port 0..65535 expected")
    end
    local _, family = core.address_bytes(host)
    if family and family ~= bindFamily then
      argcheck.error(5, "connectTCP", "bindAddress: not of the host's address family")
    end
  end
  local connector = {}
  local conn = setmetatable({ peer = { host, port } }, Connection)
  local timer
  conn._conn = open("connectTCP", 1, "host", core.tcp_connect, host, port, function(err)
    if timer then
      timer:cancel()
      timer = nil
    end
    if err then
      if factory.clientConnectionFailed then
        factory:clientConnectionFailed(connector, err)
      end
      return
    end
    local protocol = factory:buildProtocol({ host, port })
    if protocol == nil then
      conn:loseConnection() -- as Twisted: no protocol, no connection
      return
    end
    connector.protocol = protocol
    conn.protocol = protocol
    if protocol.makeConnection then
      protocol:makeConnection(conn)
    else
      protocol.transport = conn
    end
  end, function(data)
    if connector.protocol and connector.protocol.dataReceived then
      connector.protocol:dataReceived(data)
    end
  end, function(reason)
    conn:_lost(reason)
  end, bindHost, bindPort)
  if timeout then
    timer = M.callLater(timeout, function()
      timer = nil
      if conn._conn and not connector.protocol then
        conn._conn:close()
        conn._gone = true
        if factory.clientConnectionFailed then
          factory:clientConnectionFailed(connector, "connection timed out")
        end
      end
    end)
  end
  function connector.disconnect()
    if timer then
      timer:cancel()
      timer = nil
    end
    conn:loseConnection()
  end
  connector.transport = conn
  return connector
end

-- Name resolution ---------------------------------------------------------------------

local installed

--- Resolves a name to one address with the installed resolver (by default
-- names.client's global one): a Deferred firing with the address string.
-- @treturn Deferred
function M.resolve(name, timeout)
  argcheck.check(1, "resolve", name, "string", "name: string")
  -- as Twisted: an address is its own answer, and "" means any address
  if name == "" then
    return defer.succeed("0.0.0.0")
  elseif core.reverse_name(name) then
    return defer.succeed(name)
  end
  -- checked here, so that an error names resolve (names.common needs no
  -- reactor: no loop in the requires)
  timeout = require("names.common").checkTimeout(timeout, "resolve", 2)
  local r = installed or require("names.client").getResolver()
  return r:getHostByName(name, timeout)
end

--- Installs the resolver `reactor.resolve` uses; returns the previous one.
function M.installResolver(resolver)
  if type(resolver) ~= "table" or type(resolver.getHostByName) ~= "function" then
    argcheck.error(1, "installResolver", "a resolver with getHostByName expected")
  end
  local old = installed
  installed = resolver
  return old
end

--- The resolver `reactor.resolve` uses: the installed one, else
-- names.client's global one (names.endpoints connects through it).
-- @treturn table
function M.getResolver()
  return installed or require("names.client").getResolver()
end

--- Moves the module onto luv's loop, so that `uv.run()` serves lookups
-- beside luv's handles. Call it before any I/O (a lookup, a resolver, a
-- port): it raises after that. An idle resolver keeps no loop alive:
-- `uv.run()` returns once the user's own work and the pending lookups are
-- done. Debian's lua-luv links the same shared libuv as this module.
--
--    local uv = require "luv"
--    reactor.useLuv(uv)
--    client.lookupAddress("example.com"):addCallback(print)
--    uv.run()
-- @tparam table luv the luv module
function M.useLuv(luv)
  argcheck.expect(1, "useLuv", type(luv) == "table" and type(luv.run) == "function", "the luv module", luv)
  local ok, err = core.use_luv(luv)
  if not ok then
    error("useLuv must be called before any I/O: " .. err
      .. " (call reactor.useLuv(require \"luv\") before the first lookup)", 2)
  end
  armedFor = nil
  arm()
end

return M
