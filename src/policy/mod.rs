//! Reading seccomp policy files (feature `policy`).
//!
//! A [`Policy`] is a parsed file in one of four [`Format`]s:
//!
//! * **OCI** runtime-spec profiles, as Docker, Podman and runc read them, with moby's
//!   extensions (`archMap`, `includes`/`excludes` on capabilities, architectures and kernel
//!   versions) and containers/common's symbolic `errno` fields;
//! * **Firecracker**'s seccompiler JSON: one filter per thread category (`vmm`, `api`,
//!   `vcpu`);
//! * a plain **allow-list**: one syscall name per line, or systemd's group listing (the output
//!   of `systemd-analyze syscall-filter`);
//! * **minijail**'s policy files (crosvm, ChromeOS): `syscall: expression` lines.
//!
//! For a [`Target`] (the architecture, the capabilities a container has, the kernel version)
//! [`Policy::filters`] gives one [`Recipe`] per filter the file defines: the default action,
//! the architectures and the rules, in the order the runtime that reads the format adds them.
//! [`Recipe::calls`] lists the API calls that build the filter, so that the same filter can
//! be built with another seccomp library; [`Recipe::build`] makes those calls on a
//! [`ScmpFilterContext`].
//!
//! ```
//! use pure_seccomp::policy::{Format, Policy, Target};
//! use pure_seccomp::{ScmpAction, ScmpArch};
//!
//! let policy = Policy::parse(r#"{
//!     "defaultAction": "SCMP_ACT_ERRNO",
//!     "archMap": [{"architecture": "SCMP_ARCH_X86_64",
//!                  "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]}],
//!     "syscalls": [
//!         {"names": ["read", "write", "close"], "action": "SCMP_ACT_ALLOW"},
//!         {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
//!          "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]}
//!     ]
//! }"#)?;
//! assert_eq!(policy.format(), Format::Oci);
//! assert_eq!(policy.targets(), vec![ScmpArch::X8664]);
//!
//! let recipes = policy.filters(&Target::new(ScmpArch::X8664))?;
//! let recipe = &recipes[0];
//! assert_eq!(recipe.default_action, ScmpAction::Errno(1)); // EPERM, as runc does
//! assert_eq!(recipe.arches, vec![ScmpArch::X8664, ScmpArch::X86, ScmpArch::X32]);
//! assert_eq!(recipe.rules.len(), 4);
//!
//! let program = recipe.build()?.export_bpf_mem()?;
//! assert!(!program.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # OCI profiles
//!
//! OCI runtime-spec seccomp profiles with moby's and containers/common's extensions, read as
//! moby (`profiles/seccomp`) and runc (`libcontainer/seccomp`) read them for a [`Target`]:
//!
//! * arches: the target (runc keeps the native architecture), then the `archMap` entry whose
//!   `architecture` is the target and its `subArchitectures`, or the legacy `architectures`
//!   list (one of the other byte order fails the build, as it fails runc);
//! * a syscall block is skipped when `excludes.arches` has the target's Go arch name
//!   (`amd64`, `arm64`, `386`, `mips64le`, ...), when the target has one of
//!   `excludes.caps`, when the kernel is at least `excludes.minKernel`, when
//!   `includes.arches` is set and lacks the Go arch name, when the target lacks one of
//!   `includes.caps`, or when the kernel is older than `includes.minKernel` (an unknown
//!   kernel is newer than any);
//! * `SCMP_ACT_ERRNO` / `SCMP_ACT_TRACE` take `errnoRet` (`defaultErrnoRet` for the default
//!   action), else containers/common's symbolic `errno` (`defaultErrno`), else EPERM; a rule
//!   whose action equals the default action is dropped (libseccomp would refuse it);
//! * `SCMP_CMP_MASKED_EQ` takes `value` as the mask and `valueTwo` as the datum; when a block
//!   compares one argument index more than once, each of its conditions becomes a rule of its
//!   own (ORed, as runc does), otherwise the conditions are ANDed in one rule;
//! * syscall names this crate does not know are skipped and listed in
//!   [`Recipe::skipped`];
//! * `flags`: `SECCOMP_FILTER_FLAG_LOG`, `_SPEC_ALLOW` and `_WAIT_KILLABLE_RECV` become the
//!   filter attributes `CtlLog`, `CtlSsb` and `CtlWaitkill`; `_TSYNC` is implied, as in runc.
//!
//! # Firecracker filter files
//!
//! Firecracker's seccompiler JSON: an object mapping thread categories to filters.
//!
//! ```text
//! {"vmm": {"default_action": "trap", "filter_action": "allow",
//!          "filter": [{"syscall": "ioctl", "comment": "...",
//!                      "args": [{"index": 1, "type": "dword", "op": "eq", "val": 21505,
//!                                "comment": "..."}]}]}}
//! ```
//!
//! Actions are `"allow"`, `"trap"`, `"log"`, `"kill_thread"`, `"kill_process"`,
//! `{"errno": N}` and `{"trace": N}` (N up to 65535); `op` is `"eq"`, `"ne"`, `"lt"`, `"le"`,
//! `"gt"`, `"ge"` or `{"masked_eq": MASK}`. The entries of `filter` are ORed, the conditions
//! of one entry ANDed.
//!
//! `"type": "qword"` compares the whole 64-bit argument. `"type": "dword"` compares its low
//! 32 bits only, whatever the high half holds (musl leaves garbage there for `ioctl`'s
//! request): `eq` is libseccomp's `MASKED_EQ` with mask `0xffffffff` (as seccompiler does),
//! `masked_eq` keeps the low half of its mask, and `ne`, `lt`, `le`, `gt`, `ge`, which
//! libseccomp compares on 64 bits, are rewritten exactly as ORs of `MASKED_EQ` comparisons
//! of the low half (one per bit at most), so one entry may give several rules. A dword `val`
//! must fit in 32 bits. Two conditions of one entry on the same argument are an error
//! (libseccomp cannot AND them).
//!
//! Each filter covers the target architecture alone, as seccompiler builds it. The file does
//! not say its architecture: [`Policy::from_file`] takes it from seccompiler's file names
//! (`x86_64-unknown-linux-musl.json`), [`Policy::with_arch`] sets it; a file for one
//! architecture is not built for another. Unknown fields are errors, among them a rule's
//! `action` and a condition's `arg_index`/`arg_type` (older seccompiler versions), which the
//! current one ignores or refuses. Unknown syscall names are skipped and listed in
//! [`Recipe::skipped`].
//!
//! # Allow-lists
//!
//! Plain allow-lists, and systemd's group listing.
//!
//! * A plain list has one syscall name per line; `#` starts a comment (to the end of the
//!   line); blank lines are ignored. It gives one filter, `allow-list`: the default action
//!   `ERRNO(EPERM)` (what systemd's `SystemCallErrorNumber=EPERM` gives; change
//!   [`Recipe::default_action`] for another) and an unconditional ALLOW rule per name.
//! * systemd's group listing (`systemd-analyze syscall-filter`): a line `@group` at the start
//!   of a line opens a group, and the indented lines under it are its members: syscall names
//!   or other `@group`s, which are expanded (recursively, from the same file). It gives one
//!   filter per group, named `@group`, in the order of the file.
//!
//! A `@group` in a plain list cannot be expanded (this crate does not carry systemd's group
//! tables, which change with each systemd release): it is an error that says so. A token
//! that is not a name (spaces inside, other characters than letters, digits and `_`) is an
//! error naming its line. A well-formed name this crate does not know is skipped and listed
//! in [`Recipe::skipped`]. A list with no name at all (empty, or comments only), or none this
//! crate knows, is an error: its filter would refuse every syscall, exit included, which is
//! seldom what was meant (an OCI profile with `"syscalls": []` says so on purpose).
//!
//! # minijail policy files
//!
//! minijail's seccomp policies, as crosvm's `jail/seccomp/<arch>/*.policy`, read as minijail's
//! `compile_seccomp_policy.py` reads them:
//!
//! ```text
//! @include /usr/share/policy/crosvm/common_device.policy
//! @frequency ./common_device.frequency
//! read: 1
//! open: return ENOENT
//! madvise: arg2 == MADV_DONTNEED || arg2 == MADV_REMOVE
//! mmap: arg2 in ~PROT_EXEC
//! clone: arg0 & CLONE_THREAD
//! socket: arg0 == AF_UNIX && arg1 in SOCK_STREAM|SOCK_CLOEXEC && arg2 == 0
//! ```
//!
//! * a statement is `syscall: filter` or `{syscall, ...}: {filter, ...}`; `#` starts a
//!   comment, a line ending in `\` goes on on the next;
//! * a filter is an action (`1` or `allow`, `kill`, `kill-process`, `kill-thread`, `trap`,
//!   `trace`, `log`, `user-notify`, `return ERRNO`) or an argument expression that allows the
//!   call when it holds: `||` of `&&` of `argN OP VALUE`, OP one of `==`, `!=`, `<`, `<=`,
//!   `>`, `>=` (64-bit unsigned comparisons, as libseccomp's), `&` (some bit of VALUE set:
//!   one `MASKED_EQ` rule a bit) and `in` (no bit outside VALUE: `MASKED_EQ(~VALUE, 0)`);
//!   VALUE is a number (C's hex, octal, decimal, negative), a named constant, `|` of them,
//!   `~` of one, or a parenthesised VALUE;
//! * a syscall's filters, from every statement naming it (includes too), are tried in
//!   order: the first that holds decides, the default action when none does; an
//!   unconditional filter that is not the syscall's last is an error (as in minijail). A
//!   syscall with an unconditional `allow` is allowed whatever its other filters say (as
//!   `compile_seccomp_policy.py` compiles it); a syscall whose argument expressions allow
//!   some calls while an unconditional filter gives the others something else than the
//!   default action cannot be written as libseccomp rules, and is an error that says so;
//! * the default action is `@default ACTION` (`kill`, `kill-process`, `kill-thread`, `trap`,
//!   `user-notify`), else `kill`, which is `KILL_PROCESS` here (`compile_seccomp_policy.py
//!   --use-kill-process`; crosvm's own build passes `--default-action trap`: set
//!   [`Recipe::default_action`] for that);
//! * `@include PATH` reads PATH relative to the including file (an absolute PATH as it is)
//!   or, when there is no such file, the file of that name beside the including one
//!   (crosvm's policies include each other by their install path); up to 10 levels;
//! * named constants, and the architecture, come from minijail's `constants.json` for the
//!   architecture, which [`Policy::from_file`] reads from the policy's directory when it is
//!   there (crosvm ships it beside its policies); without one, only numbers can be used and
//!   the policy fits any architecture;
//! * `@frequency FILE` (hints for minijail's own search tree) is ignored: this crate weighs
//!   its tree with its own table of hot syscalls. `@denylist`, syscall groups (`name@group`),
//!   `[arch=...]` metadata and `expression; action` (which minijail's C parser and its
//!   Python compiler read in opposite ways) are errors that say so;
//! * syscall names this crate does not know are skipped and listed in [`Recipe::skipped`].
//!
//! It gives one filter, named `""`, for the architecture alone.
//!
//! ```
//! use pure_seccomp::policy::{Format, Policy, Target};
//! use pure_seccomp::{ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp};
//!
//! // Numbers only: named constants need constants.json (Policy::from_file).
//! let policy = Policy::parse("read: 1\nopen: return 2\nmmap: arg2 in ~4\n")?;
//! assert_eq!(policy.format(), Format::Minijail);
//! let recipe = &policy.filters(&Target::new(ScmpArch::X8664))?[0];
//! assert_eq!(recipe.default_action, ScmpAction::KillProcess);
//! assert_eq!(recipe.rules[1].action, ScmpAction::Errno(2));
//! // `arg2 in ~4`: no bit outside ~4, i.e. bit 2 (PROT_EXEC) clear.
//! assert_eq!(
//!     recipe.rules[2].conditions,
//!     [ScmpArgCompare::new(2, ScmpCompareOp::MaskedEqual(4), 0)]
//! );
//! # Ok::<(), pure_seccomp::policy::PolicyError>(())
//! ```
//!
//! Nothing in this module panics on any input: every problem in a file is a [`PolicyError`]
//! naming where it is (`syscalls[12].args[0].op`, `vmm.filter[3].args[0].val`, `line 7`).

