//! The crash-dump proof (issue 13 item 5): what a core dump of a process that crashes in the middle of an encrypt
//! holds, per key mode.
//!
//! For each [`KeyMode`] a child process (this test binary, running [`crash_dump_child`]) builds a factory over an
//! in-memory metastore and a secret factory that leaves core dumps on, encrypts once (creating and caching a system key and an intermediate key, and in
//! [`KeyMode::CachedCipher`] their expanded key schedules), and encrypts again: inside the RNG call that draws that
//! encrypt's data-row key (the first step of the seal, while the data-row key sits in the buffer the encrypt keeps
//! it in) it aborts with `SIGABRT` and the kernel writes a core. The child learns every key's bytes from the RNG
//! handle it injects, which sees each key as it is drawn, and prints them in hex (never the raw bytes: those would
//! land in the dump themselves) together with the contents of its wipe-on-fork mappings (the per-thread RNG state
//! and the scratch pool), read through `/proc/self/mem` in small buffers that are wiped at once.
//!
//! The parent then searches the core for each key's 32 bytes and for every high-entropy 32-byte chunk of the RNG
//! state, and tells hits in the aborting thread's stack from hits anywhere else. Expected, and asserted:
//!
//! | item | `ProtectedDataRowKey` | `StackDataRowKey` (default) | `CachedCipher` | `SecretCachedCipher` |
//! |---|---|---|---|---|
//! | system key | absent | absent | may be present: its cached key schedule is ordinary heap memory | absent: its schedule is in dump-excluded pages |
//! | intermediate key | absent | absent | may be present: as above | absent: as above |
//! | data-row key | absent (a scratch page) | may be present: a stack buffer, live during the encrypt | may be present: as the default | may be present: as the default |
//! | RNG state | absent | absent | absent | absent |
//!
//! With the `ring` feature, `SecretCachedCipher` also runs on `RingBackend` (`SecretCachedCipher+ring`): the scrub
//! after a cached-schedule use is sized per backend, and ring's is much smaller.
//!
//! "May be present" is allowed by that mode's design and printed as found or not; "absent" fails the test when
//! found, wherever it is found, the dead frames of the stack included: the code scrubs the stack below every use
//! and every load of a system or intermediate key (`crypto/stack_scrub.rs`), and this test is what shows the
//! scrub reaches far enough. A schedule is found by the raw key because AES-256 key expansion keeps the key as
//! its first two round keys (AES-NI and ring layouts; a bit-sliced software schedule would hide it from this
//! search, not from an attacker). `ASHERAH_CRASH_DUMP_KEEP=1` keeps the cores and the children's output.
//!
//! The child's factory leaves `RLIMIT_CORE` alone (`disable_core_dumps(false)`), but the soft limit is often 0
//! (it is on CI machines), and `core_pattern` may name a path the test cannot write. The kernel applies neither
//! to a core piped to a helper, so the test sets
//! `/proc/sys/kernel/core_pattern` to `|dd of=<its temp dir>/core.%p` for its duration (root only) and restores
//! the original afterwards. Where that cannot be done it says so loudly and passes; under `CI=true` it fails only
//! if the pattern could be set and no core appeared. Two runs of this test at the same time would race on the
//! pattern.

use std::fs;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use appencryption::{
    AeadBackend, AesGcmBackend, CryptoPolicy, Error, InMemoryMetastore, KEY_LEN,
    KeyManagementService, KeyMode, OsRandom, SecureRandom, SessionFactory, ThreadLocalRandom,
};
use async_trait::async_trait;
use securememory::SecretFactory;
use zeroize::Zeroize;

/// Set in the child's environment to the key mode it runs (`Debug` name).
const CHILD_ENV: &str = "ASHERAH_CRASH_DUMP_CHILD";
const CORE_PATTERN: &str = "/proc/sys/kernel/core_pattern";
const MODES: [KeyMode; 4] = [
    KeyMode::ProtectedDataRowKey,
    KeyMode::StackDataRowKey,
    KeyMode::CachedCipher,
    KeyMode::SecretCachedCipher,
];

