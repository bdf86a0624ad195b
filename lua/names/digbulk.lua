--- names-dig's bulk mode: a file of questions asked as it is read, with a
-- bounded number in flight, an optional rate limit, answers written in the
-- input's order (or as they arrive), a progress line on a terminal and a
-- summary at the end, also after Ctrl-C.
--
-- Memory stays flat: at most `concurrency` questions are in flight, and in
-- ordered mode at most `window` (4 × concurrency) are started past the
-- oldest one not yet written.
--
-- A run of millions spends little beside the library's own lookups: each
-- question lives in a slot table that is used again once its line is
-- written (no tables of its own); its Deferred's callback only notes the
-- end and the time, and the ends that came in one turn of the loop are
-- read, counted, formatted and written together, under one protected call,
-- before the next questions start. An answer's text line is made straight
-- from the result (names.digformat.bulkText); the outcome table that
-- JSON lines, failures and bad lines need is made for those alone.
-- @module names.digbulk

local core = require "names.core"
local defer = require "names.defer"
local dig = require "names.dig"
local digformat = require "names.digformat"
local input = require "names.diginput"
local reactor = require "names.reactor"
local stats = require "names.digstats"

local M = {}

--- How long Ctrl-C waits for the questions in flight (seconds).
M.grace = 2
--- The progress line's redraws: at most this many a second.
M.redrawsPerSecond = 10
--- The output's buffer (bytes) when it is not a terminal.
M.outputBuffer = 1 << 16

local ERASE = "\r\27[K"

-- The loop's clock: read when a question starts and when it ends.
local now = reactor.seconds

local traceback, tostring, type = debug.traceback, tostring, type
local isFailure, CancelledError = defer.isFailure, defer.CancelledError
local fields, inShard, isQuestion = input.fields, input.inShard, input.isQuestion
local start, fill = dig.start, dig.fill
local bulkText = digformat.bulkText

-- The end of a question that was never asked (a bad line).
local BAD = {}

-- The line of a cancelled question's failure.
local function cancelledText(failure)
  local e = failure.value
  return tostring(type(e) == "table" and e.args and e.args[1] or e)
end

