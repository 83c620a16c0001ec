"""Authentication mechanics every module shares: token verification (no database needed), revocation in the
shared store, the signing key ring, and the access policy the app-wide guard consults."""
