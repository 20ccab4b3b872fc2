// SPDX-License-Identifier: MIT
//! smrb-crossbeam - Niksic's LazyTransform (2017) in Rust with crossbeam-epoch (the
//! `crossbeam-epoch` peer of smrbench; harness/peers.c has the protocol).
//!
//! As Niksic's version: `epoch::pin()` around every get and publish;
//! an unlinked source that still owns its payload, and every old value, go to
//! `defer_destroy` (drop, then free); a source whose payload was moved out
//! with `ptr::read` goes to a bare deallocation (free only: dropping it too
//! would drop the payload twice, the bug Niksic tripped over).
//!
//! Payloads: u64 (Copy), box (Box<u64>: clone allocates), rc (Arc<u64>:
//! clone is a shared fetch_add), str:N (an N-byte String: clone allocates
//! and copies).
//!
//! Command line: key=value words (threads, duration, payload, period, cpus:
//! one OS CPU index per thread, readers then the producer, or "-" for none).
//! Prints window=start / window=end around the timed window, waits for a
//! line on stdin (the harness reads its counters then; EOF goes on), then
//! one line of key=value results.  Bad arguments: one line, exit 2.

use crossbeam_epoch::{self as epoch, Atomic, Guard, Owned, Shared};
use std::io::{BufRead, Write};
use std::mem::ManuallyDrop;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::*};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

/// The value every payload of sequence number s holds (lazy_transform.c's lt_encode).
fn encode(s: u64) -> u64 {
    s.wrapping_mul(0x9E3779B97F4A7C15) ^ 0xA5A5A5A5A5A5A5A5
}

trait Payload: Clone + Send + Sync + 'static {
    fn make(v: u64, len: usize) -> Self;
    fn holds(&self, v: u64, len: usize) -> bool;
    /// One word of it, for the reader's sink (the clone is used).
    fn word(&self) -> u64;
}

impl Payload for u64 {
    fn make(v: u64, _: usize) -> Self {
        v
    }
    fn holds(&self, v: u64, _: usize) -> bool {
        *self == v
    }
    fn word(&self) -> u64 {
        *self
    }
}

impl Payload for Box<u64> {
    fn make(v: u64, _: usize) -> Self {
        Box::new(v)
    }
    fn holds(&self, v: u64, _: usize) -> bool {
        **self == v
    }
    fn word(&self) -> u64 {
        **self
    }
}

impl Payload for Arc<u64> {
    fn make(v: u64, _: usize) -> Self {
        Arc::new(v)
    }
    fn holds(&self, v: u64, _: usize) -> bool {
        **self == v
    }
    fn word(&self) -> u64 {
        **self
    }
}

/// ASCII letters, so that the String is valid UTF-8: the first from v's second byte, the rest from its first.
fn letter(b: u64) -> u8 {
    b'a' + (b % 26) as u8
}

impl Payload for String {
    fn make(v: u64, len: usize) -> Self {
        let mut b = vec![letter(v & 0xff); len];
        b[0] = letter((v >> 8) & 0xff);
        String::from_utf8(b).unwrap()
    }
    fn holds(&self, v: u64, len: usize) -> bool {
        let b = self.as_bytes();
        b.len() == len && b[0] == letter((v >> 8) & 0xff) && (len == 1 || b[len - 1] == letter(v & 0xff))
    }
    fn word(&self) -> u64 {
        self.as_bytes()[0] as u64
    }
}

/// Drops of cells, over every thread: compared with what was retired for drop at the end.
static DROPS: AtomicU64 = AtomicU64::new(0);
/// plant=leak (tests/peers.sh): a fault the drop count must catch.
static PLANT_LEAK: AtomicBool = AtomicBool::new(false);
/// Bare deallocations of emptied sources.
static FREES: AtomicU64 = AtomicU64::new(0);

struct Cell<P> {
    seq: u64,
    p: P,
}

impl<P> Drop for Cell<P> {
    fn drop(&mut self) {
        DROPS.fetch_add(1, Relaxed);
    }
}

