--- Where the test servers are, for the specs.
--
--   local env = require "testenv"
--   env.assert_server_up()
--   local r = client.createResolver{servers = {env.server}}
--   ... {servers = {{"127.0.0.1", env.bad.servfail}, env.server}} ...
--
-- Fields (from the environment that spec/support/run-tests.sh exports, with
-- the same defaults as spec/support/servers.sh):
--   port      NAMES_TEST_PORT, named's port (53535)
--   bad_base  NAMES_TEST_BAD_BASE, badserver's first port (53600)
--   bad       port of each badserver behaviour by name: bad.ok, bad.silent, ...
--   behaviours  the behaviour names in port order (bad_base + index - 1)
--   server    {"127.0.0.1", port};  server6  {"::1", port}
--   ipv6      false when the machine has no ::1 (NAMES_TEST_IPV6=0)
--   root      the checkout (NAMES_TEST_ROOT, else found from this file)
--
-- Tests FAIL, never skip, when the servers are down: assert_server_up()
-- raises an error that says how to start them.
local M = {}

local function checkout_root()
  local env = os.getenv("NAMES_TEST_ROOT")
  if env and env ~= "" then return env end
  local src = debug.getinfo(1, "S").source
  local dir = src:match("^@(.*)/spec/support/testenv%.lua$")
  if not dir or dir == "" then dir = "." end
  if dir:sub(1, 1) ~= "/" then
    local pwd = os.getenv("PWD")
    if pwd then dir = (dir == "." and pwd or pwd .. "/" .. dir) end
  end
  return dir
end

local function has_ipv6()
  local v = os.getenv("NAMES_TEST_IPV6")
  if v == "0" then return false end
  if v == "1" then return true end
  local f = io.open("/proc/net/if_inet6")
  if not f then return true end
  local s = f:read("a")
  f:close()
  return s:find("^00000000000000000000000000000001 ") ~= nil
      or s:find("\n00000000000000000000000000000001 ") ~= nil
end

M.root = checkout_root()
M.port = tonumber(os.getenv("NAMES_TEST_PORT") or "") or 53535
M.bad_base = tonumber(os.getenv("NAMES_TEST_BAD_BASE") or "") or 53600
M.ipv6 = has_ipv6()
-- The encrypted listeners (servers.sh): NAMES_TEST_TLS_BASE + k, and the
-- test CA and its certificates (NAMES_TEST_CERTS).
M.tls_base = tonumber(os.getenv("NAMES_TEST_TLS_BASE") or "") or 53800
M.certs = os.getenv("NAMES_TEST_CERTS") or (M.root .. "/build/testenv/certs")
M.tls = {
  dot = M.tls_base, doh = M.tls_base + 1, expired = M.tls_base + 2, wrongname = M.tls_base + 3,
  selfsigned = M.tls_base + 4, alert = M.tls_base + 5, close_mid = M.tls_base + 6,
  http500 = M.tls_base + 7, truncated = M.tls_base + 8, echo_len = M.tls_base + 9,
  reverse = M.tls_base + 10,
}
M.server = { "127.0.0.1", M.port }
M.server6 = { "::1", M.port }

-- Keep in the order of spec/support/badserver.c.
M.behaviours = {
  "ok", "silent", "wrongid", "tc", "servfail", "refused", "notimp",
  "formerr_on_edns", "garbage", "otherquestion", "slow", "otherport", "noqr",
  "tcp_trickle", "tcp_reorder", "tcp_close", "echo_case", "lowercase_question", "tcp_once",
  "formerr_noq", "opcode_decoy", "tc_cut", "cookie_echo", "badcookie", "wrong_cookie", "badcookie_always",
}
M.bad = {}
for i, name in ipairs(M.behaviours) do M.bad[name] = M.bad_base + i - 1 end

--- {"127.0.0.1", port} (or {"::1", port} when v6) for a badserver behaviour.
function M.bad_server(name, v6)
  local port = assert(M.bad[name], "no badserver behaviour " .. tostring(name))
  return { v6 and "::1" or "127.0.0.1", port }
end

local have_raw, raw = pcall(require, "rawdns")

local function stats_query(name, behaviour, v6)
  assert(have_raw, "rawdns needs LuaSocket (Debian: lua-socket)")
  local host = v6 and "::1" or "127.0.0.1"
  local q = raw.query{ name = name, qtype = raw.TXT }
  local reply = raw.udp_exchange(host, M.bad[behaviour], q, 1)
  assert(reply, ("badserver %s (%s port %d) does not answer %s"):format(
    behaviour, host, M.bad[behaviour], name))
  local r = raw.parse(reply)
  return tonumber(r.answers[1].data[1])
end

--- The number of queries badserver saw on a behaviour's port (UDP+TCP).
function M.bad_count(behaviour) return stats_query("stats.", behaviour) end

--- Zero a behaviour's counter; returns the count it had.
function M.bad_reset(behaviour) return stats_query("reset.", behaviour) end

local function start_hint()
  return "start them with `sh spec/support/servers.sh start` (or run `make test`)"
end

