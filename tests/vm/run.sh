#!/usr/bin/env bash
# Boots a Debian kernel of another architecture under qemu-system with `kernel-check` (the
# workspace member) as /init, and passes when it prints its PASS line. See tests/vm/README.md.
#
#   tests/vm/run.sh aarch64   # Debian's arm64 cloud kernel, kernel-check built for aarch64 musl
#   tests/vm/run.sh s390x     # Debian's s390x kernel (big-endian), kernel-check built for s390x
#   tests/vm/run.sh riscv64   # Debian 13's riscv64 kernel, kernel-check built for riscv64
#   tests/vm/run.sh x86_64    # Debian's amd64 kernel with x32 on (syscall.x32=y), x86_64 musl
#
# All four also load programs exported on this (x86_64) host for the VM's architecture, in its
# byte order, with the verdicts this host's simulator predicted (kernel-check export).
# Needs root for apt (it installs what is missing). Work files go to $VM_WORK
# (default: $CARGO_TARGET_DIR or target, /vm-ARCH). Prints the time of each phase.
#
# Exit status: 0 PASS; 1 the check failed (FAIL line, no PASS line, timeout, build error);
# 3 what it needs could not be installed or downloaded (apt, rustup): nothing was checked.
set -euo pipefail

arch="${1:?usage: tests/vm/run.sh aarch64|s390x|riscv64|x86_64}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
work="${VM_WORK:-$target_dir/vm-$arch}"
timeout_s="${VM_TIMEOUT:-300}"
# VM_TESTS=0: kernel-check's own checks alone, without the crate's kernel tests and the
# command's (which take a build of the library's tests for the target).
with_tests="${VM_TESTS:-1}"
cmdline_extra=()

case "$arch" in
aarch64)
    deb_arch=arm64
    meta=linux-image-cloud-arm64
    qemu=qemu-system-aarch64
    qemu_pkg=qemu-system-arm
    rust_target=aarch64-unknown-linux-musl
    qemu_args=(-M virt -cpu cortex-a57)
    console=ttyAMA0
    ;;
s390x)
    deb_arch=s390x
    meta=linux-image-s390x
    qemu=qemu-system-s390x
    qemu_pkg=qemu-system-misc
    rust_target=s390x-unknown-linux-gnu
    qemu_args=(-M s390-ccw-virtio)
    console=ttysclp0
    ;;
riscv64)
    deb_arch=riscv64
    meta=linux-image-riscv64
    qemu=qemu-system-riscv64
    qemu_pkg=qemu-system-misc
    rust_target=riscv64gc-unknown-linux-gnu
    # (OpenSBI, which qemu-system-data ships, as the firmware.)
    qemu_args=(-M virt -bios default)
    console=ttyS0
    ;;
x86_64)
    deb_arch=amd64
    meta=linux-image-amd64
    qemu=qemu-system-x86_64
    qemu_pkg=qemu-system-x86
    rust_target=x86_64-unknown-linux-musl
    # Emulated (TCG), as the others: KVM inside a VM (the project's machines are Firecracker
    # VMs with /dev/kvm) aborted on an MSR with `-cpu host` and hung with the others. Debian
    # builds the x32 ABI in but leaves it off: `syscall.x32=y` turns it on, so that the
    # allowed x32 calls of kernel-check's x32 cases run.
    qemu_args=(-M q35 -cpu max)
    console=ttyS0
    cmdline_extra=(syscall.x32=y)
    ;;
*)
    echo "unknown architecture $arch (aarch64, s390x, riscv64 or x86_64)" >&2
    exit 2
    ;;
esac

t0=$SECONDS
phase() { echo "--- [$arch] $* ($((SECONDS - t0))s so far)"; }
setup_failed() {
    echo "!!! [$arch] setup failed: $*; the $arch kernel check did NOT run" >&2
    exit 3
}

phase "packages: $qemu, cpio, the $deb_arch kernel"
need=()
command -v "$qemu" >/dev/null || need+=("$qemu_pkg")
command -v cpio >/dev/null || need+=(cpio)
if [[ $arch == aarch64 ]] && ! command -v arm-linux-gnueabihf-gcc >/dev/null; then
    # Optional: the 32-bit arm checker (compat ABI). rustup has no arm musl standard library
    # here, so it is glibc, static, linked by Debian's cross linker.
    need+=(gcc-arm-linux-gnueabihf libc6-dev-armhf-cross)
