//! AWS KMS, multi-region (docs/compatibility.md#aws-kms), over the AWS SDK for Rust.
//!
//! A system key is sealed under a fresh 256-bit data key from `GenerateDataKey` in the first region that answers
//! (preferred region first); the data key is then wrapped by every configured region's KMS key, so any one region
//! can later unwrap it. The system key record's `Key` holds the JSON envelope
//!
//! ```json
//! {"encryptedKey":"<b64 AES-256-GCM(sk, datakey)>",
//!  "kmsKeks":[{"region":"us-west-2","arn":"arn:aws:kms:…","encryptedKek":"<b64 KMS ciphertext blob>"}, …]}
//! ```
//!
//! byte-compatible with Go's `kms.NewAWS` (v1 and v2 plugins). One deliberate difference
//! (docs/compatibility.md#q8-aws-kms-with-no-kek): when no region could wrap the data key, Go still returns an
//! envelope with no KEKs, which makes the system key (and everything under it) undecryptable forever; here
//! `encrypt_key` fails, so nothing is written to the metastore.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_kms::config::Region;
use aws_sdk_kms::config::timeout::TimeoutConfig;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;
use zeroize::{Zeroize, Zeroizing};

use super::KeyManagementService;
use crate::crypto::{AeadBackend, AesGcmBackend, KEY_LEN};
use crate::error::Error;
use crate::metrics::Timer;
use crate::rng::{OsRandom, SecureRandom};

/// How long one region's KMS call may take before that region is skipped: 3 seconds. Short enough that an
/// encrypt with two regions (`GenerateDataKey` failing over once, then the wraps in parallel) finishes well within
/// the factory's default backend deadline of 10 s.
pub const DEFAULT_REGION_DEADLINE: Duration = Duration::from_secs(3);

/// A data key from `GenerateDataKey`: the plaintext (wiped on drop), the ciphertext blob, and the key id KMS
/// reports (a full key ARN).
pub(super) struct DataKey {
    pub(super) plaintext: Zeroizing<Vec<u8>>,
    pub(super) ciphertext: Vec<u8>,
    pub(super) key_id: String,
}

/// The three KMS operations the envelope needs, in one region. The SDK client implements it; unit tests substitute
/// fakes to reach states a real KMS does not produce on demand (one region generating but none wrapping).
#[async_trait]
pub(super) trait RegionClient: Send + Sync {
    async fn generate_data_key(&self, arn: &str) -> Result<DataKey, String>;
    async fn encrypt(&self, arn: &str, plaintext: &[u8]) -> Result<Vec<u8>, String>;
    /// Unwrap `ciphertext`; the plaintext is wiped on drop.
    async fn decrypt(&self, arn: &str, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, String>;
}

#[async_trait]
impl RegionClient for aws_sdk_kms::Client {
    async fn generate_data_key(&self, arn: &str) -> Result<DataKey, String> {
        let mut output = self
            .generate_data_key()
            .key_id(arn)
            .key_spec(DataKeySpec::Aes256)
            .send()
            .await
            .map_err(|e| aws_sdk_kms::error::DisplayErrorContext(e).to_string())?;
        let plaintext = Zeroizing::new(
            output
                .plaintext
                .take()
                .ok_or("GenerateDataKey returned no plaintext")?
                .into_inner(),
        );
        Ok(DataKey {
            plaintext,
            ciphertext: output
                .ciphertext_blob
                .take()
                .ok_or("GenerateDataKey returned no ciphertext")?
                .into_inner(),
            key_id: output.key_id.take().unwrap_or_default(),
        })
    }

    async fn encrypt(&self, arn: &str, plaintext: &[u8]) -> Result<Vec<u8>, String> {
        let output = self
            .encrypt()
            .key_id(arn)
            .plaintext(Blob::new(plaintext))
            .send()
            .await
            .map_err(|e| aws_sdk_kms::error::DisplayErrorContext(e).to_string())?;
        output
            .ciphertext_blob
            .map(Blob::into_inner)
            .ok_or_else(|| "Encrypt returned no ciphertext".to_owned())
    }

