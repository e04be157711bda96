"""Tests for node.data (a package so test module names do not collide across folders)."""
