"""Linear regression in the PyTorch style: y = 3x - 2 plus noise, fitted with nn.Linear, MSELoss
and SGD. Prints the learned weight and bias (close to 3 and -2) and the final loss."""
import ember
from ember import nn

ember.manual_seed(0)
x = ember.rand(256, 1) * 4 - 2
y = 3 * x - 2 + 0.1 * ember.randn(256, 1)

model = nn.Linear(1, 1)
loss_fn = nn.MSELoss()
optimizer = ember.optim.SGD(model.parameters(), lr=0.1)

for epoch in range(200):
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()

print(f"weight {model.weight.item():.3f}  bias {model.bias.item():.3f}  final loss {loss.item():.4f}")
