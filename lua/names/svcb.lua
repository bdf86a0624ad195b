--- Service endpoints from SVCB and HTTPS records (RFC 9460).
--
--    local svcb = require "names.svcb"
--    svcb.resolveService(resolver, {name = "example.com", scheme = "https", port = 443})
--      :addCallback(function(endpoints)
--        for _, e in ipairs(endpoints) do print(e.target, e.port, table.concat(e.alpn, ",")) end
--      end)
--
-- The list is what RFC 9460 section 3 tells a client to try, in order:
-- AliasMode records followed (a bounded chain, loops detected), the
-- ServiceMode records of the final name by SvcPriority, and the fallbacks
-- of an SVCB-optional client: the final alias target on the origin's port
-- when an alias was followed, then the origin itself.
-- @module names.svcb

local core = require "names.core"
local defer = require "names.defer"
local dns = require "names.dns"

local M = {}

local format, concat = string.format, table.concat
local byte, sub = string.byte, string.sub

--- The SvcParamKeys (RFC 9460, 14.3.2) by number.
M.keyNames = { [0] = "mandatory", "alpn", "no-default-alpn", "port", "ipv4hint", "ech", "ipv6hint" }

--- The keys this client understands: a record whose `mandatory` lists any
-- other key is unusable (RFC 9460, 8). `ech` is understood in that its
-- value is handed to the caller untouched.
M.understood = { [1] = true, [2] = true, [3] = true, [4] = true, [5] = true, [6] = true }

local function u16(s, i)
  local a, b = byte(s, i, i + 1)
  return a * 256 + b
end

