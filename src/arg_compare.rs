//! Argument conditions of a rule.

use crate::ScmpCompareOp;

/// One condition on a syscall argument, attached to a rule.
///
/// This replaces the `libseccomp` crate's wrapper around the C `scmp_arg_cmp`; the fields are
/// the same (`arg`, `op`, `datum_a`, `datum_b`, with the mask of a masked comparison in
/// `datum_a`) and readable through accessors.
///
/// ```
/// use pure_seccomp::{scmp_cmp, ScmpArgCompare, ScmpCompareOp};
/// assert_eq!(scmp_cmp!($arg1 & 0x3 == 1), ScmpArgCompare::new(1, ScmpCompareOp::MaskedEqual(3), 1));
/// assert_eq!(scmp_cmp!($arg0 != 8), ScmpArgCompare::new(0, ScmpCompareOp::NotEqual, 8));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ScmpArgCompare {
    arg: u32,
    op: ScmpCompareOp,
    datum: u64,
}

impl ScmpArgCompare {
    /// A condition that holds when argument `arg` (0-based) compares with `datum` by `op`.
    ///
    /// You can use the [`scmp_cmp!`](crate::scmp_cmp) macro instead.
    #[must_use]
    pub const fn new(arg: u32, op: ScmpCompareOp, datum: u64) -> Self {
        Self { arg, op, datum }
    }

    /// The argument index.
    pub const fn arg(&self) -> u32 {
        self.arg
    }

    /// The comparison operator.
    pub const fn op(&self) -> ScmpCompareOp {
        self.op
    }

    /// The value compared with (after masking, for [`ScmpCompareOp::MaskedEqual`]).
    pub const fn datum(&self) -> u64 {
        self.datum
    }

    /// libseccomp's `datum_a`: the mask of a masked comparison, the datum otherwise.
    pub const fn datum_a(&self) -> u64 {
        match self.op {
            ScmpCompareOp::MaskedEqual(mask) => mask,
            _ => self.datum,
        }
    }

    /// libseccomp's `datum_b`: the datum of a masked comparison, 0 otherwise.
    pub const fn datum_b(&self) -> u64 {
        match self.op {
            ScmpCompareOp::MaskedEqual(_) => self.datum,
            _ => 0,
        }
    }
}

impl From<(u32, ScmpCompareOp, u64)> for ScmpArgCompare {
    /// The pair form: `(arg, op, datum)`.
    fn from((arg, op, datum): (u32, ScmpCompareOp, u64)) -> Self {
        Self::new(arg, op, datum)
    }
}

#[rustfmt::skip]
#[doc(hidden)]
#[macro_export]
macro_rules! __private_scmp_cmp_arg {
    (arg0) => { 0 };
    (arg1) => { 1 };
    (arg2) => { 2 };
    (arg3) => { 3 };
    (arg4) => { 4 };
    (arg5) => { 5 };
}

/// Builds an [`ScmpArgCompare`] from a comparison written as code:
/// `scmp_cmp!($argN OP value)` with OP one of `!=`, `<`, `<=`, `==`, `>=`, `>`, or
/// `scmp_cmp!($argN & mask == value)`.
///
/// ```
/// use pure_seccomp::*;
/// let c = scmp_cmp!($arg2 >= 4096);
/// assert_eq!(c, ScmpArgCompare::new(2, ScmpCompareOp::GreaterEqual, 4096));
/// let m = scmp_cmp!($arg1 & (libc::O_WRONLY as u64 | 1) == 1);
/// assert_eq!(m.datum_a(), 1);
/// ```
#[macro_export]
macro_rules! scmp_cmp {
    ($_:tt $arg:tt != $datum:expr) => {
        $crate::ScmpArgCompare::new(
            $crate::__private_scmp_cmp_arg!($arg),
            $crate::ScmpCompareOp::NotEqual,
            $datum,
        )
    };
    ($_:tt $arg:tt < $datum:expr) => {
        $crate::ScmpArgCompare::new(
            $crate::__private_scmp_cmp_arg!($arg),
            $crate::ScmpCompareOp::Less,
            $datum,
        )
    };
    ($_:tt $arg:tt <= $datum:expr) => {
        $crate::ScmpArgCompare::new(
            $crate::__private_scmp_cmp_arg!($arg),
            $crate::ScmpCompareOp::LessOrEqual,
            $datum,
        )
    };
    ($_:tt $arg:tt == $datum:expr) => {
        $crate::ScmpArgCompare::new(
            $crate::__private_scmp_cmp_arg!($arg),
            $crate::ScmpCompareOp::Equal,
            $datum,
        )
    };
    ($_:tt $arg:tt >= $datum:expr) => {
        $crate::ScmpArgCompare::new(
            $crate::__private_scmp_cmp_arg!($arg),
            $crate::ScmpCompareOp::GreaterEqual,
            $datum,
        )
    };
    ($_:tt $arg:tt > $datum:expr) => {
        $crate::ScmpArgCompare::new(
            $crate::__private_scmp_cmp_arg!($arg),
            $crate::ScmpCompareOp::Greater,
            $datum,
        )
    };
    ($_:tt $arg:tt & $mask:tt == $datum:expr) => {
        $crate::ScmpArgCompare::new(
            $crate::__private_scmp_cmp_arg!($arg),
            $crate::ScmpCompareOp::MaskedEqual(
                #[allow(unused_parens)]
                $mask,
            ),
            $datum,
        )
    };
}
