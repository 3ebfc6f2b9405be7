#!/usr/bin/env python3
"""Autobahn TestSuite conformance harness for plainws, driven by `kosoku`.

kosoku (PyPI) runs the Autobahn TestSuite's own case files with a native
runner.  This script wraps it in two modes and applies a *strict* verdict:

  server  Start the server under test (--cmd), wait until it accepts TCP on
          --host:--port, run `kosoku -m fuzzingclient` against it, stop it.

  client  Start `kosoku -m fuzzingserver` on --host:--port, run the client under
          test (--cmd, with `{url}` replaced by ws://HOST:PORT).  The client
          must speak the Autobahn client protocol:
              GET {url}/getCaseCount                 -> one text message: N
              GET {url}/runCase?case=I&agent=A       (I = 1..N) echo everything
              GET {url}/updateReports?agent=A        -> kosoku writes the report
          kosoku exits on its own after /updateReports.

  check   Only re-check an existing report directory (no run).

Verdict: every case's `behavior` and `behaviorClose` must be OK, except
that the cases listed in EXPECTED_INFORMATIONAL (in this script) may also be
INFORMATIONAL: the suite reports those without judging them.  An
INFORMATIONAL result for any other case fails, so a case that drifts from
OK to INFORMATIONAL is noticed.  NON-STRICT, FAILED, UNIMPLEMENTED, WRONG
CODE, UNCLEAN, FAILED BY CLIENT, ERROR and cases missing from the report all
fail.  A missing report or a report with zero cases is an error, never a
pass.  scripts/test_autobahn.py checks this verdict on synthetic reports
(scripts/test.sh runs it).

The last line printed is always `autobahn-<mode>: N passed, M failed`.
Exit status: 0 = all cases passed, 1 = some case failed, 2 = the check itself
could not run (server never came up, timeout, no report, bad arguments).

kosoku is looked up as <repo>/.venv/bin/kosoku (see scripts/setup-venv.sh),
then on PATH.  Standard library only.

Examples:
  scripts/autobahn.py server --cmd "target/release/examples/echo_server 127.0.0.1:9001" \\
      --port 9001 --report-dir target/autobahn/server
  scripts/autobahn.py client --cmd "target/release/examples/autobahn_client {url}" \\
      --port 9002 --report-dir target/autobahn/client
  scripts/autobahn.py server --cmd "..." --cases '6.4.*' --cases 7.1.5
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

# Every case: 1.* .. 10.* and the permessage-deflate groups 12.* and 13.*.
# The suite has no groups 8 and 11 (and kosoku rejects an include pattern that
# matches nothing), so they are not listed.  517 cases in kosoku 0.1.0.
DEFAULT_CASES = ["1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "9.*", "10.*", "12.*", "13.*"]

# The only cases whose `behavior` or `behaviorClose` may be INFORMATIONAL.
# The suite reports these without a verdict: 7.1.6 (a large message sent
# right before a Close: whether all of it is read first depends on the
# implementation), 7.13.1 and 7.13.2 (Close frames with codes outside the
# ranges RFC 6455 assigns, whose handling the suite leaves open).  Any other
# case must be OK.
EXPECTED_INFORMATIONAL = frozenset({"7.1.6", "7.13.1", "7.13.2"})

EXIT_OK, EXIT_FAILED, EXIT_ERROR = 0, 1, 2


class HarnessError(Exception):
    """The check could not be carried out (as opposed to: cases failed)."""


# --------------------------------------------------------------------------
# kosoku discovery and case selection
# --------------------------------------------------------------------------


def find_kosoku(explicit: str | None) -> Path:
    """Locate the kosoku executable: --kosoku, <repo>/.venv/bin/kosoku, PATH."""
    candidates = []
    if explicit:
        candidates.append(Path(explicit))
    candidates.append(REPO_ROOT / ".venv" / "bin" / "kosoku")
    on_path = shutil.which("kosoku")
    if on_path:
        candidates.append(Path(on_path))
    for c in candidates:
        if c.is_file() and os.access(c, os.X_OK):
            return c
    raise HarnessError(
        "kosoku not found (looked at --kosoku, "
        f"{REPO_ROOT / '.venv/bin/kosoku'} and PATH); run scripts/setup-venv.sh"
    )


def kosoku_python(kosoku: Path) -> Path | None:
    """The interpreter kosoku runs under (its console-script shebang)."""
    sibling = kosoku.parent / "python"
    if sibling.exists():
        return sibling
    try:
        first = kosoku.read_text(errors="replace").splitlines()[0]
    except (OSError, IndexError):
        return None
    if first.startswith("#!"):
        return Path(first[2:].strip().split()[0])
    return None


def glob_regex(pattern: str) -> re.Pattern[str]:
    """kosoku's case-glob semantics (src/lib.rs compile_glob): '.' is literal,
    '*' is '.*', anchored at the start only.  A pattern without '*' is an
    exact id.  So '1.*' matches 1.1.1 but not 10.1.1."""
    if "*" not in pattern:
        return re.compile("^" + re.escape(pattern) + "$")
    return re.compile("^" + pattern.replace(".", r"\.").replace("*", ".*"))


def case_sort_key(case_id: str) -> list[int]:
    return [int(p) if p.isdigit() else 0 for p in case_id.split(".")]


def expected_case_ids(kosoku: Path, include: list[str], exclude: list[str]) -> list[str] | None:
    """The case ids kosoku will run for this selection, read from kosoku's own
    case index (kosoku.cases.CASES).  None if it cannot be determined; the
    report is then only required to be non-empty."""
    python = kosoku_python(kosoku)
    if python is None:
        return None
    try:
        out = subprocess.run(
            [str(python), "-c", "import json, kosoku.cases as c; print(json.dumps(list(c.CASES)))"],
            capture_output=True, text=True, timeout=60, check=True,
        ).stdout
        all_ids = json.loads(out)
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        print(f"warning: could not list kosoku's cases ({exc}); "
              "skipping the completeness check", file=sys.stderr)
        return None
    inc = [glob_regex(p) for p in include]
    exc = [glob_regex(p) for p in exclude]
    ids = [i for i in all_ids if any(r.match(i) for r in inc) and not any(r.match(i) for r in exc)]
    return sorted(set(ids), key=case_sort_key)


# --------------------------------------------------------------------------
# process helpers
# --------------------------------------------------------------------------


class Deadline:
    """The overall --timeout budget."""

    def __init__(self, seconds: float):
        self.end = time.monotonic() + seconds
        self.seconds = seconds

    def remaining(self) -> float:
        return max(0.0, self.end - time.monotonic())


def start_process(cmd: str | list[str], log_path: Path, what: str) -> subprocess.Popen:
    """Start `cmd` in its own process group (so the whole tree can be stopped),
    stdout+stderr appended to log_path.  A str cmd runs through /bin/sh."""
    log = open(log_path, "ab")
    shown = cmd if isinstance(cmd, str) else shlex.join(cmd)
    log.write(f"$ {shown}\n".encode())
    log.flush()
    print(f"[autobahn] starting {what}: {shown}  (log: {log_path})", flush=True)
    try:
        return subprocess.Popen(
            cmd, shell=isinstance(cmd, str), stdin=subprocess.DEVNULL,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=os.getcwd(),
        )
    except OSError as exc:
        raise HarnessError(f"could not start {what}: {exc}") from exc
    finally:
        log.close()  # the child holds its own copy of the descriptor


def stop_process(proc: subprocess.Popen | None, what: str, grace: float = 5.0) -> None:
    """SIGTERM the process group we started, then SIGKILL after `grace` s."""
    if proc is None or proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)  # proc.pid leads its own session/group
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            if sig == signal.SIGTERM:
                print(f"[autobahn] {what} ignored SIGTERM for {grace}s; killing", flush=True)


def port_accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for_port(host: str, port: int, proc: subprocess.Popen, what: str,
                  timeout: float, log_path: Path) -> None:
    """Wait until host:port accepts TCP; fail early if `proc` exits."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise HarnessError(
                f"{what} exited with status {proc.returncode} before listening on "
                f"{host}:{port}\n{log_tail(log_path)}")
        if port_accepts(host, port):
            return
        time.sleep(0.1)
    raise HarnessError(
        f"{what} did not accept TCP on {host}:{port} within {timeout:.0f}s\n{log_tail(log_path)}")