fi
if [[ $arch == s390x ]] && ! command -v s390x-linux-gnu-gcc >/dev/null; then
    # The s390x Rust target is glibc-only: a static binary needs Debian's cross linker and
    # the s390x C library.
    need+=(gcc-s390x-linux-gnu libc6-dev-s390x-cross)
fi
if [[ $arch == riscv64 ]] && ! command -v riscv64-linux-gnu-gcc >/dev/null; then
    # rustup has no riscv64 musl standard library here: glibc, static, as for s390x.
    need+=(gcc-riscv64-linux-gnu libc6-dev-riscv64-cross)
fi
# apt's options for the VM's packages (the kernel, busybox): none but the architecture for
# arm64 and s390x, which this Debian release has; Debian 12 has no riscv64, so its packages
# come from Debian 13 through an apt state of this script's own (sources, lists, cache under
# $work/apt; signatures checked with the archive keyring), leaving the machine's apt alone.
apt_vm=()
if [[ $arch == riscv64 ]]; then
    own="$work/apt"
    mkdir -p "$own/lists/partial" "$own/cache/archives/partial"
    echo "deb [arch=riscv64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]" \
        "http://deb.debian.org/debian trixie main" >"$own/sources.list"
    apt_vm=(-o Dir::Etc::SourceList="$own/sources.list" -o Dir::Etc::SourceParts=/dev/null
        -o Dir::State::Lists="$own/lists" -o Dir::Cache="$own/cache"
        -o Dir::State::status=/dev/null -o APT::Architecture=riscv64
        -o APT::Architectures::=riscv64)
    timeout 300 apt-get "${apt_vm[@]}" update -qq || setup_failed "apt-get update (Debian 13, riscv64)"
    updated=1
elif [[ $deb_arch != "$(dpkg --print-architecture)" ]] &&
    ! dpkg --print-foreign-architectures | grep -x "$deb_arch" >/dev/null; then
    dpkg --add-architecture "$deb_arch" || setup_failed "dpkg --add-architecture $deb_arch"
    updated=
else
    updated=1
