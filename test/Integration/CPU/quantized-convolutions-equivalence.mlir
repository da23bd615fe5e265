// qtrain-quantize-contractions keeps what a CNN's training step computes:
// convolutions of rounded operands (fake quantization, the reference here)
// and the qtrain.qconv2d of their codes give the same results, compiled and
// run on the CPU, up to the f32 rounding of products and sums: the FP8
// forward convolution (strided, per-output-channel weight scale), the
// activation gradient (a zero-padded E5M2 gradient, stochastically rounded,
// convolved with the flipped, channel-swapped weights: both moves are
// replayed on the codes), the weight gradient (both operands transposed),
// INT8 with zero points (nhwc/hwcf), and INT8's activation gradient: an
// asymmetric gradient padded with zeros unevenly, which are no code there,
// so the padding becomes qconv2d's own and its share of the input zero
// point is taken back after the sum, with weights that have a zero point
// too.
// RUN: %run_cpu > %t.simulated
// RUN: qtrain-opt %s -qtrain-quantize-contractions | qtrain-opt -qtrain-lower-to-cpu \
// RUN:   | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils.so,%mlir_lib_dir/libmlir_runner_utils.so \
// RUN:   > %t.codes
// RUN: %qtrain_python -m qtrain.compare_memrefs %t.simulated %t.codes --rtol 3e-5 | FileCheck %s --check-prefix=SAME
// SAME-COUNT-5: worst difference
// RUN: qtrain-opt %s -qtrain-quantize-contractions | FileCheck %s --check-prefix=CODES
// CODES-LABEL: func.func @main
// CODES:       qtrain.qconv2d {{.*}} input(float<f8E4M3FN>{{.*}}filter(float<f8E4M3FN>{{.*}}granularity <per_channel, axis = 0>) accumulate f32 strides [2, 2]
// CODES:       %[[PAD:.+]] = linalg.fill ins(%{{.+}} : f8E5M2)
// CODES:       %[[G:.+]] = tensor.insert_slice %{{.+}} into %[[PAD]][0, 0, 2, 2] [2, 4, 4, 4] [1, 1, 1, 1] : tensor<2x4x4x4xf8E5M2> into tensor<2x4x8x8xf8E5M2>
// CODES:       %[[W:.+]] = linalg.generic {{.*}} ins(%{{.+}} : tensor<4x3x3x3xf8E4M3FN>) outs(%{{.+}} : tensor<3x4x3x3xf8E4M3FN>)
// CODES:       qtrain.qconv2d %[[G]], %[[W]] input(float<f8E5M2>
// CODES:       linalg.transpose ins(%{{.+}} : tensor<2x3x9x9xf8E4M3FN>)
// CODES:       linalg.transpose ins(%{{.+}} : tensor<2x4x4x4xf8E5M2>)
// CODES:       qtrain.qconv2d {{.*}} : tensor<3x2x9x9xf8E4M3FN>, tensor<4x2x4x4xf8E5M2> -> tensor<3x4x3x3xf32>
// CODES:       qtrain.qconv2d {{.*}} input(int<8, unsigned>, {{.*}} zero_point {{.*}} filter(int<8, signed>{{.*}} accumulate i32 layout nhwc_hwcf
// CODES:       qtrain.qconv2d {{.*}} input(int<8, unsigned>, {{.*}} zero_point {{.*}} filter(int<8, unsigned>, {{.*}} zero_point {{.*}} accumulate i32 padding [1, 3, 3, 1] : tensor<2x4x4x4xi8>
// CODES-NOT:   linalg.memoized_indexing_maps
// CODES-NOT:   linalg.conv_2d

#nchw = affine_map<(n, c, h, w) -> (n, c, h, w)>
#flip = affine_map<(c, f, kh, kw) -> (f, c, 2 - kh, 2 - kw)>