/// What one thread retired.
#[derive(Default, Clone, Copy)]
struct Retired {
    drop: u64,
    free: u64,
}

/// Retire a cell for drop (defer_destroy: its payload dies with it).
/// plant=leak (tests only): every other one is never given to the collector.
unsafe fn retire_drop<P>(guard: &Guard, c: Shared<'_, Cell<P>>, r: &mut Retired) {
    if !(PLANT_LEAK.load(Relaxed) && r.drop % 2 == 1) {
        guard.defer_destroy(c);
    }
    r.drop += 1;
}

/// The LazyTransform: two pointers and a try-lock, as in the seed.
struct LazyTransform<P> {
    source: Atomic<Cell<P>>,
    value: Atomic<Cell<P>>,
    lock: AtomicBool,
    published: AtomicU64,
}

impl<P: Payload> LazyTransform<P> {
    fn set_source(&self, c: Cell<P>, r: &mut Retired) {
        let guard = epoch::pin();
        self.published.store(c.seq, Relaxed);
        let prev = self.source.swap(Owned::new(c), AcqRel, &guard);
        if !prev.is_null() {
            // Nobody transformed it: it still owns its payload.
            unsafe { retire_drop(&guard, prev, r) };
        }
    }

    fn try_transform(&self, guard: &Guard, r: &mut Retired) -> Option<(P, *const Cell<P>)> {
        if self.lock.load(Relaxed) || self.lock.swap(true, Acquire) {
            return None;
        }
        let src = self.source.swap(Shared::null(), AcqRel, guard);
        let out = if src.is_null() {
            None
        } else {
            // Move the cell out; its memory is freed bare, never dropped.
            let data: Cell<P> = unsafe { ptr::read(src.as_raw()) };
            let raw = src.as_raw() as usize;
            unsafe {
                guard.defer_unchecked(move || {
                    drop(Box::from_raw(raw as *mut ManuallyDrop<Cell<P>>));
                    FREES.fetch_add(1, Relaxed);
                })
            };
            r.free += 1;
            let clone = data.p.clone();
            let new = Owned::new(data).into_shared(guard);
            let old = self.value.swap(new, AcqRel, guard);
            if !old.is_null() {
                unsafe { retire_drop(guard, old, r) };
            }
            Some((clone, new.as_raw()))
        };
        self.lock.store(false, Release);
        out
    }

    /// A clone of the value; *seen is the cell this reader met last, and
    /// seq is read (under the guard) only from a cell it has not met.
    #[inline]
    fn get(&self, seen: &mut *const Cell<P>, seq: &mut Option<u64>, r: &mut Retired) -> Option<P> {
        let guard = epoch::pin();
        if !self.source.load(Relaxed, &guard).is_null() {
            if let Some((p, cell)) = self.try_transform(&guard, r) {
                *seq = Some(unsafe { (*cell).seq });
                *seen = cell;
                return Some(p);
            }
        }
        let v = self.value.load(Acquire, &guard);
        unsafe { v.as_ref() }.map(|c| {
            if v.as_raw() != *seen {
                *seen = v.as_raw();
                *seq = Some(c.seq);
            }
            c.p.clone()
        })
    }
}

/// Pin the calling thread to one OS CPU (the harness's hwloc choice).
fn pin_to(cpu: Option<usize>) {
    extern "C" {
        fn sched_setaffinity(pid: i32, size: usize, mask: *const u64) -> i32;
    }
    if let Some(c) = cpu {
        let mut mask = [0u64; 64];
        if c < 64 * 64 {
            mask[c / 64] |= 1 << (c % 64);
            unsafe { sched_setaffinity(0, std::mem::size_of_val(&mask), mask.as_ptr()) };
        }
    }
}

fn usage(msg: &str) -> ! {
    eprintln!("smrb-crossbeam: {}", msg);
    std::process::exit(2);
}

fn int_arg(k: &str, v: &str, lo: u64, hi: u64) -> u64 {
    match v.parse::<u64>() {
        Ok(x) if x >= lo && x <= hi => x,
        _ => usage(&format!("bad value '{}' for {} (want an integer in {}..{})", v, k, lo, hi)),
    }
}

