"""ember.keras.activations (being written)."""
__all__ = []