    async fn decrypt(&self, arn: &str, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, String> {
        let output = self
            .decrypt()
            .key_id(arn)
            .ciphertext_blob(Blob::new(ciphertext))
            .send()
            .await
            .map_err(|e| aws_sdk_kms::error::DisplayErrorContext(e).to_string())?;
        output
            .plaintext
            .map(|blob| Zeroizing::new(blob.into_inner()))
            .ok_or_else(|| "Decrypt returned no plaintext".to_owned())
    }
}

/// One configured region.
struct Regional {
    region: String,
    arn: String,
    client: Box<dyn RegionClient>,
}

/// A [`KeyManagementService`] over AWS KMS in one or more regions (docs/compatibility.md#aws-kms). Build it with
/// [`AwsKms::builder`]:
///
/// ```no_run
/// # async fn example() -> Result<(), appencryption::Error> {
/// use appencryption::AwsKms;
///
/// let kms = AwsKms::builder([
///     ("us-west-2", "arn:aws:kms:us-west-2:111122223333:key/…"),
///     ("us-east-1", "arn:aws:kms:us-east-1:111122223333:key/…"),
/// ])
/// .preferred_region("us-west-2")
/// .build()
/// .await?;
/// # Ok(()) }
/// ```
///
/// Credentials come from the standard AWS provider chain (or [`AwsKmsBuilder::sdk_config`]); each region gets its
/// own client. Regions are tried preferred first, then the others in name order (Go: random order). A region that
/// fails costs latency, not availability, as long as another region answers: `encrypt_key` needs one region to
/// generate the data key and at least one to wrap it; `decrypt_key` needs one region holding a KEK to unwrap it.
///
/// Each regional call has its own deadline ([`AwsKmsBuilder::region_deadline`], default
/// [`DEFAULT_REGION_DEADLINE`]): a region that misses it counts as failed for that call (logged at `warn` and
/// counted), so the slowest region cannot hold an encrypt hostage: it is left out of the envelope, and the
/// `GenerateDataKey` and `Decrypt` attempts move on to the next region.
///
/// Metrics (docs/compatibility.md#metrics): `ael.kms.aws.generatedatakey.<region>` per `GenerateDataKey` attempt,
/// `ael.kms.aws.encryptkey` per regional `Encrypt`, `ael.kms.aws.decryptkey` per regional `Decrypt`; the counter
/// `ael.kms.aws.region_deadline_exceeded{region, operation}` per missed regional deadline.
///
/// The plaintext data keys returned by KMS are wiped as soon as they are used; copies the SDK's HTTP and JSON
/// layers made while receiving them are outside this crate's reach.
pub struct AwsKms {
    regions: Vec<Regional>,
    aead: AesGcmBackend,
    rng: Arc<dyn SecureRandom>,
    region_deadline: Duration,
}

impl std::fmt::Debug for AwsKms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let regions: Vec<(&str, &str)> = self
            .regions
            .iter()
            .map(|r| (r.region.as_str(), r.arn.as_str()))
            .collect();
        f.debug_struct("AwsKms")
            .field("regions", &regions)
            .finish_non_exhaustive()
    }
}

/// Configures an [`AwsKms`]. Start with [`AwsKms::builder`].
pub struct AwsKmsBuilder {
    arns: BTreeMap<String, String>,
    preferred: Option<String>,
    endpoint: Option<String>,
    region_endpoints: HashMap<String, String>,
    sdk_config: Option<SdkConfig>,
    timeout: Option<Duration>,
    region_deadline: Duration,
    rng: Arc<dyn SecureRandom>,
}

impl std::fmt::Debug for AwsKmsBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsKmsBuilder")
            .field("arns", &self.arns)
            .field("preferred", &self.preferred)
            .field("endpoint", &self.endpoint)
            .field("region_endpoints", &self.region_endpoints)
            .field("timeout", &self.timeout)
            .field("region_deadline", &self.region_deadline)
            .finish_non_exhaustive()
    }
}

impl AwsKms {
    /// Configure a KMS over `region → key ARN` pairs (Go's region map).
    pub fn builder<R, A>(region_arns: impl IntoIterator<Item = (R, A)>) -> AwsKmsBuilder
    where
        R: Into<String>,
        A: Into<String>,
    {
        AwsKmsBuilder {
            arns: region_arns
                .into_iter()
                .map(|(r, a)| (r.into(), a.into()))
                .collect(),
            preferred: None,
            endpoint: None,
            region_endpoints: HashMap::new(),
            sdk_config: None,
            timeout: None,
            region_deadline: DEFAULT_REGION_DEADLINE,
            rng: Arc::new(OsRandom),
        }
    }

    /// The regions in the order they are tried.
    pub fn regions(&self) -> impl Iterator<Item = &str> {
        self.regions.iter().map(|r| r.region.as_str())
    }

