//! Two OS processes race to create the same system and intermediate keys in one MariaDB table
//! (docs/compatibility.md#concurrent-key-creation).
//!
//! The parent test spawns this test binary twice, running the ignored `race_child` entry point. Both children
//! use the same fixed clock, so every key they create has the same `(id, created)`: for each key exactly one
//! insert wins and the loser must adopt the winner's key. Each child encrypts in several partitions at once,
//! publishes its records, waits for the other's and decrypts them. The parent then checks that the table holds
//! exactly one row per key and that both children could read everything.
//!
//! Needs `ASHERAH_TEST_MYSQL_URL`; skips loudly without it and fails under `CI=true`.
#![cfg(feature = "mysql")]

mod backend_support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use appencryption::{Clock, Metastore, SessionFactory, SqlMetastore, StaticKms};

const PARTITIONS: [&str; 4] = ["p0", "p1", "p2", "p3"];
const RECORDS_PER_PARTITION: usize = 5;
/// Both children's "now": identical, so their keys collide on `(id, created)`.
const FIXED_NOW: Duration = Duration::from_secs(1_700_000_123);

const ROLE: &str = "ASHERAH_RACE_ROLE";
const TABLE: &str = "ASHERAH_RACE_TABLE";
const DIR: &str = "ASHERAH_RACE_DIR";
const START_MS: &str = "ASHERAH_RACE_START_MS";

#[derive(Debug)]
struct FixedClock;

impl Clock for FixedClock {
    fn now(&self) -> Duration {
        FIXED_NOW
    }
}

fn unix_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis()
}

fn spawn_child(role: &str, table: &str, dir: &Path, start_ms: u128) -> Child {
    Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "race_child",
            "--ignored",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(ROLE, role)
        .env(TABLE, table)
        .env(DIR, dir)
        .env(START_MS, start_ms.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn child")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_racing_converge_on_one_key_each_and_read_each_other() {
    let Some(url) = backend_support::configured(
        backend_support::MYSQL_URL,
        "two processes racing on mariadb",
    ) else {
        return;
    };
    let table = backend_support::unique_name("race");
    let m = SqlMetastore::connect_mysql(&url)
        .await
        .expect("connect")
        .with_table_name(&table)
        .expect("table");
    m.create_schema().await.expect("schema");
    let dir = std::env::temp_dir().join(backend_support::unique_name("asherah-race"));
    std::fs::create_dir_all(&dir).expect("dir");

    // Both start at the same wall-clock instant, far enough ahead for both to have connected.
    let start_ms = unix_ms() + 1500;
    let children = [
        ("a", spawn_child("a", &table, &dir, start_ms)),
        ("b", spawn_child("b", &table, &dir, start_ms)),
    ];
    let deadline = Instant::now() + Duration::from_secs(120);
    let (mut stores, mut inserted) = (0, 0);
    for (role, mut child) in children {
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break status;
            }
            assert!(Instant::now() < deadline, "child {role} did not finish");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let output = child.wait_with_output().expect("output");
        assert!(
            status.success(),
            "child {role} failed ({status}):\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let verified = std::fs::read_to_string(dir.join(format!("{role}.verified")))
            .unwrap_or_else(|e| panic!("child {role} did not verify: {e}"));
        let counts: Vec<u64> = verified
            .split(' ')
            .map(|n| n.parse().expect("count"))
            .collect();
        stores += counts[0];
        inserted += counts[1];
    }
    // Between them the two processes inserted each key exactly once; every other store lost a race.
    assert_eq!(inserted, 1 + PARTITIONS.len() as u64);
    eprintln!(
        "race: {stores} stores attempted, {inserted} inserted, {} lost races",
        stores - inserted
    );

    // Exactly one row per key: one system key, one intermediate key per partition.
    let pool = sqlx::MySqlPool::connect(&url).await.expect("pool");
    let rows: Vec<(String, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT id, COUNT(*) FROM {table} GROUP BY id ORDER BY id"
    )))
    .fetch_all(&pool)
    .await
    .expect("count rows");
    let mut expected: Vec<(String, i64)> = PARTITIONS
        .iter()
        .map(|p| (format!("_IK_{p}_service_product"), 1))
        .chain([("_SK_service_product".to_owned(), 1)])
        .collect();
    expected.sort();
    assert_eq!(rows, expected);
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP TABLE {table}")))
        .execute(&pool)
        .await
        .expect("drop");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Records one child wrote: `(partition, payload, DRR JSON)`.
