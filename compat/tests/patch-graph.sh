#!/usr/bin/env bash
# The [patch.crates-io] recipe on a dependency graph: compat/tests/patch-graph depends on a
# crate (`mid`) that asks for the registry's `libseccomp = "0.4"` and `libseccomp-sys = "0.3"`.
# Checks that the patch replaced both (cargo tree shows no registry libseccomp*), that the
# program links no libseccomp.so (ldd), and runs it.
# Env: CARGO_TARGET_DIR as usual (default: <repo>/target/compat).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$repo/target/compat}
cd "$here/patch-graph"

cargo build --release --quiet
tree=$(cargo tree -e normal,build --prefix none)
echo "$tree" | grep -E "^libseccomp" | sort -u
if echo "$tree" | grep -E "^libseccomp(-sys)? " | grep -vq "(/"; then
    echo "FAIL: a registry libseccomp crate is still in the graph" >&2
    exit 1
fi
if ! echo "$tree" | grep -q "^pure-seccomp "; then
    echo "FAIL: pure-seccomp is not in the graph" >&2
    exit 1
fi
bin=$CARGO_TARGET_DIR/release/patch-graph
if ldd "$bin" | grep -i seccomp; then
    echo "FAIL: $bin links a libseccomp shared library" >&2
    exit 1
fi
echo "ldd: no libseccomp shared library"
"$bin"
