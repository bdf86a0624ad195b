-- The README's Lua snippets run as they stand (against the test server,
-- with private resolv.conf and hosts files), and print what their
-- `--> ...` comments say (up to any "...").
local env = require "testenv"

local function snippets()
  local f = assert(io.open(env.root .. "/README.md"))
  local text = f:read("a")
  f:close()
  local out = {}
  for code in text:gmatch("```lua\n(.-)```") do
    out[#out + 1] = code
  end
  return out
end

describe("the README", function()
  local conf, hostsFile
  setup(function()
    env.assert_server_up()
    conf, hostsFile = env.private_files("127.0.0.1 localhost\n")
  end)
  teardown(function()
    os.remove(conf)
    os.remove(hostsFile)
  end)

  local all = snippets()

  it("has Lua snippets to run", function()
    assert.is_true(#all >= 8, #all)
  end)

  for i, code in ipairs(all) do
    local first = code:match("^[^\n]*")
    it(("snippet %d runs and prints what it says (%s)"):format(i, first), function()
      -- the snippet that reads a script's arg gets 127.0.0.1
      -- the README names the test server's default port
      -- and the encrypted listeners (53800 + k) and the test CA
      code = code:gsub("53535", tostring(env.port)):gsub("538(0%d)", function(k)
        return tostring(env.tls_base + tonumber(k))
      end):gsub("build/testenv/certs/", env.certs .. "/")
      local script = env.write(code)
      local status, stdout, stderr = env.run(("%s %q 127.0.0.1 </dev/null"):format(
        env.lua_command(conf, hostsFile), script))
      os.remove(script)
      assert.equal("", stderr)
      assert.equal(0, status)
      for expected in code:gmatch("%-%->%s*([^\n]+)") do
        local want = expected:match("^(.-)%s*%.%.%.") or expected
        want = want:gsub("%s+$", "")
        assert.is_truthy(stdout:find(want, 1, true), ("%q not in the output:\n%s"):format(want, stdout))
      end
    end)
  end
end)
