//! User transactions: snapshots of the rule database to return to.

use super::{einval, ScmpFilterContext};
use crate::error::Result;

impl ScmpFilterContext {
    /// Starts a transaction: changes until [`commit_transaction`](Self::commit_transaction)
    /// can be undone with [`reject_transaction`](Self::reject_transaction). Transactions nest.
    ///
    /// ```
    /// use pure_seccomp::*;
    /// let mut ctx = ScmpFilterContext::new(ScmpAction::Allow)?;
    /// ctx.start_transaction()?;
    /// ctx.add_rule(ScmpAction::KillThread, ScmpSyscall::from_name("ptrace")?)?;
    /// ctx.reject_transaction();
    /// ctx.start_transaction()?;
    /// ctx.add_rule(ScmpAction::KillThread, ScmpSyscall::from_name("ptrace")?)?;
    /// ctx.commit_transaction()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn start_transaction(&self) -> Result<()> {
        self.snapshots.borrow_mut().push(self.col.clone());
        Ok(())
    }

    /// Undoes everything since the matching [`start_transaction`](Self::start_transaction)
    /// (nothing happens when no transaction is open).
    ///
    /// ```
    /// use pure_seccomp::*;
    /// let mut ctx = ScmpFilterContext::new(ScmpAction::Allow)?;
    /// let before = ctx.export_bpf_mem()?;
    /// ctx.start_transaction()?;
    /// ctx.add_rule(ScmpAction::KillThread, ScmpSyscall::from_name("ptrace")?)?;
    /// ctx.reject_transaction();
    /// assert_eq!(ctx.export_bpf_mem()?, before);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reject_transaction(&mut self) {
        if let Some(s) = self.snapshots.get_mut().pop() {
            self.col = s;
            self.changed();
        }
    }

    /// Keeps everything since the matching [`start_transaction`](Self::start_transaction).
    ///
    /// # Errors
    ///
    /// `EINVAL` when no transaction is open.
    ///
    /// ```
    /// use pure_seccomp::*;
    /// let mut ctx = ScmpFilterContext::new(ScmpAction::Allow)?;
    /// assert!(ctx.commit_transaction().is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn commit_transaction(&mut self) -> Result<()> {
        match self.snapshots.get_mut().pop() {
            Some(_) => Ok(()),
            None => Err(einval("no transaction is open")),
        }
    }
}
