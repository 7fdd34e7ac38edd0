"""ember.keras.layers (being written)."""
__all__ = []
