"""The HTTP service in process (FastAPI's TestClient): every endpoint and every error, compared with the library."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the server extra is not installed")

from fastapi.testclient import TestClient  # noqa: E402

import commissioning_rules as cr  # noqa: E402
from commissioning_rules.batch import evaluate_lines, to_json_line  # noqa: E402
from commissioning_rules.catalogue import catalogue  # noqa: E402
from commissioning_rules.schema import openapi_components, schema_for  # noqa: E402
from commissioning_rules.server import Settings, SettingsError, create_app  # noqa: E402
from commissioning_rules.server.settings import default_limits, read_tokens  # noqa: E402

EXAMPLES = Path(cr.__file__).parent / "examples"
CASE = json.loads((EXAMPLES / "community_lunch_club.json").read_text())
CASES = [json.loads(line) for line in (EXAMPLES / "cases.jsonl").read_text().splitlines()]
COUNCIL = (EXAMPLES / "council-policy.yaml").read_bytes()
TOKEN = "a-long-enough-test-token-0123456789"
JSON = {"content-type": "application/json"}
NDJSON = {"content-type": "application/x-ndjson"}


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(Settings.build(tokens=[TOKEN]))) as client:
        yield client


def make_client(**settings):
    return TestClient(create_app(Settings.build(**settings)), raise_server_exceptions=False)


def is_problem(response, status, kind=None):
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    if kind:
        assert body["type"] == f"urn:commissioning-rules:problem:{kind}"
    assert "Traceback" not in response.text
    return body


# --- one case -----------------------------------------------------------------------------------------------


def test_decision_is_the_librarys_to_the_byte(client):
    response = client.post("/v1/decisions", content=json.dumps(CASE), headers=JSON)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.text == cr.evaluate(CASE).model_dump_json()


def test_as_of_and_explanation(client):
    response = client.post("/v1/decisions?as_of=2026-06-01&explain=text", json=CASE)
    body = response.json()
    decision = cr.evaluate(CASE, as_of="2026-06-01")
    assert body.pop("explanation") == decision.explain()
    assert body == decision.model_dump(mode="json")
    assert body["as_of"] == "2026-06-01"


def test_money_as_a_json_fraction_is_refused_as_the_library_refuses_it(client):
    # The contract: money is a decimal string or a whole number, never a float (a JSON number with a fraction)
    case = {**CASE, "organisation": {**CASE["organisation"], "annual_turnover": 5000.01}}
    text = json.dumps(case)
    library = next(evaluate_lines([text]))
    assert library.kind == "invalid_case" and library.field == "organisation.annual_turnover"
    response = client.post("/v1/decisions", content=text, headers=JSON)
    assert response.status_code == 422 and response.headers["content-type"].startswith("application/problem+json")
    assert "organisation.annual_turnover" in response.text and "never a float" in response.text
    exact = {**CASE, "organisation": {**CASE["organisation"], "annual_turnover": "5000.01"}}
    assert client.post("/v1/decisions", json=exact).json() == cr.evaluate(exact).model_dump(mode="json")


@pytest.mark.parametrize("body, field", [
    ({"as_of": "2026-04-01", "service": {"works_with_children": "yes"}}, "service.works_with_children"),
    ({"as_of": "2026-04-01", "service": {"works_with_children": False, "works_with_vulnerable_adults": False,
                                         "additional_criteria": [{"id": "x", "description": "y", "met": 1}]}},
     "service.additional_criteria[0].met"),
    ({"as_of": "2026-02-30"}, "as_of"),
    ({"unknown": 1}, "unknown"),
    ([1, 2], None),
])
def test_invalid_case_names_the_field(client, body, field):
    problem = is_problem(client.post("/v1/decisions", json=body), 422, "invalid-case")
    assert problem["errors"][0]["field"] == field
    assert problem["instance"] == "/v1/decisions"


def test_every_field_at_fault_is_listed_and_no_input_is_echoed(client):
    secret = "Applicant's private text 7f3a"
    organisation = {**CASE["organisation"], "name": secret, "kind": "guild", "annual_turnover": "5,000"}
    problem = is_problem(client.post("/v1/decisions", json={**CASE, "organisation": organisation}), 422)
    assert {e["field"] for e in problem["errors"]} >= {"organisation.kind", "organisation.annual_turnover"}
    assert secret not in json.dumps(problem)


@pytest.mark.parametrize("body", [b"{", b"", b"   ", b'{"as_of": NaN}', b'{"as_of": "2026-04-01", "as_of": "2026-04-02"}',
                                  b"\xff\xfe"])
def test_not_one_json_document_is_400(client, body):
    is_problem(client.post("/v1/decisions", content=body, headers=JSON), 400, "invalid-json")


def test_parameter_without_value_is_422(client):
    problem = is_problem(client.post("/v1/decisions?as_of=1990-01-01", json=CASE), 422, "parameter-error")
    assert problem["errors"][0]["field"] == "as_of"


@pytest.mark.parametrize("query", ["as_of=2026-13-01", "as_of=yesterday", "explain=html"])
def test_bad_query_is_422_naming_it(client, query):
    problem = is_problem(client.post(f"/v1/decisions?{query}", json=CASE), 422, "invalid-request")
    assert problem["errors"][0]["field"] == f"query.{query.split('=')[0]}"


@pytest.mark.parametrize("headers", [{"content-type": "text/plain"}, {"content-type": "application/x-www-form-urlencoded"}, {}])
def test_wrong_media_type_is_415(client, headers):
    response = client.post("/v1/decisions", content=json.dumps(CASE).encode(), headers=headers)
    is_problem(response, 415)
    assert response.headers["accept-post"] == "application/json"


def test_body_over_the_limit_is_413_declared_or_streamed():
    with make_client(limits={"max_body_bytes": 1000}) as small:
        is_problem(small.post("/v1/decisions", content=json.dumps(CASE), headers=JSON), 413, "body-too-large")
        chunked = (json.dumps(CASE)[i:i + 100].encode() for i in range(0, len(json.dumps(CASE)), 100))
        is_problem(small.post("/v1/decisions", content=chunked, headers=JSON), 413, "body-too-large")


def test_unknown_path_and_wrong_method(client):
    is_problem(client.get("/v1/nothing"), 404)
    is_problem(client.get("/v1/decisions"), 405)


def test_a_bug_is_a_bare_500_logged_on_the_server(monkeypatch, caplog):
    from commissioning_rules.server.routers import decisions

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(decisions, "evaluate_lines", broken)
    with make_client() as buggy, caplog.at_level(logging.ERROR, "commissioning_rules.server"):
        response = buggy.post("/v1/decisions", json=CASE)
    problem = is_problem(response, 500, "internal-error")
    assert "secret internals" not in response.text and "RuntimeError" not in json.dumps(problem)
    assert any("secret internals" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)


# --- batches ------------------------------------------------------------------------------------------------


def test_batch_of_json_lines_is_the_clis_output(client):
    text = (EXAMPLES / "cases.jsonl").read_bytes() + b'{"x": 1}\n\n' + json.dumps(CASE).encode() + b"\n\n\n"
    response = client.post("/v1/decisions:batch", content=text, headers=NDJSON)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    expected = [to_json_line(o) for o in evaluate_lines(text.rstrip(b"\n").split(b"\n"))]
    assert response.text.splitlines() == expected
    assert json.loads(expected[-2])["error"]["line"] == len(CASES) + 2  # the blank line between cases


def test_batch_of_a_json_array(client):
    items = [*CASES, {"as_of": "2026-02-30"}, 7, CASE]
    response = client.post("/v1/decisions:batch", content=json.dumps(items), headers=JSON)
    body = response.json()
    assert len(body) == len(items)
    for i, (item, result) in enumerate(zip(items, body)):
        if isinstance(item, dict) and item.get("as_of") != "2026-02-30":
            assert result == cr.evaluate(item).model_dump(mode="json")
        else:
            assert result["error"]["item"] == i and result["error"]["kind"] == "invalid_case"


@pytest.mark.parametrize("body", [b"[]", b" [ ] ", b""])
def test_empty_batches(client, body):
    kind = JSON if body.strip() else NDJSON
    response = client.post("/v1/decisions:batch", content=body, headers=kind)
    assert response.status_code == 200 and response.text.strip() in ("[]", "")


@pytest.mark.parametrize("body", [b'{"as_of": "2026-04-01"}', b"", b"nonsense"])
def test_a_body_that_is_not_an_array_is_400_before_streaming(client, body):
    is_problem(client.post("/v1/decisions:batch", content=body, headers=JSON), 400, "invalid-json")


def test_an_array_that_stops_being_json_ends_with_a_problem(client):
    body = "[" + json.dumps(CASE) + ", {broken"
    results = client.post("/v1/decisions:batch", content=body, headers=JSON).json()
    assert results[0] == cr.evaluate(CASE).model_dump(mode="json")
    assert results[1]["problem"]["type"].endswith("invalid-json")
    assert len(results) == 2


def test_batch_limits_end_the_stream_with_a_problem():
    lines = "\n".join(json.dumps(c) for c in CASES).encode()
    with make_client(limits={"max_batch_items": 2, "max_item_bytes": 5000, "max_batch_bytes": 20000}) as small:
        results = small.post("/v1/decisions:batch", content=lines, headers=NDJSON).text.splitlines()
        assert len(results) == 3 and "problem" in json.loads(results[2])
        assert json.loads(results[2])["problem"]["type"].endswith("too-many-items")
        huge = json.dumps({"as_of": "2026-04-01", "pad": "x" * 6000}).encode()
        results = small.post("/v1/decisions:batch", content=lines.split(b"\n")[0] + b"\n" + huge, headers=NDJSON)
        assert json.loads(results.text.splitlines()[-1])["problem"]["type"].endswith("item-too-large")
    array = json.dumps([CASE] * 20).encode()
    with make_client(limits={"max_batch_bytes": 20000}) as small:
        is_problem(small.post("/v1/decisions:batch", content=array, headers=JSON), 413, "body-too-large")
        # (a body passing the limit mid-stream is tested against a real server: the test client sends in one piece)


def test_batch_media_type(client):
    response = client.post("/v1/decisions:batch", content=b"[]", headers={"content-type": "text/csv"})
    is_problem(response, 415)
    assert "application/x-ndjson" in response.headers["accept-post"]


# --- rules, schemas, policy, check, compare, health --------------------------------------------------------------


def test_rules(client):
    assert client.get("/v1/rules").json() == catalogue(cr.Policy.default())
    rule = cr.Policy.default().rules[0]
    body = client.get(f"/v1/rules/{rule.id}").json()
    assert body["rule"]["id"] == rule.id and body["rule"]["source"] == rule.source
    problem = is_problem(client.get(f"/v1/rules/{rule.id}x"), 404, "unknown-rule")
    assert rule.id in problem["detail"]  # did you mean


@pytest.mark.parametrize("kind", ["case", "decision", "policy"])
def test_schemas(client, kind):
    assert client.get(f"/v1/schema/{kind}").json() == schema_for(kind)


def test_unknown_schema(client):
    is_problem(client.get("/v1/schema/award"), 404, "unknown-schema")


def test_policy_in_force(client):
    body = client.get("/v1/policy?as_of=2026-04-01").json()
    policy = cr.Policy.default()
    assert (body["name"], body["version"], body["as_of"]) == (policy.name, policy.version, "2026-04-01")
    threshold = next(p for p in body["parameters"] if p["name"] == "accounts_threshold")
    assert threshold["value"] == "£5,000.00" and threshold["effective_from"] == "2014-01-01"
    early = client.get("/v1/policy?as_of=2000-01-01").json()
    assert "accounts_threshold" in early["not_in_force"]


def test_check(client):
    body = client.post("/v1/check", content=COUNCIL, headers={"content-type": "application/yaml"}).json()
    assert body["findings"] == [f.model_dump(mode="json") for f in cr.check(cr.Policy.from_yaml(COUNCIL.decode()))]
    assert body["policy"]["name"] == "Example Borough Council commissioning policy"
    broken = COUNCIL.replace(b"parameters:", b"paramters:")
    is_problem(client.post("/v1/check", content=broken, headers={"content-type": "application/yaml"}), 422, "invalid-policy")
    is_problem(client.post("/v1/check", content=COUNCIL, headers=JSON | {"content-type": "text/plain"}), 415)


def test_compare(client):
    request = {"cases": CASES, "against": COUNCIL.decode(), "as_of": "2026-04-01"}
    body = client.post("/v1/compare", json=request).json()
    expected = cr.compare(CASES, cr.Policy.default(), cr.Policy.from_yaml(COUNCIL.decode()), as_of="2026-04-01")
    assert body == expected.model_dump(mode="json")
    swapped = client.post("/v1/compare", json={**request, "policy": COUNCIL.decode(), "against": "name: plain\n"}).json()
    assert swapped["policy_a"]["name"] == "Example Borough Council commissioning policy"


def test_compare_errors():
    with make_client(limits={"max_compare_cases": 2}) as small:
        problem = is_problem(small.post("/v1/compare", json={"cases": [CASE, {"as_of": 1}], "against": "name: x\n"}), 422)
        assert problem["errors"][0]["field"] == "cases[1].as_of"
        is_problem(small.post("/v1/compare", json={"cases": [CASE] * 3, "against": "name: x\n"}), 413, "too-many-items")
        is_problem(small.post("/v1/compare", json={"cases": [CASE], "against": "rules: 5\n"}), 422, "invalid-policy")
        is_problem(small.post("/v1/compare", json={"cases": [CASE]}), 422, "invalid-request")
        is_problem(small.post("/v1/compare", content=b"{", headers=JSON), 400, "invalid-json")


def test_health(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["policy"]["version"] == cr.Policy.default().version


def test_not_ready_is_503(monkeypatch):
    with make_client() as server:
        monkeypatch.setattr(cr.Policy, "engine", lambda self, name: (_ for _ in ()).throw(RuntimeError("no engine")))
        is_problem(server.get("/readyz"), 503, "not-ready")


# --- the OpenAPI document and the API pages -----------------------------------------------------------------------


def test_openapi_uses_the_librarys_schemas(client):
    document = client.get("/openapi.json").json()
    components = document["components"]["schemas"]
    for name, schema in openapi_components().items():
        assert components[name] == schema
    paths = document["paths"]
    for path in ("/v1/decisions", "/v1/decisions:batch", "/v1/rules", "/v1/rules/{rule_id}", "/v1/schema/{kind}",
                 "/v1/policy", "/v1/check", "/v1/compare", "/healthz", "/readyz"):
        assert path in paths
    body = paths["/v1/decisions"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/Case"}


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_api_pages_need_no_internet(client, page):
    import re

    html = client.get(page).text
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and all(a.startswith("/") for a in assets), assets
    assert "https://" not in html and "http://" not in html
    for asset in assets:
        assert client.get(asset).status_code == 200


# --- access -------------------------------------------------------------------------------------------------------


def test_protected_evaluation():
    with make_client(tokens=[TOKEN], protect_evaluation=True) as protected:
        response = protected.post("/v1/decisions", json=CASE)
        is_problem(response, 401, "unauthorized")
        assert response.headers["www-authenticate"].startswith("Bearer")
        wrong = protected.post("/v1/decisions", json=CASE, headers={"authorization": f"Bearer {TOKEN}x"})
        is_problem(wrong, 401)
        assert 'error="invalid_token"' in wrong.headers["www-authenticate"]
        is_problem(protected.post("/v1/decisions", json=CASE, headers={"authorization": f"Basic {TOKEN}"}), 401)
        ok = protected.post("/v1/decisions", json=CASE, headers={"authorization": f"Bearer {TOKEN}"})
        assert ok.status_code == 200
        assert protected.post("/v1/decisions:batch", content=b"[]", headers=JSON).status_code == 401
        assert protected.get("/v1/rules").status_code == 200  # reading the rules is always open


def test_tokens_from_file_and_environment(tmp_path):
    path = tmp_path / "tokens"
    path.write_text(f"# the portal\n{TOKEN}\n\n  other-token-0123456789abcdef  \n")
    assert read_tokens(path, "third-token-0123456789abcdef, fourth-token-0123456789abcdef") == (
        TOKEN, "other-token-0123456789abcdef", "third-token-0123456789abcdef", "fourth-token-0123456789abcdef")
    settings = Settings.build(tokens=read_tokens(path, None))
    assert settings.token_valid(TOKEN) and not settings.token_valid(TOKEN[:-1]) and not settings.token_valid("")
    with pytest.raises(SettingsError, match="16 characters"):
        read_tokens(None, "short")
    with pytest.raises(SettingsError, match="cannot read"):
        read_tokens(tmp_path / "missing", None)
    with pytest.raises(SettingsError, match="needs at least one access token"):
        Settings.build(protect_evaluation=True)


def test_settings_cross_to_worker_processes(tmp_path, monkeypatch):
    policy = tmp_path / "council.yaml"
    policy.write_bytes(COUNCIL)
    tokens = tmp_path / "tokens"
    tokens.write_text(TOKEN)
    settings = Settings.build(policy_file=str(policy), tokens=[TOKEN], protect_evaluation=True,
                              limits={"max_batch_items": 5})
    environment = settings.to_environment(str(tokens))
    assert TOKEN not in json.dumps(environment)
    rebuilt = Settings.from_environment(environment)
    assert rebuilt.policy.version == settings.policy.version and rebuilt.token_valid(TOKEN)
    assert rebuilt.limit("max_batch_items") == 5 and rebuilt.protect_evaluation


def test_limits_are_documented_and_checked():
    for limit in default_limits().values():
        assert limit.description and limit.unit and limit.reason and limit.value > 0
    with pytest.raises(SettingsError, match="unknown limit"):
        Settings.build(limits={"max_everything": 1})
    with pytest.raises(SettingsError, match="at least 1"):
        Settings.build(limits={"max_body_bytes": 0})


# --- logging ------------------------------------------------------------------------------------------------------


def test_requests_are_logged_without_their_bodies(client, caplog):
    secret = "Private applicant name 91c2"
    with caplog.at_level(logging.INFO, "commissioning_rules.server"):
        client.post("/v1/decisions?explain=text", json={**CASE, "organisation": {**CASE["organisation"], "name": secret}})
        client.post("/v1/decisions", json={"as_of": secret})
    lines = [r.getMessage() for r in caplog.records if r.name == "commissioning_rules.server"]
    assert any(line.startswith("POST /v1/decisions 200 ") and line.endswith("ms") for line in lines), lines
    assert any(line.startswith("POST /v1/decisions 422 ") for line in lines)
    assert not any(secret in line or "explain" in line for line in lines)


# --- the command -------------------------------------------------------------------------------------------------


def run_cli(*args, code=""):
    program = f"import sys; {code}\nfrom commissioning_rules.cli import main; sys.exit(main({list(args)!r}))"
    return subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60)


def test_serve_without_the_extra_names_the_install():
    result = run_cli("serve", code="sys.modules['fastapi'] = None")
    assert result.returncode == 2
    assert 'pip install "commissioning-rules[server]"' in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("args, message", [
    (["--policy", "/nonexistent/policy.yaml"], "policy.yaml"),
    (["--protect-evaluation"], "access token"),
    (["--limit", "max_body_bytes=lots"], "NAME=WHOLE_NUMBER"),
    (["--limit", "max_everything=5"], "unknown limit"),
    (["--tokens-file", "/nonexistent/tokens"], "cannot read the tokens file"),
])
def test_serve_usage_errors(args, message, capsys):
    from commissioning_rules.cli import main

    assert main(["serve", *args]) == 2
    stderr = capsys.readouterr().err
    assert message in stderr and "Traceback" not in stderr


# --- decision records ---------------------------------------------------------------------------------------------

AUTH = {"authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    pytest.importorskip("sqlalchemy", reason="the records extra is not installed")
    database = tmp_path_factory.mktemp("records") / "decisions.db"
    with TestClient(create_app(Settings.build(records=str(database), tokens=[TOKEN])),
                    raise_server_exceptions=False) as client:
        yield client


def test_a_recorded_decision_is_201_with_its_record(recording):
    response = recording.post("/v1/decisions?explain=text", json=CASE)
    assert response.status_code == 201
    body = response.json()
    record_id = body.pop("record_id")
    assert response.headers["location"] == f"/v1/records/{record_id}"
    body.pop("explanation")
    assert body == cr.evaluate(CASE).model_dump(mode="json")
    record = recording.get(f"/v1/records/{record_id}", headers=AUTH).json()  # the record keeps the sources
    assert record["record_id"] == record_id and json.loads(record["decision_json"]) == json.loads(
        cr.evaluate(CASE).to_json(sources=True))
    replay = recording.post(f"/v1/records/{record_id}/replay", headers=AUTH).json()
    assert replay["identical"] is True and replay["record_id"] == record_id


def test_a_correction_names_the_record_it_supersedes(recording):
    first = recording.post("/v1/decisions", json=CASE).json()["record_id"]
    assert recording.post(f"/v1/decisions?supersedes={first}", json=CASE).status_code == 401  # needs a token
    second = recording.post(f"/v1/decisions?supersedes={first}", json=CASE, headers=AUTH).json()["record_id"]
    assert recording.get(f"/v1/records/{second}", headers=AUTH).json()["supersedes"] == first
    missing = "3f2b0000-0000-0000-0000-000000000000"
    is_problem(recording.post(f"/v1/decisions?supersedes={missing}", json=CASE, headers=AUTH), 422, "unknown-record")


def test_batch_decisions_are_recorded(recording):
    lines = "\n".join(json.dumps(c) for c in [CASE, {"x": 1}, *CASES]).encode()
    answer = recording.post("/v1/decisions:batch?sources=true", content=lines, headers=NDJSON)
    results = [json.loads(line) for line in answer.text.splitlines()]
    assert "error" in results[1]
    for result in results[:1] + results[2:]:
        record = recording.get(f"/v1/records/{result.pop('record_id')}", headers=AUTH).json()
        assert json.loads(record["decision_json"]) == result


def test_records_need_a_token_and_name_what_is_missing(recording):
    record_id = recording.post("/v1/decisions", json=CASE).json()["record_id"]
    for method, path in [("get", f"/v1/records/{record_id}"), ("post", f"/v1/records/{record_id}/replay"),
                         ("get", "/v1/records/verify")]:
        is_problem(getattr(recording, method)(path), 401, "unauthorized")
        is_problem(getattr(recording, method)(path, headers={"authorization": "Bearer wrong-token-0123456789"}), 401)
    is_problem(recording.get("/v1/records/not-a-uuid", headers=AUTH), 404, "unknown-record")
    is_problem(recording.get("/v1/records/3f2b0000-0000-0000-0000-000000000000", headers=AUTH), 404, "unknown-record")


def test_verify_the_chain(recording):
    verification = recording.get("/v1/records/verify", headers=AUTH).json()
    assert verification["intact"] is True and verification["records"] >= 1 and verification["problems"] == []
    assert recording.get("/readyz").json()["records"] is True


def test_records_endpoints_are_off_without_tokens_or_a_store(tmp_path, client):
    pytest.importorskip("sqlalchemy", reason="the records extra is not installed")
    with make_client(records=str(tmp_path / "decisions.db")) as tokenless:
        assert tokenless.post("/v1/decisions", json=CASE).status_code == 201  # still recorded
        is_problem(tokenless.get("/v1/records/verify", headers=AUTH), 403, "records-off")
    is_problem(client.get("/v1/records/verify", headers=AUTH), 404, "records-off")
    is_problem(client.post("/v1/decisions?supersedes=x", json=CASE, headers=AUTH), 422, "invalid-request")


def test_a_store_that_fails_gives_no_decision(tmp_path, monkeypatch):
    pytest.importorskip("sqlalchemy", reason="the records extra is not installed")
    from commissioning_rules import records

    with make_client(records=str(tmp_path / "decisions.db"), tokens=[TOKEN]) as failing:
        def down(self, drafts):
            raise records.StoreUnavailable("the database went away")

        monkeypatch.setattr(records.Store, "append", down)
        response = failing.post("/v1/decisions", json=CASE)
        problem = is_problem(response, 503, "records-unavailable")
        assert "eligibility" not in response.text and "went away" in problem["detail"]
        results = failing.post("/v1/decisions:batch", content=json.dumps([CASE]), headers=JSON).json()
        assert results == [{"problem": results[0]["problem"]}] and results[0]["problem"]["status"] == 503


def test_a_wrong_store_stops_the_start(capsys):
    from commissioning_rules.cli import main

    assert main(["serve", "--records", "postgresql://nobody@127.0.0.1:1/none"]) == 2
    stderr = capsys.readouterr().err
    assert "127.0.0.1:1" in stderr and "Traceback" not in stderr