struct Args {
    threads: usize,
    duration: f64,
    period: u64,
    len: usize,
    cpus: Vec<Option<usize>>,
}

struct Outcome {
    ops: u64,
    worker_ns: u64,
    wall_ns: u64,
    produced: u64,
    error: Option<String>,
    retired: Retired,
}

fn run<P: Payload>(a: &Args) -> Outcome {
    let lt = Arc::new(LazyTransform::<P> {
        source: Atomic::null(),
        value: Atomic::new(Cell { seq: 0, p: P::make(encode(0), a.len) }),
        lock: AtomicBool::new(false),
        published: AtomicU64::new(0),
    });
    let stop = Arc::new(AtomicBool::new(false));
    let start = Arc::new(Barrier::new(a.threads + 2));
    let error: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
    let mut readers = Vec::new();
    for i in 0..a.threads {
        let (lt, stop, start, error) = (lt.clone(), stop.clone(), start.clone(), error.clone());
        let (cpu, len) = (a.cpus.get(i).copied().flatten(), a.len);
        readers.push(std::thread::spawn(move || {
            pin_to(cpu);
            let (mut ops, mut last, mut sink) = (0u64, 0u64, 0u64);
            let mut seen: *const Cell<P> = ptr::null();
            let mut r = Retired::default();
            start.wait();
            let t0 = Instant::now();
            while !stop.load(Relaxed) {
                for _ in 0..100 {
                    let mut seq = None;
                    if let Some(p) = lt.get(&mut seen, &mut seq, &mut r) {
                        // A cell not met before: checked once, as the C workload does.
                        if let Some(s) = seq {
                            let publ = lt.published.load(Relaxed);
                            let bad = if s < last || s > publ {
                                Some(format!("saw sequence {} after {} (published {})", s, last, publ))
                            } else if !p.holds(encode(s), len) {
                                Some(format!("clone of sequence {} holds a wrong value", s))
                            } else {
                                None
                            };
                            if let Some(m) = bad {
                                error.lock().unwrap().get_or_insert(m);
                            }
                            last = s;
                        }
                        sink ^= p.word();
                    }
                }
                ops += 100;
            }
            let ns = t0.elapsed().as_nanos() as u64;
            start.wait(); // the loops are over
            start.wait(); // alive until the harness has read the window's counters
            // The payloads the readers cloned are used: the compiler keeps every clone.
            unsafe { ptr::read_volatile(&sink) };
            (ops, ns, r)
        }));
    }
    let producer = {
        let (lt, stop, start) = (lt.clone(), stop.clone(), start.clone());
        let (cpu, len, period) = (a.cpus.get(a.threads).copied().flatten(), a.len, a.period);
        std::thread::spawn(move || {
            pin_to(cpu);
            let (mut s, mut r) = (0u64, Retired::default());
            start.wait();
            while !stop.load(Relaxed) {
                let until = Instant::now() + Duration::from_nanos(period);
                while Instant::now() < until && !stop.load(Relaxed) {
                    std::hint::spin_loop();
                }
                s += 1;
                lt.set_source(Cell { seq: s, p: P::make(encode(s), len) }, &mut r);
            }
            start.wait();
            start.wait();
            (s, r)
        })
    };
    println!("window=start");
    std::io::stdout().flush().ok();
    start.wait();
    std::thread::sleep(Duration::from_secs_f64(a.duration));
    stop.store(true, Relaxed);
    start.wait();
    println!("window=end");
    std::io::stdout().flush().ok();
    wait_for_harness();
    start.wait();
    let mut o = Outcome { ops: 0, worker_ns: 0, wall_ns: 0, produced: 0, error: None, retired: Retired::default() };
    for h in readers {
        let (ops, ns, r) = h.join().expect("a reader panicked");
        o.ops += ops;
        o.worker_ns += ns;
        o.wall_ns = o.wall_ns.max(ns);
        o.retired.drop += r.drop;
        o.retired.free += r.free;
    }
    let (produced, r) = producer.join().expect("the producer panicked");
    o.produced = produced;
    o.retired.drop += r.drop;
    o.retired.free += r.free;
    // Teardown: the cells still linked are retired too (as the C workload's destroy).
    {
        let guard = epoch::pin();
        for a in [&lt.source, &lt.value] {
            let c = a.swap(Shared::null(), AcqRel, &guard);
            if !c.is_null() {
                unsafe { guard.defer_destroy(c) };
                o.retired.drop += 1;
            }
        }
    }
    o.error = error.lock().unwrap().take();
    o
}

