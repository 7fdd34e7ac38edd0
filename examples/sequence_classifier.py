"""A sequence classifier in the PyTorch style: token sequences of varying length (left-padded with id
0), classified by which of three groups of tokens occurs most often in them, amid noise tokens.
Embedding (padding_idx=0) -> GRU -> Linear on the final hidden state, trained with cross-entropy and
Adam. Prints the accuracy on held-out sequences."""
import ember
from ember import nn
from ember.data import DataLoader, TensorDataset

VOCAB, MAX_LEN, GROUP = 20, 20, 5  # ids 1-5, 6-10, 11-15 are the three groups; 16-19 are noise


def make_sequences(n):
    lengths = ember.randint(8, MAX_LEN + 1, (n, 1))
    tokens = ember.randint(1, VOCAB, (n, MAX_LEN))
    positions = ember.arange(MAX_LEN).reshape(1, -1)
    tokens = ember.where(positions >= MAX_LEN - lengths, tokens, ember.zeros_like(tokens))  # left padding
    counts = ember.stack([((tokens > GROUP * g).long() * (tokens <= GROUP * (g + 1)).long()).sum(1) for g in range(3)],
                         1)
    return tokens, counts.argmax(1)  # ties go to the lowest group


class SequenceClassifier(nn.Module):
    def __init__(self, vocab, embed_dim, hidden, classes):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed_dim, padding_idx=0)
        self.gru = nn.GRU(embed_dim, hidden, batch_first=True)
        self.head = nn.Linear(hidden, classes)

    def forward(self, tokens):
        _, h_n = self.gru(self.embed(tokens))
        return self.head(h_n[-1])


ember.manual_seed(0)
x_train, y_train = make_sequences(3000)
x_test, y_test = make_sequences(500)
loader = DataLoader(TensorDataset(x_train, y_train), batch_size=64, shuffle=True)

model = SequenceClassifier(VOCAB, 16, 32, 3)
loss_fn = nn.CrossEntropyLoss()
optimizer = ember.optim.Adam(model.parameters(), lr=0.01)

for epoch in range(8):
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()

model.eval()
with ember.no_grad():
    accuracy = (model(x_test).argmax(1) == y_test).float().mean().item()
print(model)
print(f"final loss {loss.item():.4f}  test accuracy {accuracy:.3f}")
