"""The HTTP service as deployed: a real uvicorn (``commissioning-rules serve``) started on a free port of 127.0.0.1
by these tests and stopped by them. Correctness over real sockets, a bounded load run from concurrent clients,
bodies cut off mid-way, a batch streamed both ways, and the guide's curl examples.

The load run here is sized for the suite's time budget; ``benchmarks/bench_server.py`` runs the issue's full
5,000 requests from 32 clients and reports requests/s and latency against the library.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the server extra is not installed")
httpx = pytest.importorskip("httpx")

import commissioning_rules as cr  # noqa: E402
from commissioning_rules.server.process import LiveServer  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = Path(cr.__file__).parent / "examples"
CASE = json.loads((EXAMPLES / "community_lunch_club.json").read_text())
CASES = [json.loads(line) for line in (EXAMPLES / "cases.jsonl").read_text().splitlines()]
TOKEN = "live-test-token-0123456789abcdef"
GUIDE = ROOT / "docs" / "guides" / "serving.md"
#: The load run: requests, from this many concurrent clients (each on its own keep-alive connection).
LOAD_REQUESTS, LOAD_CLIENTS = 320, 16
BATCH_LIMIT = 400_000


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server keeping decision records (SQLite), with one access token."""
    pytest.importorskip("sqlalchemy", reason="the records extra is not installed")
    database = tmp_path_factory.mktemp("records") / "decisions.db"
    with LiveServer(["--records", str(database), "--limit", f"max_batch_bytes={BATCH_LIMIT}"],
                    env={"COMMISSIONING_RULES_TOKENS": TOKEN}) as live:
        yield live
    assert "Traceback" not in live.log, live.log


def without_record_id(text: str) -> str:
    """A recorded Decision's JSON without the ``record_id`` the server adds at its end."""
    head, _, tail = text.rpartition(',"record_id":"')
    assert tail.endswith('"}') and len(tail) == 38, text[-80:]
    return head + "}"


def raw_request(server, head: bytes, body: bytes) -> socket.socket:
    host, port = server.url.removeprefix("http://").split(":")
    connection = socket.create_connection((host, int(port)), timeout=30)
    connection.sendall(head + b"\r\n\r\n" + body)
    return connection


# --- correctness ---------------------------------------------------------------------------------------------------


def test_decisions_over_a_real_socket(server):
    with httpx.Client(base_url=server.url) as client:
        for case in [CASE, *CASES]:
            response = client.post("/v1/decisions", json=case)
            assert response.status_code == 201 and response.headers["location"].startswith("/v1/records/")
            assert without_record_id(response.text) == cr.evaluate(case).model_dump_json()
        problem = client.post("/v1/decisions", json={"as_of": "2026-02-30"})
        assert problem.status_code == 422 and problem.headers["content-type"] == "application/problem+json"
        assert client.get("/openapi.json").json()["components"]["schemas"]["Case"]
        assert client.get("/docs/assets/swagger-ui-bundle.js").status_code == 200


