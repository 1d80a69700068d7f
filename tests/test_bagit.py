"""BagIt (RFC 8493): checksig.verify_bag against bagit-python, bag by bag.

The corpus is bagit-python's own: its test-data payload (tests/data/), bagged
with its make_bag and broken the way its test.py breaks it (and a few ways
more). For every bag, checksig's verdict (Report.ok) must be bagit-python's
(``Bag(path).validate()``, a BagError meaning invalid), in full and in fast
mode, and the files bagit-python names (ChecksumMismatch, FileMissing,
UnexpectedFile) must be failing rows of the report. FORMATS.md part K.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import shutil
import unicodedata
from pathlib import Path

import pytest

import checksig

bagit = pytest.importorskip("bagit")

CORPUS = Path(__file__).resolve().parent / "data" / "bagit-python"
JPG = "data/loc/2478433644_2839c5e8b8_o_d.jpg"


def bagit_verdict(path: Path, *, fast: bool = False) -> tuple[bool, set[str]]:
    """(valid, the paths bagit-python's error details name)."""
    try:
        bagit.Bag(str(path)).validate(fast=fast)
    except bagit.BagValidationError as exc:
        return False, {str(d.path) for d in exc.details if hasattr(d, "path")}
    except bagit.BagError:
        return False, set()
    return True, set()


# --- the corpus: (name, make) where make(bag_dir) breaks a fresh bag -----------------------


def _write(path: Path, text: str, mode: str = "w") -> None:
    with open(path, mode, encoding="utf-8") as f:
        f.write(text)


def flipped_bit(bag: Path) -> None:
    readme = bag / "data" / "README"
    readme.write_bytes(b"A" + readme.read_bytes()[1:])


def removed_file(bag: Path) -> None:
    (bag / JPG).unlink()


def renamed_file(bag: Path) -> None:
    (bag / "data" / "README").rename(bag / "data" / "extra_file")


def extra_file(bag: Path) -> None:
    _write(bag / "data" / "extra_file", "bar")


def extra_file_no_oxum(bag: Path) -> None:
    (bag / "bag-info.txt").unlink()
    extra_file(bag)


def no_bag_info(bag: Path) -> None:
    (bag / "bag-info.txt").unlink()


def no_data_dir(bag: Path) -> None:
    shutil.rmtree(bag / "data")


def bom_in_bagit_txt(bag: Path) -> None:
    p = bag / "bagit.txt"
    p.write_bytes(codecs.BOM_UTF8 + p.read_bytes())


def no_bagit_txt(bag: Path) -> None:
    (bag / "bagit.txt").unlink()


def empty_bagit_txt(bag: Path) -> None:
    (bag / "bagit.txt").write_bytes(b"")


def garbage_in_bagit_txt(bag: Path) -> None:
    _write(bag / "bagit.txt", "BagIt-Version: 0.97\nTag-File-Character-Encoding: UTF-8\n====\n")


def bad_version(version: str):
    def make(bag: Path) -> None:
        _write(bag / "bagit.txt", f"BagIt-Version: {version}\nTag-File-Character-Encoding: UTF-8\n")

    make.__name__ = f"version_{version}"
    return make


def unknown_encoding(bag: Path) -> None:
    _write(bag / "bagit.txt", "BagIt-Version: 0.97\nTag-File-Character-Encoding: WTF-8\n")


def extraneous_file_in_base(bag: Path) -> None:
    _write(bag / "IGNOREFILE", "x")
    (bag / "IGNOREDIR").mkdir()


def no_manifest(bag: Path) -> None:
    for m in bag.glob("manifest-*.txt"):
        m.unlink()


def no_tagmanifest(bag: Path) -> None:
    for m in bag.glob("tagmanifest-*.txt"):
        m.unlink()


def mixed_case_digests(bag: Path) -> None:
    for m in bag.glob("manifest-*.txt"):
        m.write_text(m.read_text().upper().replace("DATA/", "data/").replace("README", "README"))
    bagit._make_tagmanifest_file("sha256", str(bag))
    bagit._make_tagmanifest_file("sha512", str(bag))


def unsafe(path: str):
    def make(bag: Path) -> None:
        digest = hashlib.sha256(b"not a real file").hexdigest()
        _write(bag / "manifest-sha256.txt", f"{digest} {path}\n", "a")

    make.__name__ = f"unsafe_{path}"
    return make


def multiple_oxum(bag: Path) -> None:
    _write(bag / "bag-info.txt", "Payload-Oxum: 7.7\n", "a")


def wrong_oxum(bag: Path) -> None:
    text = (bag / "bag-info.txt").read_text()
    lines = [ln for ln in text.splitlines() if not ln.startswith("Payload-Oxum")]
    _write(bag / "bag-info.txt", "\n".join(lines + ["Payload-Oxum: 12.3"]) + "\n")


def malformed_oxum(bag: Path) -> None:
    text = (bag / "bag-info.txt").read_text()
    _write(bag / "bag-info.txt", text.replace("Payload-Oxum:", "Payload-Oxum: x"))


def optional_tagfile(good: bool, remove: bool = False):
    def make(bag: Path) -> None:
        tagdir = bag / "tags" / "deeper"
        tagdir.mkdir(parents=True)
        _write(tagdir / "tagfile", "test")
        digest = hashlib.sha256(b"test" if good else b"other").hexdigest()
        _write(bag / "tagmanifest-sha256.txt", f"{digest} tags/deeper/tagfile\n", "a")
        if remove:
            (tagdir / "tagfile").unlink()

    make.__name__ = f"tagfile_{'good' if good else 'bad'}{'_removed' if remove else ''}"
    return make


def unreadable(bag: Path) -> None:
    os.chmod(bag / JPG, 0)


def fetch_entry_not_listed(bag: Path) -> None:
    _write(bag / "fetch.txt", "https://example.org/x.jpg - data/nasa/x.jpg\n")


def fetch_listed_not_fetched(bag: Path) -> None:
    data = (bag / JPG).read_bytes()
    _write(bag / "fetch.txt", f"https://example.org/x.jpg {len(data)} {JPG}\n")
    (bag / JPG).unlink()


def fetch_unsafe(bag: Path) -> None:
    _write(bag / "fetch.txt", "https://example.org/x - /etc/passwd\n")


def fetch_bad_url(bag: Path) -> None:
    _write(bag / "fetch.txt", "//example.org/x.jpg - data/nasa/x.jpg\n")


def carriage_return_name(bag: Path) -> None:
    pass  # made before bagging: see BEFORE


def duplicate_same(bag: Path) -> None:
    m = bag / "manifest-sha256.txt"
    first = m.read_text().splitlines()[0]
    _write(m, first + "\n", "a")


def duplicate_conflicting(bag: Path) -> None:
    m = bag / "manifest-sha256.txt"
    first = m.read_text().splitlines()[0]
    _write(m, "0" * 64 + first[64:] + "\n", "a")


def version_1_duplicate(bag: Path) -> None:
    _write(bag / "bagit.txt", "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
    duplicate_same(bag)


def unicode_nfc_manifest(bag: Path) -> None:
    for m in bag.glob("manifest-*.txt"):
        m.write_bytes(unicodedata.normalize("NFC", m.read_text("utf-8")).encode("utf-8"))
    for alg in ("sha256", "sha512"):
        bagit._make_tagmanifest_file(alg, str(bag))


def truncated_tag_manifest_line(bag: Path) -> None:
    _write(bag / "manifest-sha256.txt", "onlyonefield\n", "a")


def bad_digest_length(bag: Path) -> None:
    _write(bag / "manifest-sha256.txt", f"abc {JPG}\n", "a")


def symlink_out(bag: Path) -> None:
    outside = bag.parent / "secret.txt"
    _write(outside, "secret")
    (bag / "data" / "link").symlink_to(outside)
    digest = hashlib.sha256(b"secret").hexdigest()
    _write(bag / "manifest-sha256.txt", f"{digest}  data/link\n", "a")


def unchanged(bag: Path) -> None:
    pass


#: Files made in the payload before make_bag (names bagit-python must escape).
BEFORE = {
    "carriage_return_name": {"newline\r": "ugh"},
    "unicode_nfc_manifest": {unicodedata.normalize("NFD", "Núñez Papers.txt"): "nfd"},
}

CORPUS_CASES = [
    unchanged,
    flipped_bit,
    removed_file,
    renamed_file,
    extra_file,
    extra_file_no_oxum,
    no_bag_info,
    no_data_dir,
    bom_in_bagit_txt,
    no_bagit_txt,
    empty_bagit_txt,
    garbage_in_bagit_txt,
    *(bad_version(v) for v in ("a.b", "2.", "0.1.2", "2.0", "0.92")),
    unknown_encoding,
    extraneous_file_in_base,
    no_manifest,
    no_tagmanifest,
    mixed_case_digests,
    *(unsafe(p) for p in ("../../../secrets.json", "~/.pgp/id_rsa", "/dev/null")),
    unsafe("data/../../../secrets.json"),
    multiple_oxum,
    wrong_oxum,
    malformed_oxum,
    optional_tagfile(True),
    optional_tagfile(False),
    optional_tagfile(True, remove=True),
    fetch_entry_not_listed,
    fetch_listed_not_fetched,
    fetch_unsafe,
    fetch_bad_url,
    carriage_return_name,
    duplicate_same,
    duplicate_conflicting,
    version_1_duplicate,
    unicode_nfc_manifest,
    truncated_tag_manifest_line,
    bad_digest_length,
    symlink_out,
]


def make_bag(tmp_path: Path, case) -> Path:
    bag = tmp_path / "bag"
    shutil.copytree(CORPUS, bag)
    for name, text in BEFORE.get(case.__name__, {}).items():
        (bag / name).write_text(text)
    bagit.make_bag(str(bag), checksums=["sha256", "sha512"])
    case(bag)
    return bag


@pytest.mark.parametrize("case", CORPUS_CASES, ids=lambda c: c.__name__)
def test_verdict_agrees_with_bagit_python(tmp_path: Path, case, workers: int) -> None:
    if case is unreadable and os.geteuid() == 0:
        pytest.skip("root reads a file of mode 0")
    bag = make_bag(tmp_path, case)
    for fast in (False, True):
        valid, named = bagit_verdict(bag, fast=fast)
        report = checksig.verify_bag(bag, fast=fast, workers=workers, progress=False)
        assert report.ok == valid, (case.__name__, fast, str(report))
        failing = {r.path for r in report.failures}
        # Every file bagit-python names is a failing row of checksig's report.
        assert named <= failing, (named, failing)
        if not valid and not fast:
            # ... and checksig says why: a failing row or a problem.
            assert report.failures or report.problems


def test_every_failure_is_named_where_bagit_python_stops(tmp_path: Path) -> None:
    # bagit-python stops at the first Payload-Oxum mismatch; checksig names
    # the mismatch, the missing file and the extra file in one report.
    bag = make_bag(tmp_path, unchanged)
    flipped_bit(bag)
    removed_file(bag)
    extra_file(bag)
    valid, named = bagit_verdict(bag)
    assert not valid and named == set()  # Oxum failed first: no details
    report = checksig.verify_bag(bag, progress=False)
    assert not report.ok
    assert any("Payload-Oxum" in p for p in report.problems)
    got = {(r.path, r.status, r.algorithm) for r in report.failures}
    assert got == {
        ("data/README", "mismatch", "sha256"),
        ("data/README", "mismatch", "sha512"),
        (JPG, "missing", "sha256"),
        (JPG, "missing", "sha512"),
        ("data/extra_file", "extra", ""),
    }
    with pytest.raises(checksig.SignatureError) as caught:
        report.raise_if_failed()
    assert "Payload-Oxum" in str(caught.value) and "data/extra_file" in str(caught.value)
    assert caught.value.report is report


def test_rows_and_digests(tmp_path: Path) -> None:
    bag = make_bag(tmp_path, unchanged)
    report = checksig.verify_bag(bag, progress=False)
    assert report.ok and not report.problems
    # One row per line of every manifest and tag manifest, digests as hashlib's.
    lines = 0
    for m in sorted(bag.glob("*manifest-*.txt")):
        lines += len(m.read_text().splitlines())
    assert len(report) == lines
    for row in report:
        assert row.actual == hashlib.new(row.algorithm, (bag / row.path).read_bytes()).hexdigest()
    only = checksig.verify_bag(bag, algorithm="sha256", progress=False)
    assert only.ok and {r.algorithm for r in only} == {"sha256"}
    with pytest.raises(
        ValueError, match=r"no manifest-md5.txt \(its payload manifests: manifest-sha256"
    ):
        checksig.verify_bag(bag, algorithm="md5")


def test_extra_lists_the_tag_directories_files_and_never_the_bags_own(tmp_path: Path) -> None:
    # extra=True adds the files outside data/ that no tag manifest lists, in
    # full and in fast validation alike; bagit.txt, bag-info.txt and the
    # manifests are the bag's own and never "extra" (fast validation listed
    # them once: the engine walked the bag without the bag's finisher).
    bag = make_bag(tmp_path, unchanged)
    (bag / "tags").mkdir()
    (bag / "tags" / "notes.txt").write_text("x")
    for fast in (False, True):
        plain = checksig.verify_bag(bag, fast=fast, progress=False)
        assert plain.ok and "extra" not in plain.counts(), (fast, str(plain))
        report = checksig.verify_bag(bag, fast=fast, extra=True, progress=False)
        extra = {r.path for r in report if r.status == "extra"}
        assert extra == {"tags/notes.txt"}, (fast, extra)
        assert not report.problems, report.problems


def test_fetch_entries_are_reported_never_downloaded(tmp_path: Path) -> None:
    bag = make_bag(tmp_path, fetch_listed_not_fetched)
    report = checksig.verify_bag(bag, progress=False)
    assert not report.ok
    assert {(r.path, r.status) for r in report.failures} == {(JPG, "missing")}
    assert any("fetch.txt lists 1 file(s) not fetched yet" in n for n in report.notes)


def test_percent_encoded_names(tmp_path: Path) -> None:
    # BagIt 1.0 (RFC 8493 2.1.3): %25 is a percent sign; 0.97 (bagit-python's
    # own bags) decodes only %0A and %0D, as bagit-python.
    bag = tmp_path / "bag"
    (bag / "data").mkdir(parents=True)
    (bag / "data" / "100%.txt").write_text("pct")
    (bag / "data" / "a\nb").write_text("nl")
    digest = hashlib.sha256(b"pct").hexdigest()
    nl = hashlib.sha256(b"nl").hexdigest()
    (bag / "bagit.txt").write_text("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
    (bag / "manifest-sha256.txt").write_text(f"{digest}  data/100%25.txt\n{nl}  data/a%0Ab\n")
    report = checksig.verify_bag(bag, progress=False)
    assert report.ok, str(report)
    assert {r.path for r in report} == {"data/100%.txt", "data/a\nb"}


def test_not_a_bag(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        checksig.verify_bag(tmp_path / "nothing")
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError):
        checksig.verify_bag(tmp_path / "file")
    report = checksig.verify_bag(tmp_path, progress=False)  # an empty directory
    assert not report.ok
    assert "bagit.txt does not exist" in report.problems
    assert "no payload manifest (manifest-ALGORITHM.txt)" in report.problems


def test_cli_bag(tmp_path: Path) -> None:
    from checksig._cli import main

    bag = make_bag(tmp_path, unchanged)
    assert main(["bag", str(bag), "--quiet", "--no-progress"]) == 0
    flipped_bit(bag)
    assert main(["bag", str(bag), "--no-progress"]) == 1
    assert main(["bag", str(tmp_path / "nothing"), "--no-progress"]) == 1
