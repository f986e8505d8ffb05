//! Compiling the filter (the optimizer and the emitter), the program cache of
//! `precompute`, and the exports.

use super::ScmpFilterContext;
use crate::arch::Endian;
use crate::bpf::{self, Instruction};
use crate::error::Result;
use crate::kernel::LoadOptions;
use std::io::Write;
use std::os::fd::AsFd;

impl ScmpFilterContext {
    /// The compiled program (instruction values in host terms), from the precompute cache
    /// when there is one.
    pub(crate) fn program(&self) -> Result<Vec<Instruction>> {
        if let Some(p) = self.cache.borrow().as_ref() {
            return Ok(p.clone());
        }
        self.generate()
    }

    pub(super) fn generate(&self) -> Result<Vec<Instruction>> {
        crate::emit::check_len(self.generate_within(bpf::BPF_MAXINSNS)?)
    }

    /// The program, made to fit in `limit` instructions (the kernel's) where the passes
    /// allow; its length is not checked.
    ///
    /// Level 1's trees (one for each priority group) are shorter than libseccomp's chain on
    /// most filters but can be longer where the syscalls are scattered (a tree over n
    /// scattered numbers has up to 2n tests where the chain has n): where that makes the
    /// program longer than the limit by no more than the chain could save (a test a syscall,
    /// see [`chain_could_fit`]), the chain it is (the same program as with [`Passes::RANGES`]
    /// off) if that is shorter, so that what fits as libseccomp's level 1 fits as ours.
    ///
    /// [`Passes::RANGES`]: crate::opt::Passes::RANGES
    pub(super) fn generate_within(&self, limit: usize) -> Result<Vec<Instruction>> {
        use crate::opt::Passes;
        let prog = self.generate_with(self.passes, limit)?;
        if prog.len() > limit
            && self.col.attrs.optimize != 2
            && self.passes.contains(Passes::RANGES)
            && chain_could_fit(&self.col, prog.len(), limit)
        {
            let chain = self.generate_with(self.passes - Passes::RANGES, limit)?;
            if chain.len() < prog.len() {
                return Ok(chain);
            }
        }
        Ok(prog)
    }

    /// [`ScmpFilterContext::generate_within`] with the optimizer's `passes`.
    fn generate_with(&self, passes: crate::opt::Passes, limit: usize) -> Result<Vec<Instruction>> {
        use crate::opt::Passes;
        self.require_arch()?;
        let endian = self.col.endian.unwrap_or(Endian::Little);
        let mut optimized =
            crate::opt::optimize(crate::ir::lower::lower(&self.col, passes), passes, endian);
        let Some(lists) = optimized.lists.take() else {
            // Without argument trees, the one program.
            let program = optimized.trees.take().expect("the program without trees");
            return Ok(emit_fitting(&optimized, &program, passes, limit)
                .unwrap_or_else(|| crate::emit::emit(&program, passes)));
        };
        // Search trees over argument values are faster than libseccomp's `jeq` lists but
        // about a fifth longer: where that is too long for the kernel, the lists it is (the
        // same program as with the pass off). A program whose lower bound on its length
        // (`Program::min_len`: a jump a test, a load before a test reached from another
        // word, a `ret` a return) is over the kernel's limit is too long before it is
        // emitted.
        let trees = optimized.trees.take();
        let fitting = trees.and_then(|t| emit_fitting(&optimized, &t, passes, limit));
        if let Some(prog) = fitting.filter(|p| p.len() <= limit) {
            return Ok(prog);
        }
        let passes = passes - Passes::ARG_TREES;
        Ok(emit_fitting(&optimized, &lists, passes, limit)
            .unwrap_or_else(|| crate::emit::emit(&lists, passes)))
    }

    /// What the kernel loader needs besides the program.
    pub(crate) fn load_options(&self) -> LoadOptions {
        let a = &self.col.attrs;
        LoadOptions {
            nnp: a.nnp,
            tsync: a.tsync,
            log: a.log,
            ssb: a.ssb,
            waitkill: a.waitkill,
            notify_used: self.col.notify_used,
            sysrawrc: a.sysrawrc,
        }
    }

    /// The byte order of the filter's architectures (the host's when it has none).
    fn endian(&self) -> Endian {
        self.col.endian.unwrap_or(if cfg!(target_endian = "big") {
            Endian::Big
        } else {
            Endian::Little
        })
    }

