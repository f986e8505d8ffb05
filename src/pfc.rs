//! PFC output. (SKELETON)
