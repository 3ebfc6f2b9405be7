//! permessage-deflate benchmark: plainws's own DEFLATE against
//! `miniz_oxide` in the same run, on JSON.
//!
//! - inflate throughput (MB/s of output), target at least 0.8× miniz_oxide;
//! - compression throughput (MB/s of input) against miniz_oxide level 1,
//!   target at least 1×, and output size, target at most 1.2×.
//!
//! Two shapes: one 1 MiB JSON document as one message, and a stream of
//! 2,000 small JSON messages (100 B – 2 KiB) with context takeover, each
//! ended by a sync flush with its `00 00 ff ff` removed (RFC 7692 §7.2.1).
//!
//! ```text
//! cargo run --release -p plainws-bench --bin deflate
//! ```

use std::hint::black_box;
use std::time::{Duration, Instant};

use miniz_oxide::deflate::core::CompressorOxide;
use miniz_oxide::inflate::stream::InflateState;
use miniz_oxide::{DataFormat, MZFlush};
use plainws::sansio::deflate::{Deflater, Inflater, TAIL};
use plainws_bench::miniz;

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

/// One JSON record as an API might send it: ids, names, numbers,
/// timestamps, a nested object and a list.
fn record(rng: &mut Rng) -> String {
    let first = [
        "Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi",
    ];
    let last = [
        "Smith", "Jones", "Nguyen", "Garcia", "Müller", "Rossi", "Tanaka",
    ];
    let cities = [
        "Paris", "Lagos", "Lima", "Osaka", "Berlin", "Austin", "Pune",
    ];
    let tags = ["new", "vip", "beta", "trial", "admin", "eu", "us", "mobile"];
    let n_tags = 1 + rng.next() % 3;
    let tag_list: Vec<String> = (0..n_tags)
        .map(|_| format!("\"{}\"", rng.pick(&tags)))
        .collect();
    format!(
        concat!(
            r#"{{"id":{},"uuid":"{:016x}","name":"{} {}","email":"{}.{}@example.com","#,
            r#""age":{},"balance":{}.{:02},"active":{},"address":{{"city":"{}","zip":"{:05}"}},"#,
            r#""tags":[{}],"created_at":"2024-{:02}-{:02}T{:02}:{:02}:{:02}Z"}}"#
        ),
        rng.next() % 1_000_000,
        rng.next(),
        rng.pick(&first),
        rng.pick(&last),
        rng.pick(&first).to_lowercase(),
        rng.next() % 1000,
        18 + rng.next() % 60,
        rng.next() % 100_000,
        rng.next() % 100,
        rng.next() & 1 == 0,
        rng.pick(&cities),
        rng.next() % 100_000,
        tag_list.join(","),
        1 + rng.next() % 12,
        1 + rng.next() % 28,
        rng.next() % 24,
        rng.next() % 60,
        rng.next() % 60,
    )
}

/// A JSON array of records, `size` bytes or a little more.
fn document(size: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng(seed);
    let mut text = String::from("[");
    while text.len() < size {
        if text.len() > 1 {
            text.push(',');
        }
        text.push_str(&record(&mut rng));
    }
    text.push(']');
    text.into_bytes()
}

