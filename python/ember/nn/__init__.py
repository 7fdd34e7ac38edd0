"""ember.nn: modules (layers, containers, losses), parameters, initialisation and functional forms,
with PyTorch's names, arguments and semantics.

    import ember.nn as nn
    model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10))
    logits = model(x)
"""
from . import functional, init, utils
from .parameter import Parameter
from .module import Module
from .container import Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict
from .layers import Identity, Linear, Flatten, Unflatten, Dropout
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm, Dropout2d
from .conv import Conv1d, Conv2d
from .activation import ReLU, LeakyReLU, ELU, GELU, SiLU, Sigmoid, Tanh, Softplus, Softmax, LogSoftmax
from .pooling import MaxPool2d, AvgPool2d, AdaptiveAvgPool2d
from .rnn import RNNBase, RNN, LSTM, GRU, RNNCellBase, RNNCell, LSTMCell, GRUCell
from .embedding import Embedding
from .loss import (MSELoss, L1Loss, HuberLoss, SmoothL1Loss, BCELoss, BCEWithLogitsLoss, CrossEntropyLoss,
                   NLLLoss)

__all__ = [
    "functional", "init", "utils", "Parameter", "Module",
    "Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict",
    "Identity", "Linear", "Flatten", "Unflatten", "Dropout",
    "BatchNorm1d", "BatchNorm2d", "LayerNorm", "Dropout2d",
    "Conv1d", "Conv2d",
    "ReLU", "LeakyReLU", "ELU", "GELU", "SiLU", "Sigmoid", "Tanh", "Softplus", "Softmax", "LogSoftmax",
    "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d",
    "RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell", "Embedding",
    "MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss",
]
