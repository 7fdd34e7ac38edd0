"""ember.keras: the Keras-style API (Sequential / functional / subclassed models, layers,
compile / fit / evaluate / predict), built on ember.nn and the same kernels.

    from ember.keras import layers, models
    import ember as tf
    model = tf.keras.Sequential([tf.keras.layers.Dense(1, input_shape=(3,))])
"""
from . import activations, initializers, regularizers, constraints, layers, losses, metrics, optimizers, callbacks
from . import utils
from . import models
from .. import datasets  # ember.keras.datasets.mnist, as in Keras
from .models import *  # noqa: F401,F403  Sequential, Model, Input, load_model, ...
from .models import __all__ as _models_all

__all__ = ["datasets", "activations", "initializers", "regularizers", "constraints", "layers", "losses", "metrics",
           "optimizers", "callbacks", "utils", "models", *_models_all]