mod allowlist;
mod firecracker;
mod json;
mod minijail;
mod oci;

use crate::error::Result;
use crate::{ScmpAction, ScmpArch, ScmpArgCompare, ScmpFilterAttr, ScmpFilterContext, ScmpSyscall};
use std::fmt;
use std::path::Path;

/// The kind of policy file, recognised from its content by [`Policy::parse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// An OCI runtime-spec seccomp profile (Docker, Podman, runc): a JSON object with
    /// `defaultAction`.
    Oci,
    /// Firecracker's seccompiler JSON: an object mapping thread categories to filters with
    /// `default_action`, `filter_action` and `filter`.
    Firecracker,
    /// A plain allow-list: one syscall name per line, `#` comments, blank lines; or systemd's
    /// group listing (`@group` lines followed by indented members).
    AllowList,
    /// A minijail policy (crosvm, ChromeOS): `syscall: expression` lines, `@include`s.
    Minijail,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Oci => "OCI",
            Format::Firecracker => "Firecracker",
            Format::AllowList => "allow-list",
            Format::Minijail => "minijail",
        })
    }
}

/// What is wrong in a policy file, and where.
///
/// ```
/// use pure_seccomp::policy::Policy;
/// let err = Policy::parse(r#"{"defaultAction": "SCMP_ACT_ERRNO",
///     "syscalls": [{"names": ["ioctl"], "action": "SCMP_ACT_ALLOW",
///                   "args": [{"index": 1, "value": 5, "op": "SCMP_CMP_ABOUT"}]}]}"#)
///     .unwrap_err();
/// assert_eq!(err.path(), "syscalls[0].args[0].op");
/// assert!(err.to_string().starts_with("syscalls[0].args[0].op: unknown operator"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    path: String,
    message: String,
}

