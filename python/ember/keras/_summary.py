"""model.summary(): Keras 3's table of layers, output shapes and parameter counts.

    Model: "sequential"
    ┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
    ┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
    ┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
    │ dense (Dense)                   │ (None, 64)             │        50,240 │
    └─────────────────────────────────┴────────────────────────┴───────────────┘
     Total params: 50,240 (196.25 KB)
     Trainable params: 50,240 (196.25 KB)
     Non-trainable params: 0 (0.00 B)

A functional model whose graph is not a simple chain gets a fourth column, "Connected to". Columns
widen to fit their longest entry.
"""
from .layers.base import Layer
from .layers.input_layer import InputLayer

__all__ = ["print_summary", "readable_memory_size"]


def readable_memory_size(size):
    """Bytes as Keras prints them: two decimals and the largest unit (of 1024) keeping a value >= 1."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size / 1024 < 1:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} PB"


def _shape_text(shape):
    if shape is None:
        return "?"
    if isinstance(shape, list) or (isinstance(shape, tuple) and shape and isinstance(shape[0], (tuple, list))):
        return ", ".join(_shape_text(tuple(s)) for s in shape)
    return str(tuple(shape))


def _weight_bytes(weights):
    return sum(w.numel() * w.element_size() for w in weights)


def _graph_rows(model):
    """(name (type), output shape, params, connected to) of a functional model, one per layer."""
    graph = model._graph
    nodes = [t.node for t in graph["inputs"]] + graph["nodes"]
    node_ids = {id(n) for n in nodes}
    rows = []
    for layer in model.layers:
        own = [n for n in layer._inbound_nodes if id(n) in node_ids]
        shapes = [t.shape for n in own for t in n.output_tensors]
        links = []
        for node in own:
            for t in node.input_tensors:
                parent, _, tensor_index = t._history
                parent_nodes = [n for n in parent._inbound_nodes if id(n) in node_ids]
                links.append(f"{parent.name}[{parent_nodes.index(t.node)}][{tensor_index}]")
        rows.append((layer, shapes[0] if len(shapes) == 1 else (shapes or None),
                     "-" if isinstance(layer, InputLayer) else ", ".join(links)))
    chain = all(len([n for n in layer._inbound_nodes if id(n) in node_ids]) == 1 for layer in model.layers) and all(
        len(node.input_tensors) == 1 and node.input_tensors[0].node is previous
        for previous, node in zip(nodes, nodes[1:])) and len(graph["inputs"]) == 1
    return rows, not chain


def print_summary(model, line_length=None, print_fn=None):
    print_fn = print_fn or print
    if model._graph is not None:
        rows, connected = _graph_rows(model)
    else:
        rows = [(layer, layer._output_shape, None) for layer in model.layers if isinstance(layer, Layer)]
        connected = False
    header = ["Layer (type)", "Output Shape", "Param #"] + (["Connected to"] if connected else [])
    widths = [29, 22, 11, 24] if connected else [31, 22, 13]
    table = []
    for layer, shape, links in rows:
        params = f"{layer.count_params():,}" if layer.built else "0 (unbuilt)"
        cells = [f"{layer.name} ({type(layer).__name__})", _shape_text(shape), params]
        table.append(cells + ([links or ""] if connected else []))
    for row in [header] + table:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row)]
    right = {2}  # the parameter counts are right-aligned

    def line(left, fill, sep, end):
        return left + sep.join(fill * (w + 2) for w in widths) + end

    def cells(row, edge):
        texts = [cell.rjust(w) if i in right else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths))]
        return edge + edge.join(f" {t} " for t in texts) + edge

    lines = [f'Model: "{model.name}"', line("┏", "━", "┳", "┓"), cells(header, "┃"), line("┡", "━", "╇", "┩")]
    for i, row in enumerate(table):
        if i:
            lines.append(line("├", "─", "┼", "┤"))
        lines.append(cells(row, "│"))
    lines.append(line("└", "─", "┴", "┘"))
    if model.built:
        weights, trainable, frozen = model.weights, model.trainable_weights, model.non_trainable_weights
    else:
        weights = trainable = frozen = []
    for label, group in (("Total", weights), ("Trainable", trainable), ("Non-trainable", frozen)):
        count = sum(w.numel() for w in group)
        lines.append(f" {label} params: {count:,} ({readable_memory_size(_weight_bytes(group))})")
    for text in lines:
        print_fn(text)
