//===- Passes.h - qtrain conversion passes ----------------------*- C++ -*-===//

#ifndef QTRAIN_CONVERSION_PASSES_H
#define QTRAIN_CONVERSION_PASSES_H

#include "qtrain/Conversion/QTrainToLinalg/QTrainToLinalg.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::qtrain {

#define GEN_PASS_DECL
#include "qtrain/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "qtrain/Conversion/Passes.h.inc"

} // namespace mlir::qtrain

#endif // QTRAIN_CONVERSION_PASSES_H
