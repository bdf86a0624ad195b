-- A luv TCP server that greets each client with its own name: as a client
-- connects, the server reverse-resolves its address (a PTR lookup,
-- answered by /etc/hosts for 127.0.0.1) and writes the name back, then
-- closes the connection. Lookups and luv's handles share one loop, the one
-- uv.run() drives: reactor.useLuv(uv) before any lookup.
--
--   $ lua5.4 examples/luv_server.lua 8053 &
--   listening on 127.0.0.1 port 8053
--   $ nc 127.0.0.1 8053
--   localhost
--
-- The port defaults to 0 (any free port; the line above says which).
-- With --max N the server closes its socket after N clients, and uv.run()
-- returns once their lookups and replies are done: an idle resolver keeps
-- no loop alive.
local uv = require "luv"
local reactor = require "names.reactor"
reactor.useLuv(uv) -- before any I/O
local client = require "names.client"

local function usage()
  io.stderr:write("usage: luv_server.lua [PORT] [--max N]\n")
  os.exit(2)
end

local port, max = 0, nil
local i = 1
while i <= #arg do
  if arg[i] == "--max" then
    max = tonumber(arg[i + 1]) or usage()
    i = i + 2
  else
    port = tonumber(arg[i]) or usage()
    i = i + 1
  end
end

local function reverseNameFromIPAddress(address)
  local parts = {}
  for p in address:gmatch("[^.]+") do table.insert(parts, 1, p) end
  return table.concat(parts, ".") .. ".in-addr.arpa"
end

local function reply(conn, text)
  conn:write(text .. "\n", function()
    conn:shutdown(function()
      conn:close()
    end)
  end)
end

local server = uv.new_tcp()
assert(server:bind("127.0.0.1", port))
local served = 0

assert(server:listen(128, function(err)
  assert(not err, err)
  local conn = uv.new_tcp()
  assert(server:accept(conn))
  served = served + 1
  if max and served >= max then
    server:close() -- no more clients; uv.run() returns when the rest is done
  end
  local peer = conn:getpeername()
  client.lookupPointer(reverseNameFromIPAddress(peer.ip)):addCallbacks(function(result)
    local answers = result[1]
    reply(conn, #answers > 0 and answers[1].payload.name.name or peer.ip)
  end, function(failure)
    reply(conn, ("%s (no name: %s)"):format(peer.ip, failure.type and failure.type.__name
      or failure:getErrorMessage()))
  end)
end))

print(("listening on 127.0.0.1 port %d"):format(server:getsockname().port))
io.stdout:flush()
uv.run()
print(("served %d clients"):format(served))