impl PolicyError {
    pub(crate) fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }

    /// Where the problem is: a JSON path (`syscalls[12].args[0].op`, `vmm.filter[3]`), a
    /// line (`line 7`) of an allow-list, or empty when it concerns the whole file.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What the problem is.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for PolicyError {}

/// What a filter is made for: the (primary) architecture, and the container's capabilities
/// and kernel version that OCI profiles test with `includes`/`excludes`.
///
/// ```
/// use pure_seccomp::policy::Target;
/// use pure_seccomp::ScmpArch;
/// let t = Target::new(ScmpArch::Aarch64).caps(["CAP_SYS_ADMIN"]).kernel(6, 1);
/// assert_eq!(t.kernel, Some((6, 1)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The architecture the filter is for; for OCI profiles the primary one, whose `archMap`
    /// entry gives the others and whose Go name `includes.arches`/`excludes.arches` test.
    pub arch: ScmpArch,
    /// The capabilities (`CAP_SYS_ADMIN`, ...) of the container, for `includes.caps` and
    /// `excludes.caps`. Empty: none, as in an unprivileged container.
    pub caps: Vec<String>,
    /// The kernel version (major, minor), for `minKernel`. `None`: newer than any, so every
    /// `includes.minKernel` holds and every `excludes.minKernel` excludes.
    pub kernel: Option<(u32, u32)>,
}

