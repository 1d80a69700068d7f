"""Differential tests: ``checksig check`` against the real GNU coreutils.

For trees with awkward names, every algorithm, every manifest form (most
written by GNU itself) and every combination of --quiet/--status/--strict/
--warn/--ignore-missing, checksig must print the same stdout lines, the same
stderr lines (reasons, --warn lines, summaries) and exit with the same status
as ``ALGOsum -c``. The program name at the start of stderr lines is the only
thing normalised.

Differences are either intentional (FORMATS.md part F: tested here as
such, asserting checksig's documented answer) or known engine differences
(FORMATS.md part G: xfail(strict=True), so a fix in the engine turns them
into failures that ask for the marker to go).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from gnu_trees import (
    ALGORITHMS,
    AWKWARD_NAMES,
    UNSAFE_NAMES,
    Result,
    content,
    gnu_sum,
    gnu_tool,
    hexdigest,
    make_tree,
    needs_gnu,
    run_checksig,
    run_checksig_subprocess,
    run_gnu,
    run_gnu_check,
)

from checksig._gnu import display_name

pytestmark = needs_gnu

MANIFEST = "MANIFEST.txt"  # a name that implies no algorithm: -a decides, as the tool does

MISSING = b"with space"  # deleted after the manifest was written
CHANGED = b"new\nline"  # rewritten after the manifest was written
GARBAGE = b"this is not a checksum line\n"
SHORT = b"0123abc  short digest\n"


def assert_same(gnu: Result, ours: Result) -> None:
    assert ours.stdout.split(b"\n") == gnu.stdout.split(b"\n"), "stdout differs"
    assert ours.stderr.split(b"\n") == gnu.stderr.split(b"\n"), "stderr differs"
    assert ours.status == gnu.status, "exit status differs"


def compare(
    root: Path,
    algorithm: str,
    options: list[str],
    manifest: str = MANIFEST,
    *,
    tool: str | None = None,
    pass_algorithm: bool = True,
) -> tuple[Result, Result]:
    """Run GNU and checksig on the same manifest in root; assert identical answers."""
    gnu = run_gnu_check(tool or algorithm, manifest, root, options)
    args = ["check", "-m", manifest, *options]
    if pass_algorithm:
        args += ["-a", algorithm]
    ours = run_checksig(args, root)
    assert_same(gnu, ours)
    return gnu, ours


def build(
    tmp_path: Path,
    algorithm: str = "sha256",
    form: str = "untagged",
    *,
    names: tuple[bytes, ...] = AWKWARD_NAMES,
    missing: bool = False,
    changed: bool = False,
    malformed: bool = False,
) -> Path:
    """A tree of names and a manifest GNU wrote for it, then damaged as asked."""
    root = tmp_path / "root"
    make_tree(root, names)
    text = gnu_sum(algorithm, names, root, tag="tag" in form, binary=form == "binary")
    lines = text.splitlines(keepends=True)
    if malformed:
        lines.insert(0, GARBAGE)
        lines.insert(len(lines) // 2, SHORT)
    text = b"".join(lines)
    if "crlf" in form:
        text = text.replace(b"\n", b"\r\n")
    (root / MANIFEST).write_bytes(text)
    if missing:
        os.unlink(os.path.join(os.fsencode(root), MISSING))
    if changed:
        with open(os.path.join(os.fsencode(root), CHANGED), "ab") as f:
            f.write(b"changed")
    return root


FORMS = ["untagged", "tag", "binary", "crlf", "crlf-tag"]


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_every_algorithm_and_form(tmp_path: Path, algorithm: str, form: str) -> None:
    root = build(tmp_path, algorithm, form)
    gnu, _ = compare(root, algorithm, [])
    assert gnu.status == 0 and gnu.stdout.count(b": OK\n") == len(AWKWARD_NAMES)
    root = build(tmp_path / "bad", algorithm, form, missing=True, changed=True, malformed=True)
    gnu, _ = compare(root, algorithm, ["--warn"])
    assert gnu.status == 1 and b"FAILED open or read" in gnu.stdout
    assert b"did NOT match" in gnu.stderr and b"improperly formatted" in gnu.stderr


SCENARIOS = {
    "all_ok": {},
    "mismatch": {"changed": True},
    "missing": {"missing": True},
    "malformed": {"malformed": True},
    "mixed": {"changed": True, "missing": True, "malformed": True},
}

OPTION_SETS = [
    [],
    ["--quiet"],
    ["--status"],
    ["--warn"],
    ["--strict"],
    ["--ignore-missing"],
    ["--quiet", "--ignore-missing"],
    ["--status", "--strict"],
    ["--warn", "--strict"],
    ["--quiet", "--warn"],  # the last of --quiet/--status/--warn wins
    ["--warn", "--quiet"],
    ["--status", "--warn"],
    ["--warn", "--status"],
    ["--ignore-missing", "--strict", "--warn"],
    ["--status", "--ignore-missing"],
]


@pytest.mark.parametrize("options", OPTION_SETS, ids=lambda o: " ".join(o) or "default")
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_options(tmp_path: Path, scenario: str, options: list[str]) -> None:
    root = build(tmp_path, "sha256", "untagged", **SCENARIOS[scenario])
    compare(root, "sha256", options)


# Manifests with no file to verify, or no usable line at all.
def _lines(*lines: bytes) -> bytes:
    return b"".join(lines)


SHA_A = hexdigest("sha256", content(b"a")).encode()
SHA_B = hexdigest("sha256", content(b"b")).encode()
ZERO = b"0" * 64

EDGE_MANIFESTS = {
    "empty": b"",
    "comments_only": b"# a comment\n#another\n\n",
    "only_malformed": _lines(GARBAGE, SHORT),
    "all_missing": _lines(SHA_A + b"  gone\n", SHA_B + b"  gone too\n"),
    "missing_and_mismatch": _lines(ZERO + b"  a\n", SHA_A + b"  gone\n"),
    "malformed_and_missing": _lines(GARBAGE, SHA_A + b"  gone\n"),
    "enotdir": _lines(SHA_A + b"  a/below\n", SHA_A + b"  nodir/below\n", SHA_A + b"  a\n"),
    "directory": _lines(SHA_A + b"  d\n", SHA_A + b"  a\n"),
    "duplicates": _lines(SHA_A + b"  a\n", SHA_A + b"  a\n", ZERO + b"  a\n"),
}


@pytest.mark.parametrize(
    "options",
    [
        [],
        ["--quiet"],
        ["--status"],
        ["--warn"],
        ["--strict"],
        ["--ignore-missing"],
        ["--ignore-missing", "--quiet"],
        ["--ignore-missing", "--status"],
    ],
    ids=lambda o: " ".join(o) or "default",
)
@pytest.mark.parametrize("case", sorted(EDGE_MANIFESTS))
def test_edge_manifests(tmp_path: Path, case: str, options: list[str]) -> None:
    make_tree(tmp_path, [b"a", b"b"])
    (tmp_path / "d").mkdir()
    (tmp_path / MANIFEST).write_bytes(EDGE_MANIFESTS[case])
    compare(tmp_path, "sha256", options)


# Hand-written manifests: what GNU reads although it never writes it.
HAND_WRITTEN = {
    "single_space": _lines(SHA_A + b" a\n", SHA_B + b" b\n"),
    "two_then_single_space": _lines(SHA_A + b"  a\n", SHA_B + b" b\n"),
    "binary_then_single": _lines(SHA_A + b" *a\n", SHA_B + b" b\n"),
    "uppercase_hex": _lines(SHA_A.upper() + b"  a\n", b"SHA256 (b) = " + SHA_B.upper() + b"\n"),
    "leading_blanks": _lines(b"  " + SHA_A + b"  a\n", b"\t" + SHA_B + b"  b\n"),
    "tab_separator": _lines(SHA_A + b"\ta\n", SHA_B + b"\tb\n"),
    "tab_then_star": _lines(SHA_A + b"\t*a\n", SHA_B + b"  b\n"),
    "escape_prefix_plain": _lines(b"\\" + SHA_A + b"  a\n"),
    "escape_after_blanks": _lines(b"  \\" + SHA_A + b"  a\n"),
    "unknown_escape": _lines(b"\\" + SHA_A + b"  a\\tb\n", SHA_B + b"  b\n"),
    "lone_backslash": _lines(b"\\" + SHA_A + b"  a\\\n", SHA_B + b"  b\n"),
    "literal_backslash": _lines(SHA_A + b"  a\\\\b\n", SHA_B + b"  b\n"),
    "indented_comment": _lines(b"  # not a comment for GNU\n", SHA_A + b"  a\n"),
    "no_final_newline": _lines(SHA_A + b"  a\n", SHA_B + b"  b"),
    "cr_only_line": _lines(b"\r\n", SHA_A + b"  a\r\n"),
    "mixed_line_ends": _lines(SHA_A + b"  a\r\n", SHA_B + b"  b\n"),
    "name_is_star": _lines(SHA_A + b" *\n"),
    "name_is_space": _lines(SHA_A + b"  \n"),
    "trailing_space_name": _lines(SHA_A + b"  a \n", SHA_B + b"  b\n"),
    "hex_too_short": _lines(SHA_A[:-1] + b"  a\n", SHA_B + b"  b\n"),
    "hex_too_long": _lines(SHA_A + b"0  a\n", SHA_B + b"  b\n"),
    "non_hex": _lines(b"g" + SHA_A[1:] + b"  a\n", SHA_B + b"  b\n"),
    "other_algorithm_length": _lines(hexdigest("md5", b"x").encode() + b"  a\n", SHA_B + b"  b\n"),
    "tag_lowercase": _lines(b"sha256 (a) = " + SHA_A + b"\n", SHA_B + b"  b\n"),
    "tag_trailing_space": _lines(b"SHA256 (a) = " + SHA_A + b" \n", SHA_B + b"  b\n"),
    "tag_two_spaces_before_paren": _lines(b"SHA256  (a) = " + SHA_A + b"\n", SHA_B + b"  b\n"),
    "tag_name_with_parens": _lines(b"SHA256 ((a) = x) = " + SHA_A + b"\n"),
    "tag_escaped": _lines(b"\\SHA256 (a\\\\b) = " + SHA_A + b"\n"),
    "tag_then_untagged": _lines(b"SHA256 (a) = " + SHA_A + b"\n", SHA_B + b" b\n"),
    "long_garbage_line": _lines(b"x" * 70_000 + b"\n", SHA_A + b"  a\n"),
    "nul_in_garbage": _lines(b"\0\0\0\n", SHA_A + b"  a\n"),
    "binary_junk": _lines(bytes(range(256)) + b"\n", SHA_A + b"  a\n"),
}


@pytest.mark.parametrize(
    "options", [[], ["--warn"], ["--strict", "--quiet"]], ids=lambda o: " ".join(o) or "default"
)
@pytest.mark.parametrize("case", sorted(HAND_WRITTEN))
def test_hand_written(tmp_path: Path, case: str, options: list[str]) -> None:
    make_tree(tmp_path, [b"a", b"b", b"a\\b", b"(a) = x", b"a ", b"\\b"])
    (tmp_path / MANIFEST).write_bytes(HAND_WRITTEN[case])
    compare(tmp_path, "sha256", options)


@pytest.mark.parametrize(
    "manifest,algorithm",
    [
        ("SHA256SUMS", "sha256"),
        ("MD5SUMS", "md5"),
        ("sha1sum.txt", "sha1"),
        ("release.sha512", "sha512"),
        ("manifest-sha384.txt", "sha384"),
        ("SHA224SUMS", "sha224"),
    ],
)
def test_algorithm_from_the_manifest_name(tmp_path: Path, manifest: str, algorithm: str) -> None:
    # No -a: checksig infers the algorithm from the name, as choosing the tool does for GNU;
    # a line of another algorithm's length is malformed for both, named alike by --warn.
    root = build(tmp_path, algorithm, "untagged", missing=True)
    text = (root / MANIFEST).read_bytes()
    other = "md5" if algorithm != "md5" else "sha1"
    text += hexdigest(other, b"x").encode() + b"  plain.txt\n"
    (root / MANIFEST).unlink()
    (root / manifest).write_bytes(text)
    for options in ([], ["--warn"], ["--strict", "--status"]):
        compare(root, algorithm, options, manifest, pass_algorithm=False)


@pytest.mark.parametrize("options", [[], ["--quiet"], ["--warn"]], ids=lambda o: " ".join(o) or "-")
def test_mixed_tags_like_cksum(tmp_path: Path, options: list[str]) -> None:
    # Several algorithms in one manifest: GNU's cksum -c reads them; so does checksig
    # without -a (each line's tag decides).
    names = list(AWKWARD_NAMES)
    make_tree(tmp_path, names)
    text = b"".join(
        gnu_sum(ALGORITHMS[i % len(ALGORITHMS)], [name], tmp_path, tag=True)
        for i, name in enumerate(names)
    )
    (tmp_path / "CHECKSUMS").write_bytes(text)
    os.unlink(os.path.join(os.fsencode(tmp_path), MISSING))
    with open(os.path.join(os.fsencode(tmp_path), CHANGED), "ab") as f:
        f.write(b"!")
    gnu = run_gnu_check("cksum", "CHECKSUMS", tmp_path, options)
    ours = run_checksig(["check", "-m", "CHECKSUMS", *options], tmp_path)
    assert_same(gnu, ours)
    assert gnu.status == 1


@pytest.mark.parametrize("tag", [False, True], ids=["untagged", "tag"])
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_make_writes_what_gnu_writes(tmp_path: Path, algorithm: str, tag: bool) -> None:
    # In a pipe, even names with control characters are written as GNU writes them (D5).
    root = tmp_path / "root"
    make_tree(root, AWKWARD_NAMES + UNSAFE_NAMES)
    args = ["make", "root", "-a", algorithm, "-o", "-"] + (["--tag"] if tag else [])
    ours = run_checksig(args, tmp_path)
    assert (ours.status, ours.stderr) == (0, b"")
    names = sorted(AWKWARD_NAMES + UNSAFE_NAMES)
    assert ours.stdout == gnu_sum(algorithm, names, root, tag=tag)
    # ... and GNU checks it, answering as checksig does.
    (root / MANIFEST).write_bytes(ours.stdout)
    gnu = run_gnu_check(algorithm, MANIFEST, root, [])
    assert gnu.status == 0 and gnu.stdout.count(b": OK\n") == len(names)
    ours = run_checksig(["check", "-m", MANIFEST], root)
    assert (ours.stderr, ours.status) == (b"", 0)


@pytest.mark.parametrize("tag", [False, True], ids=["untagged", "tag"])
@pytest.mark.parametrize("algorithm", ["md5", "sha256", "sha512"])
def test_digest_prints_what_gnu_prints(tmp_path: Path, algorithm: str, tag: bool) -> None:
    make_tree(tmp_path, AWKWARD_NAMES + UNSAFE_NAMES)
    (tmp_path / "adir").mkdir()
    files = [os.fsdecode(n) for n in AWKWARD_NAMES + UNSAFE_NAMES]
    files += ["no such file", "adir", "plain.txt", "esc\x1b-gone"]
    opts = ["--tag"] if tag else []
    tool = gnu_tool(algorithm)
    assert tool
    import subprocess

    from gnu_trees import GNU_ENV, TIMEOUT, normalize

    proc = subprocess.run(
        [f"{algorithm}sum", *opts, "--", *files],
        executable=tool,
        cwd=tmp_path,
        capture_output=True,
        timeout=TIMEOUT,
        env=GNU_ENV,
    )
    gnu = normalize(Result(proc.stdout, proc.stderr, proc.returncode), f"{algorithm}sum")
    ours = run_checksig(["digest", "-a", algorithm, *opts, "--", *files], tmp_path)
    assert_same(gnu, ours)
    assert gnu.status == 1


def test_real_console_entry_point_agrees(tmp_path: Path) -> None:
    # The in-process runner is the real CLI: prove it once through python -m checksig.
    root = build(tmp_path, "sha1", "tag", missing=True, changed=True, malformed=True)
    for options in ([], ["--warn", "--ignore-missing"]):
        gnu = run_gnu_check("sha1", MANIFEST, root, options)
        ours = run_checksig_subprocess(["check", "-m", MANIFEST, "-a", "sha1", *options], root)
        assert_same(gnu, ours)


# --- several manifests, standard input among them (FORMATS.md E13) ----------------------------


def several_tree(root: Path) -> dict[str, bytes]:
    """A tree and the manifests the several-manifest cases name: GNU-written
    good ones, a damaged one (malformed lines, a mismatch, a missing file),
    one of junk only and an empty one. Returns them by name (not yet written)."""
    names = [b"a", b"b", b"with space", b"new\nline", b"sub/c"]
    make_tree(root, names)
    good = gnu_sum("sha256", names[:3], root)
    other = gnu_sum("sha256", names[3:], root)
    bad = GARBAGE + gnu_sum("sha256", [b"a", b"b"], root) + SHA_A + b"  gone\n" + SHORT
    return {"good": good, "other": other, "bad": bad, "junk": GARBAGE + SHORT, "empty": b""}


SEVERAL = {
    # (manifests in order, what standard input holds)
    "two_empty": (["empty", "empty"], b""),
    "two_missing": (["gone-1", "gone-2"], b""),
    "good_bad_other": (["good", "bad", "other"], b""),
    "junk_then_good": (["junk", "good"], b""),
    "missing_between": (["good", "gone", "other"], b""),
    "stdin_between": (["bad", "-", "other"], "good"),
    "stdin_first_junk": (["-", "good"], "junk"),
    "stdin_twice": (["-", "-"], "good"),
    "stdin_bad": (["-"], "bad"),
    "stdin_empty_then_file": (["-", "other"], "empty"),
    "same_twice": (["bad", "bad"], b""),
}


@pytest.mark.parametrize(
    "options",
    [[], ["--quiet"], ["--status"], ["--warn"], ["--strict"], ["--ignore-missing"]],
    ids=lambda o: " ".join(o) or "default",
)
@pytest.mark.parametrize("case", sorted(SEVERAL))
def test_several_manifests_like_gnu(tmp_path: Path, case: str, options: list[str]) -> None:
    # `sha256sum -c A B -`: each manifest in turn, its lines, its warnings, its
    # summary; standard input read where `-` stands; one exit status.
    manifests, stdin = SEVERAL[case]
    texts = several_tree(tmp_path)
    (tmp_path / "b").write_bytes(b"changed")
    for name, text in texts.items():
        (tmp_path / name).write_bytes(text)
    given = texts[stdin] if isinstance(stdin, str) else stdin
    gnu = run_gnu("sha256", ["-c", *options, *manifests], tmp_path, stdin=given)
    ours = run_checksig(["check", "-a", "sha256", *options, *manifests], tmp_path, stdin=given)
    assert_same(gnu, ours)
    # The same manifests through -m (ROOT the current directory) answer the same.
    dash_m = [arg for m in manifests for arg in ("-m", m)]
    again = run_checksig(["check", "-a", "sha256", *options, *dash_m], tmp_path, stdin=given)
    assert again == ours


def test_several_manifests_options_anywhere_like_gnu(tmp_path: Path) -> None:
    # getopt takes options between operands: so does checksig.
    for name, text in several_tree(tmp_path).items():
        (tmp_path / name).write_bytes(text)
    args = ["good", "--quiet", "bad", "--warn", "-", "other"]
    gnu = run_gnu("sha256", ["-c", *args], tmp_path, stdin=(tmp_path / "bad").read_bytes())
    ours = run_checksig(
        ["check", "-a", "sha256", *args], tmp_path, stdin=(tmp_path / "bad").read_bytes()
    )
    assert_same(gnu, ours)
    assert gnu.status == 1 and gnu.stderr.count(b"improperly formatted SHA256") == 4


def test_several_manifests_of_several_algorithms_like_cksum(tmp_path: Path) -> None:
    # Tagged manifests of different algorithms, one after the other: cksum -c
    # reads each line by its tag, as checksig does (B1).
    names = [b"a", b"with space", b"new\nline"]
    make_tree(tmp_path, names)
    (tmp_path / "MD5.tags").write_bytes(gnu_sum("md5", names, tmp_path, tag=True))
    (tmp_path / "SHA1.tags").write_bytes(gnu_sum("sha1", names[:2], tmp_path, tag=True) + GARBAGE)
    (tmp_path / "a").write_bytes(b"changed")
    for options in ([], ["--warn"], ["--quiet", "--strict"]):
        args = [*options, "MD5.tags", "-", "SHA1.tags"]
        stdin = gnu_sum("sha512", names, tmp_path, tag=True)
        gnu = run_gnu("cksum", ["-c", *args], tmp_path, stdin=stdin)
        ours = run_checksig(["check", *args], tmp_path, stdin=stdin)
        assert_same(gnu, ours)


def test_a_manifest_from_standard_input_in_chunks_like_gnu(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Standard input is verified a chunk of whole lines at a time: whatever the
    # cut (down to one line a chunk), the answer is GNU's for the whole stream,
    # the one-space form decided by the first line included (A5).
    from checksig import _chunks

    names = [b"a", b" lead", b"*star", b"new\nline", b"b"]
    make_tree(tmp_path, names)
    lines = gnu_sum("sha256", names, tmp_path).splitlines(keepends=True)
    one_space = [line.replace(b"  ", b" ", 1) if b"  " in line else line for line in lines]
    whole = _chunks.manifest_chunks
    for text in (
        b"".join([GARBAGE, *lines[:2], b"# note\n", SHORT, *lines[2:], SHA_A + b"  gone"]),
        b"".join([*one_space[:1], GARBAGE, *lines[1:]]),  # later "HEX  x" names " x"
    ):
        gnu = run_gnu("sha256", ["-c", "--warn", "-"], tmp_path, stdin=text)
        unended = int(not text.endswith(b"\n"))  # a last line without newline: a chunk of its own
        for size, jobs in ((1, text.count(b"\n") + unended), (7, None), (1 << 20, 1 + unended)):
            cut: list[bytes] = []

            def chunks(read, size=size, cut=cut):  # type: ignore[no-untyped-def]
                for chunk in whole(read, size):
                    cut.append(chunk)
                    yield chunk

            monkeypatch.setattr(_chunks, "manifest_chunks", chunks)
            ours = run_checksig(["check", "-a", "sha256", "--warn", "-"], tmp_path, stdin=text)
            assert_same(gnu, ours)
            assert b"".join(cut) == text and len(cut) == (jobs or len(cut)) > 0


@pytest.mark.parametrize("from_stdin", [False, True], ids=["file", "stdin"])
def test_warn_lists_every_malformed_line_beyond_a_thousand(
    tmp_path: Path, from_stdin: bool
) -> None:
    # The engine keeps the first 1000 warnings of a job; --warn still names
    # every malformed line, in order among the reasons, as GNU does (E4).
    make_tree(tmp_path, [b"a", b"b"])
    cr = b"junk\rwith a lone CR\r\n"  # a CR inside a line: still one line (A1)
    lines = [GARBAGE, cr] * 600 + [SHA_A + b"  a\n", SHA_A + b"  gone\n"] + [SHORT] * 300
    text = b"".join(lines) + SHA_B + b"  b\n"
    (tmp_path / MANIFEST).write_bytes(text)
    manifest = "-" if from_stdin else MANIFEST
    stdin = text if from_stdin else b""
    gnu = run_gnu("sha256", ["-c", "--warn", manifest], tmp_path, stdin=stdin)
    ours = run_checksig(["check", "-a", "sha256", "--warn", manifest], tmp_path, stdin=stdin)
    assert_same(gnu, ours)
    assert gnu.stderr.count(b"improperly formatted SHA256 checksum line") == 1500


def run_with_closed_stdin(command: list[str], cwd: Path) -> Result:
    """command run with descriptor 0 closed (the shell's <&-)."""
    import subprocess

    from gnu_trees import GNU_ENV, TIMEOUT

    proc = subprocess.run(
        ["sh", "-c", 'exec "$@" <&-', "sh", *command],
        cwd=cwd,
        capture_output=True,
        timeout=TIMEOUT,
        env=GNU_ENV,
    )
    return Result(proc.stdout, proc.stderr, proc.returncode)


@pytest.mark.parametrize(
    "args",
    [["-c", "-"], ["-c", "good", "-", "good"], ["-c", "--status", "-"], ["-"], [], ["a", "-"]],
    ids=lambda a: " ".join(a) or "no FILE",
)
def test_closed_standard_input_like_gnu(tmp_path: Path, args: list[str]) -> None:
    # GNU: "'standard input': read error" (check) or "-: Bad file descriptor"
    # (digest), then "standard input: Bad file descriptor" as it closes it; exit 1.
    import sys

    from gnu_trees import normalize

    for name, text in several_tree(tmp_path).items():
        (tmp_path / name).write_bytes(text)
    tool = gnu_tool("sha256")
    assert tool
    gnu = normalize(run_with_closed_stdin([tool, *args], tmp_path), tool)  # argv[0]: the path
    if args and args[0] == "-c":
        ours_args = ["check", "-a", "sha256", *args[1:]]
    else:
        ours_args = ["digest", *args]
    ours = run_with_closed_stdin([sys.executable, "-m", "checksig", *ours_args], tmp_path)
    assert_same(gnu, ours)
    assert gnu.status == 1 and b"Bad file descriptor" in gnu.stderr


@pytest.mark.parametrize("tag", [False, True], ids=["untagged", "tag"])
def test_digest_zero_like_gnu(tmp_path: Path, tag: bool) -> None:
    # -z: each line ended by NUL, names written as they are (no escaping).
    make_tree(tmp_path, AWKWARD_NAMES)
    files = [os.fsdecode(n) for n in AWKWARD_NAMES] + ["no such file"]
    opts = ["-z"] + (["--tag"] if tag else [])
    gnu = run_gnu("sha256", [*opts, "--", *files], tmp_path)
    ours = run_checksig(["digest", *opts, "--", *files], tmp_path)
    assert_same(gnu, ours)
    assert gnu.stdout.count(b"\0") == len(AWKWARD_NAMES) and b"new\nline" in gnu.stdout


# --- intentional differences (FORMATS.md part F) ---------------------------------------------


def test_f1_entries_outside_the_root_are_refused(tmp_path: Path) -> None:
    root = tmp_path / "root"
    make_tree(root, [b"a"])
    make_tree(tmp_path, [b"secret"])
    os.symlink(tmp_path / "secret", root / "link-out")
    sha = hexdigest("sha256", content(b"secret")).encode()
    lines = [
        SHA_A + b"  a\n",
        sha + b"  ../secret\n",
        sha + b"  " + os.fsencode(tmp_path / "secret") + b"\n",
        sha + b"  link-out\n",
    ]
    (root / MANIFEST).write_bytes(b"".join(lines))
    gnu = run_gnu_check("sha256", MANIFEST, root, [])
    assert gnu.status == 0 and gnu.stdout.count(b": OK") == 4  # GNU reads them all
    ours = run_checksig(["check", "-m", MANIFEST, "-a", "sha256"], root)
    why = b"refusing a name that leads outside the root directory (not read)"
    absolute = os.fsencode(tmp_path / "secret")
    assert ours.stdout == (
        b"a: OK\n../secret: FAILED open or read\n"
        + absolute
        + b": FAILED open or read\nlink-out: FAILED open or read\n"
    )
    assert ours.stderr == (
        b"checksig: ../secret: " + why + b"\n"
        b"checksig: " + absolute + b": " + why + b"\n"
        b"checksig: link-out: " + why + b"\n"
        b"checksig: WARNING: 3 listed files could not be read\n"
    )
    assert ours.status == 1


def test_f2_fifos_and_devices_are_never_read(tmp_path: Path) -> None:
    # GNU would block forever on the FIFO (so it is not run here).
    make_tree(tmp_path, [b"a"])
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / MANIFEST).write_bytes(SHA_A + b"  fifo\n" + SHA_A + b"  a\n")
    ours = run_checksig(["check", "-m", MANIFEST], tmp_path)
    assert ours.stdout == b"fifo: FAILED open or read\na: OK\n"
    assert ours.stderr == (
        b"checksig: fifo: not a regular file (never read)\n"
        b"checksig: WARNING: 1 listed file could not be read\n"
    )
    assert ours.status == 1


