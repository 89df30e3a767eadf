"""Tests for minternet.wire (a package, so test module names do not collide with other test trees)."""
