"""The command line, run as users run it: ``python -m checksig ...`` in a
subprocess (with a timeout), asserting exact stdout, stderr and exit status.

GNU-compatibility of the answers is tests/test_gnu_diff.py's job; this file
pins checksig's own behaviour: help, usage errors, ROOT and -m, --json,
--extra, make, digest, terminal safety, pipes.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from gnu_trees import GNU_ENV, TIMEOUT, Result, run_checksig_subprocess

from checksig import _cli, _console, _gnu, _rows


@contextlib.contextmanager
def watchdog(proc: subprocess.Popen) -> Iterator[None]:
    """Kill proc if the block takes longer than TIMEOUT: a hang fails, never stalls."""
    timer = threading.Timer(TIMEOUT, proc.kill)
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        proc.kill()
        proc.wait(timeout=TIMEOUT)


def run(*args: str, cwd: Path, stdin: bytes = b"") -> Result:
    return run_checksig_subprocess(list(args), cwd, stdin)


def sha(data: bytes, algorithm: str = "sha1") -> str:
    return hashlib.new(algorithm, data).hexdigest()


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """a (ok), sub/b (ok) and a sha1sum.txt listing them."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "a").write_bytes(b"alpha\n")
    (tmp_path / "sub" / "b").write_bytes(b"beta\n")
    (tmp_path / "sha1sum.txt").write_text(
        f"{sha(b'alpha' + bytes([10]))}  a\n{sha(b'beta' + bytes([10]))}  sub/b\n"
    )
    return tmp_path


# --- help and usage ----------------------------------------------------------------------------


