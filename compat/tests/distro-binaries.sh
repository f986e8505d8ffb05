#!/usr/bin/env bash
# Programs a distribution built against the C libseccomp, run unchanged on ours
# (compat/libseccomp-c's libseccomp.so.2 through LD_LIBRARY_PATH): man-db's `man`, which loads
# a sandbox in each helper it starts, universal-ctags' sandbox mode, systemd's own test of
# its seccomp code (test-seccomp, from Debian's systemd-tests: about 20 tests and 125
# filters, from its syscall sets to MemoryDenyWriteExecute=, each checked by the calls it
# makes under them), chrony's chronyd, crun running a container, snapd's snap-seccomp,
# sniffglue, QEMU's -sandbox, and apt's http method with APT::Sandbox::Seccomp on. Each must
# do its work. A preloaded shim (c/dump-filters.c: seccomp_load wrapped, the filter written
# with seccomp_export_bpf first; with SECCOMP_DUMP_EXPORTS, the program's own exports too)
# keeps every filter they load, built once by ours and once by the system's libseccomp;
# `pure-seccomp diff` then pairs each of ours with one of the C library's of the same
# verdicts. Two kinds of difference are allowed, each call checked:
# - the README's difference 6: on x86, libseccomp allows the `ipc`/`socketcall` multiplexer
#   for a rule with conditions on a multiplexed call (man-db's `shmat`, snapd's `socket`),
#   where ours gives it the default action;
# - a call that the system's libseccomp does not know on that ABI, or numbers otherwise
#   (c/resolve-name.c asks it): its table is older than the kernel's (Debian 12's 2.5.4 has
#   no `uretprobe`, and puts x32's `map_shadow_stack` at a pseudo-number), so a rule naming
#   the call adds nothing there and the default action decides.
# Needs gcc and the system's libseccomp.so.2; for each program, what it needs: man-db,
# universal-ctags, a qemu-system-*, and apt-get with a network (systemd-tests,
# libsystemd-shared, chrony, crun, libyajl2, busybox-static, snapd, sniffglue and libpcap0.8
# are downloaded and unpacked here, not installed; apt fetches Debian's `hello`); crun needs
# root and namespaces. .ci/run installs the rest. Exit 3 when one is missing: the others are
# still checked, and a failure still exits 1.
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

command -v gcc >/dev/null || { echo "!!! no gcc: distribution binaries NOT checked" >&2; exit 3; }
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
# Linked with the system's library, whichever header it was compiled against.
gcc -Wall -Werror -I"$compat/libseccomp-c/include" "$here/c/resolve-name.c" \
    -o "$work/resolve-name" -l:libseccomp.so.2
system_version=$("$work/resolve-name")
echo "the system's libseccomp: $system_version"
arch=$(uname -m)
skipped=()

# allowed REPORT: whether every difference `diff --verbose` reports is one of the two kinds
# above; says why for each. (ABI lines are indented by two, calls by four.)
allowed() {
    local line abi= name nr known
    while IFS= read -r line; do
        case $line in
            "    "*) ;;
            "  "*) abi=${line#  }; abi=${abi%%:*}; continue ;;
            *) continue ;;
        esac
        if [[ $abi = x86 && $line =~ ^\ {4}(ipc|socketcall)\ \([0-9]+\).*:\ A\ ALLOW,\ B\  ]]; then
            why+="      ${line#    } (difference 6)"$'\n'
            continue
        fi
        [[ $line =~ ^\ {4}([a-z0-9_]+)\ \((0x[0-9a-f]+|[0-9]+)\) ]] || return 1
        name=${BASH_REMATCH[1]}
        nr=$((BASH_REMATCH[2]))
        # A number our tables do not name: nothing to ask libseccomp.
        [ "$name" != unknown ] || return 1
        known=$("$work/resolve-name" "$abi" "$name" 2>/dev/null) || return 1
        [ "$known" != "$nr" ] || return 1
        if [ "$known" = none ]; then
            known="does not know $name on $abi"
        else
            known="numbers $name $known on $abi"
        fi
        why+="      ${line#    } (libseccomp $system_version $known)"$'\n'
    done <<<"$1"
    return 0
}

