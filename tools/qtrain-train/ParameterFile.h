//===- ParameterFile.h - Saved parameters -----------------------*- C++ -*-===//
//
// qtrain-train --save and --load: "QTRP", the parameter count (uint64),
// then the parameters as float32, in the model's argument order, each
// flattened row-major; little-endian.
//
//===----------------------------------------------------------------------===//

#ifndef QTRAIN_TOOLS_QTRAIN_TRAIN_PARAMETERFILE_H
#define QTRAIN_TOOLS_QTRAIN_TRAIN_PARAMETERFILE_H

#include <string>
#include <vector>

namespace qtrain::train {

/// Writes `p` to `path`; false if it cannot.
bool saveParams(const std::string &path, const std::vector<float> &p);

/// Reads `p.size()` parameters from `path` into `p`; false, with the
/// reason in `error`, if it is not a parameter file or holds another count.
bool loadParams(const std::string &path, std::vector<float> &p,
                std::string &error);

} // namespace qtrain::train

#endif // QTRAIN_TOOLS_QTRAIN_TRAIN_PARAMETERFILE_H
