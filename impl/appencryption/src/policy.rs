//! [`CryptoPolicy`]: key lifetimes, caching and where keys live (docs/compatibility.md#crypto-policy).

use std::time::Duration;

use crate::cache::eviction::EvictionPolicy;

/// Go's `DefaultExpireAfter`: 90 days.
pub const DEFAULT_EXPIRE_AFTER: Duration = Duration::from_secs(90 * 24 * 60 * 60);
/// Go's `DefaultRevokedCheckInterval`: 60 minutes.
pub const DEFAULT_REVOKE_CHECK_INTERVAL: Duration = Duration::from_secs(60 * 60);
/// Go's `DefaultCreateDatePrecision`: 1 minute.
pub const DEFAULT_CREATE_DATE_PRECISION: Duration = Duration::from_secs(60);
/// Go's `DefaultKeyCacheMaxSize`.
pub const DEFAULT_KEY_CACHE_MAX_SIZE: usize = 1000;
/// Go's `DefaultSessionCacheMaxSize`.
pub const DEFAULT_SESSION_CACHE_MAX_SIZE: usize = 1000;
/// Go's `DefaultSessionCacheDuration`: 2 hours.
pub const DEFAULT_SESSION_CACHE_DURATION: Duration = Duration::from_secs(2 * 60 * 60);
/// How long one metastore or KMS call may take before it fails with [`Error::Deadline`](crate::Error::Deadline):
/// 10 seconds (Go has no deadline of its own).
pub const DEFAULT_BACKEND_CALL_DEADLINE: Duration = Duration::from_secs(10);
/// How long a failed key load is remembered (and served as
/// [`Error::LoadFailedRecently`](crate::Error::LoadFailedRecently)) before the key is loaded again: 1 second.
pub const DEFAULT_FAILED_LOAD_CACHE_DURATION: Duration = Duration::from_secs(1);

