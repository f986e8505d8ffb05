//! The kernel's cost of a filter: syscalls timed in a forked child that loaded it, against an
//! unfiltered child.

use std::time::Instant;

/// One syscall to time: number and arguments.
#[derive(Clone, Copy, Debug)]
pub struct Probe {
    pub nr: i64,
    pub args: [u64; 6],
}

/// ns per syscall for each probe in a forked child (pinned to the CPU it starts on): first
/// unfiltered, then after loading `program` (host byte order), in the same process so that
/// both see the same memory layout and CPU. Gives (unfiltered, filtered) per probe, each the
/// median of 9 batches of `iters` calls in thread CPU time.
pub fn time_in_child(
    program: &[u8],
    probes: &[Probe],
    iters: usize,
) -> Result<Vec<(f64, f64)>, String> {
    let n = probes.len() * 2;
    let out = in_child(std::time::Duration::from_secs(120), || {
        // SAFETY: plain libc calls on this process.
        unsafe {
            let cpu = libc::sched_getcpu();
            if cpu >= 0 {
                let mut set: libc::cpu_set_t = std::mem::zeroed();
                libc::CPU_SET(cpu as usize, &mut set);
                libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
            }
        }
        let base = measure(probes, iters);
        let filtered = match pure_seccomp::load_bpf_bytes(program, pure_seccomp::LoadFlags::new()) {
            Ok(_) => measure(probes, iters),
            Err(_) => vec![f64::NAN; probes.len()],
        };
        base.iter()
            .chain(&filtered)
            .flat_map(|f| f.to_le_bytes())
            .collect()
    })
    .ok_or("the child died or hung")?;
    if out.len() != n * 8 {
        return Err("the child died".into());
    }
    let v: Vec<f64> = out
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap_or_default()))
        .collect();
    if v.iter().any(|f| f.is_nan()) {
        return Err("the kernel refused the filter".into());
    }
    let (base, filtered) = v.split_at(probes.len());
    Ok(base.iter().copied().zip(filtered.iter().copied()).collect())
}

const BATCHES: usize = 9;

/// CPU time of this thread, in ns.
pub fn thread_cpu_ns() -> u128 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid timespec to fill.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u128 * 1_000_000_000 + ts.tv_nsec as u128
}

fn measure(probes: &[Probe], iters: usize) -> Vec<f64> {
    probes
        .iter()
        .map(|p| {
            let call = || {
                // SAFETY: the probes are harmless syscalls (queries, wake-ups of no waiter).
                unsafe {
                    libc::syscall(
                        p.nr, p.args[0], p.args[1], p.args[2], p.args[3], p.args[4], p.args[5],
                    )
                }
            };
            for _ in 0..iters / 10 + 1 {
                call();
            }
            // The thread's CPU time (user and kernel), not the wall clock: time spent
            // descheduled while other processes run on a shared machine does not count.
            let mut batches: Vec<f64> = (0..BATCHES)
                .map(|_| {
                    let t = thread_cpu_ns();
                    for _ in 0..iters {
                        std::hint::black_box(call());
                    }
                    (thread_cpu_ns() - t) as f64 / iters as f64
                })
                .collect();
            batches.sort_by(f64::total_cmp);
            batches[BATCHES / 2]
        })
        .collect()
}

/// Runs `f` in a forked child and gives back the bytes it returns, or `None` when it ran out
/// of `limit` (the child is then killed) or died.
pub fn in_child(limit: std::time::Duration, f: impl FnOnce() -> Vec<u8>) -> Option<Vec<u8>> {
    let mut fds = [0i32; 2];
    // SAFETY: a valid array of two ints.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        return None;
    }
    let (rd, wr) = (fds[0], fds[1]);
    // SAFETY: single-threaded at fork; the child computes, writes to the pipe and _exits.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return None;
    }
    if pid == 0 {
        // SAFETY: closing the read end, writing our result, leaving at once.
        unsafe {
            libc::close(rd);
            let out = f();
            let mut at = 0;
            while at < out.len() {
                let n = libc::write(wr, out[at..].as_ptr().cast(), out.len() - at);
                if n <= 0 {
                    break;
                }
                at += n as usize;
            }
            libc::_exit(0);
        }
    }
    // SAFETY: closing our copy of the write end.
    unsafe { libc::close(wr) };
    let deadline = Instant::now() + limit;
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let finished = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break false;
        }
        let mut pfd = libc::pollfd {
            fd: rd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let r = unsafe { libc::poll(&mut pfd, 1, left.as_millis().min(1000) as i32 + 1) };
        if r < 0 {
            break false;
        }
        if r == 0 {
            continue;
        }
        // SAFETY: reading into our buffer.
        let n = unsafe { libc::read(rd, buf.as_mut_ptr().cast(), buf.len()) };
        if n <= 0 {
            break true; // EOF: the child is done
        }
        out.extend_from_slice(&buf[..n as usize]);
    };
    let mut status = 0;
    // SAFETY: our child; our read end.
    unsafe {
        if !finished {
            libc::kill(pid, libc::SIGKILL);
        }
        libc::waitpid(pid, &mut status, 0);
        libc::close(rd);
    }
    (finished && !out.is_empty()).then_some(out)
}
