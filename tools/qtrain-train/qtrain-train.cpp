//===- qtrain-train.cpp - Train models on Fashion-MNIST through qtrain ----===//
//
// Reads a model in qtrain's input contract (docs/training.md), rewrites it
// into a training step with qtrain-training-step for a recipe, compiles the
// step and the model's `_logits` evaluation function with
// qtrain-lower-to-cpu (or qtrain-lower-to-nvvm with --device=cuda, the GPU
// emulator with --device=gpu-emulator) and
// mlir::ExecutionEngine, and trains on Fashion-MNIST.
// With several recipes it trains each from the same initialization and
// prints a comparison table.
//
//===----------------------------------------------------------------------===//

#include "BatchQueue.h"
#include "Dataset.h"
#include "FlatBuffer.h"
#include "ParameterFile.h"
#include "StepModule.h"

#include "qtrain/Dialect/QTrain/IR/Roles.h"
#include "qtrain/InitAllPasses.h"
#include "qtrain/Pipelines/Pipelines.h"
#include "qtrain/Runtime/CudaDevice.h"

#include "mlir/InitAllPasses.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cmath>
#include <numeric>
#include <optional>

using namespace mlir;
using namespace ::qtrain::train;
using mlir::qtrain::ArgRole;
using mlir::qtrain::RecipeKind;
namespace cl = llvm::cl;

// Only these appear in --help, not the LLVM options linked in with MLIR.
static cl::OptionCategory trainOptions("qtrain-train options");
static cl::opt<std::string> modelFile(cl::cat(trainOptions), cl::Positional,
                                      cl::Required, cl::desc("<model.mlir>"));
static cl::list<RecipeKind> recipes(
    cl::cat(trainOptions), "recipe", cl::CommaSeparated,
    cl::desc("Recipes to train with (several: a comparison table)"),
    cl::values(clEnumValN(RecipeKind::fp32, "fp32", "no quantization"),
               clEnumValN(RecipeKind::int8, "int8", "Banner et al. 2018"),
               clEnumValN(RecipeKind::hfp8, "hfp8", "Sun et al. 2019"),
               clEnumValN(RecipeKind::fp8, "fp8", "E4M3 / E5M2 with scales"),
               clEnumValN(RecipeKind::bf16, "bf16",
                          "bf16 mixed precision (the 16-bit baseline)")));
enum class DeviceKind { cpu, cuda, gpuEmulator };
static cl::opt<DeviceKind> device(
    cl::cat(trainOptions), "device", cl::desc("Where the training step runs"),
    cl::init(DeviceKind::cpu),
    cl::values(clEnumValN(DeviceKind::cpu, "cpu",
                          "the host CPU (qtrain-lower-to-cpu)"),
               clEnumValN(DeviceKind::cuda, "cuda",
                          "CUDA GPU 0 (qtrain-lower-to-nvvm, kernels for "
                          "its chip)"),
               clEnumValN(DeviceKind::gpuEmulator, "gpu-emulator",
                          "the GPU kernels for --chip, run on CPU threads "
                          "(qtrain-lower-to-gpu-emulator; slow, for "
                          "testing)")));
// Managed by default on a GPU: device buffers crashed training steps on an
// H100 (docs/gpu.md); the emulator, whose guard finds no host access to
// device memory in them, tests them with device buffers.
static cl::opt<mlir::qtrain::GPUBufferMemory> gpuMemory(
    cl::cat(trainOptions), "gpu-memory",
    cl::desc("Where the GPU step's buffers are (--device=cuda, gpu-emulator)"),
    cl::init(mlir::qtrain::GPUBufferMemory::managed),
    mlir::qtrain::gpuBufferMemoryValues());

static cl::opt<bool> gpuAsyncLaunches(
    cl::cat(trainOptions), "gpu-async-launches",
    cl::desc("Queue each GPU step's kernels on one stream, the host waiting "
             "only for results (--device=cuda; false: after each kernel)"),
    cl::init(true));

