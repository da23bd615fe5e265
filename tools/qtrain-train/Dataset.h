//===- Dataset.h - Fashion-MNIST in idx + gzip form -------------*- C++ -*-===//

#ifndef QTRAIN_TOOLS_QTRAIN_TRAIN_DATASET_H
#define QTRAIN_TOOLS_QTRAIN_TRAIN_DATASET_H

#include <cstdint>
#include <string>
#include <vector>

namespace qtrain::train {

/// Images (row-major bytes) and their labels.
struct Split {
  int64_t count = 0, rows = 0, cols = 0;
  std::vector<uint8_t> pixels, labels;
};

/// Reads `<dir>/<prefix>-images-idx3-ubyte.gz` and the matching labels;
/// on failure returns false with a message naming the file and the problem.
bool readSplit(const std::string &dir, const std::string &prefix, Split &split,
               std::string &error);

/// Images order[first] .. order[first + count - 1] of `data` to `dst`, row
/// after row, each pixel normalized by Fashion-MNIST's pixel mean and
/// standard deviation.
void normalizeImages(const Split &data, const std::vector<int64_t> &order,
                     int64_t first, int64_t count, float *dst);

} // namespace qtrain::train

#endif // QTRAIN_TOOLS_QTRAIN_TRAIN_DATASET_H
