// The main of every test binary: silences the SystemC banner, then lets libsystemc's
// sc_elab_and_sim call sc_main, which runs the tests.
#include <cstdlib>

#include <gtest/gtest.h>
#include <sysc/kernel/sc_externs.h>

int main(int argc, char* argv[]) {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
  return sc_core::sc_elab_and_sim(argc, argv);
}

int sc_main(int argc, char* argv[]) {
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
