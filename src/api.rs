//! API levels. (SKELETON: replaced by the kernel interface work.)
use crate::error::Result;
use crate::{ScmpAction, ScmpVersion};

/// Sets the API level.
pub fn set_api(_level: u32) -> Result<()> {
    Ok(())
}
/// Gets the API level.
pub fn get_api() -> u32 {
    7
}
/// Checks the API level.
pub fn check_api(min_level: u32, _expected: ScmpVersion) -> Result<bool> {
    Ok(get_api() >= min_level)
}
/// Whether the running kernel supports `action` (LOG, KILL_PROCESS, NOTIFY need probing).
pub(crate) fn action_supported(_action: ScmpAction) -> bool {
    true
}
/// TSYNC and NOTIFY together (API level 6).
pub(crate) fn tsync_notify_supported() -> bool {
    true
}