/// Where plaintext keys live while they are cached and used — the choice that sets both speed and safety.
///
/// | mode | system and intermediate keys | data-row key during an encrypt | cost per hot encrypt |
/// |---|---|---|---|
/// | [`ProtectedDataRowKey`](KeyMode::ProtectedDataRowKey) | secure memory, readable per access | a pooled secure-memory scratch page | two access windows (IK, data-row key) |
/// | [`StackDataRowKey`](KeyMode::StackDataRowKey) (default) | secure memory, readable per access | zeroized stack buffer | one access window on the IK |
/// | [`CachedCipher`](KeyMode::CachedCipher) | secure memory **and** an expanded AES key schedule on the heap | zeroized stack buffer | no syscall |
/// | [`SecretCachedCipher`](KeyMode::SecretCachedCipher) | secure memory **and** an expanded AES key schedule in secret-memory pages (`memfd_secret` where the kernel has it) | zeroized stack buffer | no syscall |
///
/// Security properties:
/// * **ProtectedDataRowKey** (Go's behaviour): every cached plaintext key, and the data-row key while an encrypt
///   generates and uses it, sits in locked, dump-excluded memory that is `PROT_NONE` except while in use and that
///   a `fork`ed child never sees (zeroed there for mmap pages, not mapped at all for `memfd_secret` pages, the
///   default backing where the kernel has it). Go allocates a fresh secret for each data-row key; this mode takes a page from a pool of
///   already-locked pages between guard pages ([`securememory::SecretFactory::with_scratch`]), writes the key
///   there, uses it, wipes it and seals the page again: the same property without a mapping per encrypt. On
///   decrypt the unwrapped data-row key is held in a zeroized stack buffer for the one call, as in the other
///   modes (Go holds it in a heap slice it clears after use).
/// * **StackDataRowKey**: cached keys as above. The data-row key (which protects exactly one record, and whose
///   ciphertext sits next to the data anyway) exists in plaintext only on the encrypting thread's stack for the
///   duration of one call and is zeroized on return, including on error and panic paths.
/// * **CachedCipher** (what crates.io `asherah` 1.0 does): the cached key's AES round keys — from which the key is
///   trivially recovered — stay in ordinary heap memory for the life of the cache entry: not locked (may be
///   swapped), readable at all times by anything that can read the process's memory. They are wiped when the
///   entry is dropped. This removes the last syscalls from the hot path at the price of the protection secure
///   memory exists for.
/// * **SecretCachedCipher**: `CachedCipher`'s speed with the key schedules out of other processes' reach. Each
///   cached key's AES key schedule lives in pages of the factory's secure-memory backing
///   ([`securememory::SecretValue`]), not on the heap, and is wiped when the entry is dropped. With the
///   `memfd_secret` backing (Linux ≥ 5.14 with secret memory enabled; `SecretFactory::backing()` says which one a
///   factory uses) the kernel removes those pages from its direct map: other processes cannot read them, nor can
///   `/proc/PID/mem`, `ptrace` or `process_vm_readv` (root included), nor a kernel bug that reads memory through
///   the direct map; they are locked (never swapped), left out of core dumps and not inherited by a `fork`ed
///   child. What it does **not** protect against: reads from inside this process. The schedule stays mapped
///   readable at all times (no `PROT_NONE` window per access, which is why it costs no syscall), so a memory
///   disclosure in this process (an over-read, a compromised dependency) can read it while idle, exactly as with
///   `CachedCipher`. On a kernel without `memfd_secret` the backing is mmap + mlock: locked and dump-excluded, but
///   readable through `/proc/PID/mem` and `ptrace` by whoever may trace the process. The key bytes themselves stay
///   in secure memory as in the other modes; the data-row key is handled as in `StackDataRowKey`.
///
/// In every mode a key schedule built for one call (the data-row key's; the system or intermediate key's outside
/// the cached-cipher modes) is built on the calling thread's stack, inside the key's access window, and wiped on
/// return, by either AEAD backend. Copies that building and using it leave in dead frames lower on that stack
/// (the AES libraries return schedules by value, and Rust moves by copying) are overwritten before the window
/// closes, and so are those a key load leaves (creating or decrypting a system or intermediate key): the crate
/// zeroes the stack below each such call.
///
/// **What a core dump holds, per mode** (shown by the crash-dump test, `tests/crash_dump.rs`, which aborts a
/// process in the middle of an encrypt and searches its core for every key; core dumps are off by default, see
/// [`securememory::SecretFactory`]):
///
/// | in the core | `ProtectedDataRowKey` | `StackDataRowKey` | `CachedCipher` | `SecretCachedCipher` |
/// |---|---|---|---|---|
/// | system and intermediate keys | no | no | yes: their schedules are heap memory | no (schedules in dump-excluded pages) |
/// | the data-row key of an encrypt in progress | no | yes, on the encrypting thread's stack | yes, as `StackDataRowKey` | yes, as `StackDataRowKey` |
/// | the random generator's state | no | no | no | no |
///
/// **Default: `StackDataRowKey`.** Secure memory is the reason this library exists, and `StackDataRowKey` keeps
/// every long-lived key in it: a memory disclosure while idle yields nothing cached. What it gives up relative to
/// `ProtectedDataRowKey` is only the data-row key's locked page during one encrypt — a key that is single-use,
/// lives for microseconds on the encrypting thread's stack, is zeroized on return and is never written anywhere
/// in plaintext (the stack page could in principle be swapped out or land in a core dump, which the factory
/// disables by default) — and in exchange it saves one protection window (two `mprotect` calls, about half of a
/// hot encrypt on Linux). `CachedCipher` and `SecretCachedCipher` are faster still, but they keep the
/// intermediate and system keys' schedules permanently readable by this process (and, for `CachedCipher`, by
/// anything that can read its memory), which secure memory's no-access-while-idle exists to prevent; choose them
/// knowingly.
///
/// **The random generator's state, in every mode.** Data-row keys and nonces come from the per-thread generator
/// ([`ThreadLocalRandom`](crate::ThreadLocalRandom)); system and intermediate keys come straight from the OS
/// ([`OsRandom`](crate::OsRandom)), so no generator state ever determines them. Each thread's state (a 32-byte
/// AES key and up to 512 not yet served output bytes) lives in locked, `MADV_DONTDUMP`, wiped-on-fork memory,
/// but it is *not* `PROT_NONE` while idle: a read of the process's memory (not a core dump) while idle reveals
/// that thread's future output up to its next reseed from the OS, which comes after at most 64 KiB of output: the
/// data-row keys and nonces of at most about 1,200 following encrypts on that thread, and so those records'
/// plaintext. It reveals no earlier output (served bytes are wiped, and the key is replaced at every refill), no
/// output after the reseed, no other thread's output, and no system or intermediate key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum KeyMode {
    /// Mode (a), Go's: data-row keys in secure memory too.
    ProtectedDataRowKey,
    /// Mode (b), the default: data-row keys in a zeroized stack buffer.
    #[default]
    StackDataRowKey,
    /// Mode (c), crates.io `asherah` 1.0's: an expanded key schedule cached beside each protected key.
    CachedCipher,
    /// Mode (d): as (c), with each cached key schedule in secret-memory pages (`memfd_secret` where available).
    SecretCachedCipher,
}

