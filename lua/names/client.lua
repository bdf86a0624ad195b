--- twisted.names.client: the network resolver and the module-level
-- lookups on a global resolver.
--
--    local client = require "names.client"
--    client.lookupMailExchange("example.com"):addCallback(function(r)
--      for _, rr in ipairs(r.answers) do print(rr.payload) end
--    end)
--
-- Every `lookupX(name [, timeout])` (also `lookupX{name = ..., timeout =
-- ...}`) returns a Deferred that fires with a `Result`: `r[1..3]`, also
-- `r.answers`, `r.authority`, `r.additional`, lists of `dns.RRHeader`.
-- A failed lookup errbacks with a Failure whose value is one of
-- `names.error`'s classes; it carries `query`, the response (`args[1]`
-- and `response`) when there was one, `reason` (a line saying what each
-- server did), and `attempts`: which servers were tried, over which
-- transport, and what each did.
-- @module names.client

local argcheck = require "names.argcheck"
local cacheModule = require "names.cache"
local common = require "names.common"
local core = require "names.core"
local defer = require "names.defer"
local dns = require "names.dns"
local errors = require "names.error"
local hostsModule = require "names.hosts"
local reactor = require "names.reactor"
local resolve = require "names.resolve"

local M = {}

local format = string.format

M.defaultTimeout = { 1, 3, 11, 45 }

--- The files read when none is named. The environment can move them, as
-- glibc's LOCALDOMAIN and RES_OPTIONS move parts of resolv.conf:
-- NAMES_RESOLV_CONF and NAMES_HOSTS (the test suite points them at its
-- own server).
M.defaultResolvConf = os.getenv("NAMES_RESOLV_CONF") or "/etc/resolv.conf"
M.defaultHosts = os.getenv("NAMES_HOSTS") or "/etc/hosts"

-- Errors ------------------------------------------------------------------------------

local describeAttempts, reasonFor, failureFor = common.describeAttempts, common.reasonFor,
  common.failureFor
M.describeAttempts = describeAttempts

-- A response's result: the tuple for NOERROR, the error for the rest, as
-- Twisted's filterAnswers.
local function filterAnswer(message, attempts)
  if message.rCode ~= dns.OK then
    local e = errors.errorForRcode(message.rCode)(message)
    local query = message.queries[1]
    e.query = query
    e.attempts = attempts
    e.reason = reasonFor(query, attempts)
    return defer.Failure(e)
  end
  local result = common.lazyResult(message)
  if attempts then -- only when the resolver reports them (reportAttempts)
    result.attempts = attempts
  end
  return result
end

-- Resolver ------------------------------------------------------------------------------

local Resolver = { __name = "names.client.Resolver", canTransferZones = true }
Resolver.__index = Resolver

-- Raises with the user's frame `level` (as error() counts, from the
-- caller of the function that called this one).
local function serverList(servers, level)
  if type(servers) ~= "table" then
    argcheck.error("servers", "Resolver", "a list expected, got " .. type(servers), level)
  end
  if #servers == 0 and next(servers) ~= nil then
    argcheck.error("servers", "Resolver", "a list expected, got a table with no list part", level)
  end
  local out = {}
  for i, s in ipairs(servers) do
    local host = s
    if type(s) == "table" then
      host = s[1] or s.host
      out[i] = { host, s[2] or s.port or 53 }
    else
      out[i] = s
    end
    if type(host) ~= "string" then
      argcheck.error("servers", "Resolver", format("server %d: a host string expected, got %s", i, type(host)),
        level)
    end
  end
  return out
end

-- A DoH URL's host name gets its address from the hosts file (never from
-- DNS: that would ask the DoH server itself, or ask in clear): the URL
-- gains it as its bootstrap address, "https://dns.example/dns-query#192.0.2.1".
local function bootstrap(servers, hostsFile, level)
  local hosts
  for i, s in ipairs(servers) do
    if type(s) == "string" and s:sub(1, 8):lower() == "https://" and not s:find("#", 1, true) then
      local host = s:match("^https://([^/:%[%]]+)")
      if host and not host:match("^[%d.]+$") then
        hosts = hosts or core.hosts(hostsFile)
        local addr = hosts:addresses(host, 4)[1] or hosts:addresses(host, 6)[1]
        if not addr then
          error(format("bad argument 'servers' to 'Resolver' (server %d: '%s': the host %s is not in %s;"
            .. " add #ADDRESS, a bootstrap address)", i, s, host, hostsFile), level + 1)
        end
        servers[i] = s .. "#" .. addr
      end
    end
  end
  return servers
