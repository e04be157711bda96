"""Tests for node.models (a package so test module names do not collide across folders)."""
