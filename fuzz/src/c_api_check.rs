//! What the `c_api` target checks: a random sequence of libseccomp's C calls, made through
//! `compat/libseccomp-sys` (the C-ABI shell) on one filter and through pure-seccomp's Rust
//! API on another, gives the same answers. Each call succeeds on one side exactly when it
//! does on the other, and after each call both filters export the same program and read the
//! same attributes. Values the C API must refuse (unknown actions and architectures, the
//! sentinel attributes and operators, an argument index over 5, more than six conditions)
//! are refused with a negative errno, and leave the filter as it was.
//!
//! The input is decoded byte by byte (no `arbitrary`), so that the compatibility crates'
//! tests can replay the corpus on stable (`compat/libseccomp-sys/src/tests.rs` includes this
//! file); the includer provides the shell's items as `super::sys`.

use super::sys::{
    scmp_arg_cmp, scmp_compare, scmp_filter_attr, scmp_filter_ctx, seccomp_arch_add,
    seccomp_arch_exist, seccomp_arch_remove, seccomp_attr_get, seccomp_attr_set,
    seccomp_export_bpf_mem, seccomp_init, seccomp_release, seccomp_reset, seccomp_rule_add_array,
    seccomp_rule_add_exact_array, seccomp_syscall_priority, seccomp_transaction_commit,
    seccomp_transaction_reject, seccomp_transaction_start, SCMP_ACT_ALLOW, SCMP_ACT_ERRNO,
    SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD, SCMP_ACT_LOG, SCMP_ACT_NOTIFY, SCMP_ACT_TRACE,
    SCMP_ACT_TRAP, SCMP_ARCH_X32,
};
use pure_seccomp::{
    bpf, ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterAttr, ScmpFilterContext,
    ScmpSyscall,
};

/// The input, read from the front; every read past the end is `None`, which ends the case.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.0.split_first_chunk::<N>()?;
        self.0 = rest;
        Some(*head)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take::<1>().map(|b| b[0])
    }
    fn u16(&mut self) -> Option<u16> {
        self.take().map(u16::from_le_bytes)
    }
    fn u64(&mut self) -> Option<u64> {
        self.take().map(u64::from_le_bytes)
    }
}

/// Linux's `EEXIST` (17 on every architecture), which `seccomp_arch_exist` returns negated
/// for an absent architecture.
const EEXIST: i32 = 17;

/// Actions the C API must refuse.
const BAD_ACTIONS: [u32; 4] = [0x1234_5678, 0xdead_beef, 0x0004_0000, 0x7ffe_0000];

/// An action as C passes it, and as Rust states it (`None`: C must refuse it).
fn action(b: &mut Bytes<'_>) -> Option<(u32, Option<ScmpAction>)> {
    Some(match b.u8()? % 10 {
        0 => (SCMP_ACT_ALLOW, Some(ScmpAction::Allow)),
        1 => (SCMP_ACT_KILL_THREAD, Some(ScmpAction::KillThread)),
        2 => (SCMP_ACT_KILL_PROCESS, Some(ScmpAction::KillProcess)),
        3 => (SCMP_ACT_TRAP, Some(ScmpAction::Trap)),
        4 => (SCMP_ACT_LOG, Some(ScmpAction::Log)),
        5 => (SCMP_ACT_NOTIFY, Some(ScmpAction::Notify)),
        6 => {
            let e = b.u16()?;
            (SCMP_ACT_ERRNO(e), Some(ScmpAction::Errno(i32::from(e))))
        }
        7 => {
            let t = b.u16()?;
            (SCMP_ACT_TRACE(t), Some(ScmpAction::Trace(t)))
        }
        _ => (BAD_ACTIONS[usize::from(b.u8()? % 4)], None),
    })
}

/// An architecture token and the Rust architecture (`None`: C must refuse it): one of every
/// ABI, `SCMP_ARCH_NATIVE` (0) or an unknown token.
fn arch(b: &mut Bytes<'_>) -> Option<(u32, Option<ScmpArch>)> {
    let all: Vec<ScmpArch> = ScmpArch::all().collect();
    let i = usize::from(b.u8()?) % (all.len() + 2);
    Some(match all.get(i) {
        // (libseccomp's tokens are the kernel's audit tokens but for x32's, which the kernel
        // shares with x86_64.)
        Some(&ScmpArch::X32) => (SCMP_ARCH_X32, Some(ScmpArch::X32)),
        Some(&a) => (bpf::audit_arch(a).expect("every ABI has a token"), Some(a)),
        None if i == all.len() => (0, Some(ScmpArch::Native)),
        None => (0xdead, None),
    })
}

