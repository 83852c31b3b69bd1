//! Encrypt against each real metastore backend, with the number of metastore round trips per operation reported
//! beside the time (feature `backends`; servers from `scripts/services.sh start all`, environment from
//! `eval "$(scripts/services.sh env all)"`; a backend whose variable is unset is skipped with a notice).
//!
//! | bench id | path | metastore calls per op |
//! |---|---|---|
//! | `backend_encrypt/cold/<backend>` | a new partition per op: IK missing, created and stored under the cached SK | `load_latest` + `store` |
//! | `backend_encrypt/warm/<backend>` | a fresh session of an existing partition per op: IK cache miss, SK cache hit | `load_latest` |
//!
//! `<backend>` ∈ `memory`, `sqlite` (file), `mysql` (MariaDB), `postgres`, `dynamodb` (moto). Static KMS (the
//! system key is created before timing and stays cached, so KMS is never on these paths). Every call reaching the
//! metastore is counted by a [`CountingMetastore`] wrapper; after each bench the counts are checked against the
//! path's expected calls (so a bench that silently hit a cache fails) and printed per op. At the end a table of
//! criterion's medians with the round trips per op goes to stdout and to
//! `<criterion dir>/backend_round_trips.json`.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use appencryption::{
    CountingMetastore, InMemoryMetastore, Metastore, MetastoreStats, SessionFactory, SqlMetastore,
    StaticKms,
};
use criterion::{BenchmarkId, Criterion};

const PAYLOAD: &[u8] = &[0x5a; 100];
/// Existing partitions the warm path cycles through (each op opens a fresh session of one of them).
const WARM_PARTITIONS: usize = 64;

/// Drops what a bench created on its server.
type Cleanup = Box<dyn FnOnce(&tokio::runtime::Runtime)>;

/// One backend under test.
struct Backend {
    name: &'static str,
    metastore: Arc<CountingMetastore<Arc<dyn Metastore>>>,
    /// Drops what the bench created on the server.
    cleanup: Option<Cleanup>,
}

fn env(var: &str, backend: &str) -> Option<String> {
    let value = std::env::var(var).ok().filter(|v| !v.is_empty());
    if value.is_none() {
        eprintln!(
            "!!!!!!!! SKIPPED backend {backend}: {var} is not set (scripts/services.sh start all; eval \"$(scripts/services.sh env all)\")"
        );
    }
    value
}

fn table_name() -> String {
    format!("bench_{}", std::process::id())
}

