"""A small CNN in the PyTorch style on 28x28 images: three classes of noisy strokes (horizontal bars,
vertical bars, crosses) drawn on the fly, Conv2d / BatchNorm2d / MaxPool2d / AdaptiveAvgPool2d,
cross-entropy and Adam. Prints the accuracy on fresh test images."""
import ember
from ember import nn


def strokes(n):
    """n images (n, 1, 28, 28) and labels: 0 horizontal bar, 1 vertical bar, 2 cross."""
    labels = ember.randint(0, 3, (n,))
    images = 0.3 * ember.randn(n, 1, 28, 28)
    rows = ember.randint(6, 22, (n,))
    cols = ember.randint(6, 22, (n,))
    for i in range(n):
        label, r, c = int(labels[i]), int(rows[i]), int(cols[i])
        if label in (0, 2):
            images[i, 0, r - 1:r + 2, 4:24] += 1.0
        if label in (1, 2):
            images[i, 0, 4:24, c - 1:c + 2] += 1.0
    return images, labels


ember.manual_seed(0)
model = nn.Sequential(
    nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(32, 32, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 3))
optimizer = ember.optim.Adam(model.parameters(), lr=3e-3)
loss_fn = nn.CrossEntropyLoss()

x_train, y_train = strokes(480)
for epoch in range(3):
    model.train()
    for start in range(0, 480, 32):
        optimizer.zero_grad()
        loss = loss_fn(model(x_train[start:start + 32]), y_train[start:start + 32])
        loss.backward()
        optimizer.step()

model.eval()
x_test, y_test = strokes(200)
with ember.no_grad():
    accuracy = (model(x_test).argmax(dim=1) == y_test).float().mean().item()
print(f"final loss {loss.item():.4f}  test accuracy {accuracy:.3f}")
