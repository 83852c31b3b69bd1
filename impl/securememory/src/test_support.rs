//! Helpers shared by the unit tests: re-running one test in a child process, reading `/proc/self/status`.

use std::os::unix::process::ExitStatusExt;
use std::process::{Command, ExitStatus};

/// Environment variable telling a re-executed test binary which child behaviour to run.
pub(crate) const CHILD_ENV: &str = "SECUREMEMORY_TEST_CHILD";

/// Re-run the test `name` (full path, e.g. `os::tests::x`) in a child process with `CHILD_ENV=mode`.
pub(crate) fn run_child(name: &str, mode: &str, wrapper: &[&str]) -> ExitStatus {
    let exe = std::env::current_exe().expect("test binary path");
    let mut args: Vec<String> = wrapper.iter().map(|s| s.to_string()).collect();
    args.push(exe.display().to_string());
    args.extend(["--exact", name, "--nocapture", "--test-threads=1"].map(String::from));
    let mut cmd = Command::new(&args[0]);
    cmd.args(&args[1..]).env(CHILD_ENV, mode);
    cmd.output().expect("spawn child test process").status
}

/// The child mode this process was started with, if any.
pub(crate) fn child_mode() -> Option<String> {
    std::env::var(CHILD_ENV).ok()
}

/// The signal that killed a child, if any.
pub(crate) fn signal(status: ExitStatus) -> Option<i32> {
    status.signal()
}

/// `VmLck` of this process in KiB.
pub(crate) fn locked_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmLck:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmLck line")
}

/// Whether this process runs as root (then mlock ignores RLIMIT_MEMLOCK unless CAP_IPC_LOCK is dropped).
pub(crate) fn is_root() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|v| v.split_whitespace().nth(1).map(|euid| euid == "0"))
        .unwrap_or(false)
}

/// Read `len` bytes at `addr` of this process through `/proc/self/mem`, as a debugger or root would: the kernel
/// reads through its own mapping of the page (FOLL_FORCE), whatever the page's protection.
pub(crate) fn read_proc_self_mem(addr: usize, len: usize) -> std::io::Result<Vec<u8>> {
    use std::os::unix::fs::FileExt;
    let mem = std::fs::File::open("/proc/self/mem")?;
    let mut buf = vec![0u8; len];
    mem.read_exact_at(&mut buf, addr as u64)?;
    Ok(buf)
}

/// Whether the kernel offers memfd_secret here. Without it the memfd_secret tests skip, loudly.
pub(crate) fn memfd_secret_or_skip(test: &str) -> bool {
    if crate::Backing::MemfdSecret.is_available() {
        return true;
    }
    eprintln!(
        "SKIPPED {test}: this kernel has no memfd_secret (Linux ≥ 5.14 with secretmem enabled); \
         the mmap backing was tested alone"
    );
    false
}
