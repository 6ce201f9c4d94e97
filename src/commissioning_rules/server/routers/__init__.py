"""One router per resource: decisions, rules, schemas, the policy (with check and compare), records, health."""
