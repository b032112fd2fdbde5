"""Renderers: each reads a Trace and returns text; none computes maths."""
