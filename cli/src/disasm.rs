//! The disassembly with syscall names and architecture names resolved in comments.
//!
//! The core disassembler lists the instructions; this adds, to each comparison, what the
//! compared constant means: an ABI's name when the accumulator holds `seccomp_data.arch`,
//! a syscall's name when it holds `seccomp_data.nr`. What the accumulator holds, and which
//! ABI a path has checked, are found by a forward pass over the program (classic BPF only
//! jumps forward, so one pass in index order sees every predecessor first); where paths
//! with different states meet, the state is unknown and nothing is claimed.

use crate::arches;
use pure_seccomp::bpf::{self, Instruction};
use pure_seccomp::{Endian, ScmpArch};

const LD_W_ABS: u16 = bpf::BPF_LD | bpf::BPF_W | bpf::BPF_ABS;
const JA: u16 = bpf::BPF_JMP | bpf::BPF_JA;
const JEQ_K: u16 = bpf::BPF_JMP | bpf::BPF_JEQ | bpf::BPF_K;
const JGT_K: u16 = bpf::BPF_JMP | bpf::BPF_JGT | bpf::BPF_K;
const JGE_K: u16 = bpf::BPF_JMP | bpf::BPF_JGE | bpf::BPF_K;
const JSET_K: u16 = bpf::BPF_JMP | bpf::BPF_JSET | bpf::BPF_K;

/// What the accumulator holds.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Acc {
    Nr,
    Arch,
    Other,
}

/// The state on entry to an instruction.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct State {
    acc: Acc,
    /// The `seccomp_data.arch` value every path here has matched, if one.
    arch: Option<u32>,
}

fn merge(into: &mut Option<State>, s: State) {
    *into = Some(match *into {
        None => s,
        Some(old) => State {
            acc: if old.acc == s.acc { s.acc } else { Acc::Other },
            arch: if old.arch == s.arch { s.arch } else { None },
        },
    });
}

/// The comment for each instruction (empty when there is nothing to add). `default_abi`
/// names syscall numbers compared where no path has checked the architecture.
pub fn comments(prog: &[Instruction], default_abi: ScmpArch) -> Vec<String> {
    let n = prog.len();
    let mut state: Vec<Option<State>> = vec![None; n];
    let mut out = vec![String::new(); n];
    if n == 0 {
        return out;
    }
    state[0] = Some(State {
        acc: Acc::Other,
        arch: None,
    });
    for i in 0..n {
        let Some(s) = state[i] else { continue };
        let ins = prog[i];
        let flow = |by: u64, st: State, state: &mut Vec<Option<State>>| {
            let t = i as u64 + 1 + by;
            if let Ok(t) = usize::try_from(t) {
                if t < n {
                    merge(&mut state[t], st);
                }
            }
        };
        match ins.code {
            LD_W_ABS => {
                let acc = match ins.k {
                    0 => Acc::Nr,
                    4 => Acc::Arch,
                    _ => Acc::Other,
                };
                flow(0, State { acc, ..s }, &mut state);
            }
            JA => flow(u64::from(ins.k), s, &mut state),
            JEQ_K | JGT_K | JGE_K | JSET_K => {
                let mut taken = s;
                if ins.code == JEQ_K && s.acc == Acc::Arch {
                    taken.arch = Some(ins.k);
                }
                out[i] = describe(ins, s, default_abi);
                flow(u64::from(ins.jt), taken, &mut state);
                flow(u64::from(ins.jf), s, &mut state);
            }
            c if c & 0x07 == bpf::BPF_RET => {}
            c if c & 0x07 == bpf::BPF_JMP => {
                // Comparisons with X: both successors, nothing known about the constant.
                flow(u64::from(ins.jt), s, &mut state);
                flow(u64::from(ins.jf), s, &mut state);
            }
            _ => flow(
                0,
                State {
                    acc: Acc::Other,
                    ..s
                },
                &mut state,
            ),
        }
    }
    out
}

fn describe(ins: Instruction, s: State, default_abi: ScmpArch) -> String {
    let k = ins.k;
    match s.acc {
        Acc::Arch => {
            let names: Vec<&str> = arches::names_of_audit(k)
                .into_iter()
                .map(arches::short)
                .collect();
            if names.is_empty() {
                "unknown architecture".into()
            } else {
                names.join("/")
            }
        }
        Acc::Nr => {
            if ins.code == JSET_K && k == arches::X32_BIT {
                return "x32 bit".into();
            }
            if ins.code == JGE_K && k == arches::X32_BIT {
                return "x32 numbers".into();
            }
            let abi = match s.arch {
                Some(token) => arches::abi_of_call(token, k),
                None => Some(default_abi),
            };
            let Some(abi) = abi else {
                return String::new();
            };
            let (nr, rel) = match ins.code {
                JGT_K => (k.wrapping_add(1), ">= "),
                JGE_K => (k, ">= "),
                JSET_K => return String::new(),
                _ => (k, ""),
            };
            match arches::syscall_name(abi, nr) {
                Some(name) => format!("{rel}{name}"),
                None => String::new(),
            }
        }
        Acc::Other => String::new(),
    }
}

/// The listing with the comments added.
pub fn listing(prog: &[Instruction], endian: Endian, default_abi: ScmpArch) -> Vec<String> {
    let text = bpf::disassemble_for(prog, endian);
    let notes = comments(prog, default_abi);
    text.lines()
        .zip(notes)
        .map(|(line, note)| {
            if note.is_empty() {
                line.to_string()
            } else if line.contains("  ; ") {
                format!("{line}, {note}")
            } else {
                format!("{line}  ; {note}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pure_seccomp::{ScmpAction, ScmpFilterContext, ScmpSyscall};

    #[test]
    fn names_resolved_in_a_multi_abi_filter() {
        let mut ctx = ScmpFilterContext::new(ScmpAction::Errno(1)).unwrap();
        ctx.remove_arch(ScmpArch::native()).unwrap();
        ctx.add_arch(ScmpArch::X8664).unwrap();
        ctx.add_arch(ScmpArch::X86).unwrap();
        for name in ["execve", "getppid"] {
            ctx.add_rule(ScmpAction::Allow, ScmpSyscall::from_name(name).unwrap())
                .unwrap();
        }
        let prog = bpf::decode(&ctx.export_bpf_mem().unwrap(), Endian::Little).unwrap();
        let text = listing(&prog, Endian::Little, ScmpArch::X8664).join("\n");
        assert!(
            text.contains("#0xc000003e") && text.contains("; x86_64/x32"),
            "{text}"
        );
        assert!(text.contains("; x86\n") || text.contains("; x86"), "{text}");
        // execve is 59 on x86_64 and 11 on x86: each named in its own section.
        assert!(text.contains("#0x3b") && text.contains("#0xb "), "{text}");
        // (A range test names its first syscall: `; >= getppid`.)
        assert_eq!(text.matches("execve").count(), 2, "{text}");
        assert_eq!(text.matches("getppid").count(), 2, "{text}");
    }
}
