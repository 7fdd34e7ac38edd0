"""A binary classifier in the Keras style: two interleaved half-moons, a small MLP with a sigmoid
output, binary cross-entropy, Adam, 20% of the data held out for validation. Prints the final
validation accuracy."""
import numpy as np

from ember import manual_seed
from ember.keras import layers, models

rng = np.random.default_rng(0)
n = 1000
angle = rng.uniform(0, np.pi, n)
label = rng.integers(0, 2, n)
x = np.stack([np.cos(angle) + label, np.sin(angle) * (1 - 2 * label) + 0.5 * label], axis=1)
x = (x + 0.1 * rng.standard_normal(x.shape)).astype("float32")
y = label.astype("float32")

manual_seed(0)
model = models.Sequential([
    layers.Input(shape=(2,)),
    layers.Dense(32, activation="relu"),
    layers.Dense(32, activation="relu"),
    layers.Dense(1, activation="sigmoid"),
])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
history = model.fit(x, y, batch_size=32, epochs=40, validation_split=0.2, verbose=0)
print(f"validation accuracy {history.history['val_accuracy'][-1]:.4f}")
