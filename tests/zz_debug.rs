use pure_seccomp::*;
#[test]
fn dbg() {
    let mut ctx = ScmpFilterContext::new(ScmpAction::Allow).unwrap();
    ctx.__emulate_libseccomp_2_5_4(true);
    ctx.remove_arch(ScmpArch::X8664).unwrap();
    ctx.add_arch(ScmpArch::Mips).unwrap();
    ctx.add_rule(ScmpAction::KillProcess, ScmpSyscall::from_name("pread64").unwrap()).unwrap();
    ctx.set_syscall_priority(ScmpSyscall::from_name("epoll_create1").unwrap(), 191).unwrap();
    ctx.export_pfc(std::io::stdout()).unwrap();
    let p = bpf::decode(&ctx.export_bpf_mem().unwrap(), ctx.byte_order()).unwrap();
    println!("{}", bpf::disassemble(&p));
}
