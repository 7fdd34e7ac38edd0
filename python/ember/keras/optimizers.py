"""ember.keras.optimizers (being written)."""
__all__ = []