    #[cfg(test)]
    fn from_parts(
        regions: Vec<(String, String, Box<dyn RegionClient>)>,
        rng: Arc<dyn SecureRandom>,
    ) -> Self {
        Self {
            regions: regions
                .into_iter()
                .map(|(region, arn, client)| Regional {
                    region,
                    arn,
                    client,
                })
                .collect(),
            aead: AesGcmBackend,
            rng,
            region_deadline: DEFAULT_REGION_DEADLINE,
        }
    }

    /// `call` to `regional`, or an error naming the deadline if the region has not answered within it (logged and
    /// counted).
    async fn regional_call<T>(
        &self,
        regional: &Regional,
        operation: &'static str,
        call: impl Future<Output = Result<T, String>>,
    ) -> Result<T, String> {
        match crate::deadline::race(self.region_deadline, call)
            .await
            .map_err(|e| e.to_string())?
        {
            Some(result) => result,
            None => {
                tracing::warn!(region = %regional.region, operation, deadline = ?self.region_deadline,
                    "AWS KMS region missed its deadline; leaving it out of this call");
                metrics::counter!("ael.kms.aws.region_deadline_exceeded",
                    "region" => regional.region.clone(), "operation" => operation)
                .increment(1);
                Err(format!(
                    "{operation} did not answer within the region deadline of {:?}",
                    self.region_deadline
                ))
            }
        }
    }
}

impl AwsKmsBuilder {
    /// The region tried first. Required when more than one region is configured; must be one of them.
    pub fn preferred_region(mut self, region: impl Into<String>) -> Self {
        self.preferred = Some(region.into());
        self
    }

    /// Send every region's requests to `url` instead of AWS (a local emulator in tests, a proxy).
    pub fn endpoint_url(mut self, url: impl Into<String>) -> Self {
        self.endpoint = Some(url.into());
        self
    }

    /// Send `region`'s requests to `url` (overrides [`endpoint_url`](Self::endpoint_url) for that region).
    pub fn region_endpoint_url(
        mut self,
        region: impl Into<String>,
        url: impl Into<String>,
    ) -> Self {
        self.region_endpoints.insert(region.into(), url.into());
        self
    }

    /// Start from this AWS configuration (credentials, retries, HTTP client) instead of loading the standard
    /// provider chain; each region's client overrides only the region (and endpoint, if set).
    pub fn sdk_config(mut self, config: SdkConfig) -> Self {
        self.sdk_config = Some(config);
        self
    }

    /// Give up on one KMS call (including the SDK's retries) after `timeout`, so an unresponsive region fails
    /// over to the next instead of stalling the caller. Default: the SDK's (no operation timeout).
    pub fn operation_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// How long one region's KMS call may take before that region is skipped for the call (default
    /// [`DEFAULT_REGION_DEADLINE`]). Keep it below the factory's `CryptoPolicy::backend_call_deadline` divided by
    /// the number of regions, or a failing-over encrypt can hit the factory's deadline first.
    ///
    /// Errors at [`build`](Self::build) if zero.
    pub fn region_deadline(mut self, deadline: Duration) -> Self {
        self.region_deadline = deadline;
        self
    }

    /// The random source for the AES-GCM nonces sealing system keys.
    pub fn rng(mut self, rng: Arc<dyn SecureRandom>) -> Self {
        self.rng = rng;
        self
    }

    /// Check the configuration and create one SDK client per region. Touches no network (credentials are
    /// resolved on first use).
    ///
    /// Errors ([`Error::InvalidConfiguration`]): no region; more than one region and no preferred region; a
    /// preferred region that is not configured (Go accepts it and silently has no preferred region).
    pub async fn build(self) -> Result<AwsKms, Error> {
        let invalid = |what: String| Err(Error::InvalidConfiguration(format!("AWS KMS: {what}")));
        if self.arns.is_empty() {
            return invalid("no region → key ARN configured".to_owned());
        }
        if self.region_deadline.is_zero() {
            return invalid("the region deadline is zero; give it a positive duration".to_owned());
        }
        let preferred = match (&self.preferred, self.arns.len()) {
            (Some(p), _) if !self.arns.contains_key(p) => {
                return invalid(format!(
                    "preferred region {p:?} is not among the configured regions"
                ));
            }
            (Some(p), _) => p.clone(),
            (None, 1) => self.arns.keys().next().cloned().unwrap_or_default(),
            (None, _) => return invalid("several regions need a preferred region".to_owned()),
        };
        let shared = match self.sdk_config {
            Some(config) => config,
            None => aws_config::defaults(BehaviorVersion::latest()).load().await,
        };
        let mut regions = Vec::with_capacity(self.arns.len());
        // Preferred first, then the rest in name order (BTreeMap).
        let ordered = self
            .arns
            .iter()
            .filter(|(r, _)| **r == preferred)
            .chain(self.arns.iter().filter(|(r, _)| **r != preferred));
        for (region, arn) in ordered {
            let mut config =
                aws_sdk_kms::config::Builder::from(&shared).region(Region::new(region.clone()));
            if let Some(url) = self.region_endpoints.get(region).or(self.endpoint.as_ref()) {
                config = config.endpoint_url(url);
            }
            if let Some(timeout) = self.timeout {
                config = config.timeout_config(
                    TimeoutConfig::builder()
                        .operation_timeout(timeout)
                        .connect_timeout(timeout)
                        .build(),
                );
            }
            regions.push(Regional {
                region: region.clone(),
                arn: arn.clone(),
                client: Box::new(aws_sdk_kms::Client::from_conf(config.build())),
            });
        }
        Ok(AwsKms {
            regions,
            aead: AesGcmBackend,
            rng: self.rng,
            region_deadline: self.region_deadline,
        })
    }
}

