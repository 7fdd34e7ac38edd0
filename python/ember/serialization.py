"""ember.save / ember.load: objects holding tensors (a state_dict, an optimizer's state_dict, a
checkpoint dict) written with pickle; tensors travel as their values, dtype, device and
requires_grad. As with any pickle, load only files you trust."""
import os
import pickle


def save(obj, f):
    """Writes obj to a path or a binary file object."""
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as fh:
            pickle.dump(obj, fh, protocol=pickle.HIGHEST_PROTOCOL)
    else:
        pickle.dump(obj, f, protocol=pickle.HIGHEST_PROTOCOL)


def load(f, map_location=None, weights_only=None):
    """Reads what save() wrote. map_location='cpu' (or a device) moves every tensor there."""
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fh:
            obj = pickle.load(fh)
    else:
        obj = pickle.load(f)
    return obj if map_location is None else _to(obj, map_location)


def _to(obj, device):
    from .tensor import Tensor
    if isinstance(obj, Tensor):
        return obj.to(device)
    if isinstance(obj, dict):
        return type(obj)((k, _to(v, device)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to(v, device) for v in obj)
    return obj
