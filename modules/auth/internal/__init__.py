"""Private to the auth module."""
