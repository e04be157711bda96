"""Tests for node.attacks (a package so test module names do not collide across folders)."""