@pytest.mark.parametrize("name", UNSAFE_NAMES, ids=repr)
def test_f3_control_characters_are_escaped_on_stdout(tmp_path: Path, name: bytes) -> None:
    make_tree(tmp_path, [name])
    (tmp_path / MANIFEST).write_bytes(gnu_sum("sha256", [name], tmp_path))
    missing = name + b"-gone"
    with open(tmp_path / MANIFEST, "ab") as f:
        f.write(ZERO + b"  " + missing + b"\n")
    gnu = run_gnu_check("sha256", MANIFEST, tmp_path, [])
    ours = run_checksig(["check", "-m", MANIFEST, "-a", "sha256"], tmp_path)
    # stderr (GNU's quoting) and the exit status are the same ...
    assert (ours.stderr, ours.status) == (gnu.stderr, gnu.status)
    assert gnu.stdout == name + b": OK\n" + missing + b": FAILED open or read\n"
    # ... stdout shows the names escaped, with GNU's leading backslash.
    shown, escaped = display_name(name)
    assert escaped and b"\x1b" not in shown and b"\r" not in shown and b"\x07" not in shown
    gone, _ = display_name(missing)
    assert ours.stdout == b"\\" + shown + b": OK\n\\" + gone + b": FAILED open or read\n"


def test_f4_nul_in_a_name_is_malformed(tmp_path: Path) -> None:
    # GNU reads the name up to the NUL ("a"); checksig rejects the line.
    make_tree(tmp_path, [b"a", b"b"])
    (tmp_path / MANIFEST).write_bytes(SHA_A + b"  a\0junk\n" + SHA_B + b"  b\n")
    gnu = run_gnu_check("sha256", MANIFEST, tmp_path, ["--warn"])
    assert gnu.stdout == b"a: OK\nb: OK\n"
    ours = run_checksig(["check", "-m", MANIFEST, "-a", "sha256", "--warn"], tmp_path)
    assert ours.stdout == b"b: OK\n"
    assert ours.stderr == (
        b"checksig: MANIFEST.txt: 1: improperly formatted SHA256 checksum line\n"
        b"checksig: WARNING: 1 line is improperly formatted\n"
    )
    assert ours.status == 0


