--- names-dig's bulk input: the lines of a file or of standard input, read
-- as the run needs them (a few thousand ahead at most, so memory stays
-- flat), each read into a question, and the shard a question belongs to.
--
-- A regular file (or standard input redirected from one) is read as the
-- run asks; a pipe or a terminal is watched on the loop, so that answers
-- keep arriving while the writer of the pipe is slow.
-- @module names.diginput

local core = require "names.core"
local dns = require "names.dns"
local options = require "names.digoptions"

local M = {}

local byte, find, format, match, sub = string.byte, string.find, string.format, string.match, string.sub

--- The longest line taken as a question (a name is at most 255 octets
-- written as text with escapes; this leaves room for a type and blanks).
M.maxLine = 1200

-- How much of a file is read at once.
local BLOCK = 1 << 16

-- The type words seen in this run, each with its number: a run of a
-- million "NAME PTR" lines reads "PTR" once. Only words that are types go
-- in, so it holds at most the spellings of the types an input uses.
local typeOfWord = {}

-- Source ----------------------------------------------------------------------

local Source = { __name = "names.diginput.Source" }
Source.__index = Source

--- Opens the input: a path, or "-" for standard input.
-- @tparam string path
-- @tparam[opt=4096] integer ahead how many lines a pipe may buffer
-- @treturn Source|nil
-- @treturn string|nil why it cannot be opened
function M.open(path, ahead)
  local self = setmetatable({ queue = {}, head = 1, tail = 0, eof = false, ahead = ahead or 4096,
    partial = "", path = path, block = "", pos = 1, offset = 0 }, Source)
  if path == "-" then
    local kind = core.repl.fd_kind(0)
    if kind == "file" or kind == "unknown" then
      self.file = io.stdin
    else
      self.fd = 0
    end
  else
    local f, err = io.open(path, "rb")
    if not f then
      return nil, err
    end
    self.file = f
    -- a file that can seek is counted ahead; a pipe given by its path
    -- (names-dig -f <(command)) is read once, as it comes
    self.regular = f:seek("end") ~= nil and f:seek("set", 0) ~= nil
  end
  return self
end

--- Whether a line is a question line (blank lines and comments, `#` or
-- `;` first, are not).
-- @tparam string line
-- @treturn boolean
local function isQuestion(line)
  return find(line, "^%s*[^%s#;]") ~= nil
end
M.isQuestion = isQuestion

-- The first bytes that make a line a question at once (anything but a
-- blank, "#" and ";"); the others are looked at whole.
local questionStart = {}
for b = 33, 255 do
  questionStart[b] = b ~= 35 and b ~= 59 or nil
end

-- The question lines of an open file, counted a block at a time: a line
-- that starts with a letter or digit costs one plain search.
local function countQuestions(f)
  local n, rest = 0, ""
  while true do
    local block = f:read(BLOCK)
    if not block then
      break
    end
    if rest ~= "" then
      block = rest .. block
    end
    local pos = 1
    while true do
      local nl = find(block, "\n", pos, true)
      if not nl then
        break
      end
      if questionStart[byte(block, pos)] or (nl > pos and isQuestion(sub(block, pos, nl - 1))) then
        n = n + 1
      end
      pos = nl + 1
    end
    rest = sub(block, pos)
  end
  if rest ~= "" and isQuestion(rest) then
    n = n + 1
  end
  return n
end

-- The question lines of the file at `path` from byte `offset` on (or
-- the lines `keep` keeps).
local function countFrom(path, offset, keep)
  local f = io.open(path, "rb")
  if not f then
    return nil
  end
  local n
  if f:seek("set", offset) then
    if keep then
      n = 0
      for line in f:lines() do
        if keep(line) then
          n = n + 1
        end
      end
    else
      n = countQuestions(f)
    end
  end
  f:close()
  return n
end

--- How many question lines a regular file has, read once ahead (nil for
-- a pipe). `keep(line)`, when given, decides instead (a shard).
-- @tparam[opt] function keep
-- @treturn integer|nil
function Source:count(keep)
  if not self.regular then
    return nil
  end
  return countFrom(self.path, 0, keep)
end

--- `count` of what is left after the lines read so far (also after
-- `close`): a run that counts as it reads knows its total at the end, or
-- when interrupted, with this.
-- @tparam[opt] function keep
-- @treturn integer|nil
function Source:countRest(keep)
  if not self.regular then
    return nil
  end
  return countFrom(self.path, self.offset + self.pos - 1, keep)
end