--- Raise an error unless named answers on 127.0.0.1 (and ::1) and badserver
-- answers: a quick UDP probe with LuaSocket. Without LuaSocket it trusts the
-- environment.
function M.assert_server_up()
  if not have_raw then return true end
  local q = raw.query{ name = "example.test", qtype = raw.SOA }
  local hosts = { "127.0.0.1" }
  if M.ipv6 then hosts[2] = "::1" end
  for _, host in ipairs(hosts) do
    local reply = raw.udp_exchange(host, M.port, q, 1)
    local ok, r = pcall(raw.parse, reply)
    if not reply or not ok or r.rcode ~= 0 or not r.aa then
      error(("the test DNS server does not answer on %s port %d: %s"):format(
        host, M.port, start_hint()), 2)
    end
  end
  local reply = raw.udp_exchange("127.0.0.1", M.bad.ok, raw.query{ name = "stats.", qtype = raw.TXT }, 1)
  if not reply then
    error(("badserver does not answer on 127.0.0.1 port %d: %s"):format(M.bad.ok, start_hint()), 2)
  end
  return true
end

--- The RRsets listed in spec/data/zone-types.txt: a list of {owner, type}
-- (owner absolute, with the final dot; type as dig prints it).
function M.zone_types()
  local list = {}
  local path = M.root .. "/spec/data/zone-types.txt"
  for line in io.lines(path) do
    local owner, rtype = line:match("^%s*([^#%s]%S*)%s+(%S+)%s*$")
    if owner then list[#list + 1] = { owner = owner, type = rtype } end
  end
  return list
end

local function shell_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

--- Run dig against the test named (127.0.0.1, or ::1 with opts.v6) and
-- return the lines of its answer section, as dig prints them:
--   env.dig("www.example.test", "AAAA")  --> {"www.example.test. 3600 IN AAAA 2001:db8::10"}
-- opts.tcp uses TCP; opts.flags is a list of extra dig options (e.g. "+nosplit").
-- Fields are separated by single spaces (dig's tabs squeezed), record text kept.
function M.dig(name, rtype, opts)
  opts = opts or {}
  local args = {
    "dig", "@" .. (opts.v6 and "::1" or "127.0.0.1"), "-p", tostring(M.port),
    "+norecurse", "+noall", "+answer", "+time=2", "+tries=1",
  }
  if opts.tcp then args[#args + 1] = "+tcp" end
  for _, f in ipairs(opts.flags or {}) do args[#args + 1] = f end
  args[#args + 1] = name
  args[#args + 1] = rtype or "A"
  for i, a in ipairs(args) do args[i] = shell_quote(a) end
  local p = assert(io.popen(table.concat(args, " ") .. " 2>&1"))
  local lines = {}
  for line in p:lines() do
    if line ~= "" and not line:match("^;") then
      -- dig separates the first four fields with tabs
      local owner, ttl, class, t, rest = line:match("^(%S+)%s+(%d+)%s+(%S+)%s+(%S+)%s*(.*)$")
      if owner then
        line = table.concat({ owner, ttl, class, t }, " ") .. (rest ~= "" and " " .. rest or "")
      end
      lines[#lines + 1] = line
    end
  end
  p:close()
  return lines
end

--- Writes text to a file (a new temporary one unless path is given) and
-- returns its path.
function M.write(text, path)
  path = path or os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
  return path
end

--- Reads a file whole and removes it.
function M.slurp(path)
  local f = assert(io.open(path))
  local s = f:read("a")
  f:close()
  os.remove(path)
  return s
end

--- A private resolv.conf naming the test server (search example.test) and
-- a private hosts file: what child processes get instead of /etc's, so
-- that nothing leaves loopback. Returns both paths.
function M.private_files(hosts_text)
  local conf = M.write(("nameserver [127.0.0.1]:%d\nsearch example.test\n"):format(M.port))
  local hosts = M.write(hosts_text or "127.0.0.1 localhost\n::1 localhost ip6-localhost\n")
  return conf, hosts
end

--- Runs a shell command line; returns its exit status, stdout and stderr.
function M.run(cmd)
  local out, err = os.tmpname(), os.tmpname()
  local _, _, status = os.execute(("%s >%s 2>%s"):format(cmd, shell_quote(out), shell_quote(err)))
  return status, M.slurp(out), M.slurp(err)
end

--- Runs a Lua chunk in a child lua5.4 of the checkout (lua_command's, no
-- resolv.conf, no hosts file); returns its exit status, stdout and stderr.
function M.run_lua(chunk)
  local script = M.write(chunk)
  local status, out, err = M.run(M.lua_command() .. " " .. shell_quote(script))
  os.remove(script)
  return status, out, err
end

--- The start of a command line that runs lua5.4 in the checkout with its
-- modules on the paths and the given resolv.conf and hosts files.
function M.lua_command(conf, hosts)
  return ("cd %s && NAMES_RESOLV_CONF=%s NAMES_HOSTS=%s LUA_PATH=%s LUA_CPATH=%s timeout 60 lua5.4"):format(
    shell_quote(M.root), shell_quote(conf or "/nonexistent"), shell_quote(hosts or "/nonexistent"),
    shell_quote(M.root .. "/lua/?.lua;;"), shell_quote(M.root .. "/build/?.so;;"))
end

return M
