//! A delaying TCP proxy for loopback: emulates network latency where kernel
//! netem is unavailable. Standard library only; bench.py builds it with
//! `rustc -O`.
//!
//!     delay_proxy LISTEN_PORT TARGET_PORT [DELAY_MS [STATS_PORT]]
//!     delay_proxy --calibrate [DELAY_MS]
//!
//! Every byte read from one side is written to the other side DELAY_MS later
//! (default 5 ms each direction, i.e. 10 ms RTT), in order. Bandwidth is not
//! limited, and the TCP handshake with the proxy itself is not delayed.
//!
//! Why not Python: an asyncio loop sleeps through epoll, whose timeout is
//! whole milliseconds, and Python threads contend for the GIL; either added
//! 0.5-0.9 ms to every round trip. Here a sender sleeps to 300 us before the
//! due time and spins the rest, so a round trip costs what it should
//! (`--calibrate` measures it).
//!
//! It also counts "turns": how many times the direction of the data flow
//! changes on a connection. For a strictly sequential protocol turns/2 is the
//! number of round trips. Connecting to STATS_PORT returns the counters as
//! one JSON line (connections, bytes, turns).

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering::SeqCst};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

static CONNECTIONS: AtomicU64 = AtomicU64::new(0);
static BYTES_C2S: AtomicU64 = AtomicU64::new(0);
static BYTES_S2C: AtomicU64 = AtomicU64::new(0);
static TURNS: AtomicU64 = AtomicU64::new(0);

const SPIN: Duration = Duration::from_micros(300);

fn wait_until(due: Instant) {
    let now = Instant::now();
    if due > now + SPIN {
        thread::sleep(due - now - SPIN);
    }
    while Instant::now() < due {
        thread::yield_now();
    }
}

/// Copy `src` to `dst`, each chunk `delay` after it was read. `dir` is 1
/// (client to server) or 2; `last` is the connection's last direction.
fn pump(mut src: TcpStream, mut dst: TcpStream, delay: Duration, dir: u8, last: Arc<AtomicU8>) {
    let (tx, rx) = mpsc::channel::<(Instant, Vec<u8>)>();
    let sender = thread::spawn(move || {
        for (due, data) in rx {
            wait_until(due);
            if dst.write_all(&data).is_err() {
                break;
            }
        }
        let _ = dst.shutdown(Shutdown::Write);
    });
    let mut buf = vec![0u8; 65536];
    loop {
        let n = match src.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let due = Instant::now() + delay;
        let counter = if dir == 1 { &BYTES_C2S } else { &BYTES_S2C };
        counter.fetch_add(n as u64, SeqCst);
        if last.swap(dir, SeqCst) != dir {
            TURNS.fetch_add(1, SeqCst);
        }
        if tx.send((due, buf[..n].to_vec())).is_err() {
            break;
        }
    }
    drop(tx);
    let _ = sender.join();
}

fn handle(client: TcpStream, target: u16, delay: Duration) {
    CONNECTIONS.fetch_add(1, SeqCst);
    let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (Ok(c2), Ok(s2)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let last = Arc::new(AtomicU8::new(0));
    let l2 = last.clone();
    let up = thread::spawn(move || pump(client, server, delay, 1, l2));
    pump(s2, c2, delay, 2, last);
    let _ = up.join();
}

fn stats() -> String {
    format!(
        "{{\"connections\": {}, \"bytes_c2s\": {}, \"bytes_s2c\": {}, \"turns\": {}}}\n",
        CONNECTIONS.load(SeqCst),
        BYTES_C2S.load(SeqCst),
        BYTES_S2C.load(SeqCst),
        TURNS.load(SeqCst)
    )
}

fn serve(listener: TcpListener, target: u16, delay: Duration) {
    for c in listener.incoming().flatten() {
        thread::spawn(move || handle(c, target, delay));
    }
}

/// Echo 100-byte messages through the proxy; print the median round trip.
fn calibrate(delay: Duration) -> std::io::Result<()> {
    let echo = TcpListener::bind("127.0.0.1:0")?;
    let eport = echo.local_addr()?.port();
    thread::spawn(move || {
        if let Ok((mut c, _)) = echo.accept() {
            let _ = c.set_nodelay(true);
            let mut b = [0u8; 4096];
            while let Ok(n) = c.read(&mut b) {
                if n == 0 || c.write_all(&b[..n]).is_err() {
                    break;
                }
            }
        }
    });
    let lst = TcpListener::bind("127.0.0.1:0")?;
    let port = lst.local_addr()?.port();
    thread::spawn(move || serve(lst, eport, delay));
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_nodelay(true)?;
    let mut ts = Vec::new();
    let mut b = [0u8; 4096];
    for _ in 0..100 {
        let t = Instant::now();
        s.write_all(&[b'x'; 100])?;
        let mut got = 0;
        while got < 100 {
            got += s.read(&mut b)?;
        }
        ts.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    ts.sort_by(f64::total_cmp);
    println!(
        "configured RTT {:.3} ms; measured median {:.3} ms, min {:.3}, max {:.3}",
        2.0 * delay.as_secs_f64() * 1000.0,
        ts[ts.len() / 2],
        ts[0],
        ts[ts.len() - 1]
    );
    Ok(())
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let ms = |i: usize| -> f64 { args.get(i).and_then(|v| v.parse().ok()).unwrap_or(5.0) };
    if args.first().map(String::as_str) == Some("--calibrate") {
        return calibrate(Duration::from_secs_f64(ms(1) / 1000.0));
    }
    let port = |i: usize| -> u16 { args.get(i).and_then(|v| v.parse().ok()).unwrap_or(0) };
    let (listen, target) = (port(0), port(1));
    let delay = Duration::from_secs_f64(ms(2) / 1000.0);
    if listen == 0 || target == 0 {
        eprintln!("usage: delay_proxy LISTEN_PORT TARGET_PORT [DELAY_MS [STATS_PORT]]");
        std::process::exit(2);
    }
    if let Some(sp) = args.get(3).and_then(|v| v.parse::<u16>().ok()) {
        let sl = TcpListener::bind(("127.0.0.1", sp))?;
        thread::spawn(move || {
            for mut c in sl.incoming().flatten() {
                let _ = c.write_all(stats().as_bytes());
            }
        });
    }
    let listener = TcpListener::bind(("127.0.0.1", listen))?;
    eprintln!(
        "delay_proxy: 127.0.0.1:{listen} -> 127.0.0.1:{target}, {:.1} ms each way",
        delay.as_secs_f64() * 1000.0
    );
    serve(listener, target, delay);
    Ok(())
}
