--- Deferreds and Failures, after twisted.internet.defer.
--
-- A `Deferred` is a promise of a result with a chain of callbacks: each
-- callback gets the current result and returns the next one; an error moves
-- the chain to the errbacks, an errback that returns a value moves it back.
-- A callback that returns another Deferred pauses the chain until that one
-- fires. `inlineCallbacks` lets a coroutine wait for Deferreds with
-- `coroutine.yield(d)`.
--
-- Errors travel as `Failure` objects: `f.value` is what was raised (an
-- instance of a `names.class` class, or any raw Lua error value such as a
-- message string), `f.type` its class (nil for raw values).
--
--    local defer = require "names.defer"
--    local d = defer.Deferred()
--    d:addCallback(function(r) return r + 1 end)
--    d:addErrback(function(f) f:trap(defer.CancelledError); return 0 end)
--    d:callback(41)
--    print(d)   --> <Deferred at 0x... current result: 42>
--
-- There is no `returnValue`: a coroutine passed to `inlineCallbacks` simply
-- does `return v`.
-- @module names.defer

local argcheck = require "names.argcheck"
local class = require "names.class"
local repr = require "names.repr"

local M = {}

local getmetatable, setmetatable, type = getmetatable, setmetatable, type
local xpcall, error, select = xpcall, error, select
local unpack, pack = table.unpack, table.pack
local format, address = string.format, repr.address
local costatus, coresume, corunning = coroutine.status, coroutine.resume, coroutine.running

-- Error classes --------------------------------------------------------------

--- Raised (at once) when a Deferred is fired twice.
M.AlreadyCalledError = class("names.defer.AlreadyCalledError")
--- The error a cancelled Deferred fails with.
M.CancelledError = class("names.defer.CancelledError")
--- The error a Deferred fails with when `addTimeout` expires.
M.TimeoutError = class("names.defer.TimeoutError")
--- `FirstError(failure, index)`: the first failure of a `DeferredList` with
-- `fireOnOneErrback`; fields `subFailure` and `index` (1-based).
M.FirstError = class("names.defer.FirstError")

local FirstError = M.FirstError

function FirstError:init(failure, index)
  self.subFailure = failure
  self.index = index
end

function FirstError:__str()
  return format("FirstError[#%d, %s]", self.index, tostring(self.subFailure))
end

FirstError.__tostring = FirstError.__str

function FirstError:__repr()
  return format("FirstError[#%d, %s]", self.index, repr.value(self.subFailure.value))
end

-- Failure --------------------------------------------------------------------

local Failure = { __name = "Failure" }
Failure.__index = Failure

-- Failures whose value was raised again by raiseException, so that catching
-- that value gives back the same Failure (and its traceback).
local raisedFrom = setmetatable({}, { __mode = "k" })

--- Wrap an error value in a Failure.
-- @param value the error: a class instance or any Lua error value; a
--   Failure is returned as it is; nil gives a Failure of `Exception()`
-- @tparam[opt] string traceback a `debug.traceback()` text taken where the
--   error was raised
-- @treturn Failure
function M.Failure(value, traceback)
  if getmetatable(value) == Failure then
    return value
  end
  if value == nil then
    value = class.Exception()
  end
  return setmetatable({ value = value, type = class.classof(value), tb = traceback }, Failure)
end

local newFailure = M.Failure

--- Whether a value is a Failure.
-- @param v
-- @treturn boolean
function M.isFailure(v)
  return getmetatable(v) == Failure
end

-- xpcall message handler: turn what was raised into a Failure that keeps
-- the traceback of the raise point.
local function handler(e)
  if getmetatable(e) == Failure then
    return e
  end
  local f = raisedFrom[e]
  if f then
    return f
  end
  return newFailure(e, debug.traceback(nil, 2))
end

-- The Failure for an error that killed coroutine co.
local function coroutineFailure(e, co)
  if getmetatable(e) == Failure then
    return e
  end
  if type(e) == "table" and raisedFrom[e] then
    return raisedFrom[e]
  end
  return newFailure(e, debug.traceback(co))
end

local function frameName(what)
  local name = what:match("'(.-)'")
  if name then
    return name
  elseif what == "main chunk" then
    return "<main>"
  end
  if what:match("^function <") then
    return "<anonymous>"
  end
  return what
end