/// A syscall number: a name's on the native ABI, a pseudo number, or raw.
fn syscall(b: &mut Bytes<'_>) -> Option<i32> {
    const NAMES: [&str; 8] = [
        "read", "write", "openat", "ioctl", "socket", "clone", "mmap", "ptrace",
    ];
    Some(match b.u8()? % 4 {
        0 | 1 => {
            let name = NAMES[usize::from(b.u8()?) % NAMES.len()];
            ScmpSyscall::from_name(name).map_or(-1, |s| s.as_raw_syscall())
        }
        2 => [-1, -101, -10_060, 0x4000_0000][usize::from(b.u8()? % 4)],
        _ => i32::from(b.u16()?) - 10,
    })
}

/// The operators in C's numbering (the two sentinels included: C must refuse them).
const OPS: [scmp_compare; 9] = [
    scmp_compare::_SCMP_CMP_MIN,
    scmp_compare::SCMP_CMP_NE,
    scmp_compare::SCMP_CMP_LT,
    scmp_compare::SCMP_CMP_LE,
    scmp_compare::SCMP_CMP_EQ,
    scmp_compare::SCMP_CMP_GE,
    scmp_compare::SCMP_CMP_GT,
    scmp_compare::SCMP_CMP_MASKED_EQ,
    scmp_compare::_SCMP_CMP_MAX,
];

/// A condition as C passes it, and as Rust states it (`None`: C must refuse it).
fn condition(b: &mut Bytes<'_>) -> Option<(scmp_arg_cmp, Option<ScmpArgCompare>)> {
    let arg = u32::from(b.u8()? % 8);
    let op = OPS[usize::from(b.u8()?) % OPS.len()];
    let (datum_a, datum_b) = (b.u64()?, b.u64()?);
    let rust_op = match op {
        scmp_compare::SCMP_CMP_NE => Some(ScmpCompareOp::NotEqual),
        scmp_compare::SCMP_CMP_LT => Some(ScmpCompareOp::Less),
        scmp_compare::SCMP_CMP_LE => Some(ScmpCompareOp::LessOrEqual),
        scmp_compare::SCMP_CMP_EQ => Some(ScmpCompareOp::Equal),
        scmp_compare::SCMP_CMP_GE => Some(ScmpCompareOp::GreaterEqual),
        scmp_compare::SCMP_CMP_GT => Some(ScmpCompareOp::Greater),
        scmp_compare::SCMP_CMP_MASKED_EQ => Some(ScmpCompareOp::MaskedEqual(datum_a)),
        scmp_compare::_SCMP_CMP_MIN | scmp_compare::_SCMP_CMP_MAX => None,
    };
    let datum = if op == scmp_compare::SCMP_CMP_MASKED_EQ {
        datum_b
    } else {
        datum_a
    };
    let c = scmp_arg_cmp {
        arg,
        op,
        datum_a,
        datum_b,
    };
    Some((c, rust_op.map(|o| ScmpArgCompare::new(arg, o, datum))))
}

/// The attributes in C's numbering, and Rust's (`None`: the sentinels, which C refuses).
const ATTRS: [(scmp_filter_attr, Option<ScmpFilterAttr>); 12] = [
    (scmp_filter_attr::_SCMP_FLTATR_MIN, None),
    (
        scmp_filter_attr::SCMP_FLTATR_ACT_DEFAULT,
        Some(ScmpFilterAttr::ActDefault),
    ),
    (
        scmp_filter_attr::SCMP_FLTATR_ACT_BADARCH,
        Some(ScmpFilterAttr::ActBadArch),
    ),
    (
        scmp_filter_attr::SCMP_FLTATR_CTL_NNP,
        Some(ScmpFilterAttr::CtlNnp),
    ),
    (
        scmp_filter_attr::SCMP_FLTATR_CTL_TSYNC,
        Some(ScmpFilterAttr::CtlTsync),
    ),
    (
        scmp_filter_attr::SCMP_FLTATR_API_TSKIP,
        Some(ScmpFilterAttr::ApiTskip),
    ),
    (
        scmp_filter_attr::SCMP_FLTATR_CTL_LOG,
        Some(ScmpFilterAttr::CtlLog),
    ),
    (
        scmp_filter_attr::SCMP_FLTATR_CTL_SSB,
        Some(ScmpFilterAttr::CtlSsb),
    ),
    (
        scmp_filter_attr::SCMP_FLTATR_CTL_OPTIMIZE,
        Some(ScmpFilterAttr::CtlOptimize),
    ),
    (
        scmp_filter_attr::SCMP_FLTATR_API_SYSRAWRC,
        Some(ScmpFilterAttr::ApiSysRawRc),
    ),
    (
        scmp_filter_attr::SCMP_FLTATR_CTL_WAITKILL,
        Some(ScmpFilterAttr::CtlWaitkill),
    ),
    (scmp_filter_attr::_SCMP_FLTATR_MAX, None),
];

