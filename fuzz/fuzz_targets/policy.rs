//! (c) Arbitrary bytes through the policy reader (`pure_seccomp::policy`, feature `policy`):
//! no panic, and every error names where it is (`checks::check_policy`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    pure_seccomp_fuzz::policy_check::check_policy(data);
});