-- Frames from the raise point outwards to the xpcall that caught it, as
-- {file, line, name}, oldest first (Python's order).
local function parseFrames(tb)
  local frames = {}
  for line in tb:gmatch("[^\n]+") do
    if line:find("in function 'xpcall'", 1, true) then
      break
    end
    local file, lineno, what = line:match("^%s+(.-):(%d+): in (.*)$")
    if file then
      table.insert(frames, 1, { file = file, line = tonumber(lineno), name = frameName(what) })
    end
  end
  return frames
end

--- The frames of the traceback, oldest first, each `{file=, line=, name=}`.
-- @treturn table
function Failure:getFrames()
  local frames = self.frames
  if not frames then
    frames = self.tb and parseFrames(self.tb) or {}
    self.frames = frames
  end
  return frames
end

local function typeName(self)
  if self.type then
    return class.qual(self.type)
  end
  return type(self.value)
end

--- The message of the error (Python's `str(value)`).
-- @treturn string
function Failure:getErrorMessage()
  local v = self.value
  if class.classof(v) then
    return class.str(v)
  end
  return repr.str(v)
end

--- Twisted's brief traceback, the body of `tostring(failure)`.
-- @treturn string
function Failure:getBriefTraceback()
  local frames = self:getFrames()
  local out = {
    #frames > 0 and "Traceback" or "Traceback (failure with no frames)",
    ": <class '", typeName(self), "'>: ", self:getErrorMessage(), "\n",
  }
  if #frames > 0 then
    out[#out + 1] = "--- <exception caught here> ---\n"
    for _, fr in ipairs(frames) do
      out[#out + 1] = format("%s:%d:%s\n", fr.file, fr.line, fr.name)
    end
  end
  return table.concat(out)
end

local function sourceLine(file, lineno)
  local fh = io.open(file, "r")
  if not fh then
    return ""
  end
  local n, text = 0, ""
  for line in fh:lines() do
    n = n + 1
    if n == lineno then
      text = line:match("^%s*(.-)%s*$")
      break
    end
  end
  fh:close()
  return text
end

--- A traceback in Python's format (Twisted's `getTraceback()`):
-- `Traceback (most recent call last):`, the frames, `qual.Name: message`.
-- @treturn string
function Failure:getTraceback()
  local frames = self:getFrames()
  local out = { "Traceback (most recent call last):\n" }
  if #frames > 0 then
    out[#out + 1] = "--- <exception caught here> ---\n"
    for _, fr in ipairs(frames) do
      out[#out + 1] = format('  File "%s", line %d, in %s\n    %s\n',
        fr.file, fr.line, fr.name, sourceLine(fr.file, fr.line))
    end
  else
    out[#out + 1] = "Failure: "
  end
  out[#out + 1] = typeName(self) .. ": " .. self:getErrorMessage() .. "\n"
  return table.concat(out)
end

--- The first of the given classes that the error is an instance of.
-- @tparam table ... classes
-- @treturn table|nil the matching class, or nil
function Failure:check(...)
  local value = self.value
  for i = 1, select("#", ...) do
    local cls = select(i, ...)
    if class.isinstance(value, cls) then
      return cls
    end
  end
  return nil
end

--- Like `check`, but raises the Failure itself (`error(self, 0)`) when
-- nothing matches, so that in an errback the failure passes on unchanged.
-- @tparam table ... classes
-- @treturn table the matching class
function Failure:trap(...)
  local cls = self:check(...)
  if cls == nil then
    error(self, 0)
  end
  return cls
end

--- Raise the error value itself (`error(value, 0)`). A Deferred that catches
-- it again gets this same Failure back, traceback included.
function Failure:raiseException()
  local v = self.value
  if type(v) == "table" then
    raisedFrom[v] = self
  end
  error(v, 0)
end

function Failure:__tostring()
  return "[Failure instance: " .. self:getBriefTraceback() .. "]"
end

function Failure:__repr()
  return format("<names.defer.Failure %s: %s>", typeName(self), self:getErrorMessage())
end

-- Unhandled-error reporting --------------------------------------------------

-- A watcher is attached to a Deferred only while its chain ends in a
-- Failure; when the Deferred is collected, so is the watcher, and its
-- finalizer reports the failure unless it was disarmed meanwhile.
local Watcher = {}

local function reportUnhandled(failure)
  local ok, text = pcall(tostring, failure)
  if not ok then
    text = "[Failure instance: <tostring failed: " .. tostring(text) .. ">]"
  end
  pcall(function()
    io.stderr:write("Unhandled error in Deferred:\n", text, "\n")
  end)
end

function Watcher.__gc(w)
  local failure = w.failure
  if failure then
    w.failure = nil
    reportUnhandled(failure)
  end
end

local function disarm(d)
  local w = d._watch
  if w then
    w.failure = nil
    d._watch = nil
  end
end

-- Attach (or update) the watcher of a Deferred whose chain ends in a Failure.
local function arm(d)
  local w = d._watch
  if w then
    w.failure = d.result
  else
    d._watch = setmetatable({ failure = d.result }, Watcher)
  end
end

-- Deferred -------------------------------------------------------------------

local Deferred = { __name = "Deferred", paused = 0, _i = 1 }
Deferred.__index = Deferred

-- Metatables whose instances are Deferreds.
local isDeferredMeta = { [Deferred] = true }

--- Whether a value is a Deferred (or a DeferredList).
-- @param v
-- @treturn boolean
function M.isDeferred(v)
  return isDeferredMeta[getmetatable(v)] == true
end

-- Layout, tuned because every query pays for it. Callbacks live in the
-- Deferred's own array part, four slots per entry: callback, errback,
-- callback args, errback args. `false` in a function slot passes the result
-- through; `false` in an args slot means no extra arguments. `_n` is the
-- last slot used; `_i`, the next slot to run, is stored only while a run is
-- interrupted (else it is 1, from the metatable). The constructor sizes the
-- table for two callbacks (a lookup's Deferred mostly gets a callback and
-- an errback: a fifth slot grew the array, a rehash that cost more than the
-- four slots) and for the fields every Deferred gets (`called`,
-- `result`, `_n`, `_running`, `_canceller`), so that the common path never
-- rehashes: `result = nil` stores nothing, but Lua counts it when it sizes
-- the table (five fields: room for eight).
local CONTINUE = {}

local function newDeferred(meta, canceller)
  return setmetatable({ nil, nil, nil, nil, nil, nil, nil, nil,
    called = false, _n = 0, _running = false, _canceller = canceller, result = nil }, meta)
end

local function checkCallable(f, n, fname)
  if not class.iscallable(f) then
    argcheck.error(n, fname, "function expected, got " .. type(f), 2)
  end
end

local function isDeferred(d)
  return type(d) == "table" and type(d.addCallbacks) == "function"
end

local function checkDeferred(d, n, fname)
  if not isDeferred(d) then
    argcheck.error(n, fname, "Deferred expected, got " .. type(d), 2)
  end
end

local function checkOptTable(t, n, fname)
  if t ~= nil and type(t) ~= "table" then
    argcheck.error(n, fname, "table or nil expected, got " .. type(t), 2)
  end
end

-- A Deferred, its canceller taken as it is: the library's own (a lookup
-- makes one) needs no test.
local function withCanceller(canceller)
  return setmetatable({ nil, nil, nil, nil, nil, nil, nil, nil,
    called = false, _n = 0, _running = false, _canceller = canceller, result = nil }, Deferred)
end
M._withCanceller = withCanceller

--- Create a Deferred.
-- @tparam[opt] function canceller called as `canceller(d)` by `d:cancel()`
-- @treturn Deferred
function M.Deferred(canceller)
  if canceller ~= nil and type(canceller) ~= "function" then
    checkCallable(canceller, 1, "Deferred")
  end
  return withCanceller(canceller)
end

local function append(d, cb, eb, cbArgs, ebArgs)
  local n = d._n
  d[n + 1], d[n + 2], d[n + 3], d[n + 4] = cb, eb, cbArgs, ebArgs
  d._n = n + 4
end

-- Make d wait on the unfired (or paused) Deferred r.
local function waitOn(d, r)
  d.paused = d.paused + 1
  d._chainedTo = r
  append(r, CONTINUE, CONTINUE, d, d)
end

-- The result r of a callback of d is a Deferred: take its result if it has
-- one, else make d wait on it. Returns true when d must stop running.
local function chainResult(d, r)
  if r == d then
    d.result = newFailure(class.TypeError("a callback returned the Deferred it was attached to"))
    return false
  end
  local rr = r.result
  if not r.called or r.paused > 0 or isDeferredMeta[getmetatable(rr)] then
    waitOn(d, r)
    return true
  end
  r.result = nil
  disarm(r)
  d.result = rr
  return false
end

-- Hand d's result to the Deferred that waited on it.
local function handOver(d, chainee)
  chainee.result = d.result
  d.result = nil
  disarm(d)
  chainee.paused = chainee.paused - 1
  chainee._chainedTo = nil
end

-- Twisted's _runCallbacks. Runs the callbacks of `self`; when a
-- continuation hands a result to a Deferred that waited on this one, that
-- Deferred's callbacks run next, in this same loop (`chain` is the way
-- back), so that long chains need no deep stack. `failed` may tell whether
-- self's result is a Failure (the caller knows it), saving a test.
--
-- The loop is written out in one function because every query goes through
-- it. Slots of callbacks that have run are not cleared one by one (`_n` is
-- reset instead): they stay referenced until reused or until the Deferred
-- is collected. Continuation slots, which point at other Deferreds, are.
local function runCallbacks(self, failed)
  if self._running then
    return
  end
  local chain, depth, d = nil, 0, self
  while true do
    if d.paused > 0 then
      return
    end
    if failed == nil then
      failed = getmetatable(d.result) == Failure
    end
    local wasFailed, nextD = failed, nil
    local i0, n = d._i, d._n
    local i = i0
    while i < n do
      local fn, args
      if failed then
        fn, args = d[i + 1], d[i + 3]
      else
        fn, args = d[i], d[i + 2]
      end
      i = i + 4
      if fn == CONTINUE then
        d[i - 4], d[i - 3], d[i - 2], d[i - 1] = nil, nil, nil, nil
        handOver(d, args)
        nextD = args
        break
      elseif fn then
        d._running = true
        local _, r
        if args then
          _, r = xpcall(fn, handler, d.result, unpack(args, 1, args.n))
        else
          _, r = xpcall(fn, handler, d.result)
        end
        d._running = false
        d.result = r
        local mt = getmetatable(r)
        if isDeferredMeta[mt] then
          if chainResult(d, r) then
            failed = false
            break
          end
          mt = getmetatable(d.result)
        end
        failed = mt == Failure
      end
      n = d._n
    end
    if i < d._n then
      d._i = i
    else
      d._n = 0
      if i0 ~= 1 then
        d._i = nil
      end
    end
    if nextD then
      depth = depth + 1
      chain = chain or {}
      chain[depth] = d
      d, failed = nextD, nil
    else
      if failed then
        arm(d)
      elseif wasFailed then
        disarm(d)
      end
      if depth == 0 then
        return
      end
      d, failed = chain[depth], nil
      chain[depth] = nil
      depth = depth - 1
    end
  end
end

-- The rare ends of `fire`'s fast path: a callback returned a Deferred,
-- or added more callbacks. The general loop takes over at entry i (the
-- entries before it have run).
local function afterFast(d, i, r, mt)
  d._i = i
  if isDeferredMeta[mt] and chainResult(d, r) then
    if i > d._n then
      d._n, d._i = 0, nil
    end
    return
  end
  runCallbacks(d)
end

-- An entry added to a Deferred that has fired (every answer from the hosts
-- file or the cache is a fired Deferred given its callbacks). When the
-- Deferred is idle (not paused, not running, nothing queued) the function
-- for its result's path runs at once, without an entry and without
-- runCallbacks's loop; a Deferred that function returns, or callbacks it
-- adds, hand over to the general loop as in runPlain. Otherwise the entry
-- queues and the general loop runs. `false` for a function or its
-- arguments: none.
local function addFired(self, callback, errback, callbackArgs, errbackArgs)
  if self._n ~= 0 or self._running or self.paused ~= 0 then
    append(self, callback, errback, callbackArgs, errbackArgs)
    runCallbacks(self)
    return self
  end
  local wasFailed = getmetatable(self.result) == Failure
  local fn, args = callback, callbackArgs
  if wasFailed then
    fn, args = errback, errbackArgs
  end
  if not fn then
    return self -- the result passes this entry by
  end
  self._running = true
  local _, r
  if args then
    _, r = xpcall(fn, handler, self.result, unpack(args, 1, args.n))
  else
    _, r = xpcall(fn, handler, self.result)
  end
  self._running = false
  self.result = r
  local mt = getmetatable(r)
  if isDeferredMeta[mt] or self._n ~= 0 then
    if wasFailed then
      disarm(self)
    end
    afterFast(self, 1, r, mt)
  elseif mt == Failure then
    arm(self)
  elseif wasFailed then
    disarm(self)
  end
  return self
end

--- Add a callback and an errback.
-- @tparam function callback called as `callback(result, table.unpack(callbackArgs))`
-- @tparam[opt] function errback called as `errback(failure, table.unpack(errbackArgs))`;
--   nil passes failures on
-- @tparam[opt] table callbackArgs extra arguments (`n` honoured)
-- @tparam[opt] table errbackArgs extra arguments (`n` honoured)
-- @treturn Deferred self
function Deferred:addCallbacks(callback, errback, callbackArgs, errbackArgs)
  -- functions pass without a call: this runs for every lookup
  if type(callback) ~= "function" then
    checkCallable(callback, 1, "addCallbacks")
  end
  if errback ~= nil and type(errback) ~= "function" then
    checkCallable(errback, 2, "addCallbacks")
  end
  -- inline, not checkOptTable: this runs for every Deferred a lookup makes
  if (callbackArgs ~= nil and type(callbackArgs) ~= "table")
      or (errbackArgs ~= nil and type(errbackArgs) ~= "table") then
    checkOptTable(callbackArgs, 3, "addCallbacks")
    checkOptTable(errbackArgs, 4, "addCallbacks")
  end
  if self.called then
    return addFired(self, callback, errback or false, callbackArgs or false, errbackArgs or false)
  end
  local n = self._n
  self[n + 1], self[n + 2], self[n + 3], self[n + 4] = callback, errback or false, callbackArgs or false,
    errbackArgs or false
  self._n = n + 4
  return self
end

--- Add a callback: `f(result, ...)`; failures pass it by.
-- @tparam function f
-- @param ... extra arguments for f
-- @treturn Deferred self
function Deferred:addCallback(f, ...)
  if type(f) ~= "function" then
    checkCallable(f, 1, "addCallback")
  end
  local args = false
  if select("#", ...) > 0 then
    args = pack(...)
  end
  if self.called then
    return addFired(self, f, false, args, false)
  end
  local n = self._n
  self[n + 1], self[n + 2], self[n + 3], self[n + 4] = f, false, args, false
  self._n = n + 4
  return self
end

--- Add an errback: `f(failure, ...)`; results pass it by.
-- @tparam function f
-- @param ... extra arguments for f
-- @treturn Deferred self
function Deferred:addErrback(f, ...)
  if type(f) ~= "function" then
    checkCallable(f, 1, "addErrback")
  end
  local args = select("#", ...) > 0 and pack(...) or false
  if self.called then
    return addFired(self, false, f, false, args)
  end
  append(self, false, f, false, args)
  return self
end

--- Add a function as both callback and errback: `f(resultOrFailure, ...)`.
-- @tparam function f
-- @param ... extra arguments for f
-- @treturn Deferred self
function Deferred:addBoth(f, ...)
  if type(f) ~= "function" then
    checkCallable(f, 1, "addBoth")
  end
  local args = select("#", ...) > 0 and pack(...) or false
  if self.called then
    return addFired(self, f, f, args, args)
  end
  local n = self._n
  self[n + 1], self[n + 2], self[n + 3], self[n + 4] = f, f, args, args
  self._n = n + 4
  return self
end

-- A second callback/errback: silently eaten once after a cancel without
-- canceller (the operation may still complete), else AlreadyCalledError.
local function alreadyCalled(self)
  if self._suppressAlreadyCalled then
    self._suppressAlreadyCalled = nil
    return
  end
  error(M.AlreadyCalledError(), 3)
end

-- Runs the callbacks from the first entry on, while they stay plain:
-- the first continuation (another Deferred waiting on this one), a
-- Deferred returned by a callback or a callback added meanwhile hands over
-- to runCallbacks, which does what it would have done from there. Most
-- Deferreds fire once with a few plain callbacks (a lookup's user adds one
-- or two): those run here, without the general loop's
-- bookkeeping. `self` has fired, is not paused or running, and no entry
-- of it has run. (A callback added after the firing takes addFired's
-- way; running this loop there gained nothing over the general one.)
local function runPlain(self, result, failed)
  local n = self._n
  local wasFailed = failed
  local i = 1
  -- running from the first callback to the last: a callback that adds
  -- another must not start the general loop under this one
  self._running = true
  while i < n do
    local fn, args
    if failed then
      fn, args = self[i + 1], self[i + 3]
    else
      fn, args = self[i], self[i + 2]
    end
    if fn == CONTINUE then
      self._running = false
      self._i = i
      return runCallbacks(self, failed)
    end
    i = i + 4
    if fn then
      local _, r
      if args then
        _, r = xpcall(fn, handler, result, unpack(args, 1, args.n))
      else
        _, r = xpcall(fn, handler, result)
      end
      self.result = r
      result = r
      local mt = getmetatable(r)
      if isDeferredMeta[mt] or self._n ~= n then
        self._running = false
        if wasFailed then
          disarm(self) -- the failure it held is gone; the general loop arms a new one
        end
        return afterFast(self, i, r, mt)
      end
      failed = mt == Failure
    end
  end
  self._running = false
  self._n = 0
  if failed then
    arm(self)
  elseif wasFailed then
    disarm(self)
  end
end

-- First firing.
local function fire(self, result, failed)
  self.called = true
  self.result = result
  local n = self._n
  if n == 0 or self.paused > 0 then
    if n > 0 or failed then
      runCallbacks(self, failed)
    end
    return
  end
  runPlain(self, result, failed)
end

--- Fire the Deferred with a result (a Failure result takes the errback path).
-- Raises `AlreadyCalledError` if it has already fired.
-- @param result anything but a Deferred
function Deferred:callback(result)
  if self.called then
    return alreadyCalled(self)
  end
  local mt = getmetatable(result)
  if isDeferredMeta[mt] then
    argcheck.error(1, "callback", "a Deferred cannot be a result; return it from a callback to chain it")
  end
  fire(self, result, mt == Failure)
end

--- Fire the Deferred with a failure. Raises `AlreadyCalledError` if it
-- has already fired.
-- @param[opt] failure a Failure, or an error value to wrap in one (nil: a
--   Failure of `Exception()`)
function Deferred:errback(failure)
  if self.called then
    return alreadyCalled(self)
  end
  if getmetatable(failure) ~= Failure then
    failure = newFailure(failure)
  end
  fire(self, failure, true)
end

--- Stop running callbacks until `unpause`.
function Deferred:pause()
  self.paused = self.paused + 1
end

--- Undo one `pause`; at zero, run what was held back.
function Deferred:unpause()
  self.paused = self.paused - 1
  if self.paused == 0 and self.called then
    runCallbacks(self)
  end
end

--- Cancel: call the canceller; if the Deferred has still not fired, errback
-- with `CancelledError`. A Deferred waiting on another cancels that one.
function Deferred:cancel()
  if not self.called then
    local canceller = self._canceller
    if canceller then
      canceller(self)
    else
      self._suppressAlreadyCalled = true
    end
    if not self.called then
      self:errback(newFailure(M.CancelledError()))
    end
  elseif isDeferredMeta[getmetatable(self.result)] then
    self.result:cancel()
  end
end

--- Make `d` fire with this Deferred's result: `self:addCallbacks(d.callback, d.errback)`.
-- @tparam Deferred d
-- @treturn Deferred self
function Deferred:chainDeferred(d)
  checkDeferred(d, 1, "chainDeferred")
  d._chainedTo = self
  local function pass(r)
    d._chainedTo = nil
    d:callback(r)
  end
  return self:addCallbacks(pass, pass)
end

local function cancelledToTimedOutError(value, timeout)
  if getmetatable(value) == Failure then
    value:trap(M.CancelledError)
    error(M.TimeoutError(timeout, "Deferred"), 0)
  end
  return value
end

--- Cancel the Deferred after `timeout` seconds unless it has fired; it
-- then fails with `TimeoutError` (unless `onTimeoutCancel` says otherwise).
-- Covers the callbacks added before this call only.
-- @tparam number timeout seconds
-- @param clock Twisted's IReactorTime: a table whose `callLater` field is
--   called as `clock.callLater(seconds, f)` (a plain function, as
--   `names.reactor.callLater`) and returns a call with `call:cancel()` (and
--   optionally `call:active()`); `names.reactor` itself is one
-- @tparam[opt] function onTimeoutCancel `f(value, timeout)` run on the
--   result after a timeout; the default turns `CancelledError` into
--   `TimeoutError`
-- @treturn Deferred self
function Deferred:addTimeout(timeout, clock, onTimeoutCancel)
  if type(timeout) ~= "number" or timeout ~= timeout then
    argcheck.error(1, "addTimeout", "seconds expected, got " .. (type(timeout) == "number" and "nan" or type(timeout)))
  end
  argcheck.expect(2, "addTimeout", type(clock) == "table" and type(clock.callLater) == "function",
    "a clock with callLater", clock)
  if onTimeoutCancel ~= nil then
    checkCallable(onTimeoutCancel, 3, "addTimeout")
  end
  local timedOut, done = false, false
  local call = clock.callLater(timeout, function()
    timedOut = true
    self:cancel()
  end)
  self:addBoth(function(value)
    if timedOut then
      return (onTimeoutCancel or cancelledToTimedOutError)(value, timeout)
    end
    return value
  end)
  return self:addBoth(function(result)
    if not timedOut and not done then
      done = true
      if call.active == nil or call:active() then
        call:cancel()
      end
    end
    return result
  end)
end

local function deferredTostring(d)
  local s = "<" .. getmetatable(d).__name .. " at " .. address(d)
  if d._chainedTo then
    s = s .. " waiting on Deferred at " .. address(d._chainedTo)
  elseif d.called then
    s = s .. " current result: " .. repr.value(d.result)
  end
  return s .. ">"
end

Deferred.__tostring = deferredTostring

-- Module functions -----------------------------------------------------------

--- A Deferred that has already fired with `result`.
-- @param result
-- @treturn Deferred
function M.succeed(result)
  local mt = getmetatable(result)
  if mt == Failure or isDeferredMeta[mt] then
    local d = newDeferred(Deferred)
    d:callback(result) -- errback path, or the error for a Deferred
    return d
  end
  -- what callback() leaves on a Deferred with no callbacks, made at once:
  -- every answer from the hosts file or the cache comes this way
  return setmetatable({ nil, nil, nil, nil, nil, nil, nil, nil,
    called = true, _n = 0, _running = false, result = result }, Deferred)
end

--- A Deferred that has already failed.
-- @param[opt] failure a Failure or an error value
-- @treturn Deferred
function M.fail(failure)
  local d = newDeferred(Deferred)
  d:errback(failure)
  return d
end

--- Call `f(...)`; a Deferred that fires with its result or fails with what
-- it raised.
-- @tparam function f
-- @treturn Deferred
function M.execute(f, ...)
  local ok, r = xpcall(f, handler, ...)
  if not ok then
    return M.fail(r)
  end
  return M.succeed(r)
end

--- Call `f(...)`, which may return a Deferred: a Deferred is returned as it
-- is, a Failure or a raised error gives a failed Deferred, anything else a
-- fired one.
-- @tparam function f
-- @treturn Deferred
function M.maybeDeferred(f, ...)
  local ok, r = xpcall(f, handler, ...)
  if not ok or getmetatable(r) == Failure then
    return M.fail(r)
  elseif isDeferredMeta[getmetatable(r)] then
    return r
  end
  return M.succeed(r)
end

-- DeferredList and gatherResults ---------------------------------------------

local DeferredList = { __name = "DeferredList", __tostring = deferredTostring }
DeferredList.__index = DeferredList
setmetatable(DeferredList, { __index = Deferred })
isDeferredMeta[DeferredList] = true

local function cbDeferred(result, dl, index, succeeded)
  dl.resultList[index] = repr.astuple({ succeeded, result })
  dl.finishedCount = dl.finishedCount + 1
  if not dl.called then
    if succeeded and dl.fireOnOneCallback then
      dl:callback(repr.astuple({ result, index }))
    elseif not succeeded and dl.fireOnOneErrback then
      dl:errback(newFailure(M.FirstError(result, index)))
    elseif dl.finishedCount == #dl._deferredList then
      dl:callback(dl.resultList)
    end
  end
  if not succeeded and dl.consumeErrors then
    return nil
  end
  return result
end

--- Collect the results of several Deferreds. Fires with a list of
-- `{ok, value}` pairs, in the order of `list` (`ok` a boolean, `value` the
-- result or Failure; the pairs print as Python tuples).
-- @tparam {Deferred,...} list
-- @tparam[opt] table opts `fireOnOneCallback` (fire with `{result, index}`
--   on the first success), `fireOnOneErrback` (fail with `FirstError` on
--   the first failure), `consumeErrors` (the listed Deferreds continue with
--   nil instead of their failure); indexes are 1-based
-- @tparam string fname the public function's name, for the errors it raises
-- @treturn DeferredList a Deferred; cancelling it cancels every listed one
local function deferredList(list, opts, fname)
  argcheck.check(1, fname, list, "table", "a list of Deferreds", 2)
  argcheck.expect(2, fname, opts == nil or type(opts) == "table", "table or nil", opts, 2)
  opts = opts or {}
  local copy = {}
  for i = 1, #list do
    if not isDeferred(list[i]) then
      argcheck.error(1, fname, format("Deferred expected at index %d, got %s", i, type(list[i])), 2)
    end
    copy[i] = list[i]
  end
  local dl = newDeferred(DeferredList)
  dl._deferredList = copy
  dl.resultList = {}
  if #copy == 0 and not opts.fireOnOneCallback then
    dl:callback(dl.resultList)
  end
  dl.fireOnOneCallback = opts.fireOnOneCallback and true or false
  dl.fireOnOneErrback = opts.fireOnOneErrback and true or false
  dl.consumeErrors = opts.consumeErrors and true or false
  dl.finishedCount = 0
  for i, d in ipairs(copy) do
    d:addCallbacks(cbDeferred, cbDeferred, { dl, i, true, n = 3 }, { dl, i, false, n = 3 })
  end
  return dl
end

function M.DeferredList(list, opts)
  return (deferredList(list, opts, "DeferredList"))
end

--- Cancel every listed Deferred, unless the list has fired already.
function DeferredList:cancel()
  if self.called then
    return
  end
  for _, d in ipairs(self._deferredList) do
    local ok, err = pcall(d.cancel, d)
    if not ok then
      pcall(function()
        io.stderr:write("Exception raised from user supplied canceller\n", tostring(err), "\n")
      end)
    end
  end
end

local function parseResults(resultList)
  local values = { n = #resultList }
  for i, pair in ipairs(resultList) do
    values[i] = pair[2]
  end
  return values
end

--- A Deferred firing with the list of the results (`n` set, as results can
-- be nil), or failing with `FirstError` at the first failure.
-- @tparam {Deferred,...} list
-- @tparam[opt] table opts `consumeErrors` as in `DeferredList`
-- @treturn Deferred
function M.gatherResults(list, opts)
  checkOptTable(opts, 2, "gatherResults")
  local consume = opts and opts.consumeErrors
  local d = deferredList(list, { fireOnOneErrback = true, consumeErrors = consume }, "gatherResults")
  return d:addCallback(parseResults)
end

-- inlineCallbacks ------------------------------------------------------------

-- Raising a Failure at the point where a coroutine yielded: a one-shot
-- return hook on that coroutine. The first return event after the resume is
-- that of coroutine.yield, and the hook raises there.
local throwing = setmetatable({}, { __mode = "k" })

local function throwHook()
  local co = corunning()
  local t = throwing[co]
  throwing[co] = nil
  if type(t.hook) == "function" then
    debug.sethook(co, t.hook, t.mask, t.count)
  else
    debug.sethook(co)
  end
  error(t.failure, 0)
end

local function armThrow(co, failure)
  local hook, mask, count = debug.gethook(co)
  throwing[co] = { failure = failure, hook = hook, mask = mask, count = count }
  debug.sethook(co, throwHook, "r")
end

local drive

local function finish(st, ok, value)
  local target = st.deferred
  if not ok then
    target:errback(coroutineFailure(value, st.co))
  elseif isDeferredMeta[getmetatable(value)] then
    value:chainDeferred(target)
  else
    target:callback(value)
  end
end

local function resumeWith(st, value)
  local co = st.co
  if getmetatable(value) == Failure then
    armThrow(co, value)
    return coresume(co)
  end
  return coresume(co, value)
end

local function gotResult(result, st)
  if st.waiting then
    st.waiting = false
    st.got = result
  else
    st.waitingOn = nil
    drive(st, resumeWith(st, result))
  end
end

-- Run the coroutine until it waits on a Deferred that has not fired, or
-- ends. Deferreds that have fired are handled in this loop, not by
-- recursion, so a long run of them costs no stack.
drive = function(st, ok, y)
  local co = st.co
  while costatus(co) ~= "dead" do
    if isDeferredMeta[getmetatable(y)] then
      st.waiting = true
      append(y, gotResult, gotResult, st.args, st.args)
      if y.called then
        runCallbacks(y)
      end
      if st.waiting then
        st.waiting = false
        st.waitingOn = y
        return
      end
      y = st.got
      st.got = nil
    end
    ok, y = resumeWith(st, y)
  end
  finish(st, ok, y)
end

local cancelInline

local function inlineDeferred(st)
  return newDeferred(Deferred, function(d)
    cancelInline(st, d)
  end)
end

-- Cancelling the Deferred of an inlineCallbacks cancels what the coroutine
-- waits on; the Deferred then follows the coroutine to its end (which is a
-- CancelledError unless the coroutine catches it), as in Twisted.
cancelInline = function(st, d)
  local nd = inlineDeferred(st)
  st.deferred = nd
  d.called = true
  d.result = nd
  waitOn(d, nd)
  local awaited = st.waitingOn
  if awaited then
    awaited:cancel()
  end
end

--- Wrap `fn` so that each call runs `fn(...)` in a new coroutine and
-- returns a Deferred. Inside, `local v = coroutine.yield(d)` waits for the
-- Deferred `d` and gives its result; if `d` fails, its Failure is raised at
-- the yield (catch it with `pcall`; uncaught, it fails the returned Deferred
-- with that same Failure). Yielding anything else gives it straight back.
-- `return v` fires the returned Deferred with v (a returned Deferred is
-- chained); an error fails it. Cancelling the returned Deferred cancels the
-- Deferred the coroutine is waiting on.
-- @tparam function fn
-- @treturn function returning a Deferred
function M.inlineCallbacks(fn)
  checkCallable(fn, 1, "inlineCallbacks")
  return function(...)
    local st = { co = coroutine.create(fn), waiting = false }
    st.args = { st, n = 1 }
    local d = inlineDeferred(st)
    st.deferred = d
    drive(st, coresume(st.co, ...))
    return d
  end
end

return M