static cl::opt<bool> gpuOverlapSteps(
    cl::cat(trainOptions), "gpu-overlap-steps",
    cl::desc("Queue each step (batch upload, kernels, loss download) before "
             "waiting for the one before, reading losses a step late "
             "(--device=cuda; false: each step waits for its loss)"),
    cl::init(true));

static cl::opt<bool> gpuStepGraphs(
    cl::cat(trainOptions), "gpu-step-graphs",
    cl::desc("Record a step's queued work once for each way round of the "
             "two step buffers (a CUDA graph) and replay it, one driver call "
             "a step (--device=cuda with overlapped steps; steps without a "
             "seed argument; not yet timed on a GPU)"),
    cl::init(false));

static cl::opt<bool> gpuWGMMATMALoads(
    cl::cat(trainOptions), "gpu-wgmma-tma-loads",
    cl::desc("sm_90a GEMMs copy operand tiles with TMA from a producer warp "
             "(--device=cuda, gpu-emulator; false: cp.async from every "
             "thread)"),
    cl::init(true));

static cl::opt<bool> gpuReassociateFloatSums(
    cl::cat(trainOptions), "gpu-reassociate-float-sums",
    cl::desc("Sum reductions' floats in any order, as partial sums "
             "(--device=cuda, gpu-emulator; false: the CPU's order, one "
             "thread an output)"),
    cl::init(true));

static cl::opt<bool> gpuKMajorGEMMOperands(
    cl::cat(trainOptions), "gpu-k-major-gemm-operands",
    cl::desc("Elementwise kernels also store the k x n and k x m operands "
             "of tensor-core GEMMs k innermost, for asynchronous tile "
             "copies (--device=cuda, gpu-emulator; false: the GEMMs read "
             "them through registers)"),
    cl::init(true));

static cl::opt<mlir::qtrain::GPUChip> emulatedChip(
    cl::cat(trainOptions), "chip",
    cl::desc("The GPU whose kernels --device=gpu-emulator runs"),
    cl::init(mlir::qtrain::GPUChip::sm_89),
    cl::values(clEnumValN(mlir::qtrain::GPUChip::sm_80, "sm_80", "Ampere"),
               clEnumValN(mlir::qtrain::GPUChip::sm_89, "sm_89", "Ada"),
               clEnumValN(mlir::qtrain::GPUChip::sm_90a, "sm_90a",
                          "Hopper with wgmma")));
static cl::opt<int> epochs(cl::cat(trainOptions), "epochs",
                           cl::desc("Passes over the data"), cl::init(1));
static cl::opt<double> learningRate(cl::cat(trainOptions), "lr",
                                    cl::desc("Learning rate"), cl::init(0.05));
static cl::opt<double> momentum(cl::cat(trainOptions), "momentum",
                                cl::desc("SGD momentum"), cl::init(0.9));
enum class Schedule { constant, cosine };
static cl::opt<Schedule> schedule(
    cl::cat(trainOptions), "schedule",
    cl::desc("Learning-rate schedule over the whole run"),
    cl::init(Schedule::cosine),
    cl::values(clEnumValN(Schedule::constant, "constant", "lr throughout"),
               clEnumValN(Schedule::cosine, "cosine",
                          "lr * (1 + cos(pi * step / steps)) / 2")));
static cl::opt<double> weightDecay(cl::cat(trainOptions), "weight-decay",
                                   cl::desc("L2 decay"), cl::init(0.0));
static cl::opt<mlir::qtrain::RangeBatchNormMode> rangeBatchNorm(
    cl::cat(trainOptions), "range-bn",
    cl::desc("Replace batch norm by Range BN"),
    cl::init(mlir::qtrain::RangeBatchNormMode::recipe),
    cl::values(clEnumValN(mlir::qtrain::RangeBatchNormMode::recipe, "recipe",
                          "as the recipe says (int8 only)"),
               clEnumValN(mlir::qtrain::RangeBatchNormMode::on, "on", "always"),
               clEnumValN(mlir::qtrain::RangeBatchNormMode::off, "off",
                          "never")));
