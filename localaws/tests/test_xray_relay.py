import json
import threading

from localaws.xray_relay import MAX_BATCH, SegmentForwarder, parse_datagram

DOC = {"trace_id": "1-5f000000-000000000000000000000001", "id": "a1b2c3d4e5f60718", "name": "x"}


def datagram(doc: object) -> bytes:
    return b'{"format":"json","version":1}\n' + json.dumps(doc).encode()


def test_parse_datagram_returns_the_segment_document():
    assert json.loads(parse_datagram(datagram(DOC))) == DOC


def test_parse_datagram_rejects_what_is_not_a_segment():
    assert parse_datagram(b"no header") is None
    assert parse_datagram(b'{"format":"json","version":1}\n{broken') is None
    assert parse_datagram(b'{"format":"xml"}\n{}') is None
    assert parse_datagram(b'{"format":"json","version":1}\n\xff\xfe') is None


def test_forwarder_sends_batches_of_at_most_fifty():
    sent: list[list[str]] = []
    forwarder = SegmentForwarder(lambda docs: sent.append(docs) or [])
    for i in range(MAX_BATCH + 7):
        forwarder.offer(json.dumps({**DOC, "id": f"{i:016x}"}))
    while forwarder.flush_once():
        pass
    assert [len(batch) for batch in sent] == [MAX_BATCH, 7]
    assert forwarder.forwarded == MAX_BATCH + 7


def test_forwarder_keeps_a_batch_while_the_api_fails_and_counts_rejections():
    calls = {"n": 0}

    def flaky(docs: list[str]) -> list[str]:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("api down")
        return docs[:1]  # the API rejects one document

    forwarder = SegmentForwarder(flaky)
    forwarder.offer(json.dumps(DOC))
    forwarder.offer(json.dumps({**DOC, "id": "ffffffffffffffff"}))
    done = threading.Thread(target=forwarder.flush_once)
    done.start()
    done.join(timeout=10)
    assert not done.is_alive()
    assert calls["n"] == 2
    assert (forwarder.forwarded, forwarder.rejected) == (1, 1)
