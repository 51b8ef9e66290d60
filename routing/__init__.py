"""Shared-truck routes from the hub over real roads."""