def run_parallel(calls: list[list[str]], cwd: Path) -> list[Result]:
    """Run several ``python -m checksig`` at once (interpreter start-up dominates)."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "checksig", *args],
            cwd=cwd,
            env=GNU_ENV,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for args in calls
    ]
    results = []
    for proc in procs:
        try:
            out, err = proc.communicate(timeout=TIMEOUT)
        finally:
            proc.kill()
        results.append(Result(out, err, proc.returncode))
    return results


def test_help_for_every_command_with_examples_and_version(tmp_path: Path) -> None:
    import checksig

    commands = ["check", "make", "digest"]
    top, *subs, version = run_parallel(
        [["--help"]] + [[c, "--help"] for c in commands] + [["--version"]], tmp_path
    )
    assert (top.status, top.stderr) == (0, b"")
    for word in ("check", "make", "digest", "exit status:", "2    usage error", "130"):
        assert word in top.stdout.decode()
    for command, r in zip(commands, subs):
        assert (r.status, r.stderr) == (0, b""), command
        text = r.stdout.decode()
        assert text.startswith(f"usage: checksig {command}")
        assert "examples:" in text and f"checksig {command}" in text.split("examples:")[1]
        assert "2    usage error" in text
    assert version == Result(f"checksig {checksig.__version__}\n".encode(), b"", 0)


@pytest.mark.parametrize("columns", [50, 120])
def test_help_is_wrapped_to_the_terminal_width(tmp_path: Path, columns: int) -> None:
    # As argparse does by default (COLUMNS, else the terminal, else 80).
    proc = subprocess.run(
        [sys.executable, "-m", "checksig", "check", "--help"],
        cwd=tmp_path,
        env={**GNU_ENV, "COLUMNS": str(columns)},
        capture_output=True,
        timeout=TIMEOUT,
    )
    # The option list is wrapped (descriptions and epilogs keep their own lines).
    options = proc.stdout.decode().split("options:")[1].split("\n\n")[0].splitlines()
    assert proc.returncode == 0 and max(map(len, options)) <= columns
    assert any(len(line) > 50 for line in options) == (columns > 50)


USAGE_ERRORS = [
    ([], b""),
    (["check", "--bogus"], b"unrecognized arguments: --bogus"),
    (["check", "-a", "sha4"], b"unknown algorithm 'sha4'"),
    (["check", "-a", "sha3", "-l", "100"], b"digest length for 'SHA3' must be 224, 256"),
    (["check", "-l", "256"], b"--length needs --algorithm blake2b, sha2, or sha3"),
    (["make", ".", "-a", "sha3"], b"--algorithm=sha3 requires specifying --length 224, 256"),
    (["make", ".", "-a", "md5", "-l", "128"], b"--length is only supported with --algorithm"),
    (["make", ".", "-a", "git-sha1", "--tag"], b"git-sha1 has no tag form"),
    (["digest", "-a", "blake2b", "-l", "520"], b"maximum digest length for 'BLAKE2b' is 512"),
    (["digest", "-a", "blake2b", "-l", "12"], b"length is not a multiple of 8"),
    (["digest", "-a", "sha2", "-l", "-256"], b"invalid length: '-256'"),
    (["check", "-j", "-1"], b"must be >= 0"),
    (["check", "-j", "many"], b"not an integer"),
    (["check", "--progress", "--no-progress"], b"not allowed with argument"),
    (["check", "sha1sum.txt", "-m", "sha1sum.txt"], b"is a file and -m is given too"),
    (["make"], b"the following arguments are required: ROOT"),
    (["digest", "-a", "crc32"], b"unknown algorithm 'crc32'"),
    (["frobnicate"], b"invalid choice: 'frobnicate'"),
]


def test_usage_errors_exit_2(tree: Path) -> None:
    results = run_parallel([args for args, _ in USAGE_ERRORS], tree)
    for (args, message), r in zip(USAGE_ERRORS, results):
        assert r.status == 2 and r.stdout == b"", args
        assert r.stderr.startswith(b"usage: checksig") and message in r.stderr, args
        assert b"Traceback" not in r.stderr


# --- check -------------------------------------------------------------------------------------


def test_check_default_manifest_all_ok(tree: Path) -> None:
    assert run("check", cwd=tree) == Result(b"a: OK\nsub/b: OK\n", b"", 0)


def test_check_root_argument(tree: Path) -> None:
    r = run("check", tree.name, cwd=tree.parent)
    assert r == Result(b"a: OK\nsub/b: OK\n", b"", 0)


def test_check_failures_word_for_word(tree: Path) -> None:
    (tree / "a").write_bytes(b"changed\n")
    with open(tree / "sha1sum.txt", "a") as f:
        f.write(f"{sha(b'')}  gone\nnot a line\n")
    r = run("check", cwd=tree)
    assert r.stdout == b"a: FAILED\nsub/b: OK\ngone: FAILED open or read\n"
    assert r.stderr == (
        b"checksig: gone: No such file or directory\n"
        b"checksig: WARNING: 1 line is improperly formatted\n"
        b"checksig: WARNING: 1 listed file could not be read\n"
        b"checksig: WARNING: 1 computed checksum did NOT match\n"
    )
    assert r.status == 1
    r = run("check", "--warn", "--ignore-missing", cwd=tree)
    assert r.stdout == b"a: FAILED\nsub/b: OK\n"
    assert r.stderr == (
        b"checksig: sha1sum.txt: 4: improperly formatted SHA1 checksum line\n"
        b"checksig: WARNING: 1 line is improperly formatted\n"
        b"checksig: WARNING: 1 computed checksum did NOT match\n"
    )
    assert run("check", "--status", cwd=tree) == Result(
        b"", b"checksig: gone: No such file or directory\n", 1
    )


def test_check_quiet_and_strict(tree: Path) -> None:
    assert run("check", "--quiet", cwd=tree) == Result(b"", b"", 0)
    with open(tree / "sha1sum.txt", "a") as f:
        f.write("junk\n")
    r = run("check", "--quiet", cwd=tree)
    assert r == Result(b"", b"checksig: WARNING: 1 line is improperly formatted\n", 0)
    r = run("check", "--quiet", "--strict", cwd=tree)
    assert r == Result(b"", b"checksig: WARNING: 1 line is improperly formatted\n", 1)


def test_check_manifest_as_root_like_gnu(tree: Path) -> None:
    # `checksig check FILE` reads FILE as the manifest, names relative to the cwd.
    shutil.move(tree / "sha1sum.txt", tree / "SHA1SUMS")
    assert run("check", "SHA1SUMS", cwd=tree) == Result(b"a: OK\nsub/b: OK\n", b"", 0)


def test_check_manifest_relative_to_cwd_names_relative_to_root(tree: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.move(tree / "sha1sum.txt", elsewhere / "list.sha1")
    r = run("check", str(tree), "-m", "list.sha1", cwd=elsewhere)
    assert r == Result(b"a: OK\nsub/b: OK\n", b"", 0)


def test_check_manifest_from_stdin(tree: Path) -> None:
    text = (tree / "sha1sum.txt").read_bytes()
    assert run("check", "-m", "-", cwd=tree, stdin=text) == Result(b"a: OK\nsub/b: OK\n", b"", 0)
    r = run("check", "-m", "-", cwd=tree, stdin=b"junk\n")
    assert r == Result(
        b"", b"checksig: 'standard input': no properly formatted checksum lines found\n", 1
    )


def test_check_missing_manifest_or_root(tmp_path: Path) -> None:
    r = run("check", cwd=tmp_path)
    assert r == Result(b"", b"checksig: sha1sum.txt: No such file or directory\n", 1)
    r = run("check", "-m", "nope.sum", cwd=tmp_path)
    assert r == Result(b"", b"checksig: nope.sum: No such file or directory\n", 1)
    r = run("check", "no root", "-m", "nope.sum", cwd=tmp_path)
    assert r.status == 1 and r.stdout == b""
    assert r.stderr.endswith(b": No such file or directory\n")


def test_check_empty_manifest(tmp_path: Path) -> None:
    (tmp_path / "SHA256SUMS").write_bytes(b"")
    r = run("check", "-m", "SHA256SUMS", cwd=tmp_path)
    assert r == Result(
        b"", b"checksig: SHA256SUMS: no properly formatted checksum lines found\n", 1
    )


def test_check_names_cannot_drive_the_terminal(tmp_path: Path) -> None:
    name = b"evil\x1b]0;pwned\x07\rOK"
    with open(os.path.join(os.fsencode(tmp_path), name), "wb") as f:
        f.write(b"x")
    (tmp_path / "sha1sum.txt").write_bytes(
        sha(b"x").encode() + b"  " + name + b"\n" + b"0" * 40 + b"  " + name + b"2\n"
    )
    r = run("check", cwd=tmp_path)
    assert r.stdout == (
        b"\\evil\\x1b]0;pwned\\x07\\rOK: OK\n\\evil\\x1b]0;pwned\\x07\\rOK2: FAILED open or read\n"
    )
    assert r.stderr == (
        b"checksig: 'evil'$'\\033'']0;pwned'$'\\a\\r''OK2': No such file or directory\n"
        b"checksig: WARNING: 1 listed file could not be read\n"
    )
    assert not any(c in r.stdout + r.stderr for c in b"\x1b\x07\r")


def test_check_extra(tree: Path) -> None:
    (tree / "new file").write_bytes(b"surprise")
    (tree / "sub" / "c").write_bytes(b"")
    r = run("check", "--extra", cwd=tree)
    assert r.stdout == b"a: OK\nsub/b: OK\nnew file: FAILED not listed\nsub/c: FAILED not listed\n"
    assert r.stderr == b"checksig: WARNING: 2 files are not listed in the manifest\n"
    assert r.status == 1
    (tree / "new file").unlink()
    (tree / "sub" / "c").unlink()
    assert run("check", "--extra", cwd=tree) == Result(b"a: OK\nsub/b: OK\n", b"", 0)


def test_check_allow_outside(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "up").write_bytes(b"up")
    (root / "sha1sum.txt").write_text(f"{sha(b'up')}  ../up\n")
    r = run("check", "root", cwd=tmp_path)
    assert r == Result(
        b"../up: FAILED open or read\n",
        b"checksig: ../up: refusing a name that leads outside the root directory (not read)\n"
        b"checksig: WARNING: 1 listed file could not be read\n",
        1,
    )
    assert run("check", "root", "--allow-outside", cwd=tmp_path) == Result(b"../up: OK\n", b"", 0)


def test_check_json(tree: Path) -> None:
    (tree / "a").write_bytes(b"changed\n")
    bad = b"latin1-\xe9"
    with open(os.path.join(os.fsencode(tree), bad), "wb") as f:
        f.write(b"x")
    with open(tree / "sha1sum.txt", "ab") as f:
        f.write(sha(b"x").encode() + b"  " + bad + b"\n" + f"{sha(b'')}  gone\njunk\n".encode())
    r = run("check", "--json", cwd=tree)
    assert r.status == 1 and r.stderr == b""
    r.stdout.decode("ascii")  # ensure_ascii: terminal-safe
    doc = json.loads(r.stdout)
    assert doc["schema"] == "checksig.report/1"
    assert doc["manifest"] == "sha1sum.txt" and doc["root"] == "."
    summary = doc["summary"]
    assert summary["entries"] == 4 and summary["exit_status"] == 1 and not summary["passed"]
    assert summary["counts"]["ok"] == 2 and summary["counts"]["mismatch"] == 1
    assert summary["counts"]["missing"] == 1 and summary["improperly_formatted"] == 1
    assert summary["could_not_be_read"] == 1 and summary["ignored_missing"] == 0
    entries = doc["entries"]
    assert [(e["line"], e["path"], e["status"]) for e in entries] == [
        (1, "a", "mismatch"),
        (2, "sub/b", "ok"),
        (3, "latin1-\ufffd", "ok"),
        (4, "gone", "missing"),
    ]
    assert entries[2]["path_bytes"] == bad.hex() and "path_bytes" not in entries[0]
    assert entries[0]["expected"] == sha(b"alpha\n") and entries[0]["actual"] == sha(b"changed\n")
    assert entries[0]["algorithm"] == "sha1" and entries[0]["size"] == 8
    assert entries[3]["actual"] is None and entries[3]["reason"] == "No such file or directory"
    assert doc["warnings"] == [{"line": 5, "message": doc["warnings"][0]["message"]}]
    r = run("check", "--json", "--ignore-missing", cwd=tree)
    assert json.loads(r.stdout)["summary"]["ignored_missing"] == 1


def test_check_renders_in_batches(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows are rendered a batch of columns at a time (and --quiet visits
    only the failures): batches of 2 rows print exactly what one batch does."""
    (tree / "a").write_bytes(b"changed\n")
    with open(tree / "sha1sum.txt", "a") as f:
        for i in range(5):
            f.write(f"{sha(b'')}  gone{i}\n" + ("junk\n" if i == 2 else ""))
        f.write(f"{sha(b'beta' + bytes([10]))}  sub/b\n")

    def check(*args: str) -> tuple[int, bytes, bytes]:
        out, err = io.BytesIO(), io.BytesIO()
        monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(out))
        monkeypatch.setattr(sys, "stderr", io.TextIOWrapper(err))
        status = _cli.main(["check", "--no-progress", *args, str(tree)])
        sys.stdout.flush()
        sys.stderr.flush()
        return status, out.getvalue(), err.getvalue()

    modes = [(), ("--quiet",), ("--status",), ("--warn",), ("--json",), ("--ignore-missing",)]
    whole = [check(*mode) for mode in modes]
    monkeypatch.setattr(_rows, "BATCH", 2)  # the rows the CLI reads, a batch at a time
    assert [check(*mode) for mode in modes] == whole
    status, out, err = whole[1]
    assert (status, out.count(b"FAILED"), err.count(b"No such file")) == (1, 6, 5)


