//! Session-level benches: Go's integration benchmarks one to one (docs/compatibility.md#go-benchmarks-mirrored), the
//! hot paths by key mode and payload size, and session construction. Naming: group = operation, function = variant,
//! parameter = size.
//!
//! **Integration** (`go/appencryption/integrationtest/integration_benchmark_test.go`, mirrored in
//! `go-baseline/integration`):
//!
//! | bench id | Go benchmark |
//! |---|---|
//! | `integration/encrypt/single` | `Benchmark_Encrypt` |
//! | `integration/encrypt_decrypt_multi_factory_same_partition/parallel` | `Benchmark_EncryptDecrypt_MultiFactorySamePartition` |
//! | `integration/encrypt_decrypt_multi_factory_unique_partition/parallel` | `Benchmark_EncryptDecrypt_MultiFactoryUniquePartition` |
//! | `integration/encrypt_decrypt_same_factory_unique_partition/parallel` | `Benchmark_EncryptDecrypt_SameFactoryUniquePartition` |
//! | `integration/encrypt_decrypt_same_factory_unique_partition_with_session_cache/parallel` | `Benchmark_EncryptDecrypt_SameFactoryUniquePartition_WithSessionCache` |
//! | `integration/encrypt_decrypt_same_factory_same_partition/parallel` | `Benchmark_EncryptDecrypt_SameFactorySamePartition` |
//! | `integration/encrypt_decrypt_same_factory_same_partition_with_session_cache/parallel` | `Benchmark_EncryptDecrypt_SameFactorySamePartition_WithSessionCache` |
//!
//! Go's constants: service `asherah`, product `enclibrary`, partition `123456`, static KMS key
//! `thisIsAStaticMasterKeyForTesting`, 100 random bytes (OS CSPRNG, as Go's `crypto/rand`) made inside each op,
//! except `encrypt/single`, which makes `b.N` payloads before the timer. One in-memory metastore is shared by every
//! integration bench in the process (Go's package-global one; `same_factory_unique_partition` alone uses a fresh
//! private one), and the policy is the default (`with_session_cache` variants: session cache on; the unique
//! partition one with max size 1000). As in Go, each call of the bench routine (Go: each `b.N`) builds its KMS and
//! factory and checks one round trip before the timer. Parallel benches run on [`run_parallel`] (Go's
//! `RunParallel`, one worker per CPU). Zipf partitions: Go's `rand.NewZipf(rand.New(rand.NewSource(seed)),
//! 1.0001, 10, 32000)` ported in [`lab::zipf`], one generator per worker, all from the same seed: `ZIPF_SEED` if
//! set (to replay a Go run), else the process start time in ns; printed to stderr as `zipf-seed: <n>`. Go's
//! multi-factory unique-partition loop also stops each goroutine after `b.N` of its own ops, which never binds
//! when all goroutines share `b.N` ops, so it is not reproduced.
//!
//! **Hot paths** (no Go counterpart in upstream; `go-baseline/integration` `BenchmarkHotEncrypt/Decrypt` are the Go
//! side for the default mode): one factory over a private metastore, one warm session (a round trip, then a second
//! round trip that must not touch the metastore), a fixed random payload:
//! * `hot_encrypt/<mode>/<size>`, `hot_decrypt/<mode>/<size>`: `Session::encrypt` / `Session::decrypt` of one
//!   pre-made record;
//! * `hot_encrypt_json/<mode>/<size>`, `hot_decrypt_json/<mode>/<size>`: `encrypt_to_json` / `decrypt_from_json`;
//! * `hot_{encrypt,decrypt,encrypt_json,decrypt_json}_ring/<mode>/<size>`: the same with `RingBackend` (only with
//!   the lab's `ring` feature);
//!
//! with `<mode>` ∈ `protected_drk`, `stack_drk`, `cached_cipher`, `secret_cached_cipher` ([`KeyMode`]) and `<size>` ∈ 64, 1024, 16384
//! bytes of payload (`Throughput::Bytes`). After timing, the metastore counters must still be unchanged.
//!
//! **Partition**: `partition/build_session`: `factory.get_session` + drop on a warm factory (no session cache).

use std::hint::black_box;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use appencryption::{
    AeadBackend, AesGcmBackend, CryptoPolicy, DataRowRecord, InMemoryMetastore,
    KeyManagementService, KeyMode, Metastore, OsRandom, SecureRandom, Session, SessionFactory,
    StaticKms,
};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use lab::fixtures::{PARTITION, PRODUCT, SERVICE, STATIC_KEY};
use lab::parallel::{default_parallelism, run_parallel};
use lab::zipf::{GoRand, INTEGRATION_IMAX, INTEGRATION_S, INTEGRATION_V, Zipf};

const PAYLOAD_SIZE: usize = 100;

