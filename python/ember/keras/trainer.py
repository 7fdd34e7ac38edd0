"""ember.keras.trainer (being written)."""
__all__ = []
