//! Support for the Go ↔ Rust interop tests: the upstream Go side (go-baseline's `cmd/interop`, built once per test
//! run), the Rust side over the same metastore file, and the record manipulations the tests share.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, OnceLock};

use appencryption::{
    DataRowRecord, EnvelopeKeyRecord, Error, Metastore, SessionFactory, SqlMetastore, StaticKms,
};
use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

/// The cross-language suite's identities and payload (docs/compatibility.md#cross-language-suite).
pub(crate) const SERVICE: &str = "service";
pub(crate) const PRODUCT: &str = "product";
pub(crate) const PARTITION: &str = "partition";
pub(crate) const STATIC_KEY: &str = "thisIsAStaticMasterKeyForTesting";
pub(crate) const PAYLOAD: &[u8] = b"mySuperSecretPayload";

// ---------------------------------------------------------------------------------------------------------------
// The Go side
// ---------------------------------------------------------------------------------------------------------------

/// The upstream Go interop CLI, built into the cargo target dir.
pub(crate) struct GoCli {
    bin: PathBuf,
}

static GO_CLI: OnceLock<Option<GoCli>> = OnceLock::new();

/// The Go CLI, built on first use (once per test process). `None` when the `go` command is missing and this is
/// not CI: the caller returns early (the test passes vacuously), after this function has said so loudly on
/// stderr. Under `CI=true` a missing Go toolchain fails the test. A failing `go build` always fails.
pub(crate) fn go_cli() -> Option<&'static GoCli> {
    GO_CLI
        .get_or_init(|| {
            let version = Command::new("go").arg("version").output();
            let usable = matches!(&version, Ok(out) if out.status.success());
            if !usable {
                let why = match version {
                    Ok(out) => String::from_utf8_lossy(&out.stderr).into_owned(),
                    Err(e) => e.to_string(),
                };
                if std::env::var("CI").is_ok_and(|v| v == "true") {
                    panic!("interop: the go command is required under CI=true ({why})");
                }
                // Straight to the stderr handle: libtest captures eprintln! of passing tests, and this must show.
                let _ = writeln!(
                    std::io::stderr(),
                    "\n!!! interop tests SKIPPED: no usable `go` command ({why}); install Go to test against \
                     upstream Asherah\n"
                );
                return None;
            }
            let go_baseline = Path::new(env!("CARGO_MANIFEST_DIR")).join("../go-baseline");
            let bin = Path::new(env!("CARGO_TARGET_TMPDIR")).join("interop-go/interop");
            let out = Command::new("go")
                .args(["build", "-o"])
                .arg(&bin)
                .arg("./cmd/interop")
                .current_dir(&go_baseline)
                .output()
                .expect("running go build");
            assert!(
                out.status.success(),
                "go build ./cmd/interop failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            Some(GoCli { bin })
        })
        .as_ref()
}

impl GoCli {
    /// Run the CLI with `args`, feeding `stdin`.
    pub(crate) fn run(&self, args: &[&str], stdin: &[u8]) -> Output {
        let mut child = Command::new(&self.bin)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting the Go interop CLI");
        let mut pipe = child.stdin.take().expect("stdin is piped");
        let input = stdin.to_vec();
        // Feed stdin from another thread: a large input must not deadlock against a full stdout pipe.
        let feeder = std::thread::spawn(move || pipe.write_all(&input));
        let out = child
            .wait_with_output()
            .expect("waiting for the Go interop CLI");
        feeder
            .join()
            .expect("stdin feeder")
            .expect("writing the CLI's stdin");
        out
    }

