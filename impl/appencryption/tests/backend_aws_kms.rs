//! AWS KMS in two regions against the moto emulator (`scripts/services.sh start aws`), through the real AWS SDK:
//! the envelope written to the metastore, the preferred region down (encrypt and decrypt fall back to the other
//! region), every region down (a clear error, and nothing written), over the DynamoDB metastore on the same
//! emulator.
//!
//! A region "down" is its endpoint pointing at a closed loopback port: connections are refused, exactly what a
//! client sees when a region's KMS is unreachable. Skips loudly without `ASHERAH_TEST_KMS_ENDPOINT`; fails under
//! `CI=true`.
#![cfg(feature = "aws-kms")]

mod backend_support;

use std::sync::Arc;
use std::time::Duration;

use appencryption::{
    AwsKms, CountingMetastore, Error, InMemoryMetastore, KeyManagementService, Metastore,
    SessionFactory,
};
use backend_support::{REGION, SECOND_REGION};

/// Two KMS keys on the emulator, one per region.
struct Keys {
    endpoint: String,
    config: aws_config::SdkConfig,
    west: String,
    east: String,
}

async fn keys(test: &str) -> Option<Keys> {
    let endpoint = backend_support::configured(backend_support::KMS_ENDPOINT, test)?;
    let config = backend_support::aws_config(&endpoint, Duration::from_secs(10)).await;
    let west = backend_support::kms_key(&config, REGION).await;
    let east = backend_support::kms_key(&config, SECOND_REGION).await;
    Some(Keys {
        endpoint,
        config,
        west,
        east,
    })
}

impl Keys {
    /// A KMS over both regions, preferred us-west-2; `down` lists regions whose endpoint refuses connections.
    async fn kms(&self, down: &[&str]) -> AwsKms {
        let mut builder = AwsKms::builder([(REGION, &self.west), (SECOND_REGION, &self.east)])
            .preferred_region(REGION)
            .sdk_config(self.config.clone())
            .endpoint_url(&self.endpoint)
            .operation_timeout(Duration::from_secs(5));
        for region in down {
            builder = builder.region_endpoint_url(*region, backend_support::dead_endpoint());
        }
        builder.build().await.expect("AWS KMS")
    }
}

/// A factory without the failed-load cache: these tests retry at once and expect the backend's own error each time
/// (the cache's behaviour has tests of its own).
fn factory(metastore: Arc<dyn Metastore>, kms: AwsKms) -> SessionFactory {
    SessionFactory::builder("service", "product", metastore, Arc::new(kms))
        .policy(
            appencryption::CryptoPolicy::default()
                .with_failed_load_cache_duration(std::time::Duration::ZERO),
        )
        .build()
        .expect("factory")
}

