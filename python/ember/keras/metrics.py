"""ember.keras.metrics (being written)."""
__all__ = []
