"""The console of ``make run`` (config/devserver.py): a summary instead of a line per task, warnings and
errors kept, and on a terminal one status line redrawn in place. The runner as real processes is
tested in tests/e2e/test_make_run.py."""

import io
import os
import select

import pytest

from config.devserver import Console, TaskSummary

# Lines as Celery 5.6's worker and beat print them (--loglevel=INFO).
RECEIVED = b"[2026-11-29 18:29:40,554: INFO/MainProcess] Task notifications.deliver[1582ef8f-dc1d] received\n"
SENT = (
    b"[2026-11-29 18:29:40,592: INFO/ForkPoolWorker-1] Task notifications.deliver[1582ef8f-dc1d] "
    b"succeeded in 0.022912257999905705s: 'sent'\n"
)
TO_RETRY = SENT.replace(b"'sent'", b"'retry'")
ALREADY_HANDLED = SENT.replace(b"'sent'", b"'skipped'")
FAILED = (
    b"[2026-11-29 18:29:41,002: ERROR/ForkPoolWorker-1] Task notifications.deliver[77aa] "
    b"raised unexpected: OperationalError('database is locked')\n"
)
SWEEP_DONE = (
    b"[2026-11-29 18:30:16,766: INFO/ForkPoolWorker-1] Task notifications.sweep[e5a3c4de] "
    b"succeeded in 0.004084104999947158s: 0\n"
)
BEAT_SENDS = (
    b"[2026-11-29 18:30:15,996: INFO/MainProcess] Scheduler: Sending due task Notifications: deliver what is "
    b"due, recover expired leases (notifications.sweep)\n"
)
KEPT = [
    b"[2026-11-29 18:29:40,995: WARNING/MainProcess] No hostname was supplied. Reverting to default 'localhost'\n",
    b"[2026-11-29 18:29:40,550: INFO/MainProcess] celery@vm ready.\n",
    b"Traceback (most recent call last):\n",
    b'[29/Nov/2026 18:31:40] "GET /accounts/login/ HTTP/1.1" 200 2345\n',
    b"[2026-11-29 18:31:40,585: INFO/MainProcess] beat: Starting...\n",
]


def test_task_lines_are_counted_not_printed_and_failures_and_warnings_are_kept():
    summary = TaskSummary()
    for line in [RECEIVED, SENT] * 1654 + [RECEIVED, TO_RETRY, RECEIVED, ALREADY_HANDLED, SWEEP_DONE, BEAT_SENDS]:
        assert summary.count(line), line
    assert not summary.count(FAILED)  # counted, and printed with its traceback
    for line in KEPT:
        assert not summary.count(line), line
    assert summary.text() == (
        "notifications: 1,654 delivered, 1 failed, 1 to retry, 1 already handled; "
        "other tasks: 1 done, 0 failed (1 sent by beat)"
    )


def test_a_summary_is_due_only_when_something_changed():
    summary = TaskSummary()
    assert not summary.changed()
    summary.count(SENT)
    assert summary.changed()
    summary.mark_printed()
    assert not summary.changed()
    assert summary.text() == "notifications: 1 delivered, 0 failed"


def test_without_a_terminal_lines_are_plain_and_the_status_is_not_drawn():
    stream = io.TextIOWrapper(io.BytesIO())
    console = Console(stream)
    console.set_status("runner | notifications: 3 delivered, 0 failed")
    console.line("web", b"Quit the server with CONTROL-C.\n")
    console.close()
    stream.flush()
    assert stream.buffer.getvalue() == b"web    | Quit the server with CONTROL-C.\n"


@pytest.fixture
def terminal():
    """A real pseudo-terminal: what the runner writes, read back from the other end."""
    master, slave = os.openpty()
    stream = os.fdopen(slave, "w")
    try:
        yield stream, master
    finally:
        stream.close()
        os.close(master)


def _read(master: int) -> bytes:
    """Everything written so far: the pseudo-terminal hands it over in pieces."""
    data = b""
    while select.select([master], [], [], 0.2)[0]:
        data += os.read(master, 65536)
    return data.replace(b"\r\n", b"\n")  # the tty turns \n into \r\n


def test_on_a_terminal_the_status_stays_at_the_bottom_redrawn_in_place(terminal):
    stream, master = terminal
    console = Console(stream)
    assert console.terminal
    console.set_status("runner | notifications: 10 delivered, 0 failed")
    console.set_status("runner | notifications: 20 delivered, 0 failed")
    console.line("worker", b"[2026-11-29 18:29:41,002: WARNING/MainProcess] a warning\n")
    console.close()
    written = _read(master)
    erase = b"\r\x1b[K"
    assert written == (
        erase
        + b"runner | notifications: 10 delivered, 0 failed"
        + erase
        + b"runner | notifications: 20 delivered, 0 failed"
        # A line comes: the status is erased, the line printed, the status drawn again below it.
        + erase
        + b"worker | [2026-11-29 18:29:41,002: WARNING/MainProcess] a warning\n"
        + b"runner | notifications: 20 delivered, 0 failed"
        + erase
    )
    assert written.count(b"\n") == 1  # one line printed; the status never added one
