//! The libseccomp version whose behaviour this crate implements.

use crate::error::{Result, SeccompError};
use std::fmt;

/// A libseccomp version (`major.minor.micro`).
///
/// ```
/// use pure_seccomp::ScmpVersion;
/// let v = ScmpVersion::from((2, 5, 4));
/// assert_eq!((v.major, v.minor, v.micro), (2, 5, 4));
/// assert_eq!(v.to_string(), "2.5.4");
/// assert!(ScmpVersion::from((2, 6, 0)) > v);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ScmpVersion {
    /// The major version.
    pub major: u32,
    /// The minor version.
    pub minor: u32,
    /// The micro version.
    pub micro: u32,
}

/// The libseccomp release whose behaviour is implemented: 2.6.0.
const IMPLEMENTED: ScmpVersion = ScmpVersion {
    major: 2,
    minor: 6,
    micro: 0,
};

impl ScmpVersion {
    /// The libseccomp version this crate behaves as: **2.6.0**.
    ///
    /// There is no C library to ask: pure-seccomp implements libseccomp 2.6.0's behaviour
    /// (API levels 1 to 7, transactions, `export_bpf_mem`, `precompute`, the
    /// `CtlWaitkill` attribute, ...), so code written for the `libseccomp` crate that gates
    /// features on the version, like `check_version(ScmpVersion::from((2, 5, 0)))`, takes
    /// the branch for a 2.6.0 library. This is libseccomp's `seccomp_version`.
    ///
    /// # Errors
    ///
    /// None; the `Result` is kept for compatibility.
    ///
    /// ```
    /// use pure_seccomp::ScmpVersion;
    /// assert_eq!(ScmpVersion::current()?, ScmpVersion::from((2, 6, 0)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn current() -> Result<Self> {
        Ok(IMPLEMENTED)
    }
}

impl From<(u32, u32, u32)> for ScmpVersion {
    /// A version from `(major, minor, micro)`.
    fn from((major, minor, micro): (u32, u32, u32)) -> Self {
        Self {
            major,
            minor,
            micro,
        }
    }
}

impl fmt::Display for ScmpVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.micro)
    }
}

/// Whether [`ScmpVersion::current`] (2.6.0) is at least `expected`.
///
/// # Errors
///
/// None; the `Result` is kept for compatibility.
///
/// # Examples
///
/// ```
/// # use pure_seccomp::*;
/// assert!(check_version(ScmpVersion::from((2, 4, 0)))?);
/// assert!(check_version(ScmpVersion::from((2, 6, 0)))?);
/// assert!(!check_version(ScmpVersion::from((2, 6, 1)))?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn check_version(expected: ScmpVersion) -> Result<bool> {
    Ok(ScmpVersion::current()? >= expected)
}

/// Fails with a message naming `msg` unless the version is at least `expected`.
pub(crate) fn ensure_supported_version(msg: &str, expected: ScmpVersion) -> Result<()> {
    if check_version(expected)? {
        Ok(())
    } else {
        let current = ScmpVersion::current()?;
        Err(SeccompError::with_msg(format!(
            "{msg} requires libseccomp >= {expected} (current version: {current})"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_comparisons() {
        let v = ScmpVersion::current().unwrap();
        let ok = [
            (v.major, v.minor, v.micro),
            (v.major - 1, 99, 99),
            (v.major, v.minor - 1, 99),
        ];
        for t in ok {
            assert!(ensure_supported_version("t", t.into()).is_ok(), "{t:?}");
        }
        let bad = [
            (v.major + 1, 0, 0),
            (v.major, v.minor + 1, 0),
            (v.major, v.minor, v.micro + 1),
        ];
        for t in bad {
            let e = ensure_supported_version("t", t.into()).unwrap_err();
            assert!(e.to_string().contains("current version: 2.6.0"), "{e}");
        }
    }
}
