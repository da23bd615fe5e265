"""Extract the kernels of a lowered module's gpu.binary ops.

`qtrain-opt -qtrain-lower-to-nvvm="format=isa"` embeds each gpu.module's PTX
in a `gpu.binary` as an MLIR string attribute (`assembly = "..."` in the
textual IR, non-printable bytes as \\XX hex escapes). This writes each PTX
to `<prefix>.<module>.ptx` so that ptxas and FileCheck can read it:

    python3 -m qtrain.gpu_binary lowered.mlir out   # out.<module>.ptx

With `--kernels-using REGEX` it also prints, for each distinct text the
regex matches in the PTX, how many kernels hold it ("6 kernels: mma.sync..."),
sorted by that text: which kernels run which instructions, however often the
compiler unrolled them.
"""

import argparse
import re
import sys

_ASSEMBLY = re.compile(r'assembly = "((?:[^"\\]|\\.)*)"')


def _unescape(text):
    """Undo MLIR's string attribute escapes (\\XX hex, \\\\, \\")."""
    return re.sub(r'\\([0-9A-Fa-f]{2}|\\|")',
                  lambda m: m.group(1) if m.group(1) in ('\\', '"')
                  else chr(int(m.group(1), 16)), text)


def extract(text):
    """{module name: PTX} for every gpu.binary holding PTX."""
    kernels = {}
    for line in text.splitlines():
        if 'gpu.binary @' not in line:
            continue
        name = re.search(r'gpu\.binary @(\w+)', line).group(1)
        assembly = _ASSEMBLY.search(line)
        if assembly:
            kernels[name] = _unescape(assembly.group(1))
    return kernels


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("module", help="lowered MLIR (format=isa)")
    parser.add_argument("prefix", help="output prefix")
    parser.add_argument("--kernels-using", metavar="REGEX",
                        help="count the kernels holding each match")
    args = parser.parse_args(argv)
    with open(args.module) as f:
        kernels = extract(f.read())
    if not kernels:
        print(f"{args.module}: no gpu.binary with PTX (format=isa)",
              file=sys.stderr)
        return 1
    for name, ptx in kernels.items():
        with open(f"{args.prefix}.{name}.ptx", "w") as f:
            f.write(ptx)
    if args.kernels_using:
        pattern = re.compile(args.kernels_using)
        users = {}
        for ptx in kernels.values():
            for match in set(pattern.findall(ptx)):
                users[match] = users.get(match, 0) + 1
        for match in sorted(users):
            print(f"{users[match]} kernels: {match}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
