--- Python-style text forms used by the reprs of the whole library (internal).
--
-- `repr.value(v)` is Python's `repr()` for the Lua value that plays the part
-- of a Python one: nil is `None`, booleans `True`/`False`, integers `%d`,
-- floats as Python prints them (shortest round-trip digits, `1e-05`,
-- `1000000000000000.0`, `inf`, `nan`), strings as Python's repr of a `str`,
-- lists `[a, b]`, other tables `{k: v}` with sorted keys. A table whose
-- metatable has `__repr` is printed by it; otherwise one with `__tostring`
-- by `tostring`. So a class whose repr differs from its str (Python's
-- `__repr__` against `__str__`) defines both metamethods.
--
-- `repr.bytes(s)` and friends treat a Lua string as a Python `bytes` object;
-- that is what Twisted Names prints for names and rdata (`_nicebytes`).
-- @module names.repr

local M = {}

local format, concat = string.format, table.concat
local mathtype = math.type

-- Escape tables for bytes: keys are single bytes, values their escapes.
local ESC_SQ, ESC_DQ = {}, {}
for b = 0, 255 do
  local c = string.char(b)
  local e
  if b < 0x20 or b >= 0x7f then
    e = format("\\x%02x", b)
  end
  ESC_SQ[c], ESC_DQ[c] = e, e
end
for c, e in pairs({ ["\t"] = "\\t", ["\n"] = "\\n", ["\r"] = "\\r", ["\\"] = "\\\\" }) do
  ESC_SQ[c], ESC_DQ[c] = e, e
end
ESC_SQ["'"] = "\\'"

local BYTES_SPECIAL = "[\0-\31\\'\127-\255]"

local function quoteFor(s)
  if s:find("'", 1, true) and not s:find('"', 1, true) then
    return '"', ESC_DQ
  end
  return "'", ESC_SQ
end

--- Python's `repr(b)[1:]` for a bytes object: Twisted's `_nicebytes`.
-- @tparam string s the bytes
-- @treturn string e.g. `'abc'`, `'a\x00'`, `"it's"`
function M.bytes(s)
  local q, esc = quoteFor(s)
  return q .. s:gsub(BYTES_SPECIAL, esc) .. q
end

--- Python's `repr(b)` for a bytes object, with the `b`: `b'\x12'`.
-- @tparam string s the bytes
-- @treturn string
function M.bytesrepr(s)
  return "b" .. M.bytes(s)
end

--- Twisted's `_nicebyteslist`: `['a', 'b']`.
-- @tparam {string,...} list
-- @treturn string
function M.byteslist(list)
  local parts = {}
  for i = 1, list.n or #list do
    parts[i] = M.bytes(list[i])
  end
  return "[" .. concat(parts, ", ") .. "]"
end

-- Code points a Python str repr escapes beyond ASCII (an approximation of
-- "not printable": C1 controls, separators other than space, format chars).
local function unprintable(cp)
  return (cp >= 0x80 and cp <= 0xa0) or cp == 0xad or cp == 0x1680
    or (cp >= 0x2000 and cp <= 0x200f) or (cp >= 0x2028 and cp <= 0x202f)
    or (cp >= 0x205f and cp <= 0x2064) or cp == 0x3000 or cp == 0xfeff
    or (cp >= 0xe000 and cp <= 0xf8ff) or (cp >= 0xfff9 and cp <= 0xfffb)
end

local function escapeCodepoint(cp)
  if cp <= 0xff then
    return format("\\x%02x", cp)
  elseif cp <= 0xffff then
    return format("\\u%04x", cp)
  end
  return format("\\U%08x", cp)
end

