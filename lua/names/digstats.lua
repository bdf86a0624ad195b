--- names-dig's bulk counters: questions done by status, their times (in
-- log-spaced buckets, so that memory stays flat over millions and the
-- 99th percentile is within 2 %), the progress line and the summary.
-- @module names.digstats

local M = {}

local concat, format, floor, log = table.concat, string.format, math.floor, math.log

local Stats = { __name = "names.digstats.Stats" }
Stats.__index = Stats

-- bucket b holds times in [base^b, base^(b+1)) microseconds; 0 below 1 µs
local base = 1.02
local logBase = log(base)

--- New counters; `total` is the number of questions when known.
-- @tparam[opt] integer total
-- @tparam number now the clock's time at the start (seconds)
-- @treturn Stats
function M.Stats(total, now)
  return setmetatable({ total = total, started = now, done = 0, sum = 0, timed = 0,
    byStatus = {}, buckets = {} }, Stats)
end

--- Counts one finished question.
-- @tparam string status
-- @tparam[opt] number seconds how long it took (none for a bad line)
function Stats:add(status, seconds)
  self.done = self.done + 1
  self.byStatus[status] = (self.byStatus[status] or 0) + 1
  if seconds then
    self.sum = self.sum + seconds
    self.timed = self.timed + 1
    local us = seconds * 1e6
    local b = us < 1 and 0 or floor(log(us) / logBase) + 1
    self.buckets[b] = (self.buckets[b] or 0) + 1
  end
end

--- The mean time, seconds (nil when nothing was timed).
function Stats:mean()
  return self.timed > 0 and self.sum / self.timed or nil
end

--- The time under which a fraction `q` of the questions finished (the
-- upper edge of its bucket), seconds.
-- @tparam number q e.g. 0.99
function Stats:quantile(q)
  if self.timed == 0 then
    return nil
  end
  local keys = {}
  for b in pairs(self.buckets) do
    keys[#keys + 1] = b
  end
  table.sort(keys)
  local want, seen = q * self.timed, 0
  for _, b in ipairs(keys) do
    seen = seen + self.buckets[b]
    if seen >= want then
      return b == 0 and 1e-6 or base ^ b / 1e6
    end
  end
  return base ^ keys[#keys] / 1e6
end

local function clock(seconds)
  seconds = floor(seconds + 0.5)
  local h, m, s = seconds // 3600, seconds // 60 % 60, seconds % 60
  if h > 0 then
    return format("%d:%02d:%02d", h, m, s)
  end
  return format("%d:%02d", m, s)
end

-- 1234567 → "1,234,567"
local function grouped(n)
  local s = tostring(floor(n))
  local out = s:reverse():gsub("(%d%d%d)", "%1,"):reverse()
  return (out:gsub("^,", ""))
end
M.grouped = grouped

-- The statuses other than NOERROR, most frequent first.
local function errorKinds(self)
  local kinds = {}
  for status, n in pairs(self.byStatus) do
    if status ~= "NOERROR" then
      kinds[#kinds + 1] = { status, n }
    end
  end
  table.sort(kinds, function(a, b) return a[2] > b[2] or (a[2] == b[2] and a[1] < b[1]) end)
  local parts = {}
  for i, k in ipairs(kinds) do
    parts[i] = format("%s %s", k[1], grouped(k[2]))
  end
  return parts
end

--- The progress line: done/total, rate, errors by kind, elapsed, ETA.
-- @tparam number now
-- @treturn string
function Stats:progress(now)
  local elapsed = now - self.started
  local rate = elapsed > 0 and self.done / elapsed or 0
  local parts = {}
  if self.total then
    parts[1] = format("%s/%s (%.1f%%)", grouped(self.done), grouped(self.total),
      self.total > 0 and 100 * self.done / self.total or 100)
  else
    parts[1] = format("%s done", grouped(self.done))
  end
  parts[#parts + 1] = format("%s q/s", grouped(rate))
  local errs = errorKinds(self)
  parts[#parts + 1] = #errs > 0 and "errors: " .. concat(errs, ", ") or "no errors"
  parts[#parts + 1] = "elapsed " .. clock(elapsed)
  if self.total and rate > 0 then
    parts[#parts + 1] = "ETA " .. clock((self.total - self.done) / rate)
  end
  return concat(parts, "  ")
end

--- The summary: counts by status, mean and 99th-percentile time.
-- @tparam number now
-- @tparam[opt] string note e.g. "interrupted"
-- @treturn string lines starting with ";;", ending with a newline
function Stats:summary(now, note)
  local elapsed = now - self.started
  local statuses = {}
  for status, n in pairs(self.byStatus) do
    statuses[#statuses + 1] = { status, n }
  end
  table.sort(statuses, function(a, b) return a[2] > b[2] or (a[2] == b[2] and a[1] < b[1]) end)
  local counts = {}
  for i, s in ipairs(statuses) do
    counts[i] = format("%s %s", s[1], grouped(s[2]))
  end
  local lines = {
    format(";; %s questions%s in %.2f s (%s q/s)%s", grouped(self.done),
      self.total and format(" of %s", grouped(self.total)) or "", elapsed,
      grouped(elapsed > 0 and self.done / elapsed or 0), note and (", " .. note) or ""),
    ";; status: " .. (#counts > 0 and concat(counts, ", ") or "none"),
  }
  local mean = self:mean()
  if mean then
    lines[#lines + 1] = format(";; time: mean %.1f ms, p99 %.1f ms", mean * 1000, self:quantile(0.99) * 1000)
  end
  return concat(lines, "\n") .. "\n"
end

return M
