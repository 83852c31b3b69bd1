//! What the benches share with Go's benchmarks: the names upstream uses (service `asherah`, product
//! `enclibrary`, partition `123456`, its static master key), a deterministic payload, and a warm session over an
//! in-memory metastore and the static KMS.

use std::sync::Arc;

use appencryption::{
    CryptoPolicy, DataRowRecord, InMemoryMetastore, Metastore, Session, SessionFactory, StaticKms,
};

/// Go's benchmark service name.
pub const SERVICE: &str = "asherah";
/// Go's benchmark product name.
pub const PRODUCT: &str = "enclibrary";
/// Go's benchmark partition.
pub const PARTITION: &str = "123456";
/// Go's static master key.
pub const STATIC_KEY: &str = "thisIsAStaticMasterKeyForTesting";

/// `len` bytes of a fixed pattern (the content does not change any cost measured).
pub fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 131 % 251) as u8).collect()
}

/// A factory for [`SERVICE`]/[`PRODUCT`] over a fresh in-memory metastore and the static KMS.
pub fn factory(policy: CryptoPolicy) -> SessionFactory {
    let kms = Arc::new(StaticKms::new(STATIC_KEY).expect("static KMS"));
    SessionFactory::builder(
        SERVICE,
        PRODUCT,
        Arc::new(InMemoryMetastore::new()) as Arc<dyn Metastore>,
        kms,
    )
    .policy(policy)
    .build()
    .expect("factory")
}

/// A session of [`PARTITION`] whose keys are cached, and the record of its checked round trip.
pub fn warm(factory: &SessionFactory, payload: &[u8]) -> (Session, DataRowRecord) {
    let session = factory.get_session(PARTITION).expect("session");
    let record = session.encrypt(payload).expect("encrypt");
    assert_eq!(
        session.decrypt(&record).expect("decrypt"),
        payload,
        "round trip"
    );
    (session, record)
}
