--- twisted.names.cache: answers kept for their TTL.
--
-- Unlike Twisted's, this cache is filled: the network resolver of
-- `client.createResolver` stores every NOERROR and NXDOMAIN answer in it
-- (RFC 2308: negative answers live for the SOA's minimum), and the cache
-- answers the same question until the TTL runs out, with the TTLs counted
-- down. A miss fails with DomainError, so that a ResolverChain asks the
-- next resolver; a held NXDOMAIN fails with DNSNameError marked `fromCache`,
-- where a chain stops. Entries are whole responses in wire form, held by the C
-- core; keys ignore case.
-- @module names.cache

local argcheck = require "names.argcheck"
local common = require "names.common"
local core = require "names.core"
local dns = require "names.dns"
local errors = require "names.error"
local reactor = require "names.reactor"

local M = {}

local CacheResolver = { __name = "names.cache.CacheResolver" }
CacheResolver.__index = CacheResolver

--- `CacheResolver{maxEntries = 10000, maxTTL = 604800, maxNegativeTTL =
-- 10800, clock = reactor}`; the clock is anything with `seconds()`.
-- @treturn CacheResolver
local known = { maxEntries = true, maxTTL = true, maxNegativeTTL = true, clock = true, reactor = true }

function M.CacheResolver(opts)
  opts = opts or {}
  if type(opts) ~= "table" then
    argcheck.error(1, "CacheResolver", "a table of options expected")
  end
  common.checkOptions(opts, known, "CacheResolver", 2)
  local clock = opts.clock or opts.reactor or reactor
  if type(clock) ~= "table" or type(clock.seconds) ~= "function" then
    argcheck.error(1, "CacheResolver", "clock: something with seconds() expected, got " .. type(clock))
  end
  for _, k in ipairs{ "maxEntries", "maxTTL", "maxNegativeTTL" } do
    if opts[k] ~= nil and math.type(opts[k]) ~= "integer" then
      argcheck.error(1, "CacheResolver", ("%s: an integer expected, got %s"):format(k,
        math.type(opts[k]) or type(opts[k])))
    end
  end
  return setmetatable({
    clock = clock,
    _cache = core.cache(opts.maxEntries, opts.maxTTL, opts.maxNegativeTTL),
  }, CacheResolver)
end

-- The cache answers at once: see common.answerNow.
function CacheResolver:_answer(name, cls, qtype)
  local m = self._cache:get(name, qtype, cls, self.clock.seconds())
  if not m then
    return nil
  end
  if m.rCode ~= dns.OK then
    -- a negative answer held is an answer: `fromCache` tells a chain to
    -- stop here rather than ask the network again
    local e = errors.errorForRcode(m.rCode)(m)
    e.fromCache = true
    return nil, e
  end
  return common.lazyResult(m)
end

CacheResolver._lookup = common.lookupFromAnswer

-- getHostByName's address from the AAAA and A answers held, without a
-- record built: see common.addressNow.
function CacheResolver:_addressNow(name, cls, effort)
  return self._cache:address(name, cls, self.clock.seconds(), effort)
end

--- Stores a response Message for its question (Twisted's `cacheResult`
-- takes the query and the three sections; both forms work).
function CacheResolver:cacheResult(query, payload)
  local m = payload
  if getmetatable(payload) ~= dns.Message then
    m = dns.Message{ answer = true, queries = { query }, answers = payload[1] or {},
      authority = payload[2] or {}, additional = payload[3] or {} }
  end
  return self._cache:put(query.name.name, query.type, query.cls, m:toStr(), self.clock.seconds())
end

--- Forgets everything.
function CacheResolver:clear()
  self._cache:clear()
end

--- How many answers are held.
function CacheResolver:count()
  return self._cache:count()
end

common.ResolverBase(CacheResolver)
common.answersAtOnce(CacheResolver)

M.CacheResolverClass = CacheResolver

return M
