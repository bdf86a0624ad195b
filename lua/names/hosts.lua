--- twisted.names.hosts: answers from the hosts file.
--
-- A (lookupAddress), AAAA (lookupIPV6Address), both (lookupAllRecords) and,
-- beyond Twisted, PTR for the addresses it lists (lookupPointer of
-- `1.0.0.127.in-addr.arpa` gives `localhost`). A name it does not list
-- fails with DomainError, any other type with NotImplementedError, so that
-- a ResolverChain moves on to the next resolver; a name it lists with
-- addresses of the other family only has an empty answer. The file is read again
-- when it changes; a missing file is an empty one.
-- @module names.hosts

local argcheck = require "names.argcheck"
local class = require "names.class"
local common = require "names.common"
local core = require "names.core"
local dns = require "names.dns"
local reactor = require "names.reactor"

local M = {}

local Resolver = { __name = "names.hosts.Resolver" }
Resolver.__index = Resolver

--- `Resolver(file, ttl)`: Twisted's defaults, /etc/hosts and 3600 seconds.
-- @treturn Resolver
function M.Resolver(file, ttl)
  if type(file) == "table" then
    file, ttl = file.file, file.ttl
  end
  file = file or "/etc/hosts"
  if type(file) ~= "string" then
    argcheck.error(1, "Resolver", "file: a path expected, got " .. type(file))
  end
  ttl = ttl or 3600
  if math.type(ttl) ~= "integer" or ttl < 0 then
    argcheck.error(2, "Resolver", "ttl: a non-negative integer expected")
  end
  return setmetatable({ file = file, ttl = ttl, _hosts = core.hosts(file) }, Resolver)
end

function Resolver:_maybeReload()
  local now = reactor.seconds()
  if not self._checked or now - self._checked >= 1 then
    self._checked = now
    self._hosts:reload()
  end
end

-- Records built as the dns constructors build them, without their
-- argument checks: the file's names and addresses were checked when it was
-- read, and this runs for every hosts-file answer.
local RRHeader, Name, IN = dns.RRHeader, dns.Name, dns.IN
local payloadClass = { [dns.A] = dns.Record_A, [dns.AAAA] = dns.Record_AAAA }
local nameCheck = core.name_check

local function toName(text)
  return setmetatable({ name = nameCheck(text) or text }, Name)
end

local function record(owner, rtype, ttl, payload)
  return setmetatable({ name = owner, type = rtype, cls = IN, ttl = ttl, payload = payload, auth = false },
    RRHeader)
end

local function build(list, name, rtype, ttl)
  local owner, cls = toName(name), payloadClass[rtype]
  local out = {}
  for i = 1, #list do
    out[i] = record(owner, rtype, ttl, setmetatable({ address = list[i], ttl = ttl }, cls))
  end
  return out
end

local function records(self, name, rtype, family)
  local list = self._hosts:find(name, family)
  return list and build(list, name, rtype, self.ttl) or {}
end

-- A name it does not list: nil (a DomainError, for a chain to move on).
local function respond(answers)
  if #answers == 0 then
    return nil
  end
  return common.Result(answers, {}, {})
end

-- A or AAAA. A name the file lists only with the other family has no
-- address of this one: an empty answer (NODATA), as c-ares and glibc give,
-- not DomainError, which would send the question to the network (and make
-- getHostByName of such a name wait for it).
local function addresses(self, name, rtype, family)
  local list, other = self._hosts:find(name, family)
  if list then
    return common.Result(build(list, name, rtype, self.ttl), {}, {})
  elseif other then
    return common.Result({}, {}, {})
  end
  return nil
end

-- The file answers at once: see common.answerNow.
function Resolver:_answer(name, cls, qtype)
  local checked = self._checked -- _maybeReload's test, written out: every lookup of a chain comes here
  if not checked or reactor.seconds() - checked >= 1 then
    self:_maybeReload()
  end
  name = common.relative(name)
  if cls ~= dns.IN then
    return nil, class.NotImplementedError("hosts: class " .. cls)
  end
  if qtype == dns.A then
    return addresses(self, name, dns.A, 4)
  elseif qtype == dns.AAAA then
    return addresses(self, name, dns.AAAA, 6)
  elseif qtype == dns.ALL_RECORDS then
    local all = records(self, name, dns.A, 4)
    for _, rr in ipairs(records(self, name, dns.AAAA, 6)) do
      all[#all + 1] = rr
    end
    return respond(all)
  elseif qtype == dns.PTR then
    local hosts = self._hosts:pointer(name)
    if not hosts then
      return nil
    end
    local answers, owner, ttl = {}, toName(name), self.ttl
    for i, host in ipairs(hosts) do
      answers[i] = record(owner, dns.PTR, ttl, setmetatable({ name = toName(host), ttl = ttl }, dns.Record_PTR))
    end
    return respond(answers)
  end
  return nil, class.NotImplementedError("hosts: type " .. dns.typeToText(qtype))
end

Resolver._lookup = common.lookupFromAnswer

-- getHostByName's address (the first IPv6 address the file gives the
-- name, else the first IPv4 one), without a record built: see
-- common.addressNow. A name the file lists is answered here for both
-- families.
function Resolver:_addressNow(name, cls)
  if cls ~= IN then
    return false
  end
  local checked = self._checked -- as in _answer
  if not checked or reactor.seconds() - checked >= 1 then
    self:_maybeReload()
  end
  return self._hosts:address(common.relative(name))
end

common.ResolverBase(Resolver)
common.answersAtOnce(Resolver)

return M
