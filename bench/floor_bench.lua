-- The floor under a cache hit: the seven tables a `lookupAddress` answered
-- from the cache hands out new each time (the Deferred, the Result, the
-- Message, its answers, the record, its payload, its name) and a string
-- the size of the message's bytes, built bare in plain Lua with the
-- shapes the library gives them (sizes of the constructors included),
-- nothing looked up or decoded. Not the library: what any code handing
-- out those objects pays.
--
--   lua5.4 bench/floor_bench.lua [N [GC]]
--     N calls (default 500,000); GC: incremental | generational (set here)
--     prints: floor-GC us_per_call
local N = tonumber(arg[1] or "500000")
local gc = arg[2] or "incremental"
collectgarbage(gc)

local Deferred, Result, Message, RRHeader, Name, RecordA = {}, {}, {}, {}, {}, {}
local WIRE = string.rep("x", 60)
local kept

local t0 = os.clock()
for i = 1, N do
  local name = setmetatable({ name = "host-1.bench.test" }, Name)
  local payload = setmetatable({ address = "10.0.0.1", ttl = 300 }, RecordA)
  local rr = setmetatable({ name = name, type = 1, cls = 1, ttl = 300, auth = false, payload = payload },
    RRHeader)
  local answers = { rr }
  -- a new string per call, as the message's bytes are (a copy with its TTLs counted down)
  local message = setmetatable({ [0] = WIRE .. i % 10, rCode = 0, answers = answers }, Message)
  local result = setmetatable({ answers, nil, nil, message = message, answers = answers, authority = nil,
    additional = nil }, Result)
  kept = setmetatable({ nil, nil, nil, nil, nil, nil, nil, nil,
    called = true, _n = 0, _running = false, result = result }, Deferred)
end
local us = (os.clock() - t0) * 1e6 / N
assert(kept.result.answers[1].payload.address == "10.0.0.1")
print(("floor-%s %.3f"):format(gc, us))
