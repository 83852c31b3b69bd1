//! `SessionFactory::builder(..).secret_factory(..)` honours the secret factory's `disable_core_dumps(false)`: the
//! builder must not build a default `SecretFactory` (which sets `RLIMIT_CORE = 0` for the whole process, as Go's
//! memguard does) before the caller's factory replaces it. And without `.secret_factory`, building does set it.
//!
//! A test binary of its own: the limit is process-wide and lowered at most once per process, so no other test may
//! run in this process first.

use std::process::Command;
use std::sync::Arc;

use appencryption::{Error, InMemoryMetastore, KeyManagementService, SessionFactory};
use async_trait::async_trait;
use securememory::SecretFactory;

/// A KMS that is never called: building a factory touches no KMS.
struct UnusedKms;

#[async_trait]
impl KeyManagementService for UnusedKms {
    async fn encrypt_key(&self, _key: &[u8]) -> Result<Vec<u8>, Error> {
        unreachable!("building a factory calls no KMS")
    }

    async fn decrypt_key(&self, _encrypted: &[u8], _key_out: &mut [u8; 32]) -> Result<(), Error> {
        unreachable!("building a factory calls no KMS")
    }
}

/// The soft core-size limit, as `/proc/self/limits` shows it (`0`, a byte count or `unlimited`).
fn soft_core_limit() -> String {
    let limits = std::fs::read_to_string("/proc/self/limits").expect("/proc/self/limits");
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .expect("a core size line");
    line.split_whitespace()
        .nth(4)
        .expect("soft limit")
        .to_owned()
}

fn builder() -> appencryption::SessionFactoryBuilder {
    SessionFactory::builder(
        "service",
        "product",
        Arc::new(InMemoryMetastore::new()),
        Arc::new(UnusedKms),
    )
}

#[test]
fn a_secret_factory_that_keeps_core_dumps_keeps_them_and_the_default_turns_them_off() {
    // Start from a soft limit above zero, so that lowering it shows. `prlimit` (util-linux, installed by
    // scripts/setup.sh) raises our own soft limit without unsafe code; the hard limit must allow it.
    let pid = std::process::id().to_string();
    let raised = Command::new("prlimit")
        .args(["--pid", &pid, "--core=1048576:"])
        .status()
        .is_ok_and(|s| s.success());
    if !raised || soft_core_limit() == "0" {
        eprintln!(
            "core_dump_limit: SKIPPED, the soft core limit cannot be raised above 0 here (hard limit 0, or no prlimit)"
        );
        return;
    }
    let before = soft_core_limit();

    let kept = builder()
        .secret_factory(SecretFactory::builder().disable_core_dumps(false).build())
        .build()
        .expect("factory");
    assert_eq!(
        soft_core_limit(),
        before,
        "a factory built with disable_core_dumps(false) must leave RLIMIT_CORE alone"
    );
    drop(kept);

    let default = builder().build().expect("factory");
    assert_eq!(
        soft_core_limit(),
        "0",
        "a factory with the default secret factory disables core dumps, as Go does"
    );
    drop(default);
}