/// Both filters, made from the same default action; each step checks the two agree.
struct Pair {
    c: scmp_filter_ctx,
    rust: ScmpFilterContext,
    trace: Vec<String>,
}

impl Drop for Pair {
    fn drop(&mut self) {
        // SAFETY: `c` came from seccomp_init and is released once, here.
        unsafe { seccomp_release(self.c) };
    }
}

impl Pair {
    /// One call: C's return code `rc` against `want`, what the Rust call's outcome says C
    /// must return (`Ok`: exactly that; `Err`: any negative errno, with Rust's reason).
    fn step(&mut self, what: String, rc: i32, want: Result<i32, String>) {
        self.trace.push(format!("{what}: C {rc}, want {want:?}"));
        let agree = match want {
            Ok(w) => rc == w,
            Err(_) => rc < 0,
        };
        assert!(agree, "the two APIs disagree\n{}", self.trace.join("\n"));
        self.same_filters();
    }

    /// Both export the same program (or both fail to), and read the same attributes.
    fn same_filters(&self) {
        let mut len = 0usize;
        // SAFETY: a live context; a NULL buffer asks for the size.
        let rc = unsafe { seccomp_export_bpf_mem(self.c, std::ptr::null_mut(), &mut len) };
        let c_prog = (rc == 0).then(|| {
            let mut buf = vec![0u8; len];
            // SAFETY: a buffer of `len` bytes.
            let rc = unsafe { seccomp_export_bpf_mem(self.c, buf.as_mut_ptr().cast(), &mut len) };
            assert_eq!(rc, 0, "{}", self.trace.join("\n"));
            buf
        });
        let rust_prog = self.rust.export_bpf_mem().ok();
        assert!(
            c_prog == rust_prog,
            "the programs differ\n{}",
            self.trace.join("\n")
        );
        for (c_attr, rust_attr) in ATTRS {
            let mut v = 0u32;
            // SAFETY: a live context and a writable value.
            let rc = unsafe { seccomp_attr_get(self.c, c_attr, &mut v) };
            let rust = rust_attr.map(|a| self.rust.get_filter_attr(a));
            match rust {
                Some(Ok(r)) => assert_eq!((rc, v), (0, r), "{c_attr:?}\n{}", self.trace.join("\n")),
                _ => assert!(rc < 0, "{c_attr:?}: {rc}\n{}", self.trace.join("\n")),
            }
        }
    }
}

/// What C must return for a Rust call's outcome: 0, or an error.
fn done<T, E: std::fmt::Display>(r: Result<T, E>) -> Result<i32, String> {
    r.map(|_| 0).map_err(|e| e.to_string())
}

/// What `seccomp_arch_exist` must return where Rust says whether an architecture is there.
fn arch_rc<E: std::fmt::Display>(r: Result<bool, E>) -> Result<i32, String> {
    r.map(|present| if present { 0 } else { -EEXIST })
        .map_err(|e| e.to_string())
}

/// What C must return for values it must refuse (Rust makes no call).
fn refused() -> Result<i32, String> {
    Err("values C must refuse".into())
}

/// Runs the case `data` describes; panics where the two APIs disagree.
pub fn check(data: &[u8]) {
    let mut b = Bytes(data);
    let Some((raw, default)) = action(&mut b) else {
        return;
    };
    // SAFETY: always safe to call.
    let c = unsafe { seccomp_init(raw) };
    let rust = default.map(ScmpFilterContext::new);
    let Some(Ok(rust)) = rust else {
        assert!(
            c.is_null(),
            "seccomp_init({raw:#x}) made a filter Rust refuses"
        );
        return;
    };
    assert!(!c.is_null(), "seccomp_init({raw:#x}) refused {default:?}");
    let mut pair = Pair {
        c,
        rust,
        trace: vec![format!("init {raw:#x}")],
    };
    pair.same_filters();
    for _ in 0..24 {
        let Some(op) = b.u8() else {
            return;
        };
        if one_call(&mut pair, op, &mut b).is_none() {
            return;
        }
    }
}

