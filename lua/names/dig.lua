--- names-dig: dig's questions on the library's public API, one at a time
-- (this module) or in bulk (names.digbulk).
--
--    local dig = require "names.dig"
--    local o = dig.options("@127.0.0.1 -p 53535 example.test MX")
--    dig.ask(dig.resolverFor(o), o.name, o.qtype, o.qclass):addCallback(function(outcome)
--      io.write(require("names.digformat").full(outcome))
--    end)
--
-- `ask` never errbacks: every end of a question (an answer of any status,
-- a timeout, a failure) is an outcome table (see names.digformat).
-- @module names.dig

local cache = require "names.cache"
local client = require "names.client"
local common = require "names.common"
local defer = require "names.defer"
local dns = require "names.dns"
local errors = require "names.error"
local digformat = require "names.digformat"
local hosts = require "names.hosts"
local options = require "names.digoptions"
local reactor = require "names.reactor"
local resolve = require "names.resolve"

local M = {}

local byte, find = string.byte, string.find

--- dig's exit statuses.
M.EXIT_OK, M.EXIT_USAGE, M.EXIT_BATCH, M.EXIT_NOREPLY, M.EXIT_INTERNAL, M.EXIT_INTERRUPTED =
  0, 1, 8, 9, 10, 130

M.options = options.parse

-- The resolvers made here that report their tries: only their answers
-- without tries come from the cache.
local reporting = setmetatable({}, { __mode = "k" })

local function timeoutFor(o)
  if o.time or o.tries then
    local t = {}
    for i = 1, o.tries or 3 do
      t[i] = o.time or 5
    end
    return t
  end
  return nil
end

-- "host:port" in the form the library takes (brackets around IPv6).
local function serverSpec(host, port)
  if host:find(":", 1, true) and host:sub(1, 1) ~= "[" then
    return string.format("[%s]:%d", host, port)
  end
  return string.format("%s:%d", host, port)
end

-- The server of `@server` as the library names it: an address and port, or
-- with +tls and +https a tls:// or https:// URL (the name the certificate
-- must carry after # for TLS; for HTTPS the name in the URL and the
-- address after #).
local function serverURL(o)
  local host = o.server
  local literal = host:find(":", 1, true) and "[" .. host .. "]" or host
  if o.tls then
    local url = string.format("tls://%s:%d", literal, o.port or 853)
    return o.tlsHostname and url .. "#" .. o.tlsHostname or url
  elseif o.https then
    if o.tlsHostname then
      return string.format("https://%s:%d%s#%s", o.tlsHostname, o.port or 443, o.https, host)
    end
    return string.format("https://%s:%d%s", literal, o.port or 443, o.https)
  end
  return serverSpec(host, o.port or 53)
end

--- The resolver a command line asks: with `@server`, that server alone
-- (no hosts file, no search list, as dig); without, the library's chain
-- (hosts file, cache, the nameservers of resolv.conf with its search list),
-- with `-p` moving resolv.conf's servers to that port.
-- Answers carry their tries unless `o.reportAttempts` is false.
-- @tparam table o parsed options (names.digoptions)
-- @treturn table a resolver, with `hostsFile` set when the chain has one
function M.resolverFor(o)
  local report = o.reportAttempts ~= false
  local settings = { timeout = timeoutFor(o), tcp = o.tcp or nil, dnssec = o.dnssec or nil,
    recurse = o.recurse, reportAttempts = report, maxInflight = o.maxInflight,
    cookies = o.cookie ~= false }
  if o.server then
    settings.servers = { serverURL(o) }
    settings.caFile = o.tlsCa
    local r = client.Resolver(settings)
    reporting[r] = report
    return r
  end
  settings.resolv = client.defaultResolvConf
  if o.port then
    local servers = {}
    local probe = client.Resolver{ resolv = client.defaultResolvConf }
    for i, s in ipairs(probe:getServers()) do
      local host = s:match("^%[(.*)%]:%d+$") or s:match("^(.*):%d+$") or s
      servers[i] = serverSpec(host, o.port)
    end
    probe:close()
    settings.servers = servers
  end
  local network = client.Resolver(settings)
  local hostsFile = client.defaultHosts
  local cached = cache.CacheResolver()
  network:setCache(cached)
  local chain = resolve.ResolverChain{ hosts.Resolver(hostsFile), cached, network }
  chain.hostsFile = hostsFile
  chain.network = network
  reporting[chain] = report
  return chain
end