/// How keys expire, rotate and are cached (docs/compatibility.md#crypto-policy). Construct with
/// [`CryptoPolicy::default`] and adjust with the `with_*` methods, or set fields directly (as Go code does).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CryptoPolicy {
    /// System and intermediate keys older than this are expired (rotated on the next encrypt). Default 90 days.
    pub expire_key_after: Duration,
    /// A cached key is re-read from the metastore after this long, to notice revocation. Default 60 minutes.
    pub revoke_check_interval: Duration,
    /// New system and intermediate keys get `created` truncated to this precision (zero: none). Default 1 minute.
    pub create_date_precision: Duration,
    /// Cache system keys (one cache per factory). Default true.
    pub cache_system_keys: bool,
    /// Cache intermediate keys (one cache per session unless shared). Default true.
    pub cache_intermediate_keys: bool,
    /// Capacity of the intermediate key cache (ignored by [`EvictionPolicy::Simple`]). Default 1000.
    pub intermediate_key_cache_max_size: usize,
    /// Eviction policy of the intermediate key cache. Default [`EvictionPolicy::Simple`] (unbounded).
    pub intermediate_key_cache_eviction_policy: EvictionPolicy,
    /// One intermediate key cache for all sessions of a factory. Default false. As in Go
    /// (docs/compatibility.md#q4-a-shared-ik-cache-ignores-dont-cache-iks) this is honoured even when
    /// `cache_intermediate_keys` is false.
    pub shared_intermediate_key_cache: bool,
    /// Capacity of the system key cache (ignored by [`EvictionPolicy::Simple`]). Default 1000.
    pub system_key_cache_max_size: usize,
    /// Eviction policy of the system key cache. Default [`EvictionPolicy::Simple`].
    pub system_key_cache_eviction_policy: EvictionPolicy,
    /// Cache sessions per partition in the factory. Default false.
    pub cache_sessions: bool,
    /// Session cache capacity (≥ 1). Default 1000.
    pub session_cache_max_size: usize,
    /// Session cache entry lifetime, counted from insertion
    /// (docs/compatibility.md#q6-session-lifetime-counts-from-insertion, kept for parity); zero: no expiry. Default
    /// 2 h.
    pub session_cache_duration: Duration,
    /// Session cache eviction policy. Default [`EvictionPolicy::Slru`]; `Simple` is not allowed here.
    pub session_cache_eviction_policy: EvictionPolicy,
    /// Where plaintext keys live while cached and used. Default [`KeyMode::StackDataRowKey`].
    pub key_mode: KeyMode,
    /// Every metastore and KMS call fails with [`Error::Deadline`](crate::Error::Deadline) if it has not answered
    /// within this long (nothing is cached or written for it). Must be above zero. Default
    /// [`DEFAULT_BACKEND_CALL_DEADLINE`] (10 s). Async callers need a tokio runtime with its timer enabled.
    pub backend_call_deadline: Duration,
    /// A failed key load (no such version, a backend error or missed deadline) is remembered this long; until
    /// then lookups of that key fail at once with [`Error::LoadFailedRecently`](crate::Error::LoadFailedRecently)
    /// instead of asking the backend again. Zero: never remembered. Default
    /// [`DEFAULT_FAILED_LOAD_CACHE_DURATION`] (1 s).
    pub failed_load_cache_duration: Duration,
}

