--- What every resolver shares (twisted.names.common): the lookup methods,
-- the result tuple, `getHostByName`.
--
-- A resolver class gets `lookupAddress`, `lookupMailExchange`, ... and
-- `query` from `ResolverBase`, and implements `_lookup(name, cls, type,
-- timeout)`, which returns a Deferred firing with a `Result`.
-- @module names.common

local argcheck = require "names.argcheck"
local core = require "names.core"
local defer = require "names.defer"
local dns = require "names.dns"
local errors = require "names.error"
local repr = require "names.repr"

local M = {}

local byte, concat, format, sub = string.byte, table.concat, string.format, string.sub

-- Result -----------------------------------------------------------------------

local Result = { __name = "names.common.Result" }

-- A result made from a response takes its sections from the message when
-- they are first read (see lazyResult); r[1] and r.answers are then the
-- same table as r.message.answers, as when they are given.
local sectionNames = { "answers", "authority", "additional", answers = "answers",
  authority = "authority", additional = "additional" }
local sectionSlots = { answers = 1, authority = 2, additional = 3 }

function Result.__index(self, k)
  local section = sectionNames[k]
  if section then
    local m = self.message -- when absent, this comes back here and gives nil
    if m ~= nil then
      local v = m[section] or {}
      -- both keys absent (else no __index) and no __newindex: plain sets
      self[sectionSlots[section]] = v
      self[section] = v
      return v
    end
  end
  return Result[k]
end

function Result.__len()
  return 3
end

function Result.__pairs(self)
  local _, _, _ = self[1], self[2], self[3] -- the sections, decoded by __index
  return next, self, nil
end

local sectionRepr = repr.list

-- Twisted's tuple: ([<RR ...>], [], [])
function Result.__tostring(self)
  return "(" .. sectionRepr(self[1]) .. ", " .. sectionRepr(self[2]) .. ", " .. sectionRepr(self[3]) .. ")"
end
Result.__repr = Result.__tostring

--- A lookup's result: `r[1], r[2], r[3]` (also `r.answers`, `r.authority`,
-- `r.additional`) are lists of RRHeader, so that
-- `local answers, authority, additional = table.unpack(r)` works.
-- `r.message` is the whole response when there was one.
-- @treturn Result
function M.Result(answers, authority, additional, message)
  answers, authority, additional = answers or {}, authority or {}, additional or {}
  return setmetatable({ answers, authority, additional, answers = answers, authority = authority,
    additional = additional, message = message }, Result)
end

