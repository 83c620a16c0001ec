"""Freightdesk's modules.

Each one: `api.py` + `events.py` public, `module.py` for bootstrap, `internal/` private.
"""
