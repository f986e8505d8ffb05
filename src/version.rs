//! Version. (SKELETON: replaced by the kernel interface work.)
use crate::error::Result;
use std::fmt;

/// A libseccomp version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ScmpVersion {
    /// Major.
    pub major: u32,
    /// Minor.
    pub minor: u32,
    /// Micro.
    pub micro: u32,
}
impl ScmpVersion {
    /// The libseccomp version whose behaviour we implement.
    pub fn current() -> Result<Self> {
        Ok(Self {
            major: 2,
            minor: 6,
            micro: 0,
        })
    }
}
impl From<(u32, u32, u32)> for ScmpVersion {
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
/// Checks the version.
pub fn check_version(expected: ScmpVersion) -> Result<bool> {
    Ok(ScmpVersion::current()? >= expected)
}
