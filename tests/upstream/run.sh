#!/usr/bin/env bash
# Runs the `libseccomp` crate 0.4.0's own test suite against pure-seccomp, unmodified.
#
# The crate is fetched from the registry at run time (a throw-away cargo project that depends
# on `libseccomp = "=0.4.0"`, then `cargo fetch`); none of its code is kept in this
# repository. Its tests/{tests,notify,global_reset,known_syscall_names}.rs are copied into a
# temporary crate whose dependency `libseccomp` is this repository
# (`libseccomp = { package = "pure-seccomp", path = ... }`), and run with `cargo test`.
# `libseccomp_sys` (which the tests use for two constants) is replaced by a generated shim
# with those constants, so nothing links the C library. The crate's `libseccomp_v2_6` cfg
# is set, since pure-seccomp implements libseccomp 2.6.
#
# Steps, each reported and counted (one failing to compile does not hide the others):
#   1. each integration test crate: tests.rs, notify.rs, global_reset.rs
#   2. the doc examples of the crate's src/*.rs, each extracted into the documentation of
#      an empty module of the temporary crate (with the cfgs of its item), run with
#      `cargo test --doc`
#   3. tests.rs again with the `const-syscall` feature (adds test_syscall_new over
#      known_syscall_names.rs)
#   4. the doc examples of items that exist only with `const-syscall` (`ScmpSyscall::new`),
#      with that feature
#
# Usage: tests/upstream/run.sh [extra cargo test args, e.g. --release]
# Env:   KEEP=1 keeps the temporary directory; CARGO_TARGET_DIR as usual (default:
#        <repo>/target/upstream-tests, so rebuilds are incremental).
# Output: ends with the tally of tests over all steps, `N passed, N failed`, alone on a line
#        (a step that does not compile counts as one failed test).
# Exit status: 0 if every step passed, 1 if one failed, 2 if the setup failed.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cargo_home=${CARGO_HOME:-$HOME/.cargo}
work=$(mktemp -d "${TMPDIR:-/tmp}/pure-seccomp-upstream.XXXXXX")
if [ "${KEEP:-0}" = 1 ]; then
    echo "keeping $work"
else
    trap 'rm -rf "$work"' EXIT
fi
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$repo/target/upstream-tests}

die() { echo "run.sh: $*" >&2; exit 2; }

# --- 1. fetch libseccomp 0.4.0 ---------------------------------------------------------------
mkdir -p "$work/fetch/src"
cat > "$work/fetch/Cargo.toml" <<'EOF'
[package]
name = "fetch-libseccomp"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
libseccomp = "=0.4.0"

[workspace]
EOF
: > "$work/fetch/src/lib.rs"
(cd "$work/fetch" && cargo fetch --quiet) || die "cargo fetch of libseccomp 0.4.0 failed"

upstream=$(ls -d "$cargo_home"/registry/src/*/libseccomp-0.4.0 2>/dev/null | head -n1)
if [ -z "$upstream" ]; then
    # Not unpacked yet: unpack the downloaded .crate ourselves.
    crate=$(ls "$cargo_home"/registry/cache/*/libseccomp-0.4.0.crate 2>/dev/null | head -n1)
    [ -n "$crate" ] || die "libseccomp-0.4.0 not found under $cargo_home/registry"
    tar -xzf "$crate" -C "$work"
    upstream=$work/libseccomp-0.4.0
fi
echo "upstream sources: $upstream"

# --- 2. the temporary crate ------------------------------------------------------------------
t=$work/crate
mkdir -p "$t/src" "$t/tests" "$t/shim/libseccomp-sys/src"
for f in tests.rs notify.rs global_reset.rs known_syscall_names.rs; do
    cp "$upstream/tests/$f" "$t/tests/$f" || die "missing upstream tests/$f"
done
# known_syscall_names.rs is a module of tests.rs (`mod known_syscall_names;`), not a test
# crate: autotests are off and the three test crates are listed explicitly.

