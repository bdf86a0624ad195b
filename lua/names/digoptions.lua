--- names-dig's command line: dig's words (`@server`, `+short`,
-- `+norecurse`, `NAME TYPE`) and the bulk mode's options, read into one
-- table.
--
--    local options = require "names.digoptions"
--    local o, err = options.parse{ "@127.0.0.1", "-p", "53535", "example.test", "MX", "+short" }
--    -- o.server == "127.0.0.1", o.port == 53535, o.name == "example.test",
--    -- o.qtype == 15, o.short == true
--
-- dig's `+option` and `@server` words are not shaped like getopt's, so they
-- are taken out first; lua-argparse reads the rest.
-- @module names.digoptions

local argparse = require "argparse"
local core = require "names.core"
local dns = require "names.dns"

local M = {}

local format = string.format

--- The usage line, as `-h` prints it before the options.
M.usage = "names-dig [@server] [-p port] [-t TYPE | TYPE] [-x ADDRESS] [-f FILE] [+short] [+json]"
  .. " [+tcp] [+dnssec] [+norecurse] [+time=T] [+tries=N] [NAME]"

local function parser()
  local p = argparse("names-dig", "dig's questions, one or millions, on lua-names.")
    :usage("Usage: " .. M.usage)
    :add_help(false)
    :epilog([[
dig's options:
  @SERVER          ask this server (an IPv4 or IPv6 address); without it,
                   the nameservers of resolv.conf (NAMES_RESOLV_CONF), with its
                   search list, after the hosts file (NAMES_HOSTS)
  +short           the rdata of the answers only
  +json            one JSON object (one a line in bulk mode)
  +tcp, +vc        ask over TCP
  +dnssec          set the DO bit
  +[no]recurse     set or clear RD (set by default)
  +[no]cookie      send a DNS cookie (sent by default, as dig does)
  +tls             DNS over TLS (RFC 7858; port 853 unless -p), strictly verified
  +https[=PATH]    DNS over HTTPS (RFC 8484; port 443 unless -p, /dns-query)
  +tls-ca=FILE     the CA certificates to verify the server with (default: the system's)
  +tls-hostname=NAME  the name the server's certificate must carry (default: its address)
  +time=T          seconds per try (default: resolv.conf's, else 1, 3, 11, 45)
  +tries=N         tries per server
Bulk mode: -f FILE (or -f - for standard input), one "NAME [TYPE]" a line
(an address with -x); the answers in the input's order, one line each.]])
  p:argument("words", "NAME, TYPE and CLASS, in any order, as dig takes them"):args("*")
  p:option("-t --type", "the question's type (A, MX, TYPE65534, ...)")
  p:option("-x --reverse", "a reverse lookup of this address (PTR)")
  p:option("-p --port", "the server's port")
  p:option("-f --file", "bulk mode: the questions, one a line, from FILE or - (standard input)")
  p:option("-c --concurrency", "bulk mode: questions in flight", "500")
  p:option("--qps", "bulk mode: at most this many questions a second")
  p:flag("--unordered", "bulk mode: write answers as they arrive")
  p:option("--shard", "bulk mode: keep only the questions of shard K of N (K from 1 to N)")
  p:flag("--progress", "bulk mode: draw the progress line even when standard error is not a terminal")
  p:flag("--no-progress", "bulk mode: no progress line")
  p:flag("-h --help", "this help")
  return p
end

--- The help text.
-- @treturn string
function M.help()
  return parser():get_help()
end

--- A type's number from its text: a mnemonic (`MX`, case ignored) or
-- RFC 3597's `TYPE65534`; nil when it is neither.
-- @tparam string text
-- @treturn integer|nil
function M.typeNumber(text)
  local up = text:upper()
  if up == "ANY" then
    return dns.ALL_RECORDS
  end
  local n = dns.REV_TYPES[up]
  if n and up ~= "ALL_RECORDS" then
    return n
  end
  n = tonumber(up:match("^TYPE(%d+)$"))
  if n and n <= 65535 then
    return n
  end
  return nil
end

--- A type's text as dig prints it: `MX`, `ANY`, `TYPE65534`.
-- @tparam integer t
-- @treturn string
function M.typeText(t)
  if t == dns.ALL_RECORDS then
    return "ANY"
  end
  return dns.QUERY_TYPES[t] or dns.EXT_QUERIES[t] or format("TYPE%d", t)
end

local classes = { IN = dns.IN, CH = dns.CH, HS = dns.HS }

--- The reverse name of an address (`in-addr.arpa` or `ip6.arpa`), or nil
-- and a message.
-- @tparam string address
-- @treturn string|nil
-- @treturn string|nil why not
function M.reverseName(address)
  local name = core.reverse_name(address)
  if not name then
    return nil, format("'%s' is not an IPv4 or IPv6 address", address)
  end
  return name
end

local function integer(text, what, min, max)
  local n = math.tointeger(tonumber(text))
  if not n or n < min or (max and n > max) then
    return nil, format("%s: '%s' is not %s", what, tostring(text),
      max and format("an integer from %d to %d", min, max) or format("an integer of at least %d", min))
  end
  return n
end

local function positive(text, what)
  local n = tonumber(text)
  if not n or not (n > 0) or n == math.huge then
    return nil, format("%s: '%s' is not a positive number", what, tostring(text))
  end
  return n
end

-- dig's +options: name → function(o, value, negated) returning nil, err on
-- a bad value. Unique prefixes are accepted, as dig accepts +norec.
local plusOptions = {
  short = function(o, _, no) o.short = not no end,
  json = function(o, _, no) o.json = not no end,
  tcp = function(o, _, no) o.tcp = not no end,
  vc = function(o, _, no) o.tcp = not no end,
  dnssec = function(o, _, no) o.dnssec = not no end,
  recurse = function(o, _, no) o.recurse = not no end,
  -- DNS cookies (RFC 7873) are sent by default, as dig sends them
  cookie = function(o, _, no) o.cookie = not no end,
  time = function(o, v)
    local n, err = positive(v, "+time")
    o.time = n
    return n, err
  end,
  tries = function(o, v)
    local n, err = integer(v, "+tries", 1, 100)
    o.tries = n
    return n, err
  end,
  -- encrypted transports, as dig 9.18 names them: DNS over TLS (port 853)
  -- and over HTTPS (port 443, path /dns-query)
  tls = function(o, _, no) o.tls = not no end,
  https = function(o, v, no)
    o.https = not no and (v ~= "" and v or "/dns-query") or nil
  end,
  ["tls-ca"] = function(o, v) o.tlsCa = v end,
  ["tls-hostname"] = function(o, v) o.tlsHostname = v end,
}
local valued = { time = true, tries = true, ["tls-ca"] = true, ["tls-hostname"] = true }
-- may take a value or not
local optionalValue = { https = true }

local function plusOption(o, word)
  local body, value = word:match("^%+([^=]*)=?(.*)$")
  local no = body:sub(1, 2) == "no" and not plusOptions[body]
  if no then
    body = body:sub(3)
  end
  local found = plusOptions[body] and body
  for name in pairs(found and {} or plusOptions) do
    if #body >= 3 and name:sub(1, #body) == body then
      if found then
        return nil, format("ambiguous option: %s", word)
      end
      found = name
    end
  end
  if not found or (valued[found] and (no or value == ""))
      or (not valued[found] and not optionalValue[found] and value ~= "") then
    return nil, format("Invalid option: %s", word)
  end
  local ok, err = plusOptions[found](o, value, no)
  if ok == nil and err then
    return nil, err
  end
  return true
end

--- Reads a command line (a list of words, or one string split on blanks).
-- @tparam table|string argv
-- @treturn table|nil the options: `server`, `port`, `name`, `qtype`, `qclass`,
--   `reverse`, `short`, `json`, `tcp`, `dnssec`, `recurse`, `time`, `tries`, and
--   for bulk mode `file`, `concurrency`, `qps`, `unordered`, `shard` ({k, n}),
--   `progress` (true, false or nil: on a terminal); `help` when -h was given
-- @treturn string|nil a usage error
function M.parse(argv)
  if type(argv) == "string" then
    local words = {}
    for w in argv:gmatch("%S+") do
      words[#words + 1] = w
    end
    argv = words
  elseif type(argv) ~= "table" then
    return nil, "a command line expected (a string or a list of words), got " .. type(argv)
  end
  local o = { recurse = true, qclass = dns.IN }
  local rest = {}
  for i = 1, #argv do
    local w = argv[i]
    if type(w) ~= "string" then
      return nil, format("word %d of the command line is a %s, not a string", i, type(w))
    end
    if w:sub(1, 1) == "@" and #w > 1 then
      o.server = w:sub(2)
    elseif w:sub(1, 1) == "+" and #w > 1 then
      local ok, err = plusOption(o, w)
      if not ok then
        return nil, err
      end
    else
      rest[#rest + 1] = w
    end
  end
  local ok, args = parser():pparse(rest)
  if not ok then
    return nil, args
  end
  if args.help then
    o.help = true
    return o
  end
  if args.port then
    local port, err = integer(args.port, "-p", 0, 65535)
    if not port then
      return nil, err
    end
    o.port = port
  end
  if args.type then
    o.qtype = M.typeNumber(args.type)
    if not o.qtype then
      return nil, format("-t: '%s' is not a record type", args.type)
    end
  end
  for _, w in ipairs(args.words) do
    local t = M.typeNumber(w)
    if t and not o.qtype then
      o.qtype = t
    elseif classes[w:upper()] and o.qclassGiven == nil then
      o.qclass, o.qclassGiven = classes[w:upper()], true
    elseif not o.name then
      o.name = w
    else
      return nil, format("more than one name: '%s' and '%s' (one question a command; -f for many)",
        o.name, w)
    end
  end
  o.qclassGiven = nil
  if args.reverse then
    if o.name then
      return nil, format("-x and a name ('%s'): one question a command", o.name)
    end
    local name, err = M.reverseName(args.reverse)
    if not name then
      return nil, "-x: " .. err
    end
    o.reverse, o.name = true, name
    o.qtype = o.qtype or dns.PTR
  end
  if args.file then
    if o.name then
      return nil, format("-f and a name ('%s'): the questions come from the file", o.name)
    end
    o.file = args.file
    local n, err = integer(args.concurrency, "-c", 1, 100000)
    if not n then
      return nil, err
    end
    o.concurrency = n
    if args.qps then
      o.qps, err = positive(args.qps, "--qps")
      if not o.qps then
        return nil, err
      end
    end
    o.unordered = args.unordered or false
    if args.shard then
      local k, n2 = args.shard:match("^(%d+)/(%d+)$")
      k, n2 = tonumber(k), tonumber(n2)
      if not k or n2 < 1 or k < 1 or k > n2 then
        return nil, format("--shard: '%s' is not K/N with K from 1 to N", args.shard)
      end
      o.shard = { k, n2 }
    end
    if args.progress then
      o.progress = true
    elseif args.no_progress then
      o.progress = false
    end
  else
    for _, opt in ipairs{ "qps", "shard" } do
      if args[opt] then
        return nil, format("--%s belongs to bulk mode (-f FILE)", opt)
      end
    end
    if args.unordered or args.progress or args.no_progress then
      return nil, "--unordered and --progress belong to bulk mode (-f FILE)"
    end
    o.name = o.name or "."
    if not o.qtype then
      -- dig asks NS of the root when nothing is named, A otherwise
      o.qtype = o.name == "." and dns.NS or dns.A
    end
  end
  return o
end

return M