async fn backends() -> Vec<Backend> {
    let mut out = Vec::new();
    let counting = |m: Arc<dyn Metastore>| Arc::new(CountingMetastore::new(m));
    out.push(Backend {
        name: "memory",
        metastore: counting(Arc::new(InMemoryMetastore::new())),
        cleanup: None,
    });

    let path = std::env::temp_dir().join(format!("asherah-bench-{}.db", std::process::id()));
    let sqlite = SqlMetastore::connect_sqlite(&format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .expect("sqlite");
    sqlite.create_schema().await.expect("schema");
    out.push(Backend {
        name: "sqlite",
        metastore: counting(Arc::new(sqlite)),
        cleanup: Some(Box::new(move |_| {
            for suffix in ["", "-wal", "-shm", "-journal"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        })),
    });

    if let Some(url) = env("ASHERAH_TEST_MYSQL_URL", "mysql") {
        let table = table_name();
        let m = SqlMetastore::connect_mysql(&url)
            .await
            .expect("mysql")
            .with_table_name(&table)
            .expect("table");
        m.create_schema().await.expect("schema");
        out.push(Backend {
            name: "mysql",
            metastore: counting(Arc::new(m)),
            cleanup: Some(Box::new(move |rt| {
                rt.block_on(async {
                    let pool = sqlx::MySqlPool::connect(&url).await.expect("pool");
                    drop_table(&pool, &table).await;
                });
            })),
        });
    }

    if let Some(url) = env("ASHERAH_TEST_POSTGRES_URL", "postgres") {
        let table = table_name();
        let m = SqlMetastore::connect_postgres(&url)
            .await
            .expect("postgres")
            .with_table_name(&table)
            .expect("table");
        m.create_schema().await.expect("schema");
        out.push(Backend {
            name: "postgres",
            metastore: counting(Arc::new(m)),
            cleanup: Some(Box::new(move |rt| {
                rt.block_on(async {
                    let pool = sqlx::PgPool::connect(&url).await.expect("pool");
                    drop_table(&pool, &table).await;
                });
            })),
        });
    }

    if let Some(endpoint) = env("ASHERAH_TEST_DYNAMODB_ENDPOINT", "dynamodb") {
        let m = appencryption::DynamoDbMetastore::from_env(Some(&endpoint))
            .await
            .with_table_name(&format!("EncryptionKeyBench{}", std::process::id()));
        m.create_table().await.expect("create table");
        let client = m.client().clone();
        let table = m.table_name().to_owned();
        out.push(Backend {
            name: "dynamodb",
            metastore: counting(Arc::new(m)),
            cleanup: Some(Box::new(move |rt| {
                rt.block_on(async {
                    let _ = client.delete_table().table_name(table).send().await;
                });
            })),
        });
    }
    out
}

async fn drop_table<'c, E>(executor: E, table: &str)
where
    E: sqlx::Executor<'c>,
{
    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP TABLE {table}")))
        .execute(executor)
        .await;
}

fn factory(metastore: &Arc<CountingMetastore<Arc<dyn Metastore>>>) -> SessionFactory {
    SessionFactory::builder(
        "bench",
        "backends",
        Arc::clone(metastore) as Arc<dyn Metastore>,
        Arc::new(StaticKms::new("thisIsAStaticMasterKeyForTesting").expect("kms")),
    )
    .build()
    .expect("factory")
}

/// Metastore calls per op measured during one bench.
#[derive(Debug, Clone, Copy, serde::Serialize)]
struct RoundTrips {
    ops: u64,
    load: f64,
    load_latest: f64,
    store: f64,
    total: f64,
}

impl RoundTrips {
    fn new(stats: MetastoreStats, ops: u64) -> Self {
        let per = |n: u64| n as f64 / ops.max(1) as f64;
        Self {
            ops,
            load: per(stats.loads),
            load_latest: per(stats.load_latests),
            store: per(stats.stores),
            total: per(stats.loads + stats.load_latests + stats.stores),
        }
    }
}

fn bench_backend(
    c: &mut Criterion,
    rt: &tokio::runtime::Runtime,
    backend: &Backend,
    round_trips: &mut BTreeMap<String, RoundTrips>,
) {
    let factory = factory(&backend.metastore);
    let m = &backend.metastore;
    // Create the system key (and check a round trip) before anything is timed.
    rt.block_on(async {
        let session = factory.get_session("setup").expect("session");
        let drr = session.encrypt_async(PAYLOAD).await.expect("encrypt");
        assert_eq!(session.decrypt_async(&drr).await.expect("decrypt"), PAYLOAD);
        for i in 0..WARM_PARTITIONS {
            let session = factory.get_session(&format!("warm-{i}")).expect("session");
            session.encrypt_async(PAYLOAD).await.expect("encrypt");
        }
    });

    let mut group = c.benchmark_group("backend_encrypt");
    group.sample_size(20);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(4));

    // Cold: a partition never seen before per op.
    static NEXT: AtomicU64 = AtomicU64::new(0);
    m.reset_stats();
    let cold_ops = AtomicU64::new(0);
    group.bench_function(BenchmarkId::new("cold", backend.name), |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let partition = format!("cold-{}", NEXT.fetch_add(1, Ordering::Relaxed));
                    let session = factory.get_session(&partition).expect("session");
                    black_box(session.encrypt_async(PAYLOAD).await.expect("encrypt"));
                }
                let elapsed = start.elapsed();
                cold_ops.fetch_add(iters, Ordering::Relaxed);
                elapsed
            })
        });
    });
    let stats = m.stats();
    let cold_ops = cold_ops.load(Ordering::Relaxed);
    assert!(
        stats.loads == 0
            && stats.load_latests == cold_ops
            && stats.stores == cold_ops
            && stats.stores_inserted == cold_ops,
        "{}: cold path must be one load_latest and one inserting store per op (SK cached): {stats:?} for {cold_ops} ops",
        backend.name
    );
    let cold = RoundTrips::new(stats, cold_ops);
    eprintln!("{}: cold round trips/op {cold:?}", backend.name);
    round_trips.insert(format!("backend_encrypt/cold/{}", backend.name), cold);

    // Warm: an existing partition, a fresh session (so the IK is not cached), the SK cached.
    m.reset_stats();
    let warm_ops = AtomicU64::new(0);
    group.bench_function(BenchmarkId::new("warm", backend.name), |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for i in 0..iters {
                    let partition = format!("warm-{}", i as usize % WARM_PARTITIONS);
                    let session = factory.get_session(&partition).expect("session");
                    black_box(session.encrypt_async(PAYLOAD).await.expect("encrypt"));
                }
                let elapsed = start.elapsed();
                warm_ops.fetch_add(iters, Ordering::Relaxed);
                elapsed
            })
        });
    });
    group.finish();
    let stats = m.stats();
    let n = warm_ops.load(Ordering::Relaxed);
    assert!(
        stats.loads == 0 && stats.load_latests == n && stats.stores == 0,
        "{}: warm path must be exactly one load_latest per op: {stats:?} for {n} ops",
        backend.name
    );
    let warm = RoundTrips::new(stats, n);
    eprintln!("{}: warm round trips/op {warm:?}", backend.name);
    round_trips.insert(format!("backend_encrypt/warm/{}", backend.name), warm);
}

/// Where criterion writes (`CRITERION_HOME`, else `<target dir>/criterion`).
fn criterion_dir() -> PathBuf {
    if let Ok(home) = std::env::var("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".to_owned());
    PathBuf::from(target).join("criterion")
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let backends = rt.block_on(backends());
    let mut round_trips = BTreeMap::new();
    for backend in &backends {
        bench_backend(&mut c, &rt, backend, &mut round_trips);
    }
    c.final_summary();
    for backend in backends {
        if let Some(cleanup) = backend.cleanup {
            cleanup(&rt);
        }
    }
    if round_trips.is_empty() {
        return; // filtered out, or `cargo test --benches`
    }

    let dir = criterion_dir();
    let medians: BTreeMap<String, f64> = lab::criterion_results::load(&dir, "backend_encrypt/")
        .map(|all| all.into_iter().map(|e| (e.id, e.median_ns)).collect())
        .unwrap_or_default();
    println!("\n| bench | median | metastore round trips/op (load_latest + load + store) |");
    println!("|---|---|---|");
    for (id, trips) in &round_trips {
        let median = medians.get(id).map_or("-".to_owned(), |&ns| {
            if ns >= 1e6 {
                format!("{:.2} ms", ns / 1e6)
            } else {
                format!("{:.1} µs", ns / 1e3)
            }
        });
        println!(
            "| {id} | {median} | {:.2} ({:.2} + {:.2} + {:.2}) |",
            trips.total, trips.load_latest, trips.load, trips.store
        );
    }
    let json = serde_json::to_vec_pretty(&round_trips).expect("json");
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = std::fs::write(dir.join("backend_round_trips.json"), json);
    }
}
