"""Private to the carrier module."""
