//===- Passes.h - qtrain dialect passes -------------------------*- C++ -*-===//

#ifndef QTRAIN_DIALECT_QTRAIN_TRANSFORMS_PASSES_H
#define QTRAIN_DIALECT_QTRAIN_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/UB/IR/UBOps.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"
#include "qtrain/Dialect/QTrain/IR/QTrainDialect.h"
#include "qtrain/Dialect/QTrain/Transforms/Recipes.h"

namespace mlir::qtrain {

/// The constant C(n) of qtrain-range-batchnorm.
enum class RangeConstant {
  /// Banner et al.'s paper: 1 / sqrt(2 ln n).
  paper,
  /// Their reference code: 0.5 * 0.35 * (1 + sqrt(pi ln 4)) / sqrt(2 ln n).
  reference,
};

/// Where qtrain-gpu-host-buffers puts host code's buffers.
enum class GPUBufferMemory {
  /// Device memory (cuMemAlloc), staged by explicit copies.
  device,
  /// CUDA managed memory (cuMemAllocManaged), which the host can read too.
  managed,
};

#define GEN_PASS_DECL
#include "qtrain/Dialect/QTrain/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "qtrain/Dialect/QTrain/Transforms/Passes.h.inc"

} // namespace mlir::qtrain

#endif // QTRAIN_DIALECT_QTRAIN_TRANSFORMS_PASSES_H
