"""A module for generated states (`state_module=` in the mixin tests)."""
