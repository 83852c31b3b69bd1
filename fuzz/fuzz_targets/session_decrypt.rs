//! End to end: arbitrary bytes decrypted through a `Session` whose metastore holds real keys (the system and
//! intermediate keys of the worked example in docs/compatibility.md#test-vectors, plus the keys one encrypt created
//! during set-up). Decrypting must never
//! panic and never write to the metastore: after set-up every `store` panics, which libFuzzer reports as a crash.
#![no_main]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use appencryption::{
    EnvelopeKeyRecord, Error, InMemoryMetastore, Metastore, Session, SessionFactory, StaticKms,
};
use async_trait::async_trait;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const VECTORS: &str = include_str!("../../impl/appencryption/tests/data/spec-2.8-vectors.json");

/// An in-memory metastore that refuses every write once frozen.
struct FrozenAfterSetUp {
    inner: InMemoryMetastore,
    frozen: AtomicBool,
}

#[async_trait]
impl Metastore for FrozenAfterSetUp {
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
        assert!(
            !self.frozen.load(Ordering::SeqCst),
            "decrypt wrote to the metastore: ({id}, {created})"
        );
        self.inner.store(id, created, record).await
    }
}

/// The factory (kept alive for the session) and the session.
struct Fixture {
    _factory: SessionFactory,
    session: Session,
}

fn fixture() -> Fixture {
    let vectors: Value = serde_json::from_str(VECTORS).expect("spec-2.8-vectors.json is JSON");
    let input = |name: &str| vectors["inputs"][name].as_str().expect(name).to_owned();
    let metastore = Arc::new(FrozenAfterSetUp {
        inner: InMemoryMetastore::new(),
        frozen: AtomicBool::new(false),
    });
    for row in vectors["outputs"]["metastore_rows"]
        .as_array()
        .expect("rows")
    {
        let id = row["id"].as_str().expect("id");
        let created = row["created"].as_i64().expect("created");
        let mut record = EnvelopeKeyRecord::from_json(
            row["key_record"].as_str().expect("key_record").as_bytes(),
        )
        .expect("a spec row parses");
        record.id = id.to_owned();
        assert!(block_on(metastore.store(id, created, &record)).expect("store"));
    }
    let kms = StaticKms::new(&input("static_master_key_ascii")).expect("static KMS");
    let factory = SessionFactory::builder(
        input("service"),
        input("product"),
        metastore.clone(),
        Arc::new(kms),
    )
    .build()
    .expect("factory");
    let session = factory.get_session(&input("partition")).expect("session");
    // One encrypt creates (and stores) the current keys; then the metastore is frozen.
    let sealed = session.encrypt(b"set-up").expect("encrypt");
    metastore.frozen.store(true, Ordering::SeqCst);
    // The keys are real: the spec's record and the one just written both decrypt.
    let spec_drr = vectors["outputs"]["drr_json"].as_str().expect("drr_json");
    assert_eq!(
        session
            .decrypt_from_json(spec_drr.as_bytes())
            .expect("spec DRR decrypts"),
        input("payload_ascii").as_bytes()
    );
    assert_eq!(
        session.decrypt(&sealed).expect("own DRR decrypts"),
        b"set-up"
    );
    Fixture {
        _factory: factory,
        session,
    }
}

/// Run an in-memory metastore future to completion: it never awaits anything, so one poll finishes it.
fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    let mut future = std::pin::pin!(future);
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut context) {
        std::task::Poll::Ready(value) => value,
        std::task::Poll::Pending => panic!("the in-memory metastore awaited"),
    }
}

thread_local! {
    static FIXTURE: Fixture = fixture();
}

fuzz_target!(|data: &[u8]| {
    FIXTURE.with(|fixture| {
        let _ = fixture.session.decrypt_from_json(data);
    });
});
