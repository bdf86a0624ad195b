--- names-dig's bulk mode: a file of questions asked as it is read, with a
-- bounded number in flight, an optional rate limit, answers written in the
-- input's order (or as they arrive), a progress line on a terminal and a
-- summary at the end, also after Ctrl-C.
--
-- Memory stays flat: at most `concurrency` questions are in flight, and in
-- ordered mode at most `window` (4 × concurrency) are started past the
-- oldest one not yet written.
-- @module names.digbulk

local core = require "names.core"
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

local ERASE = "\r\27[K"

-- Whether a question line counts as one (blank lines and comments do not).
local function isQuestion(line)
  return line:find("^%s*[^%s#;]") ~= nil
end

--- Runs bulk mode. Returns the exit status: 0, 8 (the input cannot be
-- opened), 130 (interrupted).
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
  local function keep(line)
    return isQuestion(line) and (not shard or input.inShard(line, shard[1], shard[2]))
  end
  local total = source:count(keep)

  local ropts = {}
  for k, v in pairs(o) do
    ropts[k] = v
  end
  ropts.maxInflight = o.concurrency > 512 and o.concurrency or nil
  ropts.reportAttempts = o.json or false -- the text lines show no tries
  local resolver = dig.resolverFor(ropts)
  local line1 = o.json and digformat.bulkJSON or digformat.bulkLine
  local concurrency, window = o.concurrency, 4 * o.concurrency
  local ordered = not o.unordered

  local started = reactor.seconds()
  local counters = stats.Stats(total, started)
  local showProgress = o.progress
  if showProgress == nil then
    showProgress = core.repl.fd_kind(2) == "tty"
  end
  local stdoutTTY = core.repl.fd_kind(1) == "tty"
  stdout:setvbuf(stdoutTTY and "line" or "full")

  local seq, written, lineNo = 0, 0, 0 -- questions started, written; input lines read
  local inflight, pending = 0, {}      -- in flight: seq → Deferred
  local results = {}                   -- ordered mode: seq → text waiting for earlier ones
  local stopping, finished, drawn = false, false, false
  local timer, graceCall, sigint
  local pumping, again = false, false
  local waiting -- the delayed call of the rate limit
  local pump

  local function erase()
    if drawn then
      stderr:write(ERASE)
      drawn = false
    end
  end

  local function write(text)
    if showProgress and stdoutTTY then
      erase()
    end
    stdout:write(text)
  end

  local function finish()
    if finished then
      return
    end
    finished = true
    if timer then
      timer:cancel()
    end
    if graceCall and graceCall.active and graceCall:active() then
      graceCall:cancel()
    end
    if sigint then
      sigint:close()
    end
    source:close()
    stdout:flush()
    erase()
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

  local function complete(n, outcome)
    counters:add(outcome.status, outcome.status ~= "BADINPUT" and outcome.time or nil)
    local ok, text = pcall(line1, outcome)
    if not ok then
      -- one line per question, whatever happens
      text = (";; line %d: internal error: %s\n"):format(outcome.line or 0, tostring(text):gsub("\n", " "))
    end
    if not ordered then
      write(text)
      written = written + 1
    else
      results[n] = text
      while results[written + 1] do
        written = written + 1
        write(results[written])
        results[written] = nil
      end
    end
  end

  -- The end of question `job` ({n, line number, line, question}): its
  -- outcome, or nil and the failure when it was cancelled.
  local function answered(job, outcome, failure)
    local n = job[1]
    pending[n] = nil
    inflight = inflight - 1
    if outcome then
      outcome.line, outcome.input = job[2], job[3]
    else
      local q, e = job[4], failure.value
      outcome = { name = q.name, qtype = q.qtype, qclass = q.qclass, status = "INTERRUPTED",
        error = tostring(type(e) == "table" and e.args and e.args[1] or e) }
    end
    complete(n, outcome)
    pump()
  end

  -- Starts what the limits allow; reentrant calls (answers that fire at
  -- once, from the hosts file or the cache) only ask for one more round.
  local fault -- an error of this module's own: the run stops, exit 10
  local pumpOnce

  pump = function()
    if pumping then
      again = true
      return
    end
    pumping = true
    local ok, why = xpcall(pumpOnce, debug.traceback)
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
      while not stopping and inflight < concurrency and (not ordered or seq - written < window) do
        if o.qps then
          local allowed = math.floor((reactor.seconds() - started) * o.qps) + 1
          if seq >= allowed then
            if not waiting then
              waiting = reactor.callLater((seq + 1 - allowed) / o.qps + 0.001, function()
                waiting = nil
                pump()
              end)
            end
            break
          end
        end
        local line = source:next()
        if not line then
          break -- nil: the end; false: a pipe with nothing yet (wakeup calls pump)
        end
        lineNo = lineNo + 1
        if not shard or input.inShard(line, shard[1], shard[2]) then
          local q, why = input.question(line, o.qtype)
          if q == false then
            seq = seq + 1
            complete(seq, { status = "BADINPUT", line = lineNo, input = line, error = why })
          elseif q then
            seq = seq + 1
            local n = seq
            inflight = inflight + 1
            local d = dig.ask(resolver, q.name, q.qtype, q.qclass, answered, { n, lineNo, line, q })
            if not d.called then
              pending[n] = d
            end
          end
        end
      end
    until not again
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

  local function cancelAll()
    local list = {}
    for n, d in pairs(pending) do
      list[#list + 1] = { n, d }
    end
    table.sort(list, function(a, b) return a[1] < b[1] end)
    for _, p in ipairs(list) do
      p[2]:cancel()
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