impl Target {
    /// A target for `arch` (`ScmpArch::Native` is resolved to this machine's), with no
    /// capabilities and an unknown (newest) kernel.
    pub fn new(arch: ScmpArch) -> Self {
        let arch = match arch {
            ScmpArch::Native => ScmpArch::native(),
            a => a,
        };
        Self {
            arch,
            caps: Vec::new(),
            kernel: None,
        }
    }

    /// With these capabilities.
    #[must_use]
    pub fn caps<I, S>(mut self, caps: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.caps = caps.into_iter().map(Into::into).collect();
        self
    }

    /// With this kernel version.
    #[must_use]
    pub fn kernel(mut self, major: u32, minor: u32) -> Self {
        self.kernel = Some((major, minor));
        self
    }
}

/// One rule of a [`Recipe`]: `add_rule` when it has no conditions, `add_rule_conditional`
/// (all conditions must hold) otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RecipeRule {
    /// What the rule does.
    pub action: ScmpAction,
    /// The syscall, by name (resolved with [`ScmpSyscall::from_name`], as runc does).
    pub syscall: String,
    /// The argument conditions, ANDed.
    pub conditions: Vec<ScmpArgCompare>,
}

/// One API call of a [`Recipe`], in the order [`Recipe::calls`] lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Call {
    /// `ScmpFilterContext::new(default_action)`.
    New(ScmpAction),
    /// `remove_arch(arch)`: only `ScmpArch::Native`, when the filter does not cover it.
    RemoveArch(ScmpArch),
    /// `add_arch(arch)`.
    AddArch(ScmpArch),
    /// `set_filter_attr(attr, value)`, from an OCI profile's `flags`.
    SetFilterAttr(ScmpFilterAttr, u32),
    /// `set_ctl_optimize(level)`.
    SetCtlOptimize(u32),
    /// `add_rule(action, ScmpSyscall::from_name(syscall)?)`, or `add_rule_conditional` with
    /// the conditions when there are any.
    AddRule(RecipeRule),
}

/// One filter of a policy file, for one [`Target`]: what to pass to the seccomp API.
///
/// The fields are public: a caller may change the default action, the optimize level or the
/// rules before building.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipe {
    /// The filter's name: `""` for an OCI profile, the thread category (`vmm`) for
    /// Firecracker, `allow-list` or the `@group` for an allow-list.
    pub name: String,
    /// The default action.
    pub default_action: ScmpAction,
    /// The architectures, the primary one first.
    pub arches: Vec<ScmpArch>,
    /// Filter attributes to set (OCI `flags`: `SECCOMP_FILTER_FLAG_LOG` is
    /// [`ScmpFilterAttr::CtlLog`], ...).
    pub attributes: Vec<(ScmpFilterAttr, u32)>,
    /// The optimize level to set with `set_ctl_optimize`, if any (`None`: the library's
    /// default, 1). No format sets one; benchmarks and tools do.
    pub optimize: Option<u32>,
    /// The rules, in the order they are added.
    pub rules: Vec<RecipeRule>,
    /// Syscall names this crate does not know, left out of `rules` (as runc skips the names
    /// libseccomp does not know), each once, in the order they appear.
    pub skipped: Vec<String>,
}

