#!/usr/bin/env bash
# Programs a distribution built against the C libseccomp, run unchanged on ours
# (compat/libseccomp-c's libseccomp.so.2 through LD_LIBRARY_PATH): man-db's `man`, which loads
# a sandbox in each helper it starts, and universal-ctags' sandbox mode. Each must do its
# work. A preloaded shim (c/dump-filters.c: seccomp_load wrapped, the filter written with
# seccomp_export_bpf first) keeps every filter they load, built once by ours and once by the
# system's libseccomp; `pure-seccomp diff` then pairs each of ours with one of the C
# library's of the same verdicts. The one difference allowed is the README's difference 6:
# on x86, libseccomp allows the `ipc`/`socketcall` multiplexer for a rule with conditions on
# a multiplexed call (man-db's `shmat`), where ours gives it the default action.
# Needs gcc, the system's libseccomp.so.2, man-db and universal-ctags (.ci/run installs them);
# without one it says so and exits 3.
# Env: CARGO_TARGET_DIR as for c-api.sh (default: <repo>/target/compat); PURE_SECCOMP_BIN
# (default: <repo>/target/release/pure-seccomp, built when missing).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
compat=$(cd "$here/.." && pwd)
repo=$(cd "$compat/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$repo/target/compat}
bin=${PURE_SECCOMP_BIN:-$repo/target/release/pure-seccomp}
work=$(mktemp -d "${TMPDIR:-/tmp}/distro-binaries.XXXXXX")
trap 'rm -rf "$work"' EXIT

for tool in gcc man ctags; do
    command -v "$tool" >/dev/null || { echo "!!! no $tool: distribution binaries NOT checked" >&2; exit 3; }
done
if ! ldconfig -p | grep -q "libseccomp.so.2 "; then
    echo "!!! the system has no libseccomp.so.2: distribution binaries NOT checked" >&2
    exit 3
fi
if [ ! -x "$bin" ]; then
    cargo build --release --quiet --manifest-path "$repo/Cargo.toml" \
        --target-dir "$repo/target" -p pure-seccomp-cli
    bin=$repo/target/release/pure-seccomp
fi
cargo build --release --quiet --manifest-path "$compat/Cargo.toml" -p libseccomp-c
mkdir -p "$work/lib"
cp "$CARGO_TARGET_DIR/release/libseccomp.so" "$work/lib/libseccomp.so.2"
gcc -Wall -Werror -shared -fPIC -I"$compat/libseccomp-c/include" "$here/c/dump-filters.c" \
    -o "$work/dump-filters.so" -ldl
arch=$(uname -m)

# run NAME CHECK COMMAND...: runs the command on each library, its stdin from $work/NAME.in,
# checks its output holds CHECK, and diffs the filters it loaded.
run() {
    local name=$1 check=$2
    shift 2
    for side in ours theirs; do
        mkdir -p "$work/$name-$side"
        local libpath=
        [ "$side" = ours ] && libpath=$work/lib
        if [ "$side" = ours ]; then
            LD_LIBRARY_PATH=$libpath ldd "$(command -v "$1")" \
                | grep -q "libseccomp.so.2 => $work/lib/" \
                || { echo "FAIL: $1 does not resolve libseccomp.so.2 to ours" >&2; exit 1; }
        fi
        out=$(cd "$work" && env -u MAN_DISABLE_SECCOMP SECCOMP_DUMP_DIR="$work/$name-$side" \
            LD_PRELOAD="$work/dump-filters.so" LD_LIBRARY_PATH="$libpath" "$@" \
            < "$work/$name.in" 2>&1) \
            || { echo "FAIL: $name on $side: $out" >&2; exit 1; }
        grep -q -- "$check" <<<"$out" \
            || { echo "FAIL: $name on $side did not do its work: $out" >&2; exit 1; }
    done
    mapfile -t ours < <(ls "$work/$name-ours"/*.bpf 2>/dev/null)
    mapfile -t theirs < <(ls "$work/$name-theirs"/*.bpf 2>/dev/null)
    if [ "${#ours[@]}" = 0 ] || [ "${#ours[@]}" != "${#theirs[@]}" ]; then
        echo "FAIL: $name loaded ${#ours[@]} filter(s) on ours, ${#theirs[@]} on libseccomp" >&2
        exit 1
    fi
    local mine theirs_one matched report
    for mine in "${ours[@]}"; do
        matched=
        for theirs_one in "${theirs[@]}"; do
            [ -n "$theirs_one" ] || continue
            # Exit 1 (some difference) is judged below; 2 is an error.
            report=$("$bin" diff "$theirs_one" "$mine" --arch "$arch" --verbose) || [ $? = 1 ]
            # Every difference must be difference 6: x86's multiplexers, allowed by
            # libseccomp, not by ours. (ABI lines are indented by two, calls by four.)
            if awk '/^  [^ ]/ && !/^  x86: / { bad = 1 }
                    /^    / && !/^    (ipc \(117\)|socketcall \(102\)) .*: A ALLOW, B / { bad = 1 }
                    END { exit bad }' <<<"$report"; then
                matched=$theirs_one
                break
            fi
        done
        if [ -z "$matched" ]; then
            echo "FAIL: $name: no filter of libseccomp's has the verdicts of $mine:" >&2
            "$bin" diff "$(ls "$work/$name-theirs"/*.bpf | head -n1)" "$mine" --arch "$arch" >&2 || true
            exit 1
        fi
        for i in "${!theirs[@]}"; do [ "${theirs[$i]}" = "$matched" ] && theirs[$i]=; done
        local note=
        grep -q '^    ' <<<"$report" && note=" (but for difference 6)"
        echo "$name: $(basename "$mine") ($(($(stat -c %s "$mine") / 8)) instructions) has the" \
            "verdicts of libseccomp's $(basename "$matched") ($(($(stat -c %s "$matched") / 8)))$note"
    done
}

# man-db: a page formatted through its pipeline of sandboxed helpers.
printf '.TH FOO 1\n.SH NAME\nfoo \\- does things\n' > "$work/foo.1"
: > "$work/man.in"
run man "does things" man -l -P cat "$work/foo.1"

# universal-ctags: one request in sandbox mode.
printf 'int main(void) { return 0; }\n' > "$work/x.c"
printf '{"command": "generate-tags", "filename": "x.c", "size": %d}\n' \
    "$(stat -c %s "$work/x.c")" > "$work/ctags.in"
cat "$work/x.c" >> "$work/ctags.in"
run ctags '"name": "main"' ctags --_interactive=sandbox
echo "distro-binaries: ok"