-- A line without the CR of a CRLF file.
local function chomp(line)
  if byte(line, -1) == 13 then
    return sub(line, 1, -2)
  end
  return line
end

local function push(self, line)
  self.tail = self.tail + 1
  self.queue[self.tail] = line
end

-- A chunk from the pipe, cut into lines.
local function take(self, data)
  if data == "" then
    self.eof = true
    if self.partial ~= "" then
      push(self, self.partial)
      self.partial = ""
    end
    return
  end
  local s = self.partial .. data
  local start = 1
  while true do
    local nl = s:find("\n", start, true)
    if not nl then
      break
    end
    push(self, s:sub(start, nl - 1))
    start = nl + 1
  end
  self.partial = s:sub(start)
end

function Source:buffered()
  return self.tail - self.head + 1
end

-- Watches the pipe while there is room; `self.wakeup` is called when lines
-- arrive (or the end).
function Source:_watch()
  if self.watch or self.eof or self.closed then
    return
  end
  self.watch = assert(core.repl.watch_fd(self.fd, function()
    local data, err = core.repl.fd_read(self.fd)
    if data == nil and err then
      return -- would block: wait for the next readiness
    end
    take(self, data or "")
    if self.eof or self:buffered() >= self.ahead then
      self.watch:close()
      self.watch = nil
    end
    if self.wakeup then
      self.wakeup()
    end
  end))
end

-- The file's next block, and the line it ends (or the last line).
function Source:_refill()
  local block, pos = self.block, self.pos
  local nl
  repeat
    local more = self.file and self.file:read(BLOCK)
    if not more then
      self.eof = true
      self.offset = self.offset + #block -- all of it read
      self.block, self.pos = "", 1
      if pos > #block then
        return nil
      end
      return chomp(sub(block, pos))
    end
    self.offset = self.offset + pos - 1 -- where the new block starts in the file
    block = sub(block, pos) .. more
    pos = 1
    nl = find(block, "\n", 1, true)
  until nl
  self.block, self.pos = block, 1
  return self:next()
end

--- The next line, or nil: `false` when none is there yet (a pipe; the
-- `wakeup` function is called when there is), nil at the end.
-- @treturn string|false|nil
function Source:next()
  if self.file then
    -- a block at a time, cut at the newlines
    local block, pos = self.block, self.pos
    local nl = find(block, "\n", pos, true)
    if not nl then
      return self:_refill()
    end
    self.pos = nl + 1
    if nl > pos and byte(block, nl - 1) == 13 then -- a CRLF file
      return sub(block, pos, nl - 2)
    end
    return sub(block, pos, nl - 1)
  end
  if self.head > self.tail then
    if self.eof then
      return nil
    end
    self:_watch()
    return false
  end
  local line = self.queue[self.head]
  self.queue[self.head] = nil
  self.head = self.head + 1
  if self:buffered() < self.ahead // 2 then
    self:_watch()
  end
  return line
end

