-- N distinct lookups with K in flight through lua-resty-dns (Debian
-- lua-nginx-dns, whose module is nginx.dns.resolver) inside nginx's Lua
-- (LuaJIT), run by bench/run-resty.sh from init_worker_by_lua with a timer.
-- Writes one line to OUT, as bench/resolver_bench.c prints it:
--   resty queries answered seconds qps cpu_us_per_query user_us sys_us peak_rss_kb
--
-- A lua-resty-dns resolver asks one question at a time on its cosocket:
-- K questions at once take K light threads (ngx.thread.spawn), each with
-- its own resolver, each calling r:query(name, {qtype = ...}) in a loop, as
-- the module's documentation has a resolver made per request. The resolvers
-- name only SERVER#PORT. Each answer's records are read (the PTR's target,
-- the A's address). CPU is the worker's own user+system time (os.clock,
-- split from /proc/self/stat) around the run; peak RSS its VmHWM.
-- luacheck: read globals ngx
local M = {}

local function userSys()
  local f = assert(io.open("/proc/self/stat"))
  local stat = f:read("*a")
  f:close()
  local fields = {}
  for v in stat:match("%) (.*)$"):gmatch("%S+") do fields[#fields + 1] = v end
  return tonumber(fields[12]) / 100, tonumber(fields[13]) / 100
end

local function peakRssKb()
  local f = assert(io.open("/proc/self/status"))
  local kb = f:read("*a"):match("VmHWM:%s*(%d+)")
  f:close()
  return tonumber(kb) or 0
end

local function run(o)
  local resolver = require "nginx.dns.resolver"
  local N, K, qtype = o.n, o.k, o.qtype
  local names = {}
  for i = 0, N - 1 do
    if qtype == "a" then
      names[i + 1] = ("host-%d.bench.test"):format(i)
    else
      names[i + 1] = ("%d.%d.%d.10.in-addr.arpa"):format(i % 256, math.floor(i / 256) % 256,
        math.floor(i / 65536))
    end
  end
  local query = { qtype = qtype == "a" and resolver.TYPE_A or resolver.TYPE_PTR }
  local field = qtype == "a" and "address" or "ptrdname"
  local started, answered = 0, 0

  local function worker()
    local r = assert(resolver:new{ nameservers = { { o.host, o.port } }, retrans = 2, timeout = 5000 })
    while started < N do
      started = started + 1
      local answers = r:query(names[started], query)
      local got = false
      if answers and not answers.errcode then
        for _, rr in ipairs(answers) do
          if rr[field] then got = true end
        end
      end
      if got then answered = answered + 1 end
    end
  end

  local u0, s0 = userSys()
  local c0 = os.clock()
  ngx.update_time()
  local t0 = ngx.now()
  local threads = {}
  for i = 1, math.min(K, N) do
    threads[i] = ngx.thread.spawn(worker)
  end
  for i = 1, #threads do
    assert(ngx.thread.wait(threads[i]))
  end
  ngx.update_time()
  local t1 = ngx.now()
  local c1 = os.clock()
  local u1, s1 = userSys()
  local wall = t1 - t0
  local line = ("resty %d %d %.4f %.0f %.3f %.3f %.3f %d\n"):format(N, answered, wall, N / wall,
    (c1 - c0) * 1e6 / N, (u1 - u0) * 1e6 / N, (s1 - s0) * 1e6 / N, peakRssKb())
  -- written whole under another name, then renamed: the script waits for OUT
  local f = assert(io.open(o.out .. ".part", "w"))
  f:write(line)
  f:close()
  assert(os.rename(o.out .. ".part", o.out))
end

--- Starts the run from init_worker_by_lua: a timer, where cosockets work.
function M.start(o)
  assert(tostring(o.host):match("^127%."), "the server must be on 127.0.0.0/8")
  local ok, err = ngx.timer.at(0, function(premature)
    if premature then return end
    local fine, why = pcall(run, o)
    if not fine then
      local f = io.open(o.out .. ".part", "w")
      if f then
        f:write("resty failed: ", tostring(why), "\n")
        f:close()
        os.rename(o.out .. ".part", o.out)
      end
    end
  end)
  assert(ok, err)
end

return M
