--- twisted.internet.endpoints: connecting by name, with Happy Eyeballs v2.
--
--    local endpoints = require "names.endpoints"
--    local ep = endpoints.HostnameEndpoint(reactor, "www.example.test", 53)
--    ep:connect(factory):addCallback(function(protocol) ... end)
--
-- `HostnameEndpoint` asks AAAA and A at once, orders the addresses as
-- RFC 6724 says (the rules that need no routing table), interleaves the
-- families and races connections as RFC 8305 (Happy Eyeballs v2) says: a
-- new attempt every Connection Attempt Delay or as soon as one fails; the
-- first connection wins and the others are closed.
--
-- `race(addresses, connect, options)` is the same algorithm for any loop:
-- the caller's `connect(address, port)` opens a socket its own way (luv,
-- cqueues, ...) and returns a Deferred, or takes a callback.
-- @module names.endpoints

local class = require "names.class"
local core = require "names.core"
local defer = require "names.defer"
local dns = require "names.dns"

local M = {}

local format, concat = string.format, table.concat
local byte, sub = string.byte, string.sub

-- Errors ----------------------------------------------------------------------------

--- No address could be found for the name (Twisted's
-- twisted.internet.error.DNSLookupError); `lookups` says what each
-- family's lookup did.
M.DNSLookupError = class("names.endpoints.DNSLookupError", class.Exception)

