// A DMA engine between its real neighbours (an HBM model and a crossbar port) in a small
// SystemC module that submits one job and records when it finished.
#pragma once

#include <systemc>

#include "podsim/arch/dma_engine.h"

namespace podsim::test {

struct DmaHarness : sc_core::sc_module {
  HbmModel hbm;
  BandwidthServer port;
  SimCounters counters;
  DmaEngine dma;
  DmaJob job;
  std::uint64_t done_ps = 0;

  DmaHarness(sc_core::sc_module_name n, const HbmSpec& s, const DmaSpec& d, std::uint64_t port_Bps)
      : sc_module(n), hbm(s), port(port_Bps), dma("dma", d, hbm, port, counters) {
    SC_HAS_PROCESS(DmaHarness);
    SC_THREAD(run);
  }
  void run() {
    dma.submit(job);
    while (!job.finished) wait(job.done);
    done_ps = sc_core::sc_time_stamp().value();
  }
};

}  // namespace podsim::test
