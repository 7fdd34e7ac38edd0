"""The Keras optimizer base class: learning rate (a number, a schedule or a callable), gradient
clipping, decoupled weight decay, the step count, per-variable state, and the configs.

Each step is one `_C.keras_*_step` call for all variables: the clipping and the weight decay run
inside it, before the update. Python does per step only what cannot be cached: it looks up the
per-variable state lists made for this list of variables and evaluates the learning rate. Then,
as in Keras, each variable with a `constraint` (layers set it from kernel_constraint= and the
like) is replaced in place by constraint(variable). Which variables have one is read when a list
of variables comes in that is not the tuple of the previous step (fit passes a new tuple per
call), so repeated steps on one tuple without constraints cost nothing more.
"""
import re
import warnings

from ... import _C
from ...autograd import no_grad
from ...tensor import Tensor
from . import schedules

__all__ = ["Optimizer"]

_UNSUPPORTED = {"use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
                "loss_scale_factor": None, "gradient_accumulation_steps": None}


def _number(value, what):
    """A float from a Python / NumPy number or a one-element tensor."""
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{what} must be a number, got {type(value).__name__}: {value!r}") from None


def _variable_name(variable):
    name = getattr(variable, "path", None) or getattr(variable, "name", None)
    return name if isinstance(name, str) else f"<variable of shape {tuple(variable.shape)}>"


class _Plan:
    """What one list of variables needs per step, made on the first step with that list and reused:
    the state lists the `_C` step takes (one per slot, one tensor per variable), the positions of
    the variables left out of weight decay, and the variables that carry a constraint."""
    __slots__ = ("slots", "no_weight_decay", "constrained")

    def __init__(self, slots, no_weight_decay, constrained):
        self.slots = slots
        self.no_weight_decay = no_weight_decay
        self.constrained = constrained


def _constrained(variables):
    return tuple(v for v in variables if getattr(v, "constraint", None) is not None)


def _apply_constraints(variables):
    """variable <- variable.constraint(variable), in place, as Keras's optimizer does after the update."""
    with no_grad():
        for variable in variables:
            constraint = getattr(variable, "constraint", None)
            if constraint is None:  # removed since the list of variables was last read
                continue
            projected = constraint(variable)
            if projected is variable:
                continue
            shape = getattr(projected, "shape", None)
            if shape is None or tuple(shape) != variable.shape:
                got = f"shape {tuple(shape)}" if shape is not None else f"a {type(projected).__name__}"
                raise ValueError(f"The constraint {constraint!r} of {_variable_name(variable)} returned {got}; it "
                                 f"must return a tensor of the variable's shape {variable.shape}")
            variable.copy_(projected)


