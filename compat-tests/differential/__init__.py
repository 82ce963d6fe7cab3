"""Helpers of the permission differential test (test_permissions_differential.py)."""
