//! The shared library answers to libseccomp's SONAME, so that programs linked against
//! Debian's libseccomp.so.2 load it unchanged.
fn main() {
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libseccomp.so.2");
    println!("cargo:rerun-if-changed=build.rs");
}
