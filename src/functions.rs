//! Free functions. (SKELETON: replaced by the kernel interface work.)