    /// Writes the filter as libseccomp's human-readable pseudo filter code (PFC).
    ///
    /// ```
    /// use pure_seccomp::*;
    /// let mut ctx = ScmpFilterContext::new(ScmpAction::Allow)?;
    /// ctx.add_rule(ScmpAction::KillThread, ScmpSyscall::from_name("ptrace")?)?;
    /// ctx.export_pfc(std::io::stdout())?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn export_pfc<T: AsFd>(&self, fd: T) -> Result<()> {
        self.require_arch()?;
        write_fd(fd, crate::pfc::render(&self.col).as_bytes())
    }

    /// Writes the compiled BPF program (in the filter's byte order) to `fd`.
    ///
    /// ```
    /// use pure_seccomp::*;
    /// let ctx = ScmpFilterContext::new(ScmpAction::Allow)?;
    /// let file = std::fs::File::create(std::env::temp_dir().join("pure-seccomp-doc.bpf"))?;
    /// ctx.export_bpf(&file)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn export_bpf<T: AsFd>(&self, fd: T) -> Result<()> {
        write_fd(fd, &self.export_bpf_mem()?)
    }

    /// The compiled BPF program as bytes (8 per instruction, in the filter's byte order).
    ///
    /// # Errors
    ///
    /// When the program would exceed the kernel's 4096-instruction limit.
    ///
    /// ```
    /// use pure_seccomp::*;
    /// let ctx = ScmpFilterContext::new(ScmpAction::Allow)?;
    /// assert_eq!(ctx.export_bpf_mem()?.len() % 8, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn export_bpf_mem(&self) -> Result<Vec<u8>> {
        Ok(bpf::encode(&self.program()?, self.endian()))
    }

    /// Compiles the filter now, so that a later [`load`](Self::load) or export does no
    /// work (useful before `fork`). Any change drops the compiled program.
    ///
    /// ```
    /// use pure_seccomp::*;
    /// let ctx = ScmpFilterContext::new(ScmpAction::Allow)?;
    /// ctx.precompute()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn precompute(&self) -> Result<()> {
        let p = self.generate()?;
        *self.cache.borrow_mut() = Some(p);
        Ok(())
    }

    /// The byte order of the filter's programs (the host's when it covers no architecture).
    ///
    /// ```
    /// use pure_seccomp::*;
    /// let mut ctx = ScmpFilterContext::new(ScmpAction::Allow)?;
    /// ctx.remove_arch(ScmpArch::native())?;
    /// ctx.add_arch(ScmpArch::S390X)?;
    /// assert_eq!(ctx.byte_order(), Endian::Big);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn byte_order(&self) -> Endian {
        self.endian()
    }

    /// Evaluates the filter's rules directly (no BPF) on one `seccomp_data`: the value the
    /// compiled filter returns for it. Useful to test a policy without loading it.
    ///
    /// ```
    /// use pure_seccomp::{bpf::SeccompData, *};
    /// // An x86_64 filter, on any host: a rule by name lands on each ABI's own number.
    /// let mut ctx = ScmpFilterContext::new(ScmpAction::Allow)?;
    /// ctx.remove_arch(ScmpArch::native())?;
    /// ctx.add_arch(ScmpArch::X8664)?;
    /// ctx.add_rule(ScmpAction::Errno(1), ScmpSyscall::from_name("ptrace")?)?;
    /// // ptrace is 101 on x86_64; 0xc000_003e is x86_64's AUDIT_ARCH token.
    /// let data = SeccompData { nr: 101, arch: 0xc000_003e, ..Default::default() };
    /// assert_eq!(ctx.evaluate(&data), 0x0005_0001);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn evaluate(&self, data: &bpf::SeccompData) -> u32 {
        self.col.evaluate(data)
    }
}

#[cfg(feature = "as-ptr")]
#[cfg_attr(docsrs, doc(cfg(feature = "as-ptr")))]
impl ScmpFilterContext {
    /// The address of this filter as libseccomp's `scmp_filter_ctx` (`void *`), for the C-ABI
    /// shell `compat/libseccomp-sys` (feature `as-ptr`, which the compatibility crate
    /// `compat/libseccomp` enables so that `ctx.as_ptr()` works as in the libseccomp crate).
    ///
    /// Creating the pointer is safe; using it is up to the shell's `unsafe` functions. The
    /// pointer is valid while `self` is neither moved nor dropped, and only for reading:
    /// the shell's functions that change or release a filter refuse a pointer that did not
    /// come from its own `seccomp_init`.
    ///
    /// ```
    /// use pure_seccomp::*;
    /// let ctx = ScmpFilterContext::new(ScmpAction::Allow)?;
    /// assert!(!ctx.as_ptr().is_null());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn as_ptr(&self) -> *mut std::ffi::c_void {
        (self as *const Self).cast_mut().cast()
    }
}

fn write_fd<T: AsFd>(fd: T, bytes: &[u8]) -> Result<()> {
    let owned = fd.as_fd().try_clone_to_owned()?;
    let mut f = std::fs::File::from(owned);
    f.write_all(bytes)?;
    f.flush()?;
    Ok(())
}

/// Whether libseccomp's chain can be within `limit` where level 1's trees made `len`
/// instructions: the trees take at most a test a syscall more (and a few far jumps), so a
/// program further over stays too long as the chain, and is refused without building it
/// twice (the benchmark's 1000 rules over 368 syscalls: 6,528 instructions, 6,510 as the
/// chain).
fn chain_could_fit(col: &crate::db::Collection, len: usize, limit: usize) -> bool {
    let syscalls: usize = col.filters.iter().map(|f| f.syscalls.len()).sum();
    len.saturating_sub(limit) <= syscalls + 16
}

/// Emits `p` after `opt::sink` (where `optimized` has it on), `None` where `p`'s lower bound
/// on its length is over `limit` (too long either way). Where the sunk program is longer than
/// `limit`, `p` as it was if that is shorter (the pass copies shared low-word tests, and far
/// jumps into the high-word tests it shares may need trampolines).
fn emit_fitting(
    optimized: &crate::opt::Optimized,
    p: &crate::ir::Program,
    passes: crate::opt::Passes,
    limit: usize,
) -> Option<Vec<Instruction>> {
    if !p.may_fit(limit) {
        return None;
    }
    let Some(sunk) = optimized.sunk(p) else {
        return Some(crate::emit::emit(p, passes));
    };
    let prog = crate::emit::emit(&sunk, passes);
    if prog.len() > limit {
        let before = crate::emit::emit(p, passes);
        if before.len() < prog.len() {
            return Some(before);
        }
    }
    Some(prog)
}
