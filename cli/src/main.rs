//! `pure-seccomp`: compile, inspect, simulate, audit, run and learn seccomp policies, for any
//! architecture, with no C library. See `pure-seccomp --help` and the README.
//!
//! Exit codes (all commands): 0 success; 1 a negative answer (`audit` found a high-severity
//! problem, `sim`'s verdict does not let the call run); 2 bad usage or input (unreadable or
//! invalid policy, unknown architecture or syscall); `run` and `learn` exit with the
//! command's status (128 + N when a signal N ended it), and with 125 when they could not
//! start it (126: not executable, 127: not found).

mod arches;
mod audit;
mod commands;
mod compile;
mod diff;
mod disasm;
mod exec;
mod input;

use clap::{Args, Parser, Subcommand};
use pure_seccomp::opt::Passes;
use std::path::PathBuf;
use std::process::ExitCode;

/// A command's failure: what to print and the exit code.
#[derive(Debug)]
pub struct Fail {
    /// The exit code.
    pub code: u8,
    /// The message (empty: nothing more to print).
    pub msg: String,
}

impl Fail {
    /// Bad usage or input: exit code 2.
    pub fn input(msg: impl Into<String>) -> Self {
        Fail {
            code: 2,
            msg: msg.into(),
        }
    }

    /// A negative answer (exit code 1), already reported.
    pub fn negative() -> Self {
        Fail {
            code: 1,
            msg: String::new(),
        }
    }
}

const AFTER_HELP: &str = "\
Examples:
  pure-seccomp compile                          # the embedded default policy: summary per ABI
  pure-seccomp compile docker.json --arch aarch64 --format c -o filter.h
  pure-seccomp compile firecracker.json --filter vmm -o vmm.bpf
  pure-seccomp disasm vmm.bpf --arch x86_64
  pure-seccomp sim docker.json --syscall ptrace
  pure-seccomp sim vmm.bpf --arch x86_64 --syscall ioctl --args 3,0x5401
  pure-seccomp resolve openat --arch riscv64
  pure-seccomp audit my-profile.json
  pure-seccomp diff old-profile.json my-profile.json
  pure-seccomp run my-profile.json -- /bin/sh -c 'echo hi'
  pure-seccomp learn -o profile.json -- make test

ARCH: libseccomp's names without the prefix (x86_64, x86, x32, aarch64, arm, riscv64, s390x,
ppc64le, mips64, loongarch64, ...), SCMP_ARCH_* names, Go's (amd64, arm64, 386, mips64le),
or native.

POLICY: an OCI runtime-spec profile (Docker, Podman), a Firecracker filter file, a minijail
policy (crosvm; its @includes and constants.json read from its directory) or an allow-list
(one syscall name a line), recognised from the content. Where a command takes a POLICY and
none is given, it uses the embedded default policy (see `compile`). A FILE that holds a
compiled program (raw bytes, or the `hex` format) needs --arch. `-` reads either from
standard input.

Exit codes: 0 success; 1 negative answer (audit found a high-severity problem, sim's verdict
does not let the call run, diff found a difference); 2 bad usage or input; run/learn: the
command's status (128+N after signal N), 125 could not start it, 126 not executable, 127 not
found.";

