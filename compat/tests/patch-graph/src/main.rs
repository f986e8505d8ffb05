//! Builds a filter through `mid` and checks it with the safe and the raw API.
fn main() {
    let ctx = mid::deny_getppid().expect("building the filter");
    let bytes = ctx.export_bpf_mem().expect("export_bpf_mem");
    assert_eq!(mid::program_len(&ctx), Some(bytes.len()));
    println!(
        "patch-graph: {} instructions, built through a dependency on the registry's libseccomp",
        bytes.len() / 8
    );
}