/// The call `op` chooses, with its values read from `b`.
fn one_call(p: &mut Pair, op: u8, b: &mut Bytes<'_>) -> Option<()> {
    let c = p.c;
    // SAFETY (every call below): `c` is the live context from seccomp_init, used nowhere
    // else; arrays and out-values are valid for the counts passed.
    let (what, rc, want) = match op % 9 {
        0 | 1 => {
            let (raw, act) = action(b)?;
            let nr = syscall(b)?;
            let exact = op % 9 == 1;
            let n = usize::from(b.u8()? % 8);
            let mut c_args = Vec::new();
            let mut rust_args = Some(Vec::new());
            for _ in 0..n {
                let (ca, ra) = condition(b)?;
                c_args.push(ca);
                match (ra, rust_args.as_mut()) {
                    (Some(r), Some(v)) => v.push(r),
                    _ => rust_args = None,
                }
            }
            let add = if exact {
                seccomp_rule_add_exact_array
            } else {
                seccomp_rule_add_array
            };
            let rc = unsafe { add(c, raw, nr, n as u32, c_args.as_ptr()) };
            // (More than six conditions: C refuses them before reading any.)
            let want = match (act, rust_args) {
                (Some(a), Some(args)) if n <= 6 && exact => {
                    done(p.rust.add_rule_conditional_exact(a, nr, &args))
                }
                (Some(a), Some(args)) if n <= 6 => done(p.rust.add_rule_conditional(a, nr, &args)),
                _ => refused(),
            };
            (
                format!("rule {raw:#x} {nr} exact {exact} {c_args:?}"),
                rc,
                want,
            )
        }
        op @ 2..=4 => {
            let (token, a) = arch(b)?;
            let (name, rc, want) = match (op, a) {
                // (Rust adds a present and removes an absent architecture silently, where
                // C says -EEXIST.)
                (2, a) => (
                    "arch_add",
                    unsafe { seccomp_arch_add(c, token) },
                    a.map_or_else(refused, |a| match p.rust.is_arch_present(a) {
                        Ok(true) => Ok(-EEXIST),
                        _ => done(p.rust.add_arch(a)),
                    }),
                ),
                (3, a) => (
                    "arch_remove",
                    unsafe { seccomp_arch_remove(c, token) },
                    a.map_or_else(refused, |a| match p.rust.is_arch_present(a) {
                        Ok(false) => Ok(-EEXIST),
                        _ => done(p.rust.remove_arch(a)),
                    }),
                ),
                (_, a) => (
                    "arch_exist",
                    unsafe { seccomp_arch_exist(c, token) },
                    a.map_or_else(refused, |a| arch_rc(p.rust.is_arch_present(a))),
                ),
            };
            (format!("{name} {token:#x}"), rc, want)
        }
        5 => {
            let (c_attr, rust_attr) = ATTRS[usize::from(b.u8()?) % ATTRS.len()];
            let value = match b.u8()? % 4 {
                0 => u32::from(b.u8()? % 4),
                1 => SCMP_ACT_ALLOW,
                2 => action(b)?.0,
                _ => u32::from_le_bytes(b.take()?),
            };
            let rc = unsafe { seccomp_attr_set(c, c_attr, value) };
            let want = rust_attr.map_or_else(refused, |a| done(p.rust.set_filter_attr(a, value)));
            (format!("attr_set {c_attr:?} {value:#x}"), rc, want)
        }
        6 => {
            let nr = syscall(b)?;
            let prio = b.u8()?;
            let rc = unsafe { seccomp_syscall_priority(c, nr, prio) };
            let want = done(p.rust.set_syscall_priority(nr, prio));
            (format!("priority {nr} {prio}"), rc, want)
        }
        7 => {
            let (raw, act) = action(b)?;
            let rc = unsafe { seccomp_reset(c, raw) };
            let want = act.map_or_else(refused, |a| done(p.rust.reset(a)));
            (format!("reset {raw:#x}"), rc, want)
        }
        _ => match b.u8()? % 3 {
            0 => {
                let rc = unsafe { seccomp_transaction_start(c) };
                let want = done(p.rust.start_transaction());
                ("transaction_start".to_string(), rc, want)
            }
            1 => {
                let rc = unsafe { seccomp_transaction_commit(c) };
                let want = done(p.rust.commit_transaction());
                ("transaction_commit".to_string(), rc, want)
            }
            _ => {
                unsafe { seccomp_transaction_reject(c) };
                p.rust.reject_transaction();
                ("transaction_reject".to_string(), 0, Ok(0))
            }
        },
    };
    p.step(what, rc, want);
    Some(())
}
