//! The AES-GCM routes each backend takes, chosen once per process by timing them on this CPU.
//!
//! A one-shot key (a data-row key, used for one message) pays its key set-up on every call, and for the short
//! payloads Asherah mostly sees the set-up is most of the call. Which implementation is fastest depends on the CPU
//! and the length: ring's bulk encryption is the fastest for long payloads, but its key set-up is not cheap (about
//! 130 ns on the lab's AMD machines); the workspace's `aesni-gcm` (x86-64 AES-NI and CLMUL) has a set-up a fraction
//! of that; RustCrypto's `aes-gcm` runs everywhere. A constant tuned on one machine loses on another, hence a
//! calibration per backend, run once per process when the first factory with that backend is built (or on first
//! use, or on [`crypto_path`]):
//!
//! * **`RingBackend`, one-shot keys:** the short route (`aes-ni` where the CPU runs it, else `aes-gcm`) against
//!   ring; ring from the shortest length at which it is not slower, ties to ring (the backend the caller chose).
//! * **`AesGcmBackend`, one-shot keys:** `aes-ni` against `aes-gcm`, the same way; ties to `aes-gcm`. **Its key
//!   schedules** (the system and intermediate keys, which only ever wrap and unwrap 32-byte keys): `aes-ni` only if
//!   it is faster, beyond a tie, both at building a schedule and using it once (the default key mode builds one per
//!   use) and at using a built one (the cached modes). On a CPU without `aes-ni` there is nothing to choose.
//!
//! How each is timed: [`ROUNDS`] rounds (fewer past [`BUDGET`], never under [`MIN_ROUNDS`]); in each, for each
//! length in [`LADDER`], [`BATCH`] seals and then [`BATCH`] opens by each route, the routes alternating so that
//! drift on a shared machine hits both; each cell keeps its minimum over the rounds (noise, such as preemption,
//! only ever adds time); seal and open are chosen separately ([`choose`]).
//!
//! The two take 1–2 ms together on the lab's machines ([`CryptoPath`] reports how long), and its result is logged once
//! (`tracing`, info). Every route produces the same bytes (the backend tests check both sides of every switch
//! point), so the choice changes speed only.

use std::fmt;
use std::time::Duration;

#[cfg(feature = "ring")]
use super::ring_backend;
use super::{AEAD_OVERHEAD, Error, NONCE_LEN, aes_gcm_backend, aes_ni};

/// Payload lengths the calibration measures, in bytes. Up to 16 KiB: a route is only ever used at lengths up to
/// the longest it was measured at and won (beyond the ladder, the longest rung's choice holds), and a short route
/// that wins at 1 KiB can lose at 16 KiB (`aesni-gcm`'s GHASH against ring's, measured in the lab's REPORT.md).
pub(crate) const LADDER: [usize; 11] = [0, 32, 64, 96, 128, 192, 256, 512, 1024, 4096, 16384];
/// Calibration rounds at most; each cell keeps the minimum.
pub(crate) const ROUNDS: usize = 7;
/// Calibration rounds at least, whatever [`BUDGET`] says.
pub(crate) const MIN_ROUNDS: usize = 3;
/// No round starts after this much calibration time once [`MIN_ROUNDS`] are done (an optimised build needs about
/// 1.5 ms for all [`ROUNDS`] of one backend; a debug build or a starved machine stops early).
pub(crate) const BUDGET: Duration = Duration::from_millis(3);
/// Operations timed together per cell and round (one clock read pair per batch).
pub(crate) const BATCH: usize = 4;
/// Relative difference under which two timings count as equal; a tie goes to the long route (ring, or `aes-gcm` in
/// the default backend).
pub(crate) const TIE: f64 = 0.03;

/// One implementation of the one-shot route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OneShotPath {
    /// RustCrypto's `aes-gcm`: the default backend's long route, and ring's short route on CPUs without AES-NI and
    /// CLMUL.
    AesGcm,
    /// `ring` (fast bulk encryption).
    Ring,
    /// The crate `aesni-gcm` (x86-64 AES-NI and CLMUL; cheap key set-up): the short route where the CPU runs it.
    /// Asked for on a CPU without it, it seals and opens by `aes-gcm` (the same bytes).
    AesNi,
}

impl OneShotPath {
    /// The route with the cheap key set-up on this CPU: [`AesNi`](Self::AesNi) where `aesni-gcm` runs, else
    /// [`AesGcm`](Self::AesGcm).
    pub fn short() -> OneShotPath {
        if aesni_gcm::AesNiGcm::detect().is_some() {
            OneShotPath::AesNi
        } else {
            OneShotPath::AesGcm
        }
    }
}

