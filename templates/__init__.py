"""The built-in templates (see docs/templates.md); a manual overrides one by file name."""
