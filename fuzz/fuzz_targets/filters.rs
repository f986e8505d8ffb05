//! (a) Structured random filters through the public API: every exported program, at both
//! optimize levels and with the optimizer's passes as chosen, all on and all off, passes the
//! validator, and its simulation agrees with `ScmpFilterContext::evaluate`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pure_seccomp_fuzz::{checks, input::Case};

fuzz_target!(|case: Case| {
    if let Some((mut ctx, passes, values, nrs)) = case.build() {
        let seed = values
            .iter()
            .fold(nrs.len() as u64, |s, v| s.rotate_left(7) ^ v);
        checks::check_filter(&mut ctx, passes, &values, &nrs, seed);
    }
});
