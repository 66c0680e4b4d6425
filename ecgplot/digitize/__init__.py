"""Pictures of paper ECGs read back into records (:func:`digitize_picture`)."""

from .reader import Digitized, digitize_picture

__all__ = ["Digitized", "digitize_picture"]
