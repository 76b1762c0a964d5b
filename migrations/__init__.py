"""Alembic environment and revisions for the vault schema (installed as
`safeguarding.migrations`)."""
