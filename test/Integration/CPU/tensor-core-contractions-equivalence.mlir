// The forms in which qtrain-lower-to-nvvm hands float qmatmul and qconv2d
// to the tensor cores compute what the portable form (codes decoded to f32
// by the numerics library's integer algorithm, then contracted) computes,
// here on the CPU, with arith.extf through LLVM APFloat:
// - target=tensor-cores (sm_89+): E4M3FN/E5M2 operands are contracted on
//   their codes, widened by arith.extf in the body; other formats that f16
//   holds (HFP8's 1-4-3 with bias 11) are decoded to f16 tensors first;
//   formats that TF32 holds (dlfloat16, HFP8's first and last layers) are
//   decoded to f32 and read as tf32 (truncf to tf32 and extf back); int8
//   codes times bf16 (INT8 training's weight gradients) contract as bf16,
//   the codes decoded to bf16 and the zero point applied after the sum;
// - target=ampere-tensor-cores (sm_80): as tensor-cores, but E4M3FN/E5M2 are
//   decoded to f16 too.
// Cases: batched and transposed operands, every mix of the two FP8 formats,
// HFP8 forward (hfp8 x hfp8), activation-gradient (E5M2 x hfp8) and
// weight-gradient (hfp8 x E5M2) GEMMs, convolutions (E5M2 input, E4M3FN and
// hfp8 filters), a dlfloat16 GEMM and convolution, a u8 (zero point) x
// bf16 GEMM, values from subnormals to the largest finite ones. Products of two 8-bit floats, and of two
// dlfloat16 values, are exact in f32; only the summation order may differ
// (the portable form's sums are vectorized), so the results agree to within
// f32 rounding of the sums (and the 6 digits printed).
// RUN: %run_cpu > %t.portable
// RUN: qtrain-opt %s -convert-qtrain-to-linalg=target=tensor-cores \
// RUN:   -convert-arith-to-apfloat -qtrain-lower-to-cpu=vectorize=false \
// RUN:   | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils.so,%mlir_lib_dir/libmlir_runner_utils.so,%mlir_lib_dir/libmlir_apfloat_wrappers.so \
// RUN:   > %t.codes
// RUN: %qtrain_python -m qtrain.compare_memrefs %t.portable %t.codes --rtol 1e-5 | FileCheck %s --check-prefix=SAME
// RUN: qtrain-opt %s -convert-qtrain-to-linalg=target=ampere-tensor-cores \
// RUN:   -convert-arith-to-apfloat -qtrain-lower-to-cpu=vectorize=false \
// RUN:   | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils.so,%mlir_lib_dir/libmlir_runner_utils.so,%mlir_lib_dir/libmlir_apfloat_wrappers.so \
// RUN:   > %t.f16
// RUN: %qtrain_python -m qtrain.compare_memrefs %t.portable %t.f16 --rtol 1e-5 | FileCheck %s --check-prefix=SAME
// SAME-COUNT-12: worst difference
// SAME-NOT:     worst difference
// The forms are really there (tensor-cores: five contractions on f8
// operands, four on f16, two on f32 read as tf32, one on bf16, none on
// plain f32; ampere-tensor-cores: nine on f16, the two tf32 ones and the
// bf16 one), and the data is not trivial.
// RUN: qtrain-opt %s -convert-qtrain-to-linalg=target=tensor-cores | FileCheck %s --check-prefix=CODES
// RUN: qtrain-opt %s -convert-qtrain-to-linalg=target=ampere-tensor-cores | FileCheck %s --check-prefix=F16
// RUN: FileCheck %s < %t.portable
// CODES-COUNT-5: ^bb0(%{{.+}}: f8E{{.+}}, %{{.+}}: f8E{{.+}}, %{{.+}}: f32):
// CODES-COUNT-4: ^bb0(%{{[^:]+}}: f16, %{{[^:]+}}: f16, %{{[^:]+}}: f32):
// CODES:         ^bb0(%{{[^:]+}}: f32, %{{[^:]+}}: f32, %{{[^:]+}}: f32):
// CODES-NEXT:      arith.truncf %{{.+}} : f32 to tf32
// CODES:         ^bb0(%{{[^:]+}}: f32, %{{[^:]+}}: f32, %{{[^:]+}}: f32):
// CODES-NEXT:      arith.truncf %{{.+}} : f32 to tf32
// CODES:         ^bb0(%{{[^:]+}}: bf16, %{{[^:]+}}: bf16, %{{[^:]+}}: f32):
// CODES-NOT:     ^bb0(%{{[^:]+}}: f32, %{{[^:]+}}: f32, %{{[^:]+}}: f32):
// F16-NOT:       ^bb0(%{{.+}}: f8E{{[^,]+}}, %{{.+}}: f8E{{[^,]+}}, %{{.+}}: f32):
// F16-COUNT-9:   ^bb0(%{{[^:]+}}: f16, %{{[^:]+}}: f16, %{{[^:]+}}: f32):
// F16:           ^bb0(%{{[^:]+}}: f32, %{{[^:]+}}: f32, %{{[^:]+}}: f32):
// F16-NEXT:        arith.truncf %{{.+}} : f32 to tf32
// F16:           ^bb0(%{{[^:]+}}: f32, %{{[^:]+}}: f32, %{{[^:]+}}: f32):
// F16-NEXT:        arith.truncf %{{.+}} : f32 to tf32
// F16:           ^bb0(%{{[^:]+}}: bf16, %{{[^:]+}}: bf16, %{{[^:]+}}: f32):
// F16-NOT:       ^bb0(%{{[^:]+}}: f32, %{{[^:]+}}: f32, %{{[^:]+}}: f32):
// CHECK: Unranked Memref base@ = {{.+}} rank = 3 offset = 0 sizes = [2, 24, 16]
// CHECK-NOT: nan
// CHECK: Unranked Memref base@ = {{.+}} rank = 2 offset = 0 sizes = [24, 16]
// CHECK: Unranked Memref base@ = {{.+}} rank = 4 offset = 0 sizes = [2, 4, 4, 37]

