use pure_seccomp::*;
#[test]
fn scal() {
    let mut ctx = ScmpFilterContext::new(ScmpAction::KillProcess).unwrap();
    let s = ScmpSyscall::from(0);
    for v in 0..3u64 {
        ctx.add_rule_conditional(
            ScmpAction::Allow,
            s,
            &[scmp_cmp!($arg0 == v), scmp_cmp!($arg1 <= 0x1_0000 + v)],
        )
        .unwrap();
    }
    ctx.export_pfc(std::io::stderr()).unwrap();
    let p = bpf::decode(&ctx.export_bpf_mem().unwrap(), ctx.byte_order()).unwrap();
    eprintln!("{}", bpf::disassemble(&p));
}
