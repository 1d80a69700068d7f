"""The command line at its edges (issue 15): standard streams closed or full,
signals, a manifest on standard input verified as it arrives, several
manifests in one run.

What GNU's tools do is tests/test_gnu_diff.py's and test_gnu_coreutils.py's
to compare; this file holds checksig to its own promises: never a traceback,
nothing left behind, bounded memory, one JSON document per manifest.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from gnu_trees import GNU_ENV, TIMEOUT, Result, run_checksig

from checksig import _console


def sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """root/ with a, sub/b, sha1sum.txt (both ok) and bad.sum (a mismatch, a
    missing file, a malformed line); the manifests also in good.sum, out of ROOT."""
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "a").write_bytes(b"alpha\n")
    (root / "sub" / "b").write_bytes(b"beta\n")
    good = f"{sha1(b'alpha' + bytes([10]))}  a\n{sha1(b'beta' + bytes([10]))}  sub/b\n"
    (root / "sha1sum.txt").write_text(good)
    (tmp_path / "good.sum").write_text(good)
    (root / "bad.sum").write_text(f"{'0' * 40}  a\n{sha1(b'')}  gone\njunk\n")
    return root


# --- closed and full standard streams: never a traceback -----------------------------------------

#: Runs checksig's console entry point; a traceback that would escape it (and
#: be lost with a closed stderr) goes to the file named first instead, as
#: does any "Exception ignored" report.
PROBE = textwrap.dedent(
    """
    import sys, traceback
    report = sys.argv.pop(1)
    def keep(*lines):
        with open(report, "a") as f:
            f.writelines(lines)
    sys.unraisablehook = lambda u: keep(*traceback.format_exception(u.exc_value), "unraisable\\n")
    sys.argv[0] = "checksig"
    try:
        from checksig.__main__ import run
        run()
    except BaseException:
        keep(traceback.format_exc())
        raise
    """
)

#: (arguments, whether it reads standard input); the tree fixture's files.
COMMANDS = [
    (["check", "bad.sum"], False),
    (["check", "--status", "bad.sum"], False),
    (["check", "-"], True),
    (["check", "sha1sum.txt", "-", "bad.sum", "--json"], True),
    (["check", "--extra", "-m", "sha1sum.txt", "-m", "-"], True),
    (["digest", "a"], False),
    (["digest"], True),
    (["make", ".", "-o", "-"], False),
    (["make", "sub", "-o", "../written.sum"], False),  # outside the tree the others read
    (["--version"], False),
    (["check", "--bogus"], False),
]

#: How each situation redirects a stream, in sh syntax.
SITUATIONS = {
    "stdin closed": "<&-",
    "stdout closed": ">&-",
    "stdout full": ">/dev/full",
    "stderr closed": "2>&-",
    "stderr full": "2>/dev/full",
}


def _start(root: Path, args: list[str], redirect: str, report: Path) -> subprocess.Popen:
    """checksig ARGS under PROBE, one stream redirected as sh would (<&-, >/dev/full, ...)."""
    cmd = ["sh", "-c", f'exec "$@" {redirect}', "sh", sys.executable, "-c", PROBE, str(report)]
    return subprocess.Popen(
        cmd + args,
        cwd=root,
        env=GNU_ENV,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_every_command_with_closed_or_full_standard_streams(tree: Path, tmp_path: Path) -> None:
    good = (tree / "sha1sum.txt").read_bytes()
    runs = []
    for n, (args, _) in enumerate(COMMANDS):
        for situation, redirect in SITUATIONS.items():
            report = tmp_path / f"crash-{n}-{situation.replace(' ', '-')}"
            runs.append((args, situation, report, _start(tree, args, redirect, report)))
    # What each says with every stream open (in this process: the same code).
    results = {(tuple(args), "baseline"): run_checksig(args, tree, good) for args, _ in COMMANDS}
    for args, situation, report, proc in runs:
        try:
            out, err = proc.communicate(good, timeout=TIMEOUT)
        except BrokenPipeError:  # pragma: no cover - stdin closed before it was written
            out, err = proc.communicate(timeout=TIMEOUT)
        finally:
            proc.kill()
        crash = report.read_text() if report.exists() else ""
        assert crash == "", (args, situation, crash)
        assert b"Traceback" not in err and b"Exception" not in err, (args, situation, err)
        results[(tuple(args), situation)] = Result(out, err, proc.returncode)
    for args, reads in COMMANDS:
        base = results[(tuple(args), "baseline")]
        assert base.status in (0, 1, 2), (args, base)
        for situation in SITUATIONS:
            r = results[(tuple(args), situation)]
            why = (args, situation, r)
            if situation == "stdin closed":
                if reads:  # GNU's last words on a closed stdin, exit 1
                    assert r.status == 1, why
                    assert r.stderr.endswith(b"checksig: standard input: Bad file descriptor\n")
                else:
                    assert r == base, why
            elif situation.startswith("stdout"):
                reason = (
                    b"Bad file descriptor" if "closed" in situation else b"No space left on device"
                )
                if base.stdout:
                    # The run stops at its first failed write: what it said
                    # before, then the write error (FORMATS.md F10).
                    *said, last = r.stderr.splitlines()
                    assert r.status == 1 and r.stdout == b"", why
                    assert said == base.stderr.splitlines()[: len(said)], why
                    assert last == b"checksig: write error: " + reason, why
                else:
                    assert r == base, why
            else:  # stderr: its messages are lost; one that was lost fails the run
                assert r.stdout == base.stdout and r.stderr == b"", why
                expected = base.status or (1 if base.stderr else 0)
                assert r.status == expected, why


# --- signals: a killed run leaves nothing behind -------------------------------------------------


@contextlib.contextmanager
def watchdog(*procs: subprocess.Popen) -> Iterator[None]:
    """Kill the processes if the block takes longer than TIMEOUT."""
    timer = threading.Timer(TIMEOUT, lambda: [p.kill() for p in procs])
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        for p in procs:
            p.kill()
            p.wait(timeout=TIMEOUT)


SIGNALS = [
    pytest.param(signal.SIGTERM, -signal.SIGTERM, id="SIGTERM"),
    pytest.param(signal.SIGHUP, -signal.SIGHUP, id="SIGHUP"),
    pytest.param(signal.SIGINT, 130, id="SIGINT"),
]


@pytest.mark.parametrize("signum,status", SIGNALS)
def test_a_killed_check_of_an_endless_pipe_leaves_nothing(
    tree: Path, tmp_path: Path, signum: int, status: int
) -> None:
    # `yes LINE | checksig check -` under `timeout`: lines are answered as they
    # come, nothing is spooled, and the signal ends the run by that signal.
    spool = tmp_path / "tmp"
    spool.mkdir()
    line = f"{sha1(b'alpha' + bytes([10]))}  a\n".encode()
    env = dict(GNU_ENV, TMPDIR=str(spool))
    check = subprocess.Popen(
        [sys.executable, "-m", "checksig", "check", "-"],
        cwd=tree,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert check.stdin is not None and check.stdout is not None

    def feed() -> None:
        with contextlib.suppress(OSError, ValueError):
            while True:
                check.stdin.write(line * 1000)

    writer = threading.Thread(target=feed, daemon=True)
    with watchdog(check):
        writer.start()
        assert check.stdout.readline() == b"a: OK\n"  # answered while the stream goes on
        assert list(spool.iterdir()) == []
        check.send_signal(signum)
        err = check.stderr.read() if check.stderr else b""
        assert check.wait(timeout=TIMEOUT) == status, err
    assert list(spool.iterdir()) == [] and b"Traceback" not in err


@pytest.mark.parametrize("to_stdout", [True, False], ids=["-o -", "ROOT/sha256sum.txt"])
@pytest.mark.parametrize("signum,status", SIGNALS)
def test_a_killed_make_leaves_nothing(
    tmp_path: Path, signum: int, status: int, to_stdout: bool
) -> None:
    # A sparse 64 GiB file takes far longer than a second to hash; the forced
    # bar says the run is under way, then the signal: no temporary file or
    # directory stays, in TMPDIR or beside the manifest, and none is written.
    spool, root = tmp_path / "tmp", tmp_path / "root"
    spool.mkdir()
    root.mkdir()
    with open(root / "big", "wb") as f:
        f.truncate(64 << 30)
    args = ["make", str(root), "--progress", "-j", "1"] + (["-o", "-"] if to_stdout else [])
    proc = subprocess.Popen(
        [sys.executable, "-m", "checksig", *args],
        cwd=tmp_path,
        env=dict(GNU_ENV, TMPDIR=str(spool)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stderr is not None
    with watchdog(proc):
        seen = b""
        while b"%" not in seen:
            chunk = os.read(proc.stderr.fileno(), 4096)
            assert chunk, f"no progress bar before the end: {seen!r}"
            seen += chunk
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == status, (seen, err)
    assert out == b"" and b"Traceback" not in err
    assert list(spool.iterdir()) == []
    assert sorted(p.name for p in root.iterdir()) == ["big"]


def test_the_signal_handlers_are_put_back(tree: Path) -> None:
    # In-process runs (tests, a host program) get their own handlers back.
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGHUP)
    assert run_checksig(["check"], tree).status == 0
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGHUP)) == before


# --- standard input: verified as it arrives, in bounded memory ------------------------------------


def test_stdin_lines_are_answered_as_they_arrive(tree: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "checksig", "check", "-m", "-", "--warn"],
        cwd=tree,
        env=GNU_ENV,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin and proc.stdout and proc.stderr
    with watchdog(proc):
        proc.stdin.write(f"{sha1(b'alpha' + bytes([10]))}  a\n".encode())
        proc.stdin.flush()
        assert proc.stdout.readline() == b"a: OK\n"  # before the stream ends
        proc.stdin.write(f"junk\n{'0' * 40}  sub/b\n".encode())
        proc.stdin.flush()
        assert proc.stdout.readline() == b"sub/b: FAILED\n"
        proc.stdin.close()
        assert proc.stdout.read() == b""
        assert proc.stderr.read() == (
            b"checksig: 'standard input': 2: improperly formatted checksum line\n"
            b"checksig: WARNING: 1 line is improperly formatted\n"
            b"checksig: WARNING: 1 computed checksum did NOT match\n"
        )
        assert proc.wait(timeout=TIMEOUT) == 1


def test_stdin_is_verified_in_bounded_memory_without_a_spool(tmp_path: Path) -> None:
    # 128 MiB of manifest through a pipe (160,000 missing 800-byte names,
    # ignored): the peak RSS stays under half of it, nothing is written to
    # TMPDIR, and every line is read (the last one, OK, decides the status).
    spool = tmp_path / "tmp"
    spool.mkdir()
    (tmp_path / "last").write_bytes(b"last")
    name = "d/" * 400 + "x"
    line = f"{sha1(b'')}  {name}\n"
    lines = (128 << 20) // len(line)
    code = textwrap.dedent(
        f"""
        import resource, subprocess, sys
        check = subprocess.Popen(
            [sys.executable, "-m", "checksig", "check", "-", "--quiet", "--ignore-missing"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        block = {line!r}.encode() * 1000
        for _ in range({lines} // 1000):
            check.stdin.write(block)
        check.stdin.write({f"{sha1(b'last')}  last{chr(10)}"!r}.encode())
        check.stdin.close()
        out, err = check.stdout.read(), check.stderr.read()
        print(check.wait(), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, out, err)
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=dict(GNU_ENV, TMPDIR=str(spool)),
        capture_output=True,
        timeout=TIMEOUT * 3,
        text=True,
    )
    status, peak_kib, out, err = proc.stdout.split(" ", 3)
    assert (status, out, err.strip()) == ("0", "b''", "b''"), proc
    assert int(peak_kib) < 64 << 10, f"peak RSS {int(peak_kib) >> 10} MiB for 128 MiB of manifest"
    assert list(spool.iterdir()) == []


def test_progress_across_the_jobs_of_a_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    # One bar for a whole stream verified a chunk at a time: running totals
    # of files and bytes, no percentage (a stream's end is not known).
    class TTY(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = TTY()
    clock = iter([0.0, 2.0, 3.0])
    monkeypatch.setattr(_console.time, "monotonic", lambda: next(clock))
    bar = _console.ProgressLine(True, stream, label="standard input", streaming=True)
    bar({"files_done": 2, "bytes_done": 1000, "files_total": 2, "bytes_total": 1000})
    assert "\rstandard input: 2 files  1000 B" in stream.getvalue()
    bar.close()
    bar.next_job()
    bar({"files_done": 3, "bytes_done": 2048, "files_total": 3, "bytes_total": 2048})
    assert stream.getvalue().endswith("\x1b[K") and "5 files  3.0 KiB" in stream.getvalue()
    assert "%" not in stream.getvalue()


# --- several manifests: the text, JSON and --extra ------------------------------------------------


def json_documents(text: bytes) -> list[dict]:
    """The JSON documents of a --json run, one after the other."""
    decoder, docs, s, i = json.JSONDecoder(), [], text.decode("ascii"), 0
    while i < len(s):
        doc, i = decoder.raw_decode(s, i)
        docs.append(doc)
        i += len(s[i:]) - len(s[i:].lstrip())
    return docs


def test_json_one_document_per_manifest(tree: Path) -> None:
    r = run_checksig(
        ["check", "--json", "sha1sum.txt", "-", "nope", "bad.sum"],
        tree,
        stdin=(tree / "sha1sum.txt").read_bytes() + b"junk\n",
    )
    assert r.status == 1
    assert r.stderr == b"checksig: nope: No such file or directory\n"
    docs = json_documents(r.stdout)
    assert [d["manifest"] for d in docs] == ["sha1sum.txt", "standard input", "nope", "bad.sum"]
    assert all(d["schema"] == "checksig.report/1" and d["root"] == "." for d in docs)
    assert [d["summary"] and d["summary"]["exit_status"] for d in docs] == [0, 0, None, 1]
    # A stream's document is written as it goes: its summary comes last.
    # (Its lines' algorithm came from their length: the inference says so, B5.)
    assert list(docs[1]) == [
        "schema", "root", "manifest", "entries", "warnings", "inference", "summary"
    ]  # fmt: skip
    assert docs[1]["inference"]["algorithm"] == "sha1" and docs[1]["inference"]["ok"] == 2
    assert list(docs[0]) == [
        "schema", "root", "manifest", "summary", "inference", "entries", "warnings"
    ]  # fmt: skip
    assert docs[0]["inference"]["source"] == "name"  # sha1sum.txt
    assert docs[1]["warnings"] == [{"line": 3, "message": docs[1]["warnings"][0]["message"]}]
    assert docs[1]["summary"]["improperly_formatted"] == 1
    assert [e["path"] for e in docs[1]["entries"]] == ["a", "sub/b"]
    assert docs[2]["error"] == {"kind": "os", "message": "nope: No such file or directory"}
    assert docs[3]["summary"]["counts"]["missing"] == 1


def test_json_of_a_stream_without_entries_is_an_error_document(tree: Path) -> None:
    r = run_checksig(["check", "--json", "-"], tree, stdin=b"junk\n# note\n")
    assert r.status == 1
    assert r.stderr == b"checksig: 'standard input': no properly formatted checksum lines found\n"
    (doc,) = json_documents(r.stdout)
    assert doc["summary"] is None and doc["manifest"] == "standard input"
    assert doc["error"]["kind"] == "manifest"


def test_extra_with_several_manifests_is_what_none_lists(tree: Path, tmp_path: Path) -> None:
    # a in one manifest, sub/b in another; the manifests themselves are not
    # extra files; "new" is listed by neither.
    (tree / "one.sum").write_text(f"{sha1(b'alpha' + bytes([10]))}  a\n")
    (tree / "two.sum").write_text(f"{sha1(b'beta' + bytes([10]))}  sub/b\n")
    (tree / "sha1sum.txt").unlink()
    (tree / "bad.sum").unlink()
    r = run_checksig(["check", "--extra", "one.sum", "two.sum"], tree)
    assert r == Result(b"a: OK\nsub/b: OK\n", b"", 0)
    (tree / "new").write_bytes(b"")
    r = run_checksig(["check", "--extra", "one.sum", "two.sum"], tree)
    assert r == Result(
        b"a: OK\nsub/b: OK\nnew: FAILED not listed\n",
        b"checksig: WARNING: 1 file is not listed in any manifest\n",
        1,
    )
    # With --json, the files no manifest lists are a document of their own.
    docs = json_documents(
        run_checksig(["check", "--json", "--extra", "one.sum", "two.sum"], tree).stdout
    )
    assert [d["manifest"] for d in docs] == ["one.sum", "two.sum", None]
    assert [(e["path"], e["status"]) for e in docs[2]["entries"]] == [("new", "extra")]
    assert docs[2]["summary"]["exit_status"] == 1
    # The same with -m and a ROOT, the manifests outside it.
    for name in ("one.sum", "two.sum"):
        (tree / name).rename(tmp_path / name)
    r = run_checksig(
        ["check", str(tree), "--extra", "-m", "../one.sum", "-m", "../two.sum"],
        tree.parent / "root",
    )
    assert r.stdout == b"a: OK\nsub/b: OK\nnew: FAILED not listed\n" and r.status == 1


def test_extra_with_a_manifest_on_stdin_is_as_from_a_file(tree: Path, tmp_path: Path) -> None:
    (tree / "new file").write_bytes(b"")
    (tree / "sha1sum.txt").unlink()
    (tree / "bad.sum").unlink()
    from_file = run_checksig(
        ["check", str(tree), "--extra", "-m", str(tmp_path / "good.sum")], tree
    )
    text = (tmp_path / "good.sum").read_bytes()
    for args in (["-m", "-"], ["-m", "-", "--quiet"], ["-m", "-", "--json"]):
        ours = run_checksig(["check", str(tree), "--extra", *args], tree, stdin=text)
        if "--json" in args:
            doc, want = (
                json_documents(ours.stdout)[0],
                json_documents(
                    run_checksig(
                        ["check", str(tree), "--extra", "--json", "-m", str(tmp_path / "good.sum")],
                        tree,
                    ).stdout
                )[0],
            )
            assert doc["entries"] == want["entries"] and doc["summary"] == want["summary"]
            continue
        want = run_checksig(
            ["check", str(tree), "--extra", *args[2:], "-m", str(tmp_path / "good.sum")], tree
        )
        assert ours == want
    assert from_file.stdout.endswith(b"new file: FAILED not listed\n") and from_file.status == 1


# --- names on stdout: -z and --shell-quote ------------------------------------------------------


def test_zero_and_shell_quote(tmp_path: Path) -> None:
    names = [b"plain", b"with space", b"new\nline", b"esc\x1b[1m"]
    for name in names:
        with open(os.path.join(os.fsencode(tmp_path), name), "wb") as f:
            f.write(name)
    (tmp_path / "SUMS").write_bytes(
        b"".join(
            (b"\\" if b"\n" in n else b"")
            + sha1(n).encode()
            + b"  "
            + n.replace(b"\n", b"\\n")
            + b"\n"
            for n in names
        )
    )
    r = run_checksig(["check", "-z", "SUMS"], tmp_path)
    assert r == Result(b"".join(n + b": OK\0" for n in names), b"", 0)
    r = run_checksig(["check", "--shell-quote", "SUMS"], tmp_path)
    assert r.stdout == (
        b"plain: OK\n'with space': OK\n'new'$'\\n''line': OK\n'esc'$'\\033''[1m': OK\n"
    )
    r = run_checksig(["check", "SUMS"], tmp_path)  # 9.1's form, control characters escaped (F3)
    assert r.stdout == b"plain: OK\nwith space: OK\n\\new\\nline: OK\n\\esc\\x1b[1m: OK\n"


@pytest.mark.parametrize(
    "args,message",
    [
        (["check", "-m", "a.sum", "x", "y"], b"with -m, give at most one ROOT"),
        (["check", "-z", "--json"], b"-z/--zero shapes the text lines"),
        (["check", "a", "--bogus", "b"], b"unrecognized arguments: --bogus"),
    ],
)
def test_usage_errors(tmp_path: Path, args: list[str], message: bytes) -> None:
    r = run_checksig(args, tmp_path)
    assert r.status == 2 and r.stdout == b"" and message in r.stderr, r


def test_operands_between_options(tree: Path) -> None:
    # As GNU's getopt: `checksig check A --quiet B`, `checksig digest a --tag sub/b`.
    r = run_checksig(["check", "sha1sum.txt", "--quiet", "bad.sum"], tree)
    assert r.stdout == b"a: FAILED\ngone: FAILED open or read\n" and r.status == 1
    r = run_checksig(["digest", "-a", "sha1", "a", "--tag", "sub/b"], tree)
    a, b = sha1(b"alpha\n"), sha1(b"beta\n")
    assert r.stdout == f"SHA1 (a) = {a}\nSHA1 (sub/b) = {b}\n".encode()
    r = run_checksig(["check", "--", "sha1sum.txt"], tree)
    assert r == Result(b"a: OK\nsub/b: OK\n", b"", 0)
