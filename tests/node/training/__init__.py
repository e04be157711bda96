"""Tests for node.training (a package so test module names do not collide across folders)."""
