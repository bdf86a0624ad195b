-- Install a resolver in the reactor, as Twisted's client guide shows, so
-- that reactor.resolve (and everything that resolves host names through
-- the reactor) asks the servers given here.
--
--   $ lua5.4 examples/install_resolver.lua HOSTNAME SERVER [PORT]
--   $ lua5.4 examples/install_resolver.lua www.example.test 127.0.0.1 53535
local task = require "names.task"
local client = require "names.client"

local function main(reactor, hostname, server, port)
  if not server then
    io.stderr:write("Usage: install_resolver.lua HOSTNAME SERVER [PORT]\n")
    os.exit(1)
  end
  reactor.installResolver(client.createResolver{ servers = { { server, tonumber(port) or 53 } } })
  return reactor.resolve(hostname):addCallback(function(address)
    print(("%s is %s"):format(hostname, address))
  end)
end

task.react(main, arg)
