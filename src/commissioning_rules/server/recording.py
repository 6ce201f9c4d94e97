"""``--records DB``: the server's decision records store (``commissioning_rules.records``), and its errors as problems.

Every decision the server answers with is stored first, one transaction per request (per chunk of a batch); a
decision whose record cannot be stored is never answered (503). The records package is imported only when a
store is configured, so the server runs without the records extra.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

from commissioning_rules.batch import load_json
from commissioning_rules.models.case import Case
from commissioning_rules.models.decision import Decision
from commissioning_rules.policy import Policy
from commissioning_rules.server.problems import Problem


class RecorderError(ValueError):
    """The records store cannot be used (the extra is missing, the database is unreachable, the policy has no text)."""


class Recorder:
    """The records store the server writes to, and the policy (with its file's text) its records name."""

    def __init__(self, target: str, policy: Policy, policy_text: str | None) -> None:
        try:
            from commissioning_rules import records
        except ImportError as error:  # one sentence naming the extra to install
            raise RecorderError(str(error)) from None
        self.records: Any = records
        try:
            self.source = records.PolicySource.of(policy, policy_text)
            self.store = records.Store(target)
        except records.RecordsError as error:
            raise RecorderError(str(error)) from None

    def close(self) -> None:
        self.store.close()

    @contextlib.contextmanager
    def errors(self) -> Iterator[None]:
        """The records package's errors, raised as problems: 404 for a record that is not there (or an id that
        cannot be one), 503 for a store that does not answer."""
        records = self.records
        try:
            yield
        except records.RecordNotFound as error:
            raise Problem(404, str(error), kind="unknown-record", title="No such record") from None
        except records.StoreUnavailable as error:
            raise Problem(503, str(error), kind="records-unavailable", title="Records store unavailable") from None
        except records.RecordsError as error:  # an id that cannot be one names no record
            raise Problem(404, str(error), kind="unknown-record", title="No such record") from None

    def store_decisions(self, items: list[tuple[bytes | str, Decision]], supersedes: str | None = None) -> list[str]:
        """Store one record per (the case's JSON, its Decision), in one transaction; their ids, in order. A record
        that cannot be stored is a 503 (or 422 for a ``supersedes`` naming no record): the decisions are then not
        to be answered."""
        with self.errors():
            try:
                drafts = [self.records.Draft.of(Case.model_validate(load_json(body)), decision, self.source,
                                                supersedes=supersedes) for body, decision in items]
                return [record.record_id for record in self.store.append(drafts)]
            except self.records.StoreUnavailable:
                raise
            except self.records.RecordsError as error:
                if supersedes is not None and supersedes in str(error):
                    raise Problem(422, str(error), kind="unknown-record", title="No such record to supersede") from None
                raise Problem(503, f"the decision could not be recorded, so it is not given: {error}",
                              kind="records-unavailable", title="Records store unavailable") from None
