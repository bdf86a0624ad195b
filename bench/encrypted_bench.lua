-- DNS over UDP, TCP, TLS and HTTPS through names.client against one named
-- (bench/run-encrypted.sh starts it), one line per transport and workload:
--   transport workload queries answered seconds qps cpu_us_per_query
--
--   W1: N1 lookups one after the other (one in flight): the latency path
--   W2: N2 lookups with K in flight: the throughput path
-- Every name is distinct (nothing shared, no cache): n<i>.example.test,
-- which named answers NXDOMAIN from its zone.
--
--   lua5.4 bench/encrypted_bench.lua PORT TLSPORT DOHPORT CAFILE [N1 N2 K]
--   lua5.4 bench/encrypted_bench.lua handshakes TLSPORT CAFILE [N]
local client = require "names.client"
local core = require "names.core"
local reactor = require "names.reactor"

local function cpu()
  local f = assert(io.open("/proc/self/stat"))
  local stat = f:read("a")
  f:close()
  local fields = {}
  for v in stat:match("%) (.*)$"):gmatch("%S+") do fields[#fields + 1] = v end
  return (tonumber(fields[12]) + tonumber(fields[13])) / 100
end

-- Runs n lookups on r with k in flight; returns answered, seconds, cpu seconds.
local function run(r, n, k, prefix)
  local started, done, answered = 0, 0, 0
  local nextOne
  local function finished(v)
    done = done + 1
    if started < n then
      nextOne()
    elseif done == n then
      reactor.stop()
    end
    return v
  end
  local function counted(v)
    answered = answered + 1
    return v
  end
  local function nxdomain(f)
    -- NXDOMAIN is an answer here; anything else is not
    if f:check(require("names.error").DNSNameError) then answered = answered + 1 end
  end
  nextOne = function()
    started = started + 1
    r:lookupAddress(("%s%d.example.test"):format(prefix, started)):addCallbacks(counted, nxdomain)
      :addBoth(finished)
  end
  local c0, t0 = cpu(), core.now()
  reactor.callWhenRunning(function()
    for _ = 1, math.min(k, n) do nextOne() end
  end)
  reactor.run()
  return answered, core.now() - t0, cpu() - c0
end

local function line(name, workload, n, answered, secs, cpus)
  print(("%s %s %d %d %.3f %.0f %.1f"):format(name, workload, n, answered, secs, n / secs, cpus * 1e6 / n))
end

if arg[1] == "handshakes" then
  -- a new connection per lookup: the TLS handshake's cost with a fresh
  -- context each time (full handshake) and with one context (resumed)
  local port, ca, n = tonumber(arg[2]), arg[3], tonumber(arg[4] or "200")
  local url = ("tls://127.0.0.1:%d#dns.example.test"):format(port)
  for _, mode in ipairs{ "full", "resumed" } do
    local shared = client.Resolver{ servers = { url }, caFile = ca, timeout = { 5 } }
    local resumed = 0
    local c0, t0 = cpu(), core.now()
    for i = 1, n do
      local r = shared
      if mode == "full" then
        r = client.Resolver{ servers = { url }, caFile = ca, timeout = { 5 } }
      else
        r._core:set_servers({ url }) -- a new server entry: a new connection, the same session store
      end
      local done = false
      r:lookupAddress(("h%d.example.test"):format(i)):addBoth(function() done = true; reactor.stop() end)
      if not done then reactor.run() end
      if r:getServerSecurity()[1].resumed then resumed = resumed + 1 end
      if mode == "full" then r:close() end
    end
    local secs, cpus = core.now() - t0, cpu() - c0
    print(("handshake %s %d resumed=%d %.3f ms_per_connection %.0f cpu_us_per_connection"):format(
      mode, n, resumed, secs * 1000 / n, cpus * 1e6 / n))
    shared:close()
  end
  return
end

local port, tlsport, dohport, ca = tonumber(arg[1]), tonumber(arg[2]), tonumber(arg[3]), arg[4]
local N1, N2, K = tonumber(arg[5] or "2000"), tonumber(arg[6] or "20000"), tonumber(arg[7] or "500")
local servers = {
  { "udp", { { "127.0.0.1", port } }, {} },
  { "tcp", { { "127.0.0.1", port } }, { tcp = true } },
  { "tls", { ("tls://127.0.0.1:%d#dns.example.test"):format(tlsport) }, { caFile = ca } },
  { "https", { ("https://127.0.0.1:%d/dns-query"):format(dohport) }, { caFile = ca } },
}
for _, s in ipairs(servers) do
  local o = { servers = s[2], timeout = { 5 }, maxInflight = K }
  for key, v in pairs(s[3]) do o[key] = v end
  local r = client.Resolver(o)
  -- warm: the connection (and handshake) outside the measurement
  run(r, 10, 10, "warm")
  line(s[1], "W1", N1, run(r, N1, 1, "a"))
  line(s[1], "W2", N2, run(r, N2, K, "b"))
  r:close()
end
