//===- Dataset.cpp - Fashion-MNIST in idx + gzip form ---------------------===//
//
// The idx format: a big-endian magic (0x00000801 for labels, 0x00000803 for
// images), big-endian dimension sizes, then the bytes.
//
//===----------------------------------------------------------------------===//

#include "Dataset.h"

#include <zlib.h>

#include <array>

namespace qtrain::train {

static bool readGzip(const std::string &path, std::vector<uint8_t> &bytes,
                     std::string &error) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (!file) {
    error = path + ": cannot open (is the Debian package "
                   "dataset-fashion-mnist installed?)";
    return false;
  }
  bytes.clear();
  uint8_t buffer[1 << 16];
  int n;
  while ((n = gzread(file, buffer, sizeof(buffer))) > 0)
    bytes.insert(bytes.end(), buffer, buffer + n);
  bool ok = n == 0;
  if (!ok) {
    int code;
    error = path + ": not a valid gzip file (" + gzerror(file, &code) + ")";
  }
  gzclose(file);
  return ok;
}

static uint32_t bigEndian(const std::vector<uint8_t> &b, size_t at) {
  return uint32_t(b[at]) << 24 | uint32_t(b[at + 1]) << 16 |
         uint32_t(b[at + 2]) << 8 | uint32_t(b[at + 3]);
}

bool readSplit(const std::string &dir, const std::string &prefix, Split &split,
               std::string &error) {
  std::string imagesPath = dir + "/" + prefix + "-images-idx3-ubyte.gz";
  std::string labelsPath = dir + "/" + prefix + "-labels-idx1-ubyte.gz";
  std::vector<uint8_t> images, labels;
  if (!readGzip(imagesPath, images, error) ||
      !readGzip(labelsPath, labels, error))
    return false;
  if (images.size() < 16 || bigEndian(images, 0) != 0x803) {
    error = imagesPath + ": not an idx3 image file (bad magic number)";
    return false;
  }
  if (labels.size() < 8 || bigEndian(labels, 0) != 0x801) {
    error = labelsPath + ": not an idx1 label file (bad magic number)";
    return false;
  }
  split.count = bigEndian(images, 4);
  split.rows = bigEndian(images, 8);
  split.cols = bigEndian(images, 12);
  int64_t pixels = split.count * split.rows * split.cols;
  if (int64_t(images.size()) != 16 + pixels) {
    error = imagesPath + ": truncated (expected " +
            std::to_string(16 + pixels) + " bytes, got " +
            std::to_string(images.size()) + ")";
    return false;
  }
  if (bigEndian(labels, 4) != uint32_t(split.count) ||
      int64_t(labels.size()) != 8 + split.count) {
    error = labelsPath + ": label count does not match the " +
            std::to_string(split.count) + " images";
    return false;
  }
  split.pixels.assign(images.begin() + 16, images.end());
  split.labels.assign(labels.begin() + 8, labels.end());
  for (uint8_t label : split.labels)
    if (label > 9) {
      error = labelsPath + ": label " + std::to_string(label) +
              " is not a class in 0..9";
      return false;
    }
  return true;
}

void normalizeImages(const Split &data, const std::vector<int64_t> &order,
                     int64_t first, int64_t count, float *dst) {
  // Each byte's normalized value, computed once: a batch is then table
  // lookups.
  static const std::array<float, 256> normalized = [] {
    const float mean = 0.2860f, std = 0.3530f;
    std::array<float, 256> values;
    for (int v = 0; v < 256; ++v)
      values[v] = (float(v) / 255.0f - mean) / std;
    return values;
  }();
  int64_t pixels = data.rows * data.cols;
  for (int64_t b = 0; b < count; ++b) {
    const uint8_t *src = &data.pixels[order[first + b] * pixels];
    for (int64_t p = 0; p < pixels; ++p)
      dst[b * pixels + p] = normalized[src[p]];
  }
}

} // namespace qtrain::train
