"""Pricing module: pricing rules and the prices they give a shipment (pricing database).

Only the engine exists so far (`internal/engine.py`); without a `module.py` descriptor bootstrap does not
host the package yet.
"""