// sin(a * (linear index) + b) * amplitude: smooth, signed, not trivial.
func.func @wave(%a: f32, %b: f32, %amplitude: f32, %shape: tensor<?x?x?x?xf32>) -> tensor<?x?x?x?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %d1 = tensor.dim %shape, %c1 : tensor<?x?x?x?xf32>
  %d2 = tensor.dim %shape, %c2 : tensor<?x?x?x?xf32>
  %d3 = tensor.dim %shape, %c3 : tensor<?x?x?x?xf32>
  %r = linalg.generic {indexing_maps = [#nchw], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} outs(%shape : tensor<?x?x?x?xf32>) {
  ^bb0(%out: f32):
    %i0 = linalg.index 0 : index
    %i1 = linalg.index 1 : index
    %i2 = linalg.index 2 : index
    %i3 = linalg.index 3 : index
    %l1 = arith.muli %i0, %d1 : index
    %l2 = arith.addi %l1, %i1 : index
    %l3 = arith.muli %l2, %d2 : index
    %l4 = arith.addi %l3, %i2 : index
    %l5 = arith.muli %l4, %d3 : index
    %l6 = arith.addi %l5, %i3 : index
    %li = arith.index_cast %l6 : index to i64
    %f = arith.sitofp %li : i64 to f32
    %ai = arith.mulf %f, %a : f32
    %t = arith.addf %ai, %b : f32
    %v = math.sin %t : f32
    %w = arith.mulf %v, %amplitude : f32
    linalg.yield %w : f32
  } -> tensor<?x?x?x?xf32>
  return %r : tensor<?x?x?x?xf32>
}