/// The system key record's `Key` as the docs/compatibility.md#aws-kms envelope: region → ARN of each KEK.
async fn envelope_regions(m: &dyn Metastore) -> Vec<(String, String)> {
    let sk = m
        .load_latest("_SK_service_product")
        .await
        .expect("load")
        .expect("SK stored");
    let envelope: serde_json::Value =
        serde_json::from_slice(&sk.encrypted_key).expect("the SK's Key is the JSON envelope");
    assert!(envelope["encryptedKey"].is_string(), "{envelope}");
    let mut regions: Vec<(String, String)> = envelope["kmsKeks"]
        .as_array()
        .expect("kmsKeks")
        .iter()
        .map(|kek| {
            assert!(kek["encryptedKek"].is_string(), "{kek}");
            (
                kek["region"].as_str().expect("region").to_owned(),
                kek["arn"].as_str().expect("arn").to_owned(),
            )
        })
        .collect();
    regions.sort();
    regions
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_regions_wrap_every_system_key_and_the_dynamodb_stack_round_trips() {
    let Some(keys) = keys("aws kms: two regions").await else {
        return;
    };
    let kms = keys.kms(&[]).await;
    assert_eq!(kms.regions().collect::<Vec<_>>(), [REGION, SECOND_REGION]);
    // Both the KMS and the metastore on the emulator: the full AWS stack.
    let metastore: Arc<dyn Metastore> = Arc::new(
        backend_support::dynamodb_metastore(&keys.endpoint, Duration::from_secs(10)).await,
    );
    let f = factory(Arc::clone(&metastore), kms);
    let session = f.get_session("shopper123").expect("session");
    let drr = session.encrypt_async(b"secret").await.expect("encrypt");
    assert_eq!(
        session.decrypt_async(&drr).await.expect("decrypt"),
        b"secret"
    );
    assert_eq!(
        envelope_regions(&*metastore).await,
        [
            (SECOND_REGION.to_owned(), keys.east.clone()),
            (REGION.to_owned(), keys.west.clone())
        ]
    );

    // Each region alone can decrypt the system key: a fresh factory whose other region is down.
    for down in [REGION, SECOND_REGION] {
        let cold = factory(Arc::clone(&metastore), keys.kms(&[down]).await);
        let session = cold.get_session("shopper123").expect("session");
        assert_eq!(
            session
                .decrypt_async(&drr)
                .await
                .expect("decrypt with one region"),
            b"secret",
            "{down} down"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preferred_region_down_falls_back_to_the_other_region() {
    let Some(keys) = keys("aws kms: preferred region down").await else {
        return;
    };
    // Written while both regions were up.
    let metastore = Arc::new(InMemoryMetastore::new());
    let up = factory(
        Arc::clone(&metastore) as Arc<dyn Metastore>,
        keys.kms(&[]).await,
    );
    let drr = up
        .get_session("p1")
        .expect("session")
        .encrypt_async(b"before the outage")
        .await
        .expect("encrypt");

    // us-west-2 (preferred) goes down: a cold factory decrypts old records and encrypts new ones through us-east-1.
    let degraded = factory(
        Arc::clone(&metastore) as Arc<dyn Metastore>,
        keys.kms(&[REGION]).await,
    );
    assert_eq!(
        degraded
            .get_session("p1")
            .expect("session")
            .decrypt_async(&drr)
            .await
            .expect("decrypt via us-east-1"),
        b"before the outage"
    );
    let session = degraded.get_session("p2").expect("session");
    let fresh = session
        .encrypt_async(b"during the outage")
        .await
        .expect("encrypt");
    assert_eq!(
        session.decrypt_async(&fresh).await.expect("decrypt"),
        b"during the outage"
    );

    // A system key created during the outage is wrapped by the region that answered only.
    let new_store = Arc::new(InMemoryMetastore::new());
    let outage = factory(
        Arc::clone(&new_store) as Arc<dyn Metastore>,
        keys.kms(&[REGION]).await,
    );
    let drr = outage
        .get_session("p1")
        .expect("session")
        .encrypt_async(b"x")
        .await
        .expect("encrypt with the preferred region down");
    assert_eq!(
        envelope_regions(&*new_store).await,
        [(SECOND_REGION.to_owned(), keys.east.clone())]
    );
    // …and decrypts once the preferred region is back (it has no KEK there, so us-east-1 serves it).
    let recovered = factory(new_store as Arc<dyn Metastore>, keys.kms(&[]).await);
    assert_eq!(
        recovered
            .get_session("p1")
            .expect("session")
            .decrypt_async(&drr)
            .await
            .expect("decrypt"),
        b"x"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_regions_down_is_a_clear_error_and_nothing_is_written() {
    let Some(keys) = keys("aws kms: all regions down").await else {
        return;
    };
    let metastore = Arc::new(CountingMetastore::new(InMemoryMetastore::new()));
    let f = factory(
        Arc::clone(&metastore) as Arc<dyn Metastore>,
        keys.kms(&[REGION, SECOND_REGION]).await,
    );
    let session = f.get_session("p1").expect("session");
    for _ in 0..2 {
        let err = session.encrypt_async(b"x").await.expect_err("no region");
        assert!(
            matches!(&err, Error::KmsAllRegionsFailed { operation: "generate data key", details }
                if details.contains(REGION) && details.contains(SECOND_REGION)),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .starts_with("AWS KMS generate data key failed in all regions: "),
            "{err}"
        );
    }
    assert!(metastore.inner().is_empty(), "no key was written");
    assert_eq!(metastore.stats().stores, 0, "{:?}", metastore.stats());

    // Decrypting a system key with every region down fails the same clear way.
    let good = keys.kms(&[]).await;
    let envelope = good.encrypt_key(&[7; 32]).await.expect("encrypt");
    let mut out = [0u8; 32];
    let err = keys
        .kms(&[REGION, SECOND_REGION])
        .await
        .decrypt_key(&envelope, &mut out)
        .await
        .expect_err("no region");
    assert!(
        matches!(
            err,
            Error::KmsAllRegionsFailed {
                operation: "decrypt",
                ..
            }
        ),
        "{err:?}"
    );
    good.decrypt_key(&envelope, &mut out)
        .await
        .expect("decrypt");
    assert_eq!(out, [7; 32]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_from_another_account_or_a_wrong_arn_never_decrypts() {
    let Some(keys) = keys("aws kms: wrong key").await else {
        return;
    };
    let envelope = keys
        .kms(&[])
        .await
        .encrypt_key(&[1; 32])
        .await
        .expect("encrypt");
    // The same regions with other keys: KMS refuses (the ciphertext names its key), so decryption fails.
    let other_west = backend_support::kms_key(&keys.config, REGION).await;
    let other_east = backend_support::kms_key(&keys.config, SECOND_REGION).await;
    let other = AwsKms::builder([(REGION, other_west), (SECOND_REGION, other_east)])
        .preferred_region(REGION)
        .sdk_config(keys.config.clone())
        .endpoint_url(&keys.endpoint)
        .build()
        .await
        .expect("kms");
    let mut out = [0u8; 32];
    let err = other
        .decrypt_key(&envelope, &mut out)
        .await
        .expect_err("wrong keys");
    assert!(matches!(err, Error::KmsAllRegionsFailed { .. }), "{err:?}");
    assert_eq!(out, [0; 32]);
}