impl Default for CryptoPolicy {
    fn default() -> Self {
        CryptoPolicy {
            expire_key_after: DEFAULT_EXPIRE_AFTER,
            revoke_check_interval: DEFAULT_REVOKE_CHECK_INTERVAL,
            create_date_precision: DEFAULT_CREATE_DATE_PRECISION,
            cache_system_keys: true,
            cache_intermediate_keys: true,
            intermediate_key_cache_max_size: DEFAULT_KEY_CACHE_MAX_SIZE,
            intermediate_key_cache_eviction_policy: EvictionPolicy::Simple,
            shared_intermediate_key_cache: false,
            system_key_cache_max_size: DEFAULT_KEY_CACHE_MAX_SIZE,
            system_key_cache_eviction_policy: EvictionPolicy::Simple,
            cache_sessions: false,
            session_cache_max_size: DEFAULT_SESSION_CACHE_MAX_SIZE,
            session_cache_duration: DEFAULT_SESSION_CACHE_DURATION,
            session_cache_eviction_policy: EvictionPolicy::Slru,
            key_mode: KeyMode::default(),
            backend_call_deadline: DEFAULT_BACKEND_CALL_DEADLINE,
            failed_load_cache_duration: DEFAULT_FAILED_LOAD_CACHE_DURATION,
        }
    }
}

impl CryptoPolicy {
    /// Go's `WithExpireAfterDuration`.
    pub fn with_expire_after(mut self, d: Duration) -> Self {
        self.expire_key_after = d;
        self
    }

    /// Go's `WithRevokeCheckInterval`.
    pub fn with_revoke_check_interval(mut self, d: Duration) -> Self {
        self.revoke_check_interval = d;
        self
    }

    /// Set `create_date_precision` (Go has no option; its field is set directly).
    pub fn with_create_date_precision(mut self, d: Duration) -> Self {
        self.create_date_precision = d;
        self
    }

    /// Go's `WithNoCache`: turn off both key caches (session caching and the shared IK cache are untouched).
    pub fn with_no_cache(mut self) -> Self {
        self.cache_system_keys = false;
        self.cache_intermediate_keys = false;
        self
    }

    /// Go's `WithSharedIntermediateKeyCache(capacity)`.
    pub fn with_shared_intermediate_key_cache(mut self, capacity: usize) -> Self {
        self.shared_intermediate_key_cache = true;
        self.intermediate_key_cache_max_size = capacity;
        self
    }

    /// Eviction policy for the intermediate key cache.
    pub fn with_intermediate_key_cache_eviction_policy(mut self, policy: EvictionPolicy) -> Self {
        self.intermediate_key_cache_eviction_policy = policy;
        self
    }

    /// Eviction policy and capacity for the system key cache.
    pub fn with_system_key_cache(mut self, policy: EvictionPolicy, capacity: usize) -> Self {
        self.system_key_cache_eviction_policy = policy;
        self.system_key_cache_max_size = capacity;
        self
    }

    /// Go's `WithSessionCache`.
    pub fn with_session_cache(mut self) -> Self {
        self.cache_sessions = true;
        self
    }

    /// Go's `WithSessionCacheMaxSize`.
    pub fn with_session_cache_max_size(mut self, n: usize) -> Self {
        self.session_cache_max_size = n;
        self
    }

    /// Go's `WithSessionCacheDuration`.
    pub fn with_session_cache_duration(mut self, d: Duration) -> Self {
        self.session_cache_duration = d;
        self
    }

    /// Session cache eviction policy.
    pub fn with_session_cache_eviction_policy(mut self, policy: EvictionPolicy) -> Self {
        self.session_cache_eviction_policy = policy;
        self
    }

    /// Where keys live while cached (see [`KeyMode`]).
    pub fn with_key_mode(mut self, mode: KeyMode) -> Self {
        self.key_mode = mode;
        self
    }

    /// The deadline of every metastore and KMS call (see [`backend_call_deadline`](Self::backend_call_deadline)).
    pub fn with_backend_call_deadline(mut self, d: Duration) -> Self {
        self.backend_call_deadline = d;
        self
    }

    /// How long a failed key load is remembered (see
    /// [`failed_load_cache_duration`](Self::failed_load_cache_duration)).
    pub fn with_failed_load_cache_duration(mut self, d: Duration) -> Self {
        self.failed_load_cache_duration = d;
        self
    }

    /// Whether a key created at `created` (unix seconds) is expired at `now` (strictly after, docs/compatibility.md#expiry-and-revocation).
    pub(crate) fn is_expired(&self, created: i64, now: Duration) -> bool {
        let created_ns = i128::from(created) * 1_000_000_000;
        let now_ns = i128::try_from(now.as_nanos()).unwrap_or(i128::MAX);
        now_ns
            > created_ns.saturating_add(
                i128::try_from(self.expire_key_after.as_nanos()).unwrap_or(i128::MAX),
            )
    }

