//! (d) Rules of one action on one architecture, from raw bytes: the program gives the action
//! exactly when all comparisons of some rule hold (`rules_check::check_rules`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    pure_seccomp_fuzz::rules_check::check_rules(data);
});
