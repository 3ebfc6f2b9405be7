//! `docs/protocol-tour.md` cannot drift from the code: every ```console
//! block in it starts with `$ cargo run -q --example tour -- ARGS`, and the
//! rest of the block must be exactly what `examples/tour.rs` prints for
//! those arguments (the tour's program is compiled into this test).

#[path = "../examples/tour.rs"]
mod tour;

use std::path::Path;

const COMMAND: &str = "$ cargo run -q --example tour -- ";

/// Each console block: its command's arguments and the output shown.
fn console_blocks(markdown: &str) -> Vec<(Vec<String>, String)> {
    let mut blocks = Vec::new();
    let mut lines = markdown.lines();
    while let Some(line) = lines.next() {
        if line.trim_end() != "```console" {
            continue;
        }
        let command = lines.next().expect("a command after ```console");
        let args = command
            .strip_prefix(COMMAND)
            .unwrap_or_else(|| panic!("a console block must start with {COMMAND:?}: {command}"));
        let output: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
        blocks.push((
            args.split_whitespace().map(str::to_owned).collect(),
            output.join("\n"),
        ));
    }
    blocks
}

#[test]
fn every_command_in_the_tour_prints_what_the_tour_shows() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/protocol-tour.md");
    let markdown = std::fs::read_to_string(&path).expect("read docs/protocol-tour.md");
    let blocks = console_blocks(&markdown);
    // Every kind of command is in the tour, so a dropped section fails too.
    for kind in [
        "handshake",
        "accept",
        "frame",
        "length",
        "session fragments",
        "session ping",
        "session close",
        "bad-frames",
        "bad-handshakes",
    ] {
        assert!(
            blocks
                .iter()
                .any(|(args, _)| args.join(" ").starts_with(kind)),
            "the tour has no `{kind}` command"
        );
    }
    let mut drifted = Vec::new();
    for (args, shown) in &blocks {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let real = tour::run(&args).unwrap_or_else(|e| format!("error: {e}"));
        if &real != shown {
            drifted.push(format!(
                "tour -- {}\n--- the tour shows ---\n{shown}\n--- the program prints ---\n{real}",
                args.join(" ")
            ));
        }
    }
    assert!(
        drifted.is_empty(),
        "{} of {} blocks in docs/protocol-tour.md differ from the real output \
         (regenerate them with the command in each block):\n\n{}",
        drifted.len(),
        blocks.len(),
        drifted.join("\n\n")
    );
}

#[test]
fn a_block_that_differs_is_caught() {
    let markdown =
        format!("```console\n{COMMAND}accept dGhlIHNhbXBsZSBub25jZQ==\nnot the output\n```\n");
    let blocks = console_blocks(&markdown);
    assert_eq!(blocks.len(), 1);
    let (args, shown) = &blocks[0];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_ne!(tour::run(&args).unwrap(), *shown);
    assert!(
        tour::run(&args)
            .unwrap()
            .contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    );
}