#[derive(Parser, Debug)]
#[command(
    name = "pure-seccomp",
    version,
    about = "Compile, inspect, simulate, audit, run and learn seccomp filters, for any \
             architecture (pure Rust, no libseccomp)",
    after_help = AFTER_HELP
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// How to read and build a policy.
#[derive(Args, Debug, Clone)]
pub struct PolicyOpts {
    /// Only this filter of a file with several (Firecracker's vmm, api, vcpu; a systemd
    /// group listing's @group).
    #[arg(long, value_name = "NAME")]
    filter: Option<String>,
    /// Optimize level: 1 keeps libseccomp's priority order (a search tree for each group of
    /// syscalls of equal priority, the groups in priority order), 2 one search tree.
    #[arg(long, short = 'O', default_value = "2", value_parser = clap::value_parser!(u32).range(1..=2))]
    optimize: u32,
    /// A capability the container has (for OCI includes/excludes); repeatable.
    #[arg(long = "cap", value_name = "CAP")]
    caps: Vec<String>,
    /// The kernel version X.Y (for OCI minKernel); default: newer than any.
    #[arg(long, value_name = "X.Y", value_parser = parse_kernel)]
    kernel: Option<(u32, u32)>,
    /// Switch an optimizer pass off (repeatable; `all`: every one), to see what it buys.
    /// The filter's verdicts stay the same; only its length and speed change.
    #[arg(long = "no-pass", value_name = "PASS", value_enum)]
    no_pass: Vec<PassName>,
}

/// The optimizer's passes, as `--no-pass` names them (`pure_seccomp::opt::Passes`).
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PassName {
    /// Dispatch on ranges of syscall numbers with a search tree (level 1: one for each
    /// priority group; off: libseccomp's chain or binary search)
    Ranges,
    /// Hot, prioritised and argument-checked syscalls get shallower paths in the trees
    Weights,
    /// Masked equality tests decided by one `jset`
    Jset,
    /// Chains of values of one argument become search trees
    ArgTrees,
    /// Values that are every submask of one mask: one `jset` (with arg-trees)
    Submasks,
    /// Tests the path already decides are dropped
    Prune,
    /// A word's masks and ranges before its values, in one-action syscalls
    BroadFirst,
    /// A 64-bit argument's high word is tested after its low word
    Sink,
    /// No reload of the word the accumulator holds
    Loads,
    /// One `ret` (or far-jump `ja`) serves every jump in reach
    SharedRets,
    /// Jumps threaded through `ja`, dead code removed
    Cleanup,
    /// Every pass
    All,
}

impl PassName {
    /// The passes this name switches off.
    pub fn passes(self) -> Passes {
        match self {
            PassName::Ranges => Passes::RANGES,
            PassName::Weights => Passes::WEIGHTS,
            PassName::Jset => Passes::JSET,
            PassName::ArgTrees => Passes::ARG_TREES,
            PassName::Submasks => Passes::SUBMASKS,
            PassName::Prune => Passes::PRUNE,
            PassName::BroadFirst => Passes::BROAD_FIRST,
            PassName::Sink => Passes::SINK,
            PassName::Loads => Passes::LOADS,
            PassName::SharedRets => Passes::SHARED_RETS,
            PassName::Cleanup => Passes::CLEANUP,
            PassName::All => Passes::all(),
        }
    }
}

fn parse_kernel(s: &str) -> Result<(u32, u32), String> {
    s.split_once('.')
        .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
        .ok_or_else(|| format!("expected X.Y (e.g. 6.1), not {s:?}"))
}

