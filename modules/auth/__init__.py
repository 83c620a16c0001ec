"""Auth module: sign-in, sessions, access and refresh tokens, login protection (identity database)."""