class Optimizer:
    """Base class of the Keras optimizers (SGD, Adam, AdamW, RMSprop, Adagrad).

    learning_rate: a float, a schedules.LearningRateSchedule (called with `iterations`) or a
    function of no arguments. weight_decay: var -= var * weight_decay * learning_rate before each
    update. clipnorm / clipvalue / global_clipnorm (at most one): clip each gradient's L2 norm, each
    gradient element, or the joint L2 norm of all gradients. `lr=` is a deprecated alias of
    `learning_rate`.

    Subclasses define `_slot_specs()` (the state per variable: (name, initial value) pairs),
    `_run_step(variables, grads, slots, learning_rate, common)` (one `_C` call, `common` the
    trailing weight decay and clipping arguments every `_C.keras_*_step` takes) and their
    get_config entries.
    """

    def __init__(self, learning_rate, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 name=None, **kwargs):
        if "lr" in kwargs:
            warnings.warn("The `lr` argument is deprecated, use `learning_rate` instead.", DeprecationWarning,
                          stacklevel=3)
            learning_rate = kwargs.pop("lr")
        if kwargs.pop("decay", None) is not None:
            warnings.warn("Argument `decay` is no longer supported and will be ignored.", stacklevel=3)
        for key, default in _UNSUPPORTED.items():
            if key in kwargs and kwargs.pop(key) != default:
                raise NotImplementedError(f"{type(self).__name__}: `{key}` is not supported by ember.keras "
                                          "optimizers; leave it at its default")
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        set_clipping = [c is not None for c in (clipnorm, clipvalue, global_clipnorm)]
        if sum(set_clipping) > 1:
            raise ValueError("Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. Received: "
                             f"clipnorm={clipnorm}, clipvalue={clipvalue}, global_clipnorm={global_clipnorm}")
        for what, value in (("clipnorm", clipnorm), ("clipvalue", clipvalue), ("global_clipnorm", global_clipnorm),
                            ("weight_decay", weight_decay)):
            if value is not None and not _number(value, f"`{what}`") >= 0:
                raise ValueError(f"Argument `{what}` must be >= 0. Received: {what}={value}")
        self.name = name or type(self).__name__.lower()
        self.weight_decay = None if weight_decay is None else float(weight_decay)
        self.clipnorm = None if clipnorm is None else float(clipnorm)
        self.clipvalue = None if clipvalue is None else float(clipvalue)
        self.global_clipnorm = None if global_clipnorm is None else float(global_clipnorm)
        self.learning_rate = learning_rate
        self._iterations = 0
        self._slots = {}       # id(variable) -> {slot name: tensor}
        self._variables = []   # every variable with state, in order of first use
        self._plans = {}       # tuple of variable ids -> _Plan
        self._last_variables = self._last_plan = None  # the latest tuple of variables stepped, and its plan
        self._trainable_variables = []
        self._exclude_ids = set()
        self._exclude_pattern = None
        self.built = False

    # ---- learning rate and step count ---------------------------------------------------------------

    @property
    def learning_rate(self):
        """The learning rate of the next step (a float; a schedule's value at `iterations`)."""
        lr = self._learning_rate
        if type(lr) is float:
            return lr
        if isinstance(lr, schedules.LearningRateSchedule):
            return float(lr(self._iterations))
        return float(lr())

    @learning_rate.setter
    def learning_rate(self, value):
        if isinstance(value, schedules.LearningRateSchedule) or (callable(value) and not isinstance(value, Tensor)):
            self._learning_rate = value
            return
        if isinstance(getattr(self, "_learning_rate", None), schedules.LearningRateSchedule):
            raise TypeError("This optimizer was created with a `LearningRateSchedule` object as its `learning_rate` "
                            "constructor argument, hence its learning rate is not settable. If you need the "
                            "learning rate to be settable, you should instantiate the optimizer with a float "
                            "`learning_rate` argument.")
        self._learning_rate = _number(value, "learning_rate")

    @property
    def iterations(self):
        """The number of steps applied so far."""
        return self._iterations

    @iterations.setter
    def iterations(self, value):
        self._iterations = int(value)

    # ---- state ------------------------------------------------------------------------------------------

    def _slot_specs(self):
        return ()

    def build(self, var_list):
        """Creates the state of every variable in var_list (apply() also does it on first use)."""
        var_list = list(var_list)
        for v in var_list:
            self._state_of(v)
        self._trainable_variables = var_list
        self.built = True

    def _state_of(self, variable):
        state = self._slots.get(id(variable))
        if state is None:
            if not isinstance(variable, Tensor) or not variable.dtype.is_floating_point:
                what = f"an ember tensor of dtype {variable.dtype}" if isinstance(variable, Tensor) else \
                    type(variable).__name__
                raise TypeError(f"{type(self).__name__}: variables must be floating-point ember tensors "
                                f"(model.trainable_weights), got {what}")
            state = self._slots[id(variable)] = {}
            self._variables.append(variable)  # keeps it alive, so its id is never reused
        for name, initial in self._slot_specs():
            if name not in state:  # new, or an option that needs it (amsgrad, momentum) was switched on
                state[name] = _C.full(list(variable.shape), float(initial), variable.dtype, variable.device)
        return state

    @property
    def variables(self):
        """The optimizer's state tensors, variable by variable."""
        return [t for v in self._variables for t in self._slots[id(v)].values()]

    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Leaves out of weight decay the variables in var_list, and those whose name matches one of
        the regular expressions in var_names. Call it before the first step."""
        if self.built or self._plans:
            raise ValueError("`exclude_from_weight_decay()` can only be configured before the optimizer is built.")
        self._exclude_ids = {id(v) for v in var_list or ()}
        self._exclude_pattern = re.compile("|".join(set(var_names))) if var_names else None

    def _use_weight_decay(self, variable):
        if id(variable) in self._exclude_ids:
            return False
        pattern = self._exclude_pattern
        return pattern is None or pattern.search(_variable_name(variable)) is None

    def _make_plan(self, variables):
        states = [self._state_of(v) for v in variables]
        slots = tuple([state[name] for state in states] for name, _ in self._slot_specs())
        excluded = [i for i, v in enumerate(variables) if not self._use_weight_decay(v)]
        return _Plan(slots, excluded, _constrained(variables))

    def _plan_for(self, variables):
        key = tuple(map(id, variables))
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = self._make_plan(variables)
        else:  # a constraint may have been set or removed since the plan was made
            plan.constrained = _constrained(variables)
        if type(variables) is tuple:  # cannot change: the next step with the same tuple reuses the plan
            self._last_variables, self._last_plan = variables, plan
        return plan

    # ---- steps ------------------------------------------------------------------------------------------

    def apply_gradients(self, grads_and_vars):
        """Applies one step from (gradient, variable) pairs; a None gradient leaves its variable
        (and its state) untouched. Returns `iterations`."""
        grads, variables = [], []
        for g, v in grads_and_vars:
            grads.append(g)
            variables.append(v)
        self.apply(grads, variables)
        return self._iterations

    def apply(self, grads, trainable_variables=None):
        """Applies one step: grads[i] to trainable_variables[i] (default: the list given to
        build()), then the constraints of the updated variables. None gradients are skipped (with
        a warning, as Keras does)."""
        if trainable_variables is None:
            if not self.built:
                raise ValueError("When passing `grads` without `variables`, the optimizer must already be built on "
                                 "a list of variables. Call `optimizer.build(trainable_variables)` first.")
            trainable_variables = self._trainable_variables
        # lists and tuples go to the `_C` call as they are
        variables = trainable_variables if type(trainable_variables) in (list, tuple) else list(trainable_variables)
        if type(grads) not in (list, tuple):
            grads = list(grads)
        if len(grads) != len(variables):
            raise ValueError(f"{type(self).__name__}: got {len(grads)} gradients for {len(variables)} variables; "
                             "pass one gradient (or None) per variable")
        for g in grads:
            if type(g) is not Tensor:
                grads, variables = self._filter_gradients(grads, variables)
                break
        plan = self._last_plan if variables is self._last_variables else self._plan_for(variables)
        common = (self.weight_decay or 0.0, self.clipnorm or 0.0, self.clipvalue or 0.0, self.global_clipnorm or 0.0,
                  plan.no_weight_decay)
        self._run_step(variables, grads, plan.slots, self.learning_rate, common)
        self._iterations += 1
        if plan.constrained:
            _apply_constraints(plan.constrained)

    def _filter_gradients(self, grads, variables):
        """Drops the variables without a gradient (warning, as Keras does) and converts gradients
        that are not ember tensors (NumPy arrays, lists) to the variable's dtype."""
        kept_grads, kept_vars, missing = [], [], []
        for g, v in zip(grads, variables):
            if g is None:
                missing.append(_variable_name(v))
                continue
            if type(g) is not Tensor:
                from ...creation import tensor
                g = tensor(g, dtype=v.dtype)
            kept_grads.append(g)
            kept_vars.append(v)
        if not kept_grads:
            raise ValueError("No gradients provided for any variable.")
        if missing:
            warnings.warn(f"Gradients do not exist for variables {missing} when minimizing the loss. If using "
                          "`model.compile()`, did you forget to provide a `loss` argument?", stacklevel=4)
        return kept_grads, kept_vars

    def _run_step(self, variables, grads, slots, learning_rate, common):
        raise NotImplementedError(f"{type(self).__name__} does not implement a step")

    # ---- configs ----------------------------------------------------------------------------------------

    def get_config(self):
        """The constructor's arguments as Keras writes them (a schedule as its serialized dict)."""
        lr = self._learning_rate
        if isinstance(lr, schedules.LearningRateSchedule):
            lr = schedules.serialize(lr)
        elif not isinstance(lr, float):
            lr = self.learning_rate
        config = {"name": self.name, "learning_rate": lr, "weight_decay": self.weight_decay,
                  "clipnorm": self.clipnorm, "global_clipnorm": self.global_clipnorm, "clipvalue": self.clipvalue}
        config.update(_UNSUPPORTED)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"], custom_objects)
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} learning_rate={self.learning_rate!r}>"
