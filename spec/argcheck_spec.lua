-- names.argcheck: the one way the library words and raises argument errors.
local argcheck = require "names.argcheck"
local reactor = require "names.reactor"

describe("names.argcheck", function()
  local function api(x) -- a public function of a module
    argcheck.check(1, "api", x, "string", "name: string")
    return x
  end
  local function helper(n, v) -- a module's own checking helper
    argcheck.expect(n, "api2", v ~= nil, "something", v, 2)
  end
  local function api2(v)
    helper(1, v)
    return v
  end

  it("words the error as Lua's own functions do, positions and names alike", function()
    assert.has_error(function() argcheck.error(2, "f", "port: 0..65535 expected") end,
      "bad argument #2 to 'f' (port: 0..65535 expected)")
    assert.has_error(function() argcheck.error("servers", "Resolver", "a list expected") end,
      "bad argument 'servers' to 'Resolver' (a list expected)")
    assert.has_error(function() argcheck.check(1, "f", 5, "string") end,
      "bad argument #1 to 'f' (string expected, got number)")
    assert.has_error(function() argcheck.expect(3, "f", false, "a reactor", nil) end,
      "bad argument #3 to 'f' (a reactor expected, got nil)")
    assert.equal("x", argcheck.check(1, "f", "x", "string"))
    assert.equal(7, argcheck.expect(1, "f", true, "seven", 7))
  end)

  it("blames the line that called the public function", function()
    local line = debug.getinfo(1, "l").currentline + 1
    local ok, err = pcall(function() api(42) end)
    assert.is_false(ok)
    assert.equal(("argcheck_spec.lua:%d: bad argument #1 to 'api' (name: string expected, got number)"):format(line),
      err:match("[^/]*$"))
    line = debug.getinfo(1, "l").currentline + 1
    ok, err = pcall(function() api2(nil) end)
    assert.is_false(ok)
    assert.equal(("argcheck_spec.lua:%d: bad argument #1 to 'api2' (something expected, got nil)"):format(line),
      err:match("[^/]*$"))
  end)

  it("is how the library's modules raise, at the user's line", function()
    local line = debug.getinfo(1, "l").currentline + 1
    local ok, err = pcall(function() reactor.callLater(1, 5) end)
    assert.is_false(ok)
    assert.equal(("argcheck_spec.lua:%d: bad argument #2 to 'callLater' (function expected, got number)"):format(line),
      err:match("[^/]*$"))
  end)
end)