def test_f5_manifest_that_is_a_directory(tmp_path: Path) -> None:
    (tmp_path / "sums").mkdir()
    gnu = run_gnu_check("sha256", "sums", tmp_path, [])
    assert (gnu.stderr, gnu.status) == (b"checksig: sums: read error\n", 1)
    ours = run_checksig(["check", "-m", "sums"], tmp_path)
    assert (ours.stdout, ours.stderr, ours.status) == (b"", b"checksig: sums: Is a directory\n", 1)


def test_f6_a_tag_decides_even_with_a(tmp_path: Path) -> None:
    # sha256sum -c rejects an MD5 line; checksig -a sha256 verifies it by its tag.
    make_tree(tmp_path, [b"a", b"b"])
    md5 = hexdigest("md5", content(b"a")).encode()
    (tmp_path / MANIFEST).write_bytes(b"MD5 (a) = " + md5 + b"\n" + SHA_B + b"  b\n")
    gnu = run_gnu_check("sha256", MANIFEST, tmp_path, [])
    assert gnu.stdout == b"b: OK\n" and b"1 line is improperly formatted" in gnu.stderr
    ours = run_checksig(["check", "-m", MANIFEST, "-a", "sha256"], tmp_path)
    assert (ours.stdout, ours.stderr, ours.status) == (b"a: OK\nb: OK\n", b"", 0)


