"""editorial: change tracking, annotation and publishing for procedure manuals kept in git."""

__version__ = "0.1.0"
