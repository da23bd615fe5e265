//===- ParameterFile.cpp - Saved parameters -------------------------------===//

#include "ParameterFile.h"

#include <cstdint>
#include <fstream>

namespace qtrain::train {

bool saveParams(const std::string &path, const std::vector<float> &p) {
  std::ofstream f(path, std::ios::binary);
  uint64_t n = p.size();
  f.write("QTRP", 4);
  f.write(reinterpret_cast<const char *>(&n), sizeof(n));
  f.write(reinterpret_cast<const char *>(p.data()), n * sizeof(float));
  return bool(f);
}

bool loadParams(const std::string &path, std::vector<float> &p,
                std::string &error) {
  std::ifstream f(path, std::ios::binary);
  char magic[4];
  uint64_t n = 0;
  if (!f.read(magic, 4) || std::string(magic, 4) != "QTRP" ||
      !f.read(reinterpret_cast<char *>(&n), sizeof(n))) {
    error = path + ": not a qtrain parameter file";
    return false;
  }
  if (n != p.size()) {
    error = path + ": holds " + std::to_string(n) +
            " parameters, the model has " + std::to_string(p.size());
    return false;
  }
  if (!f.read(reinterpret_cast<char *>(p.data()), n * sizeof(float))) {
    error = path + ": truncated";
    return false;
  }
  return true;
}

} // namespace qtrain::train
