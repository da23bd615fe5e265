"""Writes float models in qtrain's input contract (docs/training.md).

Standard library only. Each model is a module with two functions:

* ``@<name>``: parameters, a batch of images and one-hot labels -> the mean
  softmax cross-entropy loss (``tensor<f32>``); the training rewrite turns it
  into ``@<name>_grad`` and ``@<name>_step``;
* ``@<name>_logits``: parameters and a batch of images -> logits, without
  roles, for evaluation (it stays in f32).

Usage: ``python3 -m qtrain.models mlp --batch 64 --eval-batch 100 -o mlp.mlir``
"""

import argparse
import sys

PARAM = "{qtrain.role = #qtrain<role parameter>}"
INPUT = "{qtrain.role = #qtrain<role input>}"
LABEL = "{qtrain.role = #qtrain<role label>}"


def tensor(shape, element="f32"):
    return "tensor<" + "".join(f"{d}x" for d in shape) + element + ">"


class Function:
    """Builds the body of one func.func with fresh SSA names."""

    def __init__(self):
        self.lines = []
        self.counter = 0

    def fresh(self, hint="v"):
        self.counter += 1
        return f"%{hint}{self.counter}"

    def emit(self, line):
        self.lines.append("  " + line)

    def zeros(self, shape, value="0.0"):
        empty, filled, c = self.fresh("e"), self.fresh("z"), self.fresh("c")
        self.emit(f"{c} = arith.constant {value} : f32")
        self.emit(f"{empty} = tensor.empty() : {tensor(shape)}")
        self.emit(f"{filled} = linalg.fill ins({c} : f32) outs({empty} : "
                  f"{tensor(shape)}) -> {tensor(shape)}")
        return filled

    def dense(self, x, w, b, batch, fan_in, fan_out, name, relu):
        """x @ w + b, then ReLU: a named matmul (the layer) and a generic."""
        init = self.zeros([batch, fan_out])
        mm = self.fresh("mm")
        self.emit(f'{mm} = linalg.matmul {{qtrain.layer = "{name}"}} '
                  f"ins({x}, {w} : {tensor([batch, fan_in])}, "
                  f"{tensor([fan_in, fan_out])}) outs({init} : "
                  f"{tensor([batch, fan_out])}) -> {tensor([batch, fan_out])}")
        out, empty = self.fresh("h"), self.fresh("e")
        self.emit(f"{empty} = tensor.empty() : {tensor([batch, fan_out])}")
        self.emit(
            f"{out} = linalg.generic {{indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, "
            f"affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], "
            f'iterator_types = ["parallel", "parallel"]}} ins({mm}, {b} : '
            f"{tensor([batch, fan_out])}, {tensor([fan_out])}) outs({empty} : "
            f"{tensor([batch, fan_out])}) {{")
        self.emit("^bb0(%a: f32, %bias: f32, %o: f32):")
        self.emit("  %s = arith.addf %a, %bias : f32")
        if relu:
            self.emit("  %zero = arith.constant 0.0 : f32")
            self.emit("  %r = arith.maximumf %s, %zero : f32")
            self.emit("  linalg.yield %r : f32")
        else:
            self.emit("  linalg.yield %s : f32")
        self.emit(f"}} -> {tensor([batch, fan_out])}")
        return out

    def cross_entropy(self, logits, labels, batch, classes):
        """mean_b (logsumexp_j z[b, j] - sum_j y[b, j] z[b, j])."""
        zb = tensor([batch, classes])
        ninf = self.zeros([batch], "0xFF800000")
        m = self.fresh("max")
        self.emit(
            f"{m} = linalg.generic {{indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, "
            f"affine_map<(d0, d1) -> (d0)>], iterator_types = [\"parallel\", \"reduction\"]}} "
            f"ins({logits} : {zb}) outs({ninf} : {tensor([batch])}) {{")
        self.emit("^bb0(%a: f32, %o: f32):")
        self.emit("  %r = arith.maximumf %o, %a : f32")
        self.emit("  linalg.yield %r : f32")
        self.emit(f"}} -> {tensor([batch])}")
        zero = self.zeros([batch])
        s = self.fresh("sum")
        self.emit(
            f"{s} = linalg.generic {{indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, "
            f"affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0)>], "
            f"iterator_types = [\"parallel\", \"reduction\"]}} "
            f"ins({logits}, {m} : {zb}, {tensor([batch])}) outs({zero} : {tensor([batch])}) {{")
        self.emit("^bb0(%a: f32, %mx: f32, %o: f32):")
        self.emit("  %d = arith.subf %a, %mx : f32")
        self.emit("  %ex = math.exp %d : f32")
        self.emit("  %r = arith.addf %o, %ex : f32")
        self.emit("  linalg.yield %r : f32")
        self.emit(f"}} -> {tensor([batch])}")
        loss_init = self.zeros([])
        loss = self.fresh("loss")
        self.emit(
            f"{loss} = linalg.generic {{indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, "
            f"affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, "
            f"affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> ()>], "
            f"iterator_types = [\"reduction\", \"reduction\"]}} "
            f"ins({logits}, {labels}, {m}, {s} : {zb}, {zb}, {tensor([batch])}, "
            f"{tensor([batch])}) outs({loss_init} : tensor<f32>) {{")
        self.emit("^bb0(%z: f32, %lab: f32, %mx: f32, %se: f32, %o: f32):")
        self.emit("  %lg = math.log %se : f32")
        self.emit("  %lse = arith.addf %lg, %mx : f32")
        self.emit("  %d = arith.subf %lse, %z : f32")
        self.emit("  %t = arith.mulf %lab, %d : f32")
        self.emit(f"  %k = arith.constant {1.0 / batch!r} : f32")
        self.emit("  %tk = arith.mulf %t, %k : f32")
        self.emit("  %r = arith.addf %o, %tk : f32")
        self.emit("  linalg.yield %r : f32")
        self.emit("} -> tensor<f32>")
        return loss