fi
if [[ ${#need[@]} -gt 0 || -z $updated ]]; then
    timeout 300 apt-get update -qq || setup_failed "apt-get update"
fi
if [[ ${#need[@]} -gt 0 ]]; then
    DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq --no-install-recommends \
        "${need[@]}" >/dev/null || setup_failed "apt-get install ${need[*]}"
fi
# The metapackage names the current kernel package; fetch that one only.
pkg="$(apt-cache "${apt_vm[@]}" depends "$meta:$deb_arch" | awk '/Depends: linux-image-[0-9]/ { sub(/:.*/, "", $2); print $2; exit }')"
[[ -n $pkg ]] || setup_failed "no kernel package behind $meta:$deb_arch"
# Copies the file at $2 (a path or glob; or the same under usr/, where Debian 13 moved /bin)
# in the $deb_arch package $1 to $3, once: the package alone is downloaded (`apt-get
# download`) and unpacked with dpkg-deb, not installed.
fetch_from_package() {
    local package=$1 inside=$2 dest=$3 deb found
    [[ -f $dest ]] && return
    rm -rf "$work/deb" && mkdir -p "$work/deb"
    (cd "$work/deb" && timeout 300 apt-get "${apt_vm[@]}" download -q "$package:$deb_arch" 2>&1 |
        grep -v "^W: Download is performed unsandboxed" || true)
    deb="$(ls "$work"/deb/*.deb 2>/dev/null)" || setup_failed "apt-get download $package:$deb_arch"
    dpkg-deb -x "$deb" "$work/deb/x"
    found="$(compgen -G "$work/deb/x/$inside" || compgen -G "$work/deb/x/usr/$inside")" ||
        setup_failed "no $inside in $package:$deb_arch"
    cp "$(head -n 1 <<<"$found")" "$dest"
    rm -rf "$work/deb"
}
# (riscv64's is /boot/vmlinux-*, an EFI-stub Image, which qemu boots as given.)
fetch_from_package "$pkg" "boot/vmlinu[xz]-*" "$work/kernel-$pkg"
echo "kernel: $pkg"
# A static busybox for the command's `run`/`learn` tests, which start /bin/sh, /bin/true,
# mkdir, uname and sleep (the initramfs has no other shell or utilities).
[[ $with_tests == 0 ]] || fetch_from_package busybox-static bin/busybox "$work/busybox"

phase "cargo build -p kernel-check --target $rust_target"
rustup target list --installed | grep -x "$rust_target" >/dev/null ||
    timeout 300 rustup target add "$rust_target" || setup_failed "rustup target add $rust_target"
if [[ $arch == aarch64 ]]; then
    # Linked by rust-lld, which rustup ships: no C cross toolchain.
    export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER=rust-lld
elif [[ $arch == s390x ]]; then
    export CARGO_TARGET_S390X_UNKNOWN_LINUX_GNU_LINKER=s390x-linux-gnu-gcc
    export CARGO_TARGET_S390X_UNKNOWN_LINUX_GNU_RUSTFLAGS="-C target-feature=+crt-static"
elif [[ $arch == riscv64 ]]; then
    export CARGO_TARGET_RISCV64GC_UNKNOWN_LINUX_GNU_LINKER=riscv64-linux-gnu-gcc
    export CARGO_TARGET_RISCV64GC_UNKNOWN_LINUX_GNU_RUSTFLAGS="-C target-feature=+crt-static"
fi
# (x86_64 musl links with what Rust ships and the host's cc, as .ci/run's musl step; its
# compat ABI, x86, is checked on the host kernel by .ci/run's i686 step, not here.)
cargo build --release -q -p kernel-check --target "$rust_target"
cargo build --release -q -p kernel-check
bin="$target_dir/$rust_target/release/kernel-check"
compat_bin=
if [[ $arch == aarch64 ]]; then
    # The compat ABI (32-bit arm processes on the arm64 kernel), when it can be built.
    compat_target=armv7-unknown-linux-gnueabihf
    if command -v arm-linux-gnueabihf-gcc >/dev/null &&
        { rustup target list --installed | grep -x $compat_target >/dev/null ||
            timeout 300 rustup target add $compat_target; }; then
        export CARGO_TARGET_ARMV7_UNKNOWN_LINUX_GNUEABIHF_LINKER=arm-linux-gnueabihf-gcc
        export CARGO_TARGET_ARMV7_UNKNOWN_LINUX_GNUEABIHF_RUSTFLAGS="-C target-feature=+crt-static"
        cargo build --release -q -p kernel-check --target $compat_target
        compat_bin="$target_dir/$compat_target/release/kernel-check"
    else
        echo "!!! WARNING: no $compat_target build (rustup or arm-linux-gnueabihf-gcc missing):" \
            "32-bit arm (compat) syscalls are NOT checked" >&2
    fi
fi
file "$bin" | grep -Eq "statically linked|static-pie linked" ||
    { file "$bin"; echo "kernel-check is not static" >&2; exit 1; }

# The crate's tests that load filters, built for the VM as kernel-check is (static), so
# that kernel-check runs them on the VM's kernel: every load flag, user notification,
# attributes, on a kernel of this architecture; and on the VM's own architecture the command
# (`pure-seccomp`, cli/) with its tests that load filters (`run`, `learn`), which start it as
# /bin/pure-seccomp (PURE_SECCOMP_E2E_BIN, set by kernel-check). (`--message-format=json`: the
# test binaries' paths, under deps/, where the command's binary is not; no jq needed. Both
# packages, every feature: as .ci/run's qemu-user steps build the same tests for the same
# targets, so that one build of the library serves both; with one package or other features
# cargo builds it all again, 20 s to 40 s a target.)
kernel_tests=(bad_input build_host kernel_accepts_generated kernel_ctx kernel_ctx_attrs kernel_load
    notify security)
# (Into the array named $2 the tests named after it, built for the target $1; each must build.)
build_tests() {
    local target=$1 tests=("${@:3}")
    phase "cargo test --no-run --target $target: ${tests[*]}"
    mapfile -t "$2" < <(cargo test --release -q --no-run -p pure-seccomp -p pure-seccomp-cli \
        --all-features --message-format=json --target "$target" "${tests[@]/#/--test=}" |
        sed -n 's/.*"executable":"\([^"]*\/deps\/[^"]*\)".*/\1/p')
    local -n got="$2"
    [[ ${#got[@]} == "${#tests[@]}" ]] ||
        { echo "expected ${#tests[@]} test binaries for $target, got: ${got[*]}" >&2; exit 1; }
}
bins=()
compat_bins=()
if [[ $with_tests != 0 ]]; then
    build_tests "$rust_target" bins "${kernel_tests[@]}" run_learn
    if [[ -n $compat_bin ]]; then
        build_tests "$compat_target" compat_bins "${kernel_tests[@]}"
    fi
fi

phase "initramfs: /init = kernel-check, /cases = programs exported here for $arch, /tests, /bin"
rm -rf "$work/root" && mkdir -p "$work/root"
cp "$bin" "$work/root/init"
"$target_dir/release/kernel-check" export "$arch" "$work/root/cases"
# (Each binary under its test's name, without cargo's hash.)
copy_tests() {
    mkdir -p "$1"
    for b in "${@:2}"; do
        cp "$b" "$1/$(basename "$b" | sed 's/-[0-9a-f]*$//')"
    done
}
if [[ $with_tests != 0 ]]; then
    copy_tests "$work/root/tests" "${bins[@]}"
    mkdir -p "$work/root/bin"
    cp "$target_dir/$rust_target/release/pure-seccomp" "$work/root/bin/"
    cp "$work/busybox" "$work/root/bin/busybox"
    for applet in sh true mkdir uname sleep; do
        ln -s busybox "$work/root/bin/$applet"
    done
    # The shared policy one of them compiles (`docker_like_profile`), where this host has
    # it: the tests find it through PURE_SECCOMP_SHARED=/shared, which kernel-check sets.
    shared="${PURE_SECCOMP_SHARED:-$root/../shared}"
    if [[ -f $shared/policies/docker-default.json ]]; then
        mkdir -p "$work/root/shared/policies"
        cp "$shared/policies/docker-default.json" "$work/root/shared/policies/"
    fi
fi
if [[ -n $compat_bin ]]; then
    mkdir -p "$work/root/compat"
    cp "$compat_bin" "$work/root/compat/kernel-check"
    "$target_dir/release/kernel-check" export arm "$work/root/compat/cases"
    [[ $with_tests == 0 ]] || copy_tests "$work/root/compat/tests" "${compat_bins[@]}"
fi
(cd "$work/root" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/initrd.gz"

phase "boot under $qemu (timeout ${timeout_s}s)"
boot=$SECONDS
# qemu exits 0 even when the kernel panics: the verdict is the PASS line on the console.
set +e
timeout "$timeout_s" "$qemu" "${qemu_args[@]}" -m 512 -nographic -nic none -no-reboot \
    -kernel "$work/kernel-$pkg" -initrd "$work/initrd.gz" \
    -append "console=$console panic=-1 quiet ${cmdline_extra[*]}" </dev/null >"$work/console.log" 2>&1
rc=$?
set -e
grep -E "^(compat: )?(kernel-check|kernel tests|mismatch|PASS|FAIL|exported/.*swapped|x32 calls)" "$work/console.log" || true
echo "qemu exit $rc; boot to power-off $((SECONDS - boot))s; total $((SECONDS - t0))s"
if [[ $arch == x86_64 ]] && ! grep -q "^x32 calls: this kernel runs them" "$work/console.log"; then
    echo "FAIL: the x86_64 kernel did not run x32 calls (syscall.x32=y): the allowed x32 calls" \
        "were not checked" >&2
    exit 1
fi
if grep -q "^PASS kernel-check" "$work/console.log"; then
    exit 0
fi
echo "FAIL: no PASS line from kernel-check on the $arch kernel; the console said:" >&2
tail -40 "$work/console.log" >&2
exit 1
