--- names.repl: a Lua prompt on the reactor's loop, as Twisted's
-- `python -m twisted.conch.stdio` gives a Python one: the loop keeps
-- running while the prompt waits, so a lookup typed at the prompt
-- completes in the background and `_` shows it.
--
--    $ names-repl
--    > client.lookupAddress("www.example.test")
--    <Deferred at 0x5581e0c0>
--    > _
--    <Deferred at 0x5581e0c0 current result: ([<RR name=www.example.test type=A class=IN
--    ttl=3600s auth=True>], [<RR name=example.test type=NS ...>, ...], [...])>
--
-- `client`, `dns`, `defer`, `reactor` and `task` are globals, and
-- `dig("example.test MX")` asks as names-dig does and prints its answer in
-- dig's layout (the words as one string or a list). Input is
-- read as the stock `lua` prompt reads it: a line is first tried as
-- `return <line>`, and every value it gives is printed (nil and booleans
-- as Lua writes them, everything else with `repr.value`, so Deferreds show
-- their live state and strings are quoted); the first value is kept in
-- `_`. A chunk that is not complete (the error ends in `<eof>`) continues
-- on the next line after a `>> ` prompt. Errors are shown with a short
-- traceback and the prompt carries on. Beyond the stock prompt, a chunk
-- may wait for a Deferred as an `inlineCallbacks` coroutine does:
-- `r = coroutine.yield(client.lookupAddress(name))` holds the prompt until
-- the lookup ends (a failure is raised there).
--
-- With Debian's lua-readline and a terminal on standard input, lines are
-- edited with readline (history in `NAMES_REPL_HISTORY`, by default
-- `~/.names_repl_history`, "" for none; Lua completion of names and
-- fields); otherwise (a pipe, a file, no readline) they are read plainly.
-- End of input ends the session. Ctrl-C gives a fresh line, or cancels
-- the Deferred a chunk waits on.
-- @module names.repl

local core = require "names.core"
local defer = require "names.defer"
local digModule = require "names.dig"
local reactor = require "names.reactor"
local repr = require "names.repr"

local M = {}

local pack, unpack, concat = table.pack, table.unpack, table.concat

--- The prompts: `"> "` and, inside an unfinished chunk, `">> "`.
M.prompt1, M.prompt2 = "> ", ">> "

--- A table of globals for a session: `client`, `dns`, `defer`,
-- `reactor`, `task`, `dig`, and the rest of `_G` behind them.
-- @treturn table
function M.environment()
  local env = setmetatable({}, { __index = _G })
  env.client = require "names.client"
  env.dns = require "names.dns"
  env.defer = defer
  env.reactor = reactor
  env.task = require "names.task"
  env.dig = digModule.dig -- names-dig at the prompt
  return env
end

-- Text forms --------------------------------------------------------------------------

--- The text of one value at the prompt: nil, booleans, numbers, functions
-- as Lua writes them; strings, tables and objects as `repr.value` (so a
-- Deferred shows its current result).
-- @param v
-- @treturn string
function M.show(v)
  local tv = type(v)
  local text
  if tv == "string" or tv == "table" or getmetatable(v) then
    local ok, s = pcall(repr.value, v)
    text = ok and s or ("<repr failed: " .. tostring(s) .. ">")
  else
    text = tostring(v)
  end
  return text
end

local function errorText(e)
  if type(e) == "string" then
    return e
  elseif defer.isFailure(e) then
    return M.show(e)
  end
  local mt = getmetatable(e)
  if type(mt) == "table" and mt.__tostring then
    local ok, s = pcall(tostring, e)
    if ok then
      return s
    end
  end
  return ("(error object is a %s value)"):format(type(e))
end

local thisSource = debug.getinfo(1, "S").short_src

