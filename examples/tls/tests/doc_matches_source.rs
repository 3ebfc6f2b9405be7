//! `docs/tls.md` shows this crate's code: every Rust block in it is a whole
//! file of this crate, named on the line before it, and must equal that
//! file byte for byte. So the code a reader copies is the code that the
//! tests of this crate compile and run.
//!
//! After changing the code, `BLESS=1 cargo test --test doc_matches_source`
//! rewrites the blocks in the doc from the files.

use std::fs;
use std::path::{Path, PathBuf};

const MARKER: &str = "<!-- the whole of ";

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn doc_path() -> PathBuf {
    crate_dir().join("../../docs/tls.md")
}

/// A Rust block of the doc: the file it shows (relative to this crate),
/// and the line range of its contents.
struct Block {
    file: String,
    body: std::ops::Range<usize>,
}

fn blocks(lines: &[&str]) -> Vec<Block> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim_start().starts_with("```rust") {
            let file = i
                .checked_sub(1)
                .and_then(|before| lines[before].strip_prefix(MARKER))
                .and_then(|rest| rest.strip_suffix(" -->"))
                .unwrap_or_else(|| {
                    panic!(
                        "docs/tls.md line {}: a Rust block without a `{MARKER}FILE -->` line \
                         before it; show only this crate's files, whole",
                        i + 1
                    )
                });
            let start = i + 1;
            let end = (start..lines.len())
                .find(|&j| lines[j].trim_end() == "```")
                .unwrap_or_else(|| panic!("docs/tls.md line {}: unclosed block", i + 1));
            out.push(Block {
                file: file.to_owned(),
                body: start..end,
            });
            i = end;
        }
        i += 1;
    }
    out
}

fn source(file: &str) -> String {
    let path = crate_dir().join(Path::new(file));
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_rust_block_of_the_doc_is_a_file_of_this_crate() {
    let doc = fs::read_to_string(doc_path()).expect("docs/tls.md");
    let lines: Vec<&str> = doc.lines().collect();
    let blocks = blocks(&lines);
    let shown: Vec<&str> = blocks.iter().map(|b| b.file.as_str()).collect();
    assert_eq!(
        shown,
        ["src/lib.rs", "tests/wss_echo.rs"],
        "the doc shows the adapters and the loopback test"
    );

    if std::env::var_os("BLESS").is_some() {
        let mut out: Vec<String> = Vec::new();
        let mut at = 0;
        for block in &blocks {
            out.extend(lines[at..block.body.start].iter().map(|l| l.to_string()));
            out.extend(source(&block.file).lines().map(str::to_owned));
            at = block.body.end;
        }
        out.extend(lines[at..].iter().map(|l| l.to_string()));
        fs::write(doc_path(), out.join("\n") + "\n").expect("docs/tls.md written");
        return;
    }

    for block in &blocks {
        let shown = lines[block.body.clone()].join("\n") + "\n";
        let actual = source(&block.file);
        if shown != actual {
            let line = shown
                .lines()
                .zip(actual.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(shown.lines().count().min(actual.lines().count()));
            panic!(
                "docs/tls.md shows {} differently from the file, from its line {} on; \
                 run `BLESS=1 cargo test --test doc_matches_source` in examples/tls",
                block.file,
                line + 1
            );
        }
    }
}