def test_check_needs_no_numpy(tree: Path) -> None:
    # Issue 7: whole-process runs must be fast, and `import numpy` alone costs
    # 60-90 ms: `checksig check` reads the report's buffers, never numpy.
    (tree / "a").write_bytes(b"changed\n")
    code = (
        "import sys\n"
        "from checksig._cli import main\n"
        "status = main(sys.argv[1:])\n"
        "sys.stderr.write(f'numpy imported: {\"numpy\" in sys.modules}\\n')\n"
        "sys.exit(status)\n"
    )
    for args in (["check"], ["check", "--json"], ["check", "--quiet"]):
        proc = subprocess.run(
            [sys.executable, "-c", code, *args],
            cwd=tree,
            capture_output=True,
            timeout=TIMEOUT,
            env=GNU_ENV,
        )
        assert proc.stderr.splitlines()[-1] == b"numpy imported: False", args
        if args == ["check"]:
            assert (proc.returncode, proc.stdout) == (1, b"a: FAILED\nsub/b: OK\n")
    doc = json.loads(run("check", "--json", cwd=tree).stdout)
    assert [(e["path"], e["status"], e["actual"]) for e in doc["entries"]] == [
        ("a", "mismatch", sha(b"changed\n")),
        ("sub/b", "ok", sha(b"beta\n")),
    ]


