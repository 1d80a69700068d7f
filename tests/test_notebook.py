"""checksig in a real Jupyter kernel (ipykernel, driven by nbclient and
jupyter_client): the example notebook runs and shows the right report, a
kernel interrupt stops a long verify cleanly, and an uncaught
SignatureError renders as the report.

Every kernel operation has a timeout; the kernel is always shut down.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import OPEN_FD_PATHS_SRC

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
jupyter_client = pytest.importorskip("jupyter_client")
pytest.importorskip("ipykernel")

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "quickstart.ipynb"
needs_example = pytest.mark.skipif(not EXAMPLE.is_file(), reason="needs the source tree")

#: Seconds for a kernel to start, and for one cell.
STARTUP_TIMEOUT = 60
CELL_TIMEOUT = 120


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def kernel_name() -> str:
    """The kernel of this interpreter: ipykernel's native "python3" spec."""
    from jupyter_client.kernelspec import KernelSpecManager

    specs = KernelSpecManager().find_kernel_specs()
    if "python3" not in specs:  # pragma: no cover - ipykernel provides it
        pytest.skip("no python3 kernel spec")
    return "python3"


# --- the example notebook ----------------------------------------------------------------


@needs_example
def test_quickstart_is_committed_without_outputs() -> None:
    nb = nbformat.read(EXAMPLE, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]


def _cell(nb: Any, start: str) -> Any:
    (cell,) = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith(start)]
    return cell


def _html(cell: Any, output_type: str = "execute_result") -> str:
    for out in cell.outputs:
        if out.output_type == output_type and "text/html" in out.get("data", {}):
            return out.data["text/html"]
    raise AssertionError(f"no {output_type} HTML in {cell.source[:60]!r}: {cell.outputs}")


def _failure_rows(html: str) -> list[dict[str, str]]:
    table = html.split("checksig-failures", 1)[1].split("</table>", 1)[0]
    head, *body = re.findall(r"<tr>(.*?)</tr>", table)
    columns = re.findall(r"<th[^>]*>(.*?)</th>", head)
    rows = []
    for tr in body:
        cells = dict(zip(columns, re.findall(r"<td[^>]*>(.*?)</td>", tr)))
        titles = [re.findall(r"title='([0-9a-f]+)'", cells[k]) for k in ("expected", "actual")]
        rows.append(
            {
                "path": cells["path"],
                "status": cells["status"],
                "reason": cells["reason"],
                "algorithm": cells["algorithm"],
                "expected": titles[0][0] if titles[0] else "",
                "actual": titles[1][0] if titles[1] else "",
            }
        )
    return rows