impl fmt::Display for OneShotPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OneShotPath::AesGcm => "aes-gcm",
            OneShotPath::Ring => "ring",
            OneShotPath::AesNi => "aes-ni",
        })
    }
}

/// The operation a calibration cell times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Seal,
    Open,
}

/// Where one operation (seal or open) switches from a short route (cheap key set-up) to a long one (fast bulk):
/// payloads of `long_from` bytes or more take the long route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OneShotSwitch {
    short: OneShotPath,
    long: OneShotPath,
    long_from: usize,
}

impl OneShotSwitch {
    /// `path` for every length.
    pub(crate) const fn only(path: OneShotPath) -> OneShotSwitch {
        OneShotSwitch {
            short: path,
            long: path,
            long_from: usize::MAX,
        }
    }

    /// The shortest payload that takes the long route (`None`: the long route never won up to the longest length
    /// measured, so every payload takes the short one).
    pub fn long_from(&self) -> Option<usize> {
        (self.long_from != usize::MAX).then_some(self.long_from)
    }

    /// The route for payloads shorter than [`long_from`](Self::long_from).
    pub fn short(&self) -> OneShotPath {
        self.short
    }

    /// The route from [`long_from`](Self::long_from) on.
    pub fn long(&self) -> OneShotPath {
        self.long
    }

    /// The route for a payload (plaintext) of `len` bytes.
    #[inline]
    pub fn path(&self, len: usize) -> OneShotPath {
        if len >= self.long_from {
            self.long
        } else {
            self.short
        }
    }
}

impl fmt::Display for OneShotSwitch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.long_from() {
            Some(0) => write!(f, "{} for every length", self.long),
            Some(n) => write!(f, "{} below {n} B, {} from {n} B", self.short, self.long),
            None => write!(f, "{} for every length", self.short),
        }
    }
}

/// The AES-GCM routes this process takes, for a report header or a log: see [`crypto_path`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CryptoPath {
    aes_gcm: AesGcmRoutes,
    ring: Option<RingRoutes>,
}

/// `AesGcmBackend`'s calibrated routes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct AesGcmRoutes {
    pub(crate) seal: OneShotSwitch,
    pub(crate) open: OneShotSwitch,
    /// The implementation of its key schedules (`AeadBackend::cipher`).
    pub(crate) schedules: OneShotPath,
    /// `None` where there was nothing to choose (no `aes-ni` on this CPU).
    pub(crate) calibration: Option<Duration>,
}

/// `RingBackend`'s calibrated one-shot routes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RingRoutes {
    pub(crate) seal: OneShotSwitch,
    pub(crate) open: OneShotSwitch,
    pub(crate) calibration: Duration,
}

impl CryptoPath {
    /// How `AesGcmBackend` seals under a one-shot key, by length.
    pub fn aes_gcm_seal_once(&self) -> OneShotSwitch {
        self.aes_gcm.seal
    }

    /// As [`aes_gcm_seal_once`](Self::aes_gcm_seal_once), for opening.
    pub fn aes_gcm_open_once(&self) -> OneShotSwitch {
        self.aes_gcm.open
    }

    /// Which implementation holds `AesGcmBackend`'s key schedules ([`OneShotPath::AesGcm`] or
    /// [`OneShotPath::AesNi`]).
    pub fn aes_gcm_schedules(&self) -> OneShotPath {
        self.aes_gcm.schedules
    }

    /// How `RingBackend` seals under a one-shot key, by length (`None` without the `ring` feature).
    pub fn ring_seal_once(&self) -> Option<OneShotSwitch> {
        self.ring.map(|r| r.seal)
    }

    /// As [`ring_seal_once`](Self::ring_seal_once), for opening.
    pub fn ring_open_once(&self) -> Option<OneShotSwitch> {
        self.ring.map(|r| r.open)
    }

    /// How long the calibrations took, together.
    pub fn calibration(&self) -> Duration {
        self.aes_gcm.calibration.unwrap_or_default()
            + self.ring.map_or(Duration::ZERO, |r| r.calibration)
    }
}

impl fmt::Display for CryptoPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let a = &self.aes_gcm;
        write!(
            f,
            "aes-gcm backend: one-shot keys seal {}, open {}; key schedules {}",
            a.seal, a.open, a.schedules
        )?;
        match self.ring {
            None => f.write_str("; ring backend not compiled in")?,
            Some(r) => write!(
                f,
                "; ring backend one-shot keys: seal {}, open {}",
                r.seal, r.open
            )?,
        }
        write!(
            f,
            " (calibrated in {:.2} ms)",
            self.calibration().as_secs_f64() * 1e3
        )
    }
}