/// Small messages: 1 to 8 records each, as an event stream would send.
fn messages(count: usize, seed: u64) -> Vec<Vec<u8>> {
    let mut rng = Rng(seed);
    (0..count)
        .map(|_| {
            let n = 1 + rng.next() % 8;
            let items: Vec<String> = (0..n).map(|_| record(&mut rng)).collect();
            format!(r#"{{"type":"update","items":[{}]}}"#, items.join(",")).into_bytes()
        })
        .collect()
}

/// Runs `ours` and `theirs` (each handling `bytes` bytes) for about
/// `budget` each, alternating, seven times, and returns their median
/// throughputs in MB/s.
fn compare(
    bytes: usize,
    budget: Duration,
    mut ours: impl FnMut(),
    mut theirs: impl FnMut(),
) -> (f64, f64) {
    let mut rates = (Vec::new(), Vec::new());
    for _ in 0..7 {
        rates.0.push(rate(bytes, budget, &mut ours));
        rates.1.push(rate(bytes, budget, &mut theirs));
    }
    rates.0.sort_by(f64::total_cmp);
    rates.1.sort_by(f64::total_cmp);
    (rates.0[3], rates.1[3])
}

fn rate(bytes: usize, budget: Duration, f: &mut impl FnMut()) -> f64 {
    let started = Instant::now();
    let mut rounds = 0u64;
    while started.elapsed() < budget || rounds == 0 {
        f();
        rounds += 1;
    }
    bytes as f64 * rounds as f64 / started.elapsed().as_secs_f64() / 1e6
}

/// miniz_oxide as a permessage-deflate sender: one raw DEFLATE stream,
/// a sync flush per message, the 4-byte tail removed.
struct MinizSender {
    compressor: Box<CompressorOxide>,
    buf: Vec<u8>,
}

impl MinizSender {
    fn new(level: i32) -> MinizSender {
        MinizSender {
            compressor: miniz::compressor(level),
            buf: vec![0; 64 << 10],
        }
    }

    fn compress_message(&mut self, payload: &[u8], out: &mut Vec<u8>) {
        miniz::compress_message(&mut self.compressor, &mut self.buf, payload, out)
            .expect("miniz_oxide compresses");
    }
}

/// miniz_oxide as a permessage-deflate receiver.
struct MinizReceiver {
    state: Box<InflateState>,
    buf: Vec<u8>,
    input: Vec<u8>,
}

impl MinizReceiver {
    fn new() -> MinizReceiver {
        MinizReceiver {
            state: InflateState::new_boxed(DataFormat::Raw),
            buf: vec![0; 64 << 10],
            input: Vec::new(),
        }
    }

    fn inflate_message(&mut self, payload: &[u8], out: &mut Vec<u8>) {
        self.input.clear();
        self.input.extend_from_slice(payload);
        self.input.extend_from_slice(&TAIL);
        let mut input = &self.input[..];
        loop {
            let result = miniz_oxide::inflate::stream::inflate(
                &mut self.state,
                input,
                &mut self.buf,
                MZFlush::Sync,
            );
            input = &input[result.bytes_consumed..];
            out.extend_from_slice(&self.buf[..result.bytes_written]);
            match result.status {
                Ok(_) if input.is_empty() && result.bytes_written < self.buf.len() => break,
                Ok(_) => {}
                Err(e) => panic!("miniz_oxide inflate: {e:?}"),
            }
        }
    }
}

fn ours_inflate(inflater: &mut Inflater, payload: &[u8], out: &mut Vec<u8>) {
    inflater.inflate(payload, out, u64::MAX).expect("inflate");
    inflater.finish_message(out, u64::MAX).expect("finish");
}

struct Row {
    what: String,
    ours: f64,
    miniz: f64,
    unit: &'static str,
}

fn main() {
    let budget = Duration::from_millis(300);
    let doc = document(1 << 20, 1);
    let msgs = messages(2000, 2);
    let msgs_bytes: usize = msgs.iter().map(Vec::len).sum();
    let mut rows = Vec::new();
    // `--profile compress|inflate`: only plainws, for a few seconds, for `perf`.
    let args: Vec<String> = std::env::args().collect();
    if let Some(what) = args
        .iter()
        .position(|a| a == "--profile")
        .and_then(|i| args.get(i + 1))
    {
        let mut compressed = Vec::new();
        MinizSender::new(6).compress_message(&doc, &mut compressed);
        let started = Instant::now();
        let mut out = Vec::new();
        let mut deflater = Deflater::new(15, false);
        let mut inflater = Inflater::new(15, true);
        let (mut bytes, mut size) = (0, 0);
        for _ in 0..20 {
            if what == "compress" {
                size = 0;
                for m in &msgs {
                    out.clear();
                    deflater.compress_message(m, &mut out);
                    size += out.len();
                }
                out.clear();
                deflater.compress_message(&doc, &mut out);
                size += out.len();
                bytes += msgs_bytes + doc.len();
            } else {
                out.clear();
                ours_inflate(&mut inflater, &compressed, &mut out);
                bytes += doc.len();
            }
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{what}: {:.1} MB/s, compressed {size} bytes",
            bytes as f64 / secs / 1e6
        );
        return;
    }

    // ---- Compression: one 1 MiB document.
    let mut ours_doc = Vec::new();
    Deflater::new(15, true).compress_message(&doc, &mut ours_doc);
    let mut miniz_doc = Vec::new();
    MinizSender::new(1).compress_message(&doc, &mut miniz_doc);
    let mut deflater = Deflater::new(15, true);
    let mut out = Vec::with_capacity(doc.len());
    let mut out2 = Vec::with_capacity(doc.len());
    let (ours, miniz) = compare(
        doc.len(),
        budget,
        || {
            out.clear();
            deflater.compress_message(black_box(&doc), &mut out);
            black_box(&out);
        },
        || {
            out2.clear();
            MinizSender::new(1).compress_message(black_box(&doc), &mut out2);
            black_box(&out2);
        },
    );
    rows.push(Row {
        what: "compress 1 MiB JSON document: MB/s ↑".into(),
        ours,
        miniz,
        unit: "",
    });
    rows.push(Row {
        what: "compressed size of the 1 MiB document: bytes ↓".into(),
        ours: ours_doc.len() as f64,
        miniz: miniz_doc.len() as f64,
        unit: "bytes",
    });

    // ---- Compression: 2,000 small messages, context takeover.
    let compress_all_ours = |out: &mut Vec<Vec<u8>>| {
        let mut deflater = Deflater::new(15, false);
        for (m, o) in msgs.iter().zip(out.iter_mut()) {
            o.clear();
            deflater.compress_message(black_box(m), o);
        }
    };
    let compress_all_miniz = |out: &mut Vec<Vec<u8>>| {
        let mut sender = MinizSender::new(1);
        for (m, o) in msgs.iter().zip(out.iter_mut()) {
            o.clear();
            sender.compress_message(black_box(m), o);
        }
    };
    let mut ours_msgs: Vec<Vec<u8>> = vec![Vec::new(); msgs.len()];
    let mut miniz_msgs: Vec<Vec<u8>> = vec![Vec::new(); msgs.len()];
    compress_all_ours(&mut ours_msgs);
    compress_all_miniz(&mut miniz_msgs);
    let mut scratch: Vec<Vec<u8>> = vec![Vec::new(); msgs.len()];
    let mut scratch2: Vec<Vec<u8>> = vec![Vec::new(); msgs.len()];
    let (ours, miniz) = compare(
        msgs_bytes,
        budget,
        || compress_all_ours(&mut scratch),
        || compress_all_miniz(&mut scratch2),
    );
    rows.push(Row {
        what: format!(
            "compress {} JSON messages ({} B average), context takeover: MB/s ↑",
            msgs.len(),
            msgs_bytes / msgs.len()
        ),
        ours,
        miniz,
        unit: "",
    });
    let size = |m: &Vec<Vec<u8>>| m.iter().map(Vec::len).sum::<usize>() as f64;
    rows.push(Row {
        what: "compressed size of the messages: bytes ↓".into(),
        ours: size(&ours_msgs),
        miniz: size(&miniz_msgs),
        unit: "bytes",
    });

    // ---- Inflate: the document and the messages, compressed by miniz_oxide
    // at level 6 (zlib's default, what most peers send) and by plainws.
    let mut level6_doc = Vec::new();
    MinizSender::new(6).compress_message(&doc, &mut level6_doc);
    let mut level6_msgs: Vec<Vec<u8>> = vec![Vec::new(); msgs.len()];
    {
        let mut sender = MinizSender::new(6);
        for (m, o) in msgs.iter().zip(level6_msgs.iter_mut()) {
            sender.compress_message(m, o);
        }
    }
    for (label, doc_input, msgs_input) in [
        ("sent by miniz_oxide level 6", &level6_doc, &level6_msgs),
        ("sent by plainws", &ours_doc, &ours_msgs),
    ] {
        let mut out = Vec::with_capacity(doc.len());
        let mut inflater = Inflater::new(15, true);
        ours_inflate(&mut inflater, doc_input, &mut out);
        assert_eq!(out, doc, "plainws inflates the document");
        let mut out2 = Vec::with_capacity(doc.len());
        let (ours, miniz) = compare(
            doc.len(),
            budget,
            || {
                out.clear();
                ours_inflate(&mut inflater, black_box(doc_input), &mut out);
            },
            || {
                out2.clear();
                MinizReceiver::new().inflate_message(black_box(doc_input), &mut out2);
            },
        );
        assert_eq!(out2, doc, "miniz_oxide inflates the document");
        rows.push(Row {
            what: format!("inflate the 1 MiB document {label}: MB/s ↑"),
            ours,
            miniz,
            unit: "",
        });

        let mut out = Vec::new();
        let mut out2 = Vec::new();
        let (ours, miniz) = compare(
            msgs_bytes,
            budget,
            || {
                let mut inflater = Inflater::new(15, false);
                for m in msgs_input.iter() {
                    out.clear();
                    ours_inflate(&mut inflater, black_box(m), &mut out);
                }
            },
            || {
                let mut receiver = MinizReceiver::new();
                for m in msgs_input.iter() {
                    out2.clear();
                    receiver.inflate_message(black_box(m), &mut out2);
                }
            },
        );
        // Both give the messages back.
        let mut inflater = Inflater::new(15, false);
        let mut receiver = MinizReceiver::new();
        for (m, original) in msgs_input.iter().zip(&msgs) {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            ours_inflate(&mut inflater, m, &mut a);
            receiver.inflate_message(m, &mut b);
            assert!(a == *original && b == *original);
        }
        rows.push(Row {
            what: format!("inflate the messages {label}: MB/s ↑"),
            ours,
            miniz,
            unit: "",
        });
    }

    println!("| benchmark | plainws | miniz_oxide 0.8 | ratio |");
    println!("|---|---:|---:|---:|");
    for row in rows {
        let fmt = |v: f64| {
            if row.unit == "bytes" {
                format!("{v:.0}")
            } else {
                format!("{v:.1}")
            }
        };
        println!(
            "| {} | {} | {} | {:.2}× |",
            row.what,
            fmt(row.ours),
            fmt(row.miniz),
            row.ours / row.miniz
        );
    }
}