/// What one child runs: a key mode, on the default `aes-gcm` backend or on `ring`. Each backend's AES code leaves
/// its own residue on the stack, and the scrub after a cached-schedule use is sized per backend, so
/// `SecretCachedCipher` runs on both.
#[derive(Clone, Copy)]
struct Variant {
    mode: KeyMode,
    ring: bool,
}

impl Variant {
    fn all() -> Vec<Variant> {
        let mut all: Vec<Variant> = MODES
            .into_iter()
            .map(|mode| Variant { mode, ring: false })
            .collect();
        if cfg!(feature = "ring") {
            all.push(Variant {
                mode: KeyMode::SecretCachedCipher,
                ring: true,
            });
        }
        all
    }

    /// The mode's `Debug` name, `+ring` on ring: the child's `CHILD_ENV` value and the name in messages.
    fn name(self) -> String {
        format!("{:?}{}", self.mode, if self.ring { "+ring" } else { "" })
    }

    fn named(name: &str) -> Variant {
        let (mode, ring) = match name.strip_suffix("+ring") {
            Some(mode) => (mode, true),
            None => (name, false),
        };
        Variant {
            mode: mode_named(mode),
            ring,
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The child

/// A KMS with its master key in ordinary memory. `StaticKms` would keep it in a secret of a default
/// `SecretFactory`, and building that sets `RLIMIT_CORE = 0` for the whole process (Go's behaviour), which is
/// exactly what this test must not have. The master key is not one of the keys under test.
struct PlainKms([u8; KEY_LEN]);

#[async_trait]
impl KeyManagementService for PlainKms {
    async fn encrypt_key(&self, key: &[u8]) -> Result<Vec<u8>, Error> {
        AesGcmBackend.encrypt(key, &self.0, &OsRandom)
    }

    async fn decrypt_key(
        &self,
        encrypted: &[u8],
        key_out: &mut [u8; KEY_LEN],
    ) -> Result<(), Error> {
        AesGcmBackend.decrypt_key(encrypted, &self.0, key_out)
    }
}

/// The real per-thread RNG, watched: every draw is printed in hex (`fill <len> <hex>`), and once armed the next
/// draw (the data-row key and nonces of the armed encrypt) is printed and then the process aborts.
struct Watched {
    armed: AtomicBool,
    draws: AtomicUsize,
}

impl SecureRandom for Watched {
    fn fill(&self, buf: &mut [u8]) -> Result<(), Error> {
        ThreadLocalRandom.fill(buf)?;
        self.draws.fetch_add(1, Ordering::SeqCst);
        let armed = self.armed.load(Ordering::SeqCst);
        let mut out = std::io::stdout().lock();
        let tag = if armed { "armed-fill" } else { "fill" };
        writeln!(out, "{tag} {} {}", buf.len(), hex::encode(&*buf)).expect("stdout");
        if armed {
            print_fork_safe_mappings(&mut out);
            print_core_limit(&mut out);
            print_stack_range(&mut out);
            writeln!(out, "aborting").expect("stdout");
            out.flush().expect("stdout");
            std::process::abort();
        }
        Ok(())
    }
}

/// `forksafe <start>-<end> <hex>` for every wipe-on-fork mapping (VmFlags `wf`), or `forksafe <range> unreadable
/// <why>`. Read in 64-byte pieces into a stack buffer that is wiped after each piece, so no raw copy remains.
fn print_fork_safe_mappings(out: &mut impl Write) {
    let smaps = fs::read_to_string("/proc/self/smaps").expect("/proc/self/smaps");
    let mut range = None;
    let mut mem = fs::File::open("/proc/self/mem").expect("/proc/self/mem");
    for line in smaps.lines() {
        if let Some((start, end)) = mapping_range(line) {
            range = Some((start, end));
            continue;
        }
        let Some(flags) = line.strip_prefix("VmFlags:") else {
            continue;
        };
        let Some((start, end)) = range else { continue };
        if !flags.split_whitespace().any(|f| f == "wf") {
            continue;
        }
        write!(out, "forksafe {start:x}-{end:x} ").expect("stdout");
        let mut piece = [0u8; 64];
        let mut at = start;
        let mut failure = None;
        let mut text = String::new();
        while at < end {
            let read = mem
                .seek(SeekFrom::Start(at))
                .and_then(|_| mem.read_exact(&mut piece));
            if let Err(e) = read {
                failure = Some(e);
                break;
            }
            text.push_str(&hex::encode(piece));
            piece.zeroize();
            at += piece.len() as u64;
        }
        match failure {
            Some(e) => writeln!(out, "unreadable {e}").expect("stdout"),
            None => writeln!(out, "{text}").expect("stdout"),
        }
    }
}

/// `(start, end)` of a mapping's header line in smaps (`start-end perms offset dev inode path`).
fn mapping_range(line: &str) -> Option<(u64, u64)> {
    let first = line.split_whitespace().next()?;
    let (start, end) = first.split_once('-')?;
    Some((
        u64::from_str_radix(start, 16).ok()?,
        u64::from_str_radix(end, 16).ok()?,
    ))
}

/// `stack <start> <end>`: the mapping that holds this thread's stack (the one holding a local variable).
fn print_stack_range(out: &mut impl Write) {
    let local = 0u8;
    let here = std::ptr::from_ref(&local) as usize as u64;
    let maps = fs::read_to_string("/proc/self/maps").expect("/proc/self/maps");
    if let Some((start, end)) = maps
        .lines()
        .filter_map(mapping_range)
        .find(|&(start, end)| start <= here && here < end)
    {
        writeln!(out, "stack {start:x} {end:x} {here:x}").expect("stdout");
    }
}

fn print_core_limit(out: &mut impl Write) {
    let limits = fs::read_to_string("/proc/self/limits").unwrap_or_default();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap_or("Max core file size unknown");
    writeln!(out, "limit {line}").expect("stdout");
}

/// Parse a mode's `Debug` name.
fn mode_named(name: &str) -> KeyMode {
    MODES
        .into_iter()
        .find(|m| format!("{m:?}") == name)
        .unwrap_or_else(|| panic!("unknown key mode {name}"))
}

/// The child's body; run by the parent with `CHILD_ENV` set. Without it (a plain `--ignored` run) it does nothing.
#[test]
#[ignore = "the child process of crash_dump_holds_no_protected_key_and_no_rng_state; started by that test"]
fn crash_dump_child() {
    let Ok(mode) = std::env::var(CHILD_ENV) else {
        eprintln!("crash_dump_child runs only as the child of the crash-dump test");
        return;
    };
    // On a line of its own: libtest's "test crash_dump_child ... " has no newline yet.
    println!("\nchild {mode}");
    println!("backing {}", securememory::default_backing());
    let rng = Arc::new(Watched {
        armed: AtomicBool::new(false),
        draws: AtomicUsize::new(0),
    });
    let variant = Variant::named(&mode);
    let builder = SessionFactory::builder(
        "service",
        "product",
        Arc::new(InMemoryMetastore::new()),
        Arc::new(PlainKms(*b"thisIsAStaticMasterKeyForTesting")),
    )
    .policy(CryptoPolicy::default().with_key_mode(variant.mode))
    .secret_factory(SecretFactory::builder().disable_core_dumps(false).build())
    .rng(rng.clone());
    // The soft RLIMIT_CORE may be 0 anyway: the parent pipes the core, which the limit does not stop.
    #[cfg(feature = "ring")]
    if variant.ring {
        let factory = builder
            .backend(appencryption::RingBackend)
            .build()
            .expect("factory");
        encrypt_until_abort(&factory.get_session("crash-dump").expect("session"), &rng);
    }
    let factory = builder.build().expect("factory");
    encrypt_until_abort(&factory.get_session("crash-dump").expect("session"), &rng);
}

/// Encrypt once to create and cache the keys, then arm the RNG and encrypt again: that encrypt aborts.
fn encrypt_until_abort<B: AeadBackend>(session: &appencryption::Session<B>, rng: &Watched) -> ! {
    session.encrypt(b"warm-up").expect("first encrypt");
    println!("warm");
    rng.armed.store(true, Ordering::SeqCst);
    let _ = session.encrypt(b"the encrypt the process dies in");
    panic!("the armed encrypt drew no randomness, so the child never aborted");
}

// ---------------------------------------------------------------------------------------------------------------
// The parent

/// What the child reported.
#[derive(Default)]
struct Report {
    /// 32-byte draws before the armed encrypt: the system key, then the intermediate key.
    key_draws: Vec<Vec<u8>>,
    /// The armed draw: data-row key ‖ nonces.
    armed: Vec<u8>,
    /// Contents of the wipe-on-fork mappings that could be read; ranges that could not, with why.
    fork_safe: Vec<Vec<u8>>,
    unreadable: Vec<String>,
    core_limit: String,
    /// The secret backing the child's factory used (`mmap+mlock`, `memfd_secret`).
    backing: String,
    /// The aborting thread's stack mapping.
    stack: Option<(u64, u64)>,
    /// How far below the stack mapping's end the aborting frame was (hits below it lie in dead frames).
    abort_depth: Option<u64>,
}

fn parse_report(stdout: &str) -> Report {
    let mut report = Report::default();
    let mut warm = false;
    for line in stdout.lines() {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("warm") => warm = true,
            Some("fill") if !warm => {
                let len: usize = words.next().and_then(|w| w.parse().ok()).unwrap_or(0);
                if len == 32 {
                    report
                        .key_draws
                        .push(hex::decode(words.next().unwrap_or("")).expect("hex"));
                }
            }
            Some("armed-fill") => {
                words.next();
                report.armed = hex::decode(words.next().unwrap_or("")).expect("hex");
            }
            Some("forksafe") => {
                let range = words.next().unwrap_or("?").to_owned();
                match words.next() {
                    Some("unreadable") => report
                        .unreadable
                        .push(format!("{range}: {}", words.collect::<Vec<_>>().join(" "))),
                    Some(text) => report.fork_safe.push(hex::decode(text).expect("hex")),
                    None => report.fork_safe.push(Vec::new()),
                }
            }
            Some("limit") => report.core_limit = line.to_owned(),
            Some("backing") => report.backing = words.collect::<Vec<_>>().join(" "),
            Some("stack") => {
                let mut hex_word = || u64::from_str_radix(words.next().unwrap_or(""), 16).ok();
                report.stack = hex_word().zip(hex_word());
                report.abort_depth = hex_word()
                    .zip(report.stack)
                    .map(|(here, (_, end))| end - here);
            }
            _ => {}
        }
    }
    report
}

/// Where each of `needles` (32 bytes each) occurs in `haystack` (offsets): one pass, with a 64 Ki-bit filter on
/// their first eight bytes (a core is megabytes and there are a few hundred needles).
fn find_all(haystack: &[u8], needles: &[&[u8]]) -> Vec<Vec<usize>> {
    let bucket = |p: u64| ((p >> 6) & 1023) as usize;
    let mut filter = vec![0u64; 1024];
    let prefix = |b: &[u8]| u64::from_le_bytes(b[..8].try_into().expect("8 bytes"));
    for needle in needles {
        let p = prefix(needle);
        filter[bucket(p)] |= 1 << (p & 63);
    }
    let mut found = vec![Vec::new(); needles.len()];
    for at in 0..haystack.len().saturating_sub(31) {
        let p = prefix(&haystack[at..]);
        if filter[bucket(p)] & (1 << (p & 63)) == 0 {
            continue;
        }
        for (i, needle) in needles.iter().enumerate() {
            if haystack[at..].starts_with(needle) {
                found[i].push(at);
            }
        }
    }
    found
}

/// The loadable segments of an ELF64 core: (file offset, virtual address, size in the file).
fn core_segments(core: &[u8]) -> Vec<(u64, u64, u64)> {
    let u16_at = |at: usize| u16::from_le_bytes(core[at..at + 2].try_into().expect("2 bytes"));
    let u32_at = |at: usize| u32::from_le_bytes(core[at..at + 4].try_into().expect("4 bytes"));
    let u64_at = |at: usize| u64::from_le_bytes(core[at..at + 8].try_into().expect("8 bytes"));
    assert_eq!(&core[..5], b"\x7fELF\x02", "not an ELF64 core");
    let (phoff, phentsize, phnum) = (
        usize::try_from(u64_at(0x20)).expect("offset"),
        usize::from(u16_at(0x36)),
        usize::from(u16_at(0x38)),
    );
    (0..phnum)
        .map(|i| phoff + i * phentsize)
        .filter(|&ph| u32_at(ph) == 1)
        .map(|ph| (u64_at(ph + 8), u64_at(ph + 16), u64_at(ph + 32)))
        .collect()
}

/// The virtual address of core offset `at`, if a loadable segment holds it.
fn vaddr_of(segments: &[(u64, u64, u64)], at: usize) -> Option<u64> {
    let at = at as u64;
    segments
        .iter()
        .find(|&&(offset, _, size)| offset <= at && at < offset + size)
        .map(|&(offset, vaddr, _)| vaddr + at - offset)
}

/// Where each hit is, for the failure message: `stack top-0x…` (below the stack mapping's end) or the address.
fn describe_hits(
    segments: &[(u64, u64, u64)],
    hits: &[usize],
    stack: Option<(u64, u64)>,
) -> String {
    hits.iter()
        .take(12)
        .map(|&at| match (vaddr_of(segments, at), stack) {
            (Some(v), Some((start, end))) if (start..end).contains(&v) => {
                format!("stack top-{:#x}", end - v)
            }
            (Some(v), _) => format!("{v:#x}"),
            (None, _) => format!("core offset {at:#x}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether a hit at core offset `at` lies in the memory range `range`.
fn in_range(segments: &[(u64, u64, u64)], at: usize, range: Option<(u64, u64)>) -> bool {
    let at = at as u64;
    let Some((start, end)) = range else {
        return false;
    };
    segments
        .iter()
        .find(|&&(offset, _, size)| offset <= at && at < offset + size)
        .is_some_and(|&(offset, vaddr, _)| (start..end).contains(&(vaddr + at - offset)))
}

/// 32-byte chunks of random-looking bytes (at least 20 distinct values: a uniformly random chunk has about 28;
/// zeros, served-and-wiped pool bytes and counters have few).
fn high_entropy_chunks(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    bytes.chunks_exact(32).filter(|chunk| {
        let mut seen = [false; 256];
        chunk.iter().for_each(|&b| seen[usize::from(b)] = true);
        seen.iter().filter(|&&s| s).count() >= 20
    })
}

/// How the child's core reaches a file, and what to put back afterwards.
enum Dumping {
    /// `core_pattern` pipes cores to `dd of=<dir>/core.<pid>`; the original pattern is restored on drop.
    Piped {
        original: String,
    },
    Impossible(String),
}

impl Drop for Dumping {
    fn drop(&mut self) {
        if let Dumping::Piped { original } = self
            && let Err(e) = fs::write(CORE_PATTERN, format!("{original}\n"))
        {
            eprintln!("crash-dump: could not restore core_pattern to {original:?}: {e}");
        }
    }
}

/// Pipe cores into `dir`. A pipe, because the soft RLIMIT_CORE is often 0, and the kernel applies that limit to
/// core files but not to a pipe helper.
fn prepare_dumping(dir: &Path) -> Dumping {
    let Some(dd) = ["/usr/bin/dd", "/bin/dd"]
        .into_iter()
        .find(|p| Path::new(p).exists())
    else {
        return Dumping::Impossible("no dd(1) to receive the core".to_owned());
    };
    let pattern = match fs::read_to_string(CORE_PATTERN) {
        Ok(p) => p.trim_end_matches('\n').to_owned(),
        Err(e) => return Dumping::Impossible(format!("cannot read {CORE_PATTERN}: {e}")),
    };
    if dir.to_str().is_none_or(|d| d.contains(char::is_whitespace)) {
        return Dumping::Impossible(format!("{} cannot appear in core_pattern", dir.display()));
    }
    match fs::write(
        CORE_PATTERN,
        format!("|{dd} of={}/core.%p\n", dir.display()),
    ) {
        Ok(()) => Dumping::Piped { original: pattern },
        Err(e) => Dumping::Impossible(format!(
            "core_pattern is {pattern:?} and cannot be set to a pipe here ({e}; root is needed)"
        )),
    }
}

/// Run the child for `mode` (working directory `dir`); its stdout and its core, once the pipe helper has written
/// all of it (the kernel reaps the child before the helper finishes).
fn run_child(mode: &str, dir: &Path) -> (String, Option<PathBuf>) {
    let exe = std::env::current_exe().expect("test binary");
    let child = Command::new(&exe)
        .args([
            "crash_dump_child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, mode)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the child");
    let pid = child.id();
    let output = child.wait_with_output().expect("wait for the child");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        stdout.contains("aborting"),
        "the {mode} child did not reach the abort (status {}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let core = dir.parent().expect("root dir").join(format!("core.{pid}"));
    // Complete when its size has not changed for half a second; give up after 30 s.
    let mut last = None;
    for _ in 0..300 {
        std::thread::sleep(Duration::from_millis(100));
        let size = fs::metadata(&core).map(|m| m.len()).ok();
        if size.is_some_and(|s| s > 0) && size == last.map(|(s, _)| s) {
            if last.is_some_and(|(_, n)| n >= 5) {
                return (stdout, Some(core));
            }
            last = last.map(|(s, n)| (s, n + 1));
        } else {
            last = size.map(|s| (s, 0));
        }
    }
    (stdout, None)
}

#[test]
fn crash_dump_holds_no_protected_key_and_no_rng_state() {
    let under_ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let root = std::env::temp_dir().join(format!("asherah-crash-dump-{}", std::process::id()));
    let _ = fs::remove_dir_all(&root);
    fs::create_dir_all(&root).expect("temp dir");
    let dumping = prepare_dumping(&root);
    if let Dumping::Impossible(why) = &dumping {
        eprintln!("crash-dump: SKIPPED, no core dump can be had on this machine: {why}");
        return;
    }
    // ASHERAH_CRASH_DUMP_KEEP=1 keeps the cores and the children's output, to look at what a hit is.
    let keep = std::env::var("ASHERAH_CRASH_DUMP_KEEP").is_ok_and(|v| v == "1");
    let mut failures = Vec::new();
    for variant in Variant::all() {
        let (mode, name) = (variant.mode, variant.name());
        let dir = root.join(&name);
        fs::create_dir_all(&dir).expect("mode dir");
        let (stdout, core) = run_child(&name, &dir);
        let report = parse_report(&stdout);
        let Some(core) = core else {
            let message = format!(
                "crash-dump: no core from the {name} child although core_pattern pipes to {} ({})",
                root.display(),
                report.core_limit,
            );
            assert!(!under_ci, "{message}");
            eprintln!("{message}: SKIPPED");
            continue;
        };
        let core_bytes = fs::read(&core).expect("read the core");
        assert_eq!(
            report.key_draws.len(),
            2,
            "expected exactly two key draws (system key, intermediate key) before the armed encrypt:\n{stdout}"
        );
        assert!(report.armed.len() >= 32, "armed draw too short:\n{stdout}");
        let drk = &report.armed[..32];
        let rng_chunks: Vec<&[u8]> = report
            .fork_safe
            .iter()
            .flat_map(|m| high_entropy_chunks(m))
            .filter(|chunk| *chunk != drk)
            .collect();
        let mut needles: Vec<&[u8]> = vec![&report.key_draws[0], &report.key_draws[1], drk];
        needles.extend(rng_chunks.iter().copied());
        let found = find_all(&core_bytes, &needles);
        let allowed = |item: &str| match mode {
            KeyMode::ProtectedDataRowKey => false,
            KeyMode::StackDataRowKey | KeyMode::SecretCachedCipher => item == "data-row key",
            _ => item != "RNG state",
        };
        let segments = core_segments(&core_bytes);
        let rng_hits: Vec<usize> = found[3..].iter().flatten().copied().collect();
        println!(
            "crash-dump {name} (secrets on {}): core {} ({} bytes), aborted at stack top-{:#x}, {} RNG-state chunks searched{}",
            report.backing,
            core.display(),
            core_bytes.len(),
            report.abort_depth.unwrap_or(0),
            rng_chunks.len(),
            if report.unreadable.is_empty() {
                String::new()
            } else {
                format!(
                    ", unreadable wipe-on-fork mappings (not searched): {}",
                    report.unreadable.join("; ")
                )
            }
        );
        for (item, hits) in [
            ("system key", &found[0]),
            ("intermediate key", &found[1]),
            ("data-row key", &found[2]),
            ("RNG state", &rng_hits),
        ] {
            let present = !hits.is_empty();
            let verdict = if !present {
                "absent".to_owned()
            } else if allowed(item) {
                let in_stack = hits
                    .iter()
                    .filter(|&&at| in_range(&segments, at, report.stack))
                    .count();
                format!(
                    "present, {} hit(s), {in_stack} in the stack (allowed in this mode)",
                    hits.len()
                )
            } else {
                format!(
                    "PRESENT, {} hit(s) (must be absent): {}",
                    hits.len(),
                    describe_hits(&segments, hits, report.stack)
                )
            };
            println!("  {item:<17} {verdict}");
            if present && !allowed(item) {
                failures.push(format!("{name}: {item} found in the core"));
            }
        }
        if rng_chunks.is_empty() && report.unreadable.is_empty() {
            failures.push(format!(
                "{name}: no RNG state was read (no wipe-on-fork mapping with random bytes)"
            ));
        }
        if keep {
            println!(
                "  kept: {} (and the child's output beside it)",
                core.display()
            );
            let _ = fs::write(format!("{}.stdout", core.display()), &stdout);
        } else {
            let _ = fs::remove_file(&core);
        }
    }
    drop(dumping);
    if !keep {
        let _ = fs::remove_dir_all(&root);
    }
    assert!(failures.is_empty(), "crash-dump: {}", failures.join("; "));
}

/// The child reads its own mappings; make sure the parser reads a real smaps header.
#[test]
fn mapping_range_reads_an_smaps_header() {
    let line = "7f1c2a000000-7f1c2a001000 rw-p 00000000 00:00 0 ";
    assert_eq!(
        mapping_range(line),
        Some((0x7f1c_2a00_0000, 0x7f1c_2a00_1000))
    );
    assert_eq!(mapping_range("VmFlags: rd wr mr mw me ac sd"), None);
    let file = BufReader::new(fs::File::open("/proc/self/smaps").expect("smaps"));
    let first = file.lines().next().expect("a line").expect("text");
    assert!(mapping_range(&first).is_some(), "{first}");
}
