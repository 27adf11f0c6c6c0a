// A test fixture with a temporary directory of its own (tests write only there), removed
// after the test, and a helper that writes a file into it.
#pragma once

#include <cstdlib>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <unistd.h>

namespace podsim::test {

class TempDirTest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/podsim-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    if (!dir_.empty()) std::system(("rm -rf " + dir_).c_str());
  }
  // Writes `text` to `name` in the directory; returns its path.
  std::string write(const std::string& name, const std::string& text) {
    if (dir_.empty()) {  // SetUp failed: write nothing outside a directory of our own
      ADD_FAILURE() << "no temporary directory for " << name;
      return "";
    }
    const std::string p = dir_ + "/" + name;
    std::ofstream(p) << text;
    return p;
  }
  std::string dir_;
};

}  // namespace podsim::test
