// RUN: qtrain-opt %s -split-input-file -qtrain-vectorize-linalg | FileCheck %s
// RUN: qtrain-opt %s -split-input-file -qtrain-vectorize-linalg=vector-width=8 | FileCheck %s --check-prefix=W8
// RUN: qtrain-opt %s -split-input-file -qtrain-vectorize-linalg=im2col-bytes=20000 | FileCheck %s --check-prefix=TILE

#id2 = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>

// Element-wise: a loop nest stepping one vector along the innermost dim;
// 100 is not a multiple of 16, so the transfers are masked.
// CHECK-LABEL: func.func @elementwise
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}}
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %[[C16:.*]] iter_args
// CHECK: %[[MASK2D:.*]] = vector.create_mask %{{.*}}, %{{.*}} : vector<1x16xi1>
// CHECK: %[[MASK:.*]] = vector.extract %[[MASK2D]][0] : vector<16xi1> from vector<1x16xi1>
// CHECK: vector.transfer_read %{{.*}}, %[[MASK]] {in_bounds = [true]} : tensor<1x?xf32>, vector<16xf32>
// CHECK: arith.mulf %{{.*}}, %{{.*}} : vector<16xf32>
// CHECK: vector.transfer_write %{{.*}}, %{{.*}}, %{{.*}} {in_bounds = [true]} : vector<16xf32>, tensor<1x?xf32>
// CHECK-NOT: linalg.generic
// W8-LABEL: func.func @elementwise
// W8: vector.transfer_read {{.*}} vector<8xf32>
func.func @elementwise(%x: tensor<8x100xf32>) -> tensor<8x100xf32> {
  %e = tensor.empty() : tensor<8x100xf32>
  %0 = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<8x100xf32>) outs(%e : tensor<8x100xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.mulf %in, %in : f32
    linalg.yield %m : f32
  } -> tensor<8x100xf32>
  return %0 : tensor<8x100xf32>
}

// -----

#id2 = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>

