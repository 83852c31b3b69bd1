//! [`Backing`]: where a secret's pages come from, and which one a process uses by default.

use std::fmt;
use std::sync::OnceLock;

/// Where the pages of secrets come from. Both keep the no-access-while-idle protection on top; they differ in
/// who else can read the pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backing {
    /// Anonymous private memory, locked with `mlock` and excluded from core dumps (`MADV_DONTDUMP`). The kernel
    /// can still read it through its direct map, so `/proc/PID/mem`, `ptrace` and `process_vm_readv` (by root
    /// or a tracer of this process) reach the bytes even while the page is `PROT_NONE`.
    Mmap,
    /// Pages of a `memfd_secret(2)` file (Linux ≥ 5.14 with secretmem enabled): the kernel removes them from its
    /// direct map, so `/proc/PID/mem`, `ptrace` and `process_vm_readv` cannot read them; they are locked by the
    /// kernel (counted against `RLIMIT_MEMLOCK`), never swapped, never in a core dump, and left out of forked
    /// children (`MADV_DONTFORK`).
    MemfdSecret,
}

impl Backing {
    /// The name used in logs, reports and `ASHERAH_SECRET_BACKING`.
    pub fn name(self) -> &'static str {
        match self {
            Backing::Mmap => "mmap+mlock",
            Backing::MemfdSecret => "memfd_secret",
        }
    }

    /// Whether this process can create pages of this backing (`Mmap` always can; `MemfdSecret` only where the
    /// kernel has secretmem). Probed once per process.
    pub fn is_available(self) -> bool {
        match self {
            Backing::Mmap => true,
            Backing::MemfdSecret => memfd_secret_probe().is_ok(),
        }
    }
}

impl fmt::Display for Backing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The environment variable that overrides [`default_backing`]: `mmap` or `memfd_secret`.
pub const BACKING_ENV: &str = "ASHERAH_SECRET_BACKING";

/// The backing a factory uses unless told otherwise: `memfd_secret` where the kernel offers it, else `mmap+mlock`.
/// `ASHERAH_SECRET_BACKING=mmap|memfd_secret` overrides the choice (forcing `memfd_secret` where the kernel lacks
/// it makes every secret creation fail with [`Error::BackingUnavailable`](crate::Error::BackingUnavailable)).
/// Decided once per process and logged once (`tracing`, target `securememory`).
pub fn default_backing() -> Backing {
    static DEFAULT: OnceLock<Backing> = OnceLock::new();
    *DEFAULT.get_or_init(|| {
        let requested = std::env::var(BACKING_ENV).ok();
        let (backing, why) = match requested.as_deref().map(str::trim) {
            Some("mmap") => (Backing::Mmap, format!("{BACKING_ENV}=mmap")),
            Some("memfd_secret") => (Backing::MemfdSecret, format!("{BACKING_ENV}=memfd_secret")),
            Some(other) => {
                tracing::warn!(
                    target: "securememory",
                    "{BACKING_ENV}={other:?} is not one of mmap, memfd_secret: ignored"
                );
                auto_backing()
            }
            None => auto_backing(),
        };
        tracing::info!(target: "securememory", backing = backing.name(), "secret memory backing: {backing} ({why})");
        backing
    })
}

fn auto_backing() -> (Backing, String) {
    match memfd_secret_probe() {
        Ok(()) => (
            Backing::MemfdSecret,
            "the kernel offers memfd_secret".to_owned(),
        ),
        Err(e) => (Backing::Mmap, format!("memfd_secret unavailable: {e}")),
    }
}

/// One probe per process: can we open a secretmem file?
fn memfd_secret_probe() -> Result<(), String> {
    static PROBE: OnceLock<Result<(), String>> = OnceLock::new();
    PROBE
        .get_or_init(|| {
            #[cfg(not(loom))]
            {
                crate::os::memfd_secret_available().map_err(|e| e.to_string())
            }
            #[cfg(loom)]
            {
                Err("not modelled under loom".to_owned())
            }
        })
        .clone()
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_display() {
        assert_eq!(Backing::Mmap.to_string(), "mmap+mlock");
        assert_eq!(Backing::MemfdSecret.to_string(), "memfd_secret");
        assert!(Backing::Mmap.is_available());
    }

    #[test]
    fn default_is_an_available_backing() {
        assert!(default_backing().is_available() || std::env::var(BACKING_ENV).is_ok());
    }
}