#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>

// Values spread over [-2^e, 2^e] for e from -12 to 11 (as i, j, l vary):
// f(i, j, l) = ((h mod 201) - 100) / 100 * 2^((h mod 24) - 12),
// h = 7919 i + 104729 j + 15485863 l.
func.func @pattern3(%salt: index) -> tensor<2x24x40xf32> {
  %e = tensor.empty() : tensor<2x24x40xf32>
  %r = linalg.generic {indexing_maps = [#id3], iterator_types = ["parallel", "parallel", "parallel"]} outs(%e : tensor<2x24x40xf32>) {
  ^bb0(%out: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %l = linalg.index 2 : index
    %v = func.call @value(%i, %j, %l, %salt) : (index, index, index, index) -> f32
    linalg.yield %v : f32
  } -> tensor<2x24x40xf32>
  return %r : tensor<2x24x40xf32>
}

func.func @pattern2(%salt: index) -> tensor<40x24xf32> {
  %c0 = arith.constant 0 : index
  %e = tensor.empty() : tensor<40x24xf32>
  %r = linalg.generic {indexing_maps = [#id2], iterator_types = ["parallel", "parallel"]} outs(%e : tensor<40x24xf32>) {
  ^bb0(%out: f32):
    %j = linalg.index 0 : index
    %l = linalg.index 1 : index
    %v = func.call @value(%c0, %j, %l, %salt) : (index, index, index, index) -> f32
    linalg.yield %v : f32
  } -> tensor<40x24xf32>
  return %r : tensor<40x24xf32>
}

func.func @value(%i: index, %j: index, %l: index, %salt: index) -> f32 {
  %c7919 = arith.constant 7919 : index
  %c104729 = arith.constant 104729 : index
  %c15485863 = arith.constant 15485863 : index
  %c201 = arith.constant 201 : index
  %c24 = arith.constant 24 : index
  %a = arith.muli %i, %c7919 : index
  %b = arith.muli %j, %c104729 : index
  %c = arith.muli %l, %c15485863 : index
  %ab = arith.addi %a, %b : index
  %abc = arith.addi %ab, %c : index
  %h = arith.addi %abc, %salt : index
  %m = arith.remui %h, %c201 : index
  %x = arith.remui %h, %c24 : index
  %m64 = arith.index_cast %m : index to i64
  %x64 = arith.index_cast %x : index to i64
  %mf = arith.sitofp %m64 : i64 to f32
  %c100 = arith.constant 100.0 : f32
  %centered = arith.subf %mf, %c100 : f32
  %unit = arith.divf %centered, %c100 : f32
  %c12 = arith.constant 12 : i64
  %ex = arith.subi %x64, %c12 : i64
  %exf = arith.sitofp %ex : i64 to f32
  %p = math.exp2 %exf : f32
  %v = arith.mulf %unit, %p : f32
  return %v : f32
}

func.func @print3(%t: tensor<2x24x16xf32>) {
  %m = bufferization.to_buffer %t : tensor<2x24x16xf32> to memref<2x24x16xf32>
  %u = memref.cast %m : memref<2x24x16xf32> to memref<*xf32>
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

func.func @print2(%t: tensor<24x16xf32>) {
  %m = bufferization.to_buffer %t : tensor<24x16xf32> to memref<24x16xf32>
  %u = memref.cast %m : memref<24x16xf32> to memref<*xf32>
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

func.func @print4(%t: tensor<2x4x4x37xf32>) {
  %m = bufferization.to_buffer %t : tensor<2x4x4x37xf32> to memref<2x4x4x37xf32>
  %u = memref.cast %m : memref<2x4x4x37xf32> to memref<*xf32>
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

func.func @main() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %x = call @pattern3(%c0) : (index) -> tensor<2x24x40xf32>
  %y = call @pattern3(%c1) : (index) -> tensor<2x24x40xf32>
  %one = arith.constant dense<1.0> : tensor<f32>
  %a4 = qtrain.quantize %x to float<f8E4M3FN> : tensor<2x24x40xf32> -> tensor<2x24x40xf8E4M3FN>
  %a5 = qtrain.quantize %x to float<f8E5M2> : tensor<2x24x40xf32> -> tensor<2x24x40xf8E5M2>
  %yt = tensor.extract_slice %y[0, 0, 0] [2, 16, 40] [1, 1, 1] : tensor<2x24x40xf32> to tensor<2x16x40xf32>
  %b4 = qtrain.quantize %yt to float<f8E4M3FN> : tensor<2x16x40xf32> -> tensor<2x16x40xf8E4M3FN>
  %b5 = qtrain.quantize %yt to float<f8E5M2> : tensor<2x16x40xf32> -> tensor<2x16x40xf8E5M2>
  // Batched, rhs stored n x k: E4M3FN x E5M2 and E5M2 x E4M3FN.
  %r1 = qtrain.qmatmul %a4, %b5 lhs(float<f8E4M3FN>, scale %one : tensor<f32>) rhs(float<f8E5M2> transposed, scale %one : tensor<f32>) accumulate f32 : tensor<2x24x40xf8E4M3FN>, tensor<2x16x40xf8E5M2> -> tensor<2x24x16xf32>
  call @print3(%r1) : (tensor<2x24x16xf32>) -> ()
  %r2 = qtrain.qmatmul %a5, %b4 lhs(float<f8E5M2>, scale %one : tensor<f32>) rhs(float<f8E4M3FN> transposed, scale %one : tensor<f32>) accumulate f32 : tensor<2x24x40xf8E5M2>, tensor<2x16x40xf8E4M3FN> -> tensor<2x24x16xf32>
  call @print3(%r2) : (tensor<2x24x16xf32>) -> ()
  // Unbatched, lhs stored k x m and rhs k x n (the weight-gradient form),
  // with a per-channel scale: E4M3FN x E4M3FN and E5M2 x E5M2.
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %xk = call @pattern2(%c2) : (index) -> tensor<40x24xf32>
  %y2 = call @pattern2(%c3) : (index) -> tensor<40x24xf32>
  %yk = tensor.extract_slice %y2[0, 0] [40, 16] [1, 1] : tensor<40x24xf32> to tensor<40x16xf32>
  %c4 = qtrain.quantize %xk to float<f8E4M3FN> : tensor<40x24xf32> -> tensor<40x24xf8E4M3FN>
  %d4 = qtrain.quantize %yk to float<f8E4M3FN> : tensor<40x16xf32> -> tensor<40x16xf8E4M3FN>
  %c5 = qtrain.quantize %xk to float<f8E5M2> : tensor<40x24xf32> -> tensor<40x24xf8E5M2>
  %d5 = qtrain.quantize %yk to float<f8E5M2> : tensor<40x16xf32> -> tensor<40x16xf8E5M2>
  %sn = arith.constant dense<[1.0, 0.5, 2.0, 0.25, 4.0, 1.0, 1.0, 8.0, 1.0, 0.125, 1.0, 1.0, 16.0, 1.0, 1.0, 0.0625]> : tensor<16xf32>
  %r3 = qtrain.qmatmul %c4, %d4 lhs(float<f8E4M3FN> transposed, scale %one : tensor<f32>) rhs(float<f8E4M3FN>, scale %sn : tensor<16xf32> granularity <per_channel, axis = 1>) accumulate f32 : tensor<40x24xf8E4M3FN>, tensor<40x16xf8E4M3FN> -> tensor<24x16xf32>
  call @print2(%r3) : (tensor<24x16xf32>) -> ()
  %r4 = qtrain.qmatmul %c5, %d5 lhs(float<f8E5M2> transposed, scale %one : tensor<f32>) rhs(float<f8E5M2>, scale %one : tensor<f32>) accumulate f32 : tensor<40x24xf8E5M2>, tensor<40x16xf8E5M2> -> tensor<24x16xf32>
  call @print2(%r4) : (tensor<24x16xf32>) -> ()
  // A convolution: E5M2 input [2, 4, 6, 40], E4M3FN filter [4, 4, 3, 4].
  %in = tensor.expand_shape %a5 [[0], [1, 2], [3]] output_shape [2, 4, 6, 40] : tensor<2x24x40xf8E5M2> into tensor<2x4x6x40xf8E5M2>
  %f0 = tensor.extract_slice %b4[0, 0, 0] [1, 16, 12] [1, 1, 1] : tensor<2x16x40xf8E4M3FN> to tensor<16x12xf8E4M3FN>
  %f = tensor.expand_shape %f0 [[0, 1], [2, 3]] output_shape [4, 4, 3, 4] : tensor<16x12xf8E4M3FN> into tensor<4x4x3x4xf8E4M3FN>
  %r5 = qtrain.qconv2d %in, %f input(float<f8E5M2>, scale %one : tensor<f32>) filter(float<f8E4M3FN>, scale %one : tensor<f32>) accumulate f32 : tensor<2x4x6x40xf8E5M2>, tensor<4x4x3x4xf8E4M3FN> -> tensor<2x4x4x37xf32>
  call @print4(%r5) : (tensor<2x4x4x37xf32>) -> ()
  // HFP8 (finite-only 1-4-3, bias 11: 2^-13 to 30), the values scaled by
  // 1/64 so that they span its range: forward (hfp8 x hfp8), activation
  // gradient (E5M2 x hfp8) and weight gradient (hfp8 x E5M2) GEMMs, and an
  // E5M2 x hfp8 convolution.
  %s64 = arith.constant dense<64.0> : tensor<f32>
  %ah = qtrain.quantize %x to float<hfp8_e4m3> scale(%s64 : tensor<f32>) : tensor<2x24x40xf32> -> tensor<2x24x40xi8>
  %bh = qtrain.quantize %yt to float<hfp8_e4m3> scale(%s64 : tensor<f32>) : tensor<2x16x40xf32> -> tensor<2x16x40xi8>
  %r6 = qtrain.qmatmul %ah, %bh lhs(float<hfp8_e4m3>, scale %s64 : tensor<f32>) rhs(float<hfp8_e4m3> transposed, scale %s64 : tensor<f32>) accumulate f32 : tensor<2x24x40xi8>, tensor<2x16x40xi8> -> tensor<2x24x16xf32>
  call @print3(%r6) : (tensor<2x24x16xf32>) -> ()
  %r7 = qtrain.qmatmul %a5, %bh lhs(float<f8E5M2>, scale %one : tensor<f32>) rhs(float<hfp8_e4m3> transposed, scale %s64 : tensor<f32>) accumulate f32 : tensor<2x24x40xf8E5M2>, tensor<2x16x40xi8> -> tensor<2x24x16xf32>
  call @print3(%r7) : (tensor<2x24x16xf32>) -> ()
  %ch = qtrain.quantize %xk to float<hfp8_e4m3> scale(%s64 : tensor<f32>) : tensor<40x24xf32> -> tensor<40x24xi8>
  %r8 = qtrain.qmatmul %ch, %d5 lhs(float<hfp8_e4m3> transposed, scale %s64 : tensor<f32>) rhs(float<f8E5M2>, scale %one : tensor<f32>) accumulate f32 : tensor<40x24xi8>, tensor<40x16xf8E5M2> -> tensor<24x16xf32>
  call @print2(%r8) : (tensor<24x16xf32>) -> ()
  %fh0 = tensor.extract_slice %bh[0, 0, 0] [1, 16, 12] [1, 1, 1] : tensor<2x16x40xi8> to tensor<16x12xi8>
  %fh = tensor.expand_shape %fh0 [[0, 1], [2, 3]] output_shape [4, 4, 3, 4] : tensor<16x12xi8> into tensor<4x4x3x4xi8>
  %r9 = qtrain.qconv2d %in, %fh input(float<f8E5M2>, scale %one : tensor<f32>) filter(float<hfp8_e4m3>, scale %s64 : tensor<f32>) accumulate f32 : tensor<2x4x6x40xf8E5M2>, tensor<4x4x3x4xi8> -> tensor<2x4x4x37xf32>
  call @print4(%r9) : (tensor<2x4x4x37xf32>) -> ()
  // dlfloat16 (1-6-9, bias 31, no subnormals), in i16: HFP8's first and
  // last layers. A weight-gradient GEMM and a convolution.
  %cl = qtrain.quantize %xk to float<dlfloat16> : tensor<40x24xf32> -> tensor<40x24xi16>
  %dl = qtrain.quantize %yk to float<dlfloat16> : tensor<40x16xf32> -> tensor<40x16xi16>
  %r10 = qtrain.qmatmul %cl, %dl lhs(float<dlfloat16> transposed, scale %one : tensor<f32>) rhs(float<dlfloat16>, scale %one : tensor<f32>) accumulate f32 : tensor<40x24xi16>, tensor<40x16xi16> -> tensor<24x16xf32>
  call @print2(%r10) : (tensor<24x16xf32>) -> ()
  %xl = tensor.expand_shape %x [[0], [1, 2], [3]] output_shape [2, 4, 6, 40] : tensor<2x24x40xf32> into tensor<2x4x6x40xf32>
  %il = qtrain.quantize %xl to float<dlfloat16> : tensor<2x4x6x40xf32> -> tensor<2x4x6x40xi16>
  %fl0 = tensor.extract_slice %yt[0, 0, 0] [1, 16, 12] [1, 1, 1] : tensor<2x16x40xf32> to tensor<16x12xf32>
  %fl1 = tensor.expand_shape %fl0 [[0, 1], [2, 3]] output_shape [4, 4, 3, 4] : tensor<16x12xf32> into tensor<4x4x3x4xf32>
  %fl = qtrain.quantize %fl1 to float<dlfloat16> : tensor<4x4x3x4xf32> -> tensor<4x4x3x4xi16>
  %r11 = qtrain.qconv2d %il, %fl input(float<dlfloat16>, scale %one : tensor<f32>) filter(float<dlfloat16>, scale %one : tensor<f32>) accumulate f32 : tensor<2x4x6x40xi16>, tensor<4x4x3x4xi16> -> tensor<2x4x4x37xf32>
  call @print4(%r11) : (tensor<2x4x4x37xf32>) -> ()
  // INT8 training's weight gradient: an unsigned 8-bit activation with a
  // zero point, stored k x m, times a bf16 gradient.
  %s16 = arith.constant dense<16.0> : tensor<f32>
  %z = arith.constant dense<121.0> : tensor<f32>
  %ua = qtrain.quantize %xk to int<8, unsigned> scale(%s16 : tensor<f32>) zero_point(%z : tensor<f32>) : tensor<40x24xf32> -> tensor<40x24xi8>
  %gb = qtrain.quantize %yk to float<bf16> : tensor<40x16xf32> -> tensor<40x16xbf16>
  %r12 = qtrain.qmatmul %ua, %gb lhs(int<8, unsigned> transposed, scale %s16 : tensor<f32> zero_point %z : tensor<f32>) rhs(float<bf16>, scale %one : tensor<f32>) accumulate f32 : tensor<40x24xi8>, tensor<40x16xbf16> -> tensor<24x16xf32>
  call @print2(%r12) : (tensor<24x16xf32>) -> ()
  return
}

func.func private @printMemrefF32(memref<*xf32>)