static cl::opt<int64_t> rangeBatchNormChunks(
    cl::cat(trainOptions), "range-bn-chunks",
    cl::desc("Chunks of the batch whose ranges Range BN averages"),
    cl::init(16));
static cl::opt<mlir::qtrain::RangeConstant> rangeBatchNormConstant(
    cl::cat(trainOptions), "range-bn-constant", cl::desc("Range BN's C(n)"),
    cl::init(mlir::qtrain::RangeConstant::reference),
    cl::values(clEnumValN(mlir::qtrain::RangeConstant::paper, "paper",
                          "1 / sqrt(2 ln n)"),
               clEnumValN(mlir::qtrain::RangeConstant::reference, "reference",
                          "the reference code's constant")));
static cl::list<int64_t> activationBitsList(
    cl::cat(trainOptions), "activation-bits",
    cl::desc("Keep the batch-norm + ReLU activations saved for backward in "
             "4 or 8 bits (0: exact); several: each recipe with each"),
    cl::CommaSeparated);
static cl::opt<int64_t>
    amaxHistory(cl::cat(trainOptions), "amax-history",
                cl::desc("Delayed scaling of the per-tensor absmax specs "
                         "(fp8) over the amaxes of the last N steps"),
                cl::init(0));
static cl::opt<mlir::qtrain::ParamInit> defaultInit(
    cl::cat(trainOptions), "init",
    cl::desc("Initialization of weights without a qtrain.init"),
    cl::init(mlir::qtrain::ParamInit::he_normal),
    cl::values(clEnumValN(mlir::qtrain::ParamInit::he_normal, "he",
                          "normal, variance 2 / fan-in"),
               clEnumValN(mlir::qtrain::ParamInit::glorot_uniform, "glorot",
                          "uniform, variance 2 / (fan-in + fan-out)")));
static cl::opt<unsigned> seed(cl::cat(trainOptions), "seed",
                              cl::desc("Initialization and shuffle"),
                              cl::init(1));
static cl::opt<int64_t> trainLimit(cl::cat(trainOptions), "train-limit",
                                   cl::desc("Use the first N training images"),
                                   cl::init(0));
static cl::opt<int64_t> testLimit(cl::cat(trainOptions), "test-limit",
                                  cl::desc("Use the first N test images"),
                                  cl::init(0));
static cl::opt<std::string>
    dataDir(cl::cat(trainOptions), "data",
            cl::desc("Directory of the Fashion-MNIST idx.gz files"),
            cl::init("/usr/share/datasets/fashion-mnist"));
static cl::opt<std::string> csvFile(cl::cat(trainOptions), "csv",
                                    cl::desc("Append a CSV log here"));
static cl::opt<bool> dumpIR(cl::cat(trainOptions), "dump-ir",
                            cl::desc("Print the IR of each stage: the "
                                     "model, the training step, the lowered "
                                     "code"));
static cl::opt<std::string> saveFile(cl::cat(trainOptions), "save",
                                     cl::desc("Save the trained parameters"));
static cl::opt<std::string> loadFile(cl::cat(trainOptions), "load",
                                     cl::desc("Start from saved parameters"));

namespace {

struct Result {
  double accuracy = 0, msPerStep = 0, finalLoss = 0;
  int64_t savedBytes = 0;
  int64_t stepBufferBytes = 0; // peak of a step's buffers
};

/// A recipe and how the activations saved for backward are stored.
struct Config {
  RecipeKind recipe;
  int64_t activationBits;
};

using StepFn = void (*)(StridedMemRefType<float, 1> *,
                        StridedMemRefType<float, 1> *);
using SeededStepFn = void (*)(StridedMemRefType<float, 1> *,
                              StridedMemRefType<float, 1> *, int64_t);

} // namespace

