//! `libseccomp.so.2` / `libseccomp.a`: the C-ABI shell of `compat/libseccomp-sys` as a C
//! library. Every `seccomp_*` function of libseccomp 2.6 is exported, unversioned as in
//! Debian's libseccomp.so.2; `include/seccomp.h` declares them.
//!
//! Nothing is defined here: linking the shell crate is what puts its `#[no_mangle]`
//! functions into the library.
// Links the shell; its exported functions become this library's symbols.
extern crate libseccomp_sys;
