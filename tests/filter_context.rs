//! API behaviour of `ScmpFilterContext` that the conformance corpus does not exercise:
//! transactions, merge, reset, precompute, attribute errors, exports of an empty filter.

use pure_seccomp::error::SeccompErrno;
use pure_seccomp::*;

mod common;

fn errno<T: std::fmt::Debug>(r: Result<T, error::SeccompError>) -> Option<SeccompErrno> {
    r.unwrap_err().errno()
}

#[test]
fn a_filter_without_architectures_cannot_be_exported() {
    let mut ctx = ScmpFilterContext::new(ScmpAction::Allow).unwrap();
    ctx.remove_arch(ScmpArch::native()).unwrap();
    assert_eq!(errno(ctx.export_bpf_mem()), Some(SeccompErrno::EINVAL));
    assert_eq!(
        errno(ctx.export_pfc(dev_null())),
        Some(SeccompErrno::EINVAL)
    );
    assert_eq!(errno(ctx.precompute()), Some(SeccompErrno::EINVAL));
    assert_eq!(
        errno(ctx.add_rule(ScmpAction::KillThread, 0)),
        Some(SeccompErrno::EINVAL)
    );
}

/// An architecture of the native byte order other than the native one, whatever the host.
fn same_order() -> ScmpArch {
    match (cfg!(target_endian = "big"), ScmpArch::native()) {
        (false, ScmpArch::Aarch64) => ScmpArch::X8664,
        (false, _) => ScmpArch::Aarch64,
        (true, ScmpArch::S390X) => ScmpArch::Ppc64,
        (true, _) => ScmpArch::S390X,
    }
}

fn dev_null() -> std::fs::File {
    std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/null")
        .unwrap()
}

#[test]
fn transactions_nest_and_roll_back() {
    let read = ScmpSyscall::from_name("read").unwrap();
    let write = ScmpSyscall::from_name("write").unwrap();
    let mut ctx = ScmpFilterContext::new(ScmpAction::Allow).unwrap();
    let empty = ctx.export_bpf_mem().unwrap();
    ctx.start_transaction().unwrap();
    ctx.add_rule(ScmpAction::KillThread, read).unwrap();
    let one = ctx.export_bpf_mem().unwrap();
    ctx.start_transaction().unwrap();
    ctx.add_rule(ScmpAction::KillThread, write).unwrap();
    ctx.reject_transaction();
    assert_eq!(ctx.export_bpf_mem().unwrap(), one);
    ctx.commit_transaction().unwrap();
    assert_eq!(ctx.export_bpf_mem().unwrap(), one);
    assert_eq!(errno(ctx.commit_transaction()), Some(SeccompErrno::EINVAL));
    ctx.start_transaction().unwrap();
    ctx.add_arch(same_order()).unwrap();
    ctx.reject_transaction();
    assert!(!ctx.is_arch_present(same_order()).unwrap());
    assert_ne!(empty, one);
}

#[test]
fn merge_checks_attributes_arches_and_byte_order() {
    // Another architecture of the native byte order, and one of the other byte order,
    // whatever the native one is.
    let native = ScmpArch::native();
    let big = cfg!(target_endian = "big");
    let same_order = same_order();
    let other_order = if big {
        ScmpArch::Aarch64
    } else {
        ScmpArch::S390X
    };
    let mut a = ScmpFilterContext::new(ScmpAction::Allow).unwrap();
    let b = ScmpFilterContext::new(ScmpAction::Allow).unwrap();
    assert_eq!(errno(a.merge(b)), Some(SeccompErrno::EEXIST));
    let c = ScmpFilterContext::new(ScmpAction::KillThread).unwrap();
    assert_eq!(errno(a.merge(c)), Some(SeccompErrno::EINVAL));
    let mut d = ScmpFilterContext::new(ScmpAction::Allow).unwrap();
    d.remove_arch(native).unwrap();
    d.add_arch(other_order).unwrap();
    assert_eq!(errno(a.merge(d)), Some(SeccompErrno::EDOM));
    let mut e = ScmpFilterContext::new(ScmpAction::Allow).unwrap();
    e.remove_arch(native).unwrap();
    e.add_arch(same_order).unwrap();
    e.add_rule(
        ScmpAction::KillThread,
        ScmpSyscall::from_name("read").unwrap(),
    )
    .unwrap();
    a.merge(e).unwrap();
    assert!(a.is_arch_present(same_order).unwrap());
}

