//! Code generator. (SKELETON)
