-- luacheck: the library is Lua 5.4; the specs add busted's globals.
std = "lua54"
max_line_length = 120
-- `not (x > 0)` is meant: it is true for NaN too
ignore = { "581", "212/self" }
files["spec/"] = { std = "+busted", ignore = { "122" } } -- specs swap io.stderr to capture it
-- the examples keep the shape of Twisted's: unused arguments and unpacked sections
files["examples/"] = { ignore = { "211", "212" } }
files["bin/"] = { globals = { "client", "dns", "defer", "reactor", "task", "dig", "_" } }
exclude_files = { "build/", "fuzz/corpus/" }
