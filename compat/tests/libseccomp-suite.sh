#!/usr/bin/env bash
# Runs libseccomp's own regression suite (tests/regression of the C library's source) against
# pure-seccomp's C library (compat/libseccomp-c: libseccomp.so.2 and our seccomp.h).
#
# The source comes from Debian at run time (`apt-get source`, after adding a deb-src line for
# a suite apt has no sources of); nothing of libseccomp is kept in this repository. Its test
# programs and tools are compiled directly with gcc (no autotools) against our headers and
# linked against our library; the `regression` script then runs unmodified, in the modes
# given.
#
# Usage: compat/tests/libseccomp-suite.sh
# Env:   SUITES   Debian suites to take libseccomp from (default "trixie bookworm":
#                 2.6.0 and 2.5.4)
#        TYPES    regression test types to run (default "bpf-sim basic live")
#        JOBS     parallel compilers and test batches (default: nproc)
#        KEEP=1   keep the work directory
#        CARGO_TARGET_DIR as usual (default: <repo>/target/compat)
#        ALLOW_APT_CHANGES=0 do not add a deb-src source (then a suite apt has no sources of
#                 is not fetched: exit 3)
# Output: per suite and type, the regression script's summary; then one line per suite,
#        `libseccomp X: N passed, N failed, N errored, N skipped of N`, and the failed tests
#        with their classification (from compat/tests/libseccomp-suite-expected.txt).
# Exit status: 0 when every failure is one listed in the expected file, 1 otherwise, 2 when
#        the setup failed, 3 when a source package could not be fetched (and nothing failed).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
compat=$(cd "$here/.." && pwd)
repo=$(cd "$compat/.." && pwd)
expected_file=$here/libseccomp-suite-expected.txt
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$repo/target/compat}
work=$(mktemp -d "${TMPDIR:-/tmp}/libseccomp-suite.XXXXXX")
if [ "${KEEP:-0}" = 1 ]; then
    echo "keeping $work"
else
    trap 'rm -rf "$work"' EXIT
fi
die() { echo "libseccomp-suite.sh: $*" >&2; exit 2; }

suites=${SUITES:-trixie bookworm}
types=${TYPES:-bpf-sim basic live}
jobs=${JOBS:-$(nproc)}

# --- 1. our library and headers ---------------------------------------------------------------
cargo build --release --quiet --manifest-path "$compat/Cargo.toml" -p libseccomp-c \
    || die "building libseccomp-c failed"
dist=$work/dist
mkdir -p "$dist/lib" "$dist/include"
cp "$CARGO_TARGET_DIR/release/libseccomp.so" "$dist/lib/libseccomp.so.2.6.0"
ln -s libseccomp.so.2.6.0 "$dist/lib/libseccomp.so.2"
ln -s libseccomp.so.2 "$dist/lib/libseccomp.so"
cp "$CARGO_TARGET_DIR/release/libseccomp.a" "$dist/lib/"
cp "$compat/libseccomp-c/include/seccomp.h" "$compat/libseccomp-c/include/seccomp-syscalls.h" \
    "$dist/include/"

# --- 2. libseccomp's sources ------------------------------------------------------------------
command -v dpkg-source >/dev/null || die "dpkg-source is missing (apt-get install dpkg-dev)"
# apt-get source finds a suite only where a deb-src line names it: a machine configured for
# its own release's sources (bookworm's, say) has none for trixie. So a suite that cannot be
# fetched gets a deb-src source of its own, once, and is tried again.
fetch() {
    (cd "$work/dl-$1" && timeout 300 apt-get source -qq --download-only "libseccomp/$1" \
        >/dev/null 2>&1)
}
add_source() {
    local file=/etc/apt/sources.list.d/pure-seccomp-libseccomp-src-$1.sources
    [ "${ALLOW_APT_CHANGES:-1}" = 1 ] && [ ! -e "$file" ] || return 1
    echo "(adding a deb-src source for $1: $file)" >&2
    cat > "$file" <<EOF
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $1
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    timeout 300 apt-get update -qq || die "apt-get update failed"
}

