//! `examples/readme_server.rs` is the README's threaded server, so that the
//! benchmark's "plainws" column measures the code users copy: its source
//! must equal the README's "A threaded server with split halves" block line
//! for line, after its `//!` header, except the address line. The README's
//! `TcpListener::bind("ADDR")` line becomes two lines in the example:
//!
//! ```text
//! let addr = std::env::args().nth(1);
//! let listener = TcpListener::bind(addr.as_deref().unwrap_or("ADDR"))?;
//! ```
//!
//! with the README's indentation and address. Nothing else is normalized,
//! not even whitespace.

use std::fs;
use std::path::Path;

const HEADING: &str = "## A threaded server with split halves";
const BIND: &str = "TcpListener::bind(\"";

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The lines of the first ```rust block under `heading`, before the next
/// heading of any level.
fn readme_block<'a>(readme: &'a str, heading: &str) -> Result<Vec<&'a str>, String> {
    let mut lines = readme
        .lines()
        .skip_while(|l| l.trim_end() != heading)
        .skip(1);
    loop {
        match lines.next() {
            None => return Err(format!("README.md: no ```rust block under {heading:?}")),
            Some(l) if l.starts_with('#') => {
                return Err(format!("README.md: no ```rust block under {heading:?}"));
            }
            Some(l) if l.starts_with("```rust") => break,
            Some(_) => {}
        }
    }
    let mut block = Vec::new();
    for l in lines {
        if l.starts_with("```") {
            return Ok(block);
        }
        block.push(l);
    }
    Err("README.md: the ```rust block never ends".into())
}

/// What the example must be: `block` with its one `TcpListener::bind("...")`
/// line turned into the two lines that read the address argument.
fn expected_example(block: &[&str]) -> Result<Vec<String>, String> {
    let binds: Vec<usize> = (0..block.len())
        .filter(|&i| block[i].contains(BIND))
        .collect();
    let [at] = binds[..] else {
        return Err(format!(
            "the README block must contain exactly one `{BIND}...\")` line, found {}",
            binds.len()
        ));
    };
    let line = block[at];
    let start = line.find(BIND).unwrap() + BIND.len();
    let len = line[start..]
        .find('"')
        .ok_or("the README's address literal never ends")?;
    let (head, addr, tail) = (
        &line[..start - 1],
        &line[start..start + len],
        &line[start + len + 1..],
    );
    let indent = &line[..line.len() - line.trim_start().len()];
    let mut expected: Vec<String> = block[..at].iter().map(|l| l.to_string()).collect();
    expected.push(format!("{indent}let addr = std::env::args().nth(1);"));
    expected.push(format!("{head}addr.as_deref().unwrap_or(\"{addr}\"){tail}"));
    expected.extend(block[at + 1..].iter().map(|l| l.to_string()));
    Ok(expected)
}

/// The example's code: its lines after the leading `//!` header and the
/// blank lines that follow it.
fn example_code(source: &str) -> Vec<&str> {
    source
        .lines()
        .skip_while(|l| l.starts_with("//!"))
        .skip_while(|l| l.is_empty())
        .collect()
}

fn check(readme: &str, example: &str) -> Result<(), String> {
    let expected = expected_example(&readme_block(readme, HEADING)?)?;
    let actual = example_code(example);
    let n = expected.len().max(actual.len());
    for i in 0..n {
        let (want, got) = (expected.get(i).map(String::as_str), actual.get(i).copied());
        if want != got {
            return Err(format!(
                "examples/readme_server.rs differs from the README's {HEADING:?} block \
                 at code line {}:\n  README (address line normalized): {want:?}\n  \
                 example:                          {got:?}\n\
                 Copy the README block into the example (keeping its `//!` header and its \
                 two address lines); if the README changed, `cargo fmt` may have to agree \
                 with it.",
                i + 1
            ));
        }
    }
    Ok(())
}

#[test]
fn example_is_the_readme_server() {
    if let Err(e) = check(&read("README.md"), &read("examples/readme_server.rs")) {
        panic!("{e}");
    }
}

#[test]
fn any_other_difference_is_caught() {
    let readme = read("README.md");
    let example = read("examples/readme_server.rs");
    check(&readme, &example).unwrap();
    // A changed line, an added line, a removed line, trailing whitespace.
    let changed = example.replacen("\"welcome\"", "\"hello\"", 1);
    let added = example.replacen("    Ok(())\n", "    Ok(())\n    // extra\n", 1);
    let removed = example.replacen(
        "            // Any number of threads may use clones of `sender` at once.\n",
        "",
        1,
    );
    let spaces = example.replacen("Ok(())\n}", "Ok(()) \n}", 1);
    let other_default = example.replacen("\"127.0.0.1:9001\"", "\"127.0.0.1:9002\"", 1);
    for bad in [changed, added, removed, spaces, other_default] {
        assert_ne!(bad, example);
        assert!(check(&readme, &bad).is_err(), "not caught:\n{bad}");
    }
    // The README's own address, whatever it is, is the example's default.
    let moved = readme.replacen(
        "TcpListener::bind(\"127.0.0.1:9001\")",
        "TcpListener::bind(\"0.0.0.0:80\")",
        1,
    );
    assert!(check(&moved, &example).is_err());
    let moved_example = example.replacen("\"127.0.0.1:9001\"", "\"0.0.0.0:80\"", 1);
    check(&moved, &moved_example).unwrap();
}
