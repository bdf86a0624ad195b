-- Captures real answers of the test server as seeds for fuzz_message:
--   sh spec/support/servers.sh start; . build/testenv/env.sh
--   lua5.4 fuzz/capture_message_corpus.lua
-- writes fuzz/corpus/message/<owner>-<TYPE> for every RRset of
-- spec/data/zone-types.txt (UDP with EDNS, TCP when truncated), the first
-- message of an AXFR of example.test, a truncated UDP answer, NXDOMAIN and
-- NODATA answers. Uses LuaSocket only (spec/support/rawdns.lua).
package.path = "spec/support/?.lua;" .. package.path
local env = require "testenv"
local raw = require "rawdns"

local out = "fuzz/corpus/message/"
os.execute("mkdir -p " .. out)

local function save(name, bytes)
  local f = assert(io.open(out .. name:gsub("[^%w%.%-_]", "_"), "wb"))
  f:write(bytes)
  f:close()
end

local TYPES = { A = 1, NS = 2, CNAME = 5, SOA = 6, MB = 7, MG = 8, MR = 9, NULL = 10, WKS = 11,
  PTR = 12, HINFO = 13, MINFO = 14, MX = 15, TXT = 16, RP = 17, AFSDB = 18, AAAA = 28, SRV = 33,
  NAPTR = 35, A6 = 38, DNAME = 39, DS = 43, SSHFP = 44, RRSIG = 46, NSEC = 47, DNSKEY = 48,
  NSEC3PARAM = 51, TLSA = 52, CDS = 59, CDNSKEY = 60, SVCB = 64, HTTPS = 65, SPF = 99, URI = 256,
  CAA = 257 }

local function ask(name, qtype, tcp)
  local q = raw.query{ name = name, qtype = qtype, edns = 1232, rd = false, id = 4660 }
  if not tcp then
    local reply = assert(raw.udp_exchange("127.0.0.1", env.port, q, 2))
    if reply:byte(3) & 2 == 0 then return reply end
    save("truncated-" .. name, reply)
  end
  return assert(raw.tcp_exchange("127.0.0.1", env.port, q, 3))
end

local n = 0
for _, e in ipairs(env.zone_types()) do
  local t = TYPES[e.type] or tonumber(e.type:match("^TYPE(%d+)$"))
  save(e.owner:gsub("%.$", "") .. "-" .. e.type, ask(e.owner, assert(t, e.type)))
  n = n + 1
end
save("nxdomain-nonexistent.example.test", ask("nonexistent.example.test", 1))
save("nodata-nodata.example.test-AAAA", ask("nodata.example.test", 28))
save("referral-www.sub.example.test", ask("www.sub.example.test", 1))
save("cname-chain1.example.test-A", ask("chain1.example.test", 1))
save("any-example.test", ask("example.test", 255, true))
local c = assert(raw.tcp_connect("127.0.0.1", env.port, 5))
assert(raw.tcp_send(c, raw.query{ name = "example.test", qtype = raw.AXFR, rd = false, id = 4660 }))
save("axfr-example.test", assert(raw.tcp_receive(c)))
c:close()
print(("wrote %d answers and 7 more to %s"):format(n, out))