    /// Run the CLI and return its stdout; panics with its stderr if it fails.
    pub(crate) fn ok(&self, args: &[&str], stdin: &[u8]) -> Vec<u8> {
        let out = self.run(args, stdin);
        assert!(
            out.status.success(),
            "interop {args:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// `encrypt-batch`: one process for every item; returns the transport strings in order.
    pub(crate) fn encrypt_batch(
        &self,
        metastore: &str,
        extra: &[&str],
        items: &[(&str, &[u8])],
    ) -> Vec<String> {
        let input: Vec<Value> = items
            .iter()
            .map(|(p, payload)| serde_json::json!({"partition": p, "payload": STANDARD.encode(payload)}))
            .collect();
        let mut args = vec!["encrypt-batch", "--metastore", metastore];
        args.extend_from_slice(extra);
        let out: Vec<Value> =
            serde_json::from_slice(&self.ok(&args, &serde_json::to_vec(&input).expect("JSON")))
                .expect("encrypt-batch output is a JSON array");
        assert_eq!(out.len(), items.len(), "encrypt-batch item count");
        out.iter()
            .zip(items)
            .map(|(o, (p, _))| {
                assert_eq!(o["partition"], *p, "encrypt-batch partition");
                o["drr"].as_str().expect("drr string").to_owned()
            })
            .collect()
    }

    /// `decrypt-batch`: one process for every item; `Ok(payload)` or `Err(Go's error message)` per item.
    pub(crate) fn decrypt_batch(
        &self,
        metastore: &str,
        extra: &[&str],
        items: &[(&str, &str)],
    ) -> Vec<Result<Vec<u8>, String>> {
        let input: Vec<Value> = items
            .iter()
            .map(|(p, drr)| serde_json::json!({"partition": p, "drr": drr}))
            .collect();
        let mut args = vec!["decrypt-batch", "--metastore", metastore];
        args.extend_from_slice(extra);
        let out: Vec<Value> =
            serde_json::from_slice(&self.ok(&args, &serde_json::to_vec(&input).expect("JSON")))
                .expect("decrypt-batch output is a JSON array");
        assert_eq!(out.len(), items.len(), "decrypt-batch item count");
        out.iter()
            .map(|o| match (o.get("payload"), o.get("error")) {
                (Some(Value::String(b64)), None) => {
                    Ok(STANDARD.decode(b64).expect("payload is base64"))
                }
                (None, Some(Value::String(e))) => Err(e.clone()),
                _ => panic!("decrypt-batch item is neither a payload nor an error: {o}"),
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The Rust side
// ---------------------------------------------------------------------------------------------------------------

/// A metastore that reports a region suffix, as Go's DynamoDB metastore does in region-suffix mode
/// (docs/compatibility.md#partitions-and-region-suffixes).
pub(crate) struct Suffixed {
    inner: Arc<dyn Metastore>,
    suffix: String,
}

#[async_trait]
impl Metastore for Suffixed {
    async fn load(&self, id: &str, created: i64) -> Result<Option<EnvelopeKeyRecord>, Error> {
        self.inner.load(id, created).await
    }

    async fn load_latest(&self, id: &str) -> Result<Option<EnvelopeKeyRecord>, Error> {
        self.inner.load_latest(id).await
    }

    async fn store(
        &self,
        id: &str,
        created: i64,
        record: &EnvelopeKeyRecord,
    ) -> Result<bool, Error> {
        self.inner.store(id, created, record).await
    }

    fn region_suffix(&self) -> Option<&str> {
        Some(&self.suffix)
    }
}

/// The Rust implementation over a metastore shared with the Go CLI (usually a SQLite file), with its own runtime
/// for the async API.
pub(crate) struct RustSide {
    rt: tokio::runtime::Runtime,
    metastore: Arc<dyn Metastore>,
    factory: SessionFactory,
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

impl RustSide {
    /// Open (creating if needed) the SQLite file at `path`; `suffix` makes the metastore report a region suffix.
    pub(crate) fn sqlite(path: &Path, suffix: Option<&str>) -> RustSide {
        let url = format!("sqlite://{}?mode=rwc", path.display());
        Self::open_with(|rt| {
            let metastore = rt.block_on(async {
                let m = SqlMetastore::connect_sqlite(&url)
                    .await
                    .expect("open SQLite");
                m.create_schema()
                    .await
                    .expect("create the encryption_key table");
                m
            });
            let shared: Arc<dyn Metastore> = Arc::new(metastore);
            match suffix {
                Some(s) => Arc::new(Suffixed {
                    inner: shared,
                    suffix: s.to_owned(),
                }),
                None => shared,
            }
        })
    }

    /// The Rust side over any metastore.
    pub(crate) fn over(metastore: Arc<dyn Metastore>) -> RustSide {
        Self::over_with(runtime(), metastore)
    }

    /// The Rust side over a metastore that must be opened on the side's own runtime (a connection pool):
    /// `open` runs with that runtime, e.g. `|rt| Arc::new(rt.block_on(SqlMetastore::connect_…(url)).unwrap())`.
    pub(crate) fn open_with(
        open: impl FnOnce(&tokio::runtime::Runtime) -> Arc<dyn Metastore>,
    ) -> RustSide {
        let rt = runtime();
        let metastore = open(&rt);
        Self::over_with(rt, metastore)
    }

    fn over_with(rt: tokio::runtime::Runtime, metastore: Arc<dyn Metastore>) -> RustSide {
        let factory = SessionFactory::builder(
            SERVICE,
            PRODUCT,
            Arc::clone(&metastore),
            Arc::new(StaticKms::new(STATIC_KEY).expect("static KMS")),
        )
        .build()
        .expect("session factory");
        RustSide {
            rt,
            metastore,
            factory,
        }
    }

    /// Run a future of the metastore API on this side's runtime.
    pub(crate) fn block_on<T>(&self, future: impl std::future::Future<Output = T>) -> T {
        self.rt.block_on(future)
    }

    /// Encrypt with a fresh session for `partition`; returns the docs/compatibility.md#cross-language-suite
    /// transport string.
    pub(crate) fn encrypt(&self, partition: &str, payload: &[u8]) -> String {
        let session = self.factory.get_session(partition).expect("session");
        let drr = self
            .rt
            .block_on(session.encrypt_async(payload))
            .unwrap_or_else(|e| panic!("Rust encrypt for {partition:?}: {e}"));
        STANDARD.encode(drr.to_json())
    }

    /// Decrypt a transport string (or any standard base64 of DRR JSON) with a fresh session for `partition`.
    pub(crate) fn decrypt(&self, partition: &str, transport: &str) -> Result<Vec<u8>, Error> {
        let json = STANDARD
            .decode(transport.trim())
            .expect("transport is standard base64");
        let drr = DataRowRecord::from_json(&json)?;
        let session = self.factory.get_session(partition)?;
        self.rt.block_on(session.decrypt_async(&drr))
    }

    /// The latest record of `id` in the shared table, read through the Rust metastore.
    pub(crate) fn latest(&self, id: &str) -> Option<EnvelopeKeyRecord> {
        self.rt
            .block_on(self.metastore.load_latest(id))
            .expect("load_latest")
    }
}

/// A scratch directory under the cargo target dir for one test, emptied first.
pub(crate) fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("interop-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// The `sqlite:` metastore argument of the Go CLI for `path`.
pub(crate) fn go_sqlite(path: &Path) -> String {
    format!("sqlite:{}", path.display())
}

// ---------------------------------------------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------------------------------------------

/// The DRR JSON object inside a transport string.
pub(crate) fn drr_value(transport: &str) -> Value {
    let json = STANDARD.decode(transport.trim()).expect("standard base64");
    serde_json::from_slice(&json).expect("DRR JSON")
}

/// Standard base64 of `value`'s compact JSON.
pub(crate) fn transport_of(value: &Value) -> String {
    STANDARD.encode(serde_json::to_vec(value).expect("JSON"))
}

/// The same DRR in the Python gRPC sidecar's layout (docs/compatibility.md#cross-language-suite): key order `Data`,
/// then `Key` with `ParentKeyMeta`, `Key`, `Created`, and `json.dumps`'s default separators (", " and ": ").
pub(crate) fn python_sidecar_layout(transport: &str) -> String {
    let drr = drr_value(transport);
    let key = &drr["Key"];
    let meta = &key["ParentKeyMeta"];
    let s = |v: &Value| serde_json::to_string(v).expect("JSON");
    let json = format!(
        "{{\"Data\": {}, \"Key\": {{\"ParentKeyMeta\": {{\"KeyId\": {}, \"Created\": {}}}, \"Key\": {}, \"Created\": {}}}}}",
        s(&drr["Data"]),
        s(&meta["KeyId"]),
        s(&meta["Created"]),
        s(&key["Key"]),
        s(&key["Created"]),
    );
    STANDARD.encode(json)
}

/// Ways to tamper with a DRR; each must make decryption fail in either implementation.
pub(crate) const TAMPERINGS: &[&str] = &[
    "data bit",
    "data tag bit",
    "data nonce bit",
    "data truncated",
    "key bit",
    "key nonce bit",
    "parent created",
    "parent key id",
    "data swapped",
];

/// Apply tampering `how` to the DRR in `transport`; `other` is a second, valid DRR of the same partition (for
/// swaps).
pub(crate) fn tamper(transport: &str, other: &str, how: &str) -> String {
    let mut drr = drr_value(transport);
    let flip = |v: &mut Value, at: fn(usize) -> usize| {
        let mut bytes = STANDARD
            .decode(v.as_str().expect("base64 string"))
            .expect("base64");
        let i = at(bytes.len());
        bytes[i] ^= 0x01;
        *v = Value::String(STANDARD.encode(bytes));
    };
    match how {
        "data bit" => flip(&mut drr["Data"], |_| 0),
        "data tag bit" => flip(&mut drr["Data"], |n| n - 20),
        "data nonce bit" => flip(&mut drr["Data"], |n| n - 1),
        "data truncated" => {
            let bytes = STANDARD
                .decode(drr["Data"].as_str().expect("Data"))
                .expect("base64");
            drr["Data"] = Value::String(STANDARD.encode(&bytes[..bytes.len() - 1]));
        }
        "key bit" => flip(&mut drr["Key"]["Key"], |_| 0),
        "key nonce bit" => flip(&mut drr["Key"]["Key"], |n| n - 1),
        "parent created" => {
            let created = drr["Key"]["ParentKeyMeta"]["Created"]
                .as_i64()
                .expect("Created");
            drr["Key"]["ParentKeyMeta"]["Created"] = Value::from(created + 1);
        }
        "parent key id" => {
            let id = drr["Key"]["ParentKeyMeta"]["KeyId"]
                .as_str()
                .expect("KeyId")
                .to_owned();
            drr["Key"]["ParentKeyMeta"]["KeyId"] = Value::String(format!("{id}x"));
        }
        "data swapped" => drr["Data"] = drr_value(other)["Data"].clone(),
        _ => panic!("unknown tampering {how}"),
    }
    transport_of(&drr)
}

// ---------------------------------------------------------------------------------------------------------------
// The CLI's JSON metastore exchange format: [{"id":…,"created":…,"key_record":{EKR JSON}}, …]
// ---------------------------------------------------------------------------------------------------------------

/// One row of a JSON metastore file, `key_record` kept as the exact JSON text of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JsonRow {
    pub(crate) id: String,
    pub(crate) created: i64,
    pub(crate) key_record: String,
}

/// Read a JSON metastore file written by the Go CLI.
pub(crate) fn read_json_rows(path: &Path) -> Vec<JsonRow> {
    let text = std::fs::read_to_string(path).expect("JSON metastore file");
    let rows: Vec<serde_json::Map<String, Value>> =
        serde_json::from_str(&text).expect("a JSON array of rows");
    rows.into_iter()
        .map(|row| JsonRow {
            id: row["id"].as_str().expect("id").to_owned(),
            created: row["created"].as_i64().expect("created"),
            // serde_json keeps the object's key order only with `preserve_order`, so take the text from the file.
            key_record: raw_key_record(
                &text,
                row["id"].as_str().expect("id"),
                row["created"].as_i64().expect("created"),
            ),
        })
        .collect()
}

/// The exact `key_record` text of row `(id, created)`: the CLI writes one row per line.
fn raw_key_record(file: &str, id: &str, created: i64) -> String {
    let prefix = format!(
        "{{\"id\":{},\"created\":{created},\"key_record\":",
        serde_json::to_string(id).expect("JSON")
    );
    let line = file
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no line for row ({id}, {created})"));
    let rest = line
        .trim_end_matches(',')
        .strip_prefix(&prefix)
        .expect("prefix");
    rest.strip_suffix('}')
        .expect("row object ends the line")
        .to_owned()
}

/// Write rows in the CLI's format (one row per line), `key_record` as given.
pub(crate) fn write_json_rows(path: &Path, rows: &[JsonRow]) {
    let body: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "  {{\"id\":{},\"created\":{},\"key_record\":{}}}",
                serde_json::to_string(&r.id).expect("JSON"),
                r.created,
                r.key_record
            )
        })
        .collect();
    std::fs::write(path, format!("[\n{}\n]\n", body.join(",\n")))
        .expect("writing the JSON metastore");
}
