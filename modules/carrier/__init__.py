"""Carrier module: the carriers a freight business ships with (carrier database)."""
