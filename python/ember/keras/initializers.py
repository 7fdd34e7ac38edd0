"""ember.keras.initializers (being written)."""
__all__ = []
