#!/bin/sh
# Run the C tests and the hostile corpus under AddressSanitizer and
# UndefinedBehaviorSanitizer:
#
#   sh spec/support/run-sanitized.sh BUILD      (make asan: BUILD=build/asan)
#
# BUILD holds programs built with clang -fsanitize=address,undefined
# -fno-sanitize-recover=all: every BUILD/ctest/* program is run, then
# BUILD/support/replay_corpus over spec/data/c-ares-fuzzinput,
# spec/data/regressions and every fuzz/corpus/*/ (fuzz/check_message.h and
# fuzz/check_name.h on each input). A program's own "N passed, N failed"
# line is added up; a sanitizer report, a crash, a hang or a missing count
# line counts as 1 failed beside it. Then the busted specs that drive the
# binding hardest run with BUILD's module (names.core built with the
# sanitizers; NAMES_SANITIZE_SPECS overrides the list). The last line is the
# total, "N passed, N failed". NAMES_SANITIZE_TIMEOUT bounds each program
# (300 s).
set -u

BUILD=${1:?usage: run-sanitized.sh BUILD}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root" || exit 1
TIMEOUT=${NAMES_SANITIZE_TIMEOUT:-300}

# Sanitizer findings end the program with status 86 and a report on stderr.
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:exitcode=86:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=86}
export ASAN_OPTIONS UBSAN_OPTIONS

# The binding too: these specs with BUILD's module, the sanitizer runtime
# preloaded into lua5.4 (which is not built with it). Leaks are not looked
# for there: the interpreter and busted keep what they like at exit.
asan_rt=$(clang -print-file-name=libclang_rt.asan-x86_64.so 2>/dev/null)
specs="spec/abuse_spec.lua spec/dns_spec.lua spec/system_spec.lua spec/protocol_spec.lua"
specs="$specs spec/resolver_spec.lua spec/client_spec.lua spec/reactor_spec.lua spec/embed_spec.lua"
specs="$specs spec/endpoints_spec.lua spec/srvconnect_spec.lua spec/svcb_spec.lua spec/task_spec.lua"
if [ -f "$asan_rt" ]; then
    LUA_SPECS=${NAMES_SANITIZE_SPECS:-$specs}
    LUA_WRAP="LD_PRELOAD=$asan_rt ASAN_OPTIONS=detect_leaks=0:exitcode=86 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=86"
else
    # (the C programs above cannot build without it either)
    echo "-- the binding's specs are not run sanitized: no clang ASan runtime ($asan_rt)"
    LUA_SPECS=
fi

WRAP=
FINDING_RC=86
FINDING_RE='ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: .*Sanitizer'
SHOW_RE='FAIL|ERROR|runtime error|SUMMARY|^    #[0-9]'
SKIP=
. "$here/checked-runs.sh"