impl Recipe {
    /// The API calls that build this filter, in order: `new`, `remove_arch(Native)` when the
    /// native architecture is not among [`arches`](Self::arches), `add_arch` for each
    /// architecture, the attributes, the optimize level, then one call per rule.
    ///
    /// ```
    /// use pure_seccomp::policy::{Call, Policy, Target};
    /// use pure_seccomp::{ScmpAction, ScmpArch};
    /// let policy = Policy::parse("read\nwrite\n")?;
    /// let recipe = &policy.filters(&Target::new(ScmpArch::Riscv64))?[0];
    /// let calls = recipe.calls();
    /// assert_eq!(calls[0], Call::New(ScmpAction::Errno(libc::EPERM)));
    /// if ScmpArch::native() != ScmpArch::Riscv64 {
    ///     assert_eq!(calls[1], Call::RemoveArch(ScmpArch::Native));
    /// }
    /// assert!(calls.contains(&Call::AddArch(ScmpArch::Riscv64)));
    /// assert_eq!(calls.len(), if ScmpArch::native() == ScmpArch::Riscv64 { 4 } else { 5 });
    /// # Ok::<(), pure_seccomp::policy::PolicyError>(())
    /// ```
    pub fn calls(&self) -> Vec<Call> {
        let mut calls = self.setup_calls();
        calls.extend(self.rules.iter().cloned().map(Call::AddRule));
        calls
    }

    /// [`calls`](Self::calls) without the rules.
    fn setup_calls(&self) -> Vec<Call> {
        let mut calls = vec![Call::New(self.default_action)];
        let native = ScmpArch::native();
        if native != ScmpArch::Native && !self.arches.contains(&native) {
            calls.push(Call::RemoveArch(ScmpArch::Native));
        }
        calls.extend(self.arches.iter().map(|&a| Call::AddArch(a)));
        calls.extend(
            self.attributes
                .iter()
                .map(|&(attr, v)| Call::SetFilterAttr(attr, v)),
        );
        calls.extend(self.optimize.map(Call::SetCtlOptimize));
        calls
    }

    /// Makes the [`calls`](Self::calls) on a new [`ScmpFilterContext`], with one exception.
    /// A rule names its syscall by the number the native architecture gives it, and
    /// libseccomp gives two PowerPC syscalls one pseudo number (-10191), which every other
    /// architecture's filter reads as `switch_endian`: replayed through the API, a rule on
    /// `sys_debug_setcontext` lands on `switch_endian` in a PowerPC filter built elsewhere.
    /// Here it lands on `sys_debug_setcontext` (README, policy files).
    ///
    /// # Errors
    ///
    /// The first call that fails, with the library's error (a rule whose syscall name does
    /// not resolve, a rule the library refuses, ...).
    ///
    /// ```
    /// use pure_seccomp::policy::{Policy, Target};
    /// use pure_seccomp::ScmpArch;
    /// let policy = Policy::parse("# a tiny allow-list\nread\nwrite\nexit_group\n")?;
    /// let ctx = policy.filters(&Target::new(ScmpArch::X8664))?[0].build()?;
    /// assert!(ctx.is_arch_present(ScmpArch::X8664)?);
    ///
    /// // PowerPC's sys_debug_setcontext is 256, switch_endian 363.
    /// use pure_seccomp::bpf::{audit_arch, SeccompData};
    /// let policy = Policy::parse("sys_debug_setcontext\n")?;
    /// let ctx = policy.filters(&Target::new(ScmpArch::Ppc64Le))?[0].build()?;
    /// let arch = audit_arch(ScmpArch::Ppc64Le).unwrap();
    /// let ret = |nr| ctx.evaluate(&SeccompData { nr, arch, instruction_pointer: 0, args: [0; 6] });
    /// assert_eq!((ret(256), ret(363)), (0x7fff_0000, 0x0005_0001)); // ALLOW, ERRNO(EPERM)
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn build(&self) -> Result<ScmpFilterContext> {
        let mut ctx = ScmpFilterContext::new(self.default_action)?;
        // (The rules are read in place: cloning each, name and conditions, only to read it
        // was 6 % of the instructions of a build of Docker's profile.)
        for call in self.setup_calls().into_iter().skip(1) {
            match call {
                Call::New(_) | Call::AddRule(_) => {}
                Call::RemoveArch(a) => {
                    ctx.remove_arch(a)?;
                }
                Call::AddArch(a) => {
                    ctx.add_arch(a)?;
                }
                Call::SetFilterAttr(attr, v) => {
                    ctx.set_filter_attr(attr, v)?;
                }
                Call::SetCtlOptimize(level) => {
                    ctx.set_ctl_optimize(level)?;
                }
            }
        }
        for rule in &self.rules {
            ctx.add_rule_by_name(rule.action, &rule.syscall, &rule.conditions)?;
        }
        Ok(ctx)
    }
}