def log_tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return f"(no log at {path})"
    tail = "\n".join("    " + line for line in text[-lines:])
    return f"--- last {min(lines, len(text))} lines of {path} ---\n{tail}"


def clean_report_dir(report_dir: Path) -> None:
    """Remove a previous run's report files (only files kosoku/we write), so a
    stale index.json can never be mistaken for this run's result."""
    report_dir.mkdir(parents=True, exist_ok=True)
    for p in report_dir.iterdir():
        if p.is_file() and (p.name in ("index.json", "index.html", "kosoku.log", "server.log",
                                       "client.log")
                            or re.search(r"_case_[0-9_]+\.(json|html)$", p.name)):
            p.unlink()


def kosoku_cmd(kosoku: Path, mode: str, address: str, include: list[str],
               exclude: list[str], report_dir: Path, parallelism: int = 1) -> list[str]:
    cmd = [str(kosoku), "-m", mode, address, "-o", str(report_dir)]
    for pat in include:
        cmd += ["-i", pat]
    for pat in exclude:
        cmd += ["-x", pat]
    if mode == "fuzzingclient" and parallelism > 1:
        cmd += ["-p", str(parallelism)]
    return cmd


def require_report(report_dir: Path, kosoku_log: Path, rc: int | None) -> None:
    """Fail with kosoku's own output if it wrote no report (e.g. bad pattern,
    port in use, crash)."""
    if not (report_dir / "index.json").is_file():
        raise HarnessError(f"kosoku (exit status {rc}) wrote no report "
                           f"{report_dir / 'index.json'}\n{log_tail(kosoku_log)}")


