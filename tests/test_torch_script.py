"""A small PyTorch training script, with `torch` replaced by `ember` and nothing else changed, runs
and learns the same thing."""
import subprocess
import sys

import pytest

SCRIPT = '''
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset, random_split

torch.manual_seed(0)
x = torch.randn(600, 10)
y = (x[:, 0] - 2 * x[:, 1] + x[:, 2] * x[:, 3] > 0).long()
train, test = random_split(TensorDataset(x, y), [500, 100])
train_loader = DataLoader(train, batch_size=50, shuffle=True)
test_loader = DataLoader(test, batch_size=100)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 64)
        self.fc2 = nn.Linear(64, 64)
        self.out = nn.Linear(64, 2)
        self.drop = nn.Dropout(0.1)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = self.drop(F.gelu(self.fc2(x)))
        return self.out(x)


model = Net()
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-2)
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=30)
criterion = nn.CrossEntropyLoss(label_smoothing=0.05)
for epoch in range(30):
    model.train()
    for xb, yb in train_loader:
        optimizer.zero_grad()
        loss = criterion(model(xb), yb)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
    scheduler.step()

model.eval()
correct = 0
with torch.no_grad():
    for xb, yb in test_loader:
        correct += (model(xb).argmax(dim=1) == yb).sum().item()
print(f"{loss.item():.4f} {correct / len(test):.3f}")
'''


def _run(code):
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    loss, accuracy = map(float, out.stdout.split())
    return loss, accuracy


def test_pytorch_script_runs_unchanged_under_ember_and_learns():
    loss, accuracy = _run(SCRIPT.replace("torch", "ember"))
    assert accuracy >= 0.85, f"ember reached only {accuracy} test accuracy"


def test_the_script_learns_the_same_under_pytorch():
    pytest.importorskip("torch")
    ember_loss, ember_accuracy = _run(SCRIPT.replace("torch", "ember"))
    torch_loss, torch_accuracy = _run(SCRIPT)
    assert abs(ember_accuracy - torch_accuracy) <= 0.08, (ember_accuracy, torch_accuracy)