/// A parsed policy file.
#[derive(Debug, Clone)]
pub struct Policy {
    inner: Inner,
}

#[derive(Debug, Clone)]
enum Inner {
    Oci(oci::Profile),
    Firecracker(firecracker::File),
    AllowList(allowlist::List),
    Minijail(minijail::File),
}

impl Policy {
    /// Parses a policy, recognising its format from the content: a JSON object with
    /// `defaultAction` (or `syscalls`, `archMap`, `architectures`) is an OCI profile, one
    /// whose values are objects with `filter` or `default_action` a Firecracker filter file;
    /// text with a `syscall: ...` line or a minijail directive (`@include`, `@frequency`,
    /// `@default ACTION`) a minijail policy (one that includes other files or names constants
    /// needs [`Policy::from_file`]); anything else not starting with `{` is an allow-list.
    ///
    /// The whole file is checked here: unknown fields, wrong types, unknown actions,
    /// operators and architectures are errors naming where they are.
    ///
    /// # Errors
    ///
    /// A [`PolicyError`] for the first problem found.
    ///
    /// ```
    /// use pure_seccomp::policy::{Format, Policy};
    /// let fc = Policy::parse(r#"{"vmm": {"default_action": "trap", "filter_action": "allow",
    ///                                     "filter": [{"syscall": "read"}]}}"#)?;
    /// assert_eq!(fc.format(), Format::Firecracker);
    /// assert_eq!(Policy::parse("read\n")?.format(), Format::AllowList);
    /// let err = Policy::parse(r#"{"vmm": {"default_action": "trap", "filter_action": "allow",
    ///     "filter": [{"syscall": "read", "args": [{"index": 0, "type": "dword",
    ///                                              "op": "eq", "val": -1}]}]}}"#).unwrap_err();
    /// assert_eq!(err.path(), "vmm.filter[0].args[0].val");
    /// # Ok::<(), pure_seccomp::policy::PolicyError>(())
    /// ```
    pub fn parse(text: &str) -> std::result::Result<Policy, PolicyError> {
        let trimmed = text.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
        let inner = if trimmed.starts_with('{') {
            let value: serde_json::Value = serde_json::from_str(text)
                .map_err(|e| PolicyError::new("", format!("not valid JSON: {e}")))?;
            let map = value.as_object().ok_or_else(|| {
                PolicyError::new("", "expected a JSON object at the top of the file")
            })?;
            if ["defaultAction", "syscalls", "archMap", "architectures"]
                .iter()
                .any(|k| map.contains_key(*k))
            {
                Inner::Oci(oci::Profile::parse(&value)?)
            } else if !map.is_empty()
                && map.values().all(|v| {
                    v.as_object().is_some_and(|f| {
                        f.contains_key("filter") || f.contains_key("default_action")
                    })
                })
            {
                Inner::Firecracker(firecracker::File::parse(&value)?)
            } else {
                return Err(PolicyError::new(
                    "",
                    "unknown JSON policy: neither an OCI profile (no `defaultAction`) nor a \
                     Firecracker filter file (an object of filters with `default_action`, \
                     `filter_action` and `filter`)",
                ));
            }
        } else if minijail::looks_like(text) {
            Inner::Minijail(minijail::File::parse(text, None, None)?)
        } else {
            Inner::AllowList(allowlist::List::parse(text)?)
        };
        Ok(Policy { inner })
    }