/// The envelope as written (Go's field order).
#[derive(Serialize)]
struct EnvelopeOut<'a> {
    #[serde(rename = "encryptedKey")]
    encrypted_key: String,
    #[serde(rename = "kmsKeks")]
    kms_keks: Vec<KekOut<'a>>,
}

#[derive(Serialize)]
struct KekOut<'a> {
    region: &'a str,
    arn: &'a str,
    #[serde(rename = "encryptedKek")]
    encrypted_kek: String,
}

/// The envelope as read.
#[derive(Debug)]
struct Envelope {
    encrypted_key: Vec<u8>,
    /// region → encrypted KEK; the first entry for a region wins.
    keks: HashMap<String, Vec<u8>>,
}

/// Look up `name` in a JSON object the way Go's `encoding/json` does: an exact match first, else the first key
/// equal ignoring ASCII case.
fn field<'v>(
    object: &'v serde_json::Map<String, serde_json::Value>,
    name: &str,
) -> Option<&'v serde_json::Value> {
    object.get(name).or_else(|| {
        object
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

fn base64_field(
    object: &serde_json::Map<String, serde_json::Value>,
    name: &str,
) -> Result<Vec<u8>, Error> {
    match field(object, name) {
        Some(serde_json::Value::String(text)) => STANDARD
            .decode(text)
            .map_err(|e| Error::KmsEnvelope(format!("{name} is not standard base64: {e}"))),
        Some(_) => Err(Error::KmsEnvelope(format!("{name} is not a string"))),
        None => Err(Error::KmsEnvelope(format!("{name} is missing"))),
    }
}

impl Envelope {
    fn parse(bytes: &[u8]) -> Result<Self, Error> {
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| Error::KmsEnvelope(e.to_string()))?;
        let serde_json::Value::Object(object) = value else {
            return Err(Error::KmsEnvelope("not a JSON object".to_owned()));
        };
        let encrypted_key = base64_field(&object, "encryptedKey")?;
        let mut keks = HashMap::new();
        match field(&object, "kmsKeks") {
            // Go v2 writes `null` for an empty list (docs/compatibility.md#q8-aws-kms-with-no-kek); such an envelope
            // simply has no KEK.
            None | Some(serde_json::Value::Null) => {}
            Some(serde_json::Value::Array(entries)) => {
                for entry in entries {
                    let serde_json::Value::Object(entry) = entry else {
                        return Err(Error::KmsEnvelope(
                            "a kmsKeks entry is not an object".to_owned(),
                        ));
                    };
                    let Some(serde_json::Value::String(region)) = field(entry, "region") else {
                        return Err(Error::KmsEnvelope(
                            "a kmsKeks entry has no region".to_owned(),
                        ));
                    };
                    let kek = base64_field(entry, "encryptedKek")?;
                    keks.entry(region.clone()).or_insert(kek);
                }
            }
            Some(_) => return Err(Error::KmsEnvelope("kmsKeks is not an array".to_owned())),
        }
        Ok(Self {
            encrypted_key,
            keks,
        })
    }
}

/// Parse an envelope and drop it: the fuzzing entry point (feature `fuzzing`, `crate::fuzzing`).
#[cfg(feature = "fuzzing")]
pub(crate) fn parse_envelope_for_fuzzing(bytes: &[u8]) -> Result<(), Error> {
    Envelope::parse(bytes).map(drop)
}

/// `region: error` lines joined for an all-regions error.
fn details(errors: &[(&str, String)]) -> String {
    errors
        .iter()
        .map(|(region, error)| format!("{region}: {error}"))
        .collect::<Vec<_>>()
        .join("; ")
}

#[async_trait]
impl KeyManagementService for AwsKms {
    async fn encrypt_key(&self, key: &[u8]) -> Result<Vec<u8>, Error> {
        // 1. A data key from the first region that answers.
        let mut errors = Vec::new();
        let mut generated = None;
        for regional in &self.regions {
            let _timer = Timer::start(format!("ael.kms.aws.generatedatakey.{}", regional.region));
            let call = regional.client.generate_data_key(&regional.arn);
            match self.regional_call(regional, "GenerateDataKey", call).await {
                Ok(data_key) if data_key.plaintext.len() == KEY_LEN => {
                    generated = Some(data_key);
                    break;
                }
                Ok(data_key) => errors.push((
                    regional.region.as_str(),
                    format!(
                        "data key of {} bytes, expected {KEY_LEN}",
                        data_key.plaintext.len()
                    ),
                )),
                Err(e) => {
                    tracing::debug!(region = %regional.region, error = %e, "GenerateDataKey failed");
                    errors.push((regional.region.as_str(), e));
                }
            }
        }
        let Some(data_key) = generated else {
            return Err(Error::KmsAllRegionsFailed {
                operation: "generate data key",
                details: details(&errors),
            });
        };

        // 2. The system key under the data key.
        let encrypted_key = self.aead.encrypt(key, &data_key.plaintext, &*self.rng)?;

        // 3. The data key under every region's KMS key, concurrently; the generating region's blob is reused
        //    when KMS reported exactly the configured ARN.
        let wraps = self.regions.iter().map(|regional| {
            let data_key = &data_key;
            async move {
                if regional.arn == data_key.key_id {
                    return (regional, Ok(data_key.ciphertext.clone()));
                }
                let _timer = Timer::start("ael.kms.aws.encryptkey");
                let call = regional.client.encrypt(&regional.arn, &data_key.plaintext);
                (
                    regional,
                    self.regional_call(regional, "Encrypt", call).await,
                )
            }
        });
        let mut keks = Vec::with_capacity(self.regions.len());
        let mut errors = Vec::new();
        for (regional, result) in futures_util::future::join_all(wraps).await {
            match result {
                Ok(blob) => keks.push(KekOut {
                    region: &regional.region,
                    arn: &regional.arn,
                    encrypted_kek: STANDARD.encode(blob),
                }),
                Err(e) => {
                    tracing::debug!(region = %regional.region, error = %e, "KMS Encrypt of the data key failed");
                    errors.push((regional.region.as_str(), e));
                }
            }
        }
        drop(data_key); // wipes the plaintext data key
        if keks.is_empty() {
            // docs/compatibility.md#q8-aws-kms-with-no-kek, fixed: an envelope without KEKs could never be decrypted.
            return Err(Error::KmsNoRegionalKek {
                details: details(&errors),
            });
        }
        let envelope = EnvelopeOut {
            encrypted_key: STANDARD.encode(encrypted_key),
            kms_keks: keks,
        };
        serde_json::to_vec(&envelope).map_err(|e| Error::KmsEnvelope(e.to_string()))
    }

    async fn decrypt_key(&self, encrypted: &[u8], key_out: &mut [u8; 32]) -> Result<(), Error> {
        let envelope = Envelope::parse(encrypted)?;
        let mut errors = Vec::new();
        for regional in &self.regions {
            let Some(kek) = envelope.keks.get(&regional.region) else {
                continue;
            };
            let data_key = {
                let _timer = Timer::start("ael.kms.aws.decryptkey");
                let call = regional.client.decrypt(&regional.arn, kek);
                self.regional_call(regional, "Decrypt", call).await
            };
            let outcome = data_key.and_then(|data_key| {
                self.aead
                    .decrypt_key(&envelope.encrypted_key, &data_key, key_out)
                    .map_err(|e| e.to_string())
            });
            match outcome {
                Ok(()) => return Ok(()),
                Err(e) => {
                    key_out.zeroize();
                    tracing::debug!(region = %regional.region, error = %e, "KMS decrypt failed; trying the next region");
                    errors.push((regional.region.as_str(), e));
                }
            }
        }
        if errors.is_empty() {
            errors.push((
                "(none)",
                "the envelope has no KEK for any configured region".to_owned(),
            ));
        }
        Err(Error::KmsAllRegionsFailed {
            operation: "decrypt",
            details: details(&errors),
        })
    }
}

#[cfg(test)]
mod tests;