fn parse_arch(s: &str) -> Result<pure_seccomp::ScmpArch, String> {
    arches::parse(s)
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Compile a policy to seccomp-BPF (default: the embedded default policy).
    ///
    /// With no POLICY: the embedded default policy, a container-style allow-list, for this
    /// machine's ABIs. Without --format and -o it prints a summary per ABI: length,
    /// instructions executed by allowed syscalls (mean and max), how many the kernel's action
    /// cache lets through without running the filter.
    #[command(after_help = "\
Examples:
  pure-seccomp compile
  pure-seccomp compile docker.json --arch x86_64 --arch aarch64 --format hex
  pure-seccomp compile firecracker.json -o fc.bpf     # fc-api-x86_64.bpf, fc-vcpu-x86_64.bpf, ...
  pure-seccomp compile --arch all --format bpf -o default.bpf
  pure-seccomp compile docker.json --no-pass ranges --no-pass weights   # what the tree buys

Several programs (several --arch, or a file with several filters) go to one stream each
when written with -o: FILE gets -FILTER and/or -ARCH inserted before its extension (only
the parts that differ between the programs). Text formats may also go to stdout, one
after the other with a header; `bpf` to stdout takes exactly one program.")]
    Compile {
        /// The policy file (`-`: standard input; default: the embedded default policy).
        policy: Option<PathBuf>,
        /// Target architecture (repeatable; `all`: every one the policy names). Default: a
        /// Firecracker file's or a minijail policy's own, else this machine's. Its companion
        /// ABIs come from the policy (an OCI profile's archMap).
        #[arg(long, short, value_name = "ARCH")]
        arch: Vec<String>,
        /// Output format: bpf (raw program, the ABI's byte order), pfc (libseccomp's pseudo
        /// filter code), rust or c (source with the instructions), hex (8 bytes a line).
        #[arg(long, short, value_enum)]
        format: Option<compile::OutFormat>,
        /// Write the program to FILE (`-`: stdout; default format: bpf).
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
        /// No summary.
        #[arg(long, short)]
        quiet: bool,
        #[command(flatten)]
        policy_opts: PolicyOpts,
    },
    /// Disassemble a compiled program, with syscall and architecture names in comments.
    #[command(after_help = "\
Examples:
  pure-seccomp compile --format bpf -o default.bpf && pure-seccomp disasm default.bpf --arch x86_64
  pure-seccomp disasm docker.json          # a policy is compiled first")]
    Disasm {
        /// The compiled program (raw bytes or hex), or a policy (`-`: standard input).
        file: PathBuf,
        /// The architecture the program is for (names its syscall numbers).
        #[arg(long, short, value_name = "ARCH", value_parser = parse_arch)]
        arch: Option<pure_seccomp::ScmpArch>,
        #[command(flatten)]
        policy_opts: PolicyOpts,
    },
    /// Run one syscall through a filter: the verdict and the instructions executed.
    #[command(after_help = "\
Examples:
  pure-seccomp sim --syscall ptrace                       # the embedded default policy
  pure-seccomp sim docker.json --arch aarch64 --syscall personality --args 8
  pure-seccomp sim docker.json --syscall socket --arch-of-call x86
  pure-seccomp sim prog.bpf --arch x86_64 --syscall 59

Exit code 0 when the verdict lets the call run (ALLOW, LOG), 1 otherwise.")]
    Sim {
        /// A compiled program (needs --arch) or a policy (`-`: standard input; default: the
        /// embedded one).
        file: Option<PathBuf>,
        /// The program's architecture, or the policy's target.
        #[arg(long, short, value_name = "ARCH", value_parser = parse_arch)]
        arch: Option<pure_seccomp::ScmpArch>,
        /// The syscall, by name or number (in the ABI of the call).
        #[arg(long, short, value_name = "NAME|NR")]
        syscall: String,
        /// The arguments, comma-separated (decimal, 0x hex, negative numbers as 64-bit two's
        /// complement); missing ones are 0.
        #[arg(
            long,
            value_name = "A0,A1,...",
            value_delimiter = ',',
            allow_hyphen_values = true
        )]
        args: Vec<String>,
        /// The ABI the call is made in (default: the filter's primary architecture), e.g.
        /// x86 or x32 for an x86_64 filter.
        #[arg(long, value_name = "ARCH", value_parser = parse_arch)]
        arch_of_call: Option<pure_seccomp::ScmpArch>,
        #[command(flatten)]
        policy_opts: PolicyOpts,
    },
    /// Syscall name to number, or number to name, on any architecture (like scmp_sys_resolver).
    #[command(after_help = "\