/// What --device names (set in main once the GPU is found).
static ::qtrain::runtime::Target target;

/// Test accuracy of the parameters at `params`' slots of the step's input
/// buffer (on the device, where the step left them).
static std::optional<double>
evaluate(StepModule &c, const std::string &model,
         const ::qtrain::runtime::DeviceMemory &memory,
         const FlatBuffer &stepIn, ArrayRef<const Slot *> params,
         const Split &test, int64_t limit, std::string &error) {
  auto logitsFn = c.jit->lookup<StepFn>(model + "_logits_flat");
  int64_t n = limit ? std::min(limit, test.count) : test.count;
  n -= n % c.evalBatch;
  std::vector<int64_t> order(test.count);
  std::iota(order.begin(), order.end(), 0);
  // The logits function's input: the parameters, then the images.
  const ::qtrain::runtime::FlatLayout &layout = c.logitsLayout;
  std::vector<Span> spans;
  for (auto [i, s] : llvm::enumerate(params))
    spans.push_back({s->offset, layout.arguments[i], s->size});
  int64_t imagesAt = layout.arguments.back();
  FlatBuffer in(memory, layout.inSize);
  FlatBuffer logits(memory, layout.outSize);
  if (!in.valid() || !logits.valid()) {
    error = "out of device memory for the evaluation buffers";
    return std::nullopt;
  }
  in.copyFrom(stepIn, spans);
  int64_t correct = 0;
  for (int64_t first = 0; first < n; first += c.evalBatch) {
    normalizeImages(test, order, first, c.evalBatch, &in.host[imagesAt]);
    in.upload(imagesAt, c.evalBatch * c.pixels);
    auto a = in.memref();
    auto r = logits.memref();
    logitsFn(&a, &r);
    logits.download(0, logits.host.size());
    for (int64_t b = 0; b < c.evalBatch; ++b) {
      const float *row = &logits.host[b * c.classes];
      int64_t best = std::max_element(row, row + c.classes) - row;
      correct += best == test.labels[first + b];
    }
  }
  return n ? double(correct) / double(n) : 0.0;
}

/// "fp32", or "fp32+a4" with 4-bit activations.
static std::string configName(Config config) {
  std::string name = recipeName(config.recipe);
  if (config.activationBits)
    name += "+a" + std::to_string(config.activationBits);
  return name;
}

/// Whether a kernel launch or copy of the GPU runtime failed since the last
/// call (compiled code cannot see the errors), with the first in `error`.
static bool gpuFailed(std::string &error) {
  if (device != DeviceKind::cuda)
    return false;
  if (llvm::Error failure = ::qtrain::runtime::takeCudaError()) {
    error = llvm::toString(std::move(failure));
    return true;
  }
  return false;
}