cat > "$t/Cargo.toml" <<EOF
[package]
name = "pure-seccomp-upstream-tests"
version = "0.0.0"
edition = "2021"
publish = false
autotests = false

[dependencies]
libseccomp = { package = "pure-seccomp", path = "$repo" }
libc = "0.2"

[dev-dependencies]
libseccomp-sys = { path = "shim/libseccomp-sys" }

[features]
const-syscall = ["libseccomp/const-syscall"]

[[test]]
name = "tests"
path = "tests/tests.rs"

[[test]]
name = "notify"
path = "tests/notify.rs"

[[test]]
name = "global_reset"
path = "tests/global_reset.rs"

[workspace]
EOF

cat > "$t/build.rs" <<'EOF'
fn main() {
    // pure-seccomp implements libseccomp 2.6: enable the crate's 2.6-only tests.
    println!("cargo::rustc-check-cfg=cfg(libseccomp_v2_6)");
    println!("cargo:rustc-cfg=libseccomp_v2_6");
}
EOF

cat > "$t/shim/libseccomp-sys/Cargo.toml" <<'EOF'
[package]
name = "libseccomp-sys"
version = "0.3.0"
edition = "2021"
publish = false

[lib]
name = "libseccomp_sys"
EOF
cat > "$t/shim/libseccomp-sys/src/lib.rs" <<'EOF'
//! The constants of libseccomp-sys that the libseccomp crate's tests use (no C library).
pub const __NR_SCMP_ERROR: std::os::raw::c_int = -1;
pub const __NR_SCMP_UNDEF: std::os::raw::c_int = -2;
EOF

# The doc examples of the upstream sources: one empty module per example, documented with
# it, so that a failing doctest is named after its origin (`src/lib.rs - api_rs_line_35`).
# An example keeps the `#[cfg(...)]` of its item and of the enclosing `impl`/`mod` blocks, as
# rustdoc only collects the examples of items that are compiled: `ScmpSyscall::new` exists
# only with the `const-syscall` feature, the `export_bpf_mem` block only with
# `libseccomp_v2_6`. Examples that need a cargo feature are named `needs_feature_*` and run
# in a step of their own with the features on.
python3 - "$upstream/src" "$t/src" <<'EOF' || die "extracting doc examples failed"
import pathlib, re, sys
src, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
doc = re.compile(r"^\s*//[/!] ?(.*)$")
noise = re.compile(r'"(\\.|[^"\\])*"|\'(\\.|[^\'\\])\'|//.*$')


def braces(code):
    """Net `{` minus `}` of a line of code, ignoring strings, char literals and comments."""
    code = noise.sub("", code)
    return code.count("{") - code.count("}")


