"""User module: users, roles, permissions, role assignment and profiles (identity database)."""