def ensure_port_free(host: str, port: int) -> None:
    if port_accepts(host, port):
        raise HarnessError(
            f"something is already listening on {host}:{port}; stop it or pick another --port "
            "(otherwise the wrong peer would be tested)")


# --------------------------------------------------------------------------
# the two run modes
# --------------------------------------------------------------------------


def run_server_mode(args, kosoku: Path, report_dir: Path, deadline: Deadline) -> None:
    server_log = report_dir / "server.log"
    kosoku_log = report_dir / "kosoku.log"
    ensure_port_free(args.host, args.port)
    server = start_process(args.cmd, server_log, "server under test")
    try:
        wait_for_port(args.host, args.port, server, "server under test",
                      min(args.startup_timeout, deadline.remaining()), server_log)
        cmd = kosoku_cmd(kosoku, "fuzzingclient", f"{args.host}:{args.port}", args.cases,
                         args.exclude, report_dir, args.parallelism)
        fuzzer = start_process(cmd, kosoku_log, "kosoku fuzzingclient")
        try:
            rc = fuzzer.wait(timeout=deadline.remaining())
        except subprocess.TimeoutExpired:
            stop_process(fuzzer, "kosoku")
            raise HarnessError(
                f"timed out after {deadline.seconds:.0f}s (--timeout) while kosoku was running; "
                f"kosoku writes its report only at the end, so there is none\n{log_tail(kosoku_log)}")
        # kosoku exits 1 when a case fails by *its* (laxer) standard; that is
        # judged from the report below.  A missing report is caught there too.
        print(f"[autobahn] kosoku exited with status {rc}", flush=True)
        require_report(report_dir, kosoku_log, rc)
        if server.poll() is not None:
            print(f"[autobahn] note: the server under test exited during the run "
                  f"(status {server.returncode})\n{log_tail(server_log)}", flush=True)
    finally:
        stop_process(server, "server under test")


def run_client_mode(args, kosoku: Path, report_dir: Path, deadline: Deadline) -> str | None:
    """Returns a problem description if the client itself misbehaved."""
    client_log = report_dir / "client.log"
    kosoku_log = report_dir / "kosoku.log"
    ensure_port_free(args.host, args.port)
    cmd = kosoku_cmd(kosoku, "fuzzingserver", f"{args.host}:{args.port}", args.cases,
                     args.exclude, report_dir)
    fuzzer = start_process(cmd, kosoku_log, "kosoku fuzzingserver")
    client = None
    problem = None
    try:
        wait_for_port(args.host, args.port, fuzzer, "kosoku fuzzingserver",
                      min(args.startup_timeout, deadline.remaining()), kosoku_log)
        url = f"ws://{args.host}:{args.port}"
        client = start_process(args.cmd.replace("{url}", url), client_log, "client under test")
        try:
            crc = client.wait(timeout=deadline.remaining())
        except subprocess.TimeoutExpired:
            stop_process(client, "client under test")
            raise HarnessError(
                f"timed out after {deadline.seconds:.0f}s (--timeout) while the client was "
                f"running\n{log_tail(client_log)}")
        print(f"[autobahn] client exited with status {crc}", flush=True)
        if crc != 0:
            problem = f"client command exited with status {crc}\n{log_tail(client_log)}"
        # After /updateReports kosoku drains in-flight cases, writes the report
        # and exits by itself.  If it keeps running, the client never called
        # /updateReports (and there will be no report).
        try:
            rc = fuzzer.wait(timeout=min(20.0, deadline.remaining()))
            print(f"[autobahn] kosoku exited with status {rc}", flush=True)
            require_report(report_dir, kosoku_log, rc)
        except subprocess.TimeoutExpired:
            stop_process(fuzzer, "kosoku")
            raise HarnessError(
                "kosoku fuzzingserver was still running 20s after the client exited: the client "
                "never called /updateReports, so no report was written\n" + log_tail(client_log))
    finally:
        stop_process(client, "client under test")
        stop_process(fuzzer, "kosoku")
    return problem


