//! `latchkey`: the server and its operator commands (`latchkey::commands`).

use std::process::ExitCode;

/// mimalloc rather than the system's allocator: a `GetToken` allocates its reply and a miss a
/// connection's projection, and glibc's malloc took a large share of the service's CPU in both
/// (profiles in docs/benchmarks/log-2026-12.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    latchkey::commands::main()
}