--- A lookup's result from a response Message, its sections taken from the
-- message when first read.
-- @treturn Result
function M.lazyResult(message)
  -- sized for the sections __index sets (an absent key stays absent: a
  -- nil in a constructor only makes room); the answers at once when the
  -- message has them decoded already (a reply's are), as __index would
  -- set them on the first read
  local answers = rawget(message, "answers")
  return setmetatable({ answers, nil, nil, message = message, answers = answers, authority = nil,
    additional = nil }, Result)
end

function M.isResult(v)
  return getmetatable(v) == Result
end

-- Errors ----------------------------------------------------------------------------

local function describeAttempts(attempts)
  local parts = {}
  for i, a in ipairs(attempts or {}) do
    local what = a.outcome
    if a.outcome == "rcode" or (a.rcode and a.rcode ~= 0 and a.outcome ~= "timeout") then
      what = what .. " " .. (a.rcode or "?")
    end
    if a.error then
      what = what .. " (" .. a.error .. ")"
    end
    parts[i] = format("%s %s %s after %.3fs", a.server or "?", a.transport, what, a.took)
  end
  return concat(parts, "; ")
end
M.describeAttempts = describeAttempts

-- The question, and the tries made for it when there were any (an answer
-- from the cache, or no server to ask, has none).
local function reasonFor(query, attempts)
  if attempts and #attempts > 0 then
    return format("%s: %s", tostring(query), describeAttempts(attempts))
  end
  return tostring(query)
end

--- The error a finished query (or exchange) reports: the class for its
-- status, with `query`, `attempts` and a `reason` that lists the tries.
local function failureFor(query, err, attempts)
  local e
  if err.status == "timeout" then
    e = errors.DNSQueryTimeoutError(query)
  elseif err.status == "rcode" and err.message then
    e = errors.errorForRcode(err.message.rCode)(err.message)
  elseif err.status == "cancelled" then
    e = defer.CancelledError()
  elseif err.status == "noserver" then
    e = errors.ResolverError("no name servers to ask")
  else
    e = errors.ResolverError(err.reason)
  end
  e.query = query
  e.attempts = attempts
  e.reason = reasonFor(query, attempts)
  return e
end
M.reasonFor, M.failureFor = reasonFor, failureFor

-- Deferreds over queries of the core ---------------------------------------------

local function cancelQuery(d)
  local handle = d._handle
  if handle then
    handle:cancel()
  end
end

--- A Deferred over a query of the core: set `d._handle` to the core's
-- query handle when it starts (a new one for each query it makes), and
-- cancelling the Deferred cancels that query.  The query's callback starts
-- with `queryDone`.  (A field and two functions shared by every lookup: no
-- closure per lookup.)
-- @treturn Deferred
function M.queryDeferred()
  return defer.Deferred(cancelQuery)
end
M.cancelQuery = cancelQuery -- for a caller that makes the Deferred itself

--- The start of a core query's callback for a `queryDone` Deferred: the
-- query is over (its handle let go); true when there is nothing left to do
-- because the Deferred has fired already, or because the query was
-- cancelled (the Deferred then fails with CancelledError, as Twisted's).
-- @tparam Deferred d
-- @param err the callback's error table, or nil
-- @treturn boolean
function M.queryDone(d, err)
  d._handle = nil
  if d.called then
    return true
  end
  if err and err.status == "cancelled" then
    d:errback(defer.CancelledError())
    return true
  end
  return false
end

-- Arguments ---------------------------------------------------------------------

--- Checks a timeout argument: nil, a positive number, or a list of them.
-- Raises naming the argument.
function M.checkTimeout(timeout, fname, level)
  if timeout == nil then
    return nil
  end
  if type(timeout) == "number" then
    if not (timeout > 0) then
      argcheck.error(2, fname, "timeout: positive seconds expected", level)
    end
    return { timeout }
  end
  if type(timeout) ~= "table" or #timeout == 0 then
    argcheck.error(2, fname, "timeout: a list of seconds expected, got " .. type(timeout), level)
  end
  for i = 1, #timeout do
    if type(timeout[i]) ~= "number" or not (timeout[i] > 0) then
      argcheck.error(2, fname, format("timeout[%d]: positive seconds expected", i), level)
    end
  end
  return timeout
end

-- `f(name, timeout)` or `f{name = ..., timeout = ...}`; names may be Name.
local nameCheck = core.name_check

local function nameArgs(fname, name, timeout)
  if type(name) ~= "string" then -- the common case first: this runs for every lookup
    if type(name) == "table" and getmetatable(name) == nil then
      name, timeout = name.name or name[1], name.timeout or name[2]
    end
    if getmetatable(name) == dns.Name then
      name = name.name
    end
    if type(name) ~= "string" then
      argcheck.error(1, fname, "name: string expected, got " .. type(name), 2)
    end
  end
  local canonical, err = nameCheck(name)
  if not canonical then
    argcheck.error(1, fname, format("%s: '%s'", err, name), 2)
  end
  if timeout ~= nil then
    timeout = M.checkTimeout(timeout, fname, 3)
  end
  -- the name as given, its timeout, and its canonical text (no final dot)
  return name, timeout, canonical
end

M.nameArgs = nameArgs

--- Checks an options table: no list part, known keys only (a misspelt key
-- or a server list passed in its place must not be silently ignored).
-- `level`: the user's frame, as error() counts from the caller.
function M.checkOptions(o, known, fname, level)
  if o[1] ~= nil then
    argcheck.error(1, fname, "a table of options expected, got a list"
      .. (known.servers and "; servers go in {servers = {...}}" or ""), level)
  end
  for k in pairs(o) do
    if not known[k] then
      argcheck.error(1, fname, format("unknown option '%s'", tostring(k)), level)
    end
  end
end

--- `name` without its final dot. (Not gsub("%.$"): an unanchored pattern
-- tries every position, and this runs on every lookup.)
function M.relative(name)
  if byte(name, -1) == 46 then
    return sub(name, 1, -2)
  end
  return name
end

-- Answers without waiting --------------------------------------------------------

-- The query methods ResolverBase made (see plainQuery).
local baseQueries = setmetatable({}, { __mode = "k" })
M._baseQueries = baseQueries -- a ResolverChain reads it in its per-lookup path

-- The classes whose _answer and _addressNow are taken, by method (weak).
-- (A ResolverChain reads it too, inlining ownMethod in its per-lookup loop.)
local methodClass = setmetatable({}, { __mode = "k" })
M._methodClass = methodClass

--- Registers a resolver class whose `_answer` (and `_addressNow`, if it
-- has one) may be called in place of its `_lookup` (see answerNow).
-- @tparam table cls
function M.answersAtOnce(cls)
  methodClass[cls._answer] = cls
  if cls._addressNow then
    methodClass[cls._addressNow] = cls
  end
end

-- The method `key` of a registered class, when the resolver has it and
-- keeps that class's `_lookup` and `query` (a subclass or an instance
-- that replaces either is asked through them). No C function is called:
-- this runs several times for every lookup of a chain.
local function ownMethod(resolver, key)
  local f = resolver[key]
  local cls = f and methodClass[f]
  if cls and resolver._lookup == cls._lookup and resolver.query == cls.query then
    return f
  end
  return nil
end

--- What a resolver can answer at once, without a Deferred: a resolver
-- class may have `_answer(name, cls, type)`, which returns a `Result`, or
-- `nil, err` when the lookup fails with error value `err` (`err` nil: the
-- name is not there, a DomainError), or `false` when it must be asked the
-- Deferred way (`_lookup`). The hosts file and the cache answer at once;
-- a ResolverChain asks them so, and `getHostByName` too, so that an answer
-- they hold costs no Deferred, Failure or callback per resolver.
-- Only the `_answer` of a class registered with answersAtOnce is taken, and
-- only while the resolver keeps that class's `_lookup` and `query`: one
-- that replaces either is asked through them.
-- @return a Result, or nil and an error value, or false
function M.answerNow(resolver, name, cls, qtype)
  local answer = ownMethod(resolver, "_answer")
  if answer then
    return answer(resolver, name, cls, qtype)
  end
  return false
end

--- The address getHostByName gives for `name` (canonical) when a resolver
-- can tell it at once without building records: a class may have
-- `_addressNow(name, cls, effort)`, which returns the address, nil when it
-- answers neither AAAA nor A for the name (a chain asks on), or false when
-- getHostByName must work it out the general way. The hosts file, the
-- cache and a chain of them have it.
-- @return an address string, nil or false
function M.addressNow(resolver, name, cls, effort)
  local f = ownMethod(resolver, "_addressNow")
  if f then
    return f(resolver, name, cls, effort)
  end
  return false
end

--- Whether `resolver:query(q, timeout)` is ResolverBase's, which is
-- `resolver:_lookup(q.name.name, q.cls, q.type, timeout)`.
function M.plainQuery(resolver)
  -- whichever class or instance it comes from, a query ResolverBase made
  -- only calls _lookup
  return baseQueries[resolver.query] or false
end

--- The `_lookup` of a resolver that has `_answer` and never waits.
function M.lookupFromAnswer(self, name, cls, qtype)
  local result, err = self:_answer(name, cls, qtype)
  if result then
    return defer.succeed(result)
  end
  return defer.fail(err or errors.DomainError(M.relative(name)))
end

-- ResolverBase --------------------------------------------------------------------

--- The lookup methods, by Twisted's names, and the type each asks for.
M.lookupTypes = {
  lookupAddress = dns.A, lookupIPV6Address = dns.AAAA, lookupAddress6 = dns.A6,
  lookupMailExchange = dns.MX, lookupNameservers = dns.NS, lookupCanonicalName = dns.CNAME,
  lookupMailBox = dns.MB, lookupMailGroup = dns.MG, lookupMailRename = dns.MR,
  lookupPointer = dns.PTR, lookupAuthority = dns.SOA, lookupNull = dns.NULL,
  lookupWellKnownServices = dns.WKS, lookupService = dns.SRV, lookupHostInfo = dns.HINFO,
  lookupMailboxInfo = dns.MINFO, lookupText = dns.TXT, lookupSenderPolicy = dns.SPF,
  lookupResponsibility = dns.RP, lookupAFSDatabase = dns.AFSDB,
  lookupNamingAuthorityPointer = dns.NAPTR, lookupAllRecords = dns.ALL_RECORDS,
}

--- Adds the lookup methods, `query`, `lookupZone` and `getHostByName` to
-- a resolver class that has `_lookup`.
-- @tparam table cls
-- @treturn table cls
function M.ResolverBase(cls)
  local IN = dns.IN
  for method, qtype in pairs(M.lookupTypes) do
    cls[method] = function(self, name, timeout)
      local canonical
      name, timeout, canonical = nameArgs(method, name, timeout)
      -- the canonical name too, for a chain that would check it again
      return self:_lookup(name, IN, qtype, timeout, canonical)
    end
  end

  --- Asks the question of a `dns.Query`.
  function cls:query(query, timeout)
    if getmetatable(query) ~= dns.Query then
      argcheck.error(1, "query", "a dns.Query expected, got " .. type(query))
    end
    return self:_lookup(query.name.name, query.cls, query.type, M.checkTimeout(timeout, "query", 2))
  end
  baseQueries[cls.query] = true

  if not cls.lookupZone then
    function cls:lookupZone()
      return defer.fail(errors.ResolverError("zone transfers are not supported by this resolver"))
    end
  end

  --- Resolves a name to one address (IPv6 preferred, as Twisted), following
  -- CNAMEs. Fires with a string; errbacks with DNSNameError when there is
  -- no address.
  function cls:getHostByName(name, timeout, effort)
    local canonical
    name, timeout, canonical = nameArgs("getHostByName", name, timeout)
    -- effort: how many CNAMEs to follow (Twisted's), 10 by default
    if effort ~= nil and (math.type(effort) ~= "integer" or effort < 0) then
      argcheck.error(3, "getHostByName", "effort: a count of CNAMEs to follow expected")
    end
    return M.getHostByName(self, name, timeout, effort or 10, canonical)
  end
  return cls
end

-- getHostByName ---------------------------------------------------------------------

local function sameName(a, b)
  return a == b or a:lower() == b:lower()
end

local addressTypes = { dns.A6, dns.AAAA, dns.A }

-- Twisted's extractRecord: an address of `name` among the answers (A6,
-- AAAA, then A), or the CNAME to follow; nil when neither.
local function extract(name, answers, level)
  if level <= 0 then
    return nil
  end
  for _, t in ipairs(addressTypes) do
    for _, rr in ipairs(answers) do
      if rr.type == t and sameName(rr.name.name, name) then
        return t == dns.A6 and rr.payload.suffix or rr.payload.address
      end
    end
  end
  for _, rr in ipairs(answers) do
    if rr.type == dns.CNAME and sameName(rr.name.name, name) then
      local target = rr.payload.name.name
      return extract(target, answers, level - 1) or { follow = target }
    end
  end
  return nil
end

local function noAddress(name)
  local e = errors.DNSNameError(name)
  e.reason = "no address for " .. name
  return defer.fail(e)
end

-- The name a result answers: the question of its response (a search list
-- may have lengthened the name asked), or the name itself.
local function answeredName(result, name)
  local m = result.message
  if m and m.queries and m.queries[1] then
    return m.queries[1].name.name
  end
  return name
end

-- What getHostByName makes of the two answers, `{ok, value}` pairs (AAAA,
-- then A) as a DeferredList gives them: an address, a Failure, or a
-- Deferred (a CNAME to follow with a new lookup).
-- `atOnce`: the name the answers are for, when they were given at once.
local function decide(resolver, name, timeout, effort, results, atOnce)
  local answered, firstFailure = {}, nil
  for _, pair in ipairs(results) do
    if pair[1] then
      -- an answer given at once answers the name itself: the hosts file's,
      -- or the cache's, held under the name asked (no search list there)
      answered[#answered + 1] = { name = atOnce or answeredName(pair[2], name), answers = pair[2][1] }
    elseif not firstFailure then
      firstFailure = pair[2]
    end
  end
  local follow
  for _, a in ipairs(answered) do
    local found = extract(a.name, a.answers, effort)
    if type(found) == "string" then
      return found
    end
    follow = follow or (found and found.follow)
  end
  if follow then
    return M.getHostByName(resolver, follow, timeout, effort - 1)
  end
  if firstFailure and #answered == 0 then
    return firstFailure
  end
  return noAddress(name)
end

local function settled(result, err, name)
  if result then
    return { true, result }
  end
  return { false, defer.Failure(err or errors.DomainError(name)) }
end

--- AAAA and A asked at once (no ANY query: servers answer it minimally
-- since RFC 8482); IPv6 preferred, as Twisted; CNAMEs followed, with a new
-- lookup when the server did not follow the chain itself. When both
-- answers are there at once (hosts file, cache: see answerNow), the
-- address is worked out without waiting and the Deferred comes fired.
function M.getHostByName(resolver, name, timeout, effort, canonical)
  if effort <= 0 then
    return noAddress(name)
  end
  canonical = canonical or core.name_check(name) or name
  local address = M.addressNow(resolver, canonical, dns.IN, effort)
  if address then
    return defer.succeed(address)
  end
  local r6, e6 = M.answerNow(resolver, name, dns.IN, dns.AAAA)
  local r4, e4 = false, nil
  if r6 ~= false then
    r4, e4 = M.answerNow(resolver, name, dns.IN, dns.A)
    if r4 ~= false then
      local v = decide(resolver, name, timeout, effort, { settled(r6, e6, name), settled(r4, e4, name) },
        canonical)
      if type(v) == "string" then
        return defer.succeed(v)
      elseif defer.isFailure(v) then
        return defer.fail(v)
      end
      return v -- the Deferred of a CNAME followed
    end
  end
  -- an answer already there is not asked for again
  local function lookup(result, err, qtype)
    if result == false then
      -- the canonical name too, which a chain would check again
      return resolver:_lookup(name, dns.IN, qtype, timeout, canonical)
    elseif result then
      return defer.succeed(result)
    end
    return defer.fail(err or errors.DomainError(name))
  end
  local both = defer.DeferredList({ lookup(r6, e6, dns.AAAA), lookup(r4, e4, dns.A) },
    { consumeErrors = true })
  -- a plain Deferred, as Twisted's getHostByName gives: it shows "waiting
  -- on" while a CNAME's follow-up lookup runs, and cancelling it cancels both
  local d = defer.Deferred(function()
    both:cancel()
  end)
  both:addCallback(function(results)
    return decide(resolver, name, timeout, effort, results)
  end)
  both:chainDeferred(d)
  return d
end

return M
