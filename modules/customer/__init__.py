"""Customer module: the customers a freight business serves, each optionally linked to a user (customer database)."""
