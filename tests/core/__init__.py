"""Behaviour that cuts across modules, on a whole server over StringTransport:
defences, the front door, logins, look-alike names, the trust tests.  The tests
of one module are at its mirror (tests/test_mirror.py)."""