Examples:
  pure-seccomp resolve openat                 # this machine's number
  pure-seccomp resolve 56 --arch aarch64      # openat
  pure-seccomp resolve openat --all           # the number on every architecture")]
    Resolve {
        /// A syscall name or number.
        syscall: String,
        /// The architecture (default: this machine's).
        #[arg(long, short, value_name = "ARCH", value_parser = parse_arch)]
        arch: Option<pure_seccomp::ScmpArch>,
        /// Every architecture, one a line.
        #[arg(long, conflicts_with = "arch")]
        all: bool,
    },
    /// Look for weaknesses in a filter, with a severity each.
    ///
    /// Missing architecture check, the x32 bypass, socketcall/ipc paths around argument
    /// checks, dangerous syscalls allowed, allowed syscalls the kernel's action cache cannot
    /// skip.
    #[command(after_help = "\
Examples:
  pure-seccomp audit                          # the embedded default policy
  pure-seccomp audit docker.json --arch x86_64
  pure-seccomp audit filter.bpf --arch x86_64

Every finding has a severity (high, medium, low, info). Exit code 1 when there is a high one.")]
    Audit {
        /// A compiled program (needs --arch) or a policy (`-`: standard input; default: the
        /// embedded one).
        file: Option<PathBuf>,
        /// The program's architecture, or the policy's target.
        #[arg(long, short, value_name = "ARCH", value_parser = parse_arch)]
        arch: Option<pure_seccomp::ScmpArch>,
        /// Also list the low and info findings in full.
        #[arg(long, short)]
        verbose: bool,
        #[command(flatten)]
        policy_opts: PolicyOpts,
    },
    /// Where two filters' verdicts differ: a policy against its compiled program, libseccomp's
    /// program against ours, one version of a policy against the next.
    ///
    /// Both are run on every syscall number of every ABI of the byte order (and on an unknown
    /// architecture); where a verdict reads arguments, each comparison on the path of either
    /// filter is taken both ways, by setting the argument word it tests.
    #[command(after_help = "\
Examples:
  pure-seccomp diff docker.json docker-new.json
  pure-seccomp diff libseccomp.bpf docker.json --arch x86_64   # libseccomp's program of it
  pure-seccomp diff vmm.bpf firecracker.json --filter vmm --arch x86_64

Each difference is a call (ABI, syscall, arguments when they matter) with both verdicts.
Exit code 0 when no call tried gets different verdicts, 1 when one does.")]
    Diff {
        /// The first filter: a compiled program (needs --arch) or a policy (`-`: standard
        /// input).
        a: PathBuf,
        /// The second filter.
        b: PathBuf,
        /// The programs' architecture, or the policies' target.
        #[arg(long, short, value_name = "ARCH", value_parser = parse_arch)]
        arch: Option<pure_seccomp::ScmpArch>,
        /// List every difference (default: the first 10 of each ABI).
        #[arg(long, short)]
        verbose: bool,
        #[command(flatten)]
        policy_opts: PolicyOpts,
    },
    /// Run a command under a policy: fork, no_new_privs, load the filter, exec.
    #[command(after_help = "\
Examples:
  pure-seccomp run profile.json -- /bin/ls /
  pure-seccomp run -- python3 app.py          # the embedded default policy
  curl -s $URL/profile.json | pure-seccomp run - -- ./app   # the policy from stdin

The filter is built before the fork for this machine's architecture and loaded in the child
just before exec, so the policy must allow execve. Signals sent to `run` (SIGTERM, SIGINT,
SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2) are passed on to the command. Exit code: the command's.")]
    Run {
        /// The policy (`-`: standard input, which the command then finds at its end; default:
        /// the embedded default policy).
        policy: Option<PathBuf>,
        /// The command and its arguments.
        #[arg(required = true, last = true, value_name = "COMMAND")]
        command: Vec<std::ffi::OsString>,
        #[command(flatten)]
        policy_opts: PolicyOpts,
    },
    /// Run a command and write a minimal OCI profile allowing the syscalls it made.
    ///
    /// Every syscall is recorded per ABI (and, for --args, the values of chosen arguments).
    #[command(after_help = "\
