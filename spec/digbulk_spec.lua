-- names-dig's bulk mode (-f), as a child process against the test named and
-- the misbehaving servers: order, JSON lines, bad lines, shards, the rate
-- limit, standard input, and on a pseudo-terminal (util-linux `script`)
-- the progress line and Ctrl-C. Private resolv.conf and hosts files: nothing
-- leaves loopback.
local cjson = require "cjson"
local env = require "testenv"
local input = require "names.diginput"

local port = env.port
local conf, hostsFile

local sleep
do
  local ok, socket = pcall(require, "socket")
  sleep = ok and socket.sleep or function(s) os.execute(("sleep %.3f"):format(s)) end
end

local function quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function lines(s)
  local t = {}
  for line in s:gmatch("[^\n]+") do
    t[#t + 1] = line
  end
  return t
end

-- A line with its answers sorted (the server rotates an RRset's order).
local function normal(line)
  local fields = {}
  for f in (line .. "\t"):gmatch("(.-)\t") do
    fields[#fields + 1] = f
  end
  local answers = { table.unpack(fields, 4) }
  table.sort(answers)
  return table.concat({ fields[1], fields[2], fields[3], table.unpack(answers) }, "\t")
end

local function normalLines(s)
  local t = lines(s)
  for i, line in ipairs(t) do
    t[i] = normal(line)
  end
  return t
end

local function prefix()
  return ("cd %s && env -u LUA_PATH -u LUA_CPATH NAMES_RESOLV_CONF=%s NAMES_HOSTS=%s"):format(
    quote(env.root), quote(conf), quote(hostsFile))
end

local function words(t)
  local out = {}
  for i, w in ipairs(t) do
    out[i] = quote(w)
  end
  return table.concat(out, " ")
end

-- bin/names-dig with these words; exit status, stdout, stderr.
local function bulk(args, stdin)
  local cmd = ("%s timeout 60 bin/names-dig %s"):format(prefix(), words(args))
  if stdin then
    cmd = cmd .. " <" .. quote(stdin)
  end
  return env.run(cmd)
end

-- A mixed list: names the server knows, NXDOMAIN, reverse lookups, and
-- names the hosts file answers at once (so answers arrive out of order).
local function mixedInput(n)
  local t = {}
  for i = 1, n do
    local k = i % 5
    if k == 0 then
      t[i] = "www.example.test"
    elseif k == 1 then
      t[i] = ("nx%d.example.test"):format(i)
    elseif k == 2 then
      t[i] = "-x 192.0.2.1"
    elseif k == 3 then
      t[i] = "fromhosts.example.test"
    else
      t[i] = "example.test MX"
    end
  end
  return t
end

local expected = {
  ["www.example.test"] = "www.example.test\tA\tNOERROR\t192.0.2.10",
  ["-x 192.0.2.1"] = "1.2.0.192.in-addr.arpa\tPTR\tNOERROR\tns1.example.test.",
  ["fromhosts.example.test"] = "fromhosts.example.test\tA\tNOERROR\t192.0.2.99",
}

local function expectedLine(q)
  if expected[q] then
    return expected[q]
  elseif q:match("^nx") then
    return q .. "\tA\tNXDOMAIN"
  end
  return nil -- MX: the server's order of the two
end

describe("names-dig -f's input", function()
  it("reads a line into the question question() reads, without a table", function()
    local dns = require "names.dns"
    for _, line in ipairs{ "www.example.test", "  www.example.test  ", "www.example.test\tMX", "a.test ptr",
      "a.test TYPE65534", "a.test ANY", "a.test IN", "a.test A IN", "a.test MX CH", "a.test FOO", "-x 192.0.2.1",
      "-x", "-x 192.0.2.1 A", "-name.test", "# comment", "; comment", "", "   ", "a.test #x",
      ("a"):rep(1300), "a b c", "\0\1\2", "a\tb PTR", "a\127b", "a.test\tPTR\t", "caf\195\169.test" } do
      local q, why = input.question(line, dns.TXT)
      local name, qtype, qclass, printable = input.fields(line, dns.TXT)
      if q then
        assert.are.same({ q.name, q.qtype, q.qclass }, { name, qtype, qclass }, line)
        if printable then
          assert.is_nil(name:find("[%c\127]"), line)
        end
      else
        assert.are.same({ q, why }, { name, qtype }, line)
      end
    end
  end)

  it("reads a file's lines and counts its questions, across blocks, CRLF and a last line without newline", function()
    local long = ("l"):rep(70000) .. ".test" -- longer than a block
    local want = { "a.test", "", "  # indented comment", "; comment", "b.test\r", "   ", "\1odd.test",
      "  c.test MX", "#", "d.test" }
    local path = os.tmpname()
    local f = assert(io.open(path, "wb"))
    f:write(long, "\n")
    for _ = 1, 3000 do -- several blocks
      f:write(table.concat(want, "\n"), "\n")
    end
    f:write("last.test") -- no final newline
    f:close()
    local source = assert(input.open(path))
    assert.are.equal(1 + 3000 * 5 + 1, source:count())
    local n = 0
    for text in io.lines(path) do
      n = n + 1
      assert.are.equal((text:gsub("\r$", "")), source:next(), "line " .. n)
    end
    assert.is_nil(source:next())
    assert.is_true(source.eof)
    source:close()
    -- read(): the same lines into the same fields, common ones in place
    local dns = require "names.dns"
    source = assert(input.open(path))
    n = 0
    local inPlace = 0
    for text in io.lines(path) do
      n = n + 1
      text = text:gsub("\r$", "")
      local got = table.pack(source:read(dns.MX))
      if got[1] == true then
        inPlace = inPlace + 1
        assert.are.equal(text, source:lastLine(), "line " .. n)
      else
        assert.are.equal(text, got[1], "line " .. n)
      end
      assert.are.same({ input.fields(text, dns.MX) }, { table.unpack(got, 2, got.n) }, "line " .. n)
    end
    assert.is_nil(source:read())
    assert.is_true(inPlace > 3000)
    source:close()
    os.remove(path)
  end)
end)

describe("names-dig -f", function()
  setup(function()
    env.assert_server_up()
    conf = env.write(("nameserver [127.0.0.1]:%d\noptions timeout:2 attempts:2\n"):format(port))
    hostsFile = env.write("127.0.0.1 localhost\n192.0.2.99 fromhosts.example.test\n")
  end)
  teardown(function()
    os.remove(conf)
    os.remove(hostsFile)
  end)

  it("writes one line a question, in the input's order, while answers come in any order", function()
    local qs = mixedInput(400)
    local file = env.write(table.concat(qs, "\n") .. "\n")
    local status, out, err = bulk({ "-f", file, "-c", "37" })
    os.remove(file)
    assert.are.equal(0, status)
    local got = lines(out)
    assert.are.equal(#qs, #got)
    for i, q in ipairs(qs) do
      local want = expectedLine(q)
      if want then
        assert.are.equal(want, got[i], "line " .. i)
      else
        assert.matches("^example%.test\tMX\tNOERROR\t%d+ mail2?%.example%.test%.\t%d+ mail2?%.example%.test%.$",
          got[i])
      end
    end
    assert.matches(";; 400 questions of 400 in", err, 1, true)
    assert.matches(";; status: NOERROR 320, NXDOMAIN 80", err, 1, true)
    assert.matches(";; time: mean [%d.]+ ms, p99 [%d.]+ ms", err)
  end)

  it("writes the same lines as they arrive with --unordered", function()
    local qs = mixedInput(200)
    local file = env.write(table.concat(qs, "\n") .. "\n")
    local _, ordered = bulk({ "-f", file })
    local status, unordered = bulk({ "-f", file, "--unordered" })
    os.remove(file)
    assert.are.equal(0, status)
    local a, b = normalLines(ordered), normalLines(unordered)
    assert.are_not.same(a, b) -- the hosts file answers before the network
    table.sort(a)
    table.sort(b)
    assert.are.same(a, b)
  end)

  it("writes JSON lines with the name, type, status, rcode, answers, server, time and tries", function()
    local file = env.write("www.example.test\nnx.example.test\nfromhosts.example.test\n-x 192.0.2.1\n")
    local status, out = bulk({ "-f", file, "+json" })
    os.remove(file)
    assert.are.equal(0, status)
    local got = {}
    for i, line in ipairs(lines(out)) do
      got[i] = cjson.decode(line)
    end
    assert.are.equal(4, #got)
    assert.are.same({ "www.example.test", "A", "NOERROR", 0, "127.0.0.1:" .. port, 1 },
      { got[1].name, got[1].type, got[1].status, got[1].rcode, got[1].server, got[1].attempts })
    assert.are.equal("www.example.test. 3600 IN A 192.0.2.10", (got[1].answers[1]:gsub("%s+", " ")))
    assert.is_true(got[1].time > 0 and got[1].time < 2)
    assert.are.same({ "NXDOMAIN", 3 }, { got[2].status, got[2].rcode })
    assert.are.same({}, got[2].answers)
    assert.are.same({ "NOERROR", "hosts", 0 }, { got[3].status, got[3].server, got[3].attempts })
    assert.are.same({ "1.2.0.192.in-addr.arpa", "PTR" }, { got[4].name, got[4].type })
  end)

  it("reports a bad line in its place and goes on", function()
    local long = ("a"):rep(64) .. ".example.test"
    local file = env.write(table.concat({ "www.example.test", long, "www.example.test FOO", "",
      "# a comment", "-x 999.1.1.1", "bad..name", "www.example.test A IN", "-x", "\0\1\2",
      ("x"):rep(2000), "www.example.test" }, "\n") .. "\n")
    local status, out, err = bulk({ "-f", file, "+tries=1" })
    local jstatus, jout = bulk({ "-f", file, "+json" })
    os.remove(file)
    assert.are.equal(0, status)
    assert.are.same({
      "www.example.test\tA\tNOERROR\t192.0.2.10",
      ";; line 2: name: label longer than 63 octets: '" .. long .. "'",
      ";; line 3: 'FOO' is not a record type (a line is NAME [TYPE] or -x ADDRESS)",
      ";; line 6: '999.1.1.1' is not an IPv4 or IPv6 address",
      ";; line 7: name: empty label: 'bad..name'",
      "www.example.test\tA\tNOERROR\t192.0.2.10",
      ";; line 9: '-x' takes one address and nothing else",
      -- NUL and control bytes are a name's octets (written escaped); named
      -- serves no such zone
      "\\000\\001\\002\tA\tREFUSED",
      ";; line 11: line too long (2000 bytes; at most 1200)",
      "www.example.test\tA\tNOERROR\t192.0.2.10",
    }, lines(out))
    assert.matches("BADINPUT 6", err, 1, true)
    assert.are.equal(0, jstatus)
    local second = cjson.decode(lines(jout)[2])
    assert.are.same({ 2, "BADINPUT", long }, { second.line, second.status, second.input })
  end)

  it("splits the questions into disjoint shards that cover them all", function()
    local qs = {}
    for i = 1, 300 do
      qs[i] = ("n%d.example.test"):format(i)
    end
    local file = env.write(table.concat(qs, "\n") .. "\n")
    local seen, sizes = {}, {}
    for k = 1, 3 do
      local status, out, err = bulk({ "-f", file, "--shard", k .. "/3" })
      assert.are.equal(0, status)
      sizes[k] = 0
      for _, line in ipairs(lines(out)) do
        local name = line:match("^(%S+)\tA\tNXDOMAIN$")
        assert.is_not_nil(name, line)
        assert.is_nil(seen[name], name .. " in two shards")
        seen[name] = k
        sizes[k] = sizes[k] + 1
        assert.are.equal(k - 1, input.hash(name) % 3)
      end
      assert.matches((";; %d questions of %d in"):format(sizes[k], sizes[k]), err)
    end
    os.remove(file)
    for _, q in ipairs(qs) do
      assert.is_not_nil(seen[q], q .. " in no shard")
    end
    for k = 1, 3 do
      assert.is_true(sizes[k] > 50, "shard " .. k .. " has " .. sizes[k])
    end
  end)

  it("keeps to --qps", function()
    local qs = {}
    for i = 1, 31 do
      qs[i] = "www.example.test"
    end
    local file = env.write(table.concat(qs, "\n") .. "\n")
    local started = os.clock() -- CPU time is no use: the wall clock, from the summary
    local status, out, err = bulk({ "-f", file, "--qps", "60" })
    os.remove(file)
    assert.is_number(started)
    assert.are.equal(0, status)
    assert.are.equal(31, #lines(out))
    -- 30 intervals of 1/60 s: at least half a second
    local seconds = tonumber(err:match(";; 31 questions of 31 in ([%d.]+) s"))
    assert.is_true(seconds >= 0.49, "took " .. tostring(seconds))
    assert.is_true(seconds < 3, "took " .. tostring(seconds))
  end)

  it("reads standard input as it comes with -f -", function()
    local qs = mixedInput(50)
    local file = env.write(table.concat(qs, "\n") .. "\n")
    local _, fromFile = bulk({ "-f", file })
    -- a pipe whose writer pauses: the run waits for the lines, answers go on
    local status, out = env.run(("cd %s && (head -n 20 %s; sleep 0.3; tail -n +21 %s) | env -u LUA_PATH"
      .. " -u LUA_CPATH NAMES_RESOLV_CONF=%s NAMES_HOSTS=%s timeout 60 bin/names-dig -f -"):format(
      quote(env.root), quote(file), quote(file), quote(conf), quote(hostsFile)))
    os.remove(file)
    assert.are.equal(0, status)
    assert.are.equal(50, #lines(out))
    assert.are.same(normalLines(fromFile), normalLines(out))
  end)

  it("exits 8 when the batch file cannot be opened", function()
    local status, out, err = bulk({ "-f", "/nonexistent/names.txt" })
    assert.are.equal(8, status)
    assert.are.equal("", out)
    assert.matches("couldn't open specified batch file: /nonexistent/names.txt", err, 1, true)
  end)

  it("counts what it did not reach when interrupted without a progress line", function()
    local qs = {}
    for i = 1, 400 do
      qs[i] = ("q%d.example.test"):format(i)
    end
    qs[#qs + 1] = "# a comment is no question"
    local file = env.write(table.concat(qs, "\n") .. "\n")
    local status, out, err = env.run(("%s timeout --preserve-status -s INT 0.7 bin/names-dig @127.0.0.1 -p %d"
      .. " -f %s -c 20"):format(prefix(), env.bad.slow, quote(file)))
    os.remove(file)
    assert.are.equal(130, status)
    local done = tonumber(err:match(";; (%d+) questions of 400 in [%d.]+ s %([%d,]+ q/s%), interrupted"))
    assert.is_not_nil(done, err)
    assert.is_true(done >= 20 and done < 400, done .. " done")
    assert.are.equal(done, #lines(out))
  end)

  it("reads a named pipe given as the file once, as it comes", function()
    local qs = mixedInput(50)
    local file = env.write(table.concat(qs, "\n") .. "\n")
    local _, fromFile = bulk({ "-f", file })
    local fifo = os.tmpname()
    os.remove(fifo)
    assert.is_true(os.execute("mkfifo " .. quote(fifo)))
    local status, out, err = env.run(("(sleep 0.2; cat %s) >%s & %s timeout 60 bin/names-dig -f %s"):format(
      quote(file), quote(fifo), prefix(), quote(fifo)))
    os.remove(fifo)
    os.remove(file)
    assert.are.equal(0, status)
    assert.are.same(normalLines(fromFile), normalLines(out))
    assert.matches(";; 50 questions in", err, 1, true) -- a pipe has no total ahead
  end)

  it("gives a line it cannot make an internal-error line of its own, and goes on", function()
    local digcli = require "names.digcli"
    local digformat = require "names.digformat"
    local file = env.write("www.example.test\nboom.example.test\nnx.example.test\n-x 999.1.1.1\n")
    local outPath, errPath = os.tmpname(), os.tmpname()
    local stdout, stderr = assert(io.open(outPath, "w")), assert(io.open(errPath, "w"))
    local bulkText = digformat.bulkText
    digformat.bulkText = function(name, ...)
      if name == "boom.example.test" then
        error("no line for this one")
      end
      return bulkText(name, ...)
    end
    local ok, status = pcall(digcli.main, { "@127.0.0.1", "-p", tostring(port), "-f", file },
      { stdout = stdout, stderr = stderr })
    digformat.bulkText = bulkText
    stdout:close()
    stderr:close()
    os.remove(file)
    assert.is_true(ok, status)
    assert.are.equal(0, status)
    local out = env.slurp(outPath)
    os.remove(outPath)
    os.remove(errPath)
    assert.are.same({
      "www.example.test\tA\tNOERROR\t192.0.2.10",
      "",
      "nx.example.test\tA\tNXDOMAIN",
      ";; line 4: '999.1.1.1' is not an IPv4 or IPv6 address",
    }, { lines(out)[1], (lines(out)[2]:gsub("^;; line 2: internal error: .*no line for this one$", "")),
      lines(out)[3], lines(out)[4] })
    assert.are.equal(4, #lines(out))
  end)

  it("draws no progress line when standard error is not a terminal", function()
    local file = env.write("www.example.test\nnx.example.test\n")
    local _, _, err = bulk({ "-f", file })
    os.remove(file)
    assert.is_nil(err:find("\r", 1, true))
    for _, line in ipairs(lines(err)) do
      assert.matches("^;; ", line)
    end
  end)
end)

describe("names-dig -f on a terminal", function()
  setup(function()
    env.assert_server_up()
    conf = env.write(("nameserver [127.0.0.1]:%d\n"):format(port))
    hostsFile = env.write("127.0.0.1 localhost\n")
  end)
  teardown(function()
    os.remove(conf)
    os.remove(hostsFile)
  end)

  local function peek(path)
    local f = io.open(path)
    if not f then
      return ""
    end
    local s = f:read("a")
    f:close()
    return s
  end

  -- Runs names-dig with these words on a pseudo-terminal, its standard
  -- output to a file; `typed` is written to the terminal once the progress
  -- line shows, after `delay` seconds. Returns the exit status, what the
  -- terminal showed and the standard output.
  local function onTerminal(args, typed, delay)
    local term, out = os.tmpname(), os.tmpname()
    -- exec: names-dig alone in the terminal's process group, so Ctrl-C
    -- reaches it and not a shell around it
    local inner = ("exec bin/names-dig %s >%s"):format(words(args), quote(out))
    local cmd = ("%s TERM=dumb SHELL=/bin/sh timeout 60 script -qfec %s /dev/null >%s 2>&1"):format(
      prefix(), quote(inner), quote(term))
    local p = assert(io.popen(cmd, "w"))
    if typed then
      local deadline = os.time() + 20
      repeat
        sleep(0.05)
      until peek(term):find("q/s", 1, true) or os.time() > deadline
      sleep(delay or 0)
      p:write(typed)
      p:flush()
    end
    local _, _, status = p:close()
    return status, peek(term), env.slurp(out), os.remove(term)
  end

  local function questions(n, name)
    local t = {}
    for i = 1, n do
      t[i] = ("%s%d.example.test"):format(name or "q", i)
    end
    return t
  end

  it("draws the progress line at most ten times a second and erases it at the end", function()
    local file = env.write(table.concat(questions(150), "\n") .. "\n")
    local status, term, out = onTerminal({ "@127.0.0.1", "-p", tostring(env.bad.slow), "-f", file, "-c", "25" })
    os.remove(file)
    assert.are.equal(0, status)
    assert.are.equal(150, #lines(out))
    local draws = {}
    for text in term:gmatch("\r\27%[Knames%-dig: ([^\r]*)") do
      draws[#draws + 1] = text
    end
    -- six rounds of 300 ms: about 2 s, so some redraws and not too many
    local seconds = tonumber(term:match(";; 150 questions of 150 in ([%d.]+) s"))
    assert.is_not_nil(seconds, term)
    assert.is_true(#draws >= 5, #draws .. " redraws")
    assert.is_true(#draws <= seconds * 10 + 2, #draws .. " redraws in " .. seconds .. " s")
    assert.matches("^%d+/150 %([%d.]+%%%)  [%d,]+ q/s  no errors  elapsed 0:0%d", draws[1])
    assert.matches("ETA 0:%d%d", draws[#draws])
    -- erased before the summary: nothing of it stays on the summary's line
    assert.matches("\r\27%[K;; 150 questions of 150 in", term)
  end)

  it("shows errors by kind in the progress line", function()
    local qs = questions(60)
    local file = env.write(table.concat(qs, "\n") .. "\n")
    local status, term = onTerminal({ "@127.0.0.1", "-p", tostring(env.bad.servfail), "-f", file, "-c", "5",
      "--qps", "40", "+tries=1" })
    os.remove(file)
    assert.are.equal(0, status)
    assert.matches("errors: SERVFAIL %d+", term)
  end)

  it("stops on Ctrl-C: waits for what is in flight, writes every started line once, sums up, exits 130", function()
    local qs = questions(400)
    local file = env.write(table.concat(qs, "\n") .. "\n")
    local status, term, out = onTerminal({ "@127.0.0.1", "-p", tostring(env.bad.slow), "-f", file, "-c", "20" },
      "\3", 0.8)
    os.remove(file)
    assert.are.equal(130, status)
    local got = lines(out)
    local done = tonumber(term:match(";; (%d+) questions of 400 in [%d.]+ s %([%d,]+ q/s%), interrupted"))
    assert.is_not_nil(done, term)
    assert.are.equal(done, #got)
    assert.is_true(done >= 20 and done < 400, done .. " done")
    -- the first `done` questions, in order, each once, each whole: the 20 in
    -- flight at Ctrl-C answered within the grace period
    for i, line in ipairs(got) do
      assert.are.equal(("q%d.example.test\tA\tNOERROR\t192.0.2.11"):format(i), line)
    end
    assert.matches(";; status: NOERROR " .. done .. "\n", term:gsub("\r", ""), 1, true)
  end)

  it("cancels what is still in flight after the grace period, with a line for each", function()
    local qs = questions(50)
    local file = env.write(table.concat(qs, "\n") .. "\n")
    local started = os.time()
    local status, term, out = onTerminal({ "@127.0.0.1", "-p", tostring(env.bad.silent), "-f", file, "-c", "10",
      "+time=20", "+tries=1" }, "\3", 0.3)
    os.remove(file)
    assert.are.equal(130, status)
    assert.is_true(os.time() - started < 15)
    local got = lines(out)
    assert.are.equal(10, #got)
    for i, line in ipairs(got) do
      assert.are.equal(("q%d.example.test\tA\tINTERRUPTED"):format(i), line)
    end
    assert.matches(";; 10 questions of 50 in [%d.]+ s %([%d,]+ q/s%), interrupted", term)
    assert.matches(";; status: INTERRUPTED 10", term)
  end)
end)