/// The AES-GCM routes of this process. Runs each backend's calibration that has not run yet (about 1.5 ms each on
/// the lab's machines, once per process).
pub fn crypto_path() -> CryptoPath {
    CryptoPath {
        aes_gcm: *calibration::aes_gcm_calibrated(),
        #[cfg(feature = "ring")]
        ring: Some(*calibration::ring_calibrated()),
        #[cfg(not(feature = "ring"))]
        ring: None,
    }
}

pub(crate) use calibration::aes_gcm_calibrated;
#[cfg(feature = "test-util")]
pub(crate) use calibration::pin_aes_gcm;
#[cfg(feature = "ring")]
pub(crate) use calibration::ring_calibrated;

/// Seal under a one-shot key by `path`, whatever the calibration chose (the backends' `seal_once` pass their
/// choice; the calibration and the benches time each route).
#[inline]
pub(crate) fn seal_once_via(
    path: OneShotPath,
    key: &[u8],
    nonce: &[u8; NONCE_LEN],
    plaintext: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    match path {
        OneShotPath::AesNi => aes_ni::seal_once(key, nonce, plaintext, out),
        #[cfg(feature = "ring")]
        OneShotPath::Ring => ring_backend::seal_once_ring(key, nonce, plaintext, out),
        // Without the `ring` feature no calibration chooses ring; the same bytes by `aes-gcm`.
        #[cfg(not(feature = "ring"))]
        OneShotPath::Ring => aes_gcm_backend::seal_once_rust_crypto(key, nonce, plaintext, out),
        OneShotPath::AesGcm => aes_gcm_backend::seal_once_rust_crypto(key, nonce, plaintext, out),
    }
}

/// Seal under a one-shot key by the route `switch` gives this plaintext's length (a backend's `seal_once`).
#[inline]
pub(crate) fn seal_once_by(
    switch: OneShotSwitch,
    key: &[u8],
    nonce: &[u8; NONCE_LEN],
    plaintext: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    seal_once_via(switch.path(plaintext.len()), key, nonce, plaintext, out)
}

/// As [`seal_once_by`], opening: by the length of the plaintext the blob holds.
#[inline]
pub(crate) fn open_once_by(
    switch: OneShotSwitch,
    key: &[u8],
    blob: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    let path = switch.path(blob.len().saturating_sub(AEAD_OVERHEAD));
    open_once_via(path, key, blob, out)
}

/// As [`seal_once_via`], opening.
#[inline]
pub(crate) fn open_once_via(
    path: OneShotPath,
    key: &[u8],
    blob: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    match path {
        OneShotPath::AesNi => aes_ni::open_once(key, blob, out),
        #[cfg(feature = "ring")]
        OneShotPath::Ring => ring_backend::open_once_ring(key, blob, out),
        #[cfg(not(feature = "ring"))]
        OneShotPath::Ring => aes_gcm_backend::open_once_rust_crypto(key, blob, out),
        OneShotPath::AesGcm => aes_gcm_backend::open_once_rust_crypto(key, blob, out),
    }
}

/// The switch point for one operation from the per-length minimum timings `(len, short, long)`, sorted by length:
/// `long` from the shortest length at which it is not slower (within [`TIE`]) there and at every longer length,
/// `short` below it.
pub(crate) fn choose(
    short: OneShotPath,
    long: OneShotPath,
    cells: &[(usize, Duration, Duration)],
) -> OneShotSwitch {
    let mut long_from = usize::MAX;
    for &(len, short_time, long_time) in cells.iter().rev() {
        if long_time.as_secs_f64() > short_time.as_secs_f64() * (1.0 + TIE) {
            break;
        }
        long_from = len;
    }
    if long_from == usize::MAX {
        return OneShotSwitch::only(short);
    }
    if cells.first().is_some_and(|&(len, ..)| len == long_from) {
        return OneShotSwitch::only(long);
    }
    OneShotSwitch {
        short,
        long,
        long_from,
    }
}