    /// Reads and parses a file. A Firecracker file's architecture is taken from its name
    /// when that starts with a target seccompiler knows (`x86_64-unknown-linux-musl.json`,
    /// `firecracker-aarch64-...`): seccompiler's files are named after their target, and the
    /// content does not say it. A minijail policy's `@include`s are read relative to it, and
    /// its named constants and architecture from the `constants.json` in its directory, when
    /// there is one.
    ///
    /// # Errors
    ///
    /// The file cannot be read (path empty, message saying why), or [`Policy::parse`]'s.
    pub fn from_file(path: impl AsRef<Path>) -> std::result::Result<Policy, PolicyError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| PolicyError::new("", format!("cannot read {}: {e}", path.display())))?;
        Self::parse_at(&text, path)
    }

    /// [`from_file`](Self::from_file) for a file already read: `text` is its content, and
    /// `path` gives only what the name and the directory give (a Firecracker file's
    /// architecture, a minijail policy's includes and constants). For what can be read only
    /// once: a pipe, `/dev/stdin`, a shell's `<(...)`.
    ///
    /// # Errors
    ///
    /// As [`from_file`](Self::from_file), but for reading `path` itself.
    ///
    /// ```
    /// use pure_seccomp::policy::{Format, Policy};
    /// let text = r#"{"vmm": {"default_action": "trap", "filter_action": "allow",
    ///                         "filter": [{"syscall": "read"}]}}"#;
    /// let fc = Policy::parse_at(text, "configs/aarch64-unknown-linux-musl.json".as_ref())?;
    /// assert_eq!(fc.format(), Format::Firecracker);
    /// assert_eq!(fc.arches(), [pure_seccomp::ScmpArch::Aarch64]);
    /// # Ok::<(), pure_seccomp::policy::PolicyError>(())
    /// ```
    pub fn parse_at(text: &str, path: &Path) -> std::result::Result<Policy, PolicyError> {
        let trimmed = text.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
        if !trimmed.starts_with('{') && minijail::looks_like(text) {
            let json = path.with_file_name("constants.json");
            let constants = match std::fs::read_to_string(&json) {
                Ok(t) => Some(minijail::Constants::parse(&t, &json.display().to_string())?),
                Err(_) => None,
            };
            let file = minijail::File::parse(text, Some(path), constants.as_ref())?;
            return Ok(Policy {
                inner: Inner::Minijail(file),
            });
        }
        let mut policy = Self::parse(text)?;
        if let Inner::Firecracker(file) = &mut policy.inner {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            file.arch = firecracker::arch_from_file_name(&name);
        }
        Ok(policy)
    }

    /// Declares the architecture a Firecracker file or a minijail policy is for
    /// (seccompiler's `--target-arch`, the architecture of minijail's constants);
    /// [`filters`](Self::filters) then refuses other targets. The other formats name their
    /// architectures themselves (OCI) or fit any (allow-lists) and are left as they are.
    #[must_use]
    pub fn with_arch(mut self, arch: ScmpArch) -> Self {
        match &mut self.inner {
            Inner::Firecracker(file) => file.arch = Some(arch),
            Inner::Minijail(file) => file.arch = Some(arch),
            _ => {}
        }
        self
    }

    /// The format of the file.
    pub fn format(&self) -> Format {
        match self.inner {
            Inner::Oci(_) => Format::Oci,
            Inner::Firecracker(_) => Format::Firecracker,
            Inner::AllowList(_) => Format::AllowList,
            Inner::Minijail(_) => Format::Minijail,
        }
    }

    /// Every architecture the file names, in order, each once: for an OCI profile the
    /// `archMap` entries (each primary, then its sub-architectures) or the `architectures`
    /// list; for a Firecracker file or a minijail policy its architecture when known (see
    /// [`from_file`](Self::from_file), [`with_arch`](Self::with_arch)); nothing for an
    /// allow-list, which fits any.
    pub fn arches(&self) -> Vec<ScmpArch> {
        match &self.inner {
            Inner::Oci(p) => p.arches(),
            Inner::Firecracker(f) => f.arch.into_iter().collect(),
            Inner::Minijail(f) => f.arch.into_iter().collect(),
            Inner::AllowList(_) => Vec::new(),
        }
    }

    /// The architectures to use as [`Target::arch`]: an OCI profile's `archMap` primaries
    /// (or every entry of its `architectures` list), a Firecracker file's or a minijail
    /// policy's architecture when known; empty for an allow-list (any architecture).
    pub fn targets(&self) -> Vec<ScmpArch> {
        match &self.inner {
            Inner::Oci(p) => p.targets(),
            Inner::Firecracker(f) => f.arch.into_iter().collect(),
            Inner::Minijail(f) => f.arch.into_iter().collect(),
            Inner::AllowList(_) => Vec::new(),
        }
    }

    /// An OCI profile's `listenerPath`: where the runtime sends the listener of a filter
    /// with `SCMP_ACT_NOTIFY` rules.
    pub fn listener_path(&self) -> Option<&str> {
        match &self.inner {
            Inner::Oci(p) => p.listener_path.as_deref(),
            _ => None,
        }
    }

    /// The filters of the file for `target`: one for an OCI profile, one per thread category
    /// for a Firecracker file (sorted by name), one for a plain allow-list, one per
    /// `@group` for a systemd group listing and one for a minijail policy.
    ///
    /// # Errors
    ///
    /// A Firecracker file or a minijail policy made for another architecture than
    /// `target.arch`; an OCI profile naming an architecture of the other byte order than
    /// `target.arch`'s.
    pub fn filters(&self, target: &Target) -> std::result::Result<Vec<Recipe>, PolicyError> {
        let target = Target {
            arch: Target::new(target.arch).arch,
            ..target.clone()
        };
        match &self.inner {
            Inner::Oci(p) => {
                let recipe = p.recipe(&target);
                let endian = |a: ScmpArch| a.info().map(|i| i.endian);
                if let Some(other) = recipe
                    .arches
                    .iter()
                    .find(|&&a| endian(a) != endian(target.arch))
                {
                    return Err(PolicyError::new(
                        "architectures",
                        format!(
                            "{} is of another byte order than the target {}: no filter holds \
                             both (runc, which keeps the machine's architecture, fails the same \
                             way); give a target of its byte order",
                            other.scmp_name(),
                            target.arch.scmp_name()
                        ),
                    ));
                }
                Ok(vec![recipe])
            }
            Inner::Firecracker(f) => f.recipes(&target),
            Inner::AllowList(l) => Ok(l.recipes(&target)),
            Inner::Minijail(f) => f.recipes(&target),
        }
    }
}

