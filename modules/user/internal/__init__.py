"""Private to the user module."""