/// Run the calibration of `short` against `long`, with `time(path, op, len)` returning the time of one batch of
/// [`BATCH`] operations, and choose the seal and open switches.
pub(crate) fn calibrate_with(
    short: OneShotPath,
    long: OneShotPath,
    mut time: impl FnMut(OneShotPath, Op, usize) -> Duration,
) -> (OneShotSwitch, OneShotSwitch) {
    let mut seal = [(0, Duration::MAX, Duration::MAX); LADDER.len()];
    let mut open = seal;
    let started = std::time::Instant::now();
    for round in 0..ROUNDS {
        if round >= MIN_ROUNDS && started.elapsed() > BUDGET {
            break;
        }
        // Alternate which route goes first, so neither always runs on the warmer cache.
        let order = if round % 2 == 0 {
            [short, long]
        } else {
            [long, short]
        };
        for (i, &len) in LADDER.iter().enumerate() {
            for (op, cells) in [(Op::Seal, &mut seal), (Op::Open, &mut open)] {
                for path in order {
                    let t = time(path, op, len);
                    let cell = &mut cells[i];
                    cell.0 = len;
                    if path == long {
                        cell.2 = cell.2.min(t);
                    } else {
                        cell.1 = cell.1.min(t);
                    }
                }
            }
        }
    }
    (choose(short, long, &seal), choose(short, long, &open))
}

/// Whether key schedules should be `aes-ni`'s: from the minimum timings `(build and use once, use a built one)` of
/// `aes-ni` and of `aes-gcm`, only if `aes-ni` is faster beyond [`TIE`] at both.
pub(crate) fn choose_schedules(
    aes_ni: (Duration, Duration),
    aes_gcm: (Duration, Duration),
) -> OneShotPath {
    let faster = |ni: Duration, gcm: Duration| ni.as_secs_f64() * (1.0 + TIE) < gcm.as_secs_f64();
    if faster(aes_ni.0, aes_gcm.0) && faster(aes_ni.1, aes_gcm.1) {
        OneShotPath::AesNi
    } else {
        OneShotPath::AesGcm
    }
}

mod calibration {
    use std::hint::black_box;
    use std::sync::OnceLock;
    use std::time::{Duration, Instant};

    use super::super::{
        AEAD_OVERHEAD, AeadBackend, AesGcmBackend, AesGcmCipher, KEY_LEN, NONCE_LEN,
    };
    #[cfg(feature = "ring")]
    use super::RingRoutes;
    use super::{
        AesGcmRoutes, BATCH, BUDGET, LADDER, MIN_ROUNDS, OneShotPath, OneShotSwitch, Op, ROUNDS,
        calibrate_with, choose_schedules, open_once_via, seal_once_via,
    };

    // Not secrets: a fixed key and nonce for timing only.
    const KEY: [u8; KEY_LEN] = [0x5a; KEY_LEN];
    const NONCE: [u8; NONCE_LEN] = [0xa5; NONCE_LEN];

    static AES_GCM: OnceLock<AesGcmRoutes> = OnceLock::new();
    #[cfg(feature = "ring")]
    static RING: OnceLock<RingRoutes> = OnceLock::new();