def test_check_json_whole_run_error(tmp_path: Path) -> None:
    (tmp_path / "sha1sum.txt").write_text("junk\n")
    r = run("check", "--json", cwd=tmp_path)
    assert r.status == 1
    assert r.stderr == b"checksig: sha1sum.txt: no properly formatted checksum lines found\n"
    doc = json.loads(r.stdout)
    assert doc["schema"] == "checksig.report/1" and doc["summary"] is None
    assert doc["error"] == {
        "kind": "manifest",
        "message": "no properly formatted checksum lines found",
    }


def test_check_output_to_a_closed_pipe(tmp_path: Path) -> None:
    name = "f" * 200
    (tmp_path / name).write_bytes(b"")
    # 3000 lines of 200+ bytes: far more than a pipe holds.
    (tmp_path / "sha1sum.txt").write_text(f"{sha(b'')}  {name}\n" * 3000)
    proc = subprocess.Popen(
        [sys.executable, "-m", "checksig", "check"],
        cwd=tmp_path,
        env=GNU_ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    with watchdog(proc):
        assert proc.stdout.readline() == name.encode() + b": OK\n"
        proc.stdout.close()  # like `checksig check | head -1`
        err = proc.stderr.read()
        status = proc.wait(timeout=TIMEOUT)
    assert b"Traceback" not in err and b"Exception" not in err
    assert status == 1


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize(
    "args",
    [["check"], ["check", "--json"], ["make", "-o", "-", "."], ["digest", "a"]],
)
def test_a_failed_write_is_reported_not_a_traceback(tree: Path, args: list[str]) -> None:
    # As GNU's tools on a full disk: "write error", exit status 1.
    with open("/dev/full", "wb") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "checksig", *args],
            cwd=tree,
            env=GNU_ENV,
            stdout=full,
            stderr=subprocess.PIPE,
            timeout=TIMEOUT,
        )
    assert proc.returncode == 1
    assert proc.stderr == b"checksig: write error: No space left on device\n"


