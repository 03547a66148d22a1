"""Backends: where processes live. Import each from its own module."""