summary=()
status=0
for suite in $suites; do
    src=$work/src-$suite
    mkdir -p "$work/dl-$suite"
    if ! fetch "$suite" && ! { add_source "$suite" && fetch "$suite"; }; then
        echo "!!! libseccomp/$suite: apt-get source failed" >&2
        [ "$status" -ne 0 ] || status=3
        continue
    fi
    dsc=$(ls "$work/dl-$suite"/libseccomp_*.dsc | head -n1)
    (cd "$work" && dpkg-source -x "$dsc" "$src" >/dev/null 2>&1) || die "unpacking $dsc failed"
    version=$(basename "$dsc" .dsc | sed 's/^libseccomp_//; s/-[^-]*$//')
    echo
    echo "=== libseccomp $version ($suite): building its tests against pure-seccomp ==="

    # --- 3. the tools and test programs, compiled against our headers and library ------------
    cflags=(-O1 -w -I"$dist/include")
    link=(-L"$dist/lib" -lseccomp -Wl,-rpath,"$dist/lib")
    (
        cd "$src/tools" || exit 1
        gcc "${cflags[@]}" -o scmp_bpf_sim scmp_bpf_sim.c util.c || exit 1
        gcc "${cflags[@]}" -o scmp_bpf_disasm scmp_bpf_disasm.c util.c || exit 1
        for t in scmp_arch_detect scmp_sys_resolver scmp_api_level; do
            gcc "${cflags[@]}" -o $t $t.c "${link[@]}" || exit 1
        done
    ) || die "building libseccomp $version's tools failed"
    (cd "$src/tests" && gcc "${cflags[@]}" -o miniseq miniseq.c) || die "building miniseq failed"
    # One gcc per test program, $jobs at a time; a program that does not compile is reported
    # (and classified) below, not fatal.
    export work cflags_s="${cflags[*]}" link_s="${link[*]}"
    (cd "$src/tests" && ls [0-9][0-9]-*.c | sed 's/\.c$//' | xargs -P "$jobs" -I{} sh -c \
        'gcc $cflags_s -o {} {}.c util.c $link_s 2>"$work/{}.build.log" || rm -f {}')
    built=0 unbuilt=()
    for c in "$src"/tests/[0-9][0-9]-*.c; do
        t=$(basename "$c" .c)
        if [ -x "$src/tests/$t" ]; then built=$((built + 1)); else unbuilt+=("$t"); fi
    done
    echo "built $built test programs; not built: ${unbuilt[*]:-none}"
    for t in "${unbuilt[@]}"; do sed 's/^/    /' "$work/$t.build.log" | head -n 5; done
    # The programs must run on our library, not a system one.
    if ! ldd "$src/tests/01-sim-allow" | grep "libseccomp.so.2 => $dist/lib/" >/dev/null; then
        ldd "$src/tests/01-sim-allow" >&2
        die "the test programs do not resolve libseccomp.so.2 to ours"
    fi

    # --- 4. the regression script, unmodified ------------------------------------------------
    log=$work/regression-$suite.log
    : > "$log"
    # 2.6's script runs batches in parallel (-j; without -l, which forces one job, it prints
    # each batch's log whole); 2.5's has no -j and writes its log with -l.
    if grep -q 'getopts "[^"]*j' "$src/tests/regression"; then par=(-j "$jobs"); else par=(); fi
    for type in $types; do
        if [ ${#par[@]} -gt 0 ]; then
            (cd "$src/tests" && LD_LIBRARY_PATH="$dist/lib" ./regression -m c -T "$type" "${par[@]}" \
                >"$log.$type" 2>&1)
        else
            : > "$log.$type"
            (cd "$src/tests" && LD_LIBRARY_PATH="$dist/lib" ./regression -m c -T "$type" \
                -l "$log.$type" >/dev/null 2>&1)
        fi
        echo "--- $type"
        sed -n '/Regression Test Summary/,/====/p' "$log.$type" | sed '/====/d'
        cat "$log.$type" >> "$log"
    done
    sum() { grep "tests $1:" "$log" | awk '{s += $3} END {print s + 0}'; }
    run=$(sum run) passed=$(sum passed) failed=$(sum failed) errored=$(sum errored) skipped=$(sum skipped)

    # --- 5. classify the failures ------------------------------------------------------------
    # A failed or errored line of the log looks like "Test 11-basic-basic_errors%%001-00001
    # result:   FAILURE ...": the test and batch are the first field after "Test".
    unexpected=0
    echo "failures (classification from $(basename "$expected_file")):"
    while read -r id; do
        [ -n "$id" ] || continue
        name=${id%%%*}
        why=$(awk -v v="$version" -v n="$name" -F'\t' '$1 == v && $2 == n {print $3 " - " $4}' "$expected_file")
        if [ -z "$why" ]; then
            why="UNEXPECTED (not in the expected list)"
            unexpected=$((unexpected + 1))
        fi
        echo "  $id: $why"
    done < <(grep -E "result: +(FAILURE|ERROR)" "$log" | awk '{print $2}' | sort -u)
    for t in "${unbuilt[@]}"; do
        why=$(awk -v v="$version" -v n="$t" -F'\t' '$1 == v && $2 == n {print $3 " - " $4}' "$expected_file")
        [ -n "$why" ] || { why="UNEXPECTED (does not compile)"; unexpected=$((unexpected + 1)); }
        echo "  $t (not built): $why"
    done
    line="libseccomp $version: $passed passed, $failed failed, $errored errored, $skipped skipped of $run (test programs built: $built, not built: ${#unbuilt[@]}; unexpected failures: $unexpected)"
    summary+=("$line")
    [ "$unexpected" -eq 0 ] || status=1
    if [ "$run" -eq 0 ]; then
        echo "!!! libseccomp $version: no test ran" >&2
        status=1
    fi
done

echo
for l in "${summary[@]}"; do echo "$l"; done
exit $status
