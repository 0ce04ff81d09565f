"""The sim's live stream (boards/sim/stream.py): the paper hands it each dot line and tear-off
without allocating, and a host that does not read costs a bounded ring, never more."""

import os

import micropython

from mechanisms import ltp02_245
from sim.mechanism import Paper
from sim.stream import LineStream

OUT = "/tmp/tillroll-mp-stream"
_ROWS = const(32)


def paper_and_stream():
    try:
        os.mkdir(OUT)
    except OSError:
        pass
    paper = Paper(OUT, ltp02_245.ACTIVATIONS_PER_LINE)
    stream = LineStream(_ROWS, paper)
    paper.tap = stream
    return paper, stream


def test_each_dot_line_and_tear_off_reach_the_stream_without_allocating():
    paper, stream = paper_and_stream()
    for _ in range(4):  # warm up: the spool's first writes, the first ring slots
        paper.advance()
    micropython.heap_lock()
    try:
        for _ in range(20):
            paper.advance()
    finally:
        micropython.heap_unlock()
    paper.tear_off()
    assert stream._head == 24 and stream.dropped == 0
    assert stream._tear_head == 1 and stream._tears[0:2] == [24, 1]
    paper.close()


def test_with_no_host_reading_the_ring_fills_and_the_rest_is_only_counted():
    paper, stream = paper_and_stream()
    before = len(stream._ring)
    micropython.heap_lock()
    try:
        for _ in range(3 * _ROWS):
            paper.advance()  # the paper moves on whatever the host does
    finally:
        micropython.heap_unlock()
    paper.tear_off()
    assert paper.rows == 0 and paper.receipts == 1
    assert stream._head == _ROWS and stream.dropped == 2 * _ROWS
    assert stream._tear_head == 0, "a tear-off after lost lines waits for the resync"
    assert len(stream._ring) == before
    paper.close()