/// Whether [`ScmpSyscall::from_name`] resolves `name`; if not, `name` joins `skipped` (once).
pub(crate) fn known(name: &str, skipped: &mut Vec<String>) -> bool {
    if ScmpSyscall::from_name(name).is_ok() {
        return true;
    }
    if !skipped.iter().any(|s| s == name) {
        skipped.push(name.to_string());
    }
    false
}

/// Refuses a `target` other than the architecture a file was made for (`None`: any), naming
/// the file as `what` ("this Firecracker filter file").
pub(crate) fn made_for(
    arch: Option<ScmpArch>,
    target: &Target,
    what: &str,
) -> std::result::Result<(), PolicyError> {
    match arch {
        Some(a) if a != target.arch => Err(PolicyError::new(
            "",
            format!("{what} is for {a}, not {}", target.arch),
        )),
        _ => Ok(()),
    }
}

/// Go's `GOARCH` name of an architecture (moby compares `includes.arches` and
/// `excludes.arches` with the runtime's).
pub(crate) fn go_arch(arch: ScmpArch) -> &'static str {
    match arch {
        ScmpArch::X8664 => "amd64",
        ScmpArch::X86 => "386",
        ScmpArch::X32 => "x32",
        ScmpArch::Arm => "arm",
        ScmpArch::Aarch64 => "arm64",
        ScmpArch::Loongarch64 => "loong64",
        ScmpArch::M68k => "m68k",
        ScmpArch::Mips => "mips",
        ScmpArch::Mipsel => "mipsle",
        ScmpArch::Mips64 => "mips64",
        ScmpArch::Mipsel64 => "mips64le",
        ScmpArch::Mips64N32 => "mips64p32",
        ScmpArch::Mipsel64N32 => "mips64p32le",
        ScmpArch::Ppc => "ppc",
        ScmpArch::Ppc64 => "ppc64",
        ScmpArch::Ppc64Le => "ppc64le",
        ScmpArch::S390 => "s390",
        ScmpArch::S390X => "s390x",
        ScmpArch::Parisc => "parisc",
        ScmpArch::Parisc64 => "parisc64",
        ScmpArch::Riscv64 => "riscv64",
        ScmpArch::Sh => "sh",
        ScmpArch::Sheb => "sheb",
        ScmpArch::Native => "",
    }
}

/// An architecture by `SCMP_ARCH_*` name, libseccomp's lower-case name (`x86_64`,
/// `aarch64`) or Go's (`amd64`, `arm64`, `mips64le`); `native` and `SCMP_ARCH_NATIVE` are
/// this machine's.
///
/// ```
/// use pure_seccomp::policy::parse_arch;
/// use pure_seccomp::ScmpArch;
/// assert_eq!(parse_arch("SCMP_ARCH_S390X"), Some(ScmpArch::S390X));
/// assert_eq!(parse_arch("arm64"), Some(ScmpArch::Aarch64));
/// assert_eq!(parse_arch("x86_64"), Some(ScmpArch::X8664));
/// assert_eq!(parse_arch("vax"), None);
/// ```
pub fn parse_arch(s: &str) -> Option<ScmpArch> {
    use std::str::FromStr;
    if s == "native" || s == "SCMP_ARCH_NATIVE" {
        return Some(ScmpArch::native()).filter(|&a| a != ScmpArch::Native);
    }
    if let Ok(a) = ScmpArch::from_str(s) {
        return Some(a);
    }
    let lower = s.to_ascii_lowercase();
    if let Some(a) = ScmpArch::all().find(|&a| go_arch(a) == lower) {
        return Some(a);
    }
    let name = match lower.as_str() {
        "i386" | "i686" => "x86",
        other => other,
    };
    ScmpArch::from_str(&format!("SCMP_ARCH_{}", name.to_ascii_uppercase())).ok()
}