func.func @print(%t: tensor<?x?x?x?xf32>) {
  %m = bufferization.to_buffer %t : tensor<?x?x?x?xf32> to memref<?x?x?x?xf32>
  %u = memref.cast %m : memref<?x?x?x?xf32> to memref<*xf32>
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

func.func @main() {
  %c1 = arith.constant 0.37 : f32
  %c2 = arith.constant 1.13 : f32
  %c3 = arith.constant 0.5 : f32
  %amp = arith.constant 3.0 : f32
  %small = arith.constant 0.01 : f32
  %seed = arith.constant 1234 : i64
  %zero = arith.constant 0.0 : f32
  %ex = tensor.empty() : tensor<2x3x9x9xf32>
  %ew = tensor.empty() : tensor<4x3x3x3xf32>
  %eg = tensor.empty() : tensor<2x4x4x4xf32>
  %ex_ = tensor.cast %ex : tensor<2x3x9x9xf32> to tensor<?x?x?x?xf32>
  %ew_ = tensor.cast %ew : tensor<4x3x3x3xf32> to tensor<?x?x?x?xf32>
  %eg_ = tensor.cast %eg : tensor<2x4x4x4xf32> to tensor<?x?x?x?xf32>
  %x0 = call @wave(%c1, %c3, %amp, %ex_) : (f32, f32, f32, tensor<?x?x?x?xf32>) -> tensor<?x?x?x?xf32>
  %w0 = call @wave(%c2, %c1, %amp, %ew_) : (f32, f32, f32, tensor<?x?x?x?xf32>) -> tensor<?x?x?x?xf32>
  %g0 = call @wave(%c3, %c2, %small, %eg_) : (f32, f32, f32, tensor<?x?x?x?xf32>) -> tensor<?x?x?x?xf32>
  %x = tensor.cast %x0 : tensor<?x?x?x?xf32> to tensor<2x3x9x9xf32>
  %w = tensor.cast %w0 : tensor<?x?x?x?xf32> to tensor<4x3x3x3xf32>
  %g = tensor.cast %g0 : tensor<?x?x?x?xf32> to tensor<2x4x4x4xf32>

  // Forward: E4M3FN activations times E4M3FN weights with a per-output-
  // channel scale, stride 2: [2,3,9,9] * [4,3,3,3] -> [2,4,4,4].
  %sx = qtrain.compute_scale %x for float<f8E4M3FN> using <absmax> : tensor<2x3x9x9xf32> -> tensor<f32>
  %rx = qtrain.round %x to float<f8E4M3FN> scale(%sx : tensor<f32>) : tensor<2x3x9x9xf32>
  %sw = qtrain.compute_scale %w for float<f8E4M3FN> using <absmax, per_channel, axis = 0> : tensor<4x3x3x3xf32> -> tensor<4xf32>
  %rw = qtrain.round %w to float<f8E4M3FN> scale(%sw : tensor<4xf32>) granularity <per_channel, axis = 0> {stream = 4 : i32} : tensor<4x3x3x3xf32>
  %ye = tensor.empty() : tensor<2x4x4x4xf32>
  %yz = linalg.fill ins(%zero : f32) outs(%ye : tensor<2x4x4x4xf32>) -> tensor<2x4x4x4xf32>
  %y = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%rx, %rw : tensor<2x3x9x9xf32>, tensor<4x3x3x3xf32>) outs(%yz : tensor<2x4x4x4xf32>) -> tensor<2x4x4x4xf32>
  %y_ = tensor.cast %y : tensor<2x4x4x4xf32> to tensor<?x?x?x?xf32>
  call @print(%y_) : (tensor<?x?x?x?xf32>) -> ()

  // Activation gradient (stride 1 here): the E5M2 gradient padded by 2 on
  // each side, convolved with the weights flipped and channel-swapped,
  // their per-tensor-scaled rounding.
  %sg = qtrain.compute_scale %g for float<f8E5M2> using <absmax> : tensor<2x4x4x4xf32> -> tensor<f32>
  %rg = qtrain.round %g to float<f8E5M2> scale(%sg : tensor<f32>) rounding stochastic seed(%seed) {stream = 9 : i32} : tensor<2x4x4x4xf32>
  %pe = tensor.empty() : tensor<2x4x8x8xf32>
  %pz = linalg.fill ins(%zero : f32) outs(%pe : tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32>
  %padded = tensor.insert_slice %rg into %pz[0, 0, 2, 2] [2, 4, 4, 4] [1, 1, 1, 1] : tensor<2x4x4x4xf32> into tensor<2x4x8x8xf32>
  %swt = qtrain.compute_scale %w for float<f8E4M3FN> using <absmax> : tensor<4x3x3x3xf32> -> tensor<f32>
  %rwt = qtrain.round %w to float<f8E4M3FN> scale(%swt : tensor<f32>) {stream = 4 : i32} : tensor<4x3x3x3xf32>
  %fe = tensor.empty() : tensor<3x4x3x3xf32>
  %flipped = linalg.generic {indexing_maps = [#flip, #nchw], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%rwt : tensor<4x3x3x3xf32>) outs(%fe : tensor<3x4x3x3xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<3x4x3x3xf32>
  %dxe = tensor.empty() : tensor<2x3x6x6xf32>
  %dxz = linalg.fill ins(%zero : f32) outs(%dxe : tensor<2x3x6x6xf32>) -> tensor<2x3x6x6xf32>
  %dx = linalg.conv_2d_nchw_fchw ins(%padded, %flipped : tensor<2x4x8x8xf32>, tensor<3x4x3x3xf32>) outs(%dxz : tensor<2x3x6x6xf32>) -> tensor<2x3x6x6xf32>
  %dx_ = tensor.cast %dx : tensor<2x3x6x6xf32> to tensor<?x?x?x?xf32>
  call @print(%dx_) : (tensor<?x?x?x?xf32>) -> ()

  // Weight gradient: activations and gradient with batch and channels
  // swapped, stride 2 as dilation: [3,2,9,9] * [4,2,4,4] -> [3,4,3,3].
  %xte = tensor.empty() : tensor<3x2x9x9xf32>
  %xt = linalg.transpose ins(%rx : tensor<2x3x9x9xf32>) outs(%xte : tensor<3x2x9x9xf32>) permutation = [1, 0, 2, 3]
  %gte = tensor.empty() : tensor<4x2x4x4xf32>
  %gt = linalg.transpose ins(%rg : tensor<2x4x4x4xf32>) outs(%gte : tensor<4x2x4x4xf32>) permutation = [1, 0, 2, 3]
  %dwe = tensor.empty() : tensor<3x4x3x3xf32>
  %dwz = linalg.fill ins(%zero : f32) outs(%dwe : tensor<3x4x3x3xf32>) -> tensor<3x4x3x3xf32>
  %dw = linalg.conv_2d_nchw_fchw {dilations = dense<2> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%xt, %gt : tensor<3x2x9x9xf32>, tensor<4x2x4x4xf32>) outs(%dwz : tensor<3x4x3x3xf32>) -> tensor<3x4x3x3xf32>
  %dw_ = tensor.cast %dw : tensor<3x4x3x3xf32> to tensor<?x?x?x?xf32>
  call @print(%dw_) : (tensor<?x?x?x?xf32>) -> ()

  // INT8 training's forward in nhwc/hwcf: unsigned activations with a zero
  // point, signed weights rounded stochastically: [2,9,9,3] * [3,3,3,4].
  %xf = tensor.collapse_shape %x [[0, 1, 2, 3]] : tensor<2x3x9x9xf32> into tensor<486xf32>
  %xn = tensor.expand_shape %xf [[0, 1, 2, 3]] output_shape [2, 9, 9, 3] : tensor<486xf32> into tensor<2x9x9x3xf32>
  %ux, %zx = qtrain.compute_scale %xn for int<8, unsigned> using <minmax> : tensor<2x9x9x3xf32> -> tensor<f32>, tensor<f32>
  %qx = qtrain.round %xn to int<8, unsigned> scale(%ux : tensor<f32>) zero_point(%zx : tensor<f32>) : tensor<2x9x9x3xf32>
  %wf = tensor.collapse_shape %w [[0, 1, 2, 3]] : tensor<4x3x3x3xf32> into tensor<108xf32>
  %wn = tensor.expand_shape %wf [[0, 1, 2, 3]] output_shape [3, 3, 3, 4] : tensor<108xf32> into tensor<3x3x3x4xf32>
  %uw = qtrain.compute_scale %wn for int<8, signed> using <absmax> : tensor<3x3x3x4xf32> -> tensor<f32>
  %qw = qtrain.round %wn to int<8, signed> scale(%uw : tensor<f32>) rounding stochastic seed(%seed) {stream = 5 : i32} : tensor<3x3x3x4xf32>
  %iye = tensor.empty() : tensor<2x7x7x4xf32>
  %iyz = linalg.fill ins(%zero : f32) outs(%iye : tensor<2x7x7x4xf32>) -> tensor<2x7x7x4xf32>
  %iy = linalg.conv_2d_nhwc_hwcf ins(%qx, %qw : tensor<2x9x9x3xf32>, tensor<3x3x3x4xf32>) outs(%iyz : tensor<2x7x7x4xf32>) -> tensor<2x7x7x4xf32>
  %iy_ = tensor.cast %iy : tensor<2x7x7x4xf32> to tensor<?x?x?x?xf32>
  call @print(%iy_) : (tensor<?x?x?x?xf32>) -> ()

  // INT8's activation gradient is asymmetric: padding zeros are no code,
  // the padding uneven; the flipped weights have a zero point too.
  %ug, %zg = qtrain.compute_scale %g for int<8, unsigned> using <minmax> : tensor<2x4x4x4xf32> -> tensor<f32>, tensor<f32>
  %qg = qtrain.round %g to int<8, unsigned> scale(%ug : tensor<f32>) zero_point(%zg : tensor<f32>) : tensor<2x4x4x4xf32>
  %qpadded = tensor.insert_slice %qg into %pz[0, 0, 1, 3] [2, 4, 4, 4] [1, 1, 1, 1] : tensor<2x4x4x4xf32> into tensor<2x4x8x8xf32>
  %sqw, %zqw = qtrain.compute_scale %w for int<8, unsigned> using <minmax> : tensor<4x3x3x3xf32> -> tensor<f32>, tensor<f32>
  %qwt = qtrain.round %w to int<8, unsigned> scale(%sqw : tensor<f32>) zero_point(%zqw : tensor<f32>) : tensor<4x3x3x3xf32>
  %qflipped = linalg.generic {indexing_maps = [#flip, #nchw], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%qwt : tensor<4x3x3x3xf32>) outs(%fe : tensor<3x4x3x3xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<3x4x3x3xf32>
  %qdx = linalg.conv_2d_nchw_fchw ins(%qpadded, %qflipped : tensor<2x4x8x8xf32>, tensor<3x4x3x3xf32>) outs(%dxz : tensor<2x3x6x6xf32>) -> tensor<2x3x6x6xf32>
  %qdx_ = tensor.cast %qdx : tensor<2x3x6x6xf32> to tensor<?x?x?x?xf32>
  call @print(%qdx_) : (tensor<?x?x?x?xf32>) -> ()
  return
}

func.func private @printMemrefF32(memref<*xf32>)
