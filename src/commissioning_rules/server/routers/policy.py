"""``/v1/policy`` (what is in force), ``/v1/check`` (a policy file's static checks), ``/v1/compare`` (what-if)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from commissioning_rules.batch import load_json
from commissioning_rules.check import CheckFinding, check
from commissioning_rules.compare import Comparison, compare
from commissioning_rules.models.case import Case
from commissioning_rules.models.decision import ParameterUsed, PolicyRef
from commissioning_rules.models.types import IsoDate
from commissioning_rules.parameters import ParameterError
from commissioning_rules.policy import Policy
from commissioning_rules.server.dependencies import AsOf, JsonBody, SettingsDep, YamlBody, evaluation_access
from commissioning_rules.server.problems import Problem, responses, validation_problem

router = APIRouter(prefix="/v1", tags=["policy"])


class PolicyInForce(BaseModel):
    """The policy a server applies: its name and version, where it came from, and its parameters in force."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    version: str
    origin: str
    effective_from: dt.date | None
    as_of: dt.date
    parameters: list[ParameterUsed]
    not_in_force: list[str] = Field(description="Parameters with no value in force at as_of.")


class CheckResult(BaseModel):
    """A policy file's static checks: the policy it layers up to, and every finding (none: it passes)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    policy: PolicyRef
    findings: list[CheckFinding]


class CompareRequest(BaseModel):
    """Cases to decide under two policies: ``policy`` (a policy file's text; default: the server's policy) and
    ``against`` (another policy file's text)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cases: list[Case]
    against: str
    policy: str | None = None
    as_of: IsoDate | None = None


@router.get("/policy", response_model=PolicyInForce, summary="The policy in force")
def show_policy(settings: SettingsDep, as_of: AsOf = None) -> PolicyInForce:
    """The server's policy: name, version (a hash of its rules and dated parameters) and each parameter's value
    in force at `as_of` (default: today), with its effective date and source."""
    policy, when = settings.policy, as_of or dt.date.today()
    used, missing = [], []
    for name, parameter in sorted(policy.parameters.items()):
        try:
            value = parameter.at(when)
        except ParameterError:
            missing.append(name)
            continue
        used.append(ParameterUsed(name=name, value=parameter.show(value.value), unit=parameter.unit,
                                  effective_from=value.effective_from, source=value.source,
                                  placeholder=parameter.placeholder))
    return PolicyInForce(name=policy.name, version=policy.version, origin=policy.origin,
                         effective_from=policy.effective_from, as_of=when, parameters=used, not_in_force=missing)


def policy_from_text(text: bytes, origin: str, base: Policy) -> Policy:
    """A council's policy file sent in a request, layered over ``base``; a bad one is a 422 naming what is wrong."""
    try:
        return Policy.from_yaml(text.decode("utf-8"), origin=origin, base=base)
    except UnicodeDecodeError as error:
        raise Problem(400, f"{origin} is not UTF-8 text ({error.reason})", kind="invalid-policy",
                      title="The policy file is not valid") from None
    except ValueError as error:  # PolicyFileError, ParameterError
        raise Problem(422, str(error), kind="invalid-policy", title="The policy file is not valid") from None


@router.post(
    "/check", response_model=CheckResult, summary="A policy file's static checks",
    openapi_extra={"requestBody": {"required": True, "description": "A council's policy file (YAML).",
                                   "content": {"application/yaml": {"schema": {"type": "string"}}}}},
    responses=responses(400, 413, 415, 422),
)
def check_policy(body: YamlBody, settings: SettingsDep) -> CheckResult:
    """The static checks of `commissioning-rules check` on the policy file sent, layered over the Norwich
    framework: citations, parameters, decision tables (complete, no overlap), rules that can never fire."""
    policy = policy_from_text(body, "the policy file sent", Policy.default())
    return CheckResult(policy=PolicyRef(name=policy.name, version=policy.version), findings=check(policy))


@router.post(
    "/compare", response_model=Comparison, summary="What-if: cases under two policies",
    dependencies=[Depends(evaluation_access)],
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["cases", "against"], "additionalProperties": False,
        "properties": {
            "cases": {"type": "array", "items": {"$ref": "#/components/schemas/Case"}},
            "against": {"type": "string", "description": "Policy B: a council's policy file (YAML text)."},
            "policy": {"type": "string", "description": "Policy A: a policy file (YAML text); default: the server's."},
            "as_of": {"type": "string", "format": "date"},
        }}}}}},
    responses=responses(400, 401, 413, 415, 422),
)
def compare_policies(body: JsonBody, settings: SettingsDep) -> Response:
    """Every case whose outcome differs between policy A and policy B, and how (`compare`'s format)."""
    try:
        data: Any = load_json(body)
    except ValueError as error:
        raise Problem(400, f"not valid JSON: {error}", kind="invalid-json", title="The body is not valid JSON") from None
    limit = settings.limit("max_compare_cases")
    if isinstance(data, dict) and isinstance(data.get("cases"), list) and len(data["cases"]) > limit:
        raise Problem(413, f"at most {limit:,} cases per comparison (max_compare_cases), got {len(data['cases']):,}",
                      kind="too-many-items", title="Too many items")
    try:
        request = CompareRequest.model_validate(data)
    except ValidationError as error:
        raise validation_problem(error, "invalid-request", "The request is not valid") from None
    policy_a = policy_from_text(request.policy.encode(), "policy", Policy.default()) if request.policy else settings.policy
    policy_b = policy_from_text(request.against.encode(), "against", Policy.default())
    try:
        comparison = compare(request.cases, policy_a, policy_b, as_of=request.as_of, engine=settings.engine)
    except ParameterError as error:
        raise Problem(422, str(error), kind="parameter-error", title="The policy has no value in force at that date") from None
    return Response(comparison.model_dump_json(), media_type="application/json")
