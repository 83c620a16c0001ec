"""HTTP mechanics shared by every module: envelopes, errors, validation messages, access declarations."""