# --------------------------------------------------------------------------
# report analysis
# --------------------------------------------------------------------------


# Verdicts that pass; every other verdict names why a case fails.
PASSING = ("OK", "INFORMATIONAL (expected)")


def verdict(case_id: str, behavior: str, behavior_close: str) -> str:
    """The harness's verdict on one case: a row of SUMMARY_ROWS."""
    results = (behavior, behavior_close)
    if all(r == "OK" for r in results):
        return "OK"
    if all(r in ("OK", "INFORMATIONAL") for r in results):
        if case_id in EXPECTED_INFORMATIONAL:
            return "INFORMATIONAL (expected)"
        return "UNEXPECTED INFORMATIONAL"
    for bad in ("FAILED", "NON-STRICT", "UNIMPLEMENTED"):
        if bad in results:
            return bad
    return "OTHER"


def case_passes(case_id: str, behavior: str, behavior_close: str) -> bool:
    return verdict(case_id, behavior, behavior_close) in PASSING


def load_report(report_dir: Path) -> dict[str, dict]:
    """index.json is {agent: {case_id: {behavior, behaviorClose, duration,
    remoteCloseCode, reportfile}}}.  Merge all agents (errored cases may be
    filed under the address instead of the Server header)."""
    index_path = report_dir / "index.json"
    if not index_path.is_file():
        raise HarnessError(f"no report: {index_path} does not exist (kosoku ran no case?)")
    try:
        index = json.loads(index_path.read_text())
    except ValueError as exc:
        raise HarnessError(f"unreadable report {index_path}: {exc}") from exc
    if not isinstance(index, dict):
        raise HarnessError(f"unexpected report format in {index_path}")
    cases: dict[str, dict] = {}
    for agent, entries in index.items():
        for case_id, entry in entries.items():
            entry = dict(entry, agent=agent)
            if case_id in cases:  # keep the worse verdict if a case shows up twice
                prev = cases[case_id]
                if not case_passes(case_id, prev["behavior"], prev["behaviorClose"]):
                    continue
            cases[case_id] = entry
    if len(index) > 1:
        print(f"[autobahn] note: report has {len(index)} agents: {', '.join(index)}")
    return cases


def case_details(report_dir: Path, entry: dict) -> dict:
    try:
        return json.loads((report_dir / entry["reportfile"]).read_text())
    except (OSError, KeyError, ValueError):
        return {}


def strip_html(text: str) -> str:
    text = re.sub(r"<br\s*/?>", " ", text or "")
    text = re.sub(r"<[^>]+>", "", text)
    return re.sub(r"\s+", " ", text).strip()


def fmt_counts(counter: Counter) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


SUMMARY_ROWS = [
    ("OK", "PASS: behavior and behaviorClose OK"),
    ("INFORMATIONAL (expected)", "PASS: a case of EXPECTED_INFORMATIONAL"),
    ("UNEXPECTED INFORMATIONAL", "FAIL: not in EXPECTED_INFORMATIONAL"),
    ("NON-STRICT", "FAIL"),
    ("FAILED", "FAIL"),
    ("UNIMPLEMENTED", "FAIL"),
    ("OTHER", "FAIL (WRONG CODE, UNCLEAN, ERROR, ...)"),
    ("MISSING", "FAIL: not in the report"),
]


def summary_counts(verdicts: dict[str, str], missing: list[str]) -> dict[str, int]:
    """How many cases fall in each row of the summary table."""
    counts = {row: 0 for row, _ in SUMMARY_ROWS}
    for v in verdicts.values():
        counts[v] += 1
    counts["MISSING"] = len(missing)
    return counts