    /// `AesGcmBackend`'s routes, calibrating on first use.
    #[inline]
    pub(crate) fn aes_gcm_calibrated() -> &'static AesGcmRoutes {
        AES_GCM.get_or_init(calibrate_aes_gcm)
    }

    /// Fix `AesGcmBackend`'s routes to `path` for every length and its schedules, without timing anything, unless a
    /// calibration already ran in this process; returns whether it took effect. `AesNi` on a CPU without it pins
    /// `aes-gcm`. For instruction counts that do not depend on a timing (the regression gate, under valgrind).
    #[cfg(feature = "test-util")]
    pub(crate) fn pin_aes_gcm(path: OneShotPath) -> bool {
        let path = match path {
            OneShotPath::AesNi if OneShotPath::short() == OneShotPath::AesNi => OneShotPath::AesNi,
            _ => OneShotPath::AesGcm,
        };
        AES_GCM
            .set(AesGcmRoutes {
                seal: OneShotSwitch::only(path),
                open: OneShotSwitch::only(path),
                schedules: path,
                calibration: None,
            })
            .is_ok()
    }

    /// `RingBackend`'s one-shot routes, calibrating on first use.
    #[cfg(feature = "ring")]
    #[inline]
    pub(crate) fn ring_calibrated() -> &'static RingRoutes {
        RING.get_or_init(calibrate_ring)
    }

    /// Time one-shot seals and opens by `short` against `long` over the ladder (see the module documentation).
    /// `None` if a route failed, which cannot happen with a 32-byte key and blobs sealed here.
    fn one_shot(short: OneShotPath, long: OneShotPath) -> Option<(OneShotSwitch, OneShotSwitch)> {
        let longest = LADDER[LADDER.len() - 1];
        let plaintext = vec![0u8; longest];
        let mut blobs = Vec::with_capacity(LADDER.len());
        for &len in &LADDER {
            let mut blob = Vec::with_capacity(len + AEAD_OVERHEAD);
            seal_once_via(
                OneShotPath::AesGcm,
                &KEY,
                &NONCE,
                &plaintext[..len],
                &mut blob,
            )
            .ok()?;
            blobs.push((len, blob));
        }
        let mut out = Vec::with_capacity(longest + AEAD_OVERHEAD);
        let mut failed = false;
        let chosen = calibrate_with(short, long, |path, op, len| {
            let blob = blobs
                .iter()
                .find(|(l, _)| *l == len)
                .map(|(_, b)| b.as_slice());
            let begun = Instant::now();
            for _ in 0..BATCH {
                out.clear();
                let done = match (op, blob) {
                    (Op::Seal, _) => seal_once_via(path, &KEY, &NONCE, &plaintext[..len], &mut out),
                    (Op::Open, Some(blob)) => open_once_via(path, &KEY, blob, &mut out),
                    (Op::Open, None) => Err(crate::Error::DecryptionFailed),
                };
                failed |= done.is_err();
                black_box(out.len());
            }
            begun.elapsed()
        });
        (!failed).then_some(chosen)
    }

    /// Time `AesGcmBackend`'s key schedules by each implementation: building one and wrapping and unwrapping a
    /// 32-byte key with it, and wrapping and unwrapping with one built before; minimum per cell over the rounds.
    fn schedules() -> Option<OneShotPath> {
        let paths = [OneShotPath::AesNi, OneShotPath::AesGcm];
        let built = [
            AesGcmCipher::by(OneShotPath::AesNi, &KEY).ok()?,
            AesGcmCipher::by(OneShotPath::AesGcm, &KEY).ok()?,
        ];
        let mut blob = Vec::with_capacity(KEY_LEN + AEAD_OVERHEAD);
        AesGcmBackend
            .seal_into(&built[1], &NONCE, &KEY, &mut blob)
            .ok()?;
        let mut out = Vec::with_capacity(KEY_LEN + AEAD_OVERHEAD);
        let mut key_out = zeroize::Zeroizing::new([0u8; KEY_LEN]);
        let mut failed = false;
        // Wrap and unwrap a 32-byte key once; whether either failed.
        let use_once = |cipher: &AesGcmCipher, out: &mut Vec<u8>, key_out: &mut [u8; KEY_LEN]| {
            out.clear();
            let sealed = AesGcmBackend.seal_into(cipher, &NONCE, &KEY, out);
            let opened = AesGcmBackend.open_key(cipher, &blob, key_out);
            black_box(out.len());
            sealed.is_err() || opened.is_err()
        };
        // (build and use, use a built one) per path.
        let mut cells = [(Duration::MAX, Duration::MAX); 2];
        let started = Instant::now();
        for round in 0..ROUNDS {
            if round >= MIN_ROUNDS && started.elapsed() > BUDGET {
                break;
            }
            for i in if round % 2 == 0 { [0, 1] } else { [1, 0] } {
                let begun = Instant::now();
                for _ in 0..BATCH {
                    failed |= match AesGcmCipher::by(paths[i], &KEY) {
                        Ok(cipher) => use_once(&cipher, &mut out, &mut key_out),
                        Err(_) => true,
                    };
                }
                cells[i].0 = cells[i].0.min(begun.elapsed());
                let begun = Instant::now();
                for _ in 0..BATCH {
                    failed |= use_once(&built[i], &mut out, &mut key_out);
                }
                cells[i].1 = cells[i].1.min(begun.elapsed());
            }
        }
        (!failed).then(|| choose_schedules(cells[0], cells[1]))
    }

    fn calibrate_aes_gcm() -> AesGcmRoutes {
        if OneShotPath::short() != OneShotPath::AesNi {
            return AesGcmRoutes {
                seal: OneShotSwitch::only(OneShotPath::AesGcm),
                open: OneShotSwitch::only(OneShotPath::AesGcm),
                schedules: OneShotPath::AesGcm,
                calibration: None,
            };
        }
        let started = Instant::now();
        let one_shot = one_shot(OneShotPath::AesNi, OneShotPath::AesGcm);
        let schedules = schedules();
        let calibration = started.elapsed();
        let chosen = match (one_shot, schedules) {
            (Some((seal, open)), Some(schedules)) => AesGcmRoutes {
                seal,
                open,
                schedules,
                calibration: Some(calibration),
            },
            _ => {
                tracing::warn!(
                    "AES-GCM calibration failed; the aes-gcm backend uses aes-gcm throughout"
                );
                AesGcmRoutes {
                    seal: OneShotSwitch::only(OneShotPath::AesGcm),
                    open: OneShotSwitch::only(OneShotPath::AesGcm),
                    schedules: OneShotPath::AesGcm,
                    calibration: Some(calibration),
                }
            }
        };
        tracing::info!(
            seal = %chosen.seal,
            open = %chosen.open,
            schedules = %chosen.schedules,
            calibration_us = u64::try_from(calibration.as_micros()).unwrap_or(u64::MAX),
            "aes-gcm backend: AES-GCM routes chosen by calibration"
        );
        chosen
    }

    #[cfg(feature = "ring")]
    fn calibrate_ring() -> RingRoutes {
        let started = Instant::now();
        let chosen = one_shot(OneShotPath::short(), OneShotPath::Ring);
        let calibration = started.elapsed();
        let (seal, open) = chosen.unwrap_or_else(|| {
            tracing::warn!("one-shot AES-GCM calibration failed; using ring for every length");
            (
                OneShotSwitch::only(OneShotPath::Ring),
                OneShotSwitch::only(OneShotPath::Ring),
            )
        });
        tracing::info!(
            %seal,
            %open,
            calibration_us = u64::try_from(calibration.as_micros()).unwrap_or(u64::MAX),
            "ring backend: one-shot (data-row key) AES-GCM route chosen by calibration"
        );
        RingRoutes {
            seal,
            open,
            calibration,
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use std::time::Duration;

        /// The calibration stays within its budget (plus the round in flight; generous for a loaded machine and for
        /// unoptimised test builds, whose rounds take tens of milliseconds), and runs once.
        #[test]
        fn calibration_is_bounded_and_cached() {
            let bound = if cfg!(debug_assertions) {
                Duration::from_secs(2)
            } else {
                Duration::from_millis(50)
            };
            let aes_gcm = aes_gcm_calibrated();
            let took = aes_gcm.calibration.unwrap_or_default();
            assert!(took < bound, "aes-gcm calibration took {took:?}");
            assert!(
                std::ptr::eq(aes_gcm, aes_gcm_calibrated()),
                "calibrated once"
            );
            #[cfg(feature = "ring")]
            {
                let ring = ring_calibrated();
                assert!(
                    ring.calibration < bound,
                    "ring calibration took {:?}",
                    ring.calibration
                );
                assert!(std::ptr::eq(ring, ring_calibrated()), "calibrated once");
            }
        }

        /// Where `aes-ni` runs, the default backend calibrates; elsewhere it takes `aes-gcm` throughout, untimed.
        #[test]
        fn the_aes_gcm_backend_calibrates_only_where_there_is_a_choice() {
            let routes = aes_gcm_calibrated();
            if OneShotPath::short() == OneShotPath::AesNi {
                assert!(routes.calibration.is_some());
            } else {
                assert_eq!(routes.calibration, None);
                assert_eq!(routes.schedules, OneShotPath::AesGcm);
                assert_eq!(routes.seal, OneShotSwitch::only(OneShotPath::AesGcm));
            }
            for path in [routes.seal.short(), routes.seal.long(), routes.schedules] {
                assert_ne!(
                    path,
                    OneShotPath::Ring,
                    "the default backend never takes ring"
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NS: fn(u64) -> Duration = Duration::from_nanos;

    /// A CPU model: per-route set-up and per-byte cost in ns, for `BATCH` ops.
    fn model(
        setup_aes: u64,
        per_kib_aes: u64,
        setup_ring: u64,
        per_kib_ring: u64,
    ) -> impl Fn(OneShotPath, usize) -> Duration {
        move |path, len| {
            let len = len as u64;
            let per_op = match path {
                OneShotPath::Ring => setup_ring + per_kib_ring * len / 1024,
                OneShotPath::AesGcm | OneShotPath::AesNi => setup_aes + per_kib_aes * len / 1024,
            };
            NS(per_op * BATCH as u64)
        }
    }

    #[test]
    fn ring_everywhere_when_its_set_up_is_cheaper_too() {
        // A VAES CPU: ring's key set-up and bulk both cheaper.
        let m = model(140, 480, 120, 150);
        let (seal, open) = calibrate_with(OneShotPath::AesGcm, OneShotPath::Ring, |p, _, len| {
            m(p, len)
        });
        assert_eq!(seal, OneShotSwitch::only(OneShotPath::Ring));
        assert_eq!(open, OneShotSwitch::only(OneShotPath::Ring));
        assert_eq!(seal.path(0), OneShotPath::Ring);
        assert_eq!(seal.to_string(), "ring for every length");
    }

    #[test]
    fn aes_gcm_below_the_crossover_ring_from_it() {
        // Set-up 135 vs 260 ns, bulk 0.47 vs 0.15 ns/B: they meet near 390 B, so ring wins from 512 on the ladder.
        let m = model(135, 480, 260, 150);
        let (seal, _) = calibrate_with(OneShotPath::AesGcm, OneShotPath::Ring, |p, _, len| {
            m(p, len)
        });
        assert_eq!(seal.long_from(), Some(512));
        assert_eq!(seal.path(511), OneShotPath::AesGcm);
        assert_eq!(seal.path(512), OneShotPath::Ring);
        assert_eq!(seal.to_string(), "aes-gcm below 512 B, ring from 512 B");
        // Every measured length takes the faster route.
        for len in LADDER {
            let faster = if m(OneShotPath::Ring, len) <= m(OneShotPath::AesGcm, len) {
                OneShotPath::Ring
            } else {
                OneShotPath::AesGcm
            };
            assert_eq!(seal.path(len), faster, "len {len}");
        }
    }

    #[test]
    fn the_short_route_below_the_switch_is_the_one_calibrated() {
        // aesni-gcm's profile on an AMD CPU: set-up 30 ns, but a serial GHASH; ring: 130 ns set-up, fast bulk. Per
        // op at 64 B: 117 vs 139 ns; at 96 B: 161 vs 144 ns.
        let m = model(30, 1400, 130, 150);
        let (seal, open) =
            calibrate_with(OneShotPath::AesNi, OneShotPath::Ring, |p, _, len| m(p, len));
        assert_eq!(seal, open);
        assert_eq!(seal.short(), OneShotPath::AesNi);
        assert_eq!(seal.long_from(), Some(96));
        assert_eq!(seal.path(64), OneShotPath::AesNi);
        assert_eq!(seal.path(96), OneShotPath::Ring);
        assert_eq!(seal.to_string(), "aes-ni below 96 B, ring from 96 B");
        assert_eq!(
            OneShotSwitch::only(OneShotPath::AesNi).to_string(),
            "aes-ni for every length"
        );
    }

    #[test]
    fn the_short_route_is_aes_ni_exactly_where_aesni_gcm_runs() {
        let expected = if aesni_gcm::AesNiGcm::detect().is_some() {
            OneShotPath::AesNi
        } else {
            OneShotPath::AesGcm
        };
        assert_eq!(OneShotPath::short(), expected);
    }

    #[test]
    fn seal_and_open_are_chosen_separately() {
        let seal_model = model(100, 480, 300, 150);
        let open_model = model(100, 480, 90, 150);
        let (seal, open) =
            calibrate_with(
                OneShotPath::AesGcm,
                OneShotPath::Ring,
                |p, op, len| match op {
                    Op::Seal => seal_model(p, len),
                    Op::Open => open_model(p, len),
                },
            );
        assert_eq!(seal.long_from(), Some(1024));
        assert_eq!(open, OneShotSwitch::only(OneShotPath::Ring));
    }

    #[test]
    fn aes_gcm_everywhere_when_ring_never_wins() {
        let m = model(100, 100, 200, 150);
        let (seal, open) = calibrate_with(OneShotPath::AesGcm, OneShotPath::Ring, |p, _, len| {
            m(p, len)
        });
        assert_eq!(seal, OneShotSwitch::only(OneShotPath::AesGcm));
        assert_eq!(open.long_from(), None);
        assert_eq!(seal.path(usize::MAX - 1), OneShotPath::AesGcm);
        assert_eq!(seal.to_string(), "aes-gcm for every length");
    }

    #[test]
    fn ties_go_to_ring() {
        // Ring 2 % slower at every length: within TIE.
        let m = |p: OneShotPath, len: usize| {
            let base = 200 + len as u64 / 4;
            match p {
                OneShotPath::Ring => NS(base * 102),
                OneShotPath::AesGcm | OneShotPath::AesNi => NS(base * 100),
            }
        };
        let (seal, _) = calibrate_with(OneShotPath::AesGcm, OneShotPath::Ring, |p, _, len| {
            m(p, len)
        });
        assert_eq!(seal, OneShotSwitch::only(OneShotPath::Ring));
    }

    #[test]
    fn spikes_in_some_rounds_do_not_move_the_choice() {
        // Every fifth measurement is preempted (10× slower); as a round has 36 measurements, the spikes hit a
        // different cell each round, and the minimum over the rounds ignores them.
        let m = model(135, 480, 260, 150);
        let mut calls = 0u32;
        let (noisy, _) = calibrate_with(OneShotPath::AesGcm, OneShotPath::Ring, |p, _, len| {
            calls += 1;
            let t = m(p, len);
            if calls.is_multiple_of(5) { t * 10 } else { t }
        });
        let (clean, _) = calibrate_with(OneShotPath::AesGcm, OneShotPath::Ring, |p, _, len| {
            m(p, len)
        });
        assert_eq!(noisy, clean);
        assert_eq!(clean.long_from(), Some(512));
    }

    #[test]
    fn a_blip_in_the_middle_keeps_aes_gcm_below_it() {
        // Ring wins at 32 and 64 but loses at 96 (say, a measurement that stayed slow in every round), and wins
        // from 128 on: ring is used from 128 only, never for a length where it measured slower.
        let cells: Vec<(usize, Duration, Duration)> = LADDER
            .iter()
            .map(|&len| {
                let ring = if len == 96 || len == 0 {
                    NS(400)
                } else {
                    NS(200)
                };
                (len, NS(300), ring)
            })
            .collect();
        assert_eq!(
            choose(OneShotPath::AesGcm, OneShotPath::Ring, &cells).long_from(),
            Some(128)
        );
    }

    #[test]
    fn crypto_path_display_names_every_choice() {
        let p = CryptoPath {
            aes_gcm: AesGcmRoutes {
                seal: OneShotSwitch::only(OneShotPath::AesNi),
                open: OneShotSwitch {
                    short: OneShotPath::AesNi,
                    long: OneShotPath::AesGcm,
                    long_from: 512,
                },
                schedules: OneShotPath::AesNi,
                calibration: Some(Duration::from_micros(400)),
            },
            ring: Some(RingRoutes {
                seal: OneShotSwitch {
                    short: OneShotPath::AesNi,
                    long: OneShotPath::Ring,
                    long_from: 96,
                },
                open: OneShotSwitch::only(OneShotPath::Ring),
                calibration: Duration::from_micros(450),
            }),
        };
        assert_eq!(
            p.to_string(),
            "aes-gcm backend: one-shot keys seal aes-ni for every length, open aes-ni below 512 B, aes-gcm from \
             512 B; key schedules aes-ni; ring backend one-shot keys: seal aes-ni below 96 B, ring from 96 B, open \
             ring for every length (calibrated in 0.85 ms)"
        );
        let without = CryptoPath {
            aes_gcm: AesGcmRoutes {
                seal: OneShotSwitch::only(OneShotPath::AesGcm),
                open: OneShotSwitch::only(OneShotPath::AesGcm),
                schedules: OneShotPath::AesGcm,
                calibration: None,
            },
            ring: None,
        };
        assert_eq!(
            without.to_string(),
            "aes-gcm backend: one-shot keys seal aes-gcm for every length, open aes-gcm for every length; key \
             schedules aes-gcm; ring backend not compiled in (calibrated in 0.00 ms)"
        );
    }

    #[test]
    fn schedules_go_to_aes_ni_only_if_it_is_faster_at_both_uses() {
        let ns = |a, b| (NS(a), NS(b));
        assert_eq!(
            choose_schedules(ns(100, 50), ns(200, 150)),
            OneShotPath::AesNi
        );
        // Faster to build and use, slower once built (or the reverse): aes-gcm.
        assert_eq!(
            choose_schedules(ns(100, 160), ns(200, 150)),
            OneShotPath::AesGcm
        );
        assert_eq!(
            choose_schedules(ns(300, 50), ns(200, 150)),
            OneShotPath::AesGcm
        );
        // Within the tie at either: aes-gcm.
        assert_eq!(
            choose_schedules(ns(198, 50), ns(200, 150)),
            OneShotPath::AesGcm
        );
    }

    #[test]
    fn the_default_backend_s_one_shot_ties_go_to_aes_gcm() {
        // aes-ni 2 % faster everywhere: within TIE, so aes-gcm (the long route) throughout.
        let (seal, _) = calibrate_with(OneShotPath::AesNi, OneShotPath::AesGcm, |p, _, len| {
            let base = 200 + len as u64 / 4;
            match p {
                OneShotPath::AesNi => NS(base * 98),
                _ => NS(base * 100),
            }
        });
        assert_eq!(seal, OneShotSwitch::only(OneShotPath::AesGcm));
        assert_eq!(seal.to_string(), "aes-gcm for every length");
    }
}
