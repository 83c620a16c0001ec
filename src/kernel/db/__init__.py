"""Per-module database mechanics: declarative bases, column types, engine configs, list queries."""
