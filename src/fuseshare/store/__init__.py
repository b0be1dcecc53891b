"""The store: tables, engines and migrations (SQLite and PostgreSQL)."""
