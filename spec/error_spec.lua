-- names.error: Twisted Names' error classes.
local E = require "names.error"
local class = require "names.class"
local defer = require "names.defer"
local repr = require "names.repr"

describe("names.error", function()
  local rcodeClasses = {
    "DNSFormatError", "DNSServerError", "DNSNameError",
    "DNSNotImplementedError", "DNSQueryRefusedError", "DNSUnknownError",
  }

  it("has Twisted's classes, named as in Twisted", function()
    for _, name in ipairs({ "DomainError", "AuthoritativeDomainError", "DNSQueryTimeoutError",
      "ResolverError", table.unpack(rcodeClasses) }) do
      assert.is_true(class.isclass(E[name]), name)
      assert.are.equal(name, E[name].__name)
      assert.are.equal("names.error." .. name, class.qual(E[name]))
    end
  end)

  it("derives DomainError and AuthoritativeDomainError from ValueError", function()
    assert.are.equal(class.ValueError, E.DomainError.__base)
    assert.are.equal(class.ValueError, E.AuthoritativeDomainError.__base)
    assert.is_false(class.issubclass(E.AuthoritativeDomainError, E.DomainError))
  end)

  it("derives every response-code error from DomainError", function()
    for _, name in ipairs(rcodeClasses) do
      assert.are.equal(E.DomainError, E[name].__base, name)
    end
  end)

  it("derives DNSQueryTimeoutError from defer.TimeoutError", function()
    assert.is_true(class.issubclass(E.DNSQueryTimeoutError, defer.TimeoutError))
    assert.is_false(class.issubclass(E.DNSQueryTimeoutError, E.DomainError))
  end)

  it("derives ResolverError from Exception only", function()
    assert.are.equal(class.Exception, E.ResolverError.__base)
  end)

  it("keeps the response message as args[1] and as response", function()
    local message = { id = 1234 }
    for _, name in ipairs(rcodeClasses) do
      local e = E[name](message)
      assert.are.equal(message, e.args[1], name)
      assert.are.equal(message, e.response, name)
    end
  end)

  it("keeps the query id of a timeout, with no args, as Twisted", function()
    local e = E.DNSQueryTimeoutError(4321)
    assert.are.equal(4321, e.id)
    assert.are.equal(0, e.args.n)
    assert.are.equal("DNSQueryTimeoutError()", repr.value(e))
    assert.are.equal("DNSQueryTimeoutError", tostring(e))
  end)

  it("prints as Twisted's str and repr", function()
    local e = E.DNSNameError("no such name")
    assert.are.equal("DNSNameError: no such name", tostring(e))
    assert.are.equal("DNSNameError('no such name')", repr.value(e))
    assert.are.equal("no such name", defer.Failure(e):getErrorMessage())
  end)

  it("maps response codes as Twisted's filterAnswer does", function()
    assert.are.equal(E.DNSFormatError, E.errorForRcode(1))
    assert.are.equal(E.DNSServerError, E.errorForRcode(2))
    assert.are.equal(E.DNSNameError, E.errorForRcode(3))
    assert.are.equal(E.DNSNotImplementedError, E.errorForRcode(4))
    assert.are.equal(E.DNSQueryRefusedError, E.errorForRcode(5))
    for _, rcode in ipairs({ 6, 9, 15, 16, 23, 4095 }) do
      assert.are.equal(E.DNSUnknownError, E.errorForRcode(rcode), rcode)
    end
  end)

  it("gives no class for NOERROR", function()
    assert.is_nil(E.errorForRcode(0))
  end)

  it("rejects a response code that is not an integer", function()
    assert.has_error(function() E.errorForRcode("3") end,
      "bad argument #1 to 'errorForRcode' (integer expected, got string)")
  end)

  it("lets a Failure trap and check the classes through the hierarchy", function()
    local f = defer.Failure(E.errorForRcode(3)("msg"))
    assert.are.equal(E.DNSNameError, f.type)
    assert.are.equal(E.DomainError, f:check(E.DNSServerError, E.DomainError))
    assert.are.equal(E.DNSNameError, f:trap(E.DNSNameError))
    assert.is_nil(f:check(E.AuthoritativeDomainError, defer.TimeoutError))
    local ok, raised = pcall(f.trap, f, E.DNSServerError)
    assert.is_false(ok)
    assert.are.equal(f, raised)
  end)

  it("prints a Failure of a timeout with Twisted's brief traceback", function()
    local f = defer.Failure(E.DNSQueryTimeoutError(7))
    assert.are.equal("[Failure instance: Traceback (failure with no frames): "
      .. "<class 'names.error.DNSQueryTimeoutError'>: \n]", tostring(f))
  end)
end)