const HOT_SIZES: [usize; 3] = [64, 1024, 16384];
const MODES: [(&str, KeyMode); 4] = [
    ("protected_drk", KeyMode::ProtectedDataRowKey),
    ("stack_drk", KeyMode::StackDataRowKey),
    ("cached_cipher", KeyMode::CachedCipher),
    ("secret_cached_cipher", KeyMode::SecretCachedCipher),
];

/// Go's package-global `sharedMetastore`.
static METASTORE: LazyLock<Arc<InMemoryMetastore>> =
    LazyLock::new(|| Arc::new(InMemoryMetastore::new()));

/// Go's `zipfSeed`: `ZIPF_SEED` or the start time in ns, announced once.
static ZIPF_SEED: LazyLock<i64> = LazyLock::new(|| {
    let seed = match std::env::var("ZIPF_SEED") {
        Ok(s) => s
            .parse()
            .unwrap_or_else(|e| panic!("ZIPF_SEED={s:?} is not an i64: {e}")),
        Err(_) => {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .expect("clock after 1970");
            i64::try_from(now.as_nanos()).expect("ns since 1970 fit i64")
        }
    };
    eprintln!("zipf-seed: {seed}");
    seed
});

fn new_zipf() -> Zipf<GoRand> {
    Zipf::go_seeded(*ZIPF_SEED, INTEGRATION_S, INTEGRATION_V, INTEGRATION_IMAX)
        .expect("valid Zipf parameters")
}

fn random_payload(len: usize) -> Vec<u8> {
    let mut payload = vec![0; len];
    OsRandom.fill(&mut payload).expect("OS CSPRNG");
    payload
}

fn static_kms() -> Arc<dyn KeyManagementService> {
    Arc::new(StaticKms::new(STATIC_KEY).expect("32-byte static master key"))
}

fn factory(
    policy: CryptoPolicy,
    metastore: Arc<dyn Metastore>,
    kms: &Arc<dyn KeyManagementService>,
) -> SessionFactory {
    SessionFactory::builder(SERVICE, PRODUCT, metastore, Arc::clone(kms))
        .policy(policy)
        .build()
        .expect("valid configuration")
}

fn shared_metastore() -> Arc<dyn Metastore> {
    Arc::clone(&*METASTORE) as Arc<dyn Metastore>
}

/// The body every EncryptDecrypt benchmark times: session → encrypt → decrypt → compare → close.
fn encrypt_decrypt(factory: &SessionFactory, partition: &str, payload: &[u8]) {
    let session = factory.get_session(partition).expect("session");
    let record = session.encrypt(payload).expect("encrypt");
    let plaintext = session.decrypt(&record).expect("decrypt");
    assert_eq!(plaintext, payload, "round trip");
    session.close();
}

/// The multi-factory body: a brand-new factory (cold system key cache) per op, on the shared metastore.
fn new_factory_encrypt_decrypt(
    kms: &Arc<dyn KeyManagementService>,
    partition: &str,
    payload: &[u8],
) {
    let factory = factory(CryptoPolicy::default(), shared_metastore(), kms);
    encrypt_decrypt(&factory, partition, payload);
    factory.close();
}

fn integration(
    c: &mut Criterion,
    name: &str,
    function: &str,
    mut routine: impl FnMut(u64) -> Duration,
) {
    let mut group = c.benchmark_group(format!("integration/{name}"));
    group.bench_function(function, |b| b.iter_custom(&mut routine));
    group.finish();
}

// --- integration ----------------------------------------------------------------------------------------------

fn encrypt_single(c: &mut Criterion) {
    integration(c, "encrypt", "single", |iters| {
        let kms = static_kms();
        let factory = factory(CryptoPolicy::default(), shared_metastore(), &kms);
        encrypt_decrypt(&factory, PARTITION, &random_payload(PAYLOAD_SIZE));
        let payloads: Vec<Vec<u8>> = (0..iters).map(|_| random_payload(PAYLOAD_SIZE)).collect();
        let session = factory.get_session(PARTITION).expect("session");
        let started = Instant::now();
        for payload in &payloads {
            black_box(session.encrypt(black_box(payload)).expect("encrypt"));
        }
        started.elapsed()
    });
}

fn multi_factory_same_partition(c: &mut Criterion) {
    integration(
        c,
        "encrypt_decrypt_multi_factory_same_partition",
        "parallel",
        |iters| {
            let kms = static_kms();
            new_factory_encrypt_decrypt(&kms, PARTITION, &random_payload(PAYLOAD_SIZE));
            run_parallel(iters, default_parallelism(), |_| {
                || new_factory_encrypt_decrypt(&kms, PARTITION, &random_payload(PAYLOAD_SIZE))
            })
        },
    );
}

