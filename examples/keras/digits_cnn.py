"""A Conv2D - MaxPooling2D network in the Keras style on the 8 x 8 handwritten digits that
scikit-learn ships, upscaled to 28 x 28 x 1 (channels last, Keras's default) as MNIST-sized input.
Prints the test accuracy."""
import numpy as np

import ember as tf
from ember.keras import layers

images, labels = tf.datasets.load_digits()           # (1797, 8, 8) pixel values 0..16, int64 labels
upscaled = np.kron(images / 16.0, np.ones((3, 3)))   # 24 x 24 by repeating each pixel 3 x 3
x = np.pad(upscaled, ((0, 0), (2, 2), (2, 2)))[..., None].astype("float32")  # (1797, 28, 28, 1)
y = tf.keras.utils.to_categorical(labels, 10)

rng = np.random.default_rng(0)
order = rng.permutation(len(x))
train, test = order[:1500], order[1500:]

tf.manual_seed(0)
model = tf.keras.Sequential([
    tf.keras.Input(shape=(28, 28, 1)),
    layers.Conv2D(16, 3, activation="relu"),
    layers.MaxPooling2D(2),
    layers.Conv2D(32, 3, activation="relu"),
    layers.MaxPooling2D(2),
    layers.Flatten(),
    layers.Dropout(0.25),
    layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
model.fit(x[train], y[train], batch_size=32, epochs=6, verbose=0)
loss, accuracy = model.evaluate(x[test], y[test], verbose=0)
print(f"test accuracy {accuracy:.4f}")