--- The next line read into its question, for bulk mode's loop: `line,
-- name, qtype, qclass, plain`, where `line` is nil at the end and false
-- when a pipe has nothing yet (as `next`), and the rest are what
-- `fields(line)` gives. A common line of a file (`NAME` or `NAME TYPE`)
-- is read into its fields where it lies in the block, without a string of
-- its own: `line` is then true (`lastLine` makes its text when needed).
-- @tparam[opt=A] integer defaultType
-- @return line, then `fields`'s values
function Source:read(defaultType)
  if self.file then
    local pos = self.pos
    local name, word, nextPos = match(self.block, "^(%g+)[ \t]*(%g*)\r?\n()", pos)
    if name and nextPos - pos <= M.maxLine + 1 then
      local b = byte(name)
      if b ~= 35 and b ~= 59 and b ~= 45 then -- no comment, no -x (as in fields)
        local qtype
        if word == "" then
          qtype = defaultType or dns.A
        else
          qtype = typeOfWord[word]
          if not qtype then
            qtype = options.typeNumber(word)
            typeOfWord[word] = qtype
          end
        end
        if qtype then
          self.pos, self.lineAt = nextPos, pos
          return true, name, qtype, dns.IN, true
        end
      end
    end
  end
  local line = self:next()
  if not line then
    return line
  end
  return line, M.fields(line, defaultType)
end

--- The text of the line `read` last gave as true.
-- @treturn string
function Source:lastLine()
  local line = sub(self.block, self.lineAt, self.pos - 2)
  if byte(line, -1) == 13 then
    return sub(line, 1, -2)
  end
  return line
end

--- Stops reading.
function Source:close()
  self.closed = true
  if self.watch then
    self.watch:close()
    self.watch = nil
  end
  if self.file and self.file ~= io.stdin then
    self.file:close()
  end
  self.file = nil
  self.eof = true
end

-- Questions -------------------------------------------------------------------------

--- Reads one input line: `NAME [TYPE] [CLASS]` or `-x ADDRESS`. Blank lines
-- and lines starting with `#` or `;` are no question (nil).
-- @tparam string line
-- @tparam[opt=A] integer defaultType
-- @treturn table|nil|false `{name =, qtype =, qclass =}`, nil for no question,
--   false for a bad line
-- @treturn string|nil why a line is bad
function M.question(line, defaultType)
  if #line > M.maxLine then
    return false, format("line too long (%d bytes; at most %d)", #line, M.maxLine)
  end
  local first, rest = match(line, "^%s*(%S+)%s*(.*)$")
  if not first or byte(first) == 35 or byte(first) == 59 then -- blank, "#", ";"
    return nil
  end
  if rest ~= "" and not find(rest, "%S") then
    rest = ""
  end
  if rest == "" and first ~= "-x" then -- the common line: a name alone
    return { name = first, qtype = defaultType or dns.A, qclass = dns.IN }
  end
  local words = { first }
  for w in rest:gmatch("%S+") do
    words[#words + 1] = w
  end
  if words[1] == "-x" then
    if #words ~= 2 then
      return false, "'-x' takes one address and nothing else"
    end
    local name, err = options.reverseName(words[2])
    if not name then
      return false, err
    end
    return { name = name, qtype = dns.PTR, qclass = dns.IN }
  end
  local q = { name = words[1], qtype = defaultType or dns.A, qclass = dns.IN }
  for i = 2, #words do
    local w = words[i]
    local t = options.typeNumber(w)
    if t and i == 2 then
      q.qtype = t
    elseif w:upper() == "IN" and i == #words then
      q.qclass = dns.IN
    else
      return false, format("'%s' is not a record type (a line is NAME [TYPE] or -x ADDRESS)", w)
    end
  end
  return q
end


--- `question` for bulk mode's loop, without a table per line: the name,
-- type and class; nil for no question; false and why for a bad line. The
-- common lines (`NAME` and `NAME TYPE` of printable ASCII) take one
-- pattern, and say so: the fourth value is true when the name needs no
-- escapes to be printed (no control bytes). The rest go through
-- `question`.
-- @tparam string line
-- @tparam[opt=A] integer defaultType
-- @treturn string|nil|false
-- @treturn integer|string|nil the type, or why the line is bad
-- @treturn integer|nil the class
-- @treturn boolean|nil whether the name is printable as it is
function M.fields(line, defaultType)
  if #line <= M.maxLine then
    -- %g: a printable byte but the space, so no control bytes either
    local name, word = match(line, "^(%g+)[ \t]*(%g*)$")
    local b = name and byte(name)
    -- not a comment, and not -x (any other name starting with "-" goes the
    -- long way too)
    if b and b ~= 35 and b ~= 59 and b ~= 45 then
      if word == "" then
        return name, defaultType or dns.A, dns.IN, true
      end
      local qtype = typeOfWord[word]
      if not qtype then
        qtype = options.typeNumber(word)
        typeOfWord[word] = qtype
      end
      if qtype then
        return name, qtype, dns.IN, true
      end
    end
  end
  local q, why = M.question(line, defaultType)
  if q then
    return q.name, q.qtype, q.qclass
  end
  return q, why
end

--- FNV-1a of a name, case folded: the same name lands in the same shard on
-- every machine.
-- @tparam string name
-- @treturn integer 0 .. 2^32-1
function M.hash(name)
  local h = 2166136261
  name = name:lower()
  if name:sub(-1) == "." and #name > 1 then
    name = name:sub(1, -2)
  end
  for i = 1, #name do
    h = ((h ~ name:byte(i)) * 16777619) & 0xffffffff
  end
  return h
end

--- Whether the question of `line` is in shard k of n (1 ≤ k ≤ n). Lines
-- that are no question or bad go to shard 1, so each is reported once.
-- @tparam string line
-- @tparam integer k
-- @tparam integer n
-- @treturn boolean
function M.inShard(line, k, n)
  local first, second = line:match("^%s*(%S+)%s*(%S*)")
  if not first then
    return k == 1
  end
  local key = first
  if first == "-x" then
    key = options.reverseName(second) or ""
  end
  if key == "" then
    return k == 1
  end
  return M.hash(key) % n == k - 1
end

return M
