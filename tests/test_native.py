"""_native.py against go/capi/checksig.h: constants, struct layouts (checked
with a C compiler), every declared signature, loading, error mapping, jobs
and fork safety."""

from __future__ import annotations

import ctypes
import errno
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from ctypes import POINTER
from pathlib import Path

import numpy as np
import pytest
from conftest import hexdigest, run_json, write_manifest

import checksig
from checksig import _native

HEADER = Path(__file__).resolve().parent.parent / "go" / "capi" / "checksig.h"
needs_header = pytest.mark.skipif(not HEADER.is_file(), reason="needs the source tree's header")


def header_text() -> str:
    return HEADER.read_text()


# --- the header and the mirrors ----------------------------------------------


@needs_header
def test_constants_match_header() -> None:
    defines = dict(
        re.findall(r"^#define CHECKSIG_(\w+)\s+(0x[0-9a-fA-F]+|\d+)", header_text(), re.M)
    )
    values = {k: int(v, 0) for k, v in defines.items()}
    assert values.pop("ABI_VERSION") == _native.ABI_VERSION
    for name, value in values.items():
        if name in ("ALG_BLAKE2B_BASE", "ALG_COUNT"):
            assert getattr(_native, name) == value, name
        elif name.startswith("ALG_"):
            # CHECKSIG_ALG_SHA3_256 is "sha3_256", CHECKSIG_ALG_GIT_SHA1 "git-sha1".
            alg = name[4:].lower()
            want = {"none": "", "git_sha1": "git-sha1"}.get(alg, alg)
            assert _native.ALGORITHMS[value] == want, name
            assert getattr(_native, name) == value, name
        elif name.startswith("SRC_"):
            assert _native.SOURCES[value] == ("" if name == "SRC_NONE" else name[4:].lower())
            assert getattr(_native, name) == value, name
        elif name == "I_LEN":
            assert value == _native.I_LEN == len(_native.INFERENCE_FIELDS)
        elif name.startswith("I_"):
            assert _native.INFERENCE_FIELDS[value] == name[2:].lower(), name
        elif name.startswith("ST_"):
            assert _native.STATUSES[value] == name[3:].lower(), name
        elif name == "P_LEN":
            assert value == _native.P_LEN == len(_native.PROGRESS_FIELDS)
        elif name.startswith("P_"):
            assert _native.PROGRESS_FIELDS[value] == name[2:].lower(), name
            assert getattr(_native, name) == value, name
        else:
            assert getattr(_native, name) == value, name
    assert {n for n in values if n.startswith("ST_")} == {
        "ST_" + s.upper() for s in _native.STATUSES
    }


@needs_header
def test_the_engine_fills_each_progress_counter_by_its_name() -> None:
    # One table of counters: checksig.h's CHECKSIG_P_* list. go/capi/main.go
    # fills each slot by that name from the Go Progress field of the same name
    # (P_FILES_DONE from FilesDone), and Python reads each by _native.P_*.
    capi = (HEADER.parent / "main.go").read_text()
    filled = re.findall(r"vals\[C\.CHECKSIG_P_(\w+)\] = (?:int64\()?p\.(\w+)\)?\n", capi)
    header = re.findall(r"^#define CHECKSIG_P_(\w+)\s+\d+", header_text(), re.M)
    assert sorted(name for name, _ in filled) == sorted(set(header) - {"LEN"})
    for name, field in filled:  # FILES_DONE from FilesDone, IO from IO (Go's initialisms)
        assert field.lower() == name.replace("_", "").lower(), (name, field)
    assert set(_native.PROGRESS_FIELDS) == {name.lower() for name, _ in filled}


@needs_header
def test_digest_sizes_match_header() -> None:
    m = re.search(r"Digest sizes in bytes:\s*\*?\s*(.*?)\*/", header_text(), re.S)
    assert m
    sizes = dict(re.findall(r"([\w-]+) (\d+)", m.group(1)))
    assert "blake2b-N N/8" in " ".join(m.group(1).split())
    import hashlib

    assert len(_native.ALGORITHMS) == len(_native.DIGEST_SIZES) == _native.ALG_COUNT
    named = 0
    for i, alg in enumerate(_native.ALGORITHMS):
        size = _native.DIGEST_SIZES[i]
        if not alg:
            assert size == 0 and (i == 0 or 14 <= i < 64), i
            continue
        named += 1
        if alg.startswith("blake2b"):
            bits = int(alg.partition("-")[2] or 512)
            assert i == _native.ALG_BLAKE2B_BASE + bits // 8 and size == bits // 8
            assert len(hashlib.blake2b(digest_size=size).digest()) == size
            continue
        assert int(sizes.pop(alg)) == size, alg
        if alg in hashlib.algorithms_available:
            assert len(hashlib.new(alg).digest()) == size, alg
    assert not sizes, f"the header lists sizes of unknown algorithms: {sizes}"
    assert named == 13 + 64


