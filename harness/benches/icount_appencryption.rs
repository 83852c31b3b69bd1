//! Instruction counts of the session hot and cold paths, under gungraun (callgrind). The regression gate counts
//! these; wall time only informs.
//!
//! Scenario registry (`<op>_<cache state>_<params>`; gungraun id `icount_appencryption::icount::<scenario> x10`):
//!
//! | scenario | measured region | asserted path |
//! |---|---|---|
//! | `hot_encrypt_warm_64` | [`REPS`] × `Session::encrypt` of 64 bytes (record dropped) | metastore untouched (SK and IK cached) |
//! | `hot_decrypt_warm_64` | [`REPS`] × `Session::decrypt` of one 64-byte record | metastore untouched |
//! | `cold_encrypt_new_partition_64` | one `Session::encrypt` of 64 bytes on each of [`REPS`] new partitions | per op exactly one IK `load_latest` (a miss) and one inserted IK `store`; SK cached (no `load`) |
//!
//! Per-op cost = count / [`REPS`]; the repetition makes one-off costs vanish in the average. Everything else —
//! factory, KMS, warm-up round trip, sessions, records — is built in the `setup` function and checked in the
//! `teardown` function, neither of which is counted. Derandomised: the factory and the static KMS draw from
//! [`SeededRandom`] and the factory's clock is fixed, so keys, nonces and `created` stamps are the same every run.
//! (Secure memory's guard canaries and std's `HashMap` seeds still come from the OS; neither changes the count of
//! the code paths measured beyond hash-probe noise.)
//!
//! Needs valgrind and `gungraun-runner` 0.20.0 (`cargo install gungraun-runner --version 0.20.0 --locked`); run
//! with `cargo bench -p lab --features icount --bench icount_appencryption`.
#![allow(
    missing_docs,
    reason = "gungraun's macros generate undocumented public items"
)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use appencryption::{
    Clock, DataRowRecord, InMemoryMetastore, KeyManagementService, Metastore, MetastoreStats,
    SecureRandom, SeededRandom, Session, SessionFactory, StaticKms,
};
use gungraun::{library_benchmark, library_benchmark_group, main};

/// Operations per measured region (the `x10` in the gungraun ids).
const REPS: usize = 10;
const SERVICE: &str = "asherah";
const PRODUCT: &str = "enclibrary";
const PARTITION: &str = "123456";
const STATIC_KEY: &str = "thisIsAStaticMasterKeyForTesting";
const SEED: u64 = 0x0A5E_4A11;
/// 2023-11-14T22:15:23.5Z.
const NOW: Duration = Duration::from_millis(1_700_000_123_500);
const PAYLOAD: [u8; 64] = [0x5a; 64];

/// A clock that never moves.
struct FixedClock;

impl Clock for FixedClock {
    fn now(&self) -> Duration {
        NOW
    }
}

/// A warm factory over a private metastore, and the metastore counters after setup.
struct Fixture {
    sessions: Vec<Session>,
    record: DataRowRecord,
    metastore: Arc<InMemoryMetastore>,
    after_setup: MetastoreStats,
    _factory: SessionFactory,
}

/// A derandomised factory whose system key and `123456`'s intermediate key are cached (one round trip done), and
/// `sessions` (of the partitions `partitions` names) built but not used.
fn fixture(partitions: impl IntoIterator<Item = String>) -> Fixture {
    let rng: Arc<dyn SecureRandom> = Arc::new(SeededRandom::new(SEED));
    let kms: Arc<dyn KeyManagementService> =
        Arc::new(StaticKms::with_rng(STATIC_KEY, Arc::clone(&rng)).expect("static KMS"));
    let metastore = Arc::new(InMemoryMetastore::new());
    let factory = SessionFactory::builder(
        SERVICE,
        PRODUCT,
        Arc::clone(&metastore) as Arc<dyn Metastore>,
        kms,
    )
    .rng(rng)
    .clock(Arc::new(FixedClock))
    .build()
    .expect("factory");
    let warm = factory.get_session(PARTITION).expect("session");
    let record = warm.encrypt(&PAYLOAD).expect("encrypt");
    assert_eq!(
        warm.decrypt(&record).expect("decrypt"),
        PAYLOAD,
        "round trip"
    );
    // A second round trip proves the keys are cached; its session stays open (and warm) for the hot scenarios.
    let before = metastore.stats();
    let again = warm.encrypt(&PAYLOAD).expect("encrypt");
    assert_eq!(warm.decrypt(&again).expect("decrypt"), PAYLOAD);
    assert_eq!(
        metastore.stats(),
        before,
        "the warm-up must leave SK and IK cached"
    );
    let mut sessions = vec![warm];
    sessions.extend(
        partitions
            .into_iter()
            .map(|p| factory.get_session(&p).expect("session")),
    );
    Fixture {
        sessions,
        record,
        after_setup: metastore.stats(),
        metastore,
        _factory: factory,
    }
}

fn warm_fixture() -> Fixture {
    fixture([])
}

fn new_partitions_fixture() -> Fixture {
    fixture((0..REPS).map(|i| format!("{PARTITION}_cold_{i}")))
}

fn assert_metastore_untouched(f: Fixture) {
    assert_eq!(
        f.metastore.stats(),
        f.after_setup,
        "a warm scenario must not reach the metastore"
    );
}

fn assert_intermediate_keys_created(f: Fixture) {
    let (now, then) = (f.metastore.stats(), f.after_setup);
    let reps = REPS as u64;
    assert_eq!(
        now.load_latests - then.load_latests,
        reps,
        "one IK load_latest (a miss) per new partition"
    );
    assert_eq!(
        now.stores_inserted - then.stores_inserted,
        reps,
        "one new IK stored per new partition"
    );
    assert_eq!(now.stores - then.stores, reps, "no lost creation race");
    assert_eq!(
        now.loads, then.loads,
        "the system key must come from the cache"
    );
}

#[library_benchmark]
#[bench::x10(setup = warm_fixture, teardown = assert_metastore_untouched)]
fn hot_encrypt_warm_64(f: Fixture) -> Fixture {
    let session = &f.sessions[0];
    for _ in 0..REPS {
        drop(black_box(
            session.encrypt(black_box(&PAYLOAD)).expect("encrypt"),
        ));
    }
    f
}

#[library_benchmark]
#[bench::x10(setup = warm_fixture, teardown = assert_metastore_untouched)]
fn hot_decrypt_warm_64(f: Fixture) -> Fixture {
    let session = &f.sessions[0];
    for _ in 0..REPS {
        drop(black_box(
            session.decrypt(black_box(&f.record)).expect("decrypt"),
        ));
    }
    f
}

#[library_benchmark]
#[bench::x10(setup = new_partitions_fixture, teardown = assert_intermediate_keys_created)]
fn cold_encrypt_new_partition_64(f: Fixture) -> Fixture {
    for session in &f.sessions[1..] {
        drop(black_box(
            session.encrypt(black_box(&PAYLOAD)).expect("encrypt"),
        ));
    }
    f
}

library_benchmark_group!(
    name = icount,
    benchmarks = [
        hot_encrypt_warm_64,
        hot_decrypt_warm_64,
        cold_encrypt_new_partition_64
    ]
);

main!(library_benchmark_groups = icount);