#[test]
fn attributes_round_trip_and_refuse_bad_values() {
    let mut ctx = ScmpFilterContext::new(ScmpAction::Errno(1)).unwrap();
    assert_eq!(
        errno(ctx.set_filter_attr(ScmpFilterAttr::ActDefault, 0)),
        Some(SeccompErrno::EACCES)
    );
    assert_eq!(
        errno(ctx.set_ctl_optimize(0)),
        Some(SeccompErrno::EOPNOTSUPP)
    );
    assert_eq!(
        errno(ctx.set_ctl_optimize(3)),
        Some(SeccompErrno::EOPNOTSUPP)
    );
    assert_eq!(
        errno(ctx.set_act_badarch(ScmpAction::Errno(5000))),
        Some(SeccompErrno::EINVAL)
    );
    // Raw action values: only ERRNO and TRACE carry data.
    for bad in [
        0x7fff_0001u32,
        0x7ffc_0001,
        0x0003_0005,
        0x8000_0001,
        0x1234_0000,
    ] {
        assert_eq!(
            errno(ctx.set_filter_attr(ScmpFilterAttr::ActBadArch, bad)),
            Some(SeccompErrno::EINVAL),
            "{bad:#x}"
        );
    }
    ctx.set_filter_attr(ScmpFilterAttr::ActBadArch, 0x7ff0_ffff)
        .unwrap();
    ctx.set_act_badarch(ScmpAction::KillProcess).unwrap();
    assert_eq!(ctx.get_act_badarch().unwrap(), ScmpAction::KillProcess);
    ctx.set_ctl_nnp(false).unwrap();
    assert!(!ctx.get_ctl_nnp().unwrap());
    ctx.set_api_tskip(true).unwrap();
    assert!(ctx.get_api_tskip().unwrap());
    ctx.set_api_sysrawrc(true).unwrap();
    assert!(ctx.get_api_sysrawrc().unwrap());
    assert_eq!(
        ctx.get_filter_attr(ScmpFilterAttr::ActDefault).unwrap(),
        0x0005_0001
    );
    // Errors say what was wrong.
    let e = ctx.add_rule_conditional(
        ScmpAction::Allow,
        ScmpSyscall::from_name("read").unwrap(),
        &[
            scmp_cmp!($arg0 == 1),
            ScmpArgCompare::new(0, ScmpCompareOp::Equal, 2),
        ],
    );
    assert!(e
        .unwrap_err()
        .to_string()
        .contains("argument 0 is compared twice"));
    let e = ctx.add_rule_conditional(
        ScmpAction::Allow,
        ScmpSyscall::from_name("read").unwrap(),
        &[ScmpArgCompare::new(6, ScmpCompareOp::Equal, 2)],
    );
    assert!(e.unwrap_err().to_string().contains("out of range"));
}

#[test]
fn reset_restores_defaults_and_precompute_caches() {
    let mut ctx = ScmpFilterContext::new(ScmpAction::Allow).unwrap();
    ctx.add_arch(same_order()).unwrap();
    ctx.set_ctl_optimize(2).unwrap();
    ctx.add_rule(
        ScmpAction::KillThread,
        ScmpSyscall::from_name("read").unwrap(),
    )
    .unwrap();
    ctx.precompute().unwrap();
    let cached = ctx.export_bpf_mem().unwrap();
    assert!(!cached.is_empty());
    ctx.reset(ScmpAction::Errno(2)).unwrap();
    assert_eq!(ctx.get_act_default().unwrap(), ScmpAction::Errno(2));
    assert_eq!(ctx.get_ctl_optimize().unwrap(), 1);
    assert!(!ctx.is_arch_present(same_order()).unwrap());
    assert_ne!(ctx.export_bpf_mem().unwrap(), cached);
    assert_eq!(
        errno(ctx.reset(ScmpAction::Errno(4095))),
        Some(SeccompErrno::EINVAL)
    );
}

#[test]
fn context_is_send() {
    fn send<T: Send>(_: T) {}
    send(ScmpFilterContext::new(ScmpAction::Allow).unwrap());
    let ctx = ScmpFilterContext::new(ScmpAction::Allow).unwrap();
    std::thread::spawn(move || ctx.export_bpf_mem().unwrap())
        .join()
        .unwrap();
}

/// Search trees over argument values are about a fifth longer than libseccomp's `jeq` lists:
/// a filter that fits the kernel's 4096 instructions only as lists (10 syscalls x 400
/// distinct values, about 4080 instructions) still exports, as lists, and says the same.
#[test]
fn value_lists_too_long_as_trees_stay_lists() {
    let build = |passes: opt::Passes| {
        let mut ctx = ScmpFilterContext::new(ScmpAction::Errno(1)).unwrap();
        ctx.set_ctl_optimize(2).unwrap();
        ctx.set_opt_passes(passes);
        for nr in 0..10 {
            for v in 0..400u64 {
                let cmp = ScmpArgCompare::new(0, ScmpCompareOp::Equal, v * 3 + nr as u64 * 10_000);
                ctx.add_rule_conditional(ScmpAction::Allow, ScmpSyscall::from(nr), &[cmp])
                    .unwrap();
            }
        }
        ctx
    };
    let ctx = build(opt::Passes::all());
    let prog = ctx.export_bpf_mem().expect("fits as value lists");
    assert!(prog.len() / 8 <= 4096);
    let lists = build(opt::Passes::all() - opt::Passes::ARG_TREES)
        .export_bpf_mem()
        .unwrap();
    assert_eq!(
        prog, lists,
        "the fallback is the build without argument trees"
    );
    let endian = ctx.byte_order();
    let prog = bpf::decode(&prog, endian).unwrap();
    for nr in [0, 9] {
        for v in [0u64, 3, 4, 1197, 1198] {
            let data = bpf::SeccompData {
                nr,
                arch: common::audit_of(ScmpArch::native()),
                args: [v + nr as u64 * 10_000, 0, 0, 0, 0, 0],
                ..Default::default()
            };
            let got = bpf::simulate(&prog, &data, endian).unwrap().ret;
            assert_eq!(got, ctx.evaluate(&data), "nr {nr} value {v}");
        }
    }
}