def _prototypes() -> dict[str, tuple[str, list[str]]]:
    text = re.sub(r"/\*.*?\*/", "", header_text(), flags=re.S)
    protos = {}
    for ret, name, args in re.findall(r"^(int32_t|void)\s+(checksig_\w+)\(([^)]*)\);", text, re.M):
        params = [" ".join(a.split()) for a in args.split(",")]
        if params == ["void"]:
            params = []
        protos[name] = (ret, params)
    return protos


_C_TO_CTYPES = {
    "int32_t": ctypes.c_int32,
    "int64_t": ctypes.c_int64,
    "uint64_t": ctypes.c_uint64,
    "void *": ctypes.c_void_p,
    "uint8_t *": ctypes.POINTER(ctypes.c_uint8),
    "int32_t *": ctypes.POINTER(ctypes.c_int32),
    "int64_t *": ctypes.POINTER(ctypes.c_int64),
    "uint64_t *": ctypes.POINTER(ctypes.c_uint64),
    # Out-parameter for a Go-malloc'd pointer: read back as c_void_p, freed by us.
    "uint8_t **": ctypes.POINTER(ctypes.c_void_p),
    "checksig_error *": ctypes.POINTER(_native.Error),
    "checksig_request *": ctypes.POINTER(_native.Request),
    "checksig_columns *": ctypes.POINTER(_native.Columns),
}


@needs_header
def test_every_export_is_declared_with_the_headers_types() -> None:
    protos = _prototypes()
    declared = {name: (res, args) for name, res, args in _native._SIGNATURES}
    assert set(protos) == set(declared)
    lib = _native.lib()
    for name, (ret, params) in protos.items():
        res, args = declared[name]
        assert res is (None if ret == "void" else ctypes.c_int32), name
        ctypes_params = []
        for p in params:
            ctype = re.sub(r"\s*\b\w+$", "", p)  # drop the parameter name
            ctype = ctype.replace("*", " *").replace("* *", "**")
            ctype = " ".join(ctype.split()).replace("* *", "**")
            ctypes_params.append(_C_TO_CTYPES[ctype])
        for i, (have, want) in enumerate(zip(args, ctypes_params)):
            # A caller-owned uint8_t* buffer may be declared c_char_p: ctypes then
            # passes a bytes object's (or a string buffer's) memory without a copy.
            if not (want is _native._u8p and have is ctypes.c_char_p):
                assert have == want, (name, i)
        assert len(args) == len(ctypes_params), name
        fn = getattr(lib, name)
        assert fn.argtypes == args and fn.restype is res, name


def test_go_memory_is_never_c_char_p() -> None:
    # c_char_p on memory Go allocates would copy it and lose the pointer (a leak):
    # Go's strings arrive as c_void_p. c_char_p is allowed only for buffers
    # Python owns and passes in.
    fields = dict(_native.Error._fields_)
    assert fields["message"] is ctypes.c_void_p and fields["path"] is ctypes.c_void_p
    for _, res, args in _native._SIGNATURES:
        assert res is not ctypes.c_char_p
        assert POINTER(ctypes.c_char_p) not in args


@needs_header
@pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler")
def test_struct_layouts_match_the_c_compiler(tmp_path: Path) -> None:
    structs = {
        "checksig_error": _native.Error,
        "checksig_request": _native.Request,
        "checksig_columns": _native.Columns,
    }
    lines = []
    for cname, cls in structs.items():
        lines.append(f'printf("{cname} sizeof %zu\\n", sizeof({cname}));')
        for field, _ in cls._fields_:
            lines.append(
                f'printf("{cname} {field} %zu %zu\\n", offsetof({cname}, {field}), '
                f"sizeof((({cname} *)0)->{field}));"
            )
    src = tmp_path / "layout.c"
    src.write_text(
        '#include <stdio.h>\n#include <stddef.h>\n#include "checksig.h"\n'
        "int main(void) {\n" + "\n".join(lines) + "\nreturn 0;\n}\n"
    )
    exe = tmp_path / "layout"
    subprocess.run(["cc", "-I", str(HEADER.parent), "-o", str(exe), str(src)], check=True)
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        parts = line.split()
        cls = structs[parts[0]]
        if parts[1] == "sizeof":
            assert ctypes.sizeof(cls) == int(parts[2]), line
        else:
            desc = getattr(cls, parts[1])
            assert (desc.offset, desc.size) == (int(parts[2]), int(parts[3])), line
    # and no field of the C struct is missing from the mirror
    for cname, cls in structs.items():
        body = re.search(r"typedef struct \{([^{}]*)\}\s*" + cname + ";", header_text(), re.S)
        assert body
        body_text = re.sub(r"/\*.*?\*/", "", body.group(1), flags=re.S)
        cfields = re.findall(r"\**(\w+);", body_text)
        assert cfields == [f for f, _ in cls._fields_], cname


