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
PARAM_ONES = ("{qtrain.init = #qtrain<init ones>, "
              "qtrain.role = #qtrain<role parameter>}")
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

    def conv(self, x, w, in_shape, out_channels, kernel, name, pad=0):
        """NCHW convolution, stride 1, zero padding `pad` (a layer)."""
        if pad:
            n, c, h, wd = in_shape
            padded = [n, c, h + 2 * pad, wd + 2 * pad]
            y, zero = self.fresh("pad"), self.fresh("c")
            self.emit(f"{zero} = arith.constant 0.0 : f32")
            self.emit(f"{y} = tensor.pad {x} low[0, 0, {pad}, {pad}] "
                      f"high[0, 0, {pad}, {pad}] {{")
            self.emit("^bb0(%i: index, %j: index, %k: index, %l: index):")
            self.emit(f"  tensor.yield {zero} : f32")
            self.emit(f"}} : {tensor(in_shape)} to {tensor(padded)}")
            x, in_shape = y, padded
        n, c, h, wd = in_shape
        out = [n, out_channels, h - kernel + 1, wd - kernel + 1]
        init = self.zeros(out)
        y = self.fresh("conv")
        self.emit(f'{y} = linalg.conv_2d_nchw_fchw {{qtrain.layer = "{name}"}} '
                  f"ins({x}, {w} : {tensor(in_shape)}, "
                  f"{tensor([out_channels, c, kernel, kernel])}) outs({init} : "
                  f"{tensor(out)}) -> {tensor(out)}")
        return y, out

    def add_relu(self, a, b, shape):
        """relu(a + b): a residual connection."""
        id4 = "affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>"
        empty, y = self.fresh("e"), self.fresh("res")
        self.emit(f"{empty} = tensor.empty() : {tensor(shape)}")
        self.emit(f"{y} = linalg.generic {{indexing_maps = [{id4}, {id4}, {id4}], "
                  f'iterator_types = ["parallel", "parallel", "parallel", "parallel"]}} '
                  f"ins({a}, {b} : {tensor(shape)}, {tensor(shape)}) "
                  f"outs({empty} : {tensor(shape)}) {{")
        self.emit("^bb0(%a: f32, %b: f32, %o: f32):")
        self.emit("  %s = arith.addf %a, %b : f32")
        self.emit("  %zero = arith.constant 0.0 : f32")
        self.emit("  %r = arith.maximumf %s, %zero : f32")
        self.emit("  linalg.yield %r : f32")
        self.emit(f"}} -> {tensor(shape)}")
        return y

    def batchnorm_relu(self, x, gamma, beta, shape, relu=True):
        """Batch norm over (N, H, W) with batch statistics, then ReLU, in
        the decomposed form qtrain-range-batchnorm recognizes."""
        n, c, h, w = shape
        k = 1.0 / (n * h * w)
        id4 = "affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>"
        ch4 = "affine_map<(d0, d1, d2, d3) -> (d1)>"
        red = '["reduction", "parallel", "reduction", "reduction"]'
        par = '["parallel", "parallel", "parallel", "parallel"]'
        zero = self.zeros([c])
        total = self.fresh("bnsum")
        self.emit(f"{total} = linalg.generic {{indexing_maps = [{id4}, {ch4}], "
                  f"iterator_types = {red}}} ins({x} : {tensor(shape)}) "
                  f"outs({zero} : {tensor([c])}) {{")
        self.emit("^bb0(%a: f32, %o: f32):")
        self.emit("  %s = arith.addf %o, %a : f32")
        self.emit("  linalg.yield %s : f32")
        self.emit(f"}} -> {tensor([c])}")
        empty, centered = self.fresh("e"), self.fresh("xc")
        self.emit(f"{empty} = tensor.empty() : {tensor(shape)}")
        self.emit(f"{centered} = linalg.generic {{indexing_maps = [{id4}, {ch4}, "
                  f"{id4}], iterator_types = {par}}} ins({x}, {total} : "
                  f"{tensor(shape)}, {tensor([c])}) outs({empty} : {tensor(shape)}) {{")
        self.emit("^bb0(%a: f32, %s: f32, %o: f32):")
        self.emit(f"  %k = arith.constant {k!r} : f32")
        self.emit("  %m = arith.mulf %s, %k : f32")
        self.emit("  %d = arith.subf %a, %m : f32")
        self.emit("  linalg.yield %d : f32")
        self.emit(f"}} -> {tensor(shape)}")
        squares = self.fresh("bnsq")
        self.emit(f"{squares} = linalg.generic {{indexing_maps = [{id4}, {ch4}], "
                  f"iterator_types = {red}}} ins({centered} : {tensor(shape)}) "
                  f"outs({zero} : {tensor([c])}) {{")
        self.emit("^bb0(%a: f32, %o: f32):")
        self.emit("  %p = arith.mulf %a, %a : f32")
        self.emit("  %s = arith.addf %o, %p : f32")
        self.emit("  linalg.yield %s : f32")
        self.emit(f"}} -> {tensor([c])}")
        cempty, inv = self.fresh("e"), self.fresh("inv")
        self.emit(f"{cempty} = tensor.empty() : {tensor([c])}")
        self.emit(f"{inv} = linalg.generic {{indexing_maps = [affine_map<(d0) -> (d0)>, "
                  f'affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}} '
                  f"ins({squares} : {tensor([c])}) outs({cempty} : {tensor([c])}) {{")
        self.emit("^bb0(%v: f32, %o: f32):")
        self.emit(f"  %k = arith.constant {k!r} : f32")
        self.emit("  %eps = arith.constant 1.0e-5 : f32")
        self.emit("  %var = arith.mulf %v, %k : f32")
        self.emit("  %ve = arith.addf %var, %eps : f32")
        self.emit("  %i = math.rsqrt %ve : f32")
        self.emit("  linalg.yield %i : f32")
        self.emit(f"}} -> {tensor([c])}")
        out = self.fresh("bn")
        self.emit(f"{out} = linalg.generic {{indexing_maps = [{id4}, {ch4}, {ch4}, "
                  f"{ch4}, {id4}], iterator_types = {par}}} ins({centered}, {inv}, "
                  f"{gamma}, {beta} : {tensor(shape)}, {tensor([c])}, {tensor([c])}, "
                  f"{tensor([c])}) outs({empty} : {tensor(shape)}) {{")
        self.emit("^bb0(%a: f32, %i: f32, %g: f32, %b: f32, %o: f32):")
        self.emit("  %t = arith.mulf %a, %i : f32")
        self.emit("  %u = arith.mulf %t, %g : f32")
        self.emit("  %v = arith.addf %u, %b : f32")
        if relu:
            self.emit("  %zero = arith.constant 0.0 : f32")
            self.emit("  %r = arith.maximumf %v, %zero : f32")
            self.emit("  linalg.yield %r : f32")
        else:
            self.emit("  linalg.yield %v : f32")
        self.emit(f"}} -> {tensor(shape)}")
        return out

    def maxpool2(self, x, shape):
        n, c, h, w = shape
        out = [n, c, h // 2, w // 2]
        init = self.zeros(out, "0xFF800000")
        window, y = self.fresh("win"), self.fresh("pool")
        self.emit(f"{window} = tensor.empty() : tensor<2x2xf32>")
        self.emit(f"{y} = linalg.pooling_nchw_max {{dilations = dense<1> : vector<2xi64>, "
                  f"strides = dense<2> : vector<2xi64>}} ins({x}, {window} : "
                  f"{tensor(shape)}, tensor<2x2xf32>) outs({init} : {tensor(out)}) "
                  f"-> {tensor(out)}")
        return y, out

    def reshape(self, x, from_shape, to_shape, groups):
        y = self.fresh("r")
        op = ("tensor.expand_shape" if len(to_shape) > len(from_shape)
              else "tensor.collapse_shape")
        extra = (f" output_shape {list(to_shape)}"
                 if op == "tensor.expand_shape" else "")
        self.emit(f"{y} = {op} {x} {groups}{extra} : {tensor(from_shape)} "
                  f"into {tensor(to_shape)}")
        return y

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


def module(name, params, body, batch, eval_batch, features, classes,
           description):
    """The training function and the _logits function of a model."""
    param_args = ", ".join(f"{p}: {tensor(s)} {attrs}" for p, s, attrs in params)
    train = Function()
    logits = body(train, batch, "%x")
    loss = train.cross_entropy(logits, "%y", batch, classes)
    train.emit(f"return {loss} : tensor<f32>")
    evaluate = Function()
    eval_logits = body(evaluate, eval_batch, "%x")
    evaluate.emit(f"return {eval_logits} : {tensor([eval_batch, classes])}")
    plain_args = ", ".join(f"{p}: {tensor(s)}" for p, s, _ in params)
    return "\n".join([
        f"// Generated by python/qtrain/models.py: {name}, {description}, "
        f"batch {batch}, eval batch {eval_batch}.",
        f"func.func @{name}({param_args},",
        f"    %x: {tensor([batch, features])} {INPUT},",
        f"    %y: {tensor([batch, classes])} {LABEL}) -> tensor<f32> {{",
        *train.lines, "}", "",
        f"func.func @{name}_logits({plain_args},",
        f"    %x: {tensor([eval_batch, features])}) -> "
        f"{tensor([eval_batch, classes])} {{",
        *evaluate.lines, "}", ""])


def mlp(batch, eval_batch, widths=(784, 256, 128, 10), name="mlp"):
    """The MLP 784-256-128-10 with ReLU, layers fc1..fc3."""
    params = []
    for i, (fan_in, fan_out) in enumerate(zip(widths, widths[1:]), 1):
        params.append((f"%w{i}", [fan_in, fan_out], PARAM))
        params.append((f"%b{i}", [fan_out], PARAM))

    def body(fn, batch, x):
        h = x
        layers = list(zip(widths, widths[1:]))
        for i, (fan_in, fan_out) in enumerate(layers, 1):
            h = fn.dense(h, f"%w{i}", f"%b{i}", batch, fan_in, fan_out,
                         f"fc{i}", relu=i < len(layers))
        return h

    return module(name, params, body, batch, eval_batch, widths[0], widths[-1],
                  "-".join(map(str, widths)))


def lenet_bn(batch, eval_batch, name="lenet_bn"):
    """LeNet-style CNN with batch norm: conv 5x5 (8) - BN - ReLU - max pool,
    conv 5x5 (16) - BN - ReLU - max pool, fc 256 -> 10. Evaluation uses the
    statistics of the evaluation batch (no running averages yet)."""
    params = [("%w1", [8, 1, 5, 5], PARAM), ("%g1", [8], PARAM_ONES),
              ("%b1", [8], PARAM), ("%w2", [16, 8, 5, 5], PARAM),
              ("%g2", [16], PARAM_ONES), ("%b2", [16], PARAM),
              ("%w3", [256, 10], PARAM), ("%b3", [10], PARAM)]

    def body(fn, batch, x):
        image = fn.reshape(x, [batch, 784], [batch, 1, 28, 28], "[[0], [1, 2, 3]]")
        h, shape = fn.conv(image, "%w1", [batch, 1, 28, 28], 8, 5, "conv1")
        h = fn.batchnorm_relu(h, "%g1", "%b1", shape)
        h, shape = fn.maxpool2(h, shape)
        h, shape = fn.conv(h, "%w2", shape, 16, 5, "conv2")
        h = fn.batchnorm_relu(h, "%g2", "%b2", shape)
        h, shape = fn.maxpool2(h, shape)
        flat = fn.reshape(h, shape, [batch, 256], "[[0], [1, 2, 3]]")
        return fn.dense(flat, "%w3", "%b3", batch, 256, 10, "fc", relu=False)

    return module(name, params, body, batch, eval_batch, 784, 10,
                  "LeNet-style CNN with batch norm")


def resnet_small(batch, eval_batch, name="resnet_small", width=16):
    """A small residual CNN with batch norm: conv 3x3 (width) - BN - ReLU -
    max pool, one residual block (two 3x3 convs with BN around an identity
    skip), max pool, fc 784 -> 10."""
    w = width
    params = [("%w0", [w, 1, 3, 3], PARAM), ("%g0", [w], PARAM_ONES),
              ("%b0", [w], PARAM), ("%w1", [w, w, 3, 3], PARAM),
              ("%g1", [w], PARAM_ONES), ("%b1", [w], PARAM),
              ("%w2", [w, w, 3, 3], PARAM), ("%g2", [w], PARAM_ONES),
              ("%b2", [w], PARAM), ("%w3", [w * 49, 10], PARAM),
              ("%b3", [10], PARAM)]

    def body(fn, batch, x):
        image = fn.reshape(x, [batch, 784], [batch, 1, 28, 28], "[[0], [1, 2, 3]]")
        h, shape = fn.conv(image, "%w0", [batch, 1, 28, 28], w, 3, "conv0", pad=1)
        h = fn.batchnorm_relu(h, "%g0", "%b0", shape)
        skip, shape = fn.maxpool2(h, shape)
        h, _ = fn.conv(skip, "%w1", shape, w, 3, "res1a", pad=1)
        h = fn.batchnorm_relu(h, "%g1", "%b1", shape)
        h, _ = fn.conv(h, "%w2", shape, w, 3, "res1b", pad=1)
        h = fn.batchnorm_relu(h, "%g2", "%b2", shape, relu=False)
        h = fn.add_relu(h, skip, shape)
        h, shape = fn.maxpool2(h, shape)
        flat = fn.reshape(h, shape, [batch, w * 49], "[[0], [1, 2, 3]]")
        return fn.dense(flat, "%w3", "%b3", batch, w * 49, 10, "fc", relu=False)

    return module(name, params, body, batch, eval_batch, 784, 10,
                  "residual CNN with batch norm")


MODELS = {"mlp": mlp, "lenet_bn": lenet_bn, "resnet_small": resnet_small}


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
