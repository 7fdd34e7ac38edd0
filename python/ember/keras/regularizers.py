"""ember.keras.regularizers (being written)."""
__all__ = []
