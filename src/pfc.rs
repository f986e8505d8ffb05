//! PFC output.
use crate::db::Collection;
pub(crate) fn render(_c: &Collection) -> String { String::new() }
