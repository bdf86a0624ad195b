-- bin/names-repl, driven as a user drives it: through a pipe (lines
-- written with pauses, so the loop has to run while the prompt waits),
-- from a file, and on a pseudo-terminal with readline (util-linux
-- `script`). A private resolv.conf names the test server and a private
-- hosts file stands for /etc/hosts: nothing leaves loopback.
local env = require "testenv"
local repl = require "names.repl"

local conf, hostsFile, home

local write, slurp = env.write, env.slurp

local sleep
do
  local ok, socket = pcall(require, "socket")
  if ok then
    sleep = socket.sleep
  else
    sleep = function(s) os.execute(("sleep %.3f"):format(s)) end
  end
end

-- What a file holds so far (an empty string before it exists).
local function peek(path)
  local f = io.open(path)
  if not f then
    return ""
  end
  local s = f:read("a")
  f:close()
  return s
end

-- Waits (up to 20 s) until the program's output holds `prompt`: pauses
-- between steps mean something only once the program is up.
local function awaitPrompt(path, prompt)
  local deadline = os.time() + 20
  repeat
    sleep(0.05)
  until peek(path):find(prompt, 1, true) or os.time() > deadline
end

local function environment()
  -- no LUA_PATH or LUA_CPATH: the script finds the checkout by itself;
  -- SHELL as on a machine that sets none (script runs its command with it)
  return ("cd %q && env -u LUA_PATH -u LUA_CPATH HOME=%q TERM=dumb INPUTRC=/dev/null SHELL=/bin/sh"
    .. " NAMES_RESOLV_CONF=%q NAMES_HOSTS=%q"):format(env.root, home, conf, hostsFile)
end

-- Runs bin/names-repl with standard input a pipe, feeding it `steps`:
-- strings are written, numbers are pauses in seconds. Returns the exit
-- status, the standard output and the standard error.
local function piped(steps, args)
  local out, err = os.tmpname(), os.tmpname()
  local cmd = ("%s timeout 30 bin/names-repl %s >%q 2>%q"):format(environment(), args or "", out, err)
  local p = assert(io.popen(cmd, "w"))
  for i, s in ipairs(steps) do
    if type(s) == "number" then
      sleep(s)
    else
      if i == 1 and type(steps[2]) == "number" then
        awaitPrompt(out, "> ")
      end
      p:write(s)
      p:flush()
    end
  end
  local _, _, status = p:close()
  return status, slurp(out), slurp(err)
end

-- The same on a pseudo-terminal: `script` gives names-repl a terminal
-- and copies what it writes (both streams). Returns the exit status and
-- the output with carriage returns and terminal escapes taken out.
local function onTerminal(steps)
  local out = os.tmpname()
  -- script runs its command through $SHELL -c; exec, so that the REPL is
  -- alone in the terminal's process group: a shell that stays (dash, the
  -- SHELL-less default) would be killed by Ctrl-C itself
  local cmd = ("%s timeout 30 script -qfec 'exec bin/names-repl' /dev/null >%q 2>&1"):format(
    environment(), out)
  local p = assert(io.popen(cmd, "w"))
  -- Ctrl-C is turned into SIGINT by the terminal as it is typed, not when
  -- it is read: wait for the first prompt (the handler is in place by
  -- then), however slowly the machine starts the program
  awaitPrompt(out, "\n> ")
  for _, s in ipairs(steps) do
    if type(s) == "number" then
      sleep(s)
    else
      p:write(s)
      p:flush()
      sleep(0.05)
    end
  end
  local _, _, status = p:close()
  local text = slurp(out):gsub("\r", ""):gsub("\27%[[%d;?]*[%a]", ""):gsub("\27[%(%)][%w]", "")
  return status, text
end