# run NAME CHECK PAIRING COMMAND...: runs the command on each library, its stdin from
# $work/NAME.in (if there is one) and $extra_libs on its library path, checks its output holds CHECK, and
# diffs the filters it loaded: with PAIRING `search`, each of ours against every one of
# libseccomp's not yet paired; with `order`, in the order loaded (by process, then by
# load), for a program whose processes start one after the other. $links_libseccomp: the
# program that loads the filters, where it is not the command.
extra_libs= links_libseccomp=
run() {
    local name=$1 check=$2 pairing=$3
    shift 3
    for side in ours theirs; do
        mkdir -p "$work/$name-$side"
        local libpath=$extra_libs
        [ "$side" = ours ] && libpath=$work/lib${extra_libs:+:$extra_libs}
        if [ "$side" = ours ]; then
            local program=${links_libseccomp:-$(command -v "$1")} libs
            # (Whole, then searched: `ldd | grep -q` fails with pipefail when grep stops
            # reading before ldd has written everything.)
            libs=$(LD_LIBRARY_PATH=$libpath ldd "$program")
            grep -q "libseccomp.so.2 => $work/lib/" <<<"$libs" \
                || { echo "FAIL: $program does not resolve libseccomp.so.2 to ours" >&2; exit 1; }
        fi
        local input=$work/$name.in
        [ -e "$input" ] || input=/dev/null
        out=$(cd "$work" && env -u MAN_DISABLE_SECCOMP SECCOMP_DUMP_DIR="$work/$name-$side" \
            LD_PRELOAD="$work/dump-filters.so" LD_LIBRARY_PATH="$libpath" "$@" \
            < "$input" 2>&1) \
            || { echo "FAIL: $name on $side: $out" >&2; exit 1; }
        grep -q -- "$check" <<<"$out" \
            || { echo "FAIL: $name on $side did not do its work: $out" >&2; exit 1; }
    done
    # PID-N.bpf: by process, then by load.
    local -a ours theirs
    mapfile -t ours < <(cd "$work/$name-ours" && ls | sort -t- -k1,1n -k2,2n)
    mapfile -t theirs < <(cd "$work/$name-theirs" && ls | sort -t- -k1,1n -k2,2n)
    if [ "${#ours[@]}" = 0 ] || [ "${#ours[@]}" != "${#theirs[@]}" ]; then
        echo "FAIL: $name loaded ${#ours[@]} filter(s) on ours, ${#theirs[@]} on libseccomp" >&2
        exit 1
    fi
    local loaded=("${theirs[@]}") candidates i j mine theirs_one matched report why lengths=(0 0) \
        same=0 explained=
    for i in "${!ours[@]}"; do
        mine=$work/$name-ours/${ours[$i]}
        matched=
        # The candidates: every filter of libseccomp's, or the one in this one's place.
        candidates=("$i")
        [ "$pairing" = order ] || candidates=("${!theirs[@]}")
        for j in "${candidates[@]}"; do
            [ -n "${theirs[$j]}" ] || continue
            theirs_one=$work/$name-theirs/${theirs[$j]}
            # Exit 1 (some difference) is judged below; 2 is an error.
            report=$("$bin" diff "$theirs_one" "$mine" --arch "$arch" --verbose) || [ $? = 1 ] \
                || { echo "FAIL: pure-seccomp diff $theirs_one $mine: an error" >&2; exit 1; }
            why=
            if allowed "$report"; then
                matched=$j
                break
            fi
        done
        if [ -z "$matched" ]; then
            echo "FAIL: $name: no filter of libseccomp's has the verdicts of ${ours[$i]}:" >&2
            # Against the first candidate.
            "$bin" diff "$work/$name-theirs/${loaded[${candidates[0]}]}" "$mine" --arch "$arch" \
                >&2 || true
            exit 1
        fi
        theirs[$matched]=
        lengths[0]=$((lengths[0] + $(stat -c %s "$mine") / 8))
        lengths[1]=$((lengths[1] + $(stat -c %s "$theirs_one") / 8))
        if [ -z "$why" ]; then
            same=$((same + 1))
        else
            explained+="    ${ours[$i]} against libseccomp's $(basename "$theirs_one"):"$'\n'"$why"
        fi
    done
    echo "$name: ${#ours[@]} filter(s) with the verdicts of libseccomp's ($same the same on" \
        "every call tried); ${lengths[0]} instructions in all, libseccomp's ${lengths[1]}"
    [ -z "$explained" ] || printf '  the differences allowed:\n%s' "$explained"
}

# man-db: a page formatted through its pipeline of sandboxed helpers.
if command -v man >/dev/null; then
    printf '.TH FOO 1\n.SH NAME\nfoo \\- does things\n' > "$work/foo.1"
    run man "does things" search man -l -P cat "$work/foo.1"
else
    skipped+=(man-db)
fi

# universal-ctags: one request in sandbox mode.
if command -v ctags >/dev/null; then
    printf 'int main(void) { return 0; }\n' > "$work/x.c"
    printf '{"command": "generate-tags", "filename": "x.c", "size": %d}\n' \
        "$(stat -c %s "$work/x.c")" > "$work/ctags.in"
    cat "$work/x.c" >> "$work/ctags.in"
    run ctags '"name": "main"' search ctags --_interactive=sandbox
