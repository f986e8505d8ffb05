//! User notification. (SKELETON: replaced by the kernel interface work.)
