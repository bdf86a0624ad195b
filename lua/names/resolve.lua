--- twisted.names.resolve: a chain of resolvers asked in turn.
--
-- A lookup goes to the first resolver; when it fails with a DomainError
-- (the name is not there), a timeout or "not implemented", the next one is
-- asked, as Twisted's ResolverChain does. Other failures end the lookup, and
-- so does an NXDOMAIN that a cache holds (Twisted's cache keeps no negative
-- answers; ours does, and asking the network again would defeat it).
-- @module names.resolve

local class = require "names.class"
local common = require "names.common"
local defer = require "names.defer"
local dns = require "names.dns"
local errors = require "names.error"

local M = {}

local ResolverChain = { __name = "names.resolve.ResolverChain" }
ResolverChain.__index = ResolverChain

--- `ResolverChain{resolver, ...}`
-- @tparam table resolvers
-- @treturn ResolverChain
function M.ResolverChain(resolvers)
  if type(resolvers) ~= "table" then
    error("bad argument #1 to 'ResolverChain' (a list of resolvers expected)", 2)
  end
  for i, r in ipairs(resolvers) do
    if type(r) ~= "table" or type(r.query) ~= "function" then
      error(("bad argument #1 to 'ResolverChain' (resolver %d: something with query() expected, got %s)")
        :format(i, type(r)), 2)
    end
  end
  return setmetatable({ resolvers = resolvers }, ResolverChain)
end

local function movesOn(failure)
  local e = failure.value
  if type(e) == "table" and rawget(e, "fromCache") then
    return false -- a negative answer a cache holds (RFC 2308) is final
  end
  return failure:check(errors.DomainError, defer.TimeoutError, class.NotImplementedError)
end

function ResolverChain:_lookup(name, cls, qtype, timeout)
  local resolvers = self.resolvers
  if #resolvers == 0 then
    return defer.fail(errors.DomainError(name))
  end
  local query = dns.Query(name, qtype, cls)
  local d = resolvers[1]:query(query, timeout)
  for i = 2, #resolvers do
    d:addErrback(function(failure)
      if not movesOn(failure) then
        return failure
      end
      return resolvers[i]:query(query, timeout)
    end)
  end
  return d
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

return M
