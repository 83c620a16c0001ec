"""Private to the pricing module."""