type Published = Vec<(String, String, String)>;

/// One racer. Run only by the test above, in its own process.
#[test]
#[ignore = "child process of two_processes_racing_converge_on_one_key_each_and_read_each_other"]
fn race_child() {
    let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} not set"));
    let (role, table, dir) = (var(ROLE), var(TABLE), PathBuf::from(var(DIR)));
    let start_ms: u128 = var(START_MS).parse().expect("start ms");
    let url = var(backend_support::MYSQL_URL);
    let other = if role == "a" { "b" } else { "a" };

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let counting = Arc::new(appencryption::CountingMetastore::new(
            SqlMetastore::connect_mysql(&url)
                .await
                .expect("connect")
                .with_table_name(&table)
                .expect("table"),
        ));
        let metastore: Arc<dyn Metastore> = Arc::clone(&counting) as Arc<dyn Metastore>;
        let factory = Arc::new(
            SessionFactory::builder(
                "service",
                "product",
                metastore,
                Arc::new(StaticKms::new("thisIsAStaticMasterKeyForTesting").expect("kms")),
            )
            .clock(Arc::new(FixedClock))
            .build()
            .expect("factory"),
        );
        let wait = start_ms.saturating_sub(unix_ms());
        tokio::time::sleep(Duration::from_millis(u64::try_from(wait).unwrap_or(0))).await;

        // Every partition at once, so the system key is raced within this process too.
        let tasks: Vec<_> = PARTITIONS
            .iter()
            .map(|partition| {
                let factory = Arc::clone(&factory);
                let (partition, role) = ((*partition).to_owned(), role.clone());
                tokio::spawn(async move {
                    let session = factory.get_session(&partition).expect("session");
                    let mut out = Vec::new();
                    for i in 0..RECORDS_PER_PARTITION {
                        let payload = format!("{role}:{partition}:{i}");
                        let json = session
                            .encrypt_async(payload.as_bytes())
                            .await
                            .expect("encrypt")
                            .to_json();
                        out.push((
                            partition.clone(),
                            payload,
                            String::from_utf8(json).expect("utf8"),
                        ));
                    }
                    out
                })
            })
            .collect();
        let mut mine: Published = Vec::new();
        for task in tasks {
            mine.extend(task.await.expect("task"));
        }
        let tmp = dir.join(format!("{role}.json.tmp"));
        std::fs::write(&tmp, serde_json::to_vec(&mine).expect("json")).expect("write");
        std::fs::rename(&tmp, dir.join(format!("{role}.json"))).expect("publish");

        // Read the other process's records, and our own again.
        let theirs_path = dir.join(format!("{other}.json"));
        let deadline = Instant::now() + Duration::from_secs(60);
        while !theirs_path.exists() {
            assert!(Instant::now() < deadline, "{other} never published");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let theirs: Published =
            serde_json::from_slice(&std::fs::read(&theirs_path).expect("read")).expect("parse");
        assert_eq!(theirs.len(), PARTITIONS.len() * RECORDS_PER_PARTITION);
        let mut sessions = HashMap::new();
        for (partition, payload, json) in theirs.iter().chain(&mine) {
            let session = sessions
                .entry(partition.clone())
                .or_insert_with(|| factory.get_session(partition).expect("session"));
            let record =
                appencryption::DataRowRecord::from_json(json.as_bytes()).expect("DRR JSON");
            let plain = session
                .decrypt_async(&record)
                .await
                .unwrap_or_else(|e| panic!("{role} decrypting {payload}: {e}"));
            assert_eq!(plain, payload.as_bytes());
        }
        let stats = counting.stats();
        let line = format!("{} {}", stats.stores, stats.stores_inserted);
        std::fs::write(dir.join(format!("{role}.verified")), line).expect("verified");
    });
}