local function addresses(value, size)
  if #value == 0 or #value % size ~= 0 then
    return nil
  end
  local out = {}
  for i = 1, #value, size do
    local chunk = sub(value, i, i + size - 1)
    if size == 4 then
      out[#out + 1] = format("%d.%d.%d.%d", byte(chunk, 1, 4))
    else
      out[#out + 1] = M.ipv6Text(chunk)
    end
  end
  return out
end

--- An IPv6 address in its RFC 5952 text form, from its 16 bytes.
-- @tparam string bytes
-- @treturn string
function M.ipv6Text(bytes)
  local words = {}
  for k = 1, 16, 2 do
    words[#words + 1] = u16(bytes, k)
  end
  if sub(bytes, 1, 12) == "\0\0\0\0\0\0\0\0\0\0\255\255" then
    return format("::ffff:%d.%d.%d.%d", byte(bytes, 13, 16))
  end
  -- the longest run of two or more zero words becomes "::" (the first one
  -- on a tie)
  local bestAt, bestLen, at = nil, 1, nil
  for i = 1, 9 do
    if i <= 8 and words[i] == 0 then
      at = at or i
    elseif at then
      if i - at > bestLen then
        bestAt, bestLen = at, i - at
      end
      at = nil
    end
  end
  local parts = {}
  for i = 1, 8 do
    parts[i] = format("%x", words[i])
  end
  if not bestAt then
    return concat(parts, ":")
  end
  local head = concat(parts, ":", 1, bestAt - 1)
  local tail = concat(parts, ":", bestAt + bestLen, 8)
  return head .. "::" .. tail
end

--- Decodes a record's SvcParams (the `params` list of `Record_SVCB` and
-- `Record_HTTPS`, `{key =, value =}` in wire form) into fields.
-- @tparam table params
-- @treturn table|nil `mandatory` (a list of key numbers), `alpn` (a list),
--   `noDefaultAlpn`, `port`, `ipv4hint`, `ipv6hint` (lists of addresses),
--   `ech` (bytes), `keys` (every key present, by number, to its raw value);
--   nil and a reason when a value is malformed
-- @treturn string
function M.parseParams(params)
  local out = { keys = {} }
  local last = -1
  for _, p in ipairs(params or {}) do
    local key, value = p.key, p.value
    if key <= last then
      return nil, "SvcParamKeys not in increasing order"
    end
    last = key
    out.keys[key] = value
    if key == 0 then
      if #value == 0 or #value % 2 ~= 0 then
        return nil, "malformed mandatory"
      end
      out.mandatory = {}
      for i = 1, #value, 2 do
        local k = u16(value, i)
        if k == 0 then
          return nil, "mandatory lists itself"
        end
        out.mandatory[#out.mandatory + 1] = k
      end
    elseif key == 1 then
      out.alpn = {}
      local i = 1
      while i <= #value do
        local n = byte(value, i)
        if n == 0 or i + n > #value then
          return nil, "malformed alpn"
        end
        out.alpn[#out.alpn + 1] = sub(value, i + 1, i + n)
        i = i + 1 + n
      end
      if #out.alpn == 0 then
        return nil, "empty alpn"
      end
    elseif key == 2 then
      if #value ~= 0 then
        return nil, "no-default-alpn with a value"
      end
      out.noDefaultAlpn = true
    elseif key == 3 then
      if #value ~= 2 then
        return nil, "malformed port"
      end
      out.port = u16(value, 1)
    elseif key == 4 then
      out.ipv4hint = addresses(value, 4)
      if not out.ipv4hint then
        return nil, "malformed ipv4hint"
      end
    elseif key == 5 then
      out.ech = value
    elseif key == 6 then
      out.ipv6hint = addresses(value, 16)
      if not out.ipv6hint then
        return nil, "malformed ipv6hint"
      end
    end
  end
  if out.noDefaultAlpn and not out.alpn then
    return nil, "no-default-alpn without alpn"
  end
  return out
end

-- The name without a final dot, in lower case, for comparisons.
local function key(name)
  return (name:gsub("%.$", ""):lower())
end

local function nameText(n)
  if type(n) == "table" then
    n = n.name
  end
  return (tostring(n):gsub("%.$", ""))
end

-- The records of `rtype` in a lookup's answer for `qname`, after the
-- CNAMEs the answer holds, and the owner they have.
local function recordsFor(result, qname, rtype)
  local answers = result.answers or result[1] or {}
  local owner = key(qname)
  for _ = 1, 16 do
    local nextName
    for _, rr in ipairs(answers) do
      if rr.type == dns.CNAME and key(rr.name.name) == owner then
        nextName = key(nameText(rr.payload.name))
      end
    end
    if not nextName then
      break
    end
    owner = nextName
  end
  local out, ownerText = {}, nil
  for _, rr in ipairs(answers) do
    if rr.type == rtype and key(rr.name.name) == owner then
      out[#out + 1] = rr.payload
      ownerText = ownerText or nameText(rr.name.name)
    end
  end
  return out, ownerText or owner
end

-- Shuffles `list` in place with `random(m)` (1..m).
local function shuffle(list, random)
  for i = #list, 2, -1 do
    local j = random(i)
    list[i], list[j] = list[j], list[i]
  end
end

--- Orders ServiceMode records into endpoints (RFC 9460, 2.4.1, 8): the
-- usable records by SvcPriority (ties in random order), TargetName "."
-- meaning `owner`, port and ALPN applied.
-- @tparam {Record_SVCB,...} records the ServiceMode records of one RRset
-- @tparam string owner the name they belong to
-- @tparam table options `port` (the origin's), `scheme` ("https" adds the
--   default ALPN "http/1.1" unless no-default-alpn), `random`, `understood`
-- @treturn {table,...} endpoints: `target`, `port`, `priority`, `alpn`,
--   `noDefaultAlpn`, `ech`, `ipv4hint`, `ipv6hint`, `mandatory`, `params`
-- @treturn {table,...} the records left out, each `{record =, reason =}`
function M.orderServiceRecords(records, owner, options)
  options = options or {}
  local understood = options.understood or M.understood
  local random = options.random or math.random
  local usable, unusable = {}, {}
  for _, r in ipairs(records) do
    local params, why = M.parseParams(r.params)
    if params then
      for _, k in ipairs(params.mandatory or {}) do
        if not understood[k] then
          why = "mandatory key " .. (M.keyNames[k] or ("key" .. k)) .. " not understood"
          break
        end
      end
    end
    if params and not why then
      local target = nameText(r.target)
      if target == "" then
        target = owner
      end
      local alpn = {}
      for _, a in ipairs(params.alpn or {}) do
        alpn[#alpn + 1] = a
      end
      if options.scheme == "https" and not params.noDefaultAlpn then
        local has = false
        for _, a in ipairs(alpn) do
          has = has or a == "http/1.1"
        end
        if not has then
          alpn[#alpn + 1] = "http/1.1"
        end
      end
      usable[#usable + 1] = { target = target, port = params.port or options.port,
        priority = r.priority, alpn = alpn, noDefaultAlpn = params.noDefaultAlpn or false,
        ech = params.ech, ipv4hint = params.ipv4hint, ipv6hint = params.ipv6hint,
        mandatory = params.mandatory, params = params.keys }
    else
      unusable[#unusable + 1] = { record = r, reason = why }
    end
  end
  -- equal priorities in random order, then a stable sort by priority
  shuffle(usable, random)
  for i, e in ipairs(usable) do
    e._i = i
  end
  table.sort(usable, function(a, b)
    if a.priority ~= b.priority then
      return a.priority < b.priority
    end
    return a._i < b._i
  end)
  for _, e in ipairs(usable) do
    e._i = nil
  end
  return usable, unusable
end

--- The name to query for a service (RFC 9460, 2.3 and 9.1): HTTPS at the
-- name itself on port 443 (and for "http" on 80), `_PORT._https.NAME`
-- otherwise; SVCB at `_PORT._SCHEME.NAME`, or `_SCHEME.NAME` without a port.
-- @tparam string name
-- @tparam string scheme
-- @tparam[opt] integer port
-- @treturn string the name
-- @treturn integer the type (dns.HTTPS or dns.SVCB)
function M.queryName(name, scheme, port)
  name = name:gsub("%.$", "")
  if scheme == "https" or scheme == "http" then
    local default = scheme == "https" and 443 or 80
    if port == nil or port == default then
      return name, dns.HTTPS
    end
    return format("_%d._https.%s", port, name), dns.HTTPS
  end
  if port then
    return format("_%d._%s.%s", port, scheme, name), dns.SVCB
  end
  return format("_%s.%s", scheme, name), dns.SVCB
end

local serviceOptions = { name = true, scheme = true, port = true, random = true, maxAliases = true,
  addresses = true, understood = true, timeout = true, resolver = true, fallback = true }

--- Resolves a service's endpoints, as RFC 9460 section 3 says.
-- @tparam table resolver
-- @tparam table options `name` (the origin's host), `scheme` ("https",
--   "http" or any SVCB scheme, e.g. "dns"), `port` (the origin's; for
--   https 443 by default), `maxAliases` (the AliasMode chain's bound, 8),
--   `addresses` (true: also look up A and AAAA of every target and put
--   them in `addresses`; the hints are only for before they arrive),
--   `random` (`random(m)`, 1..m, for ties), `understood` (key numbers
--   understood beyond the standard ones), `fallback` (false: leave out
--   the fallback endpoints, for an SVCB-reliant client)
-- @treturn Deferred the ordered list of endpoints: `target`, `port`,
--   `alpn`, `ech`, `ipv4hint`, `ipv6hint`, `priority` (nil for the
--   fallbacks), `fallback` (true for them), and with `addresses`,
--   `addresses`; the list has fields `aliases` (the chain followed),
--   `unusable` (records left out and why), `error` (a loop, an over-long
--   chain, a failed lookup, "service not available" for an AliasMode "."),
--   `qname`, `type`
function M.resolveService(resolver, options)
  if type(resolver) ~= "table" or type(resolver.query) ~= "function" then
    error("bad argument #1 to 'resolveService' (a resolver expected, got " .. type(resolver) .. ")", 2)
  end
  if type(options) ~= "table" then
    error("bad argument #2 to 'resolveService' (an options table expected, got " .. type(options) .. ")", 2)
  end
  for k in pairs(options) do
    if not serviceOptions[k] then
      error("bad argument #2 to 'resolveService' (unknown option '" .. tostring(k) .. "')", 2)
    end
  end
  local name = options.name
  if type(name) ~= "string" or name == "" then
    error("bad argument #2 to 'resolveService' (name: a host name expected)", 2)
  end
  local scheme = options.scheme or "https"
  if type(scheme) ~= "string" or not scheme:match("^[%w][%w%-+.]*$") then
    error("bad argument #2 to 'resolveService' (scheme: a URI scheme expected)", 2)
  end
  scheme = scheme:lower()
  local port = options.port
  if port ~= nil and (math.type(port) ~= "integer" or port < 1 or port > 65535) then
    error("bad argument #2 to 'resolveService' (port: 1..65535 expected)", 2)
  end
  local originPort = port or (scheme == "https" and 443) or (scheme == "http" and 80) or nil
  local maxAliases = options.maxAliases or 8
  if math.type(maxAliases) ~= "integer" or maxAliases < 0 then
    error("bad argument #2 to 'resolveService' (maxAliases: a count expected)", 2)
  end
  local understood = M.understood
  if options.understood then
    understood = {}
    for k in pairs(M.understood) do understood[k] = true end
    for _, k in ipairs(options.understood) do understood[k] = true end
  end
  local order = { port = originPort, scheme = scheme, random = options.random, understood = understood }
  local timeout = options.timeout
  name = name:gsub("%.$", "")
  local qname, qtype = M.queryName(name, scheme, port)

  local current
  local result = defer.Deferred(function()
    if current then
      current:cancel()
    end
  end)
  local list = { aliases = {}, unusable = {}, qname = qname, type = qtype }
  local seen = { [key(qname)] = true }

  local function addFallbacks(aliasTarget)
    if options.fallback == false then
      return
    end
    -- RFC 9460, 3: after an AliasMode record, the final target on the
    -- origin's port (no SvcParams); then the origin itself
    if aliasTarget and key(aliasTarget) ~= key(name) then
      list[#list + 1] = { target = aliasTarget, port = originPort, alpn = {}, fallback = true }
    end
    list[#list + 1] = { target = name, port = originPort, alpn = {}, fallback = true }
    if scheme == "https" then
      for _, e in ipairs(list) do
        if e.fallback then
          e.alpn = { "http/1.1" }
        end
      end
    end
  end

  local function withAddresses()
    if not options.addresses then
      return defer.succeed(list)
    end
    local endpoints = require "names.endpoints"
    local found, pending = {}, {}
    for _, e in ipairs(list) do
      local t = key(e.target)
      if not found[t] then
        found[t] = {}
        if core.address_bytes(e.target) then
          found[t][1] = e.target
        else
          local fams = endpoints.lookupAddresses(resolver, e.target)
          for _, fam in ipairs({ "AAAA", "A" }) do
            pending[#pending + 1] = fams[fam]:addCallbacks(function(l)
              for _, a in ipairs(l) do
                table.insert(found[t], a)
              end
            end, function(f)
              if f:check(defer.CancelledError) then
                return f
              end
            end)
          end
        end
      end
    end
    current = defer.gatherResults(pending)
    return current:addCallback(function()
      for _, e in ipairs(list) do
        e.addresses = found[key(e.target)]
      end
      return list
    end)
  end

  local function step(qn, chain)
    current = resolver:query(dns.Query(qn, qtype), timeout)
    return current:addCallbacks(function(r)
      local records, owner = recordsFor(r, qn, qtype)
      local aliases, services = {}, {}
      for _, rec in ipairs(records) do
        if rec.priority == 0 then
          aliases[#aliases + 1] = rec
        else
          services[#services + 1] = rec
        end
      end
      if #aliases > 0 then
        -- AliasMode wins over ServiceMode in one RRset (RFC 9460, 2.4.2)
        local alias = aliases[#aliases > 1 and (options.random or math.random)(#aliases) or 1]
        local target = nameText(alias.target)
        if target == "" then
          list.error = "service not available (AliasMode \".\" at " .. owner .. ")"
          addFallbacks(nil)
          return list
        end
        list.aliases[#list.aliases + 1] = target
        if seen[key(target)] then
          list.error = format("AliasMode loop: %s -> %s", concat(chain, " -> "), target)
          addFallbacks(nil)
          return list
        end
        if #list.aliases > maxAliases then
          list.error = format("AliasMode chain longer than %d: %s", maxAliases, concat(chain, " -> "))
          addFallbacks(nil)
          return list
        end
        seen[key(target)] = true
        chain[#chain + 1] = target
        return step(target, chain)
      end
      local usable, unusable = M.orderServiceRecords(services, owner, order)
      for _, u in ipairs(unusable) do
        list.unusable[#list.unusable + 1] = u
      end
      for _, e in ipairs(usable) do
        list[#list + 1] = e
      end
      addFallbacks(#list.aliases > 0 and list.aliases[#list.aliases] or nil)
      return list
    end, function(failure)
      if failure:check(defer.CancelledError) then
        return failure
      end
      -- no records (NXDOMAIN, NODATA) or a failed lookup: SVCB-optional
      -- clients go on without (RFC 9460, 3)
      if not failure:check(require("names.error").DomainError) then
        list.error = tostring(failure.value)
      end
      addFallbacks(#list.aliases > 0 and list.aliases[#list.aliases] or nil)
      return list
    end)
  end

  step(qname, { qname }):addCallback(withAddresses):chainDeferred(result)
  return result
end


return M