def print_summary(verdicts: dict[str, str], missing: list[str]) -> None:
    counts = summary_counts(verdicts, missing)
    print()
    print(f"{'result':<26} {'cases':>5}  verdict")
    for row, meaning in SUMMARY_ROWS:
        print(f"{row:<26} {counts[row]:>5}  {meaning}")
    print(f"(EXPECTED_INFORMATIONAL: {', '.join(sorted(EXPECTED_INFORMATIONAL))})")


def analyse(report_dir: Path, expected: list[str] | None, label: str) -> tuple[int, int]:
    """Print the summary and failing cases; return (passed, failed)."""
    cases = load_report(report_dir)
    if not cases:
        raise HarnessError(f"report {report_dir / 'index.json'} contains zero cases")

    missing = [c for c in (expected or []) if c not in cases]
    unexpected = [c for c in cases if expected is not None and c not in expected]
    ids = sorted(cases, key=case_sort_key)

    # ---- totals per verdict
    beh = Counter(cases[c]["behavior"] for c in ids)
    close = Counter(cases[c]["behaviorClose"] for c in ids)
    print()
    print(f"== Autobahn {label} report: {report_dir / 'index.json'} ({len(ids)} cases"
          + (f", {len(expected)} expected" if expected is not None else "") + ")")
    print(f"behavior:      {fmt_counts(beh)}")
    print(f"behaviorClose: {fmt_counts(close)}")

    # ---- per case group (major number)
    groups: dict[str, list[str]] = {}
    for c in ids:
        groups.setdefault(c.split(".")[0], []).append(c)
    for c in missing:
        groups.setdefault(c.split(".")[0], [])
    print()
    print(f"{'group':>5} {'cases':>5} {'pass':>5} {'fail':>5}  behavior / behaviorClose")
    for g in sorted(groups, key=int):
        members = groups[g]
        n_pass = sum(case_passes(c, cases[c]["behavior"], cases[c]["behaviorClose"]) for c in members)
        n_miss = sum(1 for c in missing if c.split(".")[0] == g)
        b = fmt_counts(Counter(cases[c]["behavior"] for c in members))
        bc = fmt_counts(Counter(cases[c]["behaviorClose"] for c in members))
        miss = f"  MISSING={n_miss}" if n_miss else ""
        print(f"{g:>5} {len(members) + n_miss:>5} {n_pass:>5} {len(members) - n_pass + n_miss:>5}"
              f"  {b} / {bc}{miss}")

    # ---- slowest cases (useful for performance work; 9.x report timings)
    slow = sorted(ids, key=lambda c: cases[c].get("duration") or 0, reverse=True)[:5]
    total_ms = sum(cases[c].get("duration") or 0 for c in ids)
    print()
    print(f"case time total {total_ms / 1000:.1f}s; slowest: "
          + ", ".join(f"{c} {cases[c].get('duration', 0)}ms" for c in slow))

    # ---- the verdict, summed up
    verdicts = {c: verdict(c, cases[c]["behavior"], cases[c]["behaviorClose"]) for c in ids}
    print_summary(verdicts, missing)

    # ---- every case that fails
    failing = [c for c in ids if verdicts[c] not in PASSING]
    if failing or missing or unexpected:
        print()
        print(f"-- {len(failing) + len(missing)} case(s) failing:")
    for c in failing:
        e = cases[c]
        d = case_details(report_dir, e)
        print(f"{c:<8} {verdicts[c]}: behavior={e['behavior']:<13} "
              f"behaviorClose={e['behaviorClose']:<13} remoteCloseCode={e.get('remoteCloseCode')}")
        if d.get("description"):
            print(f"         description: {strip_html(d['description'])[:300]}")
        if d.get("expectation"):
            print(f"         expectation: {strip_html(d['expectation'])[:300]}")
        if d.get("result"):
            print(f"         result:      {strip_html(d['result'])[:300]}")
        if d.get("resultClose"):
            print(f"         resultClose: {strip_html(d['resultClose'])[:300]}")
        if d.get("received") is not None and d.get("expected") is not None:
            print(f"         received:    {json.dumps(d['received'])[:200]}")
            print(f"         expected:    {json.dumps(d['expected'])[:200]}")
        print(f"         report:      {report_dir / e['reportfile']}")
    for c in missing:
        print(f"{c:<8} MISSING from the report (the case never ran or never finished)")
    if unexpected:
        print(f"note: {len(unexpected)} case(s) in the report were not selected: "
              + ", ".join(unexpected[:10]))

    passed = len(ids) - len(failing)
    return passed, len(failing) + len(missing)


