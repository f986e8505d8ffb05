//! Making a recipe's API calls on either library, and exporting the program.

use libseccomp as c;
use pure_seccomp as ps;
use pure_seccomp::policy::{Call, Recipe, RecipeRule};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::fd::FromRawFd;
use std::str::FromStr;

/// A built program, or why it could not be built.
pub type Built = Result<Vec<u8>, String>;

/// `new`, the arches, the attributes and the rules of `recipe` on pure-seccomp, then
/// `export_bpf_mem`.
pub fn ours(calls: &[Call]) -> Built {
    let ctx = ours_ctx(calls)?;
    ctx.export_bpf_mem()
        .map_err(|e| format!("export_bpf_mem: {e}"))
}

/// The context after the calls (no export).
pub fn ours_ctx(calls: &[Call]) -> Result<ps::ScmpFilterContext, String> {
    let mut ctx = None::<ps::ScmpFilterContext>;
    for call in calls {
        if let Call::New(a) = call {
            ctx = Some(ps::ScmpFilterContext::new(*a).map_err(|e| format!("new: {e}"))?);
            continue;
        }
        let ctx = ctx.as_mut().ok_or("no `new` call")?;
        let res = match call {
            Call::RemoveArch(a) => ctx.remove_arch(*a).map(drop),
            Call::AddArch(a) => ctx.add_arch(*a).map(drop),
            Call::SetFilterAttr(attr, v) => ctx.set_filter_attr(*attr, *v).map(drop),
            Call::SetCtlOptimize(l) => ctx.set_ctl_optimize(*l).map(drop),
            Call::AddRule(r) => ps::ScmpSyscall::from_name(&r.syscall).and_then(|s| {
                if r.conditions.is_empty() {
                    ctx.add_rule(r.action, s).map(drop)
                } else {
                    ctx.add_rule_conditional(r.action, s, &r.conditions)
                        .map(drop)
                }
            }),
            other => return Err(format!("unexpected call {other:?}")),
        };
        res.map_err(|e| format!("{}: {e}", describe(call)))?;
    }
    ctx.ok_or_else(|| "no `new` call".to_string())
}

/// The same calls on the C libseccomp through the libseccomp crate 0.4.0, then `export_bpf`
/// into a memfd read back (libseccomp 2.5 has no `seccomp_export_bpf_mem`).
pub fn theirs(calls: &[Call]) -> Built {
    let ctx = theirs_ctx(calls)?;
    export_c(&ctx)
}

fn theirs_ctx(calls: &[Call]) -> Result<c::ScmpFilterContext, String> {
    let mut ctx = None::<c::ScmpFilterContext>;
    for call in calls {
        if let Call::New(a) = call {
            ctx = Some(c::ScmpFilterContext::new(action(*a)?).map_err(|e| format!("new: {e}"))?);
            continue;
        }
        let ctx = ctx.as_mut().ok_or("no `new` call")?;
        let res = match call {
            Call::RemoveArch(a) => ctx.remove_arch(arch(*a)?).map(drop),
            Call::AddArch(a) => ctx.add_arch(arch(*a)?).map(drop),
            Call::SetFilterAttr(a, v) => ctx.set_filter_attr(attr(*a)?, *v).map(drop),
            Call::SetCtlOptimize(l) => ctx.set_ctl_optimize(*l).map(drop),
            Call::AddRule(r) => {
                let cmps = r
                    .conditions
                    .iter()
                    .map(cmp)
                    .collect::<Result<Vec<_>, _>>()?;
                let act = action(r.action)?;
                c::ScmpSyscall::from_name(&r.syscall).and_then(|s| {
                    if cmps.is_empty() {
                        ctx.add_rule(act, s).map(drop)
                    } else {
                        ctx.add_rule_conditional(act, s, &cmps).map(drop)
                    }
                })
            }
            other => return Err(format!("unexpected call {other:?}")),
        };
        res.map_err(|e| format!("{}: {e}", describe(call)))?;
    }
    ctx.ok_or_else(|| "no `new` call".to_string())
}

fn export_c(ctx: &c::ScmpFilterContext) -> Built {
    match export_bpf(ctx) {
        Ok(out) => Ok(out),
        Err(ExportError::Seccomp(e)) => Err(format!("export_bpf: {e}")),
        Err(ExportError::Io(e)) => Err(e),
    }
}

/// Why [`export_bpf`] failed.
pub enum ExportError {
    /// libseccomp's `export_bpf` failed.
    Seccomp(c::error::SeccompError),
    /// The memfd could not be made or read back.
    Io(String),
}

/// The program of a libseccomp context, through `export_bpf` into a memfd read back.
pub fn export_bpf(ctx: &c::ScmpFilterContext) -> Result<Vec<u8>, ExportError> {
    export_to_memory(c"bpf", |file| ctx.export_bpf(file))
}

/// The pseudo filter code of a libseccomp context, through `export_pfc` into a memfd read
/// back.
pub fn export_pfc(ctx: &c::ScmpFilterContext) -> Result<String, ExportError> {
    let bytes = export_to_memory(c"pfc", |file| ctx.export_pfc(file))?;
    String::from_utf8(bytes).map_err(|e| ExportError::Io(format!("the PFC text: {e}")))
}

