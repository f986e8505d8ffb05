#!/usr/bin/env bash
# The C library: builds libseccomp.so.2 / libseccomp.a (compat/libseccomp-c), checks its
# SONAME and exported symbols against the API, checks that include/seccomp-syscalls.h is
# what the generator writes, and compiles compat/tests/c/api.c
#   1. against our seccomp.h, linked with our libseccomp.so (run with it),
#   2. against our seccomp.h, linked statically with our libseccomp.a,
#   3. against libseccomp's own seccomp.h (Debian's libseccomp-dev, when installed), linked
#      with the system's -lseccomp and then run on ours through LD_LIBRARY_PATH: a binary
#      built for the C library runs unchanged on ours.
# Env: CARGO_TARGET_DIR as usual (default: <repo>/target/compat).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
compat=$(cd "$here/.." && pwd)
repo=$(cd "$compat/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$repo/target/compat}
work=$(mktemp -d "${TMPDIR:-/tmp}/c-api.XXXXXX")
trap 'rm -rf "$work"' EXIT

cargo build --release --quiet --manifest-path "$compat/Cargo.toml" -p libseccomp-c
rel=$CARGO_TARGET_DIR/release
inc=$compat/libseccomp-c/include
mkdir -p "$work/lib"
cp "$rel/libseccomp.so" "$work/lib/libseccomp.so.2"
ln -s libseccomp.so.2 "$work/lib/libseccomp.so"

echo "--- SONAME and symbols"
objdump -p "$work/lib/libseccomp.so.2" | grep "SONAME *libseccomp.so.2$" >/dev/null \
    || { echo "FAIL: SONAME is not libseccomp.so.2" >&2; exit 1; }
exported=$(objdump -T "$work/lib/libseccomp.so.2" | awk '$2 == "g" && $4 == ".text" {print $NF}' | sort)
declared=$(grep -oE "\bseccomp_[a-z_]+\(" "$inc/seccomp.h" | tr -d '(' | sort -u)
if [ "$exported" != "$declared" ]; then
    echo "FAIL: exported symbols differ from seccomp.h's functions:" >&2
    diff <(echo "$declared") <(echo "$exported") >&2 || true
    exit 1
fi
echo "SONAME libseccomp.so.2; $(echo "$exported" | wc -l) seccomp_* functions exported, as seccomp.h declares"

echo "--- seccomp-syscalls.h is up to date"
"$rel/gen-syscalls-h" > "$work/seccomp-syscalls.h"
diff -u "$inc/seccomp-syscalls.h" "$work/seccomp-syscalls.h" \
    || { echo "FAIL: regenerate with: cargo run -p libseccomp-c --bin gen-syscalls-h > compat/libseccomp-c/include/seccomp-syscalls.h" >&2; exit 1; }

echo "--- api.c: our header, our shared library"
gcc -Wall -Werror -I"$inc" "$here/c/api.c" -o "$work/api-shared" -L"$work/lib" -lseccomp
LD_LIBRARY_PATH=$work/lib "$work/api-shared"
LD_LIBRARY_PATH=$work/lib ldd "$work/api-shared" | grep "libseccomp.so.2 => $work/lib/" >/dev/null \
    || { echo "FAIL: api-shared did not resolve libseccomp.so.2 to ours" >&2; exit 1; }

echo "--- api.c: our header, our static library"
gcc -Wall -Werror -I"$inc" "$here/c/api.c" -o "$work/api-static" "$rel/libseccomp.a" \
    -lgcc_s -lutil -lrt -lpthread -lm -ldl
"$work/api-static"
if ldd "$work/api-static" | grep seccomp >/dev/null; then
    echo "FAIL: the static build links a libseccomp.so" >&2
    exit 1
fi

echo "--- api.c: libseccomp's own header and -lseccomp, run on ours"
if [ -f /usr/include/seccomp.h ] && ls /usr/lib/*/libseccomp.so >/dev/null 2>&1; then
    gcc -Wall -Werror "$here/c/api.c" -o "$work/api-theirs" -lseccomp
    LD_LIBRARY_PATH=$work/lib "$work/api-theirs"
    LD_LIBRARY_PATH=$work/lib ldd "$work/api-theirs" | grep "libseccomp.so.2 => $work/lib/" >/dev/null \
        || { echo "FAIL: api-theirs did not resolve libseccomp.so.2 to ours" >&2; exit 1; }
else
    echo "!!! WARNING: libseccomp-dev is not installed: the build against libseccomp's header was skipped" >&2
fi
echo "c-api: ok"