--- Closes what `resolverFor` made.
function M.closeResolver(r)
  if r.network then
    r.network:close()
  elseif r.close then
    r:close()
  end
end

-- The server and transport of the try that answered.
local function answeredBy(attempts)
  for i = #(attempts or {}), 1, -1 do
    local a = attempts[i]
    if a.outcome == "answer" or a.outcome == "rcode" then
      return a.server, a.transport
    end
  end
  return nil
end

-- An outcome reads a result's authority and additional sections only when
-- asked: the library builds a section's records when it is first read, and
-- bulk mode's lines need the answers alone.
local Outcome = {}
function Outcome.__index(o, k)
  if k == "authority" or k == "additional" then
    local r = rawget(o, "result")
    local v = r and r[k] or {}
    rawset(o, k, v)
    return v
  end
  return nil
end

local function fromResult(o, r, resolver)
  o.result = r
  o.answers = r.answers
  o.message = r.message
  o.status = "NOERROR"
  o.rcode = 0
  if not r.message then
    o.source, o.hosts = "hosts", resolver.hostsFile
  elseif not r.attempts and reporting[resolver] then
    o.source = "cache"
  elseif not r.attempts then
    o.source = "network" -- or the cache: a resolver that does not report cannot tell
  else
    o.source = "network"
    o.attempts = r.attempts
    o.server, o.transport = answeredBy(r.attempts)
  end
end

local function fromFailure(o, f)
  local e = f.value
  o.attempts = type(e) == "table" and rawget(e, "attempts") or nil
  o.server, o.transport = answeredBy(o.attempts)
  o.source = (type(e) == "table" and rawget(e, "fromCache")) and "cache" or "network"
  local m = type(e) == "table" and rawget(e, "response") or nil
  if m and type(m) == "table" and m.rCode then
    o.message, o.rcode, o.status = m, m.rCode, digformat.rcodeText(m.rCode)
    o.answers, o.authority, o.additional = m.answers, m.authority, m.additional
  elseif f:check(errors.DNSQueryTimeoutError) then
    o.status, o.error = "TIMEOUT", "timed out"
  elseif f:check(errors.DomainError) then
    -- a name no resolver knows and no server was asked about
    o.status, o.rcode, o.error = "NXDOMAIN", dns.ENAME, "no such name"
  else
    o.status = "ERROR"
    o.error = (type(e) == "table" and (rawget(e, "reason") or e.args and e.args[1])) or tostring(e)
    o.error = tostring(o.error)
  end
  o.answers, o.authority, o.additional = o.answers or {}, o.authority or {}, o.additional or {}
end

--- Fills outcome `o` from a question's end: a Result (`resolver` tells
-- where it came from) or a Failure that is not a cancel. Bulk mode fills
-- its own outcome tables with it.
-- @tparam table o
-- @param v a Result or a Failure
-- @tparam table resolver
function M.fill(o, v, resolver)
  if defer.isFailure(v) then
    fromFailure(o, v)
  else
    fromResult(o, v, resolver)
  end
end

-- resolver:query of a new Query: dns.Query raises on a bad name, so it is
-- made inside the pcall (a function of its own, not a closure per question)
local function query(resolver, name, qtype, qclass)
  return resolver:query(dns.Query(name, qtype, qclass))
end

-- The lookup method of each type (lookupPointer for PTR, ...).
local lookupOf = {}
for method, qtype in pairs(common.lookupTypes) do
  lookupOf[qtype] = method
end

--- Starts one question: the Deferred of the resolver's lookup, or nil and
-- why the name is bad (`name: empty label: 'a..b'`). A question of class
-- IN whose type has a lookup method (`lookupPointer`, ...) asks through
-- it, as the library's users do, saving the Query object; one with an
-- escape or a final dot goes through `resolver:query`, which reads its
-- name into canonical text first.
-- @tparam table resolver
-- @tparam string name
-- @tparam integer qtype
-- @tparam integer qclass
-- @treturn Deferred|nil
-- @treturn string|nil
function M.start(resolver, name, qtype, qclass)
  local method = qclass == dns.IN and lookupOf[qtype]
  if method and byte(name, -1) ~= 46 and not find(name, "\\", 1, true) then
    local ok, d = pcall(resolver[method], resolver, name)
    if ok then
      return d
    end
  end
  -- a bad name says why through dns.Query, as it always has
  local ok, d = pcall(query, resolver, name, qtype, qclass)
  if ok then
    return d
  end
  -- "bad argument #1 to 'Query' (name: empty label: 'a..b')": the part in brackets
  local why = tostring(d):gsub("^.-:%d+: ", "")
  return nil, why:match("^bad argument #%d+ to '[^']*' %((.*)%)$") or why
