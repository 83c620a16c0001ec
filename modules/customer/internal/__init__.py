"""Private to the customer module."""
