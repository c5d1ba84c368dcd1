"""gnet._progress: the progress line's numbers and format (a fake clock, a string stream)."""

from __future__ import annotations

import io

import pytest

from gnet._progress import Progress, format_bytes, format_elapsed


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("count", "text"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1.0 KiB"),
        (1536, "1.5 KiB"),
        (3 * 1024**2, "3.0 MiB"),
        (5 * 1024**3 + 1, "5.0 GiB"),
        (2048 * 1024**4, "2048.0 TiB"),
    ],
)
def test_format_bytes(count: int, text: str) -> None:
    assert format_bytes(count) == text


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0:00"), (7.9, "0:07"), (754, "12:34"), (3723, "1:02:03")]
)
def test_format_elapsed(seconds: float, text: str) -> None:
    assert format_elapsed(seconds) == text


def test_render__recent_rate_while_running_average_at_the_end() -> None:
    clock = FakeClock()
    progress = Progress(io.StringIO(), "gnet cat", clock)
    clock.now += 1.0
    assert progress.render(1024, 0) == "gnet cat: sent 1.0 KiB, received 0 B, 1.0 KiB/s, 0:01"
    clock.now += 1.0
    assert progress.render(1024, 3 * 1024) == (
        "gnet cat: sent 1.0 KiB, received 3.0 KiB, 2.0 KiB/s, 0:02"
    )
    # A stall: after the rate window, the running rate falls to what moved recently.
    for _ in range(4):
        clock.now += 1.0
        line = progress.render(1024, 3 * 1024)
    assert line.endswith(", 0 B/s, 0:06")
    # The final line: the average over the whole transfer.
    assert progress.render(1024, 3 * 1024, final=True).endswith(", 682 B/s, 0:06")


def test_update_and_finish__rewrite_one_line() -> None:
    clock = FakeClock()
    stream = io.StringIO()
    progress = Progress(stream, "x", clock)
    clock.now += 2.0
    progress.update(10, 20)
    progress.finish(10, 20)
    assert stream.getvalue() == (
        "\rx: sent 10 B, received 20 B, 15 B/s, 0:02\x1b[K"
        "\rx: sent 10 B, received 20 B, 15 B/s, 0:02\x1b[K\n"
    )
