--- names-dig's output: an outcome (what names.dig's `ask` fires with) as
-- dig prints it, as `+short` lines, as JSON, and as one line of bulk mode.
--
-- An outcome is a table: `name`, `qtype`, `qclass` (the question as given),
-- `status` (`"NOERROR"`, `"NXDOMAIN"`, ... for an answer; `"TIMEOUT"`,
-- `"ERROR"` or `"BADINPUT"` when there is none), `rcode`, `message` (the
-- response Message, nil for a hosts-file answer), `answers`, `authority`,
-- `additional` (lists of RRHeader), `source` (`"network"`, `"hosts"`,
-- `"cache"`), `server` and `transport` (for a network answer), `attempts`
-- (the library's tries), `time` (seconds), `error` (a line, when no answer),
-- `hosts` (the hosts file's path), and in bulk mode `line` and `input` (the
-- input line's number and text) and `plain` (true when the name is known
-- to hold no control bytes: it prints as it is).
-- @module names.digformat

local cjson = require "cjson"
local dns = require "names.dns"
local options = require "names.digoptions"

local M = {}

local concat, find, format = table.concat, string.find, string.format

local rcodeNames = {
  [0] = "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET",
  "NXRRSET", "NOTAUTH", "NOTZONE", [16] = "BADVERS",
}
local opcodeNames = { [0] = "QUERY", "IQUERY", "STATUS", "RESERVED3", "NOTIFY", "UPDATE" }

-- RFC 8914's info codes, as dig names them.
local edeNames = {
  [0] = "Other", "Unsupported DNSKEY Algorithm", "Unsupported DS Digest Type", "Stale Answer",
  "Forged Answer", "DNSSEC Indeterminate", "DNSSEC Bogus", "Signature Expired",
  "Signature Not Yet Valid", "DNSKEY Missing", "RRSIGs Missing", "No Zone Key Bit Set",
  "NSEC Missing", "Cached Error", "Not Ready", "Blocked", "Censored", "Filtered", "Prohibited",
  "Stale NXDOMAIN Answer", "Not Authoritative", "Not Supported", "No Reachable Authority",
  "Network Error", "Invalid Data",
}

--- The name of a response code (`NXDOMAIN`; `RCODE23` for one without).
-- @tparam integer rcode
-- @treturn string
function M.rcodeText(rcode)
  return rcodeNames[rcode] or format("RCODE%d", rcode)
end

local function hex(s)
  return (s:gsub(".", function(c) return format("%02x", c:byte()) end))
end

local function absolute(name)
  if name == "" or name == "." then
    return "."
  end
  return name:sub(-1) == "." and name or name .. "."
end

-- The question line: dig pads the owner to column 24 and the empty TTL
-- column to 32 with tabs (counting from after the ';'), or one space when
-- the name is longer.
local function questionLine(name, qclass, qtype)
  local owner = absolute(name)
  local col, pad = #owner, {}
  while col < 24 do
    pad[#pad + 1] = "\t"
    col = (col // 8 + 1) * 8
  end
  if col < 32 then
    pad[#pad + 1] = "\t"
  elseif #pad == 0 then
    pad[1] = " "
  end
  return format(";%s%s%s\t%s", owner, concat(pad), dns.QUERY_CLASSES[qclass] or format("CLASS%d", qclass),
    options.typeText(qtype))
end

--- The EDNS options of a message as dig's OPT pseudo-section lines.
-- @tparam Message m
-- @treturn {string,...}
function M.ednsLines(m)
  local lines = {}
  local flags = m.dnssecOK and " do" or ""
  lines[1] = format("; EDNS: version: %d, flags:%s; udp: %d", m.ednsVersion, flags, m.maxSize)
  for _, o in ipairs(m.ednsOptions or {}) do
    local line
    if o.code == 10 and o.clientCookie then
      line = format("; COOKIE: %s%s", hex(o.clientCookie), hex(o.serverCookie))
    elseif o.code == 8 and o.address then
      line = format("; CLIENT-SUBNET: %s/%d/%d", o.address, o.sourcePrefixLength, o.scopePrefixLength)
    elseif o.code == 15 and o.infoCode then
      line = format("; EDE: %d (%s)", o.infoCode, edeNames[o.infoCode] or "Unknown")
      if o.extraText and o.extraText ~= "" then
        line = line .. format(": (%s)", o.extraText)
      end
    elseif o.code == 12 then
      line = format("; PAD: (%d bytes)", #o.data)
    else
      line = format("; OPT=%d: %s", o.code, hex(o.data))
    end
    lines[#lines + 1] = line
  end
  return lines
end

local function flagWords(m)
  local words = {}
  for _, f in ipairs{ { "answer", "qr" }, { "auth", "aa" }, { "trunc", "tc" }, { "recDes", "rd" },
    { "recAv", "ra" }, { "authenticData", "ad" }, { "checkingDisabled", "cd" } } do
    if m[f[1]] then
      words[#words + 1] = f[2]
    end
  end
  return words
end

-- "127.0.0.1:53" or "[::1]:53" as dig writes a server: 127.0.0.1#53(127.0.0.1)
local function serverText(server)
  local host, port = server:match("^%[(.*)%]:(%d+)$")
  if not host then
    host, port = server:match("^(.*):(%d+)$")
  end
  if not host then
    return server
  end
  return format("%s#%s(%s)", host, port, host)
end

--- One try of the library, as a line: `127.0.0.1:53 udp timeout after 1.001s`.
-- @tparam table a an attempt (server, transport, outcome, rcode, error, took)
-- @treturn string
function M.attemptText(a)
  local what = a.outcome or "?"
  if a.rcode and (a.outcome == "rcode" or (a.rcode ~= 0 and a.outcome ~= "timeout")) then
    what = what .. " " .. M.rcodeText(a.rcode)
  end
  if a.error then
    what = what .. " (" .. a.error .. ")"
  end
  return format("%s %s %s after %.3fs", a.server or "?", a.transport or "?", what, a.took or 0)
end

local function section(out, title, rrs)
  if #rrs == 0 then
    return
  end
  out[#out + 1] = format(";; %s SECTION:", title)
  for _, rr in ipairs(rrs) do
    out[#out + 1] = rr:toText()
  end
  out[#out + 1] = ""
end

-- Whether the tries are news: anything but one plain answer.
local function attemptsWorthShowing(o)
  local a = o.attempts
  return a and (#a > 1 or (a[1] and (a[1].outcome ~= "answer" or (a[1].rcode or 0) ~= 0)))
end

local function attemptLines(out, o)
  if attemptsWorthShowing(o) then
    for _, a in ipairs(o.attempts) do
      out[#out + 1] = ";; tried " .. M.attemptText(a)
    end
  end
end

--- The outcome as dig prints it: header, flags, OPT pseudo-section,
-- question, answer, authority and additional sections, footer. No answer:
-- dig's error line, with the library's tries under it.
-- @tparam table o an outcome
-- @tparam[opt] string command the command line, for the banner
-- @treturn string the text, ending with a newline
function M.full(o, command)
  local out = { "", format("; <<>> names-dig <<>> %s", command or ""), ";; global options: +cmd" }
  if o.status == "TIMEOUT" or o.status == "ERROR" then
    attemptLines(out, o)
    if o.status == "TIMEOUT" then
      out[#out + 1] = ";; connection timed out; no servers could be reached"
    else
      out[#out + 1] = ";; communications error: " .. tostring(o.error)
    end
    out[#out + 1] = ""
    return concat(out, "\n")
  end
  local m = o.message
  if m then
    out[#out + 1] = o.source == "cache" and ";; Got answer (from the cache):" or ";; Got answer:"
    out[#out + 1] = format(";; ->>HEADER<<- opcode: %s, status: %s, id: %d",
      opcodeNames[m.opCode] or format("RESERVED%d", m.opCode), M.rcodeText(m.rCode), m.id)
    out[#out + 1] = format(";; flags: %s; QUERY: %d, ANSWER: %d, AUTHORITY: %d, ADDITIONAL: %d",
      concat(flagWords(m), " "), #m.queries, #m.answers, #m.authority,
      #m.additional + (m.ednsVersion and 1 or 0))
    if m.recDes and not m.recAv then
      out[#out + 1] = ";; WARNING: recursion requested but not available"
    end
    out[#out + 1] = ""
    if m.ednsVersion then
      out[#out + 1] = ";; OPT PSEUDOSECTION:"
      for _, line in ipairs(M.ednsLines(m)) do
        out[#out + 1] = line
      end
    end
    out[#out + 1] = ";; QUESTION SECTION:"
    for _, q in ipairs(m.queries) do
      out[#out + 1] = questionLine(q.name.name, q.cls, q.type)
    end
    out[#out + 1] = ""
  else
    out[#out + 1] = format(";; Got answer from the hosts file %s (no query sent):", o.hosts or "")
    out[#out + 1] = ";; QUESTION SECTION:"
    out[#out + 1] = questionLine(o.name, o.qclass, o.qtype)
    out[#out + 1] = ""
  end
  section(out, "ANSWER", o.answers)
  section(out, "AUTHORITY", o.authority)
  section(out, "ADDITIONAL", o.additional)
  attemptLines(out, o)
  local tls = o.tlsSession
  if tls then
    -- as kdig prints the session: protocol, cipher, and what was verified
    out[#out + 1] = format(";; TLS session: %s, %s%s, %s%s", tls.version or "?", tls.cipher or "?",
      tls.alpn and tls.alpn ~= "" and (", ALPN " .. tls.alpn) or "",
      tls.verified and "verified" or ("not verified" .. (tls.check and (" (" .. tls.check .. ")") or "")),
      tls.resumed and ", resumed" or "")
  end
  out[#out + 1] = format(";; Query time: %d msec", math.floor(o.time * 1000 + 0.5))
  if o.source == "hosts" then
    out[#out + 1] = ";; SERVER: hosts file " .. (o.hosts or "")
  elseif o.source == "cache" then
    out[#out + 1] = ";; SERVER: the cache of this run"
  else
    out[#out + 1] = format(";; SERVER: %s (%s)", serverText(o.server or "?"), (o.transport or "udp"):upper())
  end
  out[#out + 1] = ";; WHEN: " .. os.date("!%a %b %d %H:%M:%S UTC %Y", o.when or os.time())
  if m then
    -- the message encoded again: the library hands over the decoded message
    local ok, bytes = pcall(m.toStr, m)
    out[#out + 1] = format(";; MSG SIZE  rcvd: %s", ok and #bytes or "?")
  end
  out[#out + 1] = ""
  out[#out + 1] = ""
  return concat(out, "\n")
end

-- The text of a name in rdata: the name's own text (escaped as dig
-- escapes it) and the final dot.
local function nameText(n)
  local text = n.name
  if text == "" then
    return "."
  end
  return text .. "."
end

local function nameRdata(p)
  return nameText(p.name)
end

local function addressRdata(p)
  return p.address
end

-- The record classes whose text is their fields as they are: a bulk run
-- prints millions of these, and the general printer (the record encoded
-- again, then printed) costs more than the rest of the line. spec/dig_spec
-- checks each against toText.
local rdataOf = {
  [dns.Record_A] = addressRdata, [dns.Record_AAAA] = addressRdata,
  [dns.Record_MX] = function(p) return p.preference .. " " .. nameText(p.name) end,
}
for _, t in ipairs{ "PTR", "NS", "CNAME", "DNAME", "MB", "MG", "MR" } do
  rdataOf[dns["Record_" .. t]] = nameRdata
end

--- A record's rdata as dig's `+short` prints it (`rr.payload:toText()`),
-- straight from the fields for the common types.
-- @tparam RRHeader rr
-- @treturn string
function M.rdataText(rr)
  local p = rr.payload
  local f = rdataOf[getmetatable(p)]
  if f then
    return f(p)
  end
  return p:toText()
end
local rdataText = M.rdataText

--- `+short`: the rdata of each answer, one a line (dig prints nothing
-- else; no answer gives dig's error line).
-- @tparam table o an outcome
-- @treturn string
function M.short(o)
  if o.status == "TIMEOUT" then
    return ";; connection timed out; no servers could be reached\n"
  elseif o.status == "ERROR" then
    return ";; communications error: " .. tostring(o.error) .. "\n"
  end
  local out = {}
  for _, rr in ipairs(o.answers) do
    out[#out + 1] = rdataText(rr) .. "\n"
  end
  return concat(out)
end

-- Debian's lua-cjson 2.1.0 writes an empty table as {}, and has no
-- array_mt to say otherwise: an empty list is this placeholder, written
-- as "\u0001[]\u0001" and put right after encoding (no text of ours
-- holds a raw \1: record text escapes it as \001).
local EMPTY = "\1[]\1"
local emptyEncoded = '"\\u0001%[%]\\u0001"'

local function json(t)
  return (cjson.encode(t):gsub(emptyEncoded, "[]"))
end

local function texts(rrs)
  if not rrs or #rrs == 0 then
    return EMPTY
  end
  local t = {}
  for i, rr in ipairs(rrs) do
    t[i] = rr:toText()
  end
  return t
end

local function attemptsJSON(attempts)
  if not attempts or #attempts == 0 then
    return EMPTY
  end
  local t = {}
  for i, a in ipairs(attempts or {}) do
    t[i] = { server = a.server, transport = a.transport, outcome = a.outcome,
      rcode = a.rcode and M.rcodeText(a.rcode) or nil, error = a.error, time = a.took }
  end
  return t
end


--- `+json`: one object with what the full output shows.
-- @tparam table o an outcome
-- @treturn string one line of JSON and a newline
function M.json(o)
  local t = {
    question = { name = absolute(o.name), type = options.typeText(o.qtype),
      class = dns.QUERY_CLASSES[o.qclass] or format("CLASS%d", o.qclass) },
    status = o.status, source = o.source, server = o.server, transport = o.transport,
    time = o.time, when = os.date("!%Y-%m-%dT%H:%M:%SZ", o.when or os.time()),
    answer = texts(o.answers), authority = texts(o.authority), additional = texts(o.additional),
    attempts = attemptsJSON(o.attempts), error = o.error,
  }
  local m = o.message
  if m then
    t.rcode = m.rCode
    t.id = m.id
    t.opcode = opcodeNames[m.opCode] or format("RESERVED%d", m.opCode)
    t.flags = flagWords(m)
    if #t.flags == 0 then
      t.flags = EMPTY
    end
    t.question.name = absolute(m.queries[1] and m.queries[1].name.name or o.name)
    if m.ednsVersion then
      local opts = {}
      for i, opt in ipairs(m.ednsOptions or {}) do
        opts[i] = { code = opt.code, data = hex(opt.data),
          cookie = opt.clientCookie and { client = hex(opt.clientCookie), server = hex(opt.serverCookie) },
          subnet = opt.address and format("%s/%d/%d", opt.address, opt.sourcePrefixLength,
            opt.scopePrefixLength),
          ede = opt.infoCode and { code = opt.infoCode, name = edeNames[opt.infoCode] or "Unknown",
            text = opt.extraText ~= "" and opt.extraText or nil },
        }
      end
      t.edns = { version = m.ednsVersion, dnssecOK = m.dnssecOK, udp = m.maxSize,
        options = #opts > 0 and opts or EMPTY }
    end
  elseif o.rcode then
    t.rcode = o.rcode
  end
  return json(t) .. "\n"
end

-- A name as the input gave it, with control bytes written as BIND
-- writes them (\DDD), so that a line of output is always one line.
local function printable(name)
  if not find(name, "[%c\127]") then
    return name
  end
  return (name:gsub("[%c\127]", function(c) return format("\\%03d", c:byte()) end))
end


-- A type's text, kept: a bulk run asks few types, millions of times.
local typeTexts = setmetatable({}, { __index = function(t, qtype)
  local text = options.typeText(qtype)
  t[qtype] = text
  return text
end })

-- What the text of the name-only and address records is made of.
local NAME, ADDRESS = 1, 2
local textKind = { [dns.Record_A] = ADDRESS, [dns.Record_AAAA] = ADDRESS }
for cls, f in pairs(rdataOf) do
  if f == nameRdata then
    textKind[cls] = NAME
  end
end

local NONE = {}

--- Bulk mode's text line from its parts: `NAME TYPE STATUS rdata...`,
-- tab-separated. One record of the common types goes into the line as its
-- fields are, with no string of its own.
-- @tparam string name the name as given
-- @tparam integer qtype
-- @tparam string status
-- @tparam {RRHeader,...} answers
-- @tparam[opt] boolean plain the name has no control bytes (it needs no escapes)
-- @treturn string
function M.bulkText(name, qtype, status, answers, plain)
  if not plain then
    name = printable(name)
  end
  local n = #answers
  if n == 1 then
    local rr = answers[1]
    local p = rr.payload
    local kind = textKind[getmetatable(p)]
    if kind == NAME then
      local text = p.name.name
      if text ~= "" then
        return name .. "\t" .. typeTexts[qtype] .. "\t" .. status .. "\t" .. text .. ".\n"
      end
    elseif kind == ADDRESS then
      return name .. "\t" .. typeTexts[qtype] .. "\t" .. status .. "\t" .. p.address .. "\n"
    end
    return name .. "\t" .. typeTexts[qtype] .. "\t" .. status .. "\t" .. rdataText(rr) .. "\n"
  elseif n == 0 then
    return name .. "\t" .. typeTexts[qtype] .. "\t" .. status .. "\n"
  end
  local parts = { name, typeTexts[qtype], status }
  for i = 1, n do
    parts[i + 3] = rdataText(answers[i])
  end
  return concat(parts, "\t") .. "\n"
end

--- Bulk mode, text: `NAME TYPE STATUS rdata...`, tab-separated, one line a
-- question (a bad input line: `;; line N: why`).
-- @tparam table o an outcome
-- @treturn string
function M.bulkLine(o)
  if o.status == "BADINPUT" then
    return format(";; line %d: %s\n", o.line, o.error)
  end
  return M.bulkText(o.name, o.qtype, o.status, o.answers or NONE, o.plain)
end

--- Bulk mode, `+json`: name, type, status, rcode, answers as text, the
-- server that answered, time and the number of tries, one line.
-- @tparam table o an outcome
-- @treturn string
function M.bulkJSON(o)
  if o.status == "BADINPUT" then
    return json{ line = o.line, input = o.input, status = o.status, error = o.error } .. "\n"
  end
  return json{ name = o.plain and o.name or printable(o.name), type = options.typeText(o.qtype), status = o.status,
    rcode = o.rcode, answers = texts(o.answers), server = o.server or o.source ~= "network" and o.source or nil,
    time = o.time and math.floor(o.time * 1e6 + 0.5) / 1e6, attempts = o.attempts and #o.attempts or 0,
    error = o.error } .. "\n"
end

return M