@needs_example
def test_quickstart_runs_in_a_kernel(tmp_path: Path) -> None:
    nb = nbformat.read(EXAMPLE, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        startup_timeout=STARTUP_TIMEOUT,
        kernel_name=kernel_name(),
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()

    # The first verify: all ok, as HTML, with a progress bar (a widget, or
    # tqdm's text when ipywidgets is missing).
    first = _cell(nb, "report = checksig.verify(data, manifest, progress=True)")
    assert "\u2714 all 21 entries ok" in _html(first)
    kinds = {k for o in first.outputs for k in o.get("data", {})} | {
        o.output_type for o in first.outputs
    }
    assert "application/vnd.jupyter.widget-view+json" in kinds or "stream" in kinds

    # After corruption: exactly the two failures, with the right digests.
    html = _html(_cell(nb, "victim = "))
    assert "\u2718 2 of 21 entries failed" in html
    for head in ("entries", "ok", "mismatch", "missing", "bytes hashed", "elapsed", "throughput"):
        assert f">{head}</th>" in html, head
    original = bytes([7]) * 50_000
    corrupted = bytearray(original)
    corrupted[100] ^= 0xFF
    assert _failure_rows(html) == [
        {
            "path": "images/img-007.bin",
            "status": "mismatch",
            "reason": "digest differs",
            "algorithm": "sha256",
            "expected": sha256(original),
            "actual": sha256(bytes(corrupted)),
        },
        {
            "path": "images/img-013.bin",
            "status": "missing",
            "reason": "No such file or directory",
            "algorithm": "sha256",
            "expected": sha256(bytes([13]) * 50_000),
            "actual": "",
        },
    ]

    # to_pandas shows the same two rows.
    df_html = _html(_cell(nb, "report.to_pandas()"))
    assert "img-007.bin" in df_html and "img-013.bin" in df_html

    # The uncaught SignatureError: the report as HTML above the traceback.
    last = _cell(nb, "checksig.check_signatures(data, manifest)")
    assert _failure_rows(_html(last, "display_data"))[0]["path"] == "images/img-007.bin"
    (error,) = [o for o in last.outputs if o.output_type == "error"]
    assert error.ename == "SignatureError"
    assert "2 of 21 files failed verification" in error.evalue


# --- a live kernel -------------------------------------------------------------------------


class Kernel:
    """A started ipykernel with a blocking client; every wait has a timeout."""

    def __init__(self) -> None:
        self.km = jupyter_client.KernelManager(kernel_name=kernel_name())
        self.km.start_kernel()
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=STARTUP_TIMEOUT)

    def close(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)

    def outputs(self, msg_id: str, timeout: float, until: Any = None) -> list[dict]:
        """iopub messages of msg_id until the kernel is idle (or until(msg) is true)."""
        got = []
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"no answer from the kernel in {timeout} s: {got}"
            msg = self.kc.get_iopub_msg(timeout=left)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            got.append(msg)
            if until is not None and until(msg):
                return got
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                return got

    def reply(self, msg_id: str, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"no execute_reply in {timeout} s"
            msg = self.kc.get_shell_msg(timeout=left)
            if msg["parent_header"].get("msg_id") == msg_id:
                return msg["content"]

    def run(self, code: str, timeout: float = CELL_TIMEOUT) -> tuple[dict, list[dict]]:
        msg_id = self.kc.execute(code)
        outputs = self.outputs(msg_id, timeout)
        return self.reply(msg_id, timeout), outputs


def _stdout(outputs: list[dict]) -> str:
    return "".join(
        m["content"]["text"]
        for m in outputs
        if m["msg_type"] == "stream" and m["content"]["name"] == "stdout"
    )


@pytest.fixture
def kernel() -> Any:
    k = Kernel()
    try:
        yield k
    finally:
        k.close()


def test_kernel_interrupt_stops_a_long_verify(kernel: Kernel, tmp_path: Path) -> None:
    root = tmp_path / "big"
    root.mkdir()
    for i in range(4):
        with open(root / f"big{i}", "wb") as f:
            f.truncate(8 << 30)  # sparse: many seconds of hashing on no disk
    (root / "sha1sum.txt").write_text("".join(f"{'0' * 40}  big{i}\n" for i in range(4)))
    reply, _ = kernel.run(
        "import json, os, checksig\n"
        "from checksig import _native\n"
        "def announce(p, said=[]):\n"
        "    if p.bytes_done and not said:\n"
        "        said.append(1)\n"
        "        print('started', flush=True)\n"
    )
    assert reply["status"] == "ok", reply

    msg_id = kernel.kc.execute(f"checksig.verify({str(root)!r}, workers=2, progress=announce)")
    kernel.outputs(
        msg_id,
        CELL_TIMEOUT,
        until=lambda m: m["msg_type"] == "stream" and "started" in m["content"]["text"],
    )
    time.sleep(0.2)
    kernel.km.interrupt_kernel()
    reply = kernel.reply(msg_id, 30)
    # A KeyboardInterrupt, not a finished verify: the interrupt stopped the
    # work. How promptly is counted inside a process, in polls, by
    # tests/test_interrupt.py (a clock here would time the kernel's messaging).
    assert reply["status"] == "error" and reply["ename"] == "KeyboardInterrupt", reply
    kernel.outputs(msg_id, 30)  # drain to idle

    reply, outputs = kernel.run(
        "import time\n"
        "time.sleep(0.05)\n"
        f"exec({OPEN_FD_PATHS_SRC!r})\n"
        "print(json.dumps([_native.debug_counters(), open_fd_paths()]))\n",
        30,
    )
    assert reply["status"] == "ok", reply
    counters, paths = json.loads(_stdout(outputs).strip().splitlines()[-1])
    assert counters["handles"] == 0 and counters["jobs"] == 0, counters
    assert counters["open_files"] == 0, counters
    assert not [p for p in paths if p.startswith(str(root))], paths

    # The kernel is still usable: a follow-up check works.
    reply, outputs = kernel.run("print(len(checksig.digest_files([os.__file__], 'sha256')[0]))", 30)
    assert reply["status"] == "ok" and _stdout(outputs).strip() == "64"


def test_uncaught_signature_error_renders_the_report(kernel: Kernel, tmp_path: Path) -> None:
    names = [f"gone/{i:02}" for i in range(50)]
    (tmp_path / "sha1sum.txt").write_text("".join(f"{'0' * 40}  {n}\n" for n in names))
    reply, outputs = kernel.run(f"import checksig\nchecksig.check_signatures({str(tmp_path)!r})")
    assert reply["status"] == "error" and reply["ename"] == "SignatureError"
    # (a progress bar may come first: the default shows one in a kernel, as a
    # widget with ipywidgets, as HTML or text without)
    (shown,) = [
        m
        for m in outputs
        if m["msg_type"] == "display_data"
        and "SignatureError" in m["content"]["data"].get("text/html", "")
    ]
    html = shown["content"]["data"]["text/html"]
    assert "SignatureError: 50 of 50 files failed verification" in html
    assert [r["path"] for r in _failure_rows(html)] == names
    (error,) = [m for m in outputs if m["msg_type"] == "error"]
    text = "\n".join(error["content"]["traceback"])
    # The traceback's message names 20 failures, not a wall of 50.
    assert "gone/19" in text and "gone/20" not in text
    assert "and 30 more" in text