end

-- The end of a question: its outcome from the result or the failure. A
-- cancelled question stays a failure (CancelledError).
local function settle(v, o)
  o.time = reactor.seconds() - o.started
  o.started = nil
  local resolver = o.resolver
  o.resolver = nil
  if defer.isFailure(v) and v:check(defer.CancelledError) then
    return v
  end
  M.fill(o, v, resolver)
  -- the TLS session of an encrypted server
  if resolver and resolver.getServerSecurity then
    local sec = resolver:getServerSecurity()
    o.tlsSession = type(sec) == "table" and type(sec[1]) == "table" and next(sec[1]) and sec[1] or nil
  end
  return o
end

--- Asks one question. Fires (never errbacks) with an outcome table (see
-- names.digformat), whatever happened but a cancel.
-- @tparam table resolver from `resolverFor`, or any resolver
-- @tparam string name
-- @tparam[opt=A] integer qtype
-- @tparam[opt=IN] integer qclass
-- @treturn Deferred firing with the outcome
function M.ask(resolver, name, qtype, qclass)
  qtype, qclass = qtype or dns.A, qclass or dns.IN
  local o = setmetatable({ name = name, qtype = qtype, qclass = qclass, started = reactor.seconds(),
    resolver = resolver }, Outcome)
  local d, why = M.start(resolver, name, qtype, qclass)
  if not d then
    o.status, o.error, o.time = "BADINPUT", why, 0
    o.answers, o.authority, o.additional = {}, {}, {}
    o.started, o.resolver = nil, nil
    return defer.succeed(o)
  end
  return d:addBoth(settle, o)
end

--- The exit status dig gives an outcome: 0 for an answer of any status, 9
-- when no server replied.
-- @tparam table o
-- @treturn integer
function M.exitStatus(o)
  if o.status == "TIMEOUT" or o.status == "ERROR" then
    return M.EXIT_NOREPLY
  elseif o.status == "BADINPUT" then
    return M.EXIT_USAGE
  end
  return M.EXIT_OK
end

--- The text of an outcome in the form the options ask for.
-- @tparam table o outcome
-- @tparam table opts parsed options
-- @tparam[opt] string command the command line, for the banner
-- @treturn string
function M.render(o, opts, command)
  if o.status == "BADINPUT" then
    return "names-dig: " .. o.error .. "\n"
  elseif opts.json then
    return digformat.json(o)
  elseif opts.short then
    return digformat.short(o)
  end
  return digformat.full(o, command)
end

--- One question from a parsed command line. Fires with the text to print
-- and the exit status.
-- @tparam table o parsed options
-- @tparam[opt] string command the command line, for the banner
-- @treturn Deferred firing with `{text = ..., status = ...}`
function M.question(o, command)
  local resolver = M.resolverFor(o)
  local when = os.time()
  return M.ask(resolver, o.name, o.qtype, o.qclass):addBoth(function(v)
    M.closeResolver(resolver)
    if defer.isFailure(v) then
      return v
    end
    v.when = when
    return { text = M.render(v, o, command), status = M.exitStatus(v), outcome = v }
  end)
end

--- `dig("example.test MX")` at the REPL (or any coroutine the loop drives):
-- the same words as the command line, as one string or a list; prints what
-- names-dig prints. Inside a coroutine that can wait (the REPL's, or
-- task.react's), it waits for the answer and returns nothing (the prompt
-- shows the text only); elsewhere it returns a Deferred of the outcome.
-- Bulk mode (-f) is the command's alone.
-- @tparam string|table args
-- @treturn nil|Deferred
function M.dig(args)
  local o, err = options.parse(args)
  if not o then
    error("dig: " .. err, 2)
  end
  if o.help then
    io.stdout:write(options.help())
    return
  end
  if o.file then
    error("dig: bulk mode (-f) is names-dig's on the command line", 2)
  end
  local command = type(args) == "table" and table.concat(args, " ") or args
  local d = M.question(o, command):addCallback(function(r)
    io.stdout:write(r.text)
    io.stdout:flush()
    return r.outcome
  end)
  if coroutine.isyieldable() then
    coroutine.yield(d)
    return -- no value: the prompt shows the text alone
  end
  return d
end

return M