fn multi_factory_unique_partition(c: &mut Criterion) {
    integration(
        c,
        "encrypt_decrypt_multi_factory_unique_partition",
        "parallel",
        |iters| {
            let kms = static_kms();
            let first = format!("{PARTITION}_{}", new_zipf().next_u64());
            new_factory_encrypt_decrypt(&kms, &first, &random_payload(PAYLOAD_SIZE));
            let kms = &kms;
            run_parallel(iters, default_parallelism(), |_| {
                let mut zipf = new_zipf();
                move || {
                    let partition = format!("{PARTITION}_{}", zipf.next_u64());
                    new_factory_encrypt_decrypt(kms, &partition, &random_payload(PAYLOAD_SIZE));
                }
            })
        },
    );
}

fn same_factory_unique_partition(c: &mut Criterion) {
    integration(
        c,
        "encrypt_decrypt_same_factory_unique_partition",
        "parallel",
        |iters| {
            let kms = static_kms();
            let private = Arc::new(InMemoryMetastore::new());
            let factory = factory(CryptoPolicy::default(), private, &kms);
            let first = format!("{PARTITION}_{}", new_zipf().next_u64());
            encrypt_decrypt(&factory, &first, &random_payload(PAYLOAD_SIZE));
            let factory = &factory;
            run_parallel(iters, default_parallelism(), |_| {
                let mut zipf = new_zipf();
                move || {
                    let partition = format!("{PARTITION}_{}", zipf.next_u64());
                    encrypt_decrypt(factory, &partition, &random_payload(PAYLOAD_SIZE));
                }
            })
        },
    );
}

fn same_factory_unique_partition_with_session_cache(c: &mut Criterion) {
    integration(
        c,
        "encrypt_decrypt_same_factory_unique_partition_with_session_cache",
        "parallel",
        |iters| {
            let kms = static_kms();
            let policy = CryptoPolicy::default()
                .with_session_cache()
                .with_session_cache_max_size(1000);
            let factory = factory(policy, shared_metastore(), &kms);
            encrypt_decrypt(
                &factory,
                &new_zipf().next_u64().to_string(),
                &random_payload(PAYLOAD_SIZE),
            );
            let factory = &factory;
            run_parallel(iters, default_parallelism(), |_| {
                let mut zipf = new_zipf();
                move || {
                    encrypt_decrypt(
                        factory,
                        &zipf.next_u64().to_string(),
                        &random_payload(PAYLOAD_SIZE),
                    )
                }
            })
        },
    );
}

fn same_factory_same_partition_with(policy: CryptoPolicy) -> impl FnMut(u64) -> Duration {
    move |iters| {
        let kms = static_kms();
        let factory = factory(policy.clone(), shared_metastore(), &kms);
        encrypt_decrypt(&factory, PARTITION, &random_payload(PAYLOAD_SIZE));
        run_parallel(iters, default_parallelism(), |_| {
            || encrypt_decrypt(&factory, PARTITION, &random_payload(PAYLOAD_SIZE))
        })
    }
}

fn same_factory_same_partition(c: &mut Criterion) {
    integration(
        c,
        "encrypt_decrypt_same_factory_same_partition",
        "parallel",
        same_factory_same_partition_with(CryptoPolicy::default()),
    );
}

fn same_factory_same_partition_with_session_cache(c: &mut Criterion) {
    integration(
        c,
        "encrypt_decrypt_same_factory_same_partition_with_session_cache",
        "parallel",
        same_factory_same_partition_with(CryptoPolicy::default().with_session_cache()),
    );
}

// --- hot paths ------------------------------------------------------------------------------------------------

/// One factory over a private metastore and one warm session for `mode`, with a `size`-byte payload, a record and
/// its JSON made from it.
struct Warm<B: AeadBackend> {
    session: Session<B>,
    _factory: SessionFactory<B>,
    metastore: Arc<InMemoryMetastore>,
    payload: Vec<u8>,
    record: DataRowRecord,
    json: Vec<u8>,
}

impl<B: AeadBackend> Warm<B> {
    fn new(backend: B, mode: KeyMode, size: usize) -> Self {
        let metastore = Arc::new(InMemoryMetastore::new());
        let factory = SessionFactory::builder(
            SERVICE,
            PRODUCT,
            Arc::clone(&metastore) as Arc<dyn Metastore>,
            static_kms(),
        )
        .backend(backend)
        .policy(CryptoPolicy::default().with_key_mode(mode))
        .build()
        .expect("valid configuration");
        let session = factory.get_session(PARTITION).expect("session");
        let payload = random_payload(size);
        let record = session.encrypt(&payload).expect("encrypt");
        assert_eq!(
            session.decrypt(&record).expect("decrypt"),
            payload,
            "round trip"
        );
        let json = session.encrypt_to_json(&payload).expect("encrypt_to_json");
        assert_eq!(
            session.decrypt_from_json(&json).expect("decrypt_from_json"),
            payload,
            "JSON round trip"
        );
        let warm = Warm {
            session,
            _factory: factory,
            metastore,
            payload,
            record,
            json,
        };
        warm.assert_warm(|| {
            let record = warm.session.encrypt(&warm.payload).expect("encrypt");
            assert_eq!(
                warm.session.decrypt(&record).expect("decrypt"),
                warm.payload
            );
        });
        warm
    }