end

-- The trust settings of tls:// and https:// servers, for the core.
local function tlsSettings(o, level)
  if o.tls ~= nil and o.tls ~= "strict" and o.tls ~= "opportunistic" then
    error(format("bad argument 'tls' to 'Resolver' ('strict' or 'opportunistic' expected, got %s)",
      tostring(o.tls)), level + 1)
  end
  for _, k in ipairs{ "caFile", "caPath" } do
    if o[k] ~= nil and (type(o[k]) ~= "string" or o[k]:find("\0", 1, true)) then
      error(format("bad argument '%s' to 'Resolver' (a path expected, got %s)", k, type(o[k])), level + 1)
    end
  end
  if o.pins ~= nil then
    if type(o.pins) ~= "table" then
      error("bad argument 'pins' to 'Resolver' (a list of base64 SHA-256 digests expected, got "
        .. type(o.pins) .. ")", level + 1)
    end
    for i, p in ipairs(o.pins) do
      if type(p) ~= "string" then
        error(format("bad argument 'pins' to 'Resolver' (pin %d: a string expected, got %s)", i, type(p)),
          level + 1)
      end
    end
  end
  if o.handshakeTimeout ~= nil and (type(o.handshakeTimeout) ~= "number" or o.handshakeTimeout <= 0) then
    error("bad argument 'handshakeTimeout' to 'Resolver' (seconds expected)", level + 1)
  end
  if o.clearPort ~= nil and (math.type(o.clearPort) ~= "integer" or o.clearPort < 1 or o.clearPort > 65535) then
    error("bad argument 'clearPort' to 'Resolver' (a port in 1..65535 expected)", level + 1)
  end
  return { strict = o.tls ~= "opportunistic", caFile = o.caFile, caPath = o.caPath, pins = o.pins,
    handshakeTimeout = o.handshakeTimeout, clearPort = o.clearPort }
end

-- resolv.conf's servers; a missing or empty file means 127.0.0.1:53, as
-- Twisted has it.
local function confServers(info)
  if #info.servers == 0 then
    return { "127.0.0.1:53" }
  end
  return info.servers
end

-- Reads resolv.conf when it changed (at most once a second).
function Resolver:_maybeParseConfig()
  if not self.resolv then
    return
  end
  local now = reactor.seconds()
  if self._checked and now - self._checked < 1 then
    return
  end
  self._checked = now
  if not self._conf:reload() and self._confInfo then
    return
  end
  local info = self._conf:info()
  self._confInfo = info
  self._noSearch = #info.search == 0
  if not self.servers then
    self._core:set_servers(confServers(info), self._setOptions)
  end
end

