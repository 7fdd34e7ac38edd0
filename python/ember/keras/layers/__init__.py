"""ember.keras.layers: Keras-style layers over ember's kernels.

    from ember.keras import layers
    x = layers.Input(shape=(28, 28, 1))
    y = layers.Conv2D(32, 3, activation="relu")(x)
    y = layers.MaxPooling2D()(y)
    y = layers.Dense(10, activation="softmax")(layers.Flatten()(y))

    tokens = layers.Input(shape=(None,), dtype="int64")
    h = layers.Embedding(1000, 32, mask_zero=True)(tokens)   # id 0 is padding: later layers skip it
    h = layers.Bidirectional(layers.LSTM(16))(h)
"""
from .base import Layer
from .conv import Conv2D
from .core import Activation, Dense, Dropout, Flatten, Reshape
from .embedding import Embedding
from .graph import KerasTensor
from .input_layer import Input, InputLayer
from .merge import (Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract, add, average, concatenate,
                    maximum, minimum, multiply, subtract)
from .normalization import BatchNormalization
from .pooling import AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D, MaxPooling2D
from .recurrent import GRU, LSTM, SimpleRNN
from .utils import InputSpec
from .wrappers import Bidirectional, TimeDistributed

# Keras's aliases
Convolution2D = Conv2D
MaxPool2D = MaxPooling2D
AvgPool2D = AveragePooling2D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalMaxPool2D = GlobalMaxPooling2D

__all__ = ["Layer", "InputSpec", "KerasTensor", "Input", "InputLayer", "Dense", "Activation", "Dropout", "Flatten",
           "Reshape", "Conv2D", "Convolution2D", "MaxPooling2D", "MaxPool2D", "AveragePooling2D", "AvgPool2D",
           "GlobalAveragePooling2D", "GlobalAvgPool2D", "GlobalMaxPooling2D", "GlobalMaxPool2D", "BatchNormalization",
           "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "add", "subtract",
           "multiply", "average", "maximum", "minimum", "concatenate", "SimpleRNN", "LSTM", "GRU", "Bidirectional",
           "TimeDistributed", "Embedding"]
