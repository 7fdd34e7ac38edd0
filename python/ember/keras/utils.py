"""ember.keras.utils (being written)."""
__all__ = []
