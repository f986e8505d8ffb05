//! Errors returned by pure-seccomp.
//!
//! The surface is the one of the `libseccomp` crate 0.4.0: [`SeccompError`] with
//! [`errno()`](SeccompError::errno), [`sysrawrc()`](SeccompError::sysrawrc) and
//! [`raw_ffi_value()`](SeccompError::raw_ffi_value), and the [`SeccompErrno`] kinds that the
//! C library documents. Unlike the C library, every error also carries a message that says
//! what was wrong (the syscall name, the argument index, ...), shown by `Display`.

use std::borrow::Cow;
use std::error::Error;
use std::fmt;

/// The crate's result type.
pub type Result<T> = std::result::Result<T, SeccompError>;

/// The error kinds libseccomp documents for its API (`seccomp_*` return `-errno`).
///
/// ```
/// use pure_seccomp::error::SeccompErrno;
/// assert_eq!(SeccompErrno::EEXIST.to_string(), "Failure regarding the existence of argument");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SeccompErrno {
    /// The library doesn't permit the particular operation.
    EACCES,
    /// There was a system failure beyond the control of the library.
    ECANCELED,
    /// Architecture/ABI specific failure.
    EDOM,
    /// Failure regarding the existence of argument.
    EEXIST,
    /// Internal library failure.
    EFAULT,
    /// Invalid input to the API.
    EINVAL,
    /// No matching entry found.
    ENOENT,
    /// Unable to allocate enough memory to perform the requested operation.
    ENOMEM,
    /// The library doesn't support the particular operation.
    EOPNOTSUPP,
    /// Provided buffer is too small.
    ERANGE,
    /// Unable to load the filter due to thread issues.
    ESRCH,
}

impl SeccompErrno {
    fn strerror(self) -> &'static str {
        use SeccompErrno::*;
        match self {
            EACCES => "The library doesn't permit the particular operation",
            ECANCELED => "There was a system failure beyond the control of libseccomp",
            EDOM => "Architecture/ABI specific failure",
            EEXIST => "Failure regarding the existence of argument",
            EFAULT => "Internal libseccomp failure",
            EINVAL => "Invalid input to the libseccomp API",
            ENOENT => "No matching entry found",
            ENOMEM => "Unable to allocate enough memory to perform the requested operation",
            EOPNOTSUPP => "The library doesn't support the particular operation",
            ERANGE => "Provided buffer is too small",
            ESRCH => "Unable to load the filter due to thread issues",
        }
    }

    /// The positive `errno` value of this kind (`libc::EEXIST` for [`SeccompErrno::EEXIST`], ...).
    pub(crate) fn raw(self) -> i32 {
        use SeccompErrno::*;
        match self {
            EACCES => libc::EACCES,
            ECANCELED => libc::ECANCELED,
            EDOM => libc::EDOM,
            EEXIST => libc::EEXIST,
            EFAULT => libc::EFAULT,
            EINVAL => libc::EINVAL,
            ENOENT => libc::ENOENT,
            ENOMEM => libc::ENOMEM,
            EOPNOTSUPP => libc::EOPNOTSUPP,
            ERANGE => libc::ERANGE,
            ESRCH => libc::ESRCH,
        }
    }

    /// The kind for a positive `errno` value, if it is one libseccomp documents.
    pub(crate) fn from_raw(errno: i32) -> Option<Self> {
        use SeccompErrno::*;
        Some(match errno {
            libc::EACCES => EACCES,
            libc::ECANCELED => ECANCELED,
            libc::EDOM => EDOM,
            libc::EEXIST => EEXIST,
            libc::EFAULT => EFAULT,
            libc::EINVAL => EINVAL,
            libc::ENOENT => ENOENT,
            libc::ENOMEM => ENOMEM,
            libc::EOPNOTSUPP => EOPNOTSUPP,
            libc::ERANGE => ERANGE,
            libc::ESRCH => ESRCH,
            _ => return None,
        })
    }
}

impl fmt::Display for SeccompErrno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.strerror())
    }
}

/// What went wrong, without the optional detail message and source.
#[derive(Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub(crate) enum ErrorKind {
    /// One of libseccomp's documented error kinds.
    #[error("{0}")]
    Errno(SeccompErrno),
    /// A raw (negative) errno from the kernel, reported when `api_sysrawrc` is set.
    #[error("The system's raw error code({0}) was returned")]
    SysRawRc(i32),
    /// An architecture token that names no architecture.
    #[error("{0:#x} is not a valid architecture token")]
    InvalidArch(u32),
    /// An action value that names no action.
    #[error("{0:#x} is not a valid action")]
    InvalidAction(u32),
    /// A string that does not parse as the requested type.
    #[error("Could not parse {0:?}")]
    FromStr(String),
    /// A failure described by its message alone.
    #[error("{0}")]
    Common(Cow<'static, str>),
}

/// The error type of every fallible function in this crate.
///
/// `Display` gives libseccomp's description of the error kind followed by what exactly was
/// wrong:
///
/// ```
/// use pure_seccomp::{error::SeccompErrno, ScmpAction, ScmpFilterContext};
/// let mut ctx = ScmpFilterContext::new(ScmpAction::Allow).unwrap();
/// let err = ctx.add_rule(ScmpAction::Allow, 0).unwrap_err();
/// assert_eq!(err.errno(), Some(SeccompErrno::EACCES));
/// assert!(err.to_string().contains("default action"));
/// ```
pub struct SeccompError {
    kind: ErrorKind,
    detail: Option<Cow<'static, str>>,
    source: Option<Box<dyn Error + Send + Sync>>,
}

impl SeccompError {
    pub(crate) fn new(kind: ErrorKind) -> Self {
        Self {
            kind,
            detail: None,
            source: None,
        }
    }

