// The Rust peers of the queue benchmarks (std::sync::mpsc's channel and sync_channel, crossbeam's
// design since Rust 1.67), run by threading-benchmarks, which compiles this file with `rustc -O`
// into its build folder. Prints one "name value" line per figure: the median of SAMPLES runs
// after a warm-up.
//
//     queue_peers pingpong|stream|uncontended|mpmc SAMPLES

use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Instant;

fn median(mut f: impl FnMut() -> f64, samples: usize) -> f64 {
    f();
    let mut v: Vec<f64> = (0..samples).map(|_| f()).collect();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    if samples % 2 == 1 { v[samples / 2] } else { (v[samples / 2 - 1] + v[samples / 2]) / 2.0 }
}

trait Send2<T>: Clone + Send + 'static { fn put(&self, t: T); }
impl<T: Send + 'static> Send2<T> for Sender<T> { fn put(&self, t: T) { self.send(t).unwrap() } }
impl<T: Send + 'static> Send2<T> for SyncSender<T> { fn put(&self, t: T) { self.send(t).unwrap() } }

fn ping_pong<S: Send2<u64>>(make: fn() -> (S, Receiver<u64>), rounds: u64) -> f64 {
    let (ping_tx, ping_rx) = make();
    let (pong_tx, pong_rx) = make();
    let partner = thread::spawn(move || {
        for _ in 0..rounds { pong_tx.put(ping_rx.recv().unwrap()); }
    });
    let start = Instant::now();
    for i in 0..rounds { ping_tx.put(i); pong_rx.recv().unwrap(); }
    let elapsed = start.elapsed().as_secs_f64();
    partner.join().unwrap();
    elapsed * 1e6 / rounds as f64
}

fn stream<S: Send2<u64>>(make: fn() -> (S, Receiver<u64>), n: u64) -> f64 {
    let (tx, rx) = make();
    let consumer = thread::spawn(move || { for _ in 0..n { rx.recv().unwrap(); } });
    let start = Instant::now();
    for i in 0..n { tx.put(i); }
    consumer.join().unwrap();
    start.elapsed().as_secs_f64() * 1e9 / n as f64
}

fn uncontended<S: Send2<u64>>(make: fn() -> (S, Receiver<u64>), n: u64) -> f64 {
    let (tx, rx) = make();
    let start = Instant::now();
    for i in 0..n { tx.put(i); std::hint::black_box(rx.recv().unwrap()); }
    start.elapsed().as_secs_f64() * 1e9 / n as f64
}

/// 4 producers, 4 consumers sharing the receiver behind a Mutex (mpsc has a single receiver).
fn mpmc<S: Send2<u64>>(make: fn() -> (S, Receiver<u64>), per_producer: u64) -> f64 {
    let (tx, rx) = make();
    let rx = Arc::new(Mutex::new(rx));
    let start = Instant::now();
    let mut threads = Vec::new();
    for _ in 0..4 {
        let tx = tx.clone();
        threads.push(thread::spawn(move || { for i in 0..per_producer { tx.put(i); } }));
        let rx = rx.clone();
        threads.push(thread::spawn(move || { for _ in 0..per_producer { rx.lock().unwrap().recv().unwrap(); } }));
    }
    for t in threads { t.join().unwrap(); }
    4.0 * per_producer as f64 / start.elapsed().as_secs_f64()
}

fn unbounded() -> (Sender<u64>, Receiver<u64>) { channel() }
fn bounded1() -> (SyncSender<u64>, Receiver<u64>) { sync_channel(1) }
fn bounded64() -> (SyncSender<u64>, Receiver<u64>) { sync_channel(64) }

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let samples: usize = args[2].parse().unwrap();
    match args[1].as_str() {
        "pingpong" => {
            println!("mpsc::channel {}", median(|| ping_pong(unbounded, 4000), samples));
            println!("mpsc::sync_channel(1) {}", median(|| ping_pong(bounded1, 4000), samples));
        }
        "stream" => {
            println!("mpsc::channel {}", median(|| stream(unbounded, 500_000), samples));
            println!("mpsc::sync_channel(64) {}", median(|| stream(bounded64, 500_000), samples));
        }
        "uncontended" => {
            println!("mpsc::channel {}", median(|| uncontended(unbounded, 2_000_000), samples));
            println!("mpsc::sync_channel(64) {}", median(|| uncontended(bounded64, 2_000_000), samples));
        }
        "mpmc" => {
            println!("mpsc::sync_channel(64) {}", median(|| mpmc(bounded64, 100_000), samples));
        }
        other => panic!("unknown workload {}", other),
    }
}
