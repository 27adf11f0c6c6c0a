// The readable report (report/report_text.cpp): columns aligned whatever the names, --top,
// --group, per-op FLOPs and bytes, and rates a small chip can read.
#include <gtest/gtest.h>

#include <sstream>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "run_json.h"

namespace podsim::test {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// Three ops in two layers, one with a name longer than any fixed column.
const char* kWorkload = R"(workload:
  name: layers
  ops:
    - {op: matmul, name: attention.a_projection_with_a_rather_long_name, m: 512, k: 512, n: 512, dtype: bf16}
    - {op: matmul, name: attention.b, m: 1024, k: 1024, n: 1024, dtype: bf16}
    - {op: matmul, name: ffn.up, m: 256, k: 256, n: 256, dtype: bf16}
)";

TEST(TextReport, ColumnsStayAlignedAndOpsCarryFlopsAndBytes) {
  const std::string wl = write_temp("layers.yaml", kWorkload);
  const nlohmann::json r = run_json(wl + " --hw tpu-v3", "layers");
  const Outcome o = run_shell(std::string(PODSIM_BINARY) + " run " + wl + " --hw tpu-v3");
  ASSERT_EQ(o.code, 0) << o.output;
  const auto lines = lines_of(o.output);
  std::size_t header = 0;
  while (header < lines.size() && lines[header].rfind("  op ", 0) != 0) ++header;
  ASSERT_LT(header + 3, lines.size()) << o.output;
  // Every row's bound starts in the header's "bound" column, after a space: the long name
  // widened the first column instead of pushing its row out of line.
  const std::size_t bound_at = lines[header].find("bound");
  ASSERT_NE(bound_at, std::string::npos);
  for (std::size_t i = 0; i < 3; ++i) {
    const std::string& l = lines[header + 1 + i];
    const std::string bound = r["ops"][i]["bound"].get<std::string>();
    EXPECT_EQ(l.size(), bound_at + bound.size()) << l;
    EXPECT_EQ(l.substr(bound_at), bound) << l;
    EXPECT_EQ(l[bound_at - 1], ' ') << l;
  }
  // 2 x 1024^3 FLOPs = 2.15 G for attention.b, and the bytes it moved (the JSON's, in MiB).
  const std::string& b = lines[header + 2];
  EXPECT_NE(b.find("2.15 G"), std::string::npos) << b;
  const double mib = double(r["ops"][1]["hbm_read_bytes"].get<std::uint64_t>() +
                            r["ops"][1]["hbm_write_bytes"].get<std::uint64_t>()) / double(1 << 20);
  EXPECT_NE(b.find(fmt::format("{:.2f} MiB", mib)), std::string::npos) << b;
}

TEST(TextReport, TopShowsTheLongestOpsAndGroupSumsLayers) {
  const std::string wl = write_temp("layers-top.yaml", kWorkload);
  const nlohmann::json r = run_json(wl + " --hw tpu-v3", "layers-top");
  const Outcome o = run_shell(std::string(PODSIM_BINARY) + " run " + wl + " --hw tpu-v3 --top 1 --group 1");
  ASSERT_EQ(o.code, 0) << o.output;
  // The longest op alone (the 1024^3 matmul), then the note.
  EXPECT_NE(o.output.find("  attention.b "), std::string::npos) << o.output;
  EXPECT_EQ(o.output.find("  ffn.up "), std::string::npos) << o.output;
  EXPECT_NE(o.output.find("(1 longest of 3 ops"), std::string::npos) << o.output;
  // By layer: attention has 2 ops, ffn 1; attention's time is the sum of its ops'.
  double attention_s = 0;
  for (const auto& op : r["ops"])
    if (op["name"].get<std::string>().rfind("attention.", 0) == 0) attention_s += op["time_s"].get<double>();
  const auto lines = lines_of(o.output);
  bool seen = false;
  for (const auto& l : lines) {
    if (l.rfind("  attention ", 0) != 0) continue;
    seen = true;
    std::istringstream in(l);
    std::string name, unit;
    int ops = 0;
    double time = 0;
    in >> name >> ops >> time >> unit;
    EXPECT_EQ(ops, 2);
    const double scale = unit == "us" ? 1e-6 : unit == "ms" ? 1e-3 : 1;
    EXPECT_NEAR(time * scale, attention_s, 1e-3 * attention_s) << l;
  }
  EXPECT_TRUE(seen) << o.output;
  EXPECT_NE(o.output.find("  ffn "), std::string::npos) << o.output;
  EXPECT_NE(run_shell(std::string(PODSIM_BINARY) + " run " + wl + " --top -1").code, 0);
}

TEST(TextReport, ASmallChipsRatesKeepTheirDigits) {
  // lab-8x8: 1 MXU of 8 x 8 at 200 MHz: 64 x 2 x 0.2 GHz = 25.6 GFLOPS peak, which a fixed
  // TFLOPS column would print as 0.03.
  const std::string wl = write_temp("small.yaml", R"(workload:
  name: small
  ops:
    - {op: matmul, name: mm, m: 64, k: 64, n: 64, dtype: bf16}
)");
  const Outcome o = run_shell(std::string(PODSIM_BINARY) + " run " + wl + " --hw lab-8x8");
  ASSERT_EQ(o.code, 0) << o.output;
  EXPECT_NE(o.output.find("of 25.60 GFLOPS peak"), std::string::npos) << o.output;
}

}  // namespace
}  // namespace podsim::test
