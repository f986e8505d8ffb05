//! Comparison operators for argument conditions.

use crate::error::{ErrorKind, Result, SeccompError};
use std::str::FromStr;

/// How a syscall argument is compared with a rule's value.
///
/// ```
/// use pure_seccomp::ScmpCompareOp;
/// use std::str::FromStr;
/// assert_eq!(ScmpCompareOp::from_str("SCMP_CMP_LE").unwrap(), ScmpCompareOp::LessOrEqual);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ScmpCompareOp {
    /// `arg != datum`
    NotEqual,
    /// `arg < datum`
    Less,
    /// `arg <= datum`
    LessOrEqual,
    /// `arg == datum`
    Equal,
    /// `arg >= datum`
    GreaterEqual,
    /// `arg > datum`
    Greater,
    /// `arg & mask == datum`
    MaskedEqual(#[doc = "mask"] u64),
}

impl FromStr for ScmpCompareOp {
    type Err = SeccompError;

    /// Parses libseccomp's `SCMP_CMP_*` names (`SCMP_CMP_MASKED_EQ` gets a zero mask).
    fn from_str(cmp_op: &str) -> Result<Self> {
        match cmp_op {
            "SCMP_CMP_NE" => Ok(Self::NotEqual),
            "SCMP_CMP_LT" => Ok(Self::Less),
            "SCMP_CMP_LE" => Ok(Self::LessOrEqual),
            "SCMP_CMP_EQ" => Ok(Self::Equal),
            "SCMP_CMP_GE" => Ok(Self::GreaterEqual),
            "SCMP_CMP_GT" => Ok(Self::Greater),
            "SCMP_CMP_MASKED_EQ" => Ok(Self::MaskedEqual(0)),
            _ => Err(SeccompError::new(ErrorKind::FromStr(cmp_op.to_string()))),
        }
    }
}