(out / "docs").mkdir(exist_ok=True)
lib = ["//! Doc examples of the libseccomp crate 0.4.0, run against pure-seccomp.\n"]
gated = 0
for f in sorted(src.glob("*.rs")):
    lines = f.read_text().splitlines()
    block = None  # open code fence: (first line, info, body)
    waiting = []  # examples of `///` docs, waiting for their item
    attr_cfgs = []  # cfg predicates of the attributes before the next item
    scopes = []  # (depth outside the block, its cfg predicates)
    depth = 0

    def emit(examples, cfgs):
        global gated
        for start, info, body in examples:
            name = f"{f.stem}_rs_line_{start}"
            if any("feature" in c for c in cfgs):
                name = "needs_feature_" + name
                gated += 1
            md = f"From `src/{f.name}` line {start}:\n\n```{info}\n" + "\n".join(body) + "\n```\n"
            (out / "docs" / f"{name}.md").write_text(md)
            attrs = "".join(f"#[cfg({c})]\n" for c in cfgs)
            lib.append(f'{attrs}#[doc = include_str!("docs/{name}.md")]\npub mod {name} {{}}\n')

    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        m = doc.match(line)
        if m:
            text = m.group(1)
            if text.strip().startswith("```"):
                if block is None:
                    block = (i, text.strip()[3:].strip() or "rust", [])
                else:
                    if line.lstrip().startswith("//!"):
                        # Inner docs belong to the enclosing scope, whose cfgs are known.
                        emit([block], [c for _, cs in scopes for c in cs])
                    else:
                        waiting.append(block)
                    block = None
            elif block is not None:
                block[2].append(text)
            continue
        if block is not None:
            sys.exit(f"{f}:{i}: code fence not closed")
        stripped = line.strip()
        if not stripped or stripped.startswith("//"):
            continue
        if stripped.startswith("#[") or stripped.startswith("#!["):
            attr = stripped
            while attr.count("[") > attr.count("]") and i < len(lines):
                attr += " " + lines[i].strip()
                i += 1
            cfg = re.fullmatch(r"#\[cfg\((.*)\)\]", attr)
            if cfg:
                attr_cfgs.append(cfg.group(1))
            continue
        # An item (or any other code): it takes the examples and cfgs before it.
        cfgs = [c for _, cs in scopes for c in cs] + attr_cfgs
        emit(waiting, cfgs)
        waiting = []
        before = depth
        depth += braces(line)
        if depth > before and attr_cfgs:
            scopes.append((before, attr_cfgs))
        attr_cfgs = []
        while scopes and depth <= scopes[-1][0]:
            scopes.pop()
    if depth != 0 or waiting or block is not None:
        sys.exit(f"{f}: could not follow the structure (depth {depth} at the end)")
(out / "lib.rs").write_text("\n".join(lib))
print(f"extracted {len(lib) - 1} doc examples, {gated} of them need a cargo feature")
EOF

cp "$repo/Cargo.lock" "$t/Cargo.lock" 2>/dev/null || true

# --- 3. run ----------------------------------------------------------------------------------
# Each step's test counts come from libtest's `test result:` lines; a step that fails without
# any (it did not compile) counts as one failure.
failed_steps=0
passed=0
failed=0
run_step() {
    local name=$1 log=$work/step.log rc counts
    shift
    echo
    echo "=== upstream: $name ==="
    (cd "$t" && "$@") 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    counts=$(sed -n 's/^test result: [A-Za-z]*\. \([0-9]*\) passed; \([0-9]*\) failed;.*/\1 \2/p' "$log" |
        awk '{p += $1; f += $2} END {print p + 0, f + 0}')
    passed=$((passed + ${counts% *}))
    failed=$((failed + ${counts#* }))
    if [ "$rc" = 0 ]; then
        echo "=== upstream: $name: PASSED ==="
    else
        echo "=== upstream: $name: FAILED ==="
        failed_steps=$((failed_steps + 1))
        [ "${counts#* }" != 0 ] || failed=$((failed + 1))
    fi
}
# The test crates run one test at a time, as the crate's own Makefile runs them (`cargo test
# -- --test-threads 1`): their tests share process-global state (in libseccomp as here).
# notify.rs's test_user_notification loads a filter with a listener, whose fd is
# process-global, and its test_error asserts that no listener exists; tests.rs's test_set_api
# sets the API level to 1, under which test_builder_pattern's LOG rule is refused (EINVAL),
# so run in parallel threads the outcome depends on which runs first.
for test in tests notify global_reset; do
    run_step "tests/$test.rs" env RUST_TEST_THREADS=1 cargo test --test "$test" "$@"
done
run_step "doc examples" cargo test --doc "$@"
run_step "tests/tests.rs with const-syscall" \
    env RUST_TEST_THREADS=1 cargo test --test tests --features const-syscall "$@"
run_step "doc examples that need const-syscall" \
    cargo test --doc --features const-syscall needs_feature_ "$@"

echo
if [ "$failed_steps" = 0 ]; then
    echo "upstream: all steps passed"
else
    echo "upstream: $failed_steps step(s) failed"
fi
echo "$passed passed, $failed failed"
[ "$failed_steps" = 0 ] && [ "$failed" = 0 ]
