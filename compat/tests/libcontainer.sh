#!/usr/bin/env bash
# youki's libcontainer 0.7.0 from the registry, with the README's two [patch.crates-io] lines:
# checks with cargo tree that its graph holds our libseccomp / libseccomp-sys and no registry
# one, then runs its own seccomp unit tests through the patch (the 9 selected by
# `cargo test --lib -- seccomp test_clone_fallback`).
# The crate is fetched at run time (nothing of it is committed). Slow: it builds libcontainer
# and its dev-dependencies (oci-spec, protobuf, ...).
# Env: CARGO_TARGET_DIR (default: <repo>/target/compat-libcontainer); KEEP=1 keeps the copy.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
compat=$(cd "$here/.." && pwd)
repo=$(cd "$compat/.." && pwd)
cargo_home=${CARGO_HOME:-$HOME/.cargo}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$repo/target/compat-libcontainer}
work=$(mktemp -d "${TMPDIR:-/tmp}/libcontainer.XXXXXX")
if [ "${KEEP:-0}" = 1 ]; then echo "keeping $work"; else trap 'rm -rf "$work"' EXIT; fi

mkdir -p "$work/fetch/src"
cat > "$work/fetch/Cargo.toml" <<TOML
[package]
name = "fetch-libcontainer"
version = "0.0.0"
edition = "2021"
publish = false
[dependencies]
libcontainer = "=0.7.0"
[workspace]
TOML
: > "$work/fetch/src/lib.rs"
(cd "$work/fetch" && cargo fetch --quiet)
src=$(ls -d "$cargo_home"/registry/src/*/libcontainer-0.7.0 | head -n1)
[ -n "$src" ] || { echo "libcontainer-0.7.0 was not unpacked under $cargo_home/registry/src" >&2; exit 2; }
cp -r "$src" "$work/libcontainer"
cd "$work/libcontainer"
cat >> Cargo.toml <<TOML

[patch.crates-io]
libseccomp = { path = "$compat/libseccomp" }
libseccomp-sys = { path = "$compat/libseccomp-sys" }

[workspace]
TOML
tree=$(cargo tree -e normal --prefix none)
echo "$tree" | grep -E "^libseccomp" | sort -u
if echo "$tree" | grep -E "^libseccomp(-sys)? " | grep -vq "(/"; then
    echo "FAIL: a registry libseccomp crate is still in libcontainer's graph" >&2
    exit 1
fi
# The seccomp module's tests, the seccomp sync tests of process::, and the clone3 ENOSYS
# fallback (a seccomp rule blocks clone3).
out=$(cargo test --lib -- seccomp test_clone_fallback 2>&1) || { echo "$out" | tail -40; exit 1; }
echo "$out" | grep -E "^test |test result"
echo "$out" | grep -q "test result: ok. 9 passed" || { echo "FAIL: expected 9 seccomp tests to pass" >&2; exit 1; }