local function strNonAscii(s, esc)
  local out = {}
  for _, cp in utf8.codes(s) do
    local c = utf8.char(cp)
    if cp < 0x80 then
      out[#out + 1] = esc[c] or c
    elseif unprintable(cp) then
      out[#out + 1] = escapeCodepoint(cp)
    else
      out[#out + 1] = c
    end
  end
  return concat(out)
end

-- Python's repr of a `str`. Exact for ASCII; valid UTF-8 shows printable
-- characters as they are (an approximation of Python's rules); bytes that
-- are not valid UTF-8 print as `\xNN`.
local function strRepr(s)
  local q, esc = quoteFor(s)
  if not s:find("[\128-\255]") or not utf8.len(s) then
    return q .. s:gsub(BYTES_SPECIAL, esc) .. q
  end
  return q .. strNonAscii(s, esc) .. q
end

local function expParts(x)
  local s
  for p = 0, 16 do
    s = format("%." .. p .. "e", x)
    if tonumber(s) == x then
      break
    end
  end
  local sign, d, frac, e = s:match("^(-?)(%d)%.?(%d*)e([-+]%d+)$")
  local digits = (d .. frac):gsub("0+$", "")
  if digits == "" then
    digits = "0"
  end
  return sign, digits, tonumber(e)
end

local function fixedForm(digits, e)
  local k, decpt = #digits, e + 1
  if decpt <= 0 then
    return "0." .. ("0"):rep(-decpt) .. digits
  elseif decpt >= k then
    return digits .. ("0"):rep(decpt - k) .. ".0"
  end
  return digits:sub(1, decpt) .. "." .. digits:sub(decpt + 1)
end

local function sciForm(digits, e)
  local mant = digits:sub(1, 1)
  if #digits > 1 then
    mant = mant .. "." .. digits:sub(2)
  end
  return format("%se%s%02d", mant, e < 0 and "-" or "+", math.abs(e))
end

--- Python's repr of a float.
-- @tparam number x
-- @treturn string
function M.float(x)
  if x ~= x then
    return "nan"
  elseif x == math.huge then
    return "inf"
  elseif x == -math.huge then
    return "-inf"
  elseif x == 0 then
    return (1 / x < 0) and "-0.0" or "0.0"
  end
  local sign, digits, e = expParts(x)
  if e >= -4 and e < 16 then
    return sign .. fixedForm(digits, e)
  end
  return sign .. sciForm(digits, e)
end

-- Whether t is a list: its keys are exactly 1..n, where n is t.n when that
-- is an integer (table.pack), else #t. Returns n, or nil for other tables.
local function listLength(t)
  local n = t.n
  local packed = mathtype(n) == "integer" and n >= 0
  if not packed then
    n = #t
  end
  for k in pairs(t) do
    local inRange = mathtype(k) == "integer" and k >= 1 and k <= n
    if not inRange and not (packed and k == "n") then
      return nil
    end
  end
  return n
end

local valueRepr

local function listRepr(t, n, seen)
  local parts = {}
  for i = 1, n do
    parts[i] = valueRepr(t[i], seen)
  end
  return "[" .. concat(parts, ", ") .. "]"
end

local function dictRepr(t, seen)
  local items = {}
  for k, v in pairs(t) do
    items[#items + 1] = valueRepr(k, seen) .. ": " .. valueRepr(v, seen)
  end
  table.sort(items)
  return "{" .. concat(items, ", ") .. "}"
end

local function tableRepr(t, seen)
  local mt = getmetatable(t)
  if type(mt) == "table" then
    if mt.__repr then
      return mt.__repr(t)
    elseif mt.__tostring then
      return tostring(t)
    end
  end
  if seen[t] then
    return "[...]"
  end
  seen[t] = true
  local n = listLength(t)
  local s = n and listRepr(t, n, seen) or dictRepr(t, seen)
  seen[t] = nil
  return s
end

local function objectRepr(v)
  local mt = getmetatable(v)
  if type(mt) == "table" and mt.__tostring then
    return tostring(v)
  end
  return format("<%s at %p>", type(v), v)
end

valueRepr = function(v, seen)
  local tv = type(v)
  if tv == "string" then
    return strRepr(v)
  elseif tv == "number" then
    if mathtype(v) == "integer" then
      return format("%d", v)
    end
    return M.float(v)
  elseif tv == "nil" then
    return "None"
  elseif tv == "boolean" then
    return v and "True" or "False"
  elseif tv == "table" then
    return tableRepr(v, seen or {})
  end
  return objectRepr(v)
end

--- Python's `repr()` of a Lua value (see the module summary).
-- @param v any value
-- @treturn string
function M.value(v)
  return valueRepr(v)
end

--- Python's `str()` of a Lua value: strings as they are, tables with
-- `__tostring` by it, everything else as `repr.value`.
-- @param v any value
-- @treturn string
function M.str(v)
  if type(v) == "string" then
    return v
  end
  local mt = getmetatable(v)
  if type(mt) == "table" and mt.__tostring then
    return tostring(v)
  end
  return valueRepr(v)
end

--- Python's repr of a list: `[a, b]`.
-- @tparam table list
-- @treturn string
function M.list(list)
  local parts = {}
  for i, v in ipairs(list) do
    parts[i] = valueRepr(v)
  end
  return "[" .. concat(parts, ", ") .. "]"
end

--- Python's repr of a tuple: `(a, b)`, `(a,)`, `()`. Honours `list.n`.
-- @tparam table list
-- @treturn string
function M.tuple(list)
  local n = list.n or #list
  local parts = {}
  for i = 1, n do
    parts[i] = valueRepr(list[i])
  end
  if n == 1 then
    return "(" .. parts[1] .. ",)"
  end
  return "(" .. concat(parts, ", ") .. ")"
end

--- A metatable that makes a list print as a tuple in both `tostring` and
-- `repr.value`; `repr.astuple(t)` sets it.
M.Tuple = {
  __name = "tuple",
  __repr = function(t) return M.tuple(t) end,
  __tostring = function(t) return M.tuple(t) end,
}

--- Give a list the tuple text form (sets `repr.Tuple` as its metatable).
-- @tparam table t
-- @treturn table t
function M.astuple(t)
  return setmetatable(t, M.Tuple)
end

--- The stable hex address of a table or other reference value, `0x...`.
-- @param v
-- @treturn string
function M.address(v)
  local s = format("%p", v)
  if s:sub(1, 2) ~= "0x" then
    s = "0x" .. s
  end
  return s
end

return M
