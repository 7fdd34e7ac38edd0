"""A binary classifier in the PyTorch style: two interleaved half-moons, a small MLP trained with
BCEWithLogitsLoss and Adam in mini-batches from a DataLoader. Prints the final training accuracy."""
import math

import ember
from ember import nn
from ember.data import DataLoader, TensorDataset


def half_moons(n, noise=0.1):
    t = ember.rand(n) * math.pi
    label = (ember.rand(n) < 0.5).float()
    x = ember.stack([ember.cos(t) + label * 1.0 - label * 2 * ember.cos(t),
                     ember.sin(t) - label * 2 * ember.sin(t) + label * 0.5], dim=1)
    return x + noise * ember.randn(n, 2), label.reshape(-1, 1)


ember.manual_seed(0)
x, y = half_moons(1000)
loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True)

model = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 1))
loss_fn = nn.BCEWithLogitsLoss()
optimizer = ember.optim.Adam(model.parameters(), lr=0.01)

for epoch in range(30):
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()

with ember.no_grad():
    accuracy = ((model(x) > 0).float() == y).float().mean().item()
print(f"final loss {loss.item():.4f}  training accuracy {accuracy:.3f}")
