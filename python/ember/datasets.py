"""ember.datasets (being written)."""
__all__ = []
