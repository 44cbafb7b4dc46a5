"""Helpers several test modules share (fixtures stay in conftest.py, test data in factories.py)."""