def test_the_console_script_ends_without_interpreter_teardown(tree: Path) -> None:
    # It flushes its output and leaves with os._exit: nothing registered with
    # atexit runs, and nothing written is lost (the pipe gets every line).
    code = (
        "import atexit, sys; atexit.register(print, 'teardown', file=sys.stderr); "
        "sys.argv = ['checksig', 'check']; "
        "from checksig.__main__ import run; run()"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tree, env=GNU_ENV, capture_output=True, timeout=TIMEOUT
    )
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, b"a: OK\nsub/b: OK\n", b"")


# --- make --------------------------------------------------------------------------------------


def _gnu_lines(root: Path, algorithm: str, *, tag: bool = False) -> bytes:
    files = sorted(
        os.path.relpath(os.path.join(d, f), root).encode() for d, _, fs in os.walk(root) for f in fs
    )
    out = b""
    for name in files:
        hexd = sha((root / name.decode()).read_bytes(), algorithm)
        out += (
            f"{algorithm.upper()} (".encode() + name + f") = {hexd}\n".encode()
            if tag
            else hexd.encode() + b"  " + name + b"\n"
        )
    return out


def test_make_writes_root_algosum_txt(tree: Path) -> None:
    (tree / "sha1sum.txt").unlink()
    expected = _gnu_lines(tree, "sha256")
    assert run("make", ".", cwd=tree) == Result(b"", b"", 0)
    assert (tree / "sha256sum.txt").read_bytes() == expected
    assert run("check", "-m", "sha256sum.txt", cwd=tree) == Result(b"a: OK\nsub/b: OK\n", b"", 0)