def test_a6_sha2_tags_are_read_by_their_tag(tmp_path: Path) -> None:
    # GNU 9.8+ `cksum -c` reads SHA2-256 tags (cksum -a sha2 -l N reads them too);
    # this machine's GNU 9.1, and every version's sha256sum -c, call them malformed.
    # checksig reads them wherever it reads tags (A6, F6).
    make_tree(tmp_path, [b"a", b"b"])
    text = b"SHA2-256 (a) = " + SHA_A + b"\n" + SHA_B + b"  b\n"
    (tmp_path / MANIFEST).write_bytes(text)
    gnu = run_gnu_check("sha256", MANIFEST, tmp_path, [])
    assert gnu.stdout == b"b: OK\n" and b"1 line is improperly formatted" in gnu.stderr
    for args in ([], ["-a", "sha256"]):
        ours = run_checksig(["check", "-m", MANIFEST, *args], tmp_path)
        assert (ours.stdout, ours.stderr, ours.status) == (b"a: OK\nb: OK\n", b"", 0)
    newer = os.environ.get("CHECKSIG_CKSUM")  # a GNU cksum >= 9.8, when one is given
    if newer:
        (tmp_path / "tagged").write_bytes(b"SHA2-256 (a) = " + SHA_A + b"\n")
        proc = subprocess.run([newer, "-c", "tagged"], cwd=tmp_path, capture_output=True)
        assert (proc.returncode, proc.stdout) == (0, b"a: OK\n")


