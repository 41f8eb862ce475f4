"""Hostile and careless input (issue 10): each reported example and its class, plus generators of malformed input."""