def test_load_run(server):
    """LOAD_REQUESTS decisions from LOAD_CLIENTS concurrent clients: no errors, each the library's to the byte,
    each recorded, and the chain of records intact afterwards."""
    cases = [CASE, *CASES]
    expected = [cr.evaluate(c).model_dump_json() for c in cases]
    bodies = [json.dumps(c) for c in cases]
    failures: list[str] = []
    barrier = threading.Barrier(LOAD_CLIENTS)

    def client(number: int) -> None:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            barrier.wait()
            for i in range(number, LOAD_REQUESTS, LOAD_CLIENTS):
                k = i % len(cases)
                try:
                    response = http.post("/v1/decisions", content=bodies[k], headers={"content-type": "application/json"})
                except httpx.HTTPError as error:
                    failures.append(f"request {i}: {error!r}")
                    continue
                if response.status_code != 201 or without_record_id(response.text) != expected[k]:
                    failures.append(f"request {i}: {response.status_code} {response.text[:200]}")

    threads = [threading.Thread(target=client, args=(n,)) for n in range(LOAD_CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(re.findall(r"POST /v1/decisions 201 [0-9.]+ms record=", server.log)) >= LOAD_REQUESTS
    verification = httpx.get(server.url + "/v1/records/verify", headers={"authorization": f"Bearer {TOKEN}"}).json()
    assert verification["intact"] is True and verification["records"] >= LOAD_REQUESTS


def test_batch_streamed_both_ways(server):
    """A result comes back while the request body is still open (chunked upload, one case at a time)."""
    connection = raw_request(server, b"POST /v1/decisions:batch HTTP/1.1\r\nHost: test\r\n"
                                     b"Content-Type: application/x-ndjson\r\nTransfer-Encoding: chunked", b"")
    with connection:
        line = json.dumps(CASE).encode() + b"\n"
        connection.sendall(b"%x\r\n%s\r\n" % (len(line), line))
        received = b""
        while b"policy" not in received:  # the first result, before the body has ended
            data = connection.recv(65536)
            assert data, "the server closed the connection"
            received += data
        assert received.startswith(b"HTTP/1.1 200")
        connection.sendall(b"%x\r\n%s\r\n0\r\n\r\n" % (len(line), line))
        while not received.endswith(b"0\r\n\r\n"):
            data = connection.recv(65536)
            if not data:
                break
            received += data
    assert received.count(b'"policy"') == 2


def test_large_batch_from_a_client_that_sends_everything_first(server):
    """httpx sends the whole body before reading: the server must keep reading while its results wait."""
    lines = [json.dumps(c) for c in [CASE, *CASES]] * 40
    body = ("\n".join(lines) + "\n").encode()
    assert len(body) < BATCH_LIMIT
    response = httpx.post(server.url + "/v1/decisions:batch", content=body, timeout=120,
                          headers={"content-type": "application/x-ndjson"})
    results = response.text.splitlines()
    assert len(results) == len(lines)
    expected = {line: cr.evaluate(json.loads(line)).model_dump_json() for line in set(lines)}
    assert [without_record_id(r) for r in results] == [expected[line] for line in lines]


def test_batch_over_the_limit_mid_stream(server):
    padding = json.dumps({"pad": "x" * 9000}).encode() + b"\n"  # a rejected item: cheap to evaluate

    def chunks():
        for _ in range(BATCH_LIMIT // len(padding) + 2):
            yield padding

    response = httpx.post(server.url + "/v1/decisions:batch", content=chunks(), timeout=60,
                          headers={"content-type": "application/x-ndjson"})
    results = [json.loads(line) for line in response.text.splitlines()]
    assert response.status_code == 200 and results[0]["error"]["kind"] == "invalid_case"
    assert results[-1]["problem"]["type"].endswith("body-too-large")


# --- bodies cut off ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path, media", [(b"/v1/decisions", b"application/json"),
                                         (b"/v1/decisions:batch", b"application/x-ndjson")])
def test_request_cut_off_mid_body(server, path, media):
    body = json.dumps(CASE).encode()
    head = b"POST %s HTTP/1.1\r\nHost: test\r\nContent-Type: %s\r\nContent-Length: %d" % (path, media, len(body) * 3)
    connection = raw_request(server, head, body[: len(body) // 2])
    time.sleep(0.2)
    connection.close()
    deadline = time.monotonic() + 10
    while f"POST {path.decode()} " not in server.log and time.monotonic() < deadline:
        time.sleep(0.05)
    logged = [line for line in server.log.splitlines() if f"POST {path.decode()} " in line]
    assert logged and not any(" 500 " in line for line in logged), server.log
    # the server is unharmed and goes on answering correctly
    response = httpx.post(server.url + "/v1/decisions", json=CASE)
    assert without_record_id(response.text) == cr.evaluate(CASE).model_dump_json()


def test_the_log_never_holds_a_body(server):
    assert CASE["organisation"]["name"] not in server.log
    assert TOKEN not in server.log


# --- the guide's curl examples ------------------------------------------------------------------------------------


def guide_examples() -> list[tuple[str, str | None]]:
    """Each ``sh`` block of the guide that runs curl, with the ``json`` block right after it (if any)."""
    blocks = re.findall(r"```(\w*)\n(.*?)```", GUIDE.read_text(), flags=re.S)
    examples = []
    for i, (language, text) in enumerate(blocks):
        if language == "sh" and "curl " in text:
            following = blocks[i + 1] if i + 1 < len(blocks) and blocks[i + 1][0] == "json" else None
            examples.append((text, following[1] if following else None))
    return examples


def contains(actual, shown) -> bool:
    """Whether ``actual`` has everything ``shown`` has (objects: those members; lists: those items, in order)."""
    if isinstance(shown, dict):
        return isinstance(actual, dict) and all(k in actual and contains(actual[k], v) for k, v in shown.items())
    if isinstance(shown, list):
        return isinstance(actual, list) and len(actual) == len(shown) and all(map(contains, actual, shown))
    return actual == shown


def test_the_guide_has_examples():
    assert len(guide_examples()) >= 8


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
@pytest.mark.parametrize("command, shown", guide_examples(), ids=lambda value: (value or "")[:40])
def test_guide_curl_examples(server, command, shown):
    script = command.replace("http://127.0.0.1:8000", server.url)
    environment = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
                   "TOKEN": TOKEN}
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=ROOT, capture_output=True, text=True,
                            timeout=60, env=environment)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip()
    if shown is not None:
        assert contains(json.loads(result.stdout), json.loads(shown)), result.stdout[:2000]


def test_worker_processes_share_the_settings(tmp_path):
    """--workers 2: each worker rebuilds the settings from the environment (policy file, tokens file, protection)."""
    tokens = tmp_path / "tokens"
    tokens.write_text(f"# test\n{TOKEN}\n")
    council = EXAMPLES / "council-policy.yaml"
    policy = cr.Policy.from_file(council)
    with LiveServer(["--workers", "2", "--policy", str(council), "--tokens-file", str(tokens),
                     "--protect-evaluation"]) as live:
        with httpx.Client(base_url=live.url) as client:
            assert client.post("/v1/decisions", json=CASE).status_code == 401
            for _ in range(6):  # connections land on either worker
                with httpx.Client(base_url=live.url, headers={"authorization": f"Bearer {TOKEN}"}) as fresh:
                    response = fresh.post("/v1/decisions", json=CASE)
                    assert response.text == cr.evaluate(CASE, policy=policy).model_dump_json()
            assert client.get("/v1/policy").json()["version"] == policy.version
    assert live.log.count("Application startup complete") == 2, live.log
    assert live.log.count("POST /v1/decisions 200 ") == 6  # each worker logs its own requests