static bool train(const std::string &source, Config config,
                  const Split &trainSet, const Split &testSet, Result &result,
                  std::string &error) {
  RecipeKind recipe = config.recipe;
  StepModuleOptions options;
  options.step.recipe = recipe;
  options.step.momentum = momentum;
  options.step.weightDecay = weightDecay;
  options.step.rangeBatchNorm = rangeBatchNorm;
  options.step.amaxHistory = amaxHistory;
  options.step.activationBits = config.activationBits;
  options.step.rangeBatchNormChunks = rangeBatchNormChunks;
  options.step.rangeBatchNormConstant = rangeBatchNormConstant;
  options.target = target;
  options.sourceName = modelFile;
  options.dumpIR = dumpIR;
  StepModule c;
  if (!compileStepModule(source, options, c, error))
    return false;
  const std::string &model = c.name;
  StepFn step = nullptr;
  SeededStepFn seededStep = nullptr;
  if (c.hasSeed)
    seededStep = c.jit->lookup<SeededStepFn>(model + "_step_flat");
  else
    step = c.jit->lookup<StepFn>(model + "_step_flat");

  auto memory = ::qtrain::runtime::DeviceMemory::open(target);
  if (!memory) {
    error = llvm::toString(memory.takeError());
    return false;
  }
  // Each step reads one buffer and writes its results into the other, in
  // the same places (compile's resultArguments); the next step reads that
  // one.
  // Page-locked, for the batch's and the loss's queued copies.
  FlatBuffer buffers[2] = {
      FlatBuffer(*memory, c.stepLayout.inSize, /*pinned=*/true),
      FlatBuffer(*memory, c.stepLayout.inSize, /*pinned=*/true)};
  if (!buffers[0].valid() || !buffers[1].valid()) {
    error = "out of device memory for the training step's buffers";
    return false;
  }
  FlatBuffer *in = &buffers[0], *out = &buffers[1];
  initializeParameters(c, in->host, defaultInit, seed);
  const Slot *images = nullptr, *labels = nullptr, *lrSlot = nullptr;
  std::vector<const Slot *> params, states;
  for (const Slot &s : c.slots) {
    switch (s.role) {
    case ArgRole::parameter:
      params.push_back(&s);
      break;
    case ArgRole::state:
      states.push_back(&s);
      break;
    case ArgRole::input:
      images = &s;
      break;
    case ArgRole::label:
      labels = &s;
      break;
    case ArgRole::learning_rate:
      lrSlot = &s;
      break;
    default:
      break;
    }
  }
  if (!images || !labels || !lrSlot) {
    error = "the model needs an images argument (#qtrain<role input>) and a "
            "one-hot labels argument (#qtrain<role label>)";
    return false;
  }
  // The loss scale (second-to-last state under loss scaling) starts at 2^16.
  if (mlir::qtrain::needsLossScaling(recipe) && states.size() >= 2)
    in->host[states[states.size() - 2]->offset] = 65536.0f;
  auto gatherParams = [&] {
    std::vector<float> p;
    for (const Slot *s : params) {
      in->download(s->offset, s->size);
      p.insert(p.end(), in->host.begin() + s->offset,
               in->host.begin() + s->offset + s->size);
    }
    return p;
  };
  if (!loadFile.empty()) {
    std::vector<float> p = gatherParams();
    if (!loadParams(loadFile, p, error))
      return false;
    int64_t at = 0;
    for (const Slot *s : params) {
      std::copy(p.begin() + at, p.begin() + at + s->size,
                in->host.begin() + s->offset);
      at += s->size;
    }
  }
  // From here on the step's input lives on the device: each step uploads
  // its batch and learning rate, and its results become the next step's
  // arguments there. Arguments that no step writes keep their values in
  // both buffers.
  std::copy(in->host.begin(), in->host.end(), out->host.begin());
  for (FlatBuffer *buffer : {in, out})
    buffer->upload(0, c.stepLayout.inSize);
  int64_t lossAt = c.stepLayout.results[0];

  int64_t batch = images->shape[0];
  int64_t n = trainLimit ? std::min<int64_t>(trainLimit, trainSet.count)
                         : trainSet.count;
  int64_t stepsPerEpoch = n / batch;
  auto rateAt = [totalSteps = epochs * stepsPerEpoch,
                 cosine = schedule == Schedule::cosine,
                 rate = double(learningRate)](int64_t step) {
    double progress = double(step) / double(totalSteps);
    return float(cosine ? rate * 0.5 * (1 + std::cos(M_PI * progress)) : rate);
  };
  BatchQueue batches(*memory, trainSet,
                     {images->offset, labels->offset, lrSlot->offset, batch,
                      labels->size / batch,
                      slotRuns(c.slots, {images, labels, lrSlot})},
                     n, epochs, seed, rateAt);
  bool tty = llvm::sys::Process::StandardOutIsDisplayed();
  std::unique_ptr<llvm::raw_fd_ostream> csv;
  if (!csvFile.empty()) {
    std::error_code ec;
    bool fresh = !llvm::sys::fs::exists(csvFile);
    csv = std::make_unique<llvm::raw_fd_ostream>(csvFile, ec,
                                                 llvm::sys::fs::OF_Append);
    if (ec) {
      error = csvFile + ": " + ec.message();
      return false;
    }
    if (fresh)
      *csv << "recipe,epoch,step,train_loss,test_accuracy,ms_per_step\n";
  }
  std::string name = configName(config);
  // The first step is a warm-up, not timed where later steps are: on a
  // GPU it loads each kernel (lazily, at its first launch) and fills the
  // buffer cache from the driver. A step is timed from its batch's upload
  // on (BatchQueue's thread prepares it, and may make the upload wait);
  // where steps overlap, steps are timed together.
  using Clock = std::chrono::steady_clock;
  double stepSeconds = 0;
  int64_t timedSteps = 0;
  int64_t stepBufferBytes = 0;
  int64_t globalStep = 0;
  bool overlap = gpuOverlapSteps && !memory->isHost();
  // Queued copies to and from pageable memory make the host wait.
  if (overlap && !(buffers[0].isPinned() && buffers[1].isPinned()))
    llvm::errs() << "qtrain-train: warning: the device cannot page-lock the "
                    "step's buffers; each step waits for its loss\n";
  // The step whose loss is not yet read: where steps overlap, the host
  // queues step s and then waits for step s - 1's loss, so that the device
  // has step s to run while the host prepares step s + 1.
  struct Pending {
    ::qtrain::runtime::DeviceMemory::Fence fence;
    const FlatBuffer *results;
  };
  std::optional<Pending> pending;
  // Recorded steps, one for each way round of the buffers (the step's
  // arguments): recorded at the first step after steps 0 and 1, which run
  // as called (kernels load, tensor maps are made, the block cache fills),
  // and replayed from then on. A seeded step's seed changes every step: it
  // is never recorded.
  bool recordSteps = gpuStepGraphs && overlap && !seededStep;
  ::qtrain::runtime::DeviceMemory::Recording recorded[2] = {nullptr, nullptr};
  int64_t replayedSteps = 0;
  llvm::scope_exit forgetRecorded([&] {
    for (auto recording : recorded)
      memory->forget(recording);
  });
  auto runStep = [&](StridedMemRefType<float, 1> *a,
                     StridedMemRefType<float, 1> *r) {
    if (seededStep) {
      seededStep(a, r, globalStep);
      return;
    }
    auto &recording = recorded[in == &buffers[0] ? 0 : 1];
    if (recordSteps && !recording && globalStep >= 2) {
      recordSteps = memory->record(); // false: the device cannot
      if (recordSteps) {
        step(a, r);
        recording = memory->endRecording();
        if (!recording)
          return; // not run: the device's error stops the loop
      }
    }
    if (recording) {
      memory->replay(recording);
      ++replayedSteps;
    } else {
      step(a, r);
    }
  };
  double lossSum = 0;
  int64_t losses = 0;
  auto readLoss = [&] {
    memory->wait(pending->fence);
    batches.release(); // the step's batch was uploaded before it
    lossSum += pending->results->host[lossAt];
    ++losses;
    pending.reset();
  };
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    lossSum = 0;
    losses = 0;
    Clock::time_point timedFrom = Clock::now();
    int64_t untimed = 0;
    for (int64_t s = 0; s < stepsPerEpoch; ++s, ++globalStep) {
      batches.upload(*in, /*async=*/overlap);
      auto a = in->memref();
      auto r = out->memref();
      ::qtrain::runtime::resetPeakBufferBytes();
      int64_t heldBefore = ::qtrain::runtime::bufferBytes().live;
      runStep(&a, &r);
      if (device == DeviceKind::cpu)
        stepBufferBytes =
            std::max(stepBufferBytes,
                     ::qtrain::runtime::bufferBytes().peak - heldBefore);
      if (overlap)
        out->downloadAsync(lossAt, 1);
      else
        out->download(lossAt, 1);
      if (pending)
        readLoss();
      pending = Pending{overlap ? memory->fence() : nullptr, out};
      bool warmUp = globalStep == 0 && epochs * stepsPerEpoch > 1;
      if (!overlap || warmUp)
        readLoss();
      if (gpuFailed(error))
        return false;
      if (warmUp) {
        timedFrom = Clock::now();
        untimed = 1;
      }
      std::swap(in, out);

      if (tty && (s % 20 == 0 || s + 1 == stepsPerEpoch)) {
        double seconds =
            std::chrono::duration<double>(Clock::now() - timedFrom).count();
        int done = int(40 * (s + 1) / stepsPerEpoch);
        llvm::outs() << "\r" << name << " epoch " << epoch << " ["
                     << std::string(done, '#') << std::string(40 - done, '.')
                     << "] " << s + 1 << "/" << stepsPerEpoch << "  "
                     << llvm::format("%.0f", s + 1 > untimed && seconds > 0
                                                 ? (s + 1 - untimed) / seconds
                                                 : 0.0)
                     << " steps/s  loss "
                     << llvm::format("%.4f",
                                     lossSum / std::max<int64_t>(losses, 1));
        llvm::outs().flush();
      }
    }
    if (pending)
      readLoss();
    if (gpuFailed(error))
      return false;
    stepSeconds +=
        std::chrono::duration<double>(Clock::now() - timedFrom).count();
    timedSteps += stepsPerEpoch - untimed;
    std::optional<double> accuracy =
        evaluate(c, model, *memory, *in, params, testSet, testLimit, error);
    if (!accuracy || gpuFailed(error))
      return false;
    double ms = 1000 * stepSeconds / std::max<int64_t>(timedSteps, 1);
    result = {*accuracy, ms, lossSum / std::max<int64_t>(stepsPerEpoch, 1),
              c.savedBytes, stepBufferBytes};
    llvm::outs() << (tty ? "\r" : "") << name << " epoch " << epoch << "/"
                 << int(epochs) << ": train loss "
                 << llvm::format("%.4f", result.finalLoss) << ", test accuracy "
                 << llvm::format("%.2f%%", 100 * *accuracy) << ", "
                 << llvm::format("%.2f", ms) << " ms/step"
                 << std::string(tty ? 30 : 0, ' ') << "\n";
    if (csv)
      *csv << name << "," << epoch << "," << globalStep << ","
           << result.finalLoss << "," << *accuracy << "," << ms << "\n";
  }
  if (gpuStepGraphs)
    llvm::errs() << name << ": " << replayedSteps << " of " << globalStep
                 << " steps replayed from recordings\n";
  if (epochs == 0) { // evaluate saved parameters
    std::optional<double> accuracy =
        evaluate(c, model, *memory, *in, params, testSet, testLimit, error);
    if (!accuracy || gpuFailed(error))
      return false;
    result.accuracy = *accuracy;
    llvm::outs() << name << ": test accuracy "
                 << llvm::format("%.2f%%", 100 * result.accuracy) << "\n";
  }
  if (!saveFile.empty() && !saveParams(saveFile, gatherParams())) {
    error = saveFile + ": cannot write";
    return false;
  }
  return true;
}

