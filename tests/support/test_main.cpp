// The main of every test binary: silences the SystemC banner, then lets libsystemc's
// sc_elab_and_sim call sc_main, which runs the tests.
#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <sysc/kernel/sc_externs.h>

int main(int argc, char* argv[]) {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
  return sc_core::sc_elab_and_sim(argc, argv);
}

int sc_main(int argc, char* argv[]) {
  ::testing::InitGoogleTest(&argc, argv);
  // Each test process gets a temporary folder of its own (testing::TempDir() reads
  // TEST_TMPDIR), removed at the end: ctest runs tests in parallel, and two tests writing
  // one /tmp path read each other's files.
  char tmpl[] = "/tmp/podsim-test-XXXXXX";
  const char* dir = mkdtemp(tmpl);
  if (dir) setenv("TEST_TMPDIR", dir, 1);
  const int rc = RUN_ALL_TESTS();
  if (dir) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  return rc;
}