# --- loading -------------------------------------------------------------------


def test_abi_version_and_lazy_load() -> None:
    lib = _native.lib()
    assert lib.checksig_abi_version() == _native.ABI_VERSION == 6
    assert _native.is_loaded()
    assert os.path.basename(_native.library_path()).startswith("_checksig")


def test_the_library_suffix_is_the_one_the_build_names_it_with() -> None:
    # library_path() reads the suffix from importlib instead of sysconfig (cheaper).
    from importlib.machinery import EXTENSION_SUFFIXES

    assert EXTENSION_SUFFIXES[0] == sysconfig.get_config_var("EXT_SUFFIX")
    assert _native.library_path().endswith(sysconfig.get_config_var("EXT_SUFFIX"))


def test_abi_mismatch_is_import_error() -> None:
    out = run_json(
        """
        import json
        from checksig import _native
        _native.ABI_VERSION = 99
        try:
            _native.lib()
        except ImportError as e:
            print(json.dumps([str(e), _native._lib is None]))
        """
    )
    assert f"ABI version {_native.ABI_VERSION}" in out[0] and "needs version 99" in out[0]
    assert "pip install --force-reinstall ." in out[0]
    assert out[1] is True


def test_missing_library_is_import_error_naming_it(tmp_path: Path) -> None:
    out = run_json(
        f"""
        import json
        import checksig
        from checksig import _native
        _native.library_path = lambda: {str(tmp_path / "_checksig.so")!r}
        try:
            checksig.file_digest("/")
        except ImportError as e:
            print(json.dumps(str(e)))
        """
    )
    assert str(tmp_path / "_checksig.so") in out
    assert "pip install -e ." in out and "pip install --force-reinstall ." in out


# --- error mapping -------------------------------------------------------------


def _error(code: int, message: str, path: bytes | None = None, errnum: int = 0, line: int = 0):
    keep = [ctypes.create_string_buffer(message.encode())]
    err = _native.Error(code=code, errnum=errnum, line=line)
    err.message = ctypes.addressof(keep[0])
    if path is not None:
        keep.append(ctypes.create_string_buffer(path))
        err.path = ctypes.addressof(keep[1])
        err.path_len = len(path)
    return _native.error_to_exception(err), keep


@pytest.mark.parametrize(
    ("code", "errnum", "cls", "want_errno"),
    [
        (_native.E_NOT_FOUND, errno.ENOENT, FileNotFoundError, errno.ENOENT),
        (_native.E_NOT_FOUND, 0, FileNotFoundError, errno.ENOENT),
        (_native.E_PERMISSION, errno.EACCES, PermissionError, errno.EACCES),
        (_native.E_PERMISSION, errno.EPERM, PermissionError, errno.EPERM),
        (_native.E_IS_DIR, errno.EISDIR, IsADirectoryError, errno.EISDIR),
        (_native.E_OS, errno.ENOTDIR, NotADirectoryError, errno.ENOTDIR),
        (_native.E_OS, errno.EIO, OSError, errno.EIO),
    ],
)
def test_os_errors(code, errnum, cls, want_errno) -> None:
    exc, _ = _error(code, "go text", b"/some/p\xffth", errnum)
    assert type(exc) is cls
    assert exc.errno == want_errno
    assert exc.strerror == os.strerror(want_errno)
    assert exc.filename == os.fsdecode(b"/some/p\xffth")


def test_os_error_without_errno_keeps_reason_and_path() -> None:
    exc, _ = _error(_native.E_OS, "checksig: file changed size while it was read", b"/d/grow")
    assert isinstance(exc, OSError) and exc.errno is None and exc.filename == "/d/grow"
    assert str(exc) == "checksig: file changed size while it was read: '/d/grow'"
    assert "Errno" not in str(exc)
    from checksig import _api

    row = _api._row_error("/d/grow", "changed", 0)
    assert row.filename == "/d/grow" and "changed size while it was read" in str(row)


