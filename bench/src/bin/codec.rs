//! Codec micro-benchmarks, each against its limit in the same run:
//! unmasking and UTF-8 validation in GB/s against `memcpy` and
//! `std::str::from_utf8`, frame decoding in ns per small frame.
//!
//! ```text
//! cargo run --release -p plainws-bench --bin codec
//! ```

use std::hint::black_box;
use std::time::{Duration, Instant};

use plainws::sansio::decoder::{Decoded, FrameDecoder};
use plainws::sansio::frame::{FrameHeader, Opcode, Role, encode_frame};
use plainws::sansio::mask::{apply_mask, apply_mask_naive};
use plainws::sansio::utf8::Utf8Validator;

/// Runs `f` (which processes `bytes` bytes) repeatedly for about `budget`,
/// five times, and returns the median throughput in GB/s.
fn throughput(bytes: usize, budget: Duration, mut f: impl FnMut()) -> f64 {
    let mut rates = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let mut rounds = 0u64;
        while started.elapsed() < budget {
            f();
            rounds += 1;
        }
        let secs = started.elapsed().as_secs_f64();
        rates.push(bytes as f64 * rounds as f64 / secs / 1e9);
    }
    rates.sort_by(f64::total_cmp);
    rates[2]
}

fn main() {
    let budget = Duration::from_millis(200);
    let size = 1 << 20;
    let mut data: Vec<u8> = (0..size).map(|i| (i * 31 % 251) as u8).collect();
    let mut copy_target = vec![0u8; size];
    let key = [0x37, 0xfa, 0x21, 0x3d];

    let memcpy = throughput(size, budget, || {
        copy_target.copy_from_slice(black_box(&data));
        black_box(&copy_target);
    });
    let unmask = throughput(size, budget, || {
        apply_mask(black_box(&mut data), key, 1);
        black_box(&data);
    });
    let naive = throughput(size, budget, || {
        apply_mask_naive(black_box(&mut data), key, 1);
        black_box(&data);
    });

    let ascii: Vec<u8> = (0..size).map(|i| b'a' + (i % 26) as u8).collect();
    let mixed: Vec<u8> = "Grüße, κόσμε, 世界! 🎉 "
        .bytes()
        .cycle()
        .take(size - 8)
        .collect::<Vec<u8>>();
    let mixed = {
        // Cut on a character boundary.
        let text = String::from_utf8_lossy(&mixed).into_owned();
        let mut end = text.len().min(size - 16);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.as_bytes()[..end].to_vec()
    };
    let mut utf8_rows = Vec::new();
    for (name, input) in [("ASCII", &ascii), ("mixed", &mixed)] {
        let std = throughput(input.len(), budget, || {
            black_box(std::str::from_utf8(black_box(input)).is_ok());
        });
        let mut out = String::with_capacity(input.len());
        let ours = throughput(input.len(), budget, || {
            out.clear();
            let mut validator = Utf8Validator::new();
            // As a message arrives: in 16 KiB reads.
            for piece in black_box(input).chunks(16 << 10) {
                validator.feed(piece, &mut out).unwrap();
            }
            validator.finish().unwrap();
            black_box(&out);
        });
        // As a message arrives: in reads of the smallest buffer (4 KiB) and
        // of a grown one (64 KiB).
        let check_in = |piece: usize| {
            throughput(input.len(), budget, || {
                let mut validator = Utf8Validator::new();
                for piece in black_box(input).chunks(piece) {
                    validator.check(piece).unwrap();
                }
                black_box(validator.finish().is_ok());
            })
        };
        let check = (check_in(4 << 10), check_in(64 << 10));
        // The same work std does when it builds the String too.
        let std_build = throughput(input.len(), budget, || {
            out.clear();
            out.push_str(std::str::from_utf8(black_box(input)).unwrap());
            black_box(&out);
        });
        utf8_rows.push((name, std, std_build, ours, check));
    }

    // Frame decode: many small masked frames in one buffer, as one read.
    let mut stream = Vec::new();
    let frames = 10_000;
    for i in 0..frames {
        let payload = [b'x'; 32];
        let header = FrameHeader::new(Opcode::Binary, 32, Some([i as u8, 2, 3, 4]));
        encode_frame(&mut stream, &header, &payload);
    }
    let mut work = stream.clone();
    let mut decoder = FrameDecoder::new(Role::Server, 1 << 20);
    // Unmasking in place toggles the payloads between rounds; the headers
    // stay, so the same buffer decodes again without a refill.
    let decode_rate = throughput(frames, budget, || {
        let mut at = 0;
        let mut payload_bytes = 0;
        while at < work.len() {
            let (used, step) = decoder.decode(&mut work[at..]).unwrap();
            at += used;
            match step {
                Decoded::Payload { data, .. } => payload_bytes += data.len(),
                Decoded::NeedMore => break,
                Decoded::Header(_) => {}
            }
        }
        black_box(payload_bytes);
    });
    let copy_rate = throughput(frames, budget, || {
        work.copy_from_slice(black_box(&stream));
        black_box(&work);
    });
    let ns_per_frame = 1.0 / decode_rate;
    let copy_ns_per_frame = 1.0 / copy_rate;

    println!("| benchmark | plainws | limit | ratio |");
    println!("|---|---|---|---|");
    println!(
        "| unmask 1 MiB in cache | {unmask:.1} GB/s | memcpy {memcpy:.1} GB/s | {:.2} (byte loop: {naive:.1} GB/s) |",
        unmask / memcpy
    );
    for (name, std, std_build, ours, (check_small, check_large)) in utf8_rows {
        for (size, check) in [("4 KiB", check_small), ("64 KiB", check_large)] {
            println!(
                "| UTF-8 validate in {size} pieces, {name} | {check:.1} GB/s | std::str::from_utf8 on the whole {std:.1} GB/s | {:.2} |",
                check / std
            );
        }
        println!(
            "| UTF-8 validate + build String, {name} | {ours:.1} GB/s | std::str::from_utf8 {std:.1} GB/s (+ push_str {std_build:.1}) | {:.2} ({:.2} vs from_utf8 + push_str) |",
            ours / std,
            ours / std_build
        );
    }
    println!(
        "| decode 32 B masked frames | {ns_per_frame:.1} ns/frame | memcpy of the same bytes {copy_ns_per_frame:.1} ns/frame | {:.2} |",
        ns_per_frame / copy_ns_per_frame
    );
}