def test_make_output_relative_to_cwd_and_stdout(tree: Path, tmp_path: Path) -> None:
    (tree / "sha1sum.txt").unlink()
    out = tmp_path / "out"
    out.mkdir()
    expected = _gnu_lines(tree, "md5")
    r = run("make", str(tree), "-a", "MD5", "-o", "MD5SUMS", cwd=out)
    assert r == Result(b"", b"", 0)
    assert (out / "MD5SUMS").read_bytes() == expected
    r = run("make", str(tree), "-a", "sha512", "--tag", "-o", "-", cwd=out)
    assert r == Result(_gnu_lines(tree, "sha512", tag=True), b"", 0)
    assert not list(tree.glob("*sum.txt")), "make -o - leaves no file behind"


def test_make_errors(tmp_path: Path) -> None:
    r = run("make", "nope", cwd=tmp_path)
    assert r == Result(b"", b"checksig: nope: No such file or directory\n", 1)


# --- digest ------------------------------------------------------------------------------------


def test_digest_prints_like_sha256sum(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"alpha")
    (tmp_path / "back\\slash").write_bytes(b"bs")
    r = run("digest", "a", "back\\slash", cwd=tmp_path)
    assert r == Result(
        f"{sha(b'alpha', 'sha256')}  a\n\\{sha(b'bs', 'sha256')}  back\\\\slash\n".encode(),
        b"",
        0,
    )
    r = run("digest", "--tag", "-a", "md5", "a", cwd=tmp_path)
    assert r == Result(f"MD5 (a) = {sha(b'alpha', 'md5')}\n".encode(), b"", 0)


def test_digest_errors_go_on_like_gnu(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"alpha")
    (tmp_path / "d").mkdir()
    os.mkfifo(tmp_path / "fifo")
    r = run("digest", "missing file", "d", "fifo", "a", cwd=tmp_path)
    assert r == Result(
        f"{sha(b'alpha', 'sha256')}  a\n".encode(),
        b"checksig: 'missing file': No such file or directory\n"
        b"checksig: d: Is a directory\n"
        b"checksig: fifo: not a regular file (never read)\n",
        1,
    )


def test_digest_standard_input(tmp_path: Path) -> None:
    line = f"{sha(b'piped', 'sha1')}  -\n".encode()
    assert run("digest", "-a", "sha1", cwd=tmp_path, stdin=b"piped") == Result(line, b"", 0)
    assert run("digest", "-a", "sha1", "-", cwd=tmp_path, stdin=b"piped") == Result(line, b"", 0)


def test_digest_on_a_terminal_escapes_control_characters(tmp_path: Path) -> None:
    import pty

    name = "esc\x1b[31mred"
    (tmp_path / name).write_bytes(b"x")
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "checksig", "digest", "-a", "md5", name],
            cwd=tmp_path,
            env=GNU_ENV,
            stdout=follower,
            stderr=subprocess.PIPE,
            timeout=TIMEOUT,
        )
        os.close(follower)
        follower = -1
        out = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # EIO: the terminal's other side is closed
                break
            if not chunk:
                break
            out += chunk
    finally:
        os.close(leader)
        if follower >= 0:
            os.close(follower)
    assert (proc.returncode, proc.stderr) == (0, b"")
    assert out.replace(b"\r\n", b"\n") == f"\\{sha(b'x', 'md5')}  esc\\x1b[31mred\n".encode()


def test_manifest_lines_are_gnus_in_pipes_and_safe_on_terminals() -> None:
    hexd = "ab" * 16
    line = _gnu.manifest_line
    assert line(b"esc\x1b", hexd, "md5", tag=False, safe=False) == f"{hexd}  esc\x1b\n".encode()
    assert line(b"esc\x1b", hexd, "md5", tag=False, safe=True) == f"\\{hexd}  esc\\x1b\n".encode()
    assert line(b"a\\b", hexd, "md5", tag=True, safe=False) == f"\\MD5 (a\\\\b) = {hexd}\n".encode()
    for raw in (b"plain", b"a\\b", b"new\nline", b"cr\r", b"x) = y"):
        for tag in (False, True):
            text = line(raw, hexd, "md5", tag=tag, safe=False)
            assert _gnu.parse_own_line(text[:-1], "md5", tag) == (raw, hexd)


# --- the console script and the progress bar ---------------------------------------------------