    /// `created` for a new system or intermediate key: `now` truncated the way Go's `time.Time.Truncate` does
    /// (multiples of the precision counted from 0001-01-01, docs/compatibility.md#created-timestamps), in unix
    /// seconds.
    pub(crate) fn truncated_created(&self, now: Duration) -> i64 {
        truncate_go(now, self.create_date_precision)
    }
}

/// Seconds from 0001-01-01T00:00:00Z (Go's zero time) to the unix epoch.
const GO_ZERO_TO_UNIX_SECS: i128 = 62_135_596_800;

/// Go's `time.Unix(now).Truncate(precision).Unix()`: round down to a multiple of `precision` measured from Go's
/// zero time. For precisions that divide a day this equals `unix - unix % precision`; for a week it aligns to
/// Mondays (docs/compatibility.md#created-timestamps).
pub(crate) fn truncate_go(now: Duration, precision: Duration) -> i64 {
    let secs = i128::from(now.as_secs());
    let precision_ns = i128::try_from(precision.as_nanos()).unwrap_or(i128::MAX);
    let result = if precision_ns <= 0 {
        secs
    } else {
        let total_ns =
            (secs + GO_ZERO_TO_UNIX_SECS) * 1_000_000_000 + i128::from(now.subsec_nanos());
        let truncated_ns = total_ns - total_ns.rem_euclid(precision_ns);
        truncated_ns.div_euclid(1_000_000_000) - GO_ZERO_TO_UNIX_SECS
    };
    i64::try_from(result).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_700_000_123;

    #[test]
    fn truncation_matches_the_spec_examples() {
        let now = Duration::from_secs(NOW) + Duration::from_millis(999);
        assert_eq!(truncate_go(now, Duration::from_secs(60)), 1_700_000_100);
        assert_eq!(truncate_go(now, Duration::from_secs(3600)), 1_699_999_200);
        assert_eq!(truncate_go(now, Duration::from_secs(86_400)), 1_699_920_000);
        assert_eq!(
            truncate_go(now, Duration::from_secs(7 * 86_400)),
            1_699_833_600
        );
        assert_eq!(truncate_go(now, Duration::ZERO), 1_700_000_123);
        assert_eq!(truncate_go(now, Duration::from_secs(1)), 1_700_000_123);
    }

    #[test]
    fn defaults_match_go() {
        let p = CryptoPolicy::default();
        assert_eq!(p.expire_key_after, Duration::from_secs(2160 * 3600));
        assert_eq!(p.revoke_check_interval, Duration::from_secs(3600));
        assert_eq!(p.create_date_precision, Duration::from_secs(60));
        assert!(p.cache_system_keys && p.cache_intermediate_keys);
        assert!(!p.shared_intermediate_key_cache && !p.cache_sessions);
        assert_eq!(
            (
                p.intermediate_key_cache_max_size,
                p.system_key_cache_max_size
            ),
            (1000, 1000)
        );
        assert_eq!(
            p.intermediate_key_cache_eviction_policy,
            EvictionPolicy::Simple
        );
        assert_eq!(p.session_cache_eviction_policy, EvictionPolicy::Slru);
        assert_eq!(
            (p.session_cache_max_size, p.session_cache_duration),
            (1000, Duration::from_secs(7200))
        );
        assert_eq!(p.key_mode, KeyMode::StackDataRowKey);
    }

    #[test]
    fn options_apply_like_gos() {
        let p = CryptoPolicy::default().with_no_cache();
        assert!(!p.cache_system_keys && !p.cache_intermediate_keys && !p.cache_sessions);
        let p = CryptoPolicy::default()
            .with_shared_intermediate_key_cache(42)
            .with_session_cache()
            .with_session_cache_max_size(7);
        assert!(p.shared_intermediate_key_cache && p.cache_sessions);
        assert_eq!(
            (p.intermediate_key_cache_max_size, p.session_cache_max_size),
            (42, 7)
        );
    }

    #[test]
    fn expiry_is_strictly_after() {
        let p = CryptoPolicy::default().with_expire_after(Duration::from_secs(100));
        assert!(!p.is_expired(1000, Duration::from_secs(1100)));
        assert!(p.is_expired(1000, Duration::from_secs(1100) + Duration::from_nanos(1)));
        assert!(!p.is_expired(1000, Duration::from_secs(999)));
    }
}