/// The comparison table: accuracy against exact fp32, and memory (saved
/// activations, peak of a step's buffers) against the same recipe with
/// exact activations.
static void printComparison(ArrayRef<std::pair<Config, Result>> results) {
  auto find = [&](RecipeKind recipe) -> const Result * {
    for (auto &[config, r] : results)
      if (config.recipe == recipe && config.activationBits == 0)
        return &r;
    return nullptr;
  };
  const Result *fp32 = find(RecipeKind::fp32);
  llvm::outs() << "\nrecipe    test accuracy  gap to fp32  ms/step  saved for "
                  "backward      step buffers (vs exact)\n";
  for (auto &[config, r] : results) {
    llvm::outs() << llvm::format("%-8s  %12.2f%%  ", configName(config).c_str(),
                                 100 * r.accuracy);
    if (fp32)
      llvm::outs() << llvm::format("%+8.2f pp",
                                   100 * (r.accuracy - fp32->accuracy));
    else
      llvm::outs() << "         -";
    llvm::outs() << llvm::format("  %7.2f  %14.1f KiB", r.msPerStep,
                                 r.savedBytes / 1024.0);
    // Counted where they are malloc'd: on the CPU only.
    if (device == DeviceKind::cpu)
      llvm::outs() << llvm::format("  %10.1f MiB",
                                   r.stepBufferBytes / 1048576.0);
    else
      llvm::outs() << "           - (GPU)";
    if (const Result *exact = find(config.recipe);
        exact && exact->stepBufferBytes > 0)
      llvm::outs() << llvm::format(" (%.2fx)", double(r.stepBufferBytes) /
                                                   exact->stepBufferBytes);
    llvm::outs() << "\n";
  }
}