    /// Run `f` and check that it did not touch the metastore (keys cached).
    fn assert_warm<R>(&self, f: impl FnOnce() -> R) -> R {
        let before = self.metastore.stats();
        let out = f();
        assert_eq!(
            self.metastore.stats(),
            before,
            "the session's keys must be cached"
        );
        out
    }
}

#[derive(Clone, Copy)]
enum HotOp {
    Encrypt,
    Decrypt,
    EncryptJson,
    DecryptJson,
}

impl HotOp {
    const ALL: [HotOp; 4] = [
        HotOp::Encrypt,
        HotOp::Decrypt,
        HotOp::EncryptJson,
        HotOp::DecryptJson,
    ];

    fn group(self) -> &'static str {
        match self {
            HotOp::Encrypt => "hot_encrypt",
            HotOp::Decrypt => "hot_decrypt",
            HotOp::EncryptJson => "hot_encrypt_json",
            HotOp::DecryptJson => "hot_decrypt_json",
        }
    }
}

/// Every hot bench for one backend; `suffix` is appended to the group names.
fn hot_benches<B: AeadBackend + Copy>(c: &mut Criterion, backend: B, suffix: &str) {
    for op in HotOp::ALL {
        let mut group = c.benchmark_group(format!("{}{suffix}", op.group()));
        for (mode_name, mode) in MODES {
            for size in HOT_SIZES {
                let warm = Warm::new(backend, mode, size);
                group.throughput(Throughput::Bytes(size as u64));
                let id = BenchmarkId::new(mode_name, size);
                warm.assert_warm(|| {
                    match op {
                        HotOp::Encrypt => group.bench_function(id, |b| {
                            b.iter(|| {
                                warm.session
                                    .encrypt(black_box(&warm.payload))
                                    .expect("encrypt")
                            });
                        }),
                        HotOp::Decrypt => group.bench_function(id, |b| {
                            b.iter(|| {
                                warm.session
                                    .decrypt(black_box(&warm.record))
                                    .expect("decrypt")
                            });
                        }),
                        HotOp::EncryptJson => group.bench_function(id, |b| {
                            b.iter(|| {
                                warm.session
                                    .encrypt_to_json(black_box(&warm.payload))
                                    .expect("encrypt")
                            });
                        }),
                        HotOp::DecryptJson => group.bench_function(id, |b| {
                            b.iter(|| {
                                warm.session
                                    .decrypt_from_json(black_box(&warm.json))
                                    .expect("decrypt")
                            });
                        }),
                    };
                });
            }
        }
        group.finish();
    }
}

fn hot(c: &mut Criterion) {
    hot_benches(c, AesGcmBackend, "");
}

fn hot_ring(c: &mut Criterion) {
    // The route this process's calibration chose for data-row keys; the lab's report header collects these lines.
    #[cfg(feature = "ring")]
    eprintln!("crypto path: {}", appencryption::crypto_path());
    #[cfg(feature = "ring")]
    hot_benches(c, appencryption::RingBackend, "_ring");
    #[cfg(not(feature = "ring"))]
    let _ = c;
}

// --- partition ------------------------------------------------------------------------------------------------

fn build_session(c: &mut Criterion) {
    let kms = static_kms();
    let metastore = Arc::new(InMemoryMetastore::new());
    let factory = factory(
        CryptoPolicy::default(),
        Arc::clone(&metastore) as Arc<dyn Metastore>,
        &kms,
    );
    encrypt_decrypt(&factory, PARTITION, &random_payload(PAYLOAD_SIZE));
    let before = metastore.stats();

    let mut group = c.benchmark_group("partition");
    group.bench_function("build_session", |b| {
        b.iter(|| {
            drop(black_box(
                factory.get_session(black_box(PARTITION)).expect("session"),
            ))
        });
    });
    group.finish();
    assert_eq!(
        metastore.stats(),
        before,
        "building a session never touches the metastore"
    );
}

criterion_group!(
    benches,
    encrypt_single,
    multi_factory_same_partition,
    multi_factory_unique_partition,
    same_factory_unique_partition,
    same_factory_unique_partition_with_session_cache,
    same_factory_same_partition,
    same_factory_same_partition_with_session_cache,
    hot,
    hot_ring,
    build_session,
);
criterion_main!(benches);