--- Every address was tried and none connected (Twisted's ConnectError);
-- `attempts` lists each address, when it was tried and what it did.
M.ConnectError = class("names.endpoints.ConnectError", class.Exception)

--- The connection was not made within `timeout` seconds (a
-- `defer.TimeoutError`, as Twisted's connect timeout is).
M.ConnectingTimeoutError = class("names.endpoints.ConnectingTimeoutError", defer.TimeoutError)

--- The factory's `buildProtocol` returned nil (Twisted's NoProtocol).
M.NoProtocol = class("names.endpoints.NoProtocol", class.Exception)

-- RFC 6724: destination address selection -----------------------------------------

-- The default policy table (RFC 6724, 2.1): prefix, length, precedence, label.
local function prefix(hex, len, precedence, label)
  local bytes = {}
  for i = 1, #hex, 2 do
    bytes[#bytes + 1] = tonumber(hex:sub(i, i + 1), 16)
  end
  for i = #bytes + 1, 16 do
    bytes[i] = 0
  end
  local packed = string.char(table.unpack(bytes))
  local whole, bits = len // 8, len % 8
  return { bytes = packed, len = len, precedence = precedence, label = label,
    -- for matching: the whole bytes of the prefix, then the bits of one more
    head = packed:sub(1, whole), whole = whole,
    mask = bits > 0 and (0xff << (8 - bits)) & 0xff or nil,
    last = bits > 0 and byte(packed, whole + 1) or nil }
end

local policy = {
  prefix("00000000000000000000000000000001", 128, 50, 0),   -- ::1/128
  prefix("00000000000000000000ffff", 96, 35, 4),             -- ::ffff:0:0/96 (IPv4)
  prefix("2002", 16, 30, 2),                                 -- 6to4
  prefix("20010000", 32, 5, 5),                              -- Teredo
  prefix("fc", 7, 3, 13),                                    -- ULA
  prefix("", 96, 1, 3),                                      -- ::/96 (IPv4-compatible)
  prefix("fec0", 10, 1, 11),                                 -- site-local
  prefix("3ffe", 16, 1, 12),                                 -- 6bone
  prefix("", 0, 40, 1),                                      -- ::/0
}

-- The number of leading bits `a` and `b` (16-byte strings) share, up to `limit`.
local function commonPrefix(a, b, limit)
  local n = 0
  for i = 1, 16 do
    local x, y = byte(a, i), byte(b, i)
    if x ~= y then
      local diff = x ~ y
      while diff & 0x80 == 0 do
        n = n + 1
        diff = diff << 1
      end
      return math.min(n, limit)
    end
    n = n + 8
    if n >= limit then
      return limit
    end
  end
  return math.min(n, limit)
end

-- The longest matching entry of the policy table (entries are ordered so
-- that the first match is the longest).
local function classify(bytes)
  for _, p in ipairs(policy) do
    if sub(bytes, 1, p.whole) == p.head
        and (not p.mask or byte(bytes, p.whole + 1) & p.mask == p.last & p.mask) then
      return p
    end
  end
  return policy[#policy]
end

local SCOPE_LINK, SCOPE_SITE, SCOPE_GLOBAL = 2, 5, 14

-- The scope of an address (RFC 6724, 3.1 and 3.2; IPv4 loopback and
-- link-local addresses have link-local scope).
local function scope(bytes)
  local b1, b2 = byte(bytes, 1, 2)
  if bytes:sub(1, 12) == "\0\0\0\0\0\0\0\0\0\0\255\255" then
    local v1, v2 = byte(bytes, 13, 14)
    if v1 == 127 or (v1 == 169 and v2 == 254) then
      return SCOPE_LINK
    end
    return SCOPE_GLOBAL
  end
  if b1 == 0xff then
    return b2 & 0x0f -- multicast: the scope is in the address
  elseif bytes == "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1" then
    return SCOPE_LINK
  elseif b1 == 0xfe and b2 & 0xc0 == 0x80 then
    return SCOPE_LINK
  elseif b1 == 0xfe and b2 & 0xc0 == 0xc0 then
    return SCOPE_SITE
  end
  return SCOPE_GLOBAL
end

-- The probe that tells reachability and the source address: a UDP
-- socket connect()ed to the destination, which sends nothing and is
-- closed at once (no loop, no handle).
local function probeSource(address)
  return core.route_source(address)
end

-- Probes per sort: one per destination (RFC 6724 compares each
-- destination with its own source) up to this many, then one per family
-- and scope, so that a huge answer costs a bounded number of syscalls.
M.maxProbes = 32

local function sourceOf(s, why)
  if not s then
    return { why = why or "unreachable" }
  end
  local sb = core.address_bytes(s)
  if not sb then
    return { why = "bad source address " .. tostring(s) }
  end
  return { address = s, bytes = sb, scope = scope(sb), policy = classify(sb) }
end

-- A destination with what the rules compare.
local function describe(address, index, sources, sourceFor)
  local bytes, family = core.address_bytes(address)
  if not bytes then
    return nil
  end
  local d = { address = address, index = index, family = family, bytes = bytes,
    scope = scope(bytes), policy = classify(bytes) }
  local key = family .. "/" .. d.scope
  local src = sources[address]
  if src == nil then
    if sources.n < M.maxProbes or not sources[key] then
      sources.n = sources.n + 1
      src = sourceOf((sourceFor or probeSource)(address))
      sources[key] = sources[key] or src
    else
      src = sources[key]
    end
    sources[address] = src
  end
  d.source = src
  return d
end

-- RFC 6724, section 6: whether `a` goes before `b`.
local function before(a, b)
  local sa, sb = a.source, b.source
  -- Rule 1: avoid unusable destinations
  if (sa.bytes ~= nil) ~= (sb.bytes ~= nil) then
    return sa.bytes ~= nil
  end
  if sa.bytes then
    -- Rule 2: prefer matching scope
    local ma, mb = a.scope == sa.scope, b.scope == sb.scope
    if ma ~= mb then
      return ma
    end
    -- Rules 3 (deprecated sources) and 4 (home addresses) need what only
    -- the kernel knows; Rule 5: prefer matching label
    ma, mb = a.policy.label == sa.policy.label, b.policy.label == sb.policy.label
    if ma ~= mb then
      return ma
    end
  end
  -- Rule 6: prefer higher precedence
  if a.policy.precedence ~= b.policy.precedence then
    return a.policy.precedence > b.policy.precedence
  end
  -- Rule 7 (native transport) needs interface knowledge; Rule 8: prefer
  -- smaller scope
  if a.scope ~= b.scope then
    return a.scope < b.scope
  end
  -- Rule 9: longest matching prefix, for IPv6 only (as glibc and c-ares:
  -- for IPv4 it defeats DNS load balancing), up to the source's /64
  if sa.bytes and sb.bytes and a.family == 6 and b.family == 6
      and a.policy.label ~= 4 and b.policy.label ~= 4 then
    local ca, cb = commonPrefix(a.bytes, sa.bytes, 64), commonPrefix(b.bytes, sb.bytes, 64)
    if ca ~= cb then
      return ca > cb
    end
  end
  -- Rule 10: otherwise, leave the order unchanged
  return a.index < b.index
end

--- Orders destination addresses as RFC 6724 section 6 does, with the
-- rules that need no routing table: 1 (unusable: no route, found by a
-- UDP connect() to the destination that sends nothing, and gives the
-- source address the kernel would use; one per destination, at most
-- `maxProbes` per sort), 2 (matching scope), 5 (matching
-- label), 6 (precedence), 8 (smaller scope), 9 (longest matching prefix,
-- IPv6 only) and 10 (stable). IPv4 addresses are compared as IPv4-mapped,
-- with the default policy table.
-- @tparam {string,...} addresses IPv4 and IPv6 literals
-- @tparam[opt] table options `sourceFor(address)`: the source address the
--   host would use, or nil and a reason when it has no route (default:
--   the probe)
-- @treturn {string,...} the addresses in order (unparsable ones dropped)
-- @treturn table the descriptions, in the same order: `address`, `family`
--   (4 or 6), `usable`, `source`, `precedence`, `label`, `scope`
function M.sortAddresses(addresses, options)
  if type(addresses) ~= "table" then
    error("bad argument #1 to 'sortAddresses' (a list of addresses expected, got " .. type(addresses) .. ")", 2)
  end
  local sourceFor = options and options.sourceFor
  local sources, list = { n = 0 }, {}
  for i, address in ipairs(addresses) do
    local d = describe(address, i, sources, sourceFor)
    if d then
      list[#list + 1] = d
    end
  end
  table.sort(list, before)
  local out, info = {}, {}
  for i, d in ipairs(list) do
    out[i] = d.address
    info[i] = { address = d.address, family = d.family, usable = d.source.bytes ~= nil,
      source = d.source.address, why = d.source.why, precedence = d.policy.precedence,
      label = d.policy.label, scope = d.scope }
  end
  return out, info
end

--- Interleaves an ordered list by family, as RFC 8305 section 4 says: the
-- first `firstCount` addresses of the first address's family, then one of
-- the other family, one of the first, and so on; what is left of one
-- family comes at the end.
-- @tparam {string,...} addresses in preference order
-- @tparam[opt=1] integer firstCount the First Address Family Count
-- @treturn {string,...}
function M.interleave(addresses, firstCount)
  firstCount = firstCount or 1
  local families, order = {}, {}
  for _, address in ipairs(addresses) do
    local _, family = core.address_bytes(address)
    family = family or 0
    if not families[family] then
      families[family] = {}
      order[#order + 1] = family
    end
    local l = families[family]
    l[#l + 1] = address
  end
  if #order < 2 then
    return { table.unpack(addresses) }
  end
  local first, second = families[order[1]], families[order[2]]
  local out, i, j = {}, 1, 1
  for _ = 1, firstCount do
    if first[i] then
      out[#out + 1] = first[i]
      i = i + 1
    end
  end
  while first[i] or second[j] do
    if second[j] then
      out[#out + 1] = second[j]
      j = j + 1
    end
    if first[i] then
      out[#out + 1] = first[i]
      i = i + 1
    end
  end
  return out
end

-- The race ------------------------------------------------------------------------------

local function clamp(x, lo, hi)
  return math.max(lo, math.min(hi, x))
end

local function hostPort(address, port)
  if address:find(":", 1, true) then
    return format("[%s]:%s", address, tostring(port))
  end
  return format("%s:%s", address, tostring(port))
end

-- What an attempt's failure says, in a word where one fits.
local function outcomeOf(failure)
  local value = defer.isFailure(failure) and failure.value or failure
  if class.isinstance(value, defer.CancelledError) then
    return "cancelled"
  end
  local text = type(value) == "string" and value or tostring(value)
  local lower = text:lower()
  if lower:find("refused", 1, true) then
    return "refused"
  elseif lower:find("unreachable", 1, true) then
    return "unreachable"
  elseif lower:find("timed out", 1, true) then
    return "timed out"
  end
  return (text:gsub("^[^:]*:%d+: ", ""))
end

--- The attempts as one line: `[::1]:80 refused after 0.001s; 127.0.0.1:80 ...`.
-- @tparam table attempts a race's attempts
-- @treturn string
function M.describeAttempts(attempts)
  local parts = {}
  for _, a in ipairs(attempts) do
    parts[#parts + 1] = format("%s %s after %.3fs", hostPort(a.address, a.port),
      a.outcome or "still connecting", (a.finished or a.started) - a.started)
  end
  return concat(parts, "; ")
end

local function closeConnection(conn)
  if type(conn) ~= "table" and type(conn) ~= "userdata" then
    return
  end
  local ok, close = pcall(function()
    return conn.close or conn.loseConnection
      or (conn.transport and function() conn.transport:loseConnection() end)
  end)
  if ok and close then
    pcall(close, conn)
  end
end

local familyNames = { [6] = "AAAA", [4] = "A" }

-- The addresses a family's source gave: a list, a Deferred of a list, or nil.
local function isList(v)
  return type(v) == "table" and not defer.isDeferred(v)
end

local raceOptions = {
  port = true, clock = true, attemptDelay = true, resolutionDelay = true, timeout = true,
  order = true, sourceFor = true, close = true, callback = true, name = true,
  firstAddressFamilyCount = true, hints = true,
}

--- Races connections to a list of addresses as Happy Eyeballs v2 (RFC 8305)
-- does, in any event loop: the connecting is the caller's.
--
-- `addresses` is a list of address literals, or `{AAAA = ..., A = ...}`
-- where each is a list or a Deferred of a list (a lookup still running):
-- then attempts start as soon as IPv6 addresses are known, or, when IPv4
-- ones come first, after the Resolution Delay unless AAAA answers sooner;
-- addresses that arrive later join the untried ones, which are ordered
-- again. Addresses are ordered by RFC 6724 and interleaved by family; an
-- attempt starts every `attemptDelay` seconds, or at once when the
-- previous one fails; the first to connect wins, every other attempt is
-- cancelled and its timer stopped.
--
-- `connect(address, port)` returns a Deferred of a connection, whose
-- cancel must abandon the attempt and free its socket. With
-- `options.callback`, it is called `connect(address, port, done)` instead,
-- calls `done(nil, connection)` or `done(err)` once, and returns a
-- function that abandons the attempt (luv and cqueues code).
-- @tparam table addresses
-- @tparam function connect
-- @tparam[opt] table options `port` (passed to connect), `clock` (a reactor
--   or `task.Clock`; default names.reactor), `attemptDelay` (0.25 s,
--   clamped to 0.1-2 s), `resolutionDelay` (0.05 s), `timeout` (seconds for
--   the whole race; none by default), `order` (false: take the list as
--   ordered), `firstAddressFamilyCount` (1), `sourceFor` (see
--   `sortAddresses`), `close(connection)` (closes a connection that
--   completed after the race was decided; by default its `close` or
--   `loseConnection`), `hints` (addresses to try until the lookups answer,
--   as RFC 9460's ipv4hint/ipv6hint), `name` (for the error text)
-- @treturn Deferred the winning connection (its field `address` is then
--   the winner's address); fails with `DNSLookupError`
--   when no address was found, `ConnectError` when all failed,
--   `ConnectingTimeoutError` after `timeout`. Its field `attempts` lists
--   every attempt: `address`, `port`, `family`, `started`, `finished`,
--   `outcome` ("connected", "refused", "unreachable", "timed out",
--   "cancelled" for the losers, or the error's text)
function M.race(addresses, connect, options)
  if type(addresses) ~= "table" then
    error("bad argument #1 to 'race' (a list of addresses or {AAAA = ..., A = ...} expected, got "
      .. type(addresses) .. ")", 2)
  end
  if not class.iscallable(connect) then
    error("bad argument #2 to 'race' (a connect function expected, got " .. type(connect) .. ")", 2)
  end
  options = options or {}
  if type(options) ~= "table" then
    error("bad argument #3 to 'race' (an options table expected, got " .. type(options) .. ")", 2)
  end
  for k in pairs(options) do
    if not raceOptions[k] then
      error("bad argument #3 to 'race' (unknown option '" .. tostring(k) .. "')", 2)
    end
  end
  local clock = options.clock or require("names.reactor")
  if type(clock) ~= "table" or not class.iscallable(clock.callLater) or not class.iscallable(clock.seconds) then
    error("bad argument #3 to 'race' (clock: a reactor or task.Clock expected)", 2)
  end
  local function checkDelay(name, default)
    local v = options[name]
    if v == nil then
      return default
    end
    if type(v) ~= "number" or v ~= v or v < 0 then
      error("bad argument #3 to 'race' (" .. name .. ": seconds expected)", 3)
    end
    return v
  end
  local attemptDelay = clamp(checkDelay("attemptDelay", 0.25), 0.1, 2)
  local resolutionDelay = checkDelay("resolutionDelay", 0.05)
  local timeout = options.timeout
  if timeout ~= nil and (type(timeout) ~= "number" or timeout ~= timeout or timeout <= 0) then
    error("bad argument #3 to 'race' (timeout: seconds expected)", 2)
  end
  local port = options.port
  local callbackStyle = options.callback
  local close = options.close or closeConnection
  local sortOptions = { sourceFor = options.sourceFor }
  local firstCount = options.firstAddressFamilyCount or 1

  -- what is known of each family
  local families = { [6] = { family = 6 }, [4] = { family = 4 } }
  local plain = addresses[1] ~= nil or next(addresses) == nil
  local attempts = {}
  local tried = {}
  local inflight = 0
  local started, done, ready = false, false, false
  local timer, delayTimer, deadline
  local result

  local function stopTimers()
    for _, t in pairs({ timer or false, delayTimer or false, deadline or false }) do
      if t and (t.active == nil or t:active()) then
        t:cancel()
      end
    end
    timer, delayTimer, deadline = nil, nil, nil
  end

  local function stopLookups()
    for _, f in pairs(families) do
      if f.pending and f.lookup then
        f.pending = false
        f.lookup:cancel()
      end
    end
  end

  -- Abandons every attempt still connecting, marking it `outcome`.
  local function abandon(outcome)
    for _, a in ipairs(attempts) do
      if not a.outcome then
        a.outcome = outcome
        a.finished = clock.seconds()
        inflight = inflight - 1
        a.cancel()
      end
    end
  end

  local function finish(failure)
    done = true
    stopTimers()
    stopLookups()
    abandon(failure and "timed out" or "cancelled")
    if failure then
      result:errback(failure)
    end
  end

  local function known(f)
    if f.answered then
      return f.addresses
    end
    return f.hints or {}
  end

  -- Every known address in RFC 6724 order, sorted again only when the
  -- known set changes (an answer came): the untried ones keep their
  -- relative order in it, since the order compares addresses one to one.
  local ordered
  local function remaining()
    if not ordered then
      local all, seen = {}, {}
      for _, fam in ipairs({ 6, 4 }) do
        for _, address in ipairs(known(families[fam])) do
          if not seen[address] then
            seen[address] = true
            all[#all + 1] = address
          end
        end
      end
      ordered = options.order == false and all or M.sortAddresses(all, sortOptions)
    end
    local list = {}
    for _, address in ipairs(ordered) do
      if not tried[address] then
        list[#list + 1] = address
      end
    end
    if options.order == false then
      return list
    end
    -- RFC 8305, 4: the first family's First Address Family Count, then
    -- the families in turn, carried on from the attempts already made
    local last = attempts[#attempts]
    if not last then
      return M.interleave(list, firstCount)
    end
    local firstFamily = attempts[1].family
    local nextFamily = last.family == 6 and 4 or 6
    if #attempts < firstCount and last.family == firstFamily then
      nextFamily = firstFamily
    end
    for i, address in ipairs(list) do
      local _, family = core.address_bytes(address)
      if family == nextFamily then
        table.remove(list, i)
        table.insert(list, 1, address)
        return M.interleave(list, 1)
      end
    end
    return list
  end

  local function resolving()
    return families[6].pending or families[4].pending
  end

  local function failAll()
    local name = options.name and (options.name .. " port " .. tostring(port)) or "the addresses"
    if #attempts == 0 then
      local parts = {}
      for _, fam in ipairs({ 6, 4 }) do
        local f = families[fam]
        if f.error then
          parts[#parts + 1] = familyNames[fam] .. ": " .. f.error
        elseif f.answered then
          parts[#parts + 1] = familyNames[fam] .. ": no address"
        end
      end
      local e = M.DNSLookupError(format("no address for %s%s", options.name or "the name",
        #parts > 0 and (" (" .. concat(parts, "; ") .. ")") or ""))
      e.lookups = families
      finish()
      result:errback(defer.Failure(e))
      return
    end
    local e = M.ConnectError(format("could not connect to %s: %s", name, M.describeAttempts(attempts)))
    e.attempts = attempts
    finish()
    result:errback(defer.Failure(e))
  end

  local tryNext

  local function checkExhausted()
    if not done and inflight == 0 and not resolving() and #remaining() == 0 then
      failAll()
    end
  end

  local function attemptEnded(a, ok, value)
    if a.outcome then -- abandoned already: a connection that came too late
      if ok then
        close(value)
      end
      return
    end
    a.finished = clock.seconds()
    inflight = inflight - 1
    if done then
      a.outcome = ok and "connected too late" or outcomeOf(value)
      if ok then
        close(value)
      end
      return
    end
    if ok then
      a.outcome = "connected"
      result.address, result.port = a.address, port
      done = true
      stopTimers()
      stopLookups()
      abandon("cancelled")
      result:callback(value)
      return
    end
    a.outcome = outcomeOf(value)
    a.error = value
    -- a failure starts the next attempt at once (RFC 8305, 5)
    tryNext()
  end

  local function startAttempt(address)
    local _, family = core.address_bytes(address)
    local a = { address = address, port = port, family = family, started = clock.seconds() }
    attempts[#attempts + 1] = a
    tried[address] = true
    inflight = inflight + 1
    if callbackStyle then
      -- "waiting", then "ended" (done was called) or "abandoned" (the
      -- race cancelled it: a connection that still comes is closed)
      local state, cancelAttempt = "waiting", nil
      a.cancel = function()
        state = "abandoned"
        if cancelAttempt then
          cancelAttempt()
        end
      end
      local ok, cancel = pcall(connect, address, port, function(err, conn)
        if state == "abandoned" then
          if err == nil and conn ~= nil then
            close(conn)
          end
          return
        elseif state == "ended" then
          return
        end
        state = "ended"
        attemptEnded(a, err == nil, err == nil and conn or err)
      end)
      if not ok then
        if state == "waiting" then
          state = "ended"
          attemptEnded(a, false, cancel)
        end
      elseif class.iscallable(cancel) then
        cancelAttempt = cancel
        if state == "abandoned" then
          cancel()
        end
      end
      return
    end
    local d = defer.maybeDeferred(connect, address, port)
    a.cancel = function()
      d:cancel()
    end
    d:addCallbacks(function(conn)
      attemptEnded(a, true, conn)
    end, function(failure)
      attemptEnded(a, false, failure)
    end)
  end

  function tryNext()
    if done then
      return
    end
    if timer then
      timer:cancel()
      timer = nil
    end
    local list = remaining()
    if #list == 0 then
      ready = true -- the next address to arrive may start at once
      checkExhausted()
      return
    end
    ready = false
    timer = clock.callLater(attemptDelay, function()
      timer = nil
      tryNext()
    end)
    startAttempt(list[1])
  end

  local function start()
    if started or done then
      return
    end
    started = true
    if delayTimer then
      delayTimer:cancel()
      delayTimer = nil
    end
    tryNext()
  end

  -- Whether to start now, wait the Resolution Delay, or wait for answers.
  local function consider()
    if done then
      return
    end
    if started then
      if ready and not timer then
        tryNext()
      else
        checkExhausted()
      end
      return
    end
    local v6, v4 = #known(families[6]) > 0, #known(families[4]) > 0
    if v6 or (v4 and not families[6].pending) then
      start()
    elseif v4 then
      if not delayTimer then
        -- RFC 8305, 3: A first; give AAAA the Resolution Delay
        delayTimer = clock.callLater(resolutionDelay, function()
          delayTimer = nil
          start()
        end)
      end
    elseif not resolving() then
      failAll()
    end
  end

  local function answered(fam, ok, value)
    local f = families[fam]
    if not f.pending then
      return
    end
    f.pending = false
    f.answered = true
    f.addresses = {}
    ordered = nil
    if ok then
      for _, address in ipairs(value or {}) do
        local _, family = core.address_bytes(address)
        if family == fam then
          f.addresses[#f.addresses + 1] = address
        end
      end
    else
      f.error = outcomeOf(value)
    end
    consider()
  end

  result = defer.Deferred(function()
    if not done then
      finish()
    end
  end)
  result.attempts = attempts

  -- the hints, each to its family, known until that family answers
  for _, address in ipairs(options.hints or {}) do
    local _, family = core.address_bytes(address)
    if family then
      local f = families[family]
      f.hints = f.hints or {}
      f.hints[#f.hints + 1] = address
    end
  end

  if timeout then
    deadline = clock.callLater(timeout, function()
      deadline = nil
      if done then
        return
      end
      -- the attempts still connecting are the ones that timed out
      abandon("timed out")
      local e = M.ConnectingTimeoutError(format("no connection to %s within %gs%s",
        options.name or "the addresses", timeout,
        #attempts > 0 and (": " .. M.describeAttempts(attempts)) or ""))
      e.attempts = attempts
      finish(defer.Failure(e))
    end)
  end

  if plain then
    -- a list: every family known at once
    for _, fam in ipairs({ 6, 4 }) do
      families[fam].pending = true
    end
    local lists = { [6] = {}, [4] = {} }
    for i, address in ipairs(addresses) do
      if type(address) ~= "string" then
        error(format("bad argument #1 to 'race' (address %d: a string expected, got %s)", i, type(address)), 2)
      end
      local _, family = core.address_bytes(address)
      if not family then
        error(format("bad argument #1 to 'race' (address %d: an IP address expected, got '%s')", i, address), 2)
      end
      table.insert(lists[family], address)
    end
    families[6].pending, families[6].answered, families[6].addresses = false, true, lists[6]
    families[4].pending, families[4].answered, families[4].addresses = false, true, lists[4]
    if options.order == false then
      -- the caller's order, both families in one list
      families[6].addresses, families[4].addresses = { table.unpack(addresses) }, {}
    end
    consider()
    return result
  end

  for _, fam in ipairs({ 6, 4 }) do
    local key = familyNames[fam]
    local source = addresses[key]
    local f = families[fam]
    if source == nil then
      f.answered, f.addresses = true, {}
    elseif isList(source) then
      f.answered, f.addresses = true, source
    elseif defer.isDeferred(source) then
      f.pending = true
      f.lookup = source
    else
      error(format("bad argument #1 to 'race' (%s: a list or a Deferred of addresses expected, got %s)",
        key, type(source)), 2)
    end
  end
  for _, fam in ipairs({ 6, 4 }) do
    local f = families[fam]
    if f.lookup and not done then
      f.lookup:addCallbacks(function(list)
        answered(fam, true, list)
      end, function(failure)
        answered(fam, false, failure)
      end)
    end
  end
  consider()
  return result
end

--- Whether `s` is an IPv4 or IPv6 address literal (no DNS needed).
-- @tparam string s
-- @treturn boolean
function M.isAddress(s)
  return type(s) == "string" and core.address_bytes(s) ~= nil
end

-- Addresses from a lookup --------------------------------------------------------------

-- The addresses of `rtype` in a lookup's answers for `name`, following the
-- CNAMEs the answer holds (as getaddrinfo takes them).
local function addressesOf(result, name, rtype)
  local owner = name:lower():gsub("%.$", "")
  local answers = result.answers or result[1] or {}
  for _ = 1, 16 do
    local nextName
    for _, rr in ipairs(answers) do
      if rr.name.name:lower() == owner and rr.type == dns.CNAME then
        nextName = rr.payload.name.name:lower()
      end
    end
    if not nextName then
      break
    end
    owner = nextName
  end
  local out = {}
  for _, rr in ipairs(answers) do
    if rr.type == rtype and rr.name.name:lower() == owner then
      out[#out + 1] = rr.payload.address
    end
  end
  if #out == 0 then
    -- no chain in the answer (a name the hosts file lists, a synthesized
    -- answer): every address of the type
    for _, rr in ipairs(answers) do
      if rr.type == rtype then
        out[#out + 1] = rr.payload.address
      end
    end
  end
  return out
end
M._addressesOf = addressesOf

--- The `{AAAA = Deferred, A = Deferred}` of a name's addresses from
-- `resolver`, for `race`: both lookups start at once; a name the resolver
-- answers with NXDOMAIN or no data gives an empty list.
-- @tparam table resolver any resolver (the default chain answers from the
--   hosts file first, so `localhost` and hosts-file names come from there)
-- @tparam string name
-- @treturn table
function M.lookupAddresses(resolver, name)
  local function family(method, rtype)
    return resolver[method](resolver, name):addCallback(function(result)
      return addressesOf(result, name, rtype)
    end)
  end
  return { AAAA = family("lookupIPV6Address", dns.AAAA), A = family("lookupAddress", dns.A) }
end

-- HostnameEndpoint ----------------------------------------------------------------

local HostnameEndpoint = { __name = "names.endpoints.HostnameEndpoint" }
HostnameEndpoint.__index = HostnameEndpoint

function HostnameEndpoint.__tostring(self)
  return format("<HostnameEndpoint %s:%d>", self._host, self._port)
end

local endpointOptions = { timeout = true, bindAddress = true, attemptDelay = true, resolver = true,
  https = true, sourceFor = true, resolutionDelay = true }

--- Twisted's `HostnameEndpoint(reactor, host, port [, options])`: connects
-- to `host` (a name or an address literal) on `port`, racing its addresses
-- with Happy Eyeballs v2.
-- @tparam table reactor names.reactor, or anything with `callLater`,
--   `seconds` and `connectTCP` (a test's `task.Clock` with a fake connectTCP)
-- @tparam string host
-- @tparam integer port
-- @tparam[opt] table options `timeout` (30 s for the whole connect, as
--   Twisted's default), `attemptDelay` (0.25 s, clamped to 0.1-2 s),
--   `resolver` (default: the reactor's installed resolver, else
--   names.client's global one), `https` (true: ask the name's HTTPS records
--   first and take the port, the target and the ALPN list from them, RFC
--   9460), `bindAddress` (`{host, port}` or a host: the local address every
--   attempt connects from; attempts to the other family fail at once)
-- @treturn HostnameEndpoint
function M.HostnameEndpoint(reactor, host, port, options)
  if type(reactor) ~= "table" or not class.iscallable(reactor.callLater) then
    error("bad argument #1 to 'HostnameEndpoint' (a reactor expected, got " .. type(reactor) .. ")", 2)
  end
  if type(host) ~= "string" or host == "" then
    error("bad argument #2 to 'HostnameEndpoint' (host: a name or address expected)", 2)
  end
  if math.type(port) ~= "integer" or port < 1 or port > 65535 then
    error("bad argument #3 to 'HostnameEndpoint' (port: 1..65535 expected)", 2)
  end
  if type(options) == "number" then -- Twisted's positional timeout
    options = { timeout = options }
  end
  options = options or {}
  if type(options) ~= "table" then
    error("bad argument #4 to 'HostnameEndpoint' (an options table expected, got " .. type(options) .. ")", 2)
  end
  for k in pairs(options) do
    if not endpointOptions[k] then
      error("bad argument #4 to 'HostnameEndpoint' (unknown option '" .. tostring(k) .. "')", 2)
    end
  end
  local bindAddress = options.bindAddress
  if bindAddress ~= nil then
    if type(bindAddress) == "string" then
      bindAddress = { bindAddress, 0 }
    end
    if type(bindAddress) ~= "table" or not core.address_bytes(tostring(bindAddress[1]))
        or (bindAddress[2] ~= nil and (math.type(bindAddress[2]) ~= "integer"
          or bindAddress[2] < 0 or bindAddress[2] > 65535)) then
      error("bad argument #4 to 'HostnameEndpoint' (bindAddress: {host, port} with an IP address expected)", 2)
    end
    bindAddress = { bindAddress[1], bindAddress[2] or 0 }
  end
  local timeout = options.timeout
  if timeout == nil then
    timeout = 30
  end
  if type(timeout) ~= "number" or timeout ~= timeout or timeout <= 0 then
    error("bad argument #4 to 'HostnameEndpoint' (timeout: seconds expected)", 2)
  end
  if options.resolver ~= nil and (type(options.resolver) ~= "table"
      or type(options.resolver.lookupAddress) ~= "function") then
    error("bad argument #4 to 'HostnameEndpoint' (resolver: a resolver expected)", 2)
  end
  host = host:gsub("^%[(.*)%]$", "%1")
  return setmetatable({ _reactor = reactor, _host = host, _port = port, _timeout = timeout,
    _attemptDelay = options.attemptDelay, _resolver = options.resolver, _https = options.https,
    _sourceFor = options.sourceFor, _resolutionDelay = options.resolutionDelay,
    _bindAddress = bindAddress }, HostnameEndpoint)
end

function HostnameEndpoint:_getResolver()
  if self._resolver then
    return self._resolver
  end
  local reactor = self._reactor
  if class.iscallable(reactor.getResolver) then
    return reactor.getResolver()
  end
  return require("names.client").getResolver()
end

-- One connection attempt through reactor.connectTCP: a Deferred of the
-- attempt's protocol, which hands the connection to the user's protocol
-- once it has won.
local function connectAttempt(reactor, address, port, bindAddress)
  if bindAddress and select(2, core.address_bytes(address)) ~= select(2, core.address_bytes(bindAddress[1])) then
    -- the other family cannot leave from that address
    return defer.fail("not of bindAddress's address family")
  end
  local connector
  local d = defer.Deferred(function()
    if connector then
      connector.disconnect()
    end
  end)
  local attempt = {}
  function attempt.makeConnection(_, transport)
    attempt.transport = transport
    d:callback(attempt)
  end
  function attempt.dataReceived(_, data)
    local p = attempt.delegate
    if p and p.dataReceived then
      p:dataReceived(data)
    end
  end
  function attempt.connectionLost(_, reason)
    local p = attempt.delegate
    if p and p.connectionLost then
      p:connectionLost(reason)
    end
  end
  local factory = {
    buildProtocol = function()
      return attempt
    end,
    clientConnectionFailed = function(_, _, reason)
      d:errback(defer.Failure(reason))
    end,
  }
  connector = reactor.connectTCP(address, port, factory, nil, bindAddress)
  attempt.connector = connector
  return d
end

--- Connects: resolves the name (AAAA and A at once; a literal address
-- skips DNS), races the addresses and builds the protocol of the winning
-- connection with `factory:buildProtocol(address)` (`address`: `{host,
-- port, type = "TCP", name = ..., alpn = ...}`), then
-- `protocol:makeConnection(transport)`. Cancelling the Deferred at any
-- stage (lookups, attempts) stops everything and frees every socket.
-- @tparam table factory with `buildProtocol`
-- @treturn Deferred the connected protocol; fails with `DNSLookupError`,
--   `ConnectError` (its `attempts` say what each address did),
--   `ConnectingTimeoutError` or `NoProtocol`
function HostnameEndpoint:connect(factory)
  if type(factory) ~= "table" or not class.iscallable(factory.buildProtocol) then
    error("bad argument #1 to 'connect' (a factory with buildProtocol expected)", 2)
  end
  local reactor = self._reactor
  local host, port = self._host, self._port
  local current -- the Deferred in progress, for cancel
  local cancelled = false
  local result = defer.Deferred(function()
    cancelled = true
    if current then
      current:cancel()
    end
  end)

  local function won(attempt, service)
    local address = { attempt.transport.peer and attempt.transport.peer[1] or nil, port,
      type = "TCP", name = host }
    address.host, address.port = address[1], address[2]
    if service then
      address.port, address[2] = service.port, service.port
      address.alpn, address.ech, address.target = service.alpn, service.ech, service.target
    end
    local ok, protocol = pcall(factory.buildProtocol, factory, address)
    if not ok or protocol == nil then
      attempt.transport:loseConnection()
      if not ok then
        return defer.fail(protocol)
      end
      return defer.fail(M.NoProtocol("the factory built no protocol for " .. hostPort(host, port)))
    end
    attempt.delegate = protocol
    if protocol.makeConnection then
      local made, err = pcall(protocol.makeConnection, protocol, attempt.transport)
      if not made then
        attempt.transport:loseConnection()
        return defer.fail(err)
      end
    else
      protocol.transport = attempt.transport
    end
    return protocol
  end

  local function raceTo(addresses, toPort, name, hints)
    local d = M.race(addresses, function(address, p)
      return connectAttempt(reactor, address, p, self._bindAddress)
    end, { port = toPort, clock = reactor, attemptDelay = self._attemptDelay, timeout = self._timeout,
      name = name, sourceFor = self._sourceFor, resolutionDelay = self._resolutionDelay, hints = hints,
      close = function(attempt)
        attempt.transport:loseConnection()
      end })
    result.attempts = d.attempts
    return d
  end

  local function step(d)
    current = d
    return d
  end

  if core.address_bytes(host) then
    step(raceTo({ host }, port, host)):addCallbacks(function(attempt)
      return won(attempt)
    end, function(f)
      return f
    end):chainDeferred(result)
    return result
  end

  local resolver = self:_getResolver()
  if not self._https then
    step(raceTo(M.lookupAddresses(resolver, host), port, host)):addCallback(function(attempt)
      return won(attempt)
    end):chainDeferred(result)
    return result
  end

  -- HTTPS records first: each service endpoint in order, the origin last
  local svcb = require "names.svcb"
  step(svcb.resolveService(resolver, { name = host, scheme = "https", port = port }))
    :addCallback(function(list)
      local failures = {}
      local function try(i)
        local service = list[i]
        if cancelled then
          return defer.fail(defer.CancelledError())
        end
        if not service then
          local e = M.ConnectError(format("could not connect to any endpoint of %s: %s", host,
            concat(failures, "; ")))
          return defer.fail(e)
        end
        local hints = {}
        for _, a in ipairs(service.ipv6hint or {}) do hints[#hints + 1] = a end
        for _, a in ipairs(service.ipv4hint or {}) do hints[#hints + 1] = a end
        local addresses = core.address_bytes(service.target) and { service.target }
          or M.lookupAddresses(resolver, service.target)
        return step(raceTo(addresses, service.port, service.target, hints)):addCallbacks(function(attempt)
          return won(attempt, service)
        end, function(f)
          if cancelled then
            return f
          end
          failures[#failures + 1] = hostPort(service.target, service.port) .. ": " .. tostring(f.value)
          return try(i + 1)
        end)
      end
      return try(1)
    end):chainDeferred(result)
  return result
end

return M
