-- Connecting by name from a luv program: lua-names resolves (AAAA and A at
-- once, on luv's loop) and names.endpoints.race runs Happy Eyeballs v2
-- over luv's own TCP handles, so the connection is luv's to use as it
-- likes. The race asks connect(address, port, done) for each attempt and
-- calls the function it returns to abandon one that lost.
--
--   $ lua5.4 examples/luv_connect.lua localhost 8053
--   connected to ::1 port 8053
--   tried: [::1]:8053 connected after 0.000s
--   received 21 bytes
--
-- It prints what it received first (waiting at most a second), then closes.
local uv = require "luv"
local reactor = require "names.reactor"
reactor.useLuv(uv) -- before any I/O
local client = require "names.client"
local endpoints = require "names.endpoints"

local host, port = arg[1], tonumber(arg[2])
if not host or not port then
  io.stderr:write("usage: luv_connect.lua HOST PORT\n")
  os.exit(2)
end

-- One attempt: a luv TCP handle; the function returned closes it.
local function connect(address, toPort, done)
  local tcp = uv.new_tcp()
  tcp:connect(address, toPort, function(err)
    if err then
      tcp:close()
      done(err)
    else
      done(nil, tcp)
    end
  end)
  return function()
    if not tcp:is_closing() then
      tcp:close()
    end
  end
end

-- A literal address is its own list; a name is looked up, both families at once.
local addresses = endpoints.isAddress(host) and { host }
  or endpoints.lookupAddresses(client.getResolver(), host)

local status = 0
local race = endpoints.race(addresses, connect, { port = port, callback = true, name = host,
  close = function(tcp) tcp:close() end })
race:addCallbacks(function(tcp)
  print(("connected to %s port %d"):format(race.address, port))
  print("tried: " .. endpoints.describeAttempts(race.attempts))
  local timer = uv.new_timer()
  local function finish()
    timer:close()
    tcp:close()
  end
  timer:start(1000, 0, finish)
  tcp:read_start(function(_, data)
    if data then
      print(("received %d bytes"):format(#data))
    end
    tcp:read_stop()
    timer:stop()
    finish()
  end)
end, function(failure)
  io.stderr:write(tostring(failure.value), "\n")
  status = 1
end)
uv.run()
os.exit(status)
