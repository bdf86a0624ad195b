--- dig as an oracle for record text: serve hand-made answers to dig from a
-- UDP socket on 127.0.0.1 and collect the lines dig prints for them.
--
--   local oracle = require "dig_oracle"
--   local lines = oracle.answer_texts({ answer1_bytes, answer2_bytes })
--   -- lines[i]: the list of answer lines dig printed for answers[i]
--
-- Each answer is the bytes of an answer section (its records, names
-- uncompressed or pointing into the question, whose name starts at offset
-- 12) and the number of records in it: { bytes = "...", count = 1 }.
-- The server copies dig's query (id, question, RD) and adds QR and AA.
-- One dig process asks q1.oracle.test., q2.oracle.test., ... in turn
-- (+question separates the answers in its output). Only loopback is used.
-- Needs LuaSocket and dig.
local socket = require "socket"

local M = {}

local function read_all(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local s = f:read("a")
  f:close()
  return s
end

local function reply_for(query, answer)
  -- header: id, flags (QR AA, RD copied), counts; the question copied
  local id = query:sub(1, 2)
  local rd = query:byte(3) & 1
  local qend = 13
  while query:byte(qend) ~= 0 do qend = qend + query:byte(qend) + 1 end
  local question = query:sub(13, qend + 4)
  return id .. string.char(0x84 | rd, 0x00) .. string.pack(">I2I2I2I2", 1, answer.count, 0, 0)
    .. question .. answer.bytes
end

--- The answer lines dig prints for each answer, in order.
-- @tparam {table,...} answers  { bytes = answer-section bytes, count = records }
-- @tparam[opt] {string,...} flags  more dig options (e.g. "+nosplit")
-- @treturn {{string,...},...} one list of lines per answer
function M.answer_texts(answers, flags)
  local u = assert(socket.udp4())
  assert(u:setsockname("127.0.0.1", 0))
  local _, port = u:getsockname()
  local out = os.tmpname()
  local args = { "dig", "@127.0.0.1", "-p", tostring(port), "+norecurse", "+noall", "+answer",
    "+question", "+time=5", "+tries=1", "+noedns" }
  for _, f in ipairs(flags or {}) do args[#args + 1] = f end
  for i = 1, #answers do
    args[#args + 1] = "q" .. i .. ".oracle.test."
    args[#args + 1] = "TYPE65534"
  end
  os.execute("(" .. table.concat(args, " ") .. " >" .. out .. " 2>&1; echo __DONE__ >>" .. out .. ") &")
  local deadline = socket.gettime() + 10 + #answers * 0.1
  u:settimeout(0.05)
  while socket.gettime() < deadline do
    local query, ip, qport = u:receivefrom()
    if query and #query > 12 then
      local i = tonumber(query:match("^q(%d+)", 14))
      if i and answers[i] then
        u:sendto(reply_for(query, answers[i]), ip, qport)
      end
    elseif read_all(out):find("__DONE__", 1, true) then
      break
    end
  end
  u:close()
  local text = read_all(out)
  os.remove(out)
  local result, current = {}, nil
  for line in text:gmatch("[^\n]+") do
    local n = line:match("^;q(%d+)%.oracle%.test%.")
    if n then
      current = {}
      result[tonumber(n)] = current
    elseif current and not line:match("^;") and line ~= "__DONE__"
        -- dig's hex dump of a packet it refused ("113 bytes", "90 bb 84 ..."):
        -- an answer line never has a space before its owner's final dot
        -- (BIND writes a space in a name as \032)
        and not line:match("^%d+ bytes$") and not line:match("^%x%x%s") then
      current[#current + 1] = line
    end
  end
  for i = 1, #answers do result[i] = result[i] or {} end
  return result, text
end

return M
