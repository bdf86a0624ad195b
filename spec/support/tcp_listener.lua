-- A TCP listener for the endpoint specs, run as a child process with luv:
--   lua5.4 spec/support/tcp_listener.lua SECONDS HOST:PORT[/MODE]...
-- Listens on each address, prints "PID ready" once all are bound, and
-- answers each connection with one DNS-framed message, "hello HOST:PORT"
-- (the address it was reached on), then keeps it open. Modes:
--   /peer   the greeting says where the client came from: "hello HOST:PORT from IP"
--   /hang   never accepts, and fills its accept queue at once with a
--           connection of its own: the kernel then drops new SYNs, so a
--           connect to it hangs (for about a second, until the SYN is sent
--           again), as a connection to a silent server does
-- Exits by itself after SECONDS (the specs also kill it by pid when done).
local uv = require "luv"

local lifetime = tonumber(arg[1]) or 20
local pendingFills = 0 -- /hang queues still filling
local function ready()
  io.stdout:write(uv.os_getpid(), " ready\n")
  io.stdout:flush()
end

for i = 2, #arg do
  local spec, mode = arg[i]:match("^([^/]+)/?(%a*)$")
  local host, port = spec:match("^%[?([^%]]+)%]?:(%d+)$")
  local server = uv.new_tcp(host:find(":") and "inet6" or "inet")
  local ok, err = server:bind(host, tonumber(port))
  if not ok then
    io.stderr:write("bind ", arg[i], ": ", tostring(err), "\n")
    os.exit(1)
  end
  if mode == "hang" then
    server:listen(0, function() end)
    -- a queue of length 0 still takes a connection or two (how many is
    -- the kernel's affair): fill it until a connection of ours hangs
    local function fill()
      local filler = uv.new_tcp()
      local done = false
      pendingFills = pendingFills + 1
      local check = uv.new_timer()
      filler:connect(host, tonumber(port), function()
        done = true
      end)
      check:start(100, 0, function()
        check:close()
        if done then
          pendingFills = pendingFills - 1
          fill()
        else
          pendingFills = pendingFills - 1
          if pendingFills == 0 then
            ready()
          end
        end
      end)
    end
    fill()
  else
    server:listen(64, function()
      local client = uv.new_tcp()
      server:accept(client)
      local msg = "hello " .. spec
      if mode == "peer" then
        msg = msg .. " from " .. client:getpeername().ip
      end
      client:write(string.char(#msg >> 8, #msg & 255) .. msg)
      client:read_start(function(_, data)
        if not data then
          client:close()
        end
      end)
    end)
  end
end
if pendingFills == 0 then
  ready()
end
local timer = uv.new_timer()
timer:start(lifetime * 1000, 0, function()
  os.exit(0)
end)
uv.run()
