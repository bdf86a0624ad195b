--- Hand-built DNS messages over LuaSocket, for the tests of the test
-- infrastructure and for specs that must talk to a server without going
-- through the library under test.
--
--   local raw = require "rawdns"
--   local msg, id = raw.query{name = "www.example.test", qtype = raw.A, edns = 1232}
--   local reply = raw.parse(raw.udp_exchange("127.0.0.1", 53535, msg, 1))
--   print(reply.rcode, reply.answers[1].data)   --> 0  192.0.2.10
--
-- Plain Lua 5.4 (string.pack) and LuaSocket; no protocol code is shared with
-- lua-names itself.
local socket = require "socket"

local M = {}

M.A, M.NS, M.CNAME, M.SOA, M.PTR, M.MX, M.TXT = 1, 2, 5, 6, 12, 15, 16
M.AAAA, M.SRV, M.OPT, M.AXFR, M.ANY = 28, 33, 41, 252, 255
M.NOERROR, M.FORMERR, M.SERVFAIL, M.NXDOMAIN, M.NOTIMP, M.REFUSED = 0, 1, 2, 3, 4, 5

--- Encode a dotted name as wire labels (no compression). "" or "." is the root.
function M.encode_name(name)
  local out = {}
  if name ~= "." and name ~= "" then
    for label in (name:gsub("%.$", "") .. "."):gmatch("([^.]*)%.") do
      assert(#label > 0 and #label <= 63, "bad label in " .. name)
      out[#out + 1] = string.char(#label) .. label
    end
  end
  out[#out + 1] = "\0"
  return table.concat(out)
end

--- Build a query. opts: name, qtype (default A), qclass (1), id (random),
-- rd (default true), edns (a UDP payload size: adds an OPT record).
-- Returns the bytes and the id.
function M.query(opts)
  local id = opts.id or math.random(0, 0xffff)
  local flags = (opts.rd == false) and 0 or 0x0100
  local parts = {
    string.pack(">I2I2I2I2I2I2", id, flags, 1, 0, 0, opts.edns and 1 or 0),
    M.encode_name(opts.name),
    string.pack(">I2I2", opts.qtype or M.A, opts.qclass or 1),
  }
  if opts.edns then
    parts[#parts + 1] = "\0" .. string.pack(">I2I2I4I2", M.OPT, opts.edns, 0, 0)
  end
  return table.concat(parts), id
end

local function read_name(msg, pos)
  local labels, jumped, after, hops = {}, false, nil, 0
  while true do
    local len = msg:byte(pos)
    if not len then error("name runs past the end", 0) end
    if len >= 0xC0 then
      local b2 = msg:byte(pos + 1)
      if not b2 then error("truncated pointer", 0) end
      if not jumped then after = pos + 2 end
      jumped = true
      pos = ((len & 0x3F) << 8 | b2) + 1
      hops = hops + 1
      if hops > 64 then error("pointer loop", 0) end
    elseif len >= 0x40 then
      error("bad label type", 0)
    elseif len == 0 then
      if not jumped then after = pos + 1 end
      break
    else
      if pos + len > #msg then error("label runs past the end", 0) end
      labels[#labels + 1] = msg:sub(pos + 1, pos + len)
      pos = pos + 1 + len
    end
  end
  return (#labels == 0 and "." or table.concat(labels, ".") .. "."), after
end

--- The RFC 5952 text of 16 address bytes ("2001:db8::10").
function M.ipv6_text(bytes)
  local w = { string.unpack(">I2I2I2I2I2I2I2I2", bytes) }
  w[9] = nil
  -- the longest run of two or more zero words becomes "::"
  local best, bestlen, i = nil, 1, 1
  while i <= 8 do
    if w[i] == 0 then
      local j = i
      while j < 8 and w[j + 1] == 0 do j = j + 1 end
      if j - i + 1 > bestlen then best, bestlen = i, j - i + 1 end
      i = j + 1
    else
      i = i + 1
    end
  end
  local function hex(a, b)
    local t = {}
    for k = a, b do t[#t + 1] = ("%x"):format(w[k]) end
    return table.concat(t, ":")
  end
  if not best then return hex(1, 8) end
  return hex(1, best - 1) .. "::" .. hex(best + bestlen, 8)
end

local function decode_rdata(msg, rr, pos)
  local t, rd = rr.type, rr.rdata
  if t == M.A and #rd == 4 then
    return ("%d.%d.%d.%d"):format(rd:byte(1, 4))
  elseif t == M.AAAA and #rd == 16 then
    return M.ipv6_text(rd)
  elseif t == M.TXT then
    local strings, i = {}, 1
    while i <= #rd do
      local n = rd:byte(i)
      strings[#strings + 1] = rd:sub(i + 1, i + n)
      i = i + 1 + n
    end
    return strings
  elseif t == M.NS or t == M.CNAME or t == M.PTR then
    return (read_name(msg, pos))
  elseif t == M.SOA then
    local mname, p = read_name(msg, pos)
    local rname, p2 = read_name(msg, p)
    local serial, refresh, retry, expire, minimum = string.unpack(">I4I4I4I4I4", msg, p2)
    return { mname = mname, rname = rname, serial = serial, refresh = refresh,
             retry = retry, expire = expire, minimum = minimum }
  elseif t == M.MX then
    return { preference = string.unpack(">I2", rd), exchange = (read_name(msg, pos + 2)) }
  end
  return nil
end

--- Parse a message (errors on malformed input). Returns a table with the
-- header fields (id, qr, opcode, aa, tc, rd, ra, ad, cd, rcode, the counts),
-- question = {name, qtype, qclass, raw_name}, and answers / authority /
-- additional lists of {name, type, class, ttl, rdata, data}; an OPT record
-- goes to `opt` = {udp, ext_rcode, version, flags} instead of additional.
function M.parse(msg)
  assert(type(msg) == "string", "no message")
  if #msg < 12 then error("shorter than a header", 0) end
  local id, flags, qd, an, ns, ar = string.unpack(">I2I2I2I2I2I2", msg)
  local r = {
    id = id, flags = flags,
    qr = flags & 0x8000 ~= 0, opcode = (flags >> 11) & 0xF, aa = flags & 0x0400 ~= 0,
    tc = flags & 0x0200 ~= 0, rd = flags & 0x0100 ~= 0, ra = flags & 0x0080 ~= 0,
    ad = flags & 0x0020 ~= 0, cd = flags & 0x0010 ~= 0, rcode = flags & 0xF,
    qdcount = qd, ancount = an, nscount = ns, arcount = ar,
    answers = {}, authority = {}, additional = {},
  }
  local pos = 13
  for i = 1, qd do
    local start = pos
    local name
    name, pos = read_name(msg, pos)
    if pos + 3 > #msg then error("truncated question", 0) end
    local qtype, qclass = string.unpack(">I2I2", msg, pos)
    if i == 1 then
      r.question = { name = name, qtype = qtype, qclass = qclass, raw_name = msg:sub(start, pos - 1) }
    end
    pos = pos + 4
  end
  local sections = { { an, r.answers }, { ns, r.authority }, { ar, r.additional } }
  for _, s in ipairs(sections) do
    for _ = 1, s[1] do
      local name
      name, pos = read_name(msg, pos)
      if pos + 9 > #msg then error("truncated record", 0) end
      local rtype, class, ttl, rdlen = string.unpack(">I2I2I4I2", msg, pos)
      pos = pos + 10
      if pos + rdlen - 1 > #msg then error("rdata runs past the end", 0) end
      local rr = { name = name, type = rtype, class = class, ttl = ttl,
                   rdata = msg:sub(pos, pos + rdlen - 1) }
      if rtype == M.OPT and s[2] == r.additional then
        r.opt = { udp = class, ext_rcode = ttl >> 24, version = (ttl >> 16) & 0xFF,
                  flags = ttl & 0xFFFF, rdata = rr.rdata }
      else
        rr.data = decode_rdata(msg, rr, pos)
        table.insert(s[2], rr)
      end
      pos = pos + rdlen
    end
  end
  r.size = #msg
  return r
end

local function udp_for(host)
  local u = assert(host:find(":", 1, true) and socket.udp6() or socket.udp4())
  return u
end

--- Send msg over UDP and collect every datagram that comes back within
-- `window` seconds. Returns a list of {data, ip, port, t} (t: seconds after
-- sending); stops early after `max` datagrams when given.
function M.udp_collect(host, port, msg, window, max)
  local u = udp_for(host)
  local got = {}
  local t0 = socket.gettime()
  assert(u:sendto(msg, host, port))
  while true do
    local left = window - (socket.gettime() - t0)
    if left <= 0 then break end
    u:settimeout(left)
    local data, ip, rport = u:receivefrom()
    if data then
      got[#got + 1] = { data = data, ip = ip, port = rport, t = socket.gettime() - t0 }
      if max and #got >= max then break end
    elseif ip ~= "timeout" then
      break   -- e.g. "connection refused" reported by the kernel
    end
  end
  u:close()
  return got
end

--- One UDP exchange: the first datagram back within `timeout` seconds, or
-- nil, "timeout". Also returns the sender's ip and port.
function M.udp_exchange(host, port, msg, timeout)
  local got = M.udp_collect(host, port, msg, timeout or 1, 1)
  if not got[1] then return nil, "timeout" end
  return got[1].data, got[1].ip, got[1].port
end

--- Open a TCP connection (closing it is the caller's business).
function M.tcp_connect(host, port, timeout)
  local c = host:find(":", 1, true) and socket.tcp6() or socket.tcp4()
  c:settimeout(timeout or 2)
  local ok, err = c:connect(host, port)
  if not ok then c:close() return nil, err end
  return c
end

--- Send one framed message on a connection.
function M.tcp_send(c, msg)
  return c:send(string.pack(">s2", msg))
end

--- Read one framed message; nil, err on timeout or close.
function M.tcp_receive(c)
  local len, err = c:receive(2)
  if not len then return nil, err end
  local n = string.unpack(">I2", len)
  if n == 0 then return "" end
  return c:receive(n)
end

--- One query over TCP: returns the reply bytes or nil, err.
function M.tcp_exchange(host, port, msg, timeout)
  local c, err = M.tcp_connect(host, port, timeout)
  if not c then return nil, err end
  local ok, serr = M.tcp_send(c, msg)
  if not ok then c:close() return nil, serr end
  local reply, rerr = M.tcp_receive(c)
  c:close()
  return reply, rerr
end

return M
