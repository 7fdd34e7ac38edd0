"""ember.keras.trainer (being written)."""
__all__ = []


class Trainer:
    """compile / fit / evaluate / predict, mixed into keras.Model (being written)."""
