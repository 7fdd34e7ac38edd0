"""ember.keras.models (being written)."""
__all__ = []
