"""Sine-wave forecasting with an LSTM, in the Keras style: from the last 30 values of a noisy sum of
two sine waves, predict the value 5 steps later. The last 20% of the windows (the end of the series)
are held out for validation. Prints the validation MSE of the LSTM and, for scale, of repeating the
last value seen."""
import numpy as np

from ember import manual_seed
from ember.keras import layers, models, optimizers

window, horizon = 30, 5
rng = np.random.default_rng(0)
time = np.arange(3000) * 0.1
series = np.sin(time) + 0.5 * np.sin(0.37 * time) + 0.05 * rng.standard_normal(time.shape)

starts = np.arange(len(series) - window - horizon + 1)
x = np.stack([series[s:s + window] for s in starts])[:, :, None].astype("float32")  # (samples, 30, 1)
y = series[starts + window + horizon - 1][:, None].astype("float32")

manual_seed(0)
model = models.Sequential([
    layers.Input(shape=(window, 1)),
    layers.LSTM(32),
    layers.Dense(1),
])
model.compile(optimizer=optimizers.Adam(learning_rate=0.01), loss="mse")
history = model.fit(x, y, batch_size=64, epochs=12, validation_split=0.2, shuffle=True, verbose=0)

held_out = slice(int(len(x) * 0.8), None)
last_value_mse = float(np.mean((x[held_out, -1] - y[held_out]) ** 2))
print(f"repeating the last value: validation MSE {last_value_mse:.4f}")
print(f"LSTM: validation MSE {history.history['val_loss'][-1]:.4f}")