int main(int argc, char **argv) {
  // A crash (in JIT-compiled code too) prints a stack trace.
  llvm::InitLLVM initLLVM(argc, argv);
  cl::HideUnrelatedOptions(trainOptions);
  // MLIR's pass-manager options (--mlir-print-ir-before=<pass>,
  // --mlir-timing, ...) apply to the pipelines that compile the model;
  // their pass names must be registered to be named.
  mlir::registerAllPasses();
  mlir::qtrain::registerAllPasses();
  mlir::registerPassManagerCLOptions();
  cl::ParseCommandLineOptions(
      argc, argv,
      "qtrain-train: train a model on Fashion-MNIST through the qtrain "
      "pipeline\n");
  ::qtrain::runtime::keepLargeAllocationsMapped();
  if (recipes.empty())
    recipes.push_back(RecipeKind::fp32);

  auto buffer = llvm::MemoryBuffer::getFile(modelFile);
  if (!buffer) {
    llvm::errs() << "qtrain-train: " << modelFile << ": "
                 << buffer.getError().message() << "\n";
    return 1;
  }
  if (device == DeviceKind::cuda) {
    auto gpu = ::qtrain::runtime::openCudaDevice();
    if (!gpu) {
      llvm::errs() << "qtrain-train: --device=cuda: "
                   << llvm::toString(gpu.takeError()) << "\n";
      return 1;
    }
    llvm::outs() << "device: " << gpu->name << " (compute capability "
                 << gpu->major << "." << gpu->minor << ")\n";
    target = gpu->target(gpuMemory);
    target.asyncLaunches = gpuAsyncLaunches;
  } else if (device == DeviceKind::gpuEmulator) {
    target = ::qtrain::runtime::Target::gpuEmulator(emulatedChip, gpuMemory);
  }
  target.wgmmaTMALoads = gpuWGMMATMALoads;
  target.reassociateFloatSums = gpuReassociateFloatSums;
  target.kMajorGEMMOperands = gpuKMajorGEMMOperands;
  Split trainSet, testSet;
  std::string error;
  if (!readSplit(dataDir, "train", trainSet, error) ||
      !readSplit(dataDir, "t10k", testSet, error)) {
    llvm::errs() << "qtrain-train: " << error << "\n";
    return 1;
  }

  std::vector<int64_t> bitsList(activationBitsList.begin(),
                                activationBitsList.end());
  if (bitsList.empty())
    bitsList.push_back(0);
  std::vector<std::pair<Config, Result>> results;
  for (RecipeKind recipe : recipes)
    for (int64_t bits : bitsList) {
      Result result;
      Config config{recipe, bits};
      if (!train((*buffer)->getBuffer().str(), config, trainSet, testSet,
                 result, error)) {
        llvm::errs() << "qtrain-train: " << error << "\n";
        return 1;
      }
      results.push_back({config, result});
    }
  if (results.size() > 1)
    printComparison(results);
  return 0;
}
