"""Manifest streams cut into chunks of whole lines, for verify jobs over
manifest text (``_native._Job(manifest_data=...)``): how a manifest on
standard input is verified as it arrives, in bounded memory (issue 15).

One job per chunk, each resuming the parse where the one before stopped::

    line, form = 1, _native.FORM_UNDECIDED
    for chunk in manifest_chunks(sys.stdin.buffer.read1):
        with _native._Job(_native.JOB_VERIFY, root=root, manifest=b"standard input",
                          manifest_data=chunk, first_line=line, form=form,
                          flags=_native.F_ALLOW_EMPTY | ...) as job:
            job.wait()
            columns, warnings = job.result(), job.warnings()
            line, form = job.parse_state()
        ...  # print this chunk's rows and warnings

gives the rows, line numbers and warnings one job over the whole manifest
gives (go/inputs_test.go and tests/test_native_inputs.py hold them to it).
"""

from __future__ import annotations

from ._native import MAX_LINE_LEN

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

#: Bytes asked of read() at a time.
CHUNK_SIZE = 1 << 20


def manifest_chunks(read: Callable[[int], bytes], size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """Yield what ``read`` returns as chunks of whole lines, as they arrive.

    ``read(n)`` returns up to n bytes, ``b""`` at the end of the stream:
    ``sys.stdin.buffer.read1`` yields each line soon after it arrives (one
    chunk per read that completes a line); ``sys.stdin.buffer.read`` waits
    for ``size`` bytes, fewer and bigger jobs. Every chunk but the last ends
    with a newline; line numbers are the caller's to carry (the jobs' parse
    state does it).

    Memory stays under ``size + MAX_LINE_LEN`` bytes whatever the stream
    holds: a line the engine would not read whole (``MAX_LINE_LEN`` bytes or
    more before its newline) is passed on as its first ``MAX_LINE_LEN``
    bytes and a newline, the rest of it read and dropped. The engine judges
    that stand-in as it judges the whole line (a comment if it starts with
    ``#``, else "line longer than 65536 bytes"), so an endless line costs
    neither memory nor disk.
    """
    pending = b""  # the start of a line not complete yet (shorter than MAX_LINE_LEN)
    dropping = False  # inside an over-long line, already passed on cut short
    while True:
        block = read(size)
        if not block:
            break
        if dropping:
            end = block.find(b"\n")
            if end < 0:
                continue
            block, dropping = block[end + 1 :], False
        data = pending + block if pending else block
        cut = data.rfind(b"\n") + 1
        chunk, pending = data[:cut], data[cut:]
        if len(pending) >= MAX_LINE_LEN:
            chunk += pending[:MAX_LINE_LEN] + b"\n"
            pending, dropping = b"", True
        if chunk:
            yield chunk
    if pending:
        yield pending  # the last line, without a newline
