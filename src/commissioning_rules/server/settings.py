"""What a running server is configured with: its policy, its records store, its access tokens and its limits.

One :class:`Settings` value per application (``app.state.settings``), read by the routers through the
:func:`~commissioning_rules.server.dependencies.settings` dependency. ``commissioning-rules serve`` passes
it to uvicorn's worker processes through the environment (:meth:`Settings.to_environment`): uvicorn can
start workers only from an import string, so each worker rebuilds the same value itself
(:meth:`Settings.from_environment`), loading the policy file and the tokens on its own.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from commissioning_rules.engine import EngineName, engine_name
from commissioning_rules.policy import Policy
from commissioning_rules.server.recording import Recorder, RecorderError

#: Environment variables read by the server.
TOKENS_VARIABLE = "COMMISSIONING_RULES_TOKENS"
TOKENS_FILE_VARIABLE = "COMMISSIONING_RULES_TOKENS_FILE"
SETTINGS_VARIABLE = "COMMISSIONING_RULES_SERVER_SETTINGS"


@dataclass(frozen=True)
class Limit:
    """One limit of the service, as ``limits.yaml`` documents it."""

    name: str
    description: str
    unit: str
    value: int
    reason: str


def default_limits() -> dict[str, Limit]:
    """The documented limits (``limits.yaml`` beside this module)."""
    text = resources.files(__name__.rpartition(".")[0]).joinpath("limits.yaml").read_text("utf-8")
    return {
        name: Limit(name, entry["description"], entry["unit"], int(entry["value"]), entry["reason"])
        for name, entry in yaml.safe_load(text).items()
    }


class SettingsError(ValueError):
    """The server's own configuration is wrong (a token file that cannot be read, an unknown limit …)."""


def read_tokens(path: str | os.PathLike[str] | None, variable: str | None) -> tuple[str, ...]:
    """Access tokens from a file (one per line; blank lines and ``#`` comments skipped) and from an
    environment variable's value (separated by commas or white space)."""
    tokens: list[str] = []
    if path is not None:
        try:
            lines = Path(path).read_text("utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as error:
            raise SettingsError(f"cannot read the tokens file {path}: {error}") from None
        tokens += [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if variable:
        tokens += variable.replace(",", " ").split()
    short = [t for t in tokens if len(t) < 16]
    if short:
        raise SettingsError(f"{len(short)} access token(s) shorter than 16 characters: use long random tokens "
                            "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')")
    return tuple(tokens)


@dataclass(frozen=True)
class Settings:
    """A server's configuration. ``tokens`` are held only as SHA-256 digests."""

    policy: Policy = field(default_factory=Policy.default)
    policy_file: str | None = None
    #: The policy file's text, as loaded (a decision record keeps it, so the record can be replayed).
    policy_text: str | None = None
    records: str | None = None
    token_digests: frozenset[bytes] = frozenset()
    protect_evaluation: bool = False
    engine: EngineName | None = None
    limits: Mapping[str, Limit] = field(default_factory=default_limits)

    @classmethod
    def build(
        cls,
        *,
        policy_file: str | None = None,
        records: str | None = None,
        tokens: Iterable[str] = (),
        protect_evaluation: bool = False,
        engine: str | None = None,
        limits: Mapping[str, int] | None = None,
    ) -> Settings:
        """Settings from plain values (a policy file's path, token strings, limit overrides)."""
        known = default_limits()
        for name, value in (limits or {}).items():
            if name not in known:
                raise SettingsError(f"unknown limit {name!r}: expected one of {', '.join(known)}")
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SettingsError(f"limit {name} must be a whole number of at least 1, got {value!r}")
            known[name] = dataclasses.replace(known[name], value=value)
        token_list = tuple(tokens)
        if protect_evaluation and not token_list:
            raise SettingsError("protecting the evaluation endpoints needs at least one access token "
                                f"(a tokens file, or {TOKENS_VARIABLE})")
        text, policy = None, Policy.default()
        if policy_file is not None:
            try:
                text = Path(policy_file).read_text("utf-8")
            except (OSError, UnicodeDecodeError) as error:
                raise SettingsError(f"{policy_file}: {error}") from None
            policy = Policy.from_yaml(text, origin=policy_file)
        try:
            checked_engine = engine_name(engine)
        except ValueError as error:
            raise SettingsError(str(error)) from None
        if records is not None:  # open the store once now, so a wrong URL or a missing extra stops the start
            try:
                Recorder(records, policy, text).close()
            except RecorderError as error:
                raise SettingsError(str(error)) from None
        return cls(
            policy=policy,
            policy_file=policy_file,
            policy_text=text,
            records=records,
            token_digests=frozenset(_digest(t) for t in token_list),
            protect_evaluation=protect_evaluation,
            engine=checked_engine,
            limits=known,
        )

    def limit(self, name: str) -> int:
        return self.limits[name].value

    def token_valid(self, presented: str) -> bool:
        """Whether ``presented`` is one of the tokens, compared in constant time: both sides are hashed to
        the same length first, and every configured token is compared (no early exit on a match)."""
        digest = _digest(presented)
        matched = False
        for known in self.token_digests:
            matched |= hmac.compare_digest(digest, known)
        return matched

    # --- crossing to uvicorn's worker processes ----------------------------------------------------------

    def to_environment(self, tokens_file: str | None) -> dict[str, str]:
        """What a worker process needs to rebuild these settings. Tokens never go in it: each worker reads
        the tokens file and ``COMMISSIONING_RULES_TOKENS`` itself."""
        overrides = {n: l.value for n, l in self.limits.items() if l.value != default_limits()[n].value}
        plan = {"policy_file": self.policy_file, "records": self.records, "tokens_file": tokens_file,
                "protect_evaluation": self.protect_evaluation, "engine": self.engine, "limits": overrides}
        return {SETTINGS_VARIABLE: json.dumps(plan)}

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        plan: dict[str, Any] = json.loads(environ.get(SETTINGS_VARIABLE, "{}"))
        tokens_file = plan.pop("tokens_file", None) or environ.get(TOKENS_FILE_VARIABLE)
        return cls.build(tokens=read_tokens(tokens_file, environ.get(TOKENS_VARIABLE)), **plan)


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()