# --------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------


def split_patterns(values: list[str] | None) -> list[str]:
    out: list[str] = []
    for v in values or []:
        out += [p for p in re.split(r"[,\s]+", v) if p]
    return out


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Build the program under test before running (a `cargo run` inside --cmd counts "
               "against --startup-timeout).  Run `autobahn.py MODE --help` for the options.",
    )
    sub = p.add_subparsers(dest="mode", required=True)

    def common(sp, default_port: int, default_dir: str, run: bool = True):
        sp.add_argument("--report-dir", default=default_dir,
                        help=f"where kosoku writes index.json etc. (default {default_dir})")
        sp.add_argument("--cases", action="append", metavar="PATTERN",
                        help="case id or glob (kosoku syntax, e.g. 6.4.* or 7.1.5); repeatable "
                             "or comma-separated (default: 1.* .. 10.*)")
        sp.add_argument("--exclude", action="append", metavar="PATTERN",
                        help="case id or glob to drop from the selection; repeatable")
        sp.add_argument("--kosoku", help="path of the kosoku executable (default: "
                                         ".venv/bin/kosoku under the repo root, then PATH)")
        if run:
            sp.add_argument("--cmd", required=True, help="command line to start (run by /bin/sh)")
            sp.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
            sp.add_argument("--port", type=int, default=default_port,
                            help=f"TCP port (default {default_port})")
            sp.add_argument("--timeout", type=float, default=900.0,
                            help="limit in seconds for the whole run (default 900)")
            sp.add_argument("--startup-timeout", type=float, default=60.0,
                            help="seconds to wait for the listener to accept TCP (default 60)")

    sp = sub.add_parser("server", help="test a server: --cmd starts it listening on HOST:PORT")
    common(sp, 9001, "target/autobahn/server")
    sp.add_argument("--parallelism", type=int, default=1,
                    help="cases kosoku runs at once (default 1; >1 is faster but may "
                         "disturb the timing-sensitive 6.4.x cases)")

    sp = sub.add_parser("client", help="test a client: --cmd gets the base URL via {url}")
    common(sp, 9002, "target/autobahn/client")

    sp = sub.add_parser("check", help="re-check an existing report directory")
    common(sp, 0, "target/autobahn/server", run=False)
    sp.add_argument("--label", default="check", help="name used in the final line")

    args = p.parse_args(argv)
    args.cases = split_patterns(args.cases) or list(DEFAULT_CASES)
    args.exclude = split_patterns(args.exclude)
    if args.mode == "client" and "{url}" not in args.cmd:
        p.error("client --cmd must contain the {url} placeholder, e.g. 'my-client {url}'")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    label = args.label if args.mode == "check" else args.mode
    report_dir = Path(args.report_dir).resolve()
    expected: list[str] | None = None
    started = time.monotonic()
    try:
        kosoku = find_kosoku(args.kosoku)
        expected = expected_case_ids(kosoku, args.cases, args.exclude)
        if expected is not None and not expected:
            raise HarnessError(f"the selection {args.cases} minus {args.exclude} matches no case")
        client_problem = None
        if args.mode != "check":
            clean_report_dir(report_dir)
            deadline = Deadline(args.timeout)
            print(f"[autobahn] {label} mode, cases {' '.join(args.cases)}"
                  + (f" minus {' '.join(args.exclude)}" if args.exclude else "")
                  + (f" ({len(expected)} cases)" if expected is not None else "")
                  + f", report dir {report_dir}", flush=True)
            if args.mode == "server":
                run_server_mode(args, kosoku, report_dir, deadline)
            else:
                client_problem = run_client_mode(args, kosoku, report_dir, deadline)
            print(f"[autobahn] run took {time.monotonic() - started:.1f}s", flush=True)
        passed, failed = analyse(report_dir, expected, label)
        if client_problem:
            print(f"\nerror: {client_problem}")
            failed += 1
    except HarnessError as exc:
        print(f"\nautobahn-{label}: error: {exc}", flush=True)
        # The cases did not run (or were not reported): none of them passed.
        print(f"autobahn-{label}: 0 passed, {len(expected) if expected else 1} failed")
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(f"\nautobahn-{label}: interrupted")
        print(f"autobahn-{label}: 0 passed, {len(expected) if expected else 1} failed")
        return EXIT_ERROR

    print()
    print(f"autobahn-{label}: {passed} passed, {failed} failed")
    return EXIT_OK if failed == 0 and passed > 0 else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