local resolverOptions = {
  resolv = true, servers = true, timeout = true, rotate = true, tcp = true, edns = true,
  dns0x20 = true, maxInflight = true, udpMaxQueries = true, udpIdle = true,
  -- encrypted servers (tls://, https://)
  tls = true, caFile = true, caPath = true, pins = true, dohGet = true, handshakeTimeout = true,
  clearPort = true, cookies = true,
  -- per query: the DO bit, no RD, the tries reported with every answer
  dnssec = true, recurse = true, reportAttempts = true,
}

local checkOptions = common.checkOptions

local newResolver

--- The network resolver: `Resolver{resolv = path, servers = {...},
-- timeout = {...}}`, or Twisted's positional `Resolver(resolv, servers,
-- timeout)`. Servers are `{"127.0.0.1", 53}` pairs or strings
-- (`"192.0.2.1"`, `"[2001:db8::1]:5353"`, `"fe80::1%eth0"`). When servers
-- are given they replace resolv.conf's nameservers (as Twisted documents);
-- its search list and options still apply. Beyond Twisted, what dig's
-- `+dnssec` and `+norecurse` and names-dig's tries need: `dnssec = true`
-- sets the DO bit, `recurse = false` clears RD, and `reportAttempts =
-- true` gives every answer its tries too (`result.attempts`, as failures
-- have them).
-- @treturn Resolver
function M.Resolver(resolv, servers, timeout, opts)
  local o
  if type(resolv) == "table" then
    o = resolv
  else
    if opts ~= nil and type(opts) ~= "table" then
      argcheck.error(4, "Resolver", "a table of options expected, got " .. type(opts))
    end
    o = {}
    for k, v in pairs(opts or {}) do
      o[k] = v
    end
    o.resolv, o.servers, o.timeout = resolv, servers, timeout
  end
  checkOptions(o, resolverOptions, "Resolver", 2)
  local self = newResolver(o, 2) -- not a tail call: its errors count this frame
  return self
end

-- `level`: the user's frame above the caller, as error() counts.
function newResolver(o, level)
  local self = setmetatable({}, Resolver)
  self.servers = o.servers and bootstrap(serverList(o.servers, level + 1), o._hosts or M.defaultHosts,
    level + 1) or nil
  -- Twisted refuses a Resolver without servers or resolv.conf; here the
  -- default resolv.conf is read then
  self.resolv = o.resolv or (not self.servers and M.defaultResolvConf) or nil
  if o.resolv ~= nil and (type(o.resolv) ~= "string" or o.resolv:find("\0", 1, true)) then
    argcheck.error("resolv", "Resolver", "a path expected, got "
      .. (type(o.resolv) == "string" and "a string with a NUL byte" or type(o.resolv)), level)
  end
  local conf
  if self.resolv then
    self._conf = core.resolvconf(self.resolv)
    conf = self._conf:info()
    self._confInfo = conf
    self._noSearch = #conf.search == 0
  end
  -- resolv.conf's `options timeout:T attempts:A` mean A tries of T seconds
  -- (glibc); otherwise Twisted's list.
  local t = o.timeout
  if t == nil and conf and (conf.timeout or conf.attempts) then
    t = {}
    for i = 1, conf.attempts or 2 do
      t[i] = conf.timeout or 5
    end
  end
  self.timeout = common.checkTimeout(t or M.defaultTimeout, "Resolver", level + 1)
  -- the options checked here, before the core resolver is made (an error
  -- would leave it open until the collector came)
  for _, k in ipairs{ "dnssec", "recurse", "reportAttempts" } do
    if o[k] ~= nil and type(o[k]) ~= "boolean" then
      argcheck.error(1, "Resolver", format("%s: a boolean expected, got %s", k, type(o[k])), level)
    end
  end
  -- the core's per-query letters: d (DO bit), n (no RD), r (report attempts)
  self._flags = (o.dnssec and "d" or "") .. (o.recurse == false and "n" or "")
    .. (o.reportAttempts and "r" or "")
  local tls = tlsSettings(o, level + 1)
  -- the core hands back what it cannot take, naming the option or the
  -- server ("maxInflight: a number expected, got boolean"): the words are
  -- Resolver's argument error
  local resolver, why = core.resolver_new{
    timeout = self.timeout,
    rotate = o.rotate or (conf and conf.rotate) or false,
    tcp = o.tcp or (conf and conf.usevc) or false,
    edns = o.edns,
    dns0x20 = o.dns0x20 or false,
    cookies = o.cookies,
    maxInflight = o.maxInflight,
    udpMaxQueries = o.udpMaxQueries,
    udpIdle = o.udpIdle,
  }
  if not resolver then
    argcheck.error(1, "Resolver", why, level)
  end
  self._core = resolver
  -- without TLS options the core makes its defaults (strict, the system's
  -- CAs) when a tls:// or https:// server first needs them
  local tlsOk, tlsErr = true, nil
  if o.tls ~= nil or o.caFile ~= nil or o.caPath ~= nil or o.pins ~= nil or o.handshakeTimeout ~= nil
    or o.clearPort ~= nil then
    tlsOk, tlsErr = pcall(resolver.set_tls, resolver, tls)
  end
  if not tlsOk then
    resolver:close()
    argcheck.error(1, "Resolver", (tostring(tlsErr):gsub("^[^:]*:%d+: ", "")), level)
  end
  self._setOptions = { get = o.dohGet and true or false }
  local ok
  ok, why = resolver:set_servers(self.servers or confServers(conf), self._setOptions)
  if not ok then
    resolver:close()
    argcheck.error("servers", "Resolver", why, level)
  end
  self._checked = reactor.seconds()
  return self
end

--- What the encrypted servers' connections found, one entry per server
-- in the order of getServers: `false` for a plain server, `{}` before its
-- first connection, else `{verified = bool, check = "certificate expired"
-- (when a check failed: opportunistic mode went on anyway), version =
-- "TLSv1.3", cipher = ..., alpn = "h2", resumed = bool}`, with `clear =
-- true` once an opportunistic lookup fell back to clear text with it.
-- @treturn table
function Resolver:getServerSecurity()
  return self._core:security()
end

--- The servers this resolver asks, as `"addr:port"` strings.
function Resolver:getServers()
  self:_maybeParseConfig()
  return self._core:servers()
end

--- Attaches a cache (names.cache.CacheResolver) that answers fill.
function Resolver:setCache(cache)
  if type(cache) ~= "table" or getmetatable(cache) ~= cacheModule.CacheResolverClass then
    argcheck.error(1, "setCache", "a names.cache.CacheResolver expected, got " .. type(cache))
  end
  self._core:set_cache(cache._cache)
  self.cache = cache
end

-- The names to try, with the search list applied as glibc does: a list,
-- or the one name itself when there is only that (no table per lookup).
-- Without a search list that name is the canonical one (nameArgs's), as
-- the core would give it.
function Resolver:_candidates(name, canonical)
  if self._conf then
    if canonical and canonical ~= "" and self._noSearch then
      return canonical
    end
    return self._conf:candidates(name)
  end
  if canonical and canonical ~= "" then
    return canonical
  end
  return common.relative(name)
end

-- Candidate i of _candidates's answer, and how many there are.
local function candidateAt(candidates, i)
  if type(candidates) == "string" then
    return i == 1 and candidates or nil, 1
  end
  return candidates[i], #candidates
end

-- One lookup (Resolver:_lookup): its state lives in one table, which
-- the core hands to onAnswer with the reply (no closure per lookup:
-- closures over the locals of _lookup cost an upvalue object for each
-- local they shared, on every lookup). The table is a list, made by one
-- constructor: its slots cost a third of named fields' in memory and
-- nothing to insert.
local RESOLVER <const>, NAME <const>, CLS <const>, QTYPE <const>, TIMEOUT <const> = 1, 2, 3, 4, 5
local CANDIDATES <const>, CACHE <const>, ASKED <const>, INDEX <const>, RESULT <const> = 6, 7, 8, 9, 10
local NODATA <const>, LAST_FAILURE <const> = 11, 12

local tryNext

local queryDeferred, queryDone, cancelQuery, lazyResult = common.queryDeferred, common.queryDone,
  common.cancelQuery, common.lazyResult
local Failure, newDeferred, OK = defer.Failure, defer.Deferred, dns.OK

-- The common ways through are written out here (queryDone's, filterAnswer's
-- NOERROR, candidateAt's one name): this runs for every lookup.
local function onAnswer(st, message, err, attempts)
  local result = st[RESULT]
  if err ~= nil or result.called then
    if queryDone(result, err) then
      return
    end
  else
    result._handle = nil
  end
  if not message then
    return result:errback(failureFor(dns.Query(candidateAt(st[CANDIDATES], st[INDEX]), st[QTYPE], st[CLS]), err,
      attempts))
  end
  local out
  if message.rCode == OK then
    out = lazyResult(message)
    if attempts then -- only when the resolver reports them (reportAttempts)
      out.attempts = attempts
    end
  else
    out = filterAnswer(message, attempts)
    if out:check(errors.DNSNameError) then
      st[LAST_FAILURE] = out
      return tryNext(st) -- the next candidate, or NODATA, or this error
    end
    return result:errback(out)
  end
  local candidates = st[CANDIDATES]
  if type(candidates) == "table" and st[INDEX] < #candidates and #out[1] == 0 then
    st[NODATA] = st[NODATA] or out
    return tryNext(st)
  end
  result:callback(out)
end

function tryNext(st)
  local i = st[INDEX] + 1
  st[INDEX] = i
  local candidates, candidate = st[CANDIDATES]
  if type(candidates) == "string" then
    candidate = i == 1 and candidates or nil
  else
    candidate = candidates[i]
  end
  if not candidate then
    if st[NODATA] then
      return st[RESULT]:callback(st[NODATA])
    end
    return st[RESULT]:errback(st[LAST_FAILURE] or Failure(errors.DNSNameError(st[NAME])))
  end
  -- the cache holds answers under the names asked, search list applied:
  -- only here are those names known (the name itself, a chain's
  -- CacheResolver has looked up before this resolver is asked)
  local cache = st[CACHE]
  if cache and candidate ~= st[ASKED] then
    local held = cache._cache:get(candidate, st[QTYPE], st[CLS], cache.clock.seconds())
    if held then
      return onAnswer(st, held, nil, nil)
    end
  end
  local r = st[RESOLVER]
  st[RESULT]._handle = r._core:query(candidate, st[QTYPE], st[CLS], st[TIMEOUT], r._flags, onAnswer, st)
end

--- Asks for `name`, trying the search list's candidates in turn: a name
-- that does not exist moves on to the next; the first answer wins; NODATA
-- is kept unless a later candidate has data. One Deferred per lookup, the
-- core's callback firing it straight: this is the per-query path.
function Resolver:_lookup(name, cls, qtype, timeout, canonical)
  if self.resolv then -- _maybeParseConfig's test, written out
    local checked = self._checked
    if not checked or reactor.seconds() - checked >= 1 then
      self:_maybeParseConfig()
    end
  end
  local candidates
  if canonical and canonical ~= "" and (self._noSearch or not self._conf) then
    candidates = canonical -- _candidates's answer without a search list
  else
    candidates = self:_candidates(name, canonical)
  end
  local cache = self.cache
  local result = newDeferred(cancelQuery) -- common.queryDeferred's
  local st = { self, name, cls, qtype, timeout, candidates, cache or false,
    cache and (canonical or common.relative(name)), 0, result, false, false }
  tryNext(st)
  return result
end

--- A zone transfer (AXFR over TCP): fires with a Result whose answers are
-- every record of every message, the closing SOA included (as Twisted).
-- `timeout` is one number of seconds (Twisted's default 10).
function Resolver:lookupZone(name, timeout)
  -- one number of seconds; of a list (or {name = ..., timeout = ...}) the first
  name, timeout = common.nameArgs("lookupZone", name, timeout)
  timeout = timeout and timeout[1]
  local d = queryDeferred()
  local query = dns.Query(name, dns.AXFR)
  d._handle = self._core:query(name, dns.AXFR, dns.IN, { timeout or 10 }, "x",
    function(messages, err, attempts)
      if queryDone(d, err) then
        return
      end
      if not messages then
        return d:errback(failureFor(query, err, attempts))
      end
      if messages.queries then -- one message: the server refused
        return d:callback(filterAnswer(messages, attempts))
      end
      local answers = {}
      for _, m in ipairs(messages) do
        for _, rr in ipairs(m.answers) do
          answers[#answers + 1] = rr
        end
      end
      d:callback(common.Result(answers, {}, {}, messages[#messages]))
    end)
  return d
end

--- Closes the resolver's sockets; pending lookups errback with CancelledError.
function Resolver:close()
  self._core:close()
end

common.ResolverBase(Resolver)
M.ResolverClass = Resolver

-- The global resolver ---------------------------------------------------------------

local createOptions = {
  servers = true, resolvconf = true, hosts = true, timeout = true,
  tls = true, caFile = true, caPath = true, pins = true, dohGet = true, handshakeTimeout = true,
  clearPort = true, cookies = true,
}

--- Builds the chain hosts file → cache → network, as Twisted's
-- createResolver: `createResolver{servers = ..., resolvconf = path,
-- hosts = path}` or `createResolver(servers, resolvconf, hosts)`.
-- @treturn names.resolve.ResolverChain
function M.createResolver(servers, resolvconf, hosts)
  local o
  if type(servers) == "table" and servers[1] == nil and getmetatable(servers) == nil then
    -- {servers = ..., resolvconf = ..., hosts = ...}; {} means the defaults
    o = servers
    checkOptions(o, createOptions, "createResolver", 2)
  else
    o = { servers = servers, resolvconf = resolvconf, hosts = hosts }
  end
  for _, k in ipairs{ "hosts", "resolvconf" } do
    if o[k] ~= nil and (type(o[k]) ~= "string" or o[k]:find("\0", 1, true)) then
      argcheck.error(k, "createResolver", "a path expected, got "
        .. (type(o[k]) == "string" and "a string with a NUL byte" or type(o[k])))
    end
  end
  local theResolver = newResolver({
    resolv = o.resolvconf or M.defaultResolvConf,
    servers = o.servers,
    timeout = o.timeout,
    tls = o.tls, caFile = o.caFile, caPath = o.caPath, pins = o.pins, dohGet = o.dohGet,
    handshakeTimeout = o.handshakeTimeout, clearPort = o.clearPort,
    cookies = o.cookies,
    _hosts = o.hosts,
  }, 2)
  local hostResolver = hostsModule.Resolver(o.hosts or M.defaultHosts)
  local cacheResolver = cacheModule.CacheResolver()
  theResolver:setCache(cacheResolver)
  return resolve.ResolverChain({ hostResolver, cacheResolver, theResolver })
end

--- The global resolver, made on first use from /etc/resolv.conf and
-- /etc/hosts (see defaultResolvConf). Assigning `client.theResolver` replaces it.
function M.getResolver()
  if M.theResolver == nil then
    M.theResolver = M.createResolver()
  end
  return M.theResolver
end

local function global(method)
  return function(...)
    local r = M.getResolver()
    return r[method](r, ...)
  end
end

for method in pairs(common.lookupTypes) do
  M[method] = global(method)
end
M.lookupZone = global("lookupZone")
M.getHostByName = global("getHostByName")
M.query = global("query")

-- The lookups, each a module function on the global resolver (and a
-- method of every resolver, names.common.ResolverBase), made from
-- names.common.lookupTypes; documented here one by one.

--- The A records of `name` (IPv4 addresses), asked of the global resolver.
-- @function lookupAddress
-- @tparam string|table name a domain name, or `{name = ..., timeout = ...}`
-- @tparam[opt] {number,...} timeout seconds for each attempt (Twisted's `{1, 3, 11, 45}`)
-- @treturn Deferred fires with a Result (`r.answers`, `r.authority`, `r.additional`)

--- The AAAA records of `name` (IPv6 addresses), asked of the global resolver.
-- @function lookupIPV6Address
-- @tparam string|table name a domain name, or `{name = ..., timeout = ...}`
-- @tparam[opt] {number,...} timeout seconds for each attempt (Twisted's `{1, 3, 11, 45}`)
-- @treturn Deferred fires with a Result (`r.answers`, `r.authority`, `r.additional`)

--- The A6 records of `name` (A6 records (historic IPv6)), asked of the global resolver.
-- @function lookupAddress6
-- @tparam string|table name a domain name, or `{name = ..., timeout = ...}`
-- @tparam[opt] {number,...} timeout seconds for each attempt (Twisted's `{1, 3, 11, 45}`)
-- @treturn Deferred fires with a Result (`r.answers`, `r.authority`, `r.additional`)

--- The MX records of `name` (mail exchangers), asked of the global resolver.
-- @function lookupMailExchange
-- @tparam string|table name a domain name, or `{name = ..., timeout = ...}`
-- @tparam[opt] {number,...} timeout seconds for each attempt (Twisted's `{1, 3, 11, 45}`)
-- @treturn Deferred fires with a Result (`r.answers`, `r.authority`, `r.additional`)

--- The NS records of `name` (name servers), asked of the global resolver.
-- @function lookupNameservers
-- @tparam string|table name a domain name, or `{name = ..., timeout = ...}`
-- @tparam[opt] {number,...} timeout seconds for each attempt (Twisted's `{1, 3, 11, 45}`)
-- @treturn Deferred fires with a Result (`r.answers`, `r.authority`, `r.additional`)

--- The CNAME records of `name` (canonical name), asked of the global resolver.
-- @function lookupCanonicalName
-- @tparam string|table name a domain name, or `{name = ..., timeout = ...}`
-- @tparam[opt] {number,...} timeout seconds for each attempt (Twisted's `{1, 3, 11, 45}`)
-- @treturn Deferred fires with a Result (`r.answers`, `r.authority`, `r.additional`)

--- The MB records of `name` (mailbox domain names), asked of the global resolver.
-- @function lookupMailBox
-- @tparam string|table name a domain name, or `{name = ..., timeout = ...}`
-- @tparam[opt] {number,...} timeout seconds for each attempt (Twisted's `{1, 3, 11, 45}`)
-- @treturn Deferred fires with a Result (`r.answers`, `r.authority`, `r.additional`)

--- The MG records of `name` (mail group members), asked of the global resolver.
-- @function lookupMailGroup
-- @tparam string|table name a domain name, or `{name = ..., timeout = ...}`
-- @tparam[opt] {number,...} timeout seconds for each attempt (Twisted's `{1, 3, 11, 45}`)
-- @treturn Deferred fires with a Result (`r.answers`, `r.authority`, `r.additional`)

--- The MR records of `name` (mail rename domain names), asked of the global resolver.
-- @function lookupMailRename
-- @tparam string|table name a domain name, or `{name = ..., timeout = ...}`
-- @tparam[opt] {number,...} timeout seconds for each attempt (Twisted's `{1, 3, 11, 45}`)
-- @treturn Deferred fires with a Result (`r.answers`, `r.authority`, `r.additional`)

--- The PTR records of `name` (pointers (reverse names: `1.0.0.127.in-addr.arpa`)), asked of the global resolver.
-- @function lookupPointer
-- @tparam string|table name a domain name, or `{name = ..., timeout = ...}`
-- @tparam[opt] {number,...} timeout seconds for each attempt (Twisted's `{1, 3, 11, 45}`)
-- @treturn Deferred fires with a Result (`r.answers`, `r.authority`, `r.additional`)

--- The SOA records of `name` (start of authority), asked of the global resolver.
-- @function lookupAuthority
-- @tparam string|table name a domain name, or `{name = ..., timeout = ...}`
-- @tparam[opt] {number,...} timeout seconds for each attempt (Twisted's `{1, 3, 11, 45}`)
-- @treturn Deferred fires with a Result (`r.answers`, `r.authority`, `r.additional`)

--- The NULL records of `name` (NULL records), asked of the global resolver.
-- @function lookupNull
-- @tparam string|table name a domain name, or `{name = ..., timeout = ...}`
-- @tparam[opt] {number,...} timeout seconds for each attempt (Twisted's `{1, 3, 11, 45}`)
-- @treturn Deferred fires with a Result (`r.answers`, `r.authority`, `r.additional`)

--- The WKS records of `name` (well-known services), asked of the global resolver.
-- @function lookupWellKnownServices
-- @tparam string|table name a domain name, or `{name = ..., timeout = ...}`
-- @tparam[opt] {number,...} timeout seconds for each attempt (Twisted's `{1, 3, 11, 45}`)
-- @treturn Deferred fires with a Result (`r.answers`, `r.authority`, `r.additional`)

--- The SRV records of `name` (service locations (`_sip._udp.example.com`)), asked of the global resolver.
-- @function lookupService
-- @tparam string|table name a domain name, or `{name = ..., timeout = ...}`
-- @tparam[opt] {number,...} timeout seconds for each attempt (Twisted's `{1, 3, 11, 45}`)
-- @treturn Deferred fires with a Result (`r.answers`, `r.authority`, `r.additional`)

--- The HINFO records of `name` (host information), asked of the global resolver.
-- @function lookupHostInfo
-- @tparam string|table name a domain name, or `{name = ..., timeout = ...}`
-- @tparam[opt] {number,...} timeout seconds for each attempt (Twisted's `{1, 3, 11, 45}`)
-- @treturn Deferred fires with a Result (`r.answers`, `r.authority`, `r.additional`)

--- The MINFO records of `name` (mailbox information), asked of the global resolver.
-- @function lookupMailboxInfo
-- @tparam string|table name a domain name, or `{name = ..., timeout = ...}`
-- @tparam[opt] {number,...} timeout seconds for each attempt (Twisted's `{1, 3, 11, 45}`)
-- @treturn Deferred fires with a Result (`r.answers`, `r.authority`, `r.additional`)

--- The TXT records of `name` (text records), asked of the global resolver.
-- @function lookupText
-- @tparam string|table name a domain name, or `{name = ..., timeout = ...}`
-- @tparam[opt] {number,...} timeout seconds for each attempt (Twisted's `{1, 3, 11, 45}`)
-- @treturn Deferred fires with a Result (`r.answers`, `r.authority`, `r.additional`)

--- The SPF records of `name` (SPF records), asked of the global resolver.
-- @function lookupSenderPolicy
-- @tparam string|table name a domain name, or `{name = ..., timeout = ...}`
-- @tparam[opt] {number,...} timeout seconds for each attempt (Twisted's `{1, 3, 11, 45}`)
-- @treturn Deferred fires with a Result (`r.answers`, `r.authority`, `r.additional`)

--- The RP records of `name` (responsible persons), asked of the global resolver.
-- @function lookupResponsibility
-- @tparam string|table name a domain name, or `{name = ..., timeout = ...}`
-- @tparam[opt] {number,...} timeout seconds for each attempt (Twisted's `{1, 3, 11, 45}`)
-- @treturn Deferred fires with a Result (`r.answers`, `r.authority`, `r.additional`)

--- The AFSDB records of `name` (AFS database locations), asked of the global resolver.
-- @function lookupAFSDatabase
-- @tparam string|table name a domain name, or `{name = ..., timeout = ...}`
-- @tparam[opt] {number,...} timeout seconds for each attempt (Twisted's `{1, 3, 11, 45}`)
-- @treturn Deferred fires with a Result (`r.answers`, `r.authority`, `r.additional`)

--- The NAPTR records of `name` (naming authority pointers), asked of the global resolver.
-- @function lookupNamingAuthorityPointer
-- @tparam string|table name a domain name, or `{name = ..., timeout = ...}`
-- @tparam[opt] {number,...} timeout seconds for each attempt (Twisted's `{1, 3, 11, 45}`)
-- @treturn Deferred fires with a Result (`r.answers`, `r.authority`, `r.additional`)

--- The records of any type of `name` (ANY; servers answer it minimally since RFC 8482),
-- asked of the global resolver.
-- @function lookupAllRecords
-- @tparam string|table name a domain name, or `{name = ..., timeout = ...}`
-- @tparam[opt] {number,...} timeout seconds for each attempt (Twisted's `{1, 3, 11, 45}`)
-- @treturn Deferred fires with a Result (`r.answers`, `r.authority`, `r.additional`)

--- A zone transfer (AXFR over TCP) on the global resolver: see `Resolver:lookupZone`.
-- @function lookupZone
-- @tparam string|table name
-- @tparam[opt] number timeout seconds (10)
-- @treturn Deferred

--- One address for `name` on the global resolver (IPv6 preferred, CNAMEs followed).
-- @function getHostByName
-- @tparam string|table name
-- @tparam[opt] {number,...} timeout
-- @treturn Deferred fires with an address string

--- Asks the question of a `dns.Query` on the global resolver.
-- @function query
-- @tparam dns.Query query
-- @tparam[opt] {number,...} timeout
-- @treturn Deferred fires with a Result

--- The endpoints of a service from its SVCB or HTTPS records (RFC 9460):
-- `names.svcb.resolveService` on `options.resolver` or the global resolver.
-- @tparam table options `name`, `scheme`, `port`, ... (see names.svcb)
-- @treturn Deferred the ordered list of endpoints
function M.resolveService(options)
  local r = type(options) == "table" and options.resolver or M.getResolver()
  return require("names.svcb").resolveService(r, options)
end

return M