def test_f9_an_entry_named_dash_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "-").write_bytes(b"on disk")
    (tmp_path / MANIFEST).write_bytes(hexdigest("sha256", b"on disk").encode() + b"  -\n")
    gnu = run_gnu_check("sha256", MANIFEST, tmp_path, [])  # GNU hashes its (empty) stdin
    assert gnu == Result(
        b"-: FAILED\n", b"checksig: WARNING: 1 computed checksum did NOT match\n", 1
    )
    ours = run_checksig(["check", "-m", MANIFEST], tmp_path, stdin=b"ignored")
    assert ours == Result(b"-: OK\n", b"", 0)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_f10_a_write_error_ends_the_run_at_once(tmp_path: Path) -> None:
    # GNU 9.1 buffers stdout and reports the failed write at exit, after its
    # summary; checksig stops at the first failed write. Both exit 1.
    import subprocess
    import sys

    from gnu_trees import GNU_ENV, TIMEOUT, normalize

    root = build(tmp_path, "sha256", "untagged", missing=True, changed=True, malformed=True)
    tool = gnu_tool("sha256")
    assert tool
    results = []
    for cmd in ([tool, "-c", MANIFEST], [sys.executable, "-m", "checksig", "check", MANIFEST]):
        with open("/dev/full", "wb") as full:
            proc = subprocess.run(
                cmd, cwd=root, stdout=full, stderr=subprocess.PIPE, timeout=TIMEOUT, env=GNU_ENV
            )
        results.append(normalize(Result(b"", proc.stderr, proc.returncode), tool))
    gnu, ours = results
    assert gnu.status == ours.status == 1
    assert gnu.stderr.endswith(b"did NOT match\nchecksig: write error\n")
    assert ours.stderr == b"checksig: write error: No space left on device\n"


