"""Linear regression in the Keras style: 3 features, y = x @ [1.5, -2, 0.5] + 0.3 plus noise, fitted
by a Dense(1) model with SGD and the mean squared error. Prints the final training MSE and the
least-squares MSE of the same data (the best any linear model can do)."""
import numpy as np

import ember as tf
from ember.keras import layers

rng = np.random.default_rng(0)
x = rng.standard_normal((1000, 3)).astype("float32")
y = x @ np.array([[1.5], [-2.0], [0.5]], "float32") + 0.3 + 0.1 * rng.standard_normal((1000, 1)).astype("float32")

tf.manual_seed(0)
model = tf.keras.Sequential([layers.Dense(1, input_shape=(3,))])
model.compile(optimizer=tf.keras.optimizers.SGD(learning_rate=0.05), loss="mse")
history = model.fit(x, y, batch_size=32, epochs=30, verbose=0)

design = np.hstack([x, np.ones((len(x), 1), "float32")]).astype(np.float64)
coef, *_ = np.linalg.lstsq(design, y.astype(np.float64), rcond=None)
least_squares_mse = float(np.mean((design @ coef - y) ** 2))
mse = model.evaluate(x, y, verbose=0)
print(f"kernel {model.get_weights()[0].ravel().round(3)} bias {model.get_weights()[1].round(3)}")
print(f"least-squares mse {least_squares_mse:.6f} model mse {mse:.6f}")
