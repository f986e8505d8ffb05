//! Bytecode clean-ups after layout.
//!
//! * Jump threading: a jump to a `ja` goes straight to the `ja`'s target when that is within
//!   reach, and a `ja` to a `ret` becomes that `ret`.
//! * No-ops go: a `ja 0`, and a conditional jump whose two targets are the next instruction.
//! * Dead code goes: instructions no path from the first one reaches (a trampoline or a `ret`
//!   copy that threading made unused).
//!
//! Removing instructions only shortens jumps (every jump goes forward), so the program
//! stays valid; the passes repeat while they find something.

use crate::bpf::{self, Instruction};

fn is_ja(i: &Instruction) -> bool {
    i.code == bpf::BPF_JMP | bpf::BPF_JA
}

fn is_ret(i: &Instruction) -> bool {
    i.code & 0x07 == bpf::BPF_RET
}

fn is_cond(i: &Instruction) -> bool {
    i.code & 0x07 == bpf::BPF_JMP && !is_ja(i)
}

/// Tidies `prog` (a valid program); the result is valid and decides every input alike.
pub(crate) fn run(mut prog: Vec<Instruction>) -> Vec<Instruction> {
    for _ in 0..4 {
        let threaded = thread(&mut prog);
        let removed = remove_dead(&mut prog);
        if !threaded && !removed {
            break;
        }
    }
    prog
}

/// Where the `ja` at `j` ends up, following `ja` chains.
fn ja_end(prog: &[Instruction], mut j: usize) -> usize {
    let mut steps = 0;
    while j < prog.len() && is_ja(&prog[j]) && steps < prog.len() {
        j = j + 1 + prog[j].k as usize;
        steps += 1;
    }
    j
}

/// Threads jumps through `ja`s; returns whether anything changed.
fn thread(prog: &mut [Instruction]) -> bool {
    let mut changed = false;
    for i in 0..prog.len() {
        let ins = prog[i];
        if is_ja(&ins) {
            let end = ja_end(prog, i);
            if end >= prog.len() {
                continue;
            }
            if is_ret(&prog[end]) {
                prog[i] = prog[end];
                changed = true;
            } else if end != i + 1 + ins.k as usize {
                prog[i].k = (end - i - 1) as u32;
                changed = true;
            }
        } else if is_cond(&ins) {
            for t in [true, false] {
                let off = if t { ins.jt } else { ins.jf };
                let target = i + 1 + off as usize;
                if target >= prog.len() || !is_ja(&prog[target]) {
                    continue;
                }
                let end = ja_end(prog, target);
                if end < prog.len() && end - i - 1 <= 255 {
                    let d = (end - i - 1) as u8;
                    if t {
                        prog[i].jt = d;
                    } else {
                        prog[i].jf = d;
                    }
                    changed = true;
                }
            }
        }
    }
    changed
}

/// Removes unreachable instructions and no-op jumps; returns whether anything changed.
fn remove_dead(prog: &mut Vec<Instruction>) -> bool {
    let n = prog.len();
    let mut live = vec![false; n];
    let mut noop = vec![false; n];
    let mut stack = vec![0usize];
    while let Some(i) = stack.pop() {
        if i >= n || live[i] {
            continue;
        }
        live[i] = true;
        let ins = prog[i];
        if is_ret(&ins) {
            continue;
        }
        if is_ja(&ins) {
            noop[i] = ins.k == 0;
            stack.push(i + 1 + ins.k as usize);
        } else if is_cond(&ins) {
            noop[i] = ins.jt == 0 && ins.jf == 0;
            stack.push(i + 1 + ins.jt as usize);
            stack.push(i + 1 + ins.jf as usize);
        } else {
            stack.push(i + 1);
        }
    }
    let keep: Vec<bool> = (0..n).map(|i| live[i] && !noop[i]).collect();
    if keep.iter().all(|&k| k) {
        return false;
    }
    // new_at[i]: the new index of the first kept instruction at or after i.
    let mut new_at = vec![0usize; n + 1];
    let kept = keep.iter().filter(|&&k| k).count();
    new_at[n] = kept;
    for i in (0..n).rev() {
        let after = new_at[i + 1];
        new_at[i] = if keep[i] { after - 1 } else { after };
    }
    let mut out = Vec::with_capacity(kept);
    for i in 0..n {
        if !keep[i] {
            continue;
        }
        let mut ins = prog[i];
        let me = new_at[i];
        if is_ja(&ins) {
            ins.k = (new_at[i + 1 + ins.k as usize] - me - 1) as u32;
        } else if is_cond(&ins) {
            ins.jt = (new_at[i + 1 + ins.jt as usize] - me - 1) as u8;
            ins.jf = (new_at[i + 1 + ins.jf as usize] - me - 1) as u8;
        }
        out.push(ins);
    }
    *prog = out;
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bpf::*;

    #[test]
    fn threads_and_removes() {
        let prog = vec![
            Instruction::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
            Instruction::jump(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 1),
            Instruction::stmt(BPF_JMP | BPF_JA, 1),
            Instruction::stmt(BPF_RET | BPF_K, 5),
            Instruction::stmt(BPF_JMP | BPF_JA, 0),
            Instruction::stmt(BPF_RET | BPF_K, 7),
        ];
        let out = run(prog.clone());
        assert!(out.len() < prog.len());
        validate(&out).unwrap();
        for nr in 0..3 {
            let d = SeccompData {
                nr,
                ..Default::default()
            };
            let a = simulate(&prog, &d, crate::Endian::Little).unwrap();
            let b = simulate(&out, &d, crate::Endian::Little).unwrap();
            assert_eq!(a.ret, b.ret);
            assert!(b.executed <= a.executed);
        }
    }
}