-- The error's text and the coroutine's frames (those of the chunk only),
-- without the frames of this module.
local function traceback(co, e)
  local tb = debug.traceback(co, errorText(e))
  local out = {}
  for line in (tb .. "\n"):gmatch("(.-)\n") do
    if not line:find(thisSource, 1, true) then
      out[#out + 1] = line
    end
  end
  return concat(out, "\n")
end

-- Raising a Failure where the chunk waits: a one-shot return hook on the
-- coroutine fires when coroutine.yield returns, and raises there (as
-- names.defer's inlineCallbacks does).
local function throwInto(co, failure)
  local hook, mask, count = debug.gethook(co)
  debug.sethook(co, function()
    if hook then
      debug.sethook(co, hook, mask, count)
    else
      debug.sethook(co)
    end
    error(failure, 0)
  end, "r")
  return coroutine.resume(co)
end

-- Console -----------------------------------------------------------------------------------

local Console = { __name = "names.repl.Console" }
Console.__index = Console

--- A session without its input: feed it lines with `push`.
-- @tparam[opt] table opts `env` (a table of globals, default
--   `environment()`), `write(s)` and `writeError(s)` (default standard
--   output and error), `chunkname` (default `"=stdin"`)
-- @treturn Console
function M.Console(opts)
  opts = opts or {}
  local self = setmetatable({}, Console)
  self.env = opts.env or M.environment()
  self.write = opts.write or function(s)
    io.stdout:write(s)
    io.stdout:flush()
  end
  self.writeError = opts.writeError or function(s)
    io.stdout:flush()
    io.stderr:write(s)
    io.stderr:flush()
  end
  self.chunkname = opts.chunkname or "=stdin"
  self.buffer = nil  -- the lines of an unfinished chunk
  self.waiting = nil -- the Deferred a chunk waits on
  return self
end

--- The prompt for the next line.
-- @treturn string
function Console:prompt()
  return self.buffer and M.prompt2 or M.prompt1
end

--- Whether a chunk waits on a Deferred (lines must wait meanwhile).
-- @treturn boolean
function Console:busy()
  return self.waiting ~= nil
end

function Console:report(text)
  self.writeError(text .. "\n")
end

-- Prints the values a chunk returned and keeps the first in `_`.
function Console:results(r)
  if r.n < 2 then
    return
  end
  local parts = {}
  for i = 2, r.n do
    parts[#parts + 1] = M.show(r[i])
  end
  if r[2] ~= nil then
    self.env._ = r[2]
  end
  self.write(concat(parts, "\t") .. "\n")
end

-- Runs the coroutine on from a resume's results until it ends or waits.
function Console:drive(co, r)
  while true do
    if not r[1] then
      self:report(traceback(co, r[2]))
      coroutine.close(co)
      return
    end
    if coroutine.status(co) == "dead" then
      return self:results(r)
    end
    local y = r[2]
    if not defer.isDeferred(y) then
      r = pack(coroutine.resume(co, unpack(r, 2, r.n)))
    else
      local settled, result = false, nil
      local sync = true
      y:addBoth(function(v)
        settled, result = true, v
        if not sync then
          self.waiting = nil
          self:drive(co, self:resumeWith(co, v))
          if self.onIdle and not self.waiting then
            self.onIdle()
          end
        end
        -- consumed, as inlineCallbacks does (a failure raised in the chunk
        -- is handled there)
        return nil
      end)
      sync = false
      if not settled then
        self.waiting = y
        return
      end
      r = self:resumeWith(co, result)
    end
  end
end

function Console:resumeWith(co, v)
  if defer.isFailure(v) then
    return pack(throwInto(co, v))
  end
  return pack(coroutine.resume(co, v))
end

--- Compiles what `line` completes, as the stock prompt does.
-- @treturn function|nil the chunk
-- @treturn string|nil "incomplete", or the syntax error
function Console:compile(line)
  local chunk
  if not self.buffer then
    if line:sub(1, 1) == "=" then -- Lua 5.2's `=expr`, as lua.c keeps it
      line = "return " .. line:sub(2)
    end
    chunk = load("return " .. line, self.chunkname, "t", self.env)
    if chunk then
      return chunk
    end
  end
  local source = self.buffer and (self.buffer .. "\n" .. line) or line
  local err
  chunk, err = load(source, self.chunkname, "t", self.env)
  if chunk then
    self.buffer = nil
    return chunk
  end
  if err:sub(-5) == "<eof>" then
    self.buffer = source
    return nil, "incomplete"
  end
  self.buffer = nil
  return nil, err
end

--- Takes one line of input (without its newline) and runs what it
-- completes: prints the values, or the error. A chunk that waits on a
-- Deferred goes on when it fires, then calls `self.onIdle()`.
-- @tparam string line
-- @treturn string "incomplete", "waiting" or "done"
function Console:push(line)
  local chunk, err = self:compile(line)
  if not chunk then
    if err == "incomplete" then
      return "incomplete"
    end
    self:report(err)
    return "done"
  end
  local co = coroutine.create(chunk)
  self:drive(co, pack(coroutine.resume(co)))
  return self.waiting and "waiting" or "done"
end

--- Ctrl-C: cancels the Deferred a chunk waits on (the chunk sees a
-- CancelledError), or else drops an unfinished chunk.
-- @treturn boolean whether a wait was cancelled
function Console:interrupt()
  if self.waiting then
    self.waiting:cancel()
    return true
  end
  self.buffer = nil
  return false
end

--- At the end of input: reports an unfinished chunk, as the stock prompt.
function Console:finish()
  if self.buffer then
    local _, err = load(self.buffer, self.chunkname, "t", self.env)
    self.buffer = nil
    self:report(err)
  end
end

M.ConsoleClass = Console

-- Input ---------------------------------------------------------------------------------------

-- Reads fd plainly: lines split here, the prompt written before each.
-- A descriptor epoll cannot watch (a regular file, /dev/null) is read a
-- line per turn of the loop.
local function plainInput(console, fd, done)
  local pending, buf, eof = {}, "", false
  local watch, finished = nil, false

  local function prompt()
    console.write(console:prompt())
  end

  local function finish()
    if finished then
      return
    end
    finished = true
    if watch then
      watch:close()
    end
    console:finish()
    console.write("\n")
    done()
  end

  local function pump()
    while not console:busy() and #pending > 0 do
      local line = table.remove(pending, 1)
      console:push(line)
      if not console:busy() then
        prompt()
      end
    end
    if eof and #pending == 0 and not console:busy() then
      finish()
    end
  end

  console.onIdle = function()
    prompt()
    pump()
  end

  local function take(data)
    if data == "" then
      eof = true
      if buf ~= "" then
        pending[#pending + 1] = buf
        buf = ""
      end
    else
      buf = buf .. data
      for line in buf:gmatch("(.-)\r?\n") do
        pending[#pending + 1] = line
      end
      buf = buf:match("[^\n]*$")
    end
  end

  local function readable()
    local data, err = core.repl.fd_read(fd)
    if not data then
      console:report("names-repl: reading the input: " .. tostring(err))
      data = ""
    end
    take(data)
    pump()
  end

  local function interrupt()
    if finished then
      return
    end
    console.write("\n") -- after the terminal's ^C
    if not console:interrupt() then
      prompt()
    end
  end

  prompt()
  local w, err = core.repl.watch_fd(fd, readable)
  if w then
    watch = w
    return interrupt
  end
  if core.repl.fd_kind(fd) ~= "file" and core.repl.fd_kind(fd) ~= "unknown" then
    error("names-repl: cannot watch the input: " .. tostring(err), 0)
  end
  -- a file: a line per turn of the loop, so that what it starts can run
  local function turn()
    if finished then
      return
    end
    if #pending == 0 and not eof then
      take(core.repl.fd_read(fd) or "")
    end
    if #pending > 0 then
      local line = table.remove(pending, 1)
      console:push(line)
      if console:busy() then
        return -- onIdle turns again
      end
      prompt()
    end
    if eof and #pending == 0 then
      return finish()
    end
    reactor.callLater(0, turn)
  end
  console.onIdle = function()
    prompt()
    reactor.callLater(0, turn)
  end
  reactor.callLater(0, turn)
  return interrupt
end

-- Lua completion for readline: `client.look<TAB>`, `d:add<TAB>`.
local function completer(env)
  return function(text, from, to)
    local word = text:sub(from, to)
    local path, sep, partial = word:match("^([%w_%.:]-)([%.:]?)([%w_]*)$")
    if not path then
      return {}
    end
    local t, prefix
    if sep == "" then
      t, prefix = env, ""
      path = nil
    else
      local ok, v = pcall(function()
        local cur = env
        for key in path:gmatch("[^%.:]+") do
          cur = cur[key]
        end
        return cur
      end)
      if not ok then
        return {}
      end
      t, prefix = v, path .. sep
    end
    local seen, out = {}, {}
    local function add(tbl)
      for k in pairs(tbl) do
        if type(k) == "string" and k:match("^[%a_][%w_]*$") and not seen[k]
          and k:sub(1, #partial) == partial then
          seen[k] = true
          out[#out + 1] = prefix .. k
        end
      end
    end
    local depth = 0
    while t ~= nil and depth < 8 do
      if type(t) == "table" then
        add(t)
      end
      local mt = getmetatable(t)
      t = type(mt) == "table" and type(mt.__index) == "table" and mt.__index or nil
      depth = depth + 1
    end
    if not path then
      local keywords = { "and", "break", "do", "else", "elseif", "end", "false", "for",
        "function", "goto", "if", "in", "local", "nil", "not", "or", "repeat", "return",
        "then", "true", "until", "while" }
      for _, k in ipairs(keywords) do
        if k:sub(1, #partial) == partial then
          out[#out + 1] = k
        end
      end
    end
    table.sort(out)
    return out
  end
end

-- Reads with lua-readline's callback interface: read_char() whenever the
-- terminal is readable, the line handler runs each line.
local function readlineInput(console, rl, fd, done)
  local history = os.getenv("NAMES_REPL_HISTORY") or "~/.names_repl_history"
  rl.set_options{ histfile = history, keeplines = 1000, completion = true }
  if rl.set_readline_name then
    rl.set_readline_name("names-repl")
  end
  if rl.set_complete_function then
    rl.set_complete_function(completer(console.env))
  end
  local watch, finished, installed = nil, false, false
  local onLine

  local function install()
    if not finished and not installed then
      installed = true
      rl.handler_install(console:prompt(), onLine)
    end
  end

  local function remove()
    if installed then
      installed = false
      rl.handler_remove()
    end
  end

  local function finish()
    finished = true
    remove()
    if watch then
      watch:close()
    end
    console:finish()
    console.write("\n")
    if history ~= "" then
      pcall(rl.save_history)
    end
    done()
  end

  onLine = function(line)
    remove()
    if line == nil then
      return finish()
    end
    if line:find("%S") then
      rl.add_history(line)
    end
    console:push(line)
    if not console:busy() then
      install()
    end
  end

  local function readable()
    if installed then
      rl.read_char()
    else
      -- typed while a chunk waits: readline reads it once it is back;
      -- until then the descriptor would stay readable, so stop watching
      watch:close()
      watch = nil
    end
  end

  -- A callback that prints while the prompt shows (a lookup finishing, a
  -- delayed call): readline takes the prompt and the half-typed line down
  -- and puts them back after, so neither is lost in the output. (Only
  -- print; io.write goes straight through.)
  if rawget(console.env, "print") == nil then
    local print = console.env.print
    console.env.print = function(...)
      if not (installed and core.repl.readline_hide()) then
        return print(...)
      end
      local ok, err = pcall(print, ...)
      io.stdout:flush()
      core.repl.readline_show()
      if not ok then
        error(err, 2)
      end
    end
  end

  console.onIdle = function()
    install()
    if not watch and not finished then
      watch = assert(core.repl.watch_fd(fd, readable))
    end
  end
  watch = assert(core.repl.watch_fd(fd, readable))
  install()

  local function interrupt()
    if console:busy() then
      console.write("\n") -- after the terminal's ^C (readline is away)
      console:interrupt()
    elseif installed then
      console:interrupt()
      -- a fresh, empty line
      if rl.sigcleanup then
        rl.sigcleanup()
      end
      remove()
      console.write("^C\n")
      install()
    end
  end
  return interrupt, remove
end

--- Runs a session on standard input until its end: the loop runs while
-- the prompt waits.
-- @tparam[opt] table opts `readline` (false: read plainly even on a
--   terminal), `banner` (false: none; default only on a terminal), `env`
-- @treturn integer the exit status (0)
function M.run(opts)
  opts = opts or {}
  local fd = 0
  local console = M.Console{ env = opts.env }
  local tty = core.repl.fd_kind(fd) == "tty"
  local rl
  if tty and opts.readline ~= false then
    local ok, mod = pcall(require, "readline")
    if ok and type(mod) == "table" and mod.handler_install then
      rl = mod
    end
  end
  if opts.banner ~= false and (opts.banner or tty) then
    console.write(("names-repl on %s: client, dns, defer, reactor, task, dig are loaded; "
      .. "_ is the last value; end of input (Ctrl-D) leaves\n"):format(_VERSION))
  end
  local function done()
    if reactor.isRunning() then
      reactor.stop()
    end
  end
  -- Ctrl-C at the prompt gives a fresh line; while a chunk waits on a
  -- Deferred, it cancels that Deferred (Lua code that runs without
  -- returning to the loop cannot be interrupted). The watcher is in place
  -- before the first prompt shows, so a Ctrl-C typed at once never kills.
  local interrupt, cleanup
  local sigint = core.repl.watch_signal("SIGINT", function()
    if interrupt then
      interrupt()
    end
  end)
  if rl then
    interrupt, cleanup = readlineInput(console, rl, fd, done)
  else
    interrupt = plainInput(console, fd, done)
  end
  local ok, err = pcall(reactor.run)
  sigint:close()
  if cleanup then
    cleanup()
  end
  if not ok then
    error(err, 0)
  end
  return 0
end

--- The command line: `names-repl [-q] [--no-readline] [-h]`.
-- @tparam table argv
-- @treturn integer the exit status
function M.main(argv)
  local opts = {}
  for _, a in ipairs(argv or {}) do
    if a == "-q" then
      opts.banner = false
    elseif a == "--no-readline" then
      opts.readline = false
    elseif a == "-h" or a == "--help" then
      io.stdout:write("usage: names-repl [-q] [--no-readline]\n",
        "A Lua prompt with lua-names loaded; the loop runs while it waits.\n",
        "  -q             no banner\n",
        "  --no-readline  read lines plainly, even on a terminal\n")
      return 0
    else
      io.stderr:write("names-repl: unknown option '", a, "' (try -h)\n")
      return 2
    end
  end
  return M.run(opts)
end

return M
