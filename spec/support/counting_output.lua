-- A busted output handler for lua-names: busted's own terminal display, plus
-- the counts that spec/support/run-tests.sh adds up.
--
-- Display: the stock utfTerminal on a terminal; plainTerminal when stdout is
-- not a tty or CI is set (NAMES_TEST_OUTPUT may name another stock handler,
-- e.g. TAP or gtest).
-- Counts: after each run of the suite, the line "passed failed errors pending"
-- (totals over every run, for --repeat) is written to the file named by
-- NAMES_TEST_COUNTS, when set. Errors (a spec file that does not load, an
-- error outside `it`) are counted apart; run-tests.sh adds them to failures.

return function(options)
  local busted = require "busted"

  local function is_tty()
    local ok, term = pcall(require, "term")
    return ok and io.type(io.stdout) == "file" and term.isatty(io.stdout)
  end

  local ci = os.getenv("CI")
  local in_ci = ci ~= nil and ci ~= "" and ci ~= "0" and ci ~= "false"
  local display = os.getenv("NAMES_TEST_OUTPUT")
  if not display or display == "" then
    display = (is_tty() and not in_ci) and "utfTerminal" or "plainTerminal"
  end
  local handler = require("busted.outputHandlers." .. display)(options)

  local counts_file = os.getenv("NAMES_TEST_COUNTS")
  local totals = { passed = 0, failed = 0, errors = 0, pending = 0 }

  local function write_counts()
    if not counts_file or counts_file == "" then return end
    local f = io.open(counts_file, "w")
    if not f then
      io.stderr:write("counting_output: cannot write " .. counts_file .. "\n")
      return
    end
    f:write(("%d %d %d %d\n"):format(totals.passed, totals.failed, totals.errors, totals.pending))
    f:close()
  end

  local function on_suite_end()
    totals.passed = totals.passed + handler.successesCount
    totals.failed = totals.failed + handler.failuresCount
    totals.errors = totals.errors + handler.errorsCount
    totals.pending = totals.pending + handler.pendingsCount
    write_counts()
    return nil, true
  end

  local subscribe = handler.subscribe
  handler.subscribe = function(self, opts)
    subscribe(self, opts)
    -- after the display's own suite-end handler: the counts are final by then
    busted.subscribe({ "suite", "end" }, on_suite_end)
  end

  return handler
end
