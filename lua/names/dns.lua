--- DNS data objects, as twisted.names.dns has them.
--
-- `Message`, `Query`, `RRHeader`, `Name`, one `Record_*` class per record
-- type, and the type, class, opcode and rcode constants. Messages decoded
-- from the wire are built in C straight into these tables; the record
-- classes are made here from the C core's type table, so that a type's
-- fields are described in one place only.
--
--    local dns = require "names.dns"
--    local m = dns.Message{id = 7, recDes = true}
--    m:addQuery("example.com", dns.MX)
--    local same = dns.Message():fromStr(m:toStr())
--
-- Reprs (`tostring`) are Twisted's, character for character (checked
-- against strings Twisted 22.4 printed, in spec/dns_spec.lua), and
-- `toText()` gives the line dig prints, tabs and all. Where lua-names
-- differs from Twisted, it is on purpose:
--
--  * Names are text, not bytes: `<PTR name=localhost ttl=86400>` as in
--    Twisted, but `Query('example.com', 1, 1)` where Twisted has
--    `Query(b'example.com', 1, 1)`. A name never keeps a final dot:
--    `Name("example.com.").name == "example.com"`.
--  * Types Twisted does not know, but lua-names decodes, print by their
--    mnemonic (`type=RRSIG`, `<Query x HTTPS IN>`), where Twisted prints
--    `UNKNOWN (46)`; a type lua-names does not describe stays `UNKNOWN (n)`.
--  * `<TSIG algorithm=hmac-sha256 ...>` shows the algorithm's name, where
--    Twisted shows its Name object's default repr (an address).
--  * One Message class for both of Twisted's: with EDNS (`ednsVersion`
--    set) a message prints as Twisted's `_EDNSMessage` does; without, as
--    its `Message`. The OPT record never appears in `additional`: EDNS is
--    in the fields `ednsVersion`, `maxSize`, `dnssecOK`, `ednsOptions`. A
--    decoded message without EDNS has `maxSize` 0, as Twisted's decode
--    leaves it.
--  * `Record_NULL()` prints `payload=''` (Twisted: `payload=one`, the
--    tail of `repr(None)`).
--  * A record type's layout holds in the classes BIND gives it (A in IN and
--    HS; AAAA, WKS, SRV, A6, SVCB, HTTPS in IN; TSIG and TKEY in ANY):
--    elsewhere its rdata decodes as an `UnknownRecord`, as dig prints it.
--  * The records of one decoded message share their Name objects when the
--    names are the same (the owner of every record of an answer, mostly):
--    treat Names as values.
--  * Malformed bytes raise a Lua error that says what and where
--    ("malformed DNS message: ... in record 2 of the answer section at
--    offset 45"); Twisted stops silently. A character-string over 255
--    bytes, or a field out of its range, raises when the record is made.
-- @module names.dns

local core = require "names.core"
local repr = require "names.repr"

local M = {}

local concat, format, type, select = table.concat, string.format, type, select
local setmetatable, getmetatable, tostring = setmetatable, getmetatable, tostring
local mathtype = math.type

-- Constants ------------------------------------------------------------------

M.PORT = 53

-- Twisted's own type names, used by the reprs.
M.QUERY_TYPES = {}
M.EXT_QUERIES = { [251] = "IXFR", [252] = "AXFR", [253] = "MAILB", [254] = "MAILA",
  [255] = "ALL_RECORDS" }
M.QUERY_CLASSES = { [1] = "IN", [2] = "CS", [3] = "CH", [4] = "HS", [255] = "ANY" }
M.REV_TYPES, M.REV_CLASSES = {}, {}

M.IN, M.CS, M.CH, M.HS, M.ANY = 1, 2, 3, 4, 255
M.IXFR, M.AXFR, M.MAILB, M.MAILA, M.ALL_RECORDS = 251, 252, 253, 254, 255
M.TKEY = 249

M.OP_QUERY, M.OP_INVERSE, M.OP_STATUS, M.OP_NOTIFY, M.OP_UPDATE = 0, 1, 2, 4, 5

M.OK, M.EFORMAT, M.ESERVER, M.ENAME, M.ENOTIMP, M.EREFUSED = 0, 1, 2, 3, 4, 5
M.EBADVERSION = 16

-- Text helpers -----------------------------------------------------------------

--- The name Twisted's reprs give a type: `A`, `ALL_RECORDS`, `UNKNOWN (65280)`.
-- Types Twisted does not know but lua-names decodes print with their
-- mnemonic (`DS`, `HTTPS`).
-- @tparam integer t
-- @treturn string
function M.typeToText(t)
  return M.QUERY_TYPES[t] or M.EXT_QUERIES[t] or format("UNKNOWN (%d)", t)
end

local function classText(c)
  return M.QUERY_CLASSES[c] or format("UNKNOWN (%d)", c)
end

-- Checks raise without a position; `public` re-raises at the caller of
-- the constructor, so that the message points at the user's line.
local function argError(fname, i, msg)
  error(format("bad argument #%d to '%s' (%s)", i, fname, msg), 0)
end

local function typeError(fname, i, what, expected, got)
  -- a number of the wrong kind is shown: "an integer expected, got 1.5"
  local shown = type(got)
  if shown == "number" and expected == "an integer" then
    shown = got ~= got and "nan" or tostring(got)
  end
  argError(fname, i, format("%s: %s expected, got %s", what, expected, shown))
end

local function public(f)
  return function(...)
    local ok, r = pcall(f, ...)
    if not ok then
      error(r, 2)
    end
    return r
  end
end

-- Name -----------------------------------------------------------------------

local Name = { __name = "names.dns.Name" }
Name.__index = Name

--- A domain name. `Name(text)`; `.name` is the text without a final dot.
-- Names compare without regard to case, as in Twisted.
-- @type Name
M.Name = setmetatable(Name, {
  __call = public(function(_, name)
    if getmetatable(name) == Name then
      name = name.name
    elseif name == nil then
      name = ""
    elseif type(name) ~= "string" then
      argError("Name", 1, "string expected, got " .. type(name))
    end
    local canonical, err = core.name_check(name)
    if not canonical then
      argError("Name", 1, err .. ": '" .. name .. "'")
    end
    return setmetatable({ name = canonical }, Name)
  end),
})

function Name.__eq(a, b)
  return a.name:lower() == b.name:lower()
end

function Name.__tostring(self)
  return self.name
end

function Name.__repr(self)
  return "Name(" .. repr.value(self.name) .. ")"
end

--- The name in lower case, for use as a table key.
-- @treturn string
function Name:lower()
  return self.name:lower()
end

local function toName(v, fname, i, what)
  if getmetatable(v) == Name then
    return v
  elseif v == nil then
    return setmetatable({ name = "" }, Name)
  elseif type(v) ~= "string" then
    typeError(fname, i, what, "a name", v)
  end
  local canonical, err = core.name_check(v)
  if not canonical then
    argError(fname, i, format("%s: %s: '%s'", what, err, v))
  end
  return setmetatable({ name = canonical }, Name)
end

-- Query ----------------------------------------------------------------------

local Query = { __name = "names.dns.Query" }
Query.__index = Query

--- A question: `Query(name, type, cls)` (type defaults to A, cls to IN),
-- or `Query{name = ..., type = ..., cls = ...}`.
-- @type Query
M.Query = setmetatable(Query, {
  __call = public(function(_, name, qtype, cls)
    if type(name) == "table" and getmetatable(name) == nil then
      name, qtype, cls = name.name, name.type, name.cls
    end
    qtype, cls = qtype or 1, cls or 1
    if mathtype(qtype) ~= "integer" or qtype < 0 or qtype > 65535 then
      argError("Query", 2, "type: an integer 0..65535 expected")
    end
    if mathtype(cls) ~= "integer" or cls < 0 or cls > 65535 then
      argError("Query", 3, "cls: an integer 0..65535 expected")
    end
    return setmetatable({ name = toName(name, "Query", 1, "name"), type = qtype, cls = cls }, Query)
  end),
})

function Query.__tostring(self)
  return format("<Query %s %s %s>", self.name.name, M.typeToText(self.type), classText(self.cls))
end

function Query.__repr(self)
  return format("Query(%s, %d, %d)", repr.value(self.name.name), self.type, self.cls)
end

function Query.__eq(a, b)
  return a.name == b.name and a.type == b.type and a.cls == b.cls
end

-- Records ----------------------------------------------------------------------

-- Defaults and checks per field kind (the kinds come from the C type table).
local defaults = {
  u8 = 0, u16 = 0, u32 = 0, u48 = 0, type = 0, time = 0, a6len = 0, rcode = 0,
  ipv4 = "0.0.0.0", ipv6 = "::", a6suffix = "::",
}

local function checkInt(max)
  return function(v, fname, i, what)
    if mathtype(v) ~= "integer" then
      -- 3.0 is 3; 3.5, inf, nan and 2^63 are no integer
      local iv = type(v) == "number" and math.tointeger(v) or nil
      if iv == nil then
        typeError(fname, i, what, "an integer", v)
      end
      v = iv
    end
    if v < 0 or v > max then
      argError(fname, i, format("%s: %d is out of range 0..%d", what, v, max))
    end
    return v
  end
end

local function checkString(v, fname, i, what)
  if type(v) ~= "string" then
    typeError(fname, i, what, "a string", v)
  end
  return v
end

local function checkAddress(family)
  return function(v, fname, i, what)
    checkString(v, fname, i, what)
    local canonical = core.address(v, family)
    if not canonical then
      argError(fname, i, format("%s: bad IPv%d address '%s'", what, family, v))
    end
    return canonical
  end
end

local function checkList(each, oneWillDo)
  return function(v, fname, i, what)
    if type(v) == "string" and oneWillDo then
      return { each(v, fname, i, what) }
    end
    if type(v) ~= "table" then
      typeError(fname, i, what, "a list", v)
    end
    local out = {}
    for k = 1, #v do
      out[k] = each(v[k], fname, i, what .. "[" .. k .. "]")
    end
    return out
  end
end

local function checkParams(v, fname, i, what)
  if type(v) ~= "table" then
    typeError(fname, i, what, "a list of {key=, value=}", v)
  end
  local out = {}
  for k = 1, #v do
    local p = v[k]
    if type(p) ~= "table" then
      typeError(fname, i, what, "a {key=, value=} table", p)
    end
    out[k] = { key = checkInt(65535)(p.key, fname, i, what .. ".key"),
      value = checkString(p.value or "", fname, i, what .. ".value") }
  end
  return out
end

-- A <character-string> and the other length-prefixed fields hold 255 bytes
-- at most: say so when the record is made, not when it is sent.
local function checkShort(v, fname, i, what)
  checkString(v, fname, i, what)
  if #v > 255 then
    argError(fname, i, format("%s: %d bytes, a character-string holds 255 at most", what, #v))
  end
  return v
end

local checks = {
  u8 = checkInt(0xFF), a6len = checkInt(128), u16 = checkInt(0xFFFF), type = checkInt(0xFFFF),
  rcode = checkInt(0xFFFF),
  u32 = checkInt(0xFFFFFFFF), time = checkInt(0xFFFFFFFF), u48 = checkInt(0xFFFFFFFFFFFF),
  name = toName, a6prefix = toName,
  ipv4 = checkAddress(4), ipv6 = checkAddress(6), a6suffix = checkAddress(6),
  string = checkShort, tag = checkShort, salt = checkShort, hash = checkShort,
  strings = checkList(checkShort, true), bitmap = checkList(checkInt(0xFFFF)), params = checkParams,
}

local checkTTL = checkInt(0xFFFFFFFF)

-- Twisted's repr styles (see rrtype.h): r repr, s %s, n _nicebytes,
-- l _nicebyteslist, b repr of bytes, d the field as dig prints it.
local function showStr(v)
  if v == nil then
    return "None"
  elseif getmetatable(v) == Name then
    return v.name
  end
  return tostring(v)
end

local function showRepr(v)
  if type(v) == "string" then
    return repr.bytesrepr(v)
  end
  return repr.value(v)
end

local styles = {
  r = function(v) return showRepr(v) end,
  s = function(v) return showStr(v) end,
  n = function(v) return repr.bytes(v or "") end,
  l = function(v) return repr.byteslist(v or {}) end,
  b = function(v) return repr.bytesrepr(v or "") end,
}

-- Parses "field[=shown]:style" tokens into a list of printers.
local function reprPlan(spec, fieldIndex)
  local plan = {}
  for token in spec:gmatch("%S+") do
    if token == "ttl" then
      plan[#plan + 1] = { field = "ttl", shown = "ttl", style = "r" }
    else
      local field, shown, style = token:match("^([%w]+)=?([%w]*):(%a)$")
      plan[#plan + 1] = { field = field, shown = shown ~= "" and shown or field, style = style,
        index = fieldIndex[field] }
    end
  end
  return plan
end

local function recordTostring(self)
  local cls = getmetatable(self)
  local out = { "<", cls.fancybasename }
  for _, p in ipairs(cls.reprPlan) do
    local text
    if p.style == "d" then
      local ok, t = pcall(core.rdata_text, cls.TYPE, 1, self, p.index)
      text = ok and t or "?"
    else
      text = styles[p.style](self[p.field])
    end
    out[#out + 1] = " " .. p.shown .. "=" .. text
  end
  out[#out + 1] = ">"
  return concat(out)
end

local function valuesEqual(a, b)
  if type(a) == "table" and type(b) == "table" then
    if getmetatable(a) == Name or getmetatable(b) == Name then
      return a == b
    end
    if #a ~= #b then
      return false
    end
    for k, v in pairs(a) do
      if not valuesEqual(v, b[k]) then
        return false
      end
    end
    return true
  end
  return a == b
end

local function recordEq(a, b)
  if getmetatable(a) ~= getmetatable(b) then
    return false
  end
  for _, f in ipairs(getmetatable(a).fields) do
    if not valuesEqual(a[f.name], b[f.name]) then
      return false
    end
  end
  return a.ttl == b.ttl
end

--- The rdata as dig prints it (`10 mail.example.com.`).
-- @treturn string
local recordToText = public(function(self)
  return core.rdata_text(getmetatable(self).TYPE, 1, self)
end)

-- Builds a record from positional arguments or one table of named fields.
local function construct(cls, ...)
  local fields, fname = cls.fields, cls.__name
  local args, named
  local first = ...
  if select("#", ...) == 1 and type(first) == "table" and getmetatable(first) == nil then
    named, args = true, first
  else
    args = { ... }
  end
  local self = {}
  local listFirst = cls.varargs
  local varTTL
  if listFirst and not named then
    -- Record_TXT("a", "b"): every argument is a string of the data, but
    -- for a final integer after them, the ttl (Twisted's keyword; data are
    -- strings, and Record_TXT(5) stays an error)
    local data = { ... }
    if #data > 1 and math.type(data[#data]) == "integer" then
      varTTL = table.remove(data)
    end
    self[fields[1].name] = checks.strings(data, fname, 1, fields[1].name)
  elseif listFirst and named and args[fields[1].name] == nil and #args > 0 then
    self[fields[1].name] = checks.strings({ table.unpack(args) }, fname, 1, fields[1].name)
  end
  for i, f in ipairs(fields) do
    if self[f.name] == nil then
      local v
      if named then v = args[f.name] else v = args[i] end
      local check = checks[f.kind]
      if v == nil then
        v = defaults[f.kind]
        if v == nil then
          if f.kind == "name" or f.kind == "a6prefix" then
            v = toName(nil)
          elseif f.kind == "strings" or f.kind == "bitmap" or f.kind == "params" then
            v = {}
          else
            v = ""
          end
        end
        self[f.name] = v
      else
        self[f.name] = check and check(v, fname, i, f.name) or checkString(v, fname, i, f.name)
      end
    end
  end
  local ttl
  if named then ttl = args.ttl elseif not listFirst then ttl = args[#fields + 1] else ttl = varTTL end
  if ttl ~= nil then
    self.ttl = checkTTL(ttl, fname, #fields + 1, "ttl")
  end
  return setmetatable(self, cls)
end

--- Classes made from the core's type table: `M.Record_A`, ...; `M.A = 1`, ...
local classesByType = {}

local function makeRecordClass(t)
  local fieldIndex = {}
  for i, f in ipairs(t.fields) do
    fieldIndex[f.name] = i
  end
  local cls = {
    __name = "Record_" .. t.cls,
    TYPE = t.type,
    fancybasename = t.cls,
    fields = t.fields,
    varargs = t.fields[1] and t.fields[1].kind == "strings" or nil,
    reprPlan = reprPlan(t.repr, fieldIndex),
    __tostring = recordTostring,
    __eq = recordEq,
    toText = recordToText,
  }
  cls.__index = cls
  return setmetatable(cls, { __call = public(construct) })
end

for _, t in ipairs(core.types()) do
  M[t.mnemonic] = t.type
  M.REV_TYPES[t.mnemonic] = t.type
  M.QUERY_TYPES[t.type] = t.mnemonic
  if t.mnemonic ~= "OPT" then
    local cls = makeRecordClass(t)
    M["Record_" .. t.cls] = cls
    classesByType[t.type] = cls
  end
end
for t, name in pairs(M.EXT_QUERIES) do
  M.REV_TYPES[name] = t
end
for c, name in pairs(M.QUERY_CLASSES) do
  M.REV_CLASSES[name] = c
end

-- TKEY has a name in Twisted's QUERY_TYPES but no record class.
M.QUERY_TYPES[M.TKEY] = "TKEY"
M.REV_TYPES.TKEY = M.TKEY

--- Opaque rdata of a type lua-names does not describe (RFC 3597).
-- `UnknownRecord(data, ttl)`; prints as `<UNKNOWN data='...' ttl=...>`.
local Unknown = {
  __name = "UnknownRecord", fancybasename = "UNKNOWN", __unknown = true, TYPE = 65535,
  fields = { { name = "data", kind = "opaque" } },
}
Unknown.__index = Unknown
Unknown.reprPlan = reprPlan("data:n ttl", { data = 1 })
Unknown.__tostring = recordTostring
Unknown.__eq = recordEq
Unknown.toText = public(function(self)
  return core.rdata_text(65535, 1, self)
end)
M.UnknownRecord = setmetatable(Unknown, { __call = public(construct) })

-- RRHeader -------------------------------------------------------------------

local RRHeader = { __name = "names.dns.RRHeader" }
RRHeader.__index = RRHeader

--- A resource record: `RRHeader(name, type, cls, ttl, payload, auth)` or
-- `RRHeader{name = ..., type = ..., payload = ...}` (type A, class IN, ttl 0
-- by default, as Twisted).
-- @type RRHeader
M.RRHeader = setmetatable(RRHeader, {
  __call = public(function(_, name, rtype, cls, ttl, payload, auth)
    if type(name) == "table" and getmetatable(name) == nil then
      local t = name
      name, rtype, cls, ttl, payload, auth = t.name, t.type, t.cls, t.ttl, t.payload, t.auth
    end
    if payload ~= nil and rtype == nil then
      local pmt = getmetatable(payload)
      rtype = pmt and pmt.TYPE ~= 65535 and pmt.TYPE or nil
    end
    rtype, cls, ttl = rtype or 1, cls or 1, ttl or 0
    if mathtype(rtype) ~= "integer" or rtype < 0 or rtype > 65535 then
      argError("RRHeader", 2, "type: an integer 0..65535 expected")
    end
    if mathtype(cls) ~= "integer" or cls < 0 or cls > 65535 then
      argError("RRHeader", 3, "cls: an integer 0..65535 expected")
    end
    if mathtype(ttl) ~= "integer" or ttl < 0 or ttl > 0xFFFFFFFF then
      argError("RRHeader", 4, "ttl: an integer 0..4294967295 expected")
    end
    if payload ~= nil and type(payload) ~= "table" then
      argError("RRHeader", 5, "payload: a record expected, got " .. type(payload))
    end
    return setmetatable({ name = toName(name, "RRHeader", 1, "name"), type = rtype, cls = cls,
      ttl = ttl, payload = payload, auth = auth and auth ~= 0 or false }, RRHeader)
  end),
})

function RRHeader.__tostring(self)
  return format("<RR name=%s type=%s class=%s ttl=%ds auth=%s>", self.name.name,
    M.typeToText(self.type), classText(self.cls), self.ttl, self.auth and "True" or "False")
end

function RRHeader.__eq(a, b)
  return a.name == b.name and a.type == b.type and a.cls == b.cls and a.ttl == b.ttl
    and valuesEqual(a.payload, b.payload) and a.auth == b.auth
end

--- The record as dig prints it in its answer section
-- (`www.example.com.	300	IN	A	192.0.2.1`).
-- @treturn string
RRHeader.toText = public(function(self)
  return core.rr_text(self)
end)

--- Whether the answer came from an authoritative server.
-- @treturn boolean
function RRHeader:isAuthoritative()
  return self.auth
end

-- Message --------------------------------------------------------------------

local Message = { __name = "names.dns.Message" }

-- A message that came off the wire (a reply, a cache entry) keeps its
-- bytes under this key until every section has been read: each section is
-- decoded when it is first read, as most lookups read the answers alone.
-- Indexing, pairs, tostring and encoding all see the sections as if they
-- had been there from the start.
local lazyKey, headerDone = {}, {}
local lazySections = { queries = true, answers = true, authority = true, additional = true }
local decodeSection, decodeHeader = core.decode_section, core.decode_header

-- The header's fields, where the message has none of its own (one may
-- have been assigned before any was read).
local function fillHeader(self, wire)
  local h = {}
  decodeHeader(wire, h)
  for k, v in next, h do
    if rawget(self, k) == nil then
      rawset(self, k, v)
    end
  end
  self[headerDone] = true
end

-- Plain assignments where a key is known to be absent (the message has no
-- __newindex), rawget where it may be: both are C calls in Lua, and this
-- runs for every response a lookup reads. The wire bytes stay until pairs
-- settles the message.
function Message.__index(self, k)
  local v = Message[k]
  if v ~= nil then
    return v
  end
  local wire = rawget(self, lazyKey)
  if not wire then
    return nil
  end
  if lazySections[k] then
    v = decodeSection(wire, k)
    self[k] = v
  elseif not rawget(self, headerDone) then
    -- the header's fields (the rcode is there from the start)
    fillHeader(self, wire)
    v = rawget(self, k)
  end
  return v
end

-- Every section and the header decoded: a lazy message becomes a plain table.
local function settle(self)
  local wire = rawget(self, lazyKey)
  if wire then
    if not rawget(self, headerDone) then
      fillHeader(self, wire)
    end
    for k in pairs(lazySections) do
      if rawget(self, k) == nil then
        rawset(self, k, decodeSection(wire, k))
      end
    end
    rawset(self, lazyKey, nil)
    rawset(self, headerDone, nil)
  end
end

function Message.__pairs(self)
  settle(self)
  return next, self, nil
end

local messageArgs = { "id", "answer", "opCode", "recDes", "recAv", "auth", "rCode", "trunc",
  "maxSize", "authenticData", "checkingDisabled" }
local messageFlags = { "answer", "auth", "trunc", "recDes", "recAv", "authenticData",
  "checkingDisabled", "dnssecOK" }

local function flag(v)
  return v ~= nil and v ~= false and v ~= 0
end

--- A DNS message: `Message{id = ..., recDes = true, ...}` or Twisted's
-- positional `Message(id, answer, opCode, recDes, recAv, auth, rCode, trunc,
-- maxSize, authenticData, checkingDisabled)`. EDNS: set `ednsVersion` (0)
-- and, if wanted, `dnssecOK`, `maxSize` and `ednsOptions`.
-- @type Message
M.Message = setmetatable(Message, {
  __call = public(function(_, ...)
    local t = ...
    if not (select("#", ...) == 1 and type(t) == "table") then
      t = {}
      for i, k in ipairs(messageArgs) do
        t[k] = select(i, ...)
      end
    end
    local id = t.id or 0
    if mathtype(id) ~= "integer" or id < 0 or id > 65535 then
      argError("Message", 1, "id: an integer 0..65535 expected")
    end
    for _, k in ipairs{ "queries", "answers", "authority", "additional", "ednsOptions" } do
      if t[k] ~= nil and type(t[k]) ~= "table" then
        argError("Message", 1, format("%s: a list expected, got %s", k, type(t[k])))
      end
    end
    local self = {
      id = id, opCode = t.opCode or 0, rCode = t.rCode or 0, maxSize = t.maxSize or 512,
      ednsVersion = t.ednsVersion, ednsOptions = t.ednsOptions,
      queries = t.queries or {}, answers = t.answers or {}, authority = t.authority or {},
      additional = t.additional or {},
    }
    for _, k in ipairs(messageFlags) do
      self[k] = flag(t[k])
    end
    return setmetatable(self, Message)
  end),
})

--- Decodes wire bytes into a new Message; raises on malformed input.
-- @tparam string bytes
-- @treturn Message
M.decode = public(function(bytes)
  if type(bytes) ~= "string" then
    argError("decode", 1, "string expected, got " .. type(bytes))
  end
  return core.decode(bytes)
end)

--- Adds a question (type ALL_RECORDS and class IN by default, as Twisted).
function Message:addQuery(name, qtype, cls)
  self.queries[#self.queries + 1] = M.Query(name, qtype or 255, cls or 1)
end

--- The message in wire format.
-- @treturn string
Message.toStr = public(function(self)
  return core.encode(self)
end)

--- Replaces this message's contents with the decoded bytes; raises a Lua
-- error that names the problem when they are malformed.
-- @tparam string bytes
-- @treturn Message self
Message.fromStr = public(function(self, bytes)
  if type(bytes) ~= "string" then
    argError("fromStr", 1, "string expected, got " .. type(bytes))
  end
  local m = core.decode(bytes)
  for k in pairs(self) do
    self[k] = nil
  end
  for k, v in pairs(m) do
    self[k] = v
  end
  return self
end)

local sectionRepr = repr.list

-- Twisted's _compactRepr: the class, id always, the other fields that are
-- not at their default, the flags that are set, the sections that are not
-- empty. Twisted has two classes where lua-names has one: a message with
-- EDNS (ednsVersion set) prints as Twisted's _EDNSMessage, whose defaults
-- are ednsVersion 0 and maxSize 512 and whose flags include dnssecOK; one
-- without, as Twisted's Message.
local plainFields = { "opCode", "rCode", "maxSize" }
local ednsFields = { "opCode", "rCode", "maxSize", "ednsVersion" }
local fieldDefaults = { opCode = 0, rCode = 0, maxSize = 512, ednsVersion = 0 }
local plainFlags = { "answer", "auth", "trunc", "recDes", "recAv", "authenticData",
  "checkingDisabled" }

function Message.__tostring(self)
  local edns = self.ednsVersion ~= nil
  local out = { edns and "<_EDNSMessage id=" or "<Message id=", repr.value(self.id) }
  for _, k in ipairs(edns and ednsFields or plainFields) do
    local v = self[k]
    if v ~= fieldDefaults[k] then out[#out + 1] = " " .. k .. "=" .. repr.value(v) end
  end
  local set = {}
  for _, k in ipairs(edns and messageFlags or plainFlags) do
    if self[k] then set[#set + 1] = k end
  end
  if #set > 0 then out[#out + 1] = " flags=" .. concat(set, ",") end
  for _, k in ipairs({ "queries", "answers", "authority", "additional" }) do
    if #self[k] > 0 then out[#out + 1] = " " .. k .. "=" .. sectionRepr(self[k]) end
  end
  out[#out + 1] = ">"
  return concat(out)
end

do
  local classes = { Name = Name, Query = Query, RRHeader = RRHeader, Message = Message,
    Unknown = Unknown, lazyKey = lazyKey }
  for t, cls in pairs(classesByType) do
    classes[t] = cls
  end
  core.dns_setup(classes)
end

-- The low-level protocols live in names.protocol (they need the reactor,
-- which needs nothing of this module); they are reached through here.
setmetatable(M, {
  __index = function(_, k)
    if k == "DNSDatagramProtocol" or k == "DNSProtocol" or k == "DNSClientFactory" then
      return require("names.protocol")[k]
    end
  end,
})

return M
