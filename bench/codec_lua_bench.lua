--- The codec benchmark from Lua: core.decode of the two answers that
-- bench/codec_bench.c writes, into names.dns Message objects (every
-- record a Record_* table with its fields, names as Name objects).
--
--   lua5.4 bench/codec_lua_bench.lua [DIR [ROUNDS [RUNS]]]
--
-- DIR holds ptr-answer.bin and large-answer.bin (default build/bench).
-- For each message: RUNS runs (5) of ROUNDS decodes (200000 for ptr, a
-- fifth for large), the median run in ns per message, printed as
-- "lua core.decode\tptr\tBYTES\tNS" lines like codec_bench's. The
-- collector runs in its default (incremental) mode, as a program's would:
-- its work is part of the cost.
package.path = "lua/?.lua;" .. package.path
package.cpath = "build/?.so;" .. package.cpath

local core = require "names.core"
require "names.dns" -- registers the classes core.decode builds

-- lua5.4 bench/codec_lua_bench.lua --only DIR ptr|large N: N decodes and
-- nothing else, for instruction counts under callgrind; --only-floor the
-- same with the constructors (below).
local only = (arg[1] == "--only" or arg[1] == "--only-floor") and table.remove(arg, 1)
local dir = arg[1] or "build/bench"
local rounds = tonumber(arg[2]) or 200000
local runs = tonumber(arg[3]) or 5

local function read(name)
  local f = assert(io.open(dir .. "/" .. name, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local clock = os.clock
local has_uv, uv = pcall(require, "luv")
if has_uv then clock = function() return uv.hrtime() / 1e9 end end

local decode = core.decode
local function time(msg, n)
  local t0 = clock()
  for _ = 1, n do decode(msg) end
  return (clock() - t0) / n * 1e9
end

local messages = {
  { "ptr", read("ptr-answer.bin"), rounds },
  { "large", read("large-answer.bin"), rounds // 5 },
}
-- check once that both decode to what they should
assert(#decode(messages[1][2]).answers == 1)
assert(#decode(messages[2][2]).answers == 20)

-- A floor for comparison: the same object graph (every table, with its
-- metatable; Name objects shared as decode shares them) built by a Lua
-- function generated for this one message, table constructors with the
-- values as constants -- what making these Lua tables costs before any
-- decoding, at the speed of Lua's own constructors.
local function constructor(m)
  local mts, names, code, nmt = {}, {}, {}, 0
  local function mt_of(t)
    local mt = getmetatable(t)
    if not mt then return nil end
    if not mts[mt] then
      nmt = nmt + 1
      mts[mt] = nmt
    end
    return "M[" .. mts[mt] .. "]"
  end
  local emit
  local function value(v)
    if type(v) == "string" then return ("%q"):format(v) end
    if type(v) ~= "table" then return tostring(v) end
    return emit(v)
  end
  function emit(t)
    local mt = mt_of(t)
    if mt and getmetatable(t).__name == "names.dns.Name" then
      if not names[t] then
        names[t] = "N" .. #code
        code[#code + 1] = ("local %s = setmetatable({ name = %q }, %s)"):format(names[t], t.name, mt)
      end
      -- a fresh Name per message, as decode makes
      return names[t]
    end
    local parts = {}
    for i = 1, #t do parts[#parts + 1] = value(t[i]) end
    for k, v in pairs(t) do
      if type(k) == "string" then parts[#parts + 1] = k .. " = " .. value(v) end
    end
    local ctor = "{ " .. table.concat(parts, ", ") .. " }"
    return mt and ("setmetatable(" .. ctor .. ", " .. mt .. ")") or ctor
  end
  local body = emit(m)
  local src = "local M = ...\nlocal setmetatable = setmetatable\nreturn function()\n"
    .. table.concat(code, "\n") .. "\nreturn " .. body .. "\nend"
  local list = {}
  for mt, i in pairs(mts) do list[i] = mt end
  return assert(load(src, "=constructor"))(list)
end

local function time_copy(msg, n)
  local make = constructor(decode(msg))
  local t0 = clock()
  for _ = 1, n do make() end
  return (clock() - t0) / n * 1e9
end

if only then
  local msg = read(arg[2] .. "-answer.bin")
  local f = only == "--only" and function() decode(msg) end or constructor(decode(msg))
  for _ = 1, tonumber(arg[3]) do f() end
  return
end

local results, floors = {}, {}
for _, m in ipairs(messages) do results[m[1]], floors[m[1]] = {}, {} end
for _ = 1, runs do
  for _, m in ipairs(messages) do
    collectgarbage()
    local r = results[m[1]]
    r[#r + 1] = time(m[2], m[3])
    collectgarbage()
    local f = floors[m[1]]
    f[#f + 1] = time_copy(m[2], m[3])
  end
end
local function median(r)
  table.sort(r)
  return r[(#r + 1) // 2]
end
for _, m in ipairs(messages) do
  print(("lua core.decode\t%s\t%d\t%.0f"):format(m[1], #m[2], median(results[m[1]])))
end
for _, m in ipairs(messages) do
  print(("lua constructors (floor)\t%s\t%d\t%.0f"):format(m[1], #m[2], median(floors[m[1]])))
end