def test_f11_standard_input_that_is_a_directory(tmp_path: Path) -> None:
    # GNU: "'standard input': read error". CPython refuses to start with a
    # directory on descriptor 0, before checksig runs: no answer of checksig's.
    import subprocess
    import sys

    from gnu_trees import GNU_ENV, TIMEOUT

    tool = gnu_tool("sha256")
    assert tool
    here = os.open(tmp_path, os.O_RDONLY)  # a directory, open for reading
    try:
        gnu = subprocess.run(
            [tool, "-c", "-"], stdin=here, capture_output=True, timeout=TIMEOUT, env=GNU_ENV
        )
        ours = subprocess.run(
            [sys.executable, "-m", "checksig", "check", "-"],
            stdin=here,
            capture_output=True,
            timeout=TIMEOUT,
            env=GNU_ENV,
        )
    finally:
        os.close(here)
    assert gnu.returncode == 1 and gnu.stderr.endswith(b": 'standard input': read error\n")
    assert ours.returncode == 1 and b"init_sys_streams" in ours.stderr


# --- known engine differences (FORMATS.md part G): reported, not yet fixed -------------------

ENGINE = "engine difference, FORMATS.md part G: "

KNOWN = {
    "blank_only_line": pytest.param(
        _lines(b"   \n", b"\t\n", SHA_A + b"  a\n"),
    ),
    "single_space_then_leading_space_name": pytest.param(
        _lines(SHA_A + b" a\n", SHA_B + b"  b\n", SHA_B + b" *b\n"),
    ),
    "single_space_then_two": pytest.param(
        _lines(SHA_A + b"\ta\n", SHA_B + b"\t*b\n"),
    ),
    "openssl_tag": pytest.param(
        _lines(b"SHA256(a)= " + SHA_A + b"\n"),
    ),
    "tag_no_space_before_equals": pytest.param(
        _lines(b"SHA256 (a)= " + SHA_A + b"\n", b"SHA256 (b) =" + SHA_B + b"\n"),
    ),
    "tag_extra_spaces_around_equals": pytest.param(
        _lines(b"SHA256 (a)  =  " + SHA_A + b"\n"),
    ),
    "long_comment_line": pytest.param(
        _lines(b"#" + b"x" * 70_000 + b"\n", SHA_A + b"  a\n"),
    ),
    "long_name_line": pytest.param(
        _lines(SHA_A + b"  " + b"x/" * 35_000 + b"\n", SHA_A + b"  a\n"),
        marks=pytest.mark.xfail(strict=True, reason=ENGINE + "G1 entry lines over 64 KiB"),
    ),
    "digest_and_one_blank": pytest.param(
        _lines(SHA_A + b" \n", SHA_B + b"  b\n"),
    ),
    "tag_empty_name": pytest.param(
        _lines(b"SHA256 () = " + SHA_A + b"\n", SHA_B + b"  b\n"),
    ),
}