local function lines(s)
  local t = {}
  for line in (s .. "\n"):gmatch("(.-)\n") do
    t[#t + 1] = line
  end
  return t
end

-- The lines of the output that follow a prompt (`> value` gives `value`).
local function values(out)
  local t = {}
  for _, line in ipairs(lines(out)) do
    local v = line:gsub("^[> ]*", "")
    if v ~= "" then
      t[#t + 1] = v
    end
  end
  return t
end

local DEFERRED = "^<Deferred at 0x%x+"
local RESULT = "current result: %(%[<RR name=www%.example%.test type=A class=IN ttl=3600s auth=True>%]"

describe("names-repl", function()
  setup(function()
    env.assert_server_up()
    conf = write(("nameserver [127.0.0.1]:%d\n"):format(env.port))
    hostsFile = write("127.0.0.1 localhost\n::1 localhost ip6-localhost\n")
    home = os.tmpname()
    os.remove(home)
    assert(os.execute(("mkdir -p %q"):format(home)))
  end)
  teardown(function()
    -- what setup made, when the server was up
    if home then
      os.remove(conf)
      os.remove(hostsFile)
      os.execute(("rm -rf %q"):format(home))
    end
  end)

  describe("through a pipe", function()
    it("completes a lookup typed at the prompt while the prompt waits", function()
      local status, out, err = piped{
        'client.lookupAddress("www.example.test")\n', 0.5,
        "_\n",
      }
      assert.equal("", err)
      assert.equal(0, status)
      local v = values(out)
      assert.equal(2, #v, out)
      assert.matches(DEFERRED, v[1])
      assert.is_nil(v[1]:find("current result", 1, true), "answered before the loop ran?")
      assert.matches(DEFERRED, v[2])
      assert.matches(RESULT, v[2])
      -- the same Deferred, now with its result
      assert.equal(v[1]:match("^<Deferred at (0x%x+)"), v[2]:match("^<Deferred at (0x%x+)"))
    end)

    it("runs the loop between lines: a delayed call fires while the prompt waits", function()
      local status, out = piped{
        'reactor.callLater(0.1, function() fired = reactor.seconds() end); typed = reactor.seconds()\n',
        0.5,
        "fired ~= nil and fired - typed >= 0.1\n",
      }
      assert.equal(0, status)
      assert.same({ "true" }, values(out))
    end)

    it("prints every value, nil and booleans as Lua, the rest as repr", function()
      local status, out = piped{ '1 + 1\n"a" .. "b"\nnil\n1 == 1\n1, "x", nil\ndns.Record_A("192.0.2.1", 5)\n' }
      assert.equal(0, status)
      assert.same({ "2", "'ab'", "nil", "true", "1\t'x'\tnil", "<A address=192.0.2.1 ttl=5>" }, values(out))
    end)

    it("keeps the last value in _", function()
      local status, out = piped{ "40 + 2\n_ + 1\nx = 5\n_\nprint('hi')\n_\n" }
      assert.equal(0, status)
      assert.same({ "42", "43", "43", "hi", "43" }, values(out))
    end)

    it("continues an unfinished chunk after a >> prompt, as the stock prompt", function()
      local status, out = piped{ "function f(x)\n", "  return x * 2\n", "end\n", "f(21)\n",
        "t = {\n1,\n2 }\n#t\n" }
      assert.equal(0, status)
      assert.equal("> >> >> > 42\n> >> >> > 2\n> \n", out)
    end)

    it("shows an error with a short traceback and carries on", function()
      local status, out, err = piped{ "local function g() error('boom') end g()\n", "1 +* 2\n",
        "error({})\n", "1 + 1\n" }
      assert.equal(0, status)
      assert.same({ "2" }, values(out))
      assert.matches("^stdin:1: boom\nstack traceback:\n", err)
      assert.matches("\n\tstdin:1: in local 'g'\n\tstdin:1: in main chunk\n", err)
      assert.matches("\nstdin:1: unexpected symbol near '1'\n", err)
      assert.matches("\n%(error object is a table value%)\n", err)
      -- the chunk's frames only: none of the REPL's own
      assert.is_nil(err:find("repl.lua", 1, true), err)
      assert.is_nil(err:find("in function 'xpcall'", 1, true), err)
    end)

    it("lets a chunk wait for a lookup with coroutine.yield, a failure raised there", function()
      local status, out, err = piped{
        'r = coroutine.yield(client.lookupAddress("mail.example.test"))\n',
        "r.answers[1].payload\n",
        'ok, f = pcall(coroutine.yield, client.lookupAddress("nope.example.test"))\n',
        'ok, f:check(require("names.error").DNSNameError) ~= nil\n',
      }
      assert.equal("", err)
      assert.equal(0, status)
      assert.same({ "<A address=192.0.2.25 ttl=3600>", "false\ttrue" }, values(out))
    end)

    it("exits with status 0 and a final newline at the end of input", function()
      local status, out, err = piped{ "1\n" }
      assert.equal("", err)
      assert.equal(0, status)
      assert.equal("> 1\n> \n", out)
      status, out, err = piped{ "for i = 1,\n" }
      assert.equal(0, status)
      assert.equal("> >> \n", out)
      assert.equal("stdin:1: unexpected symbol near <eof>\n", err)
    end)

    it("reads a last line without its newline", function()
      local status, out = piped{ "1 + 2" }
      assert.equal(0, status)
      assert.equal("> 3\n> \n", out)
    end)
  end)

  describe("from a file", function()
    it("runs the lines in turn, the loop running between them", function()
      local input = write('r = coroutine.yield(client.lookupAddress("www.example.test"))\n'
        .. "#r.answers\nd = task.deferLater(reactor, 0.05, function() return 7 end)\n"
        .. "coroutine.yield(d) == 7 and 'waited'\n")
      local out, err = os.tmpname(), os.tmpname()
      local _, _, status = os.execute(("%s timeout 30 bin/names-repl <%q >%q 2>%q"):format(
        environment(), input, out, err))
      os.remove(input)
      assert.equal("", slurp(err))
      assert.equal(0, status)
      assert.same({ "1", "'waited'" }, values(slurp(out)))
    end)
  end)

  describe("on a terminal", function()
    it("completes a lookup typed at the prompt while the prompt waits", function()
      local status, out = onTerminal{
        'client.lookupAddress("www.example.test")\n', 0.5,
        "_\n", "\4",
      }
      assert.equal(0, status)
      local v = values(out)
      -- the banner, then each line as typed (echoed) and its value
      assert.matches("^names%-repl on Lua 5%.4", v[1])
      assert.equal('client.lookupAddress("www.example.test")', v[2])
      assert.matches(DEFERRED, v[3])
      assert.is_nil(v[3]:find("current result", 1, true))
      assert.equal("_", v[4])
      assert.matches(RESULT, v[5])
    end)

    it("edits lines with readline: Ctrl-P brings back the last line, Tab completes", function()
      local status, out = onTerminal{ "40 + 2\n", "\16\n", "x = client.lookupMailE\t", 0.2, "\n",
        "x == client.lookupMailExchange\n", "\4" }
      assert.equal(0, status)
      local v = values(out)
      assert.same({ "40 + 2", "42", "40 + 2", "42" }, { v[2], v[3], v[4], v[5] })
      assert.same({ "x = client.lookupMailExchange", "x == client.lookupMailExchange", "true" },
        { v[6]:gsub("%s+$", ""), v[7], v[8] })
    end)

    it("continues chunks, shows errors, and leaves with status 0 on Ctrl-D", function()
      local status, out = onTerminal{ "function f(x)\n", "return x + 1 end\n", "f(1)\n",
        "error('boom')\n", "f(2)\n", "\4" }
      assert.equal(0, status)
      assert.matches("\n> function f%(x%)\n>> return x %+ 1 end\n> f%(1%)\n2\n", out)
      assert.matches("\n> error%('boom'%)\nstdin:1: boom\nstack traceback:\n", out)
      assert.matches("\n> f%(2%)\n3\n> \n?$", out)
    end)

    it("puts the prompt and a half-typed line back after a callback prints", function()
      local status, out = onTerminal{
        'reactor.callLater(0.4, function() print("late") end)\n', "12", 0.8, "3\n", "\4" }
      assert.equal(0, status)
      -- the line "> 12" is taken down, "late" printed, "> 12" redrawn, 3 typed
      assert.truthy(out:find("late\n> 123\n123\n", 1, true), out)
    end)

    it("takes Ctrl-C: cancels what a chunk waits on, or gives a fresh line", function()
      local t0 = os.time()
      local status, out = onTerminal{
        "coroutine.yield(task.deferLater(reactor, 60, function() end))\n", 0.3, "\3", 0.2,
        "12", "\3", "3\n",
        "for i = 1,\n", "\3", "'ok'\n", "\4" }
      assert.equal(0, status)
      assert.is_true(os.time() - t0 < 20)
      assert.matches("\n<names%.defer%.Failure names%.defer%.CancelledError: >\nstack traceback:\n", out)
      -- 12 was dropped: 3 alone is read; the unfinished chunk too
      assert.matches("\n> 12%^C\n> 3\n3\n> for i = 1,\n>> %^C\n> 'ok'\n'ok'\n", out)
    end)
  end)

  describe("as a module", function()
    it("decides what is complete as the stock prompt does", function()
      local seen = {}
      local c = repl.Console{ write = function(s) seen[#seen + 1] = s end,
        writeError = function(s) seen[#seen + 1] = "E:" .. s end }
      assert.equal("done", c:push("x = 1"))
      assert.equal("incomplete", c:push("if x then"))
      assert.equal(">> ", c:prompt())
      assert.equal("incomplete", c:push("  y = 2"))
      assert.equal("done", c:push("end"))
      assert.equal("> ", c:prompt())
      assert.equal("done", c:push("y"))
      assert.equal("done", c:push("= y + 1"))
      assert.same({ "2\n", "3\n" }, seen)
    end)

    it("waits on a Deferred a chunk yields, then goes on", function()
      local defer = require "names.defer"
      local seen = {}
      local c = repl.Console{ write = function(s) seen[#seen + 1] = s end }
      local idle = 0
      c.onIdle = function() idle = idle + 1 end
      c.env.d = defer.Deferred()
      assert.equal("waiting", c:push("coroutine.yield(d) + 1"))
      assert.is_true(c:busy())
      c.env.d:callback(41)
      assert.is_false(c:busy())
      assert.equal(1, idle)
      assert.same({ "42\n" }, seen)
    end)
  end)
end)
