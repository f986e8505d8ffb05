//! The parts of bench-c its two binaries share: making the same API calls on both libraries
//! ([`replay`]), simulating their programs on queries ([`sim`]) and timing them in the kernel
//! ([`kernel`]). `bench-c` (src/main.rs) is the benchmark, `record` (src/bin/record.rs) the
//! recorder of conformance cases.

pub mod kernel;
pub mod replay;
pub mod sim;
