"""Every call to pandoc (pypandoc, which carries its own pandoc binary) lives here."""

from __future__ import annotations
