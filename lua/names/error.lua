--- The error classes of Twisted Names (twisted.names.error).
--
-- A failed lookup errbacks with a `Failure` whose `value` is an instance of
-- one of these classes, so that `failure:trap(error.DNSNameError)` works.
-- The classes for response codes carry the response message as their first
-- argument, as in Twisted: `e.args[1]`, also readable as `e.response`.
--
--    local E = require "names.error"
--    local e = E.DNSNameError(message)
--    e.args[1] == message, e.response == message
--    E.errorForRcode(3) == E.DNSNameError
--
-- The hierarchy is Twisted's:
--
--    class.ValueError  > DomainError > DNSFormatError, DNSServerError,
--                        DNSNameError, DNSNotImplementedError,
--                        DNSQueryRefusedError, DNSUnknownError
--    class.ValueError  > AuthoritativeDomainError
--    defer.TimeoutError > DNSQueryTimeoutError
--    class.Exception   > ResolverError
-- @module names.error

local argcheck = require "names.argcheck"
local class = require "names.class"
local defer = require "names.defer"

local M = {}

--- Indicates a lookup failed because there were no records matching the
-- given name, class and type (Twisted: a ValueError).
M.DomainError = class("names.error.DomainError", class.ValueError)

--- Indicates a lookup failed for a name for which this server is
-- authoritative because there were no matching records.
M.AuthoritativeDomainError = class("names.error.AuthoritativeDomainError", class.ValueError)

--- Indicates a query did not receive a response within the time allowed.
-- `DNSQueryTimeoutError(id)`: as in Twisted it has no args (its message is
-- empty) and keeps the query or query id in the field `id`.
M.DNSQueryTimeoutError = class("names.error.DNSQueryTimeoutError", defer.TimeoutError)

function M.DNSQueryTimeoutError:init(id)
  self.args = { n = 0 }
  self.id = id
end

-- The response message an rcode error was built from.
local function keepResponse(self, message)
  self.response = message
end

local function rcodeError(name)
  local cls = class("names.error." .. name, M.DomainError)
  cls.init = keepResponse
  return cls
end

--- FORMERR: the server could not interpret the query.
M.DNSFormatError = rcodeError("DNSFormatError")
--- SERVFAIL: the server failed to process the query.
M.DNSServerError = rcodeError("DNSServerError")
--- NXDOMAIN: the name does not exist.
M.DNSNameError = rcodeError("DNSNameError")
--- NOTIMP: the server does not support this kind of query.
M.DNSNotImplementedError = rcodeError("DNSNotImplementedError")
--- REFUSED: the server refused to answer.
M.DNSQueryRefusedError = rcodeError("DNSQueryRefusedError")
--- Any other response code.
M.DNSUnknownError = rcodeError("DNSUnknownError")

--- Indicates a query failed because of a decision made by the local
-- resolver object.
M.ResolverError = class("names.error.ResolverError", class.Exception)

--- The classes for the response codes 1 to 5, as Twisted's
-- `client.Resolver._errormap`.
M.rcodeErrors = {
  [1] = M.DNSFormatError,
  [2] = M.DNSServerError,
  [3] = M.DNSNameError,
  [4] = M.DNSNotImplementedError,
  [5] = M.DNSQueryRefusedError,
}

-- What a lookup error adds to Python's str(): `reason`, set by the
-- resolver, says which question failed and what each server tried did
-- ("<Query example.com A IN>: 127.0.0.1:53 udp timeout after 1.001s; ...").
local function withReason(cls)
  local base = cls.__str
  cls.__str = function(self)
    local s = base(self)
    local reason = rawget(self, "reason")
    if not reason then
      return s
    end
    return s == "" and reason or s .. " [" .. reason .. "]"
  end
end

-- (__str is inherited at call time: the rcode classes get it from DomainError)
for _, name in ipairs({ "DomainError", "DNSQueryTimeoutError", "ResolverError" }) do
  withReason(M[name])
end

--- The error class for a response code, as Twisted's
-- `client.Resolver.filterAnswer` picks it: FORMERR, SERVFAIL, NXDOMAIN,
-- NOTIMP and REFUSED have their classes, any other non-zero code gives
-- `DNSUnknownError`. 0 (NOERROR) is no error: nil.
-- @tparam integer rcode
-- @treturn table|nil the class
function M.errorForRcode(rcode)
  if math.type(rcode) ~= "integer" then
    argcheck.error(1, "errorForRcode", "integer expected, got " .. (math.type(rcode) or type(rcode)))
  end
  if rcode == 0 then
    return nil
  end
  return M.rcodeErrors[rcode] or M.DNSUnknownError
end

return M