def test_other_errors() -> None:
    exc, _ = _error(_native.E_INVALID, "checksig: invalid argument: bad")
    assert type(exc) is ValueError and "bad" in str(exc)
    exc, _ = _error(_native.E_NOT_REGULAR, "not regular", b"/dev/fifo")
    assert isinstance(exc, OSError) and exc.filename == "/dev/fifo"
    assert "not a regular file" in str(exc) and "/dev/fifo" in str(exc)
    exc, _ = _error(
        _native.E_MANIFEST,
        "SHA256SUMS:12: expected 64 hex digits, found 63",
        b"SHA256SUMS",
        line=12,
    )
    assert type(exc) is checksig.ManifestError and isinstance(exc, ValueError)
    assert (exc.path, exc.line) == ("SHA256SUMS", 12)
    assert str(exc) == "SHA256SUMS:12: expected 64 hex digits, found 63"
    exc, _ = _error(_native.E_CANCELLED, "checksig: cancelled")
    assert type(exc) is checksig.Cancelled and not isinstance(exc, RuntimeError)
    exc, _ = _error(_native.E_PANIC, "checksig: internal error (please report): boom\ngoroutine 1")
    assert type(exc) is checksig.EngineError and isinstance(exc, RuntimeError)
    assert str(exc).startswith("internal error in the checksig engine: boom")
    assert "please report" in str(exc)
    exc, _ = _error(_native.E_HANDLE, "unknown job handle")
    assert isinstance(exc, checksig.EngineError)
    exc, _ = _error(77, "?")
    assert isinstance(exc, checksig.EngineError) and "77" in str(exc)


# --- jobs ----------------------------------------------------------------------


def test_job_lifecycle(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"a")
    write_manifest(tmp_path / "sha1sum.txt", [("a", b"a"), ("b", b"b")], extra_lines="junk\n")
    job = _native._Job(
        _native.JOB_VERIFY,
        root=os.fsencode(tmp_path),
        manifest=os.fsencode(tmp_path / "sha1sum.txt"),
    )
    with job:
        p = job.progress()
        assert set(p) == set(_native.PROGRESS_FIELDS)
        assert p["phase"] in ("enumerating", "ready", "running", "done")
        job.wait()
        assert job.done()
        cols = job.result().arrays()  # numpy views of the engine-filled buffers
        assert job.progress()["rows"] == 2 and job.progress()["warnings"] == 1
        assert job.warnings() == [(3, job.warnings()[0][1])]
        assert cols["status"].tolist() == [_native.ST_OK, _native.ST_MISSING]
        assert bytes(cols["actual"][0]).hex() == hexdigest(b"a")
    with pytest.raises(ValueError, match="freed"):
        job.progress()
    job.free()  # idempotent
    assert _native.debug_counters()["handles"] == 0


def test_job_cancelled_before_it_runs(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"a")
    write_manifest(tmp_path / "sha1sum.txt", [("a", b"a")])
    with _native._Job(
        _native.JOB_VERIFY,
        root=os.fsencode(tmp_path),
        manifest=os.fsencode(tmp_path / "sha1sum.txt"),
    ) as job:
        job.cancel()
        job.cancel()
        job.wait()
        with pytest.raises(checksig.Cancelled):
            job.result()


def test_cancelled_while_handling_ctrl_c_reraises_it(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"a")
    job = _native._Job(_native.JOB_DIGEST, algorithm=2, paths=[os.fsencode(tmp_path / "a")])
    interrupt = KeyboardInterrupt()
    with job:
        job.cancel()
        job.wait()
        with pytest.raises(KeyboardInterrupt) as info:
            try:
                raise interrupt
            except KeyboardInterrupt:
                job.result()
        assert info.value is interrupt


def test_job_start_errors() -> None:
    with pytest.raises(ValueError):
        _native._Job(99)
    with pytest.raises(ValueError):
        _native._Job(_native.JOB_DIGEST, algorithm=0, paths=[b"/x"])
    with pytest.raises(ValueError):
        _native._Job(_native.JOB_VERIFY, manifest=b"/x")  # no root


def test_columns_stay_alive_after_the_job(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"f")
    with _native._Job(_native.JOB_DIGEST, algorithm=4, paths=[os.fsencode(tmp_path / "f")]) as job:
        job.wait()
        cols = job.result().arrays()
    del job
    import gc

    gc.collect()
    assert isinstance(cols["actual"], np.ndarray)
    assert bytes(cols["actual"][0]).hex() == hexdigest(b"f", "sha256")


# Fork safety (a forked child refuses with a clear error; spawn works): test_fork.py.


def test_library_is_one_per_process() -> None:
    maps = Path("/proc/self/maps")
    if not maps.exists():
        pytest.skip("needs /proc")
    _native.lib()
    libs = {line.split()[-1] for line in maps.read_text().splitlines() if "_checksig" in line}
    assert len(libs) == 1, libs
    assert sys.modules["checksig._native"] is _native
