//! The sans-I/O core (`src/sansio/`) stays pure: no sockets, threads,
//! locks or clocks, and nothing imported from the drivers around it. The
//! `no_std` build (`scripts/test.sh`) proves it compiles without `std`;
//! this test keeps the words themselves out, so a `std` feature gate
//! cannot sneak them back in.

use std::fs;
use std::path::{Path, PathBuf};

/// Words the core must not contain (outside comments).
const FORBIDDEN: &[&str] = &[
    "std::net",
    "std::io",
    "std::thread",
    "std::sync",
    "std::time",
    "std::fs",
    "std::env",
    "std::process",
    "Instant",
    "SystemTime",
    "crate::blocking",
    "crate::tokio",
    "tokio::",
    "crate::json",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("read src/sansio") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// A line's code, without a trailing `//` comment (doc comments included).
fn code_of(line: &str) -> &str {
    match line.find("//") {
        Some(at) => &line[..at],
        None => line,
    }
}

#[test]
fn the_core_mentions_no_io_threads_locks_or_clocks() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/sansio");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    assert!(
        files.len() >= 10,
        "found only {} files in the core",
        files.len()
    );
    let mut found = Vec::new();
    for file in &files {
        let text = fs::read_to_string(file).expect("read a core file");
        for (number, line) in text.lines().enumerate() {
            let code = code_of(line);
            for word in FORBIDDEN {
                if code.contains(word) {
                    found.push(format!("{}:{}: {word}", file.display(), number + 1));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "the core must stay pure:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_core_imports_nothing_from_the_drivers_or_std() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/sansio");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let allowed_crate_paths = ["crate::sansio::", "crate::error::"];
    let forbidden_crates = ["std::", "::std::", "serde", "serde_json", "libc"];
    let mut found = Vec::new();
    for file in &files {
        let text = fs::read_to_string(file).expect("read a core file");
        for (number, line) in text.lines().enumerate() {
            let code = code_of(line).trim_start();
            let Some(path) = code
                .strip_prefix("use ")
                .or_else(|| code.strip_prefix("pub use "))
                .or_else(|| code.strip_prefix("pub(crate) use "))
            else {
                continue;
            };
            let outside_crate = path.starts_with("crate::")
                && !allowed_crate_paths.iter().any(|p| path.starts_with(p));
            let forbidden = forbidden_crates.iter().any(|p| path.starts_with(p));
            if outside_crate || forbidden {
                found.push(format!("{}:{}: {code}", file.display(), number + 1));
            }
        }
    }
    assert!(
        found.is_empty(),
        "the core imports from outside:\n{}",
        found.join("\n")
    );
}
