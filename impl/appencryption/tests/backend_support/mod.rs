//! Helpers for the suites that run against real servers (MariaDB, PostgreSQL, the moto DynamoDB/KMS emulator),
//! started by `scripts/services.sh`, which prints the environment variables read here.
//!
//! A suite whose server is not configured skips **loudly** (a banner on stderr), except under `CI=true`, where it
//! fails: CI must exercise every backend.
// Each test crate uses a different subset.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub(crate) const MYSQL_URL: &str = "ASHERAH_TEST_MYSQL_URL";
pub(crate) const POSTGRES_URL: &str = "ASHERAH_TEST_POSTGRES_URL";
pub(crate) const DYNAMODB_ENDPOINT: &str = "ASHERAH_TEST_DYNAMODB_ENDPOINT";
pub(crate) const KMS_ENDPOINT: &str = "ASHERAH_TEST_KMS_ENDPOINT";
/// Set by `scripts/services.sh env`: the services this run may stop and start (fault tests).
pub(crate) const SERVICES_DIR: &str = "ASHERAH_SERVICES_DIR";

/// The region the emulator's default resources live in, and a second one for multi-region KMS.
pub(crate) const REGION: &str = "us-west-2";
pub(crate) const SECOND_REGION: &str = "us-east-1";

/// The value of `var`, or `None` after a loud skip notice; under `CI=true` a missing variable fails the test.
pub(crate) fn configured(var: &str, test: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Some(v),
        _ => {
            let message = format!(
                "{var} is not set, so `{test}` cannot reach its server: run `eval \"$(scripts/services.sh env all)\"` \
                 after `scripts/services.sh start all` (scripts/test.sh does both)"
            );
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("CI=true and {message}");
            }
            eprintln!("\n!!!!!!!! SKIPPED !!!!!!!! {message}\n");
            None
        }
    }
}

/// A name no other test, process or run uses: `<prefix>_<pid>_<seq>_<ms>` (a valid SQL identifier and DynamoDB
/// table name).
pub(crate) fn unique_name(prefix: &str) -> String {
    static SEQ: AtomicUsize = AtomicUsize::new(0);
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() % 100_000_000);
    format!(
        "{prefix}_{}_{}_{ms}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    )
}

/// `scripts/services.sh <args>`, with the environment of this test run (services dir, ports). Panics with the
/// script's output if it fails.
pub(crate) fn services(args: &[&str]) {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/services.sh");
    let output = Command::new("bash")
        .arg(&script)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", script.display()));
    assert!(
        output.status.success(),
        "services.sh {args:?} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A TCP port on 127.0.0.1 where nothing listens (bound, then released): connecting is refused at once, which is
/// how an unreachable region's endpoint looks to a client.
pub(crate) fn dead_endpoint() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// A pool on MySQL/MariaDB whose requests fail within `acquire_timeout` while the server is down.
#[cfg(feature = "mysql")]
pub(crate) async fn mysql_pool(url: &str, acquire_timeout: Duration) -> sqlx::MySqlPool {
    sqlx::mysql::MySqlPoolOptions::new()
        .acquire_timeout(acquire_timeout)
        .connect(url)
        .await
        .unwrap_or_else(|e| panic!("connect to MySQL at {url}: {e}"))
}

/// A pool on PostgreSQL whose requests fail within `acquire_timeout` while the server is down.
#[cfg(feature = "postgres")]
pub(crate) async fn postgres_pool(url: &str, acquire_timeout: Duration) -> sqlx::PgPool {
    sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(acquire_timeout)
        .connect(url)
        .await
        .unwrap_or_else(|e| panic!("connect to PostgreSQL at {url}: {e}"))
}

#[cfg(feature = "dynamodb")]
use aws_sdk_dynamodb::config::Credentials;
#[cfg(all(feature = "aws-kms", not(feature = "dynamodb")))]
use aws_sdk_kms::config::Credentials;

/// AWS configuration for the emulator at `endpoint`: fixed region, static test credentials, and an operation
/// timeout so an unresponsive emulator is an error, not a hang.
#[cfg(any(feature = "dynamodb", feature = "aws-kms"))]
pub(crate) async fn aws_config(endpoint: &str, timeout: Duration) -> aws_config::SdkConfig {
    use aws_config::timeout::TimeoutConfig;
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new(REGION))
        .credentials_provider(Credentials::new(
            "testing",
            "testing",
            None,
            None,
            "lab-tests",
        ))
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(timeout)
                .connect_timeout(timeout)
                .build(),
        )
        .load()
        .await
}

/// A DynamoDB metastore on a fresh table of its own in the emulator at `endpoint`.
#[cfg(feature = "dynamodb")]
pub(crate) async fn dynamodb_metastore(
    endpoint: &str,
    timeout: Duration,
) -> appencryption::DynamoDbMetastore {
    let config = aws_config(endpoint, timeout).await;
    let m = appencryption::DynamoDbMetastore::new(aws_sdk_dynamodb::Client::new(&config))
        .with_table_name(&unique_name("EncryptionKey"));
    m.create_table().await.expect("create DynamoDB table");
    m
}

/// A KMS key in `region` of the emulator; returns its ARN.
#[cfg(feature = "aws-kms")]
pub(crate) async fn kms_key(config: &aws_config::SdkConfig, region: &str) -> String {
    let client = aws_sdk_kms::Client::from_conf(
        aws_sdk_kms::config::Builder::from(config)
            .region(aws_sdk_kms::config::Region::new(region.to_owned()))
            .build(),
    );
    let key = client
        .create_key()
        .description("asherah lab test key")
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "create KMS key in {region}: {}",
                aws_sdk_kms::error::DisplayErrorContext(e)
            )
        });
    key.key_metadata()
        .and_then(|m| m.arn())
        .expect("key ARN")
        .to_owned()
}
