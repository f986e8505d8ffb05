//! (e) libseccomp's C calls through the C-ABI shell (`compat/libseccomp-sys`), each beside the
//! same call through the Rust API: the same answers, the same programs, the same attributes;
//! what C must refuse is refused and changes nothing.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| pure_seccomp_fuzz::c_api_check::check(data));
