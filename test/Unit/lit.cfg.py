# -*- Python -*-
# Runs the GoogleTest binaries under unittests/ as lit tests, one lit test per
# gtest case, so they run in parallel with the rest of check-qtrain.
import os

import lit.formats

config.name = "QTRAIN-Unit"
config.suffixes = []
config.test_exec_root = os.path.join(config.qtrain_obj_root, "unittests")
config.test_source_root = config.test_exec_root
config.test_format = lit.formats.GoogleTest(".", "Tests")
