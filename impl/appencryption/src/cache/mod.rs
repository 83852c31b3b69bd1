//! Caches: the generic bounded engine and its eviction policies (docs/compatibility.md#caches), the key cache and
//! the session cache built on them.
//!
//! **Why hand-written rather than `moka`, `quick_cache` or `lru`.** The lab compares hit ratios and metastore traffic
//! with Go for the same traces, so the engine must pick the *same victims* as Go: LRU/SLRU/LFU orders as in
//! docs/compatibility.md#eviction-policies, and TinyLFU with Go's window (1%), SLRU split (80%), 4-bit Count-Min
//! sketch, doorkeeper sizing and FNV-1a key hash. `moka` implements its own TinyLFU (admission on insert, its own
//! sketch and hash, no SLRU main space, no LFU/SLRU) and delivers eviction notifications on its own schedule;
//! `quick_cache` is a CLOCK-Pro/S3-FIFO variant with no victim order to match; neither evicts *everything through
//! the policy* on close, expires lazily on `get` only from insertion, or runs callbacks inline-after-unlock vs. on
//! one ordered worker as Go's `Synchronous()` flag selects. `lru` matches our LRU policy exactly but is a complete
//! map+list of its own: using it for one policy would add a second hash lookup per operation next to the engine's
//! map, while SLRU, TinyLFU's window and LFU's buckets need the same index-based list anyway ([`eviction::list`]),
//! on which LRU is twenty lines.

#[cfg(feature = "test-util")]
pub(crate) mod bench_support;
pub(crate) mod bounded;
pub(crate) mod eviction;
mod failed_loads;
pub(crate) mod key_cache;
#[cfg(all(test, loom))]
mod key_cache_loom;
#[cfg(all(test, not(loom)))]
mod key_cache_tests;
mod load_gates;
pub(crate) mod session_cache;
pub(crate) mod session_usage;
#[cfg(all(test, loom))]
mod session_usage_loom;
pub(crate) mod store;
mod worker;
