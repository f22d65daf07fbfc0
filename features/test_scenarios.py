"""Binds every scenario of ``features/*.feature`` as a pytest test (one per outline example)."""

from pytest_bdd import scenarios

scenarios(".")
