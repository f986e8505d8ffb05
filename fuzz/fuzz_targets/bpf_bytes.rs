//! (b) Arbitrary bytes through the BPF decoder, disassembler, validators, simulator and
//! action-cache checker: no panic, and the properties of `checks::check_bpf_bytes`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    pure_seccomp_fuzz::checks::check_bpf_bytes(data);
});