def mlp(batch, eval_batch, widths=(784, 256, 128, 10), name="mlp"):
    """The MLP 784-256-128-10 with ReLU, layers fc1..fc3."""
    params = []
    for i, (fan_in, fan_out) in enumerate(zip(widths, widths[1:]), 1):
        params.append((f"%w{i}", [fan_in, fan_out]))
        params.append((f"%b{i}", [fan_out]))

    def body(fn, batch, x):
        h = x
        layers = list(zip(widths, widths[1:]))
        for i, (fan_in, fan_out) in enumerate(layers, 1):
            h = fn.dense(h, f"%w{i}", f"%b{i}", batch, fan_in, fan_out,
                         f"fc{i}", relu=i < len(layers))
        return h

    classes = widths[-1]
    param_args = ", ".join(f"{p}: {tensor(s)} {PARAM}" for p, s in params)
    train = Function()
    logits = body(train, batch, "%x")
    loss = train.cross_entropy(logits, "%y", batch, classes)
    train.emit(f"return {loss} : tensor<f32>")
    evaluate = Function()
    eval_logits = body(evaluate, eval_batch, "%x")
    evaluate.emit(f"return {eval_logits} : {tensor([eval_batch, classes])}")
    plain_args = ", ".join(f"{p}: {tensor(s)}" for p, s in params)
    return "\n".join([
        f"// Generated by python/qtrain/models.py: {name}, "
        f"{'-'.join(map(str, widths))}, batch {batch}, eval batch {eval_batch}.",
        f"func.func @{name}({param_args},",
        f"    %x: {tensor([batch, widths[0]])} {INPUT},",
        f"    %y: {tensor([batch, classes])} {LABEL}) -> tensor<f32> {{",
        *train.lines, "}", "",
        f"func.func @{name}_logits({plain_args},",
        f"    %x: {tensor([eval_batch, widths[0]])}) -> "
        f"{tensor([eval_batch, classes])} {{",
        *evaluate.lines, "}", ""])


MODELS = {"mlp": mlp}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", choices=sorted(MODELS))
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--eval-batch", type=int, default=100)
    parser.add_argument("-o", "--output", default="-")
    args = parser.parse_args(argv)
    text = MODELS[args.model](args.batch, args.eval_batch)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        with open(args.output, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