else
    skipped+=(universal-ctags)
fi

# unpack DIR PACKAGE...: downloads Debian's PACKAGEs (of one version, from one source) and
# unpacks them into $work/DIR, without installing them; fails if one cannot be fetched.
unpack() {
    local dir=$work/$1 deb
    shift
    mkdir -p "$dir.debs"
    (cd "$dir.debs" && timeout 300 apt-get download -qq -o APT::Sandbox::User=root "$@" \
        >/dev/null 2>&1) || return 1
    [ "$(for deb in "$dir.debs"/*.deb; do dpkg-deb -f "$deb" Version; done | sort -u | wc -l)" = 1 ] \
        || return 1
    for deb in "$dir.debs"/*.deb; do dpkg-deb -x "$deb" "$dir"; done
}

# systemd's test-seccomp, with the libsystemd-shared of its own version (a private library
# whose ABI changes between releases). Its tests run one after the other, each in forked
# children, so the filters pair in order.
if unpack systemd systemd-tests libsystemd-shared; then
    extra_libs=$(dirname "$(find "$work/systemd" -name 'libsystemd-shared-*.so' | head -n1)")
    run systemd "nsseccomp succeeded" order "$work/systemd/usr/lib/systemd/tests/test-seccomp"
    extra_libs=
else
    skipped+=("systemd-tests (apt-get download)")
fi

# chrony's chronyd with its filter (-F 1), in the foreground, not controlling the clock (-x),
# polling a server on the loopback for two seconds (-Q -t 2: nothing answers), then exiting
# with 1, as it does without a filter when the time is up. Unpacked rather than installed,
# which would start the daemon.
if unpack chrony chrony; then
    links_libseccomp=$work/chrony/usr/sbin/chronyd
    run chrony "Timeout reached" search sh -c '"$@"; [ $? = 1 ]' sh "$links_libseccomp" -F 1 \
        -u root -x -Q -t 2 -f /dev/null -d "server 127.0.0.1 iburst"
    links_libseccomp=
else
    skipped+=("chrony (apt-get download)")
fi

# crun, the OCI runtime, with Debian's static busybox as the container and a profile that
# denies mkdir and allows personality(PER_LINUX32) alone: crun builds the filter with
# libseccomp, exports it and loads it with seccomp(2) itself, so the shim keeps its exports
# (SECCOMP_DUMP_EXPORTS). Run in a mount namespace of its own, where /sys/fs/cgroup is
# cgroup2 alone: crun refuses a hybrid hierarchy, even with its cgroup manager disabled. A
# first run on the system's library, without the shim, tells whether this machine can run a
# container at all.
if unpack crun crun && unpack yajl libyajl2 && unpack busybox busybox-static; then
    bundle=$work/bundle
    mkdir -p "$bundle/rootfs/bin" "$bundle/rootfs/dev" "$bundle/rootfs/proc" "$bundle/rootfs/tmp"
    cp "$work/busybox/bin/busybox" "$bundle/rootfs/bin/"
    cat > "$bundle/config.json" <<'JSON'
{
  "ociVersion": "1.0.0",
  "process": {
    "user": {"uid": 0, "gid": 0},
    "cwd": "/",
    "args": ["/bin/busybox", "sh", "-c",
      "/bin/busybox mkdir /tmp/x 2>/dev/null; a=$?; /bin/busybox linux32 /bin/busybox true; b=$?; /bin/busybox linux64 /bin/busybox true 2>/dev/null; echo verdicts $a $b $?"],
    "noNewPrivileges": true
  },
  "root": {"path": "rootfs"},
  "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
  "linux": {
    "namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "ipc"}, {"type": "uts"}],
    "seccomp": {
      "defaultAction": "SCMP_ACT_ALLOW",
      "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
      "syscalls": [
        {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
        {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
         "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_NE"}]}
      ]
    }
  }
}
JSON
    extra_libs=$(dirname "$(find "$work/yajl" -name 'libyajl.so.2' | head -n1)")
    links_libseccomp=$work/crun/usr/bin/crun
    # (A container of its own name each time, its state under $work.)
    container=(unshare -m sh -c 'umount -R /sys/fs/cgroup 2>/dev/null;
        mount -t cgroup2 none /sys/fs/cgroup && exec "$@" run -b "$0" "t$$"' "$bundle"
        "$links_libseccomp" --root "$work/crun-state" --cgroup-manager=disabled)
    if probe=$(LD_LIBRARY_PATH=$extra_libs "${container[@]}" 2>&1) && [[ $probe == *"verdicts "* ]]
    then
        # mkdir refused (1), personality(PER_LINUX32) allowed (0), personality(PER_LINUX) not.
        run crun "verdicts 1 0 1" search env SECCOMP_DUMP_EXPORTS=1 "${container[@]}"
    else
        skipped+=("crun (no container runs here: ${probe%%$'\n'*})")
    fi
    extra_libs= links_libseccomp=
else
    skipped+=("crun (apt-get download)")
fi

# snapd's snap-seccomp (Go, through libseccomp-golang), compiling a profile in snapd's own
# syntax (values, masks, ranges, `!=`, user names, denials) for the host's ABIs and their
# companions: it exports the program to a file and loads nothing, so the shim keeps its
# exports.
if unpack snapd snapd; then
    cat > "$work/snap.profile" <<'PROFILE'
read
write
close
exit_group
futex
mmap
mprotect
socket AF_UNIX
socket AF_INET SOCK_STREAM
socket AF_INET6 - 0
ioctl - !TIOCSTI
prctl PR_SET_NAME
setpriority PRIO_PROCESS 0 >=0
fchown - 0 0
chown - u:root g:root
mknod - |S_IFREG
personality 0
personality 8
~ptrace
~mount
PROFILE
    links_libseccomp=$work/snapd/usr/lib/snapd/snap-seccomp
    run snap-seccomp "compiled" search env SECCOMP_DUMP_EXPORTS=1 sh -c \
        '"$0" compile "$1" "$1.bpf" && echo compiled' "$links_libseccomp" "$work/snap.profile"
    links_libseccomp=
else
    skipped+=("snapd (apt-get download)")
fi

# sniffglue (Rust, through the syscallz crate's C bindings), reading a capture of one DNS
# query from a file under its two filters (the second, tighter, once the capture is open).
if unpack sniffglue sniffglue && unpack pcap libpcap0.8; then
    # pcap header (little-endian, Ethernet), then one Ethernet/IPv4/UDP packet: a DNS query
    # for example.com from 10.0.0.1 to 10.0.0.2.
    printf '%b' \
        '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x01\x00\x00\x00' \
        '\x00\xf1\x53\x65\x00\x00\x00\x00\x47\x00\x00\x00\x47\x00\x00\x00\x02\x00\x00\x00\x00\x02\x02\x00' \
        '\x00\x00\x00\x01\x08\x00\x45\x00\x00\x39\x00\x01\x00\x00\x40\x11\x66\xb1\x0a\x00\x00\x01\x0a\x00' \
        '\x00\x02\x9c\x40\x00\x35\x00\x25\x00\x00\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07\x65' \
        '\x78\x61\x6d\x70\x6c\x65\x03\x63\x6f\x6d\x00\x00\x01\x00\x01' > "$work/dns.pcap"
    extra_libs=$(dirname "$(find "$work/pcap" -name 'libpcap.so.0.8' | head -n1)")
    run sniffglue '(A, "example.com")' search "$work/sniffglue/usr/bin/sniffglue" -n 1 \
        -r "$work/dns.pcap"
    extra_libs=
else
    skipped+=("sniffglue (apt-get download)")
fi

# QEMU's -sandbox (every option on: its deny-list of obsolete, privileged, process-spawning
# and resource-control calls, with masked `clone` flags and argument checks), on an empty
# machine whose monitor answers `info version` and quits. Any qemu-system-* will do (.ci/run's
# arm64 VM step installs qemu-system-aarch64).
qemu=$(command -v qemu-system-x86_64 qemu-system-aarch64 qemu-system-s390x \
    qemu-system-riscv64 | head -n1 || true)
if [ -n "$qemu" ]; then
    printf 'info version\nquit\n' > "$work/qemu.in"
    version=$("$qemu" --version | sed -n 's/^QEMU emulator version \([0-9.]*\).*/\1/p')
    run qemu "$version" search "$qemu" -M none -display none -nodefaults -monitor stdio \
        -sandbox on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny
else
    skipped+=("QEMU (no qemu-system-*)")
fi

# apt: its download methods load a filter of their own when APT::Sandbox::Seccomp is on (off
# by default in Debian 12); `http` fetching a small package. (Run as root, since the methods'
# sandbox user could not write the filters out.) A plain download first, so that a network
# that fails skips rather than fails.
if unpack hello hello; then
    links_libseccomp=/usr/lib/apt/methods/http
    # (The first side's download removed, or the second would find it there and fetch nothing.)
    run apt "Fetched" search sh -c 'rm -f hello_*.deb && exec apt-get -o APT::Sandbox::Seccomp=true \
        -o APT::Sandbox::User=root download hello'
    links_libseccomp=
else
    skipped+=("apt (apt-get download hello)")
fi

if [ "${#skipped[@]}" -gt 0 ]; then
    echo "!!! not checked: ${skipped[*]}" >&2
    exit 3
fi
echo "distro-binaries: ok"
