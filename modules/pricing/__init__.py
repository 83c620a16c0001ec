"""Pricing module: pricing rules and the prices they give a shipment (pricing database)."""