// A reduction the vector divides: unmasked reads and a vector reduction.
// CHECK-LABEL: func.func @row_max
// CHECK: vector.transfer_read %{{.*}} {in_bounds = [true]} : tensor<1x16xf32>, vector<16xf32>
// CHECK: vector.multi_reduction <maximumf>, %{{.*}}, %{{.*}} [1] : vector<1x16xf32> to vector<1xf32>
// CHECK-NOT: vector.create_mask
func.func @row_max(%x: tensor<4x64xf32>, %init: tensor<4xf32>) -> tensor<4xf32> {
  %0 = linalg.generic {indexing_maps = [#id2, #row], iterator_types = ["parallel", "reduction"]} ins(%x : tensor<4x64xf32>) outs(%init : tensor<4xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %m = arith.maximumf %acc, %in : f32
    linalg.yield %m : f32
  } -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

#id2 = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>

// A reduction of 12 takes vectors of 4 (masked reductions do not lower).
// CHECK-LABEL: func.func @row_max_12
// CHECK: vector<4xf32>
// CHECK-NOT: vector.create_mask
func.func @row_max_12(%x: tensor<4x12xf32>, %init: tensor<4xf32>) -> tensor<4xf32> {
  %0 = linalg.generic {indexing_maps = [#id2, #row], iterator_types = ["parallel", "reduction"]} ins(%x : tensor<4x12xf32>) outs(%init : tensor<4xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %m = arith.maximumf %acc, %in : f32
    linalg.yield %m : f32
  } -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

#a = affine_map<(d0, d1, d2) -> (d0, d2)>
#b = affine_map<(d0, d1, d2) -> (d1, d2)>
#c = affine_map<(d0, d1, d2) -> (d0, d1)>

// A contraction's reduction takes four vectors: a 64-byte int8 dot product.
// CHECK-LABEL: func.func @int8_dot
// CHECK: vector.transfer_read {{.*}} : tensor<1x64xi8>, vector<64xi8>
// CHECK: arith.extsi %{{.*}} : vector<64xi8> to vector<64xi32>
// CHECK: vector.multi_reduction <add>, %{{.*}}, %{{.*}} [2] : vector<1x1x64xi32> to vector<1x1xi32>
func.func @int8_dot(%a: tensor<8x128xi8>, %b: tensor<4x128xi8>, %init: tensor<8x4xi32>) -> tensor<8x4xi32> {
  %0 = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]} ins(%a, %b : tensor<8x128xi8>, tensor<4x128xi8>) outs(%init : tensor<8x4xi32>) {
  ^bb0(%x: i8, %y: i8, %acc: i32):
    %xe = arith.extsi %x : i8 to i32
    %ye = arith.extsi %y : i8 to i32
    %p = arith.muli %xe, %ye : i32
    %s = arith.addi %acc, %p : i32
    linalg.yield %s : i32
  } -> tensor<8x4xi32>
  return %0 : tensor<8x4xi32>
}

// -----

#id1 = affine_map<(d0) -> (d0)>

// Masked bf16 transfers would become soft-float calls: a dynamic bf16 op
// stays scalar.
// CHECK-LABEL: func.func @dynamic_bf16
// CHECK: linalg.generic
// CHECK-NOT: vector.
func.func @dynamic_bf16(%x: tensor<?xbf16>, %init: tensor<?xbf16>) -> tensor<?xbf16> {
  %0 = linalg.generic {indexing_maps = [#id1, #id1], iterator_types = ["parallel"]} ins(%x : tensor<?xbf16>) outs(%init : tensor<?xbf16>) {
  ^bb0(%in: bf16, %out: bf16):
    linalg.yield %in : bf16
  } -> tensor<?xbf16>
  return %0 : tensor<?xbf16>
}

// -----

// Convolutions become an im2col gather (non-projected maps: scalar loops)
// and a contraction vectorized along the output pixels.
// CHECK-LABEL: func.func @conv
// CHECK-NOT:   linalg.conv_2d_nchw_fchw
// CHECK:       %[[COLS:.+]] = linalg.generic {{.+}} ins(%{{.+}} : tensor<1x1x5x5xf32>) outs(%{{.+}} : tensor<1x9x9xf32>)
// CHECK:       scf.for
// CHECK:         tensor.extract_slice %[[COLS]]
// CHECK:         vector.transfer_read {{.+}} : tensor<1x1x?xf32>, vector<16xf32>
// CHECK:         arith.mulf {{.+}} : vector<16xf32>
func.func @conv(%x: tensor<1x1x5x5xf32>, %w: tensor<1x1x3x3xf32>, %init: tensor<1x1x3x3xf32>) -> tensor<1x1x3x3xf32> {
  %0 = linalg.conv_2d_nchw_fchw ins(%x, %w : tensor<1x1x5x5xf32>, tensor<1x1x3x3xf32>) outs(%init : tensor<1x1x3x3xf32>) -> tensor<1x1x3x3xf32>
  return %0 : tensor<1x1x3x3xf32>
}

// -----

#a = affine_map<(d0, d1, d2) -> (d0, d2)>
#b = affine_map<(d0, d1, d2) -> (d1, d2)>
#c = affine_map<(d0, d1, d2) -> (d0, d1)>

// A reassociable f32 sum becomes a reassociable vector.reduction (a tree of
// vector adds, not 64 ordered scalar adds); without the flag the reduction
// keeps its order.
// CHECK-LABEL: func.func @reassociable_dot
// CHECK: vector.reduction <add>, %{{.*}}, %{{.*}} fastmath<reassoc> : vector<64xf32> into f32
// CHECK-LABEL: func.func @ordered_dot
// CHECK: vector.multi_reduction <add>
// CHECK-NOT: fastmath<reassoc>
func.func @reassociable_dot(%x: tensor<8x128xf32>, %y: tensor<4x128xf32>, %init: tensor<8x4xf32>) -> tensor<8x4xf32> {
  %0 = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %y : tensor<8x128xf32>, tensor<4x128xf32>) outs(%init : tensor<8x4xf32>) {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m fastmath<reassoc> : f32
    linalg.yield %s : f32
  } -> tensor<8x4xf32>
  return %0 : tensor<8x4xf32>
}

func.func @ordered_dot(%x: tensor<8x128xf32>, %y: tensor<4x128xf32>, %init: tensor<8x4xf32>) -> tensor<8x4xf32> {
  %0 = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %y : tensor<8x128xf32>, tensor<4x128xf32>) outs(%init : tensor<8x4xf32>) {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<8x4xf32>
  return %0 : tensor<8x4xf32>
}

// -----

// im2col matrices above `im2col-bytes` are gathered tile by tile: by 2 of
// the 8 images (9216 bytes each) here, and by 8 of the 64 input channels
// (2304 bytes each, accumulated) where a single image is too large. With
// the default budget (1 MiB) neither is tiled.
// CHECK-LABEL: func.func @conv_batch
// CHECK:         tensor.empty() : tensor<8x36x64xf32>
// TILE-LABEL:  func.func @conv_batch
// TILE:          scf.for %[[N:.+]] = %c0 to %c8 step %c2 iter_args(%[[ACC:.+]] = %{{.+}}) -> (tensor<8x2x8x8xf32>)
// TILE:            tensor.extract_slice %{{.+}}[%[[N]], 0, 0, 0] [2, 4, 10, 10]
// TILE:            tensor.empty() : tensor<2x36x64xf32>
// TILE:            tensor.insert_slice %{{.+}} into %[[ACC]][%[[N]], 0, 0, 0] [2, 2, 8, 8]
func.func @conv_batch(%x: tensor<8x4x10x10xf32>, %w: tensor<2x4x3x3xf32>, %init: tensor<8x2x8x8xf32>) -> tensor<8x2x8x8xf32> {
  %0 = linalg.conv_2d_nchw_fchw ins(%x, %w : tensor<8x4x10x10xf32>, tensor<2x4x3x3xf32>) outs(%init : tensor<8x2x8x8xf32>) -> tensor<8x2x8x8xf32>
  return %0 : tensor<8x2x8x8xf32>
}

// CHECK-LABEL: func.func @conv_channels
// CHECK:         tensor.empty() : tensor<1x576x64xf32>
// TILE-LABEL:  func.func @conv_channels
// TILE:          scf.for %[[C:.+]] = %c0 to %c64 step %c8 iter_args(%[[ACC:.+]] = %{{.+}}) -> (tensor<1x2x8x8xf32>)
// TILE:            tensor.extract_slice %{{.+}}[%{{.+}}, %[[C]], 0, 0] [1, 8, 10, 10]
// TILE:            tensor.extract_slice %{{.+}}[0, %[[C]], 0, 0] [2, 8, 3, 3]
// TILE:            tensor.extract_slice %[[ACC]]
// TILE:            tensor.empty() : tensor<1x72x64xf32>
func.func @conv_channels(%x: tensor<1x64x10x10xf32>, %w: tensor<2x64x3x3xf32>, %init: tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32> {
  %0 = linalg.conv_2d_nchw_fchw ins(%x, %w : tensor<1x64x10x10xf32>, tensor<2x64x3x3xf32>) outs(%init : tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32>
  return %0 : tensor<1x2x8x8xf32>
}