Examples:
  pure-seccomp learn -o true.json -- /bin/true
  pure-seccomp learn --args socket:0 -o app.json -- ./app
  pure-seccomp learn -o server.json -- ./server   # exercise it, then Ctrl-C: profile written
  pure-seccomp run true.json -- /bin/true

The command runs under a filter whose default action is user notification; a supervisor
records each call and lets it continue. Without user notification (kernel older than 5.0, or
pidfd_getfd refused) it falls back to the LOG action and reads the kernel log, with a
warning. The profile: defaultAction SCMP_ACT_ERRNO, the ABIs seen, the syscall names seen.
Signals sent to `learn` are passed on to the command, and `learn` writes the profile once the
command (and what it left running) has ended; a signal after the command has ended stops the
supervision of what it left running.")]
    Learn {
        /// Where to write the profile (default, or `-`: stdout, after what the command wrote
        /// there).
        #[arg(long, short, value_name = "PROFILE")]
        output: Option<PathBuf>,
        /// Record the values of argument INDEX of SYSCALL and allow only those
        /// (`socket:0`; INDEX 0 when left out; repeatable).
        #[arg(long = "args", value_name = "SYSCALL:INDEX")]
        args: Vec<String>,
        /// The command and its arguments.
        #[arg(required = true, last = true, value_name = "COMMAND")]
        command: Vec<std::ffi::OsString>,
    },
}

fn main() -> ExitCode {
    // Output piped into `head` ends quietly, as other command-line tools do.
    // SAFETY: setting a signal's disposition to the default, before any thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Compile {
            policy,
            arch,
            format,
            output,
            quiet,
            policy_opts,
        } => compile::run(compile::Request {
            policy,
            arch,
            format,
            output,
            quiet,
            opts: policy_opts,
        }),
        Command::Disasm {
            file,
            arch,
            policy_opts,
        } => commands::disasm(&file, arch, &policy_opts),
        Command::Sim {
            file,
            arch,
            syscall,
            args,
            arch_of_call,
            policy_opts,
        } => commands::sim(
            file.as_deref(),
            arch,
            &syscall,
            &args,
            arch_of_call,
            &policy_opts,
        ),
        Command::Resolve { syscall, arch, all } => commands::resolve(&syscall, arch, all),
        Command::Diff {
            a,
            b,
            arch,
            verbose,
            policy_opts,
        } => diff::run_diff([&a, &b], arch, verbose, &policy_opts),
        Command::Audit {
            file,
            arch,
            verbose,
            policy_opts,
        } => audit::run(file.as_deref(), arch, verbose, &policy_opts),
        Command::Run {
            policy,
            command,
            policy_opts,
        } => exec::run(policy.as_deref(), &command, &policy_opts),
        Command::Learn {
            output,
            args,
            command,
        } => exec::learn(output.as_deref(), &args, &command),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(fail) => {
            if !fail.msg.is_empty() {
                eprintln!("pure-seccomp: {}", fail.msg);
            }
            ExitCode::from(fail.code)
        }
    }
}

impl PolicyOpts {
    /// The build options for these flags and targets.
    pub fn build(&self, arches: Vec<pure_seccomp::ScmpArch>) -> input::BuildOptions {
        input::BuildOptions {
            arches,
            filter: self.filter.clone(),
            optimize: self.optimize,
            caps: self.caps.clone(),
            kernel: self.kernel,
            passes: self
                .no_pass
                .iter()
                .fold(Passes::all(), |on, name| on - name.passes()),
        }
    }
}

/// Commands that only compile and read programs never load one: they must not depend on
/// what the running kernel supports. The library refuses actions above the probed API level
/// (libseccomp does the same), e.g. `KILL_PROCESS` on a kernel older than 4.14, which would
/// make compiling a profile for another machine fail here. So these commands declare the
/// highest level; `run` and `learn`, which load, keep the probed one.
pub fn offline() {
    // set_api only fails for a level outside 1..=7.
    let _ = pure_seccomp::set_api(7);
}
