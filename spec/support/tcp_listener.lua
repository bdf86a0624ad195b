-- A TCP listener for the endpoint specs, run as a child process with luv:
--   lua5.4 spec/support/tcp_listener.lua SECONDS HOST:PORT...
-- Listens on each address, prints "PID ready" once all are bound, and
-- answers each connection with one DNS-framed message, "hello HOST:PORT"
-- (the address it was reached on), then keeps it open. Exits by itself
-- after SECONDS (the specs also kill it by pid when done).
local uv = require "luv"

local lifetime = tonumber(arg[1]) or 20
for i = 2, #arg do
  local host, port = arg[i]:match("^%[?([^%]]+)%]?:(%d+)$")
  local server = uv.new_tcp(host:find(":") and "inet6" or "inet")
  local ok, err = server:bind(host, tonumber(port))
  if not ok then
    io.stderr:write("bind ", arg[i], ": ", tostring(err), "\n")
    os.exit(1)
  end
  local label = arg[i]
  server:listen(64, function()
    local client = uv.new_tcp()
    server:accept(client)
    local msg = "hello " .. label
    client:write(string.char(#msg >> 8, #msg & 255) .. msg)
    client:read_start(function(_, data)
      if not data then
        client:close()
      end
    end)
  end)
end
io.stdout:write(uv.os_getpid(), " ready\n")
io.stdout:flush()
local timer = uv.new_timer()
timer:start(lifetime * 1000, 0, function()
  os.exit(0)
end)
uv.run()
