--- twisted.names.resolve: a chain of resolvers asked in turn.
--
-- A lookup goes to the first resolver; when it fails with a DomainError
-- (the name is not there), a timeout or "not implemented", the next one is
-- asked, as Twisted's ResolverChain does. Other failures end the lookup, and
-- so does an NXDOMAIN that a cache holds (Twisted's cache keeps no negative
-- answers; ours does, and asking the network again would defeat it).
-- @module names.resolve

local argcheck = require "names.argcheck"
local class = require "names.class"
local common = require "names.common"
local core = require "names.core"
local defer = require "names.defer"
local dns = require "names.dns"
local errors = require "names.error"

local M = {}

local isinstance, nameCheck, methodClass, baseQueries = class.isinstance, core.name_check,
  common._methodClass, common._baseQueries
local succeed, fail = defer.succeed, defer.fail
local DomainError, TimeoutError, NotImplementedError = errors.DomainError, defer.TimeoutError,
  class.NotImplementedError

local ResolverChain = { __name = "names.resolve.ResolverChain" }
ResolverChain.__index = ResolverChain

--- `ResolverChain{resolver, ...}`
-- @tparam table resolvers
-- @treturn ResolverChain
function M.ResolverChain(resolvers)
  if type(resolvers) ~= "table" then
    argcheck.error(1, "ResolverChain", "a list of resolvers expected")
  end
  for i, r in ipairs(resolvers) do
    if type(r) ~= "table" or type(r.query) ~= "function" then
      argcheck.error(1, "ResolverChain", ("resolver %d: something with query() expected, got %s"):format(i, type(r)))
    end
  end
  return setmetatable({ resolvers = resolvers }, ResolverChain)
end

-- Whether a chain asks the next resolver after this error value (nil: the
-- name is not there).
local function movesOnError(e)
  if e == nil then
    return true
  end
  if type(e) == "table" and rawget(e, "fromCache") then
    return false -- a negative answer a cache holds (RFC 2308) is final
  end
  return isinstance(e, DomainError) or isinstance(e, TimeoutError) or isinstance(e, NotImplementedError)
end

local function movesOn(failure)
  return movesOnError(failure.value)
end

-- The Deferred way, from resolver `first` on: each asked in turn while the
-- previous one fails with an error that moves on.
local function askFrom(resolvers, first, name, cls, qtype, timeout, canonical)
  local r = resolvers[first]
  if first == #resolvers and common.plainQuery(r) then
    -- the last one (the network, in createResolver's chain): its query()
    -- would only unpack a dns.Query made for it
    return r:_lookup(name, cls, qtype, timeout, canonical)
  end
  local query = dns.Query(name, qtype, cls)
  local d = resolvers[first]:query(query, timeout)
  for i = first + 1, #resolvers do
    d:addErrback(function(failure)
      if not movesOn(failure) then
        return failure
      end
      return resolvers[i]:query(query, timeout)
    end)
  end
  return d
end

--- What the chain can answer without waiting, as `common.answerNow`
-- describes: the resolvers that answer at once (hosts file, cache) are
-- asked in turn without a Deferred or a Failure each; `false, i` when
-- resolver i must be asked the Deferred way.
function ResolverChain:_answer(name, cls, qtype)
  local resolvers = self.resolvers
  local n = #resolvers
  for i = 1, n do
    -- common.answerNow, written out: this loop runs for every lookup
    local r = resolvers[i]
    local answer = r._answer
    local owner = answer and methodClass[answer]
    if not owner or r._lookup ~= owner._lookup or r.query ~= owner.query then
      return false, i
    end
    local result, err = answer(r, name, cls, qtype)
    if result then
      return result
    elseif result == false then
      return false, i
    elseif i == n or (err ~= nil and not movesOnError(err)) then
      return nil, err or DomainError(name)
    end
  end
  return nil, DomainError(name)
end

--- getHostByName's address when the members that answer at once hold it
-- (see common.addressNow): the first member that answers for the name
-- decides; false as soon as one cannot tell.
function ResolverChain:_addressNow(name, cls, effort)
  local resolvers = self.resolvers
  for i = 1, #resolvers do
    -- common.addressNow, written out as in _answer
    local r = resolvers[i]
    local f = r._addressNow
    local owner = f and methodClass[f]
    if not owner or r._lookup ~= owner._lookup or r.query ~= owner.query then
      return false
    end
    local address = f(r, name, cls, effort)
    if address ~= nil then
      return address
    end
  end
  return false
end

function ResolverChain:_lookup(name, cls, qtype, timeout, canonical)
  -- the name a dns.Query would hold (no final dot), as every member saw it
  canonical = canonical or nameCheck(name)
  name = canonical or name
  local result, err = self:_answer(name, cls, qtype)
  if result then
    return succeed(result)
  elseif result == nil then
    return fail(err)
  end
  local resolvers = self.resolvers
  local r = resolvers[err]
  if err == #resolvers and baseQueries[r.query] then
    -- askFrom's first case, written out: the network, last in
    -- createResolver's chain, asked for every name that misses the rest
    return r:_lookup(name, cls, qtype, timeout, canonical)
  end
  return askFrom(resolvers, err, name, cls, qtype, timeout, canonical)
end

--- A zone transfer goes to the first resolver that can make one.
function ResolverChain:lookupZone(name, timeout)
  name, timeout = common.nameArgs("lookupZone", name, timeout)
  for _, r in ipairs(self.resolvers) do
    if r.canTransferZones then
      return r:lookupZone(name, timeout)
    end
  end
  return defer.fail(errors.ResolverError("no resolver in the chain makes zone transfers"))
end

common.ResolverBase(ResolverChain)
common.answersAtOnce(ResolverChain)

return M
