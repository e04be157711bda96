"""Tests of ledger.formats (a package so its test module names cannot clash with others')."""