/// What `export` writes to a memfd named `name`, read back.
fn export_to_memory(
    name: &std::ffi::CStr,
    export: impl FnOnce(&File) -> Result<(), c::error::SeccompError>,
) -> Result<Vec<u8>, ExportError> {
    // SAFETY: a valid NUL-terminated name; the fd is owned by the File at once.
    let fd = unsafe { libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        let e = std::io::Error::last_os_error();
        return Err(ExportError::Io(format!("memfd_create: {e}")));
    }
    // SAFETY: `fd` is a fresh descriptor nothing else owns.
    let mut file = unsafe { File::from_raw_fd(fd) };
    export(&file).map_err(ExportError::Seccomp)?;
    let mut out = Vec::new();
    file.seek(SeekFrom::Start(0))
        .and_then(|_| file.read_to_end(&mut out))
        .map_err(|e| ExportError::Io(format!("reading the export back: {e}")))?;
    Ok(out)
}

fn describe(call: &Call) -> String {
    match call {
        Call::AddRule(RecipeRule {
            action,
            syscall,
            conditions,
        }) => format!(
            "add_rule({action:?}, {syscall}, {} conditions)",
            conditions.len()
        ),
        other => format!("{other:?}"),
    }
}

pub fn action(a: ps::ScmpAction) -> Result<c::ScmpAction, String> {
    Ok(match a {
        ps::ScmpAction::KillProcess => c::ScmpAction::KillProcess,
        ps::ScmpAction::KillThread => c::ScmpAction::KillThread,
        ps::ScmpAction::Trap => c::ScmpAction::Trap,
        ps::ScmpAction::Notify => c::ScmpAction::Notify,
        ps::ScmpAction::Errno(n) => c::ScmpAction::Errno(n),
        ps::ScmpAction::Trace(n) => c::ScmpAction::Trace(n),
        ps::ScmpAction::Log => c::ScmpAction::Log,
        ps::ScmpAction::Allow => c::ScmpAction::Allow,
        other => return Err(format!("no libseccomp action for {other:?}")),
    })
}

pub fn arch(a: ps::ScmpArch) -> Result<c::ScmpArch, String> {
    // Both parse libseccomp's SCMP_ARCH_* names.
    c::ScmpArch::from_str(&a.to_string()).map_err(|e| format!("{a}: {e}"))
}

fn attr(a: ps::ScmpFilterAttr) -> Result<c::ScmpFilterAttr, String> {
    Ok(match a {
        ps::ScmpFilterAttr::CtlLog => c::ScmpFilterAttr::CtlLog,
        ps::ScmpFilterAttr::CtlSsb => c::ScmpFilterAttr::CtlSsb,
        ps::ScmpFilterAttr::CtlTsync => c::ScmpFilterAttr::CtlTsync,
        ps::ScmpFilterAttr::CtlNnp => c::ScmpFilterAttr::CtlNnp,
        ps::ScmpFilterAttr::CtlOptimize => c::ScmpFilterAttr::CtlOptimize,
        ps::ScmpFilterAttr::CtlWaitkill => c::ScmpFilterAttr::CtlWaitkill,
        ps::ScmpFilterAttr::ApiTskip => c::ScmpFilterAttr::ApiTskip,
        ps::ScmpFilterAttr::ApiSysRawRc => c::ScmpFilterAttr::ApiSysRawRc,
        other => return Err(format!("no libseccomp attribute for {other:?}")),
    })
}

pub fn cmp(a: &ps::ScmpArgCompare) -> Result<c::ScmpArgCompare, String> {
    let op = match a.op() {
        ps::ScmpCompareOp::NotEqual => c::ScmpCompareOp::NotEqual,
        ps::ScmpCompareOp::Less => c::ScmpCompareOp::Less,
        ps::ScmpCompareOp::LessOrEqual => c::ScmpCompareOp::LessOrEqual,
        ps::ScmpCompareOp::Equal => c::ScmpCompareOp::Equal,
        ps::ScmpCompareOp::GreaterEqual => c::ScmpCompareOp::GreaterEqual,
        ps::ScmpCompareOp::Greater => c::ScmpCompareOp::Greater,
        ps::ScmpCompareOp::MaskedEqual(m) => c::ScmpCompareOp::MaskedEqual(m),
        other => return Err(format!("no libseccomp operator for {other:?}")),
    };
    Ok(c::ScmpArgCompare::new(a.arg(), op, a.datum()))
}

/// The recipe without the rules whose syscall name the C libseccomp does not know (its
/// tables are older), so that both libraries get the same calls; and those names.
pub fn common(recipe: &Recipe) -> (Recipe, Vec<String>) {
    let mut r = recipe.clone();
    let mut unknown: Vec<String> = Vec::new();
    r.rules.retain(|rule| {
        let ok = c::ScmpSyscall::from_name(&rule.syscall).is_ok();
        if !ok && !unknown.contains(&rule.syscall) {
            unknown.push(rule.syscall.clone());
        }
        ok
    });
    (r, unknown)
}