/// Run deferred functions until every retired cell was dropped or freed: a
/// flush advances the epoch when no thread is pinned, and a bag runs two
/// advances after it was sealed.  Gives up after `patience` rounds in a row
/// without progress (a leak: the count stays short).
fn drain(want_drop: u64, want_free: u64) {
    let patience = 1000;
    let mut idle = 0;
    let mut last = (u64::MAX, u64::MAX);
    while idle < patience {
        let now = (DROPS.load(Relaxed), FREES.load(Relaxed));
        if now.0 >= want_drop && now.1 >= want_free {
            return;
        }
        idle = if now == last { idle + 1 } else { 0 };
        last = now;
        epoch::pin().flush();
    }
}

fn wait_for_harness() {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).ok();
}

fn main() {
    let mut a = Args { threads: 1, duration: 1.0, period: 10000, len: 0, cpus: Vec::new() };
    let mut kind = String::from("u64");
    for arg in std::env::args().skip(1) {
        let (k, v) = match arg.split_once('=') {
            Some((k, v)) if !k.is_empty() => (k.to_string(), v.to_string()),
            _ => usage(&format!("bad argument '{}' (want key=value)", arg)),
        };
        match k.as_str() {
            "threads" => a.threads = int_arg(&k, &v, 1, 4096) as usize,
            "period" => a.period = int_arg(&k, &v, 0, 10_000_000_000),
            "duration" => {
                a.duration = v.parse().unwrap_or(-1.0);
                if !(a.duration > 0.0 && a.duration <= 86400.0) {
                    usage(&format!("bad duration '{}' (want seconds, 0 < d <= 86400)", v));
                }
            }
            "payload" => kind = v,
            "plant" if v == "leak" => PLANT_LEAK.store(true, Relaxed),
            "plant" => usage(&format!("bad plant '{}' (want leak)", v)),
            "cpus" => {
                a.cpus = v
                    .split(',')
                    .map(|c| if c == "-" { None } else { Some(int_arg("cpus", c, 0, 1 << 20) as usize) })
                    .collect()
            }
            _ => usage(&format!("unknown argument '{}'", k)),
        }
    }
    let o = match kind.as_str() {
        "u64" => run::<u64>(&a),
        "box" => run::<Box<u64>>(&a),
        "rc" => run::<Arc<u64>>(&a),
        s if s.starts_with("str:") => {
            a.len = int_arg("payload", &s[4..], 1, 1 << 24) as usize;
            run::<String>(&a)
        }
        _ => usage(&format!("bad payload '{}' (want u64, box, rc or str:N)", kind)),
    };
    drain(o.retired.drop, o.retired.free);
    let (drops, frees) = (DROPS.load(Relaxed), FREES.load(Relaxed));
    let verify = if let Some(e) = o.error {
        format!("fail:{}", e.replace(' ', "_"))
    } else if drops != o.retired.drop || frees != o.retired.free {
        format!("fail:dropped_{}_of_{}_retired_for_drop,_freed_{}_of_{}_retired_for_free",
                drops, o.retired.drop, frees, o.retired.free)
    } else {
        "ok".to_string()
    };
    println!(
        "ops={} worker_ns={} wall_ns={} produced={} verify={} retired={} reclaimed={} drops={}",
        o.ops, o.worker_ns, o.wall_ns, o.produced, verify,
        o.retired.drop + o.retired.free, drops + frees, drops
    );
}
