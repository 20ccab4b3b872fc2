// SPDX-License-Identifier: MIT
//! minimal - the crossbeam-epoch peer's get and nothing else
//! (scripts/peer_overhead.sh): a LazyTransform of two crossbeam Atomics, a
//! producer publishing every period ns, readers calling get (epoch::pin and a
//! clone), a timer.  No protocol, checks or counts: what smrb-crossbeam
//! measures must land close to this.
//!
//! usage: minimal THREADS SECONDS PAYLOAD(u64|str:N) PERIOD_NS
//! prints: ns_per_get=X

use crossbeam_epoch::{self as epoch, Atomic, Owned, Shared};
use std::sync::atomic::{AtomicBool, Ordering::*};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Lazy<T> {
    source: Atomic<T>,
    value: Atomic<T>,
    lock: AtomicBool,
}

impl<T: Clone> Lazy<T> {
    fn set_source(&self, v: T) {
        let g = epoch::pin();
        let prev = self.source.swap(Owned::new(v), AcqRel, &g);
        if !prev.is_null() {
            unsafe { g.defer_destroy(prev) };
        }
    }

    fn get(&self) -> Option<T> {
        let g = epoch::pin();
        if !self.source.load(Relaxed, &g).is_null() && !self.lock.load(Relaxed) && !self.lock.swap(true, Acquire) {
            let src = self.source.swap(Shared::null(), AcqRel, &g);
            let out = if src.is_null() {
                None
            } else {
                let data = unsafe { std::ptr::read(src.as_raw()) };
                let raw = src.as_raw() as usize;
                unsafe { g.defer_unchecked(move || drop(Box::from_raw(raw as *mut std::mem::ManuallyDrop<T>))) };
                let c = data.clone();
                let old = self.value.swap(Owned::new(data), AcqRel, &g);
                if !old.is_null() {
                    unsafe { g.defer_destroy(old) };
                }
                Some(c)
            };
            self.lock.store(false, Release);
            if out.is_some() {
                return out;
            }
        }
        unsafe { self.value.load(Acquire, &g).as_ref() }.cloned()
    }
}

fn run<T: Clone + Send + Sync + 'static>(threads: usize, secs: f64, period: u64, make: fn(u64) -> T,
                                          word: fn(&T) -> u64) -> f64 {
    let lt = Arc::new(Lazy { source: Atomic::null(), value: Atomic::new(make(0)), lock: AtomicBool::new(false) });
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..threads)
        .map(|_| {
            let (lt, stop) = (lt.clone(), stop.clone());
            std::thread::spawn(move || {
                let (mut n, mut s, t0) = (0u64, 0u64, Instant::now());
                while !stop.load(Relaxed) {
                    for _ in 0..100 {
                        if let Some(v) = lt.get() {
                            s ^= word(&v);
                        }
                    }
                    n += 100;
                }
                unsafe { std::ptr::read_volatile(&s) };
                (n, t0.elapsed().as_nanos() as u64)
            })
        })
        .collect();
    let producer = {
        let (lt, stop) = (lt.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut seq = 0;
            while !stop.load(Relaxed) {
                let until = Instant::now() + Duration::from_nanos(period);
                while Instant::now() < until && !stop.load(Relaxed) {
                    std::hint::spin_loop();
                }
                seq += 1;
                lt.set_source(make(seq));
            }
        })
    };
    std::thread::sleep(Duration::from_secs_f64(secs));
    stop.store(true, Relaxed);
    let (mut ops, mut ns) = (0, 0);
    for r in readers {
        let (o, t) = r.join().unwrap();
        ops += o;
        ns += t;
    }
    producer.join().unwrap();
    ns as f64 / ops as f64
}

static mut LEN: usize = 0;

fn main() {
    let a: Vec<String> = std::env::args().collect();
    if a.len() != 5 {
        eprintln!("usage: minimal THREADS SECONDS PAYLOAD(u64|str:N) PERIOD_NS");
        std::process::exit(2);
    }
    let (threads, secs, period): (usize, f64, u64) = (a[1].parse().unwrap(), a[2].parse().unwrap(), a[4].parse().unwrap());
    let ns = if let Some(n) = a[3].strip_prefix("str:") {
        unsafe { LEN = n.parse().unwrap() };
        run::<String>(threads, secs, period, |_| "y".repeat(unsafe { LEN }), |s| s.as_bytes()[0] as u64)
    } else {
        run::<u64>(threads, secs, period, |v| v, |v| *v)
    };
    println!("ns_per_get={}", ns);
}