    /// An error of a documented errno kind with a message that says what was wrong.
    pub(crate) fn with_errno<M: Into<Cow<'static, str>>>(errno: SeccompErrno, detail: M) -> Self {
        Self {
            kind: ErrorKind::Errno(errno),
            detail: Some(detail.into()),
            source: None,
        }
    }

    /// An error with no errno kind, described by its message.
    pub(crate) fn with_msg<M: Into<Cow<'static, str>>>(msg: M) -> Self {
        Self::new(ErrorKind::Common(msg.into()))
    }

    /// An error with no errno kind, described by its message and caused by `source`.
    pub(crate) fn with_msg_and_source<M, E>(msg: M, source: E) -> Self
    where
        M: Into<Cow<'static, str>>,
        E: Error + Send + Sync + 'static,
    {
        Self {
            kind: ErrorKind::Common(msg.into()),
            detail: None,
            source: Some(Box::new(source)),
        }
    }

    /// An error from a negative errno as libseccomp's functions return it: a documented
    /// kind where it is one, the raw code otherwise.
    pub(crate) fn from_errno(raw_errno: i32) -> Self {
        match SeccompErrno::from_raw(-raw_errno) {
            Some(e) => Self::new(ErrorKind::Errno(e)),
            None => Self::new(ErrorKind::SysRawRc(raw_errno)),
        }
    }

    /// Like [`from_errno`](Self::from_errno), with a message that says which call failed.
    pub(crate) fn from_errno_with_msg<M: Into<Cow<'static, str>>>(raw_errno: i32, msg: M) -> Self {
        let mut e = Self::from_errno(raw_errno);
        e.detail = Some(msg.into());
        e
    }

    /// The error kind, if this error is one of libseccomp's documented errno kinds.
    ///
    /// ```
    /// use pure_seccomp::{error::SeccompErrno, ScmpArch, ScmpAction, ScmpFilterContext};
    /// let mut ctx = ScmpFilterContext::new(ScmpAction::KillThread).unwrap();
    /// ctx.remove_arch(ScmpArch::native()).unwrap();
    /// ctx.add_arch(ScmpArch::X8664).unwrap();
    /// // An architecture of the other byte order cannot join a filter.
    /// let err = ctx.add_arch(ScmpArch::S390X).unwrap_err();
    /// assert_eq!(err.errno(), Some(SeccompErrno::EDOM));
    /// ```
    pub fn errno(&self) -> Option<SeccompErrno> {
        match self.kind {
            ErrorKind::Errno(e) => Some(e),
            _ => None,
        }
    }

    /// The raw, negative error code: the kernel's errno when `api_sysrawrc` is set and a
    /// system call failed, or the code of the errno kind.
    ///
    /// ```
    /// use pure_seccomp::{ScmpAction, ScmpFilterContext};
    /// let mut ctx = ScmpFilterContext::new(ScmpAction::Allow).unwrap();
    /// let err = ctx.add_rule(ScmpAction::Allow, 0).unwrap_err();
    /// assert_eq!(err.sysrawrc(), Some(-libc::EACCES));
    /// ```
    pub fn sysrawrc(&self) -> Option<i32> {
        match self.kind {
            ErrorKind::SysRawRc(rc) => Some(rc),
            ErrorKind::Errno(e) => Some(-e.raw()),
            _ => None,
        }
    }

    /// The value that could not be converted, for an invalid architecture token or action.
    ///
    /// ```
    /// use pure_seccomp::ScmpVersion;
    /// // Errors that carry no raw value return None.
    /// assert!(ScmpVersion::current().is_ok());
    /// ```
    pub fn raw_ffi_value(&self) -> Option<u32> {
        match self.kind {
            ErrorKind::InvalidArch(v) | ErrorKind::InvalidAction(v) => Some(v),
            _ => None,
        }
    }
}

impl fmt::Display for SeccompError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)?;
        if let Some(d) = &self.detail {
            write!(f, ": {d}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for SeccompError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("SeccompError");
        s.field("kind", &self.kind);
        if let Some(d) = &self.detail {
            s.field("detail", d);
        }
        if let Some(src) = &self.source {
            s.field("source", src);
        }
        s.finish()
    }
}

impl Error for SeccompError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn Error + 'static))
    }
}

impl From<std::num::TryFromIntError> for SeccompError {
    fn from(e: std::num::TryFromIntError) -> Self {
        Self::with_msg_and_source("integer conversion failed", e)
    }
}

impl From<std::io::Error> for SeccompError {
    fn from(e: std::io::Error) -> Self {
        Self::with_msg_and_source("I/O error", e)
    }
}

// SeccompError must be usable across threads, like the libseccomp crate's.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<SeccompError>();
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_has_kind_and_detail() {
        let e = SeccompError::with_errno(
            SeccompErrno::EINVAL,
            "argument index 6 is out of range (0..=5)",
        );
        assert_eq!(
            e.to_string(),
            "Invalid input to the libseccomp API: argument index 6 is out of range (0..=5)"
        );
        assert_eq!(e.errno(), Some(SeccompErrno::EINVAL));
        assert_eq!(e.sysrawrc(), Some(-libc::EINVAL));
    }

    #[test]
    fn raw_errno_mapping() {
        assert_eq!(
            SeccompError::from_errno(-libc::EDOM).errno(),
            Some(SeccompErrno::EDOM)
        );
        let e = SeccompError::from_errno(-libc::EPERM);
        assert_eq!(e.errno(), None);
        assert_eq!(e.sysrawrc(), Some(-libc::EPERM));
        assert!(e.to_string().contains("-1"));
    }
}