@pytest.mark.parametrize("text", list(KNOWN.values()), ids=list(KNOWN))
def test_g_known_engine_differences(tmp_path: Path, text: bytes) -> None:
    make_tree(tmp_path, [b"a", b"b", b" b", b"*b"])
    (tmp_path / MANIFEST).write_bytes(text)
    compare(tmp_path, "sha256", ["--warn"])


WINDOWS_LOOKING = [b"\\lead", b"c:drive", b"a\\..\\b"]


@pytest.mark.parametrize("name", WINDOWS_LOOKING, ids=repr)
def test_g7_windows_looking_names_verify(tmp_path: Path, name: bytes) -> None:
    make_tree(tmp_path, [name])
    (tmp_path / MANIFEST).write_bytes(gnu_sum("sha256", [name], tmp_path))
    gnu, _ = compare(tmp_path, "sha256", [])
    assert gnu.status == 0


@pytest.mark.parametrize("name", WINDOWS_LOOKING, ids=repr)
def test_g7_windows_looking_names_make(tmp_path: Path, name: bytes) -> None:
    root = tmp_path / "root"
    make_tree(root, [name])
    ours = run_checksig(["make", "root", "-o", "-"], tmp_path)
    assert ours == Result(gnu_sum("sha256", [name], root), b"", 0)