--- Runs bulk mode. Returns the exit status: 0, 8 (the input cannot be
-- opened), 10 (an internal error), 130 (interrupted).
-- @tparam table o parsed options (names.digoptions): `file`,
--   `concurrency`, `qps`, `unordered`, `shard`, `json`, `progress`, and the
--   question options
-- @tparam[opt] table out `stdout`, `stderr` (files; default io's)
-- @treturn integer
function M.run(o, out)
  out = out or {}
  local stdout, stderr = out.stdout or io.stdout, out.stderr or io.stderr
  local source, err = input.open(o.file, 4 * o.concurrency)
  if not source then
    stderr:write(("names-dig: couldn't open specified batch file: %s\n"):format(err))
    return dig.EXIT_BATCH
  end
  local shard = o.shard
  local keep = shard and function(line)
    return isQuestion(line) and inShard(line, shard[1], shard[2])
  end

  local ropts = {}
  for k, v in pairs(o) do
    ropts[k] = v
  end
  ropts.maxInflight = o.concurrency > 512 and o.concurrency or nil
  ropts.reportAttempts = o.json or false -- the text lines show no tries
  local resolver = dig.resolverFor(ropts)
  local line1 = o.json and digformat.bulkJSON or digformat.bulkLine
  local textLines = not o.json -- an answer's line made from the result itself
  local concurrency, window = o.concurrency, 4 * o.concurrency
  local ordered = not o.unordered
  local defaultType, qps = o.qtype, o.qps

  local showProgress = o.progress
  if showProgress == nil then
    showProgress = core.repl.fd_kind(2) == "tty"
  end
  -- The progress line shows the total from the start: the file is counted
  -- ahead. Without it the questions are counted as they are read, and what
  -- is left when the run stops early is counted at the end.
  local total = showProgress and source:count(keep) or nil
  local counted = 0 -- the question lines read so far

  local started = reactor.seconds()
  local counters = stats.Stats(total, started)
  local stdoutTTY = core.repl.fd_kind(1) == "tty"
  if stdoutTTY then
    stdout:setvbuf("line")
  else
    stdout:setvbuf("full", M.outputBuffer)
  end
  local eraseFirst = showProgress and stdoutTTY

  local seq, written, lineNo = 0, 0, 0 -- questions started, written; input lines read
  local inflight = 0                   -- started, and their end not yet read
  local slots, free, nfree = {}, {}, 0 -- every slot; those free for a question
  local ring = {}                      -- ordered mode: question n's slot at (n - 1) % window + 1
  local ends, endsHead, endsCount = {}, 1, 0 -- the slots whose question has ended, to read
  local stopping, finished, drawn = false, false, false
  local timer, graceCall, sigint
  local pumping, again, scheduled = false, false, nil
  local waiting -- the delayed call of the rate limit
  local formatting -- the slot whose line is being made: an error there is that line's
  local fault -- an error of this module's own: the run stops, exit 10
  local pump, pumpOnce

  -- A slot: `seq`, `line`, `input`, `name`, `qtype`, `qclass`, `plain` (the
  -- name prints as it is), `error` (a bad line's), `started`, and while the
  -- question is out `d`, then `value` (the result, the failure, or BAD)
  -- and `ended`, then `text`, its line.
  local function newSlot()
    local s = {}
    s.args = { s, n = 1 } -- the callbacks' argument, made once
    slots[#slots + 1] = s
    return s
  end

  local function erase()
    if drawn then
      stderr:write(ERASE)
      drawn = false
    end
  end

  local function finish()
    if finished then
      return
    end
    finished = true
    if timer then
      timer:cancel()
    end
    if scheduled and scheduled:active() then
      scheduled:cancel()
    end
    if graceCall and graceCall:active() then
      graceCall:cancel()
    end
    if sigint then
      sigint:close()
    end
    source:close()
    stdout:flush()
    erase()
    if not counters.total then
      local rest = source:countRest(keep)
      counters.total = rest and counted + rest
    end
    stderr:write(counters:summary(reactor.seconds(), stopping and "interrupted" or nil))
    stderr:flush()
    dig.closeResolver(resolver)
    reactor.stop()
  end

  local function maybeDone()
    if inflight == 0 and (stopping or source.eof) and written == seq then
      finish()
    end
  end

  -- A question's end, from its Deferred (or from the loop, for a bad
  -- line): noted, and read with the others of this turn by the next pump.
  local function ended(v, s)
    s.value = v
    s.ended = now()
    endsCount = endsCount + 1
    ends[endsCount] = s
    if not pumping and not scheduled then
      scheduled = reactor.callLater(0, pump)
    end
  end

  -- Writes a slot's line, in ordered mode with every later one now in
  -- order; a written slot is free for the next question.
  local function output(s)
    if ordered and s.seq ~= written + 1 then
      return -- an earlier line is still to come
    end
    if eraseFirst then
      erase()
    end
    local i = written % window + 1
    repeat
      stdout:write(s.text)
      s.text = nil
      nfree = nfree + 1
      free[nfree] = s
      written = written + 1
      if not ordered then
        return
      end
      ring[i] = false
      i = i % window + 1
      s = ring[i]
    until not (s and s.text)
  end

  -- The line of an end that needs the outcome table: a failure, a bad
  -- line, any JSON line. (`formatting` is set while the line is made: an
  -- error there costs that line alone; one in the counting is the run's.)
  local function outcomeLine(s, v)
    local outcome = { name = s.name, qtype = s.qtype, qclass = s.qclass, line = s.line, input = s.input,
      plain = s.plain }
    if v == BAD then
      outcome.status, outcome.error = "BADINPUT", s.error
      counters:add("BADINPUT")
    elseif isFailure(v) and v:check(CancelledError) then
      outcome.status, outcome.error = "INTERRUPTED", cancelledText(v)
      counters:add("INTERRUPTED")
    else
      outcome.time = s.ended - s.started
      fill(outcome, v, resolver)
      counters:add(outcome.status, outcome.time)
    end
    formatting = s
    return line1(outcome)
  end

  -- Reads the questions that ended, counts them, puts out their lines.
  local function readEnds()
    while endsHead <= endsCount do
      local s = ends[endsHead]
      ends[endsHead] = false
      endsHead = endsHead + 1
      local v = s.value
      s.value, s.d = nil, nil
      inflight = inflight - 1
      if textLines and v ~= BAD and not isFailure(v) then
        counters:add("NOERROR", s.ended - s.started)
        formatting = s
        s.text = bulkText(s.name, s.qtype, "NOERROR", v.answers, s.plain)
      else
        s.text = outcomeLine(s, v)
      end
      formatting = nil
      output(s)
    end
    endsHead, endsCount = 1, 0
  end

  -- A line's own error keeps its message alone; the run's gets a traceback.
  local function handler(e)
    if formatting then
      return e
    end
    return traceback(e, 2)
  end

  -- One protected call for every end of the turn; a line that cannot be
  -- formatted becomes an internal-error line of its own, and the rest go on.
  local function readAllEnds()
    while true do
      local ok, why = xpcall(readEnds, handler)
      if ok then
        break
      end
      local s = formatting
      if not s then
        fault = fault or why
        error(why, 0)
      end
      formatting = nil
      -- one line per question, whatever happens
      s.text = (";; line %d: internal error: %s\n"):format(s.line or 0, (tostring(why):gsub("\n", " ")))
      output(s)
    end
  end

  -- A question of line `lineNo` (`line` its text, or true: see
  -- Source:read); `name` nil, `why` says what is wrong with the line;
  -- `plain`, the name prints as it is.
  local function ask(line, name, qtype, qclass, why, plain)
    seq = seq + 1
    inflight = inflight + 1
    local s
    if nfree > 0 then
      s = free[nfree]
      free[nfree] = nil
      nfree = nfree - 1
    else
      s = newSlot()
    end
    s.seq, s.line, s.input, s.name, s.qtype, s.qclass, s.plain = seq, lineNo, line, name, qtype, qclass, plain
    if ordered then
      ring[(seq - 1) % window + 1] = s
    end
    s.started = now()
    local d
    if name then
      d, why = start(resolver, name, qtype, qclass)
    end
    if d then
      s.d = d
      d:addCallbacks(ended, ended, s.args, s.args)
    else
      if line == true then -- read where it lay: its text, for the JSON line
        s.input = source:lastLine()
      end
      s.error = why
      ended(BAD, s)
    end
  end

  -- Starts what the limits allow; reentrant calls only ask for one more
  -- round.
  pump = function()
    scheduled = nil
    if pumping then
      again = true
      return
    end
    pumping = true
    local ok, why = xpcall(pumpOnce, traceback)
    pumping = false
    if not ok then
      fault = fault or why
      stopping = true
      finish()
      return
    end
    maybeDone()
  end

  pumpOnce = function()
    repeat
      again = false
      if endsCount > 0 then
        readAllEnds()
      end
      while not stopping and inflight < concurrency and (not ordered or seq - written < window) do
        if qps then
          local allowed = math.floor((reactor.seconds() - started) * qps) + 1
          if seq >= allowed then
            if not waiting then
              waiting = reactor.callLater((seq + 1 - allowed) / qps + 0.001, function()
                waiting = nil
                pump()
              end)
            end
            break
          end
        end
        local line, name, qtype, qclass, plain
        if shard then
          line = source:next()
          if line and inShard(line, shard[1], shard[2]) then
            name, qtype, qclass, plain = fields(line, defaultType)
          end
        else
          line, name, qtype, qclass, plain = source:read(defaultType)
        end
        if not line then
          break -- nil: the end; false: a pipe with nothing yet (wakeup calls pump)
        end
        lineNo = lineNo + 1
        if name then
          counted = counted + 1
          ask(line, name, qtype, qclass, nil, plain)
        elseif name == false then
          -- a bad line, but only a question line counts (not an overlong comment)
          if isQuestion(line) then
            counted = counted + 1
          end
          ask(line, nil, nil, nil, qtype)
        end
      end
    until not again and endsCount == 0
  end

  source.wakeup = pump

  local function redraw()
    if finished then
      return
    end
    local text = counters:progress(reactor.seconds())
    if stdoutTTY then
      stdout:flush()
    end
    stderr:write(ERASE, "names-dig: ", text)
    stderr:flush()
    drawn = true
    timer = reactor.callLater(1 / M.redrawsPerSecond, redraw)
  end

  -- The questions in flight, cancelled in the input's order: each gets its
  -- line (INTERRUPTED).
  local function cancelAll()
    local list = {}
    for _, s in ipairs(slots) do
      if s.d and s.value == nil then
        list[#list + 1] = s
      end
    end
    table.sort(list, function(a, b) return a.seq < b.seq end)
    for _, s in ipairs(list) do
      local d = s.d
      if not d.called then
        d:cancel()
      end
    end
  end

  -- Ctrl-C: no more questions; those in flight get `grace` seconds, then
  -- are cancelled (each still gets its line, INTERRUPTED); a second Ctrl-C
  -- cancels them at once.
  sigint = core.repl.watch_signal("SIGINT", function()
    if finished then
      return
    end
    if stopping then
      cancelAll()
      return
    end
    stopping = true
    source:close()
    if waiting then
      waiting:cancel()
      waiting = nil
    end
    graceCall = reactor.callLater(M.grace, cancelAll)
    maybeDone()
  end)

  if showProgress then
    redraw()
  end
  reactor.callLater(0, pump)
  local ok, runErr = pcall(reactor.run)
  if not ok then
    finished = true
    if sigint then
      sigint:close()
    end
    error(runErr, 0)
  end
  stdout:flush()
  if fault then
    stderr:write("names-dig: internal error: ", tostring(fault), "\n")
    return dig.EXIT_INTERNAL
  end
  return stopping and dig.EXIT_INTERRUPTED or dig.EXIT_OK
end

return M