def test_console_script_is_installed(tmp_path: Path) -> None:
    exe = shutil.which("checksig")
    if exe is None:
        pytest.skip("the checksig console script is not on PATH (pip install -e . makes it)")
    proc = subprocess.run([exe, "--version"], capture_output=True, timeout=TIMEOUT)
    assert proc.returncode == 0 and proc.stdout.startswith(b"checksig ")


def test_forced_progress_then_ctrl_c_exits_130(tmp_path: Path) -> None:
    # A sparse 64 GiB file takes far longer than a second to hash: the forced bar
    # appears on stderr, then SIGINT cancels the engine and the exit status is 130.
    import signal

    with open(tmp_path / "big", "wb") as f:
        f.truncate(64 << 30)
    (tmp_path / "sha1sum.txt").write_text(f"{'0' * 40}  big\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "checksig", "check", "--progress", "-j", "1"],
        cwd=tmp_path,
        env=GNU_ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stderr is not None
    with watchdog(proc):
        seen = b""
        while b"%" not in seen:  # the bar's percentage: the run is under way
            chunk = os.read(proc.stderr.fileno(), 4096)
            assert chunk, f"no progress bar before the end: {seen!r}"
            seen += chunk
        assert seen.startswith(b"\rsha1sum.txt: ") and b"files" in seen, seen
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=TIMEOUT)
    why = (proc.returncode, out, seen, err)
    assert proc.returncode == 130 and out == b"", why
    assert (seen + err).endswith(b"\r\x1b[K") and b"Traceback" not in err, why


class _TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_draws_late_and_erases_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = _TTY()
    clock = iter([0.0, 0.5, 2.0, 2.05, 3.0])
    monkeypatch.setattr(_console.time, "monotonic", lambda: next(clock))
    bar = _console.ProgressLine(True, stream, label="SUMS")  # starts at t=0
    p = {
        "phase": "running",
        "bytes_done": 50,
        "bytes_total": 100,
        "files_done": 1,
        "files_total": 2,
        "warnings": 3,
    }
    bar(p)  # t=0.5: too early
    assert stream.getvalue() == ""
    bar(p)  # t=2.0: drawn
    assert stream.getvalue().startswith("\rSUMS:  50.0%  1/2 files")
    bar(p)  # t=2.05: throttled
    assert stream.getvalue().count("\r") == 1
    bar.close()
    assert stream.getvalue().endswith("\r\x1b[K") and bar.warnings == 3


def test_progress_is_off_in_pipes_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert not _console.progress_enabled(None)
    assert _console.progress_enabled(True)
    monkeypatch.setattr(sys, "stderr", _TTY())
    assert _console.progress_enabled(None) and not _console.progress_enabled(False)


# --- the name helpers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw,quoted",
    [
        (b"plain", b"plain"),
        (b"", b"''"),
        (b"with space", b"'with space'"),
        (b"quo'te", b'"quo\'te"'),
        (b"it's $5", b"'it'\\''s $5'"),
        (b"tab\there", b"'tab'$'\\t''here'"),
        (b"\tlead", b"''$'\\t''lead'"),
        (b"bad\xff", b"'bad'$'\\377'"),
        (b"esc\x1b[31m", b"'esc'$'\\033''[31m'"),
        (b"#x", b"'#x'"),
        (b"x#", b"x#"),
        (b"{", b"'{'"),
        (b"a{b}", b"a{b}"),
        (b"a:b", b"'a:b'"),
        (b"unicod\xc3\xa9", b"unicod\xc3\xa9"),
        (b"c1\xc2\x9b", b"'c1'$'\\302\\233'"),
        (b"back\\slash", b"'back\\slash'"),
    ],
)
def test_quotef_matches_gnu(raw: bytes, quoted: bytes) -> None:
    assert _gnu.quotef(raw) == quoted


def test_algorithm_from_name_mirrors_the_engine() -> None:
    for name, algo in [
        ("SHA256SUMS", "sha256"),
        ("sha1sum.txt", "sha1"),
        ("x.md5", "md5"),
        ("manifest-sha512.txt", "sha512"),
        ("MD5SUMS.sha1", None),
        ("list.txt", None),
        ("/a/sha384sums/file", None),
    ]:
        assert _gnu.algorithm_from_name(name) == algo, name
