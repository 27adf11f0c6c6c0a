#include <fstream>

#include <gtest/gtest.h>

#include "podsim/config/config_error.h"
#include "podsim/config/workload_loader.h"
#include "test_paths.h"

namespace podsim {
namespace {

ConfigError load_error(const std::string& text) {
  try {
    load_workload_text(text, testing::TempDir() + "wl.yaml");  // index files beside it
  } catch (const ConfigError& e) {
    return e;
  }
  ADD_FAILURE() << "expected a ConfigError for:\n" << text;
  return ConfigError({}, "", "");
}

TEST(WorkloadConfig, TheDocumentedFormParses) {
  // This exact form is relied on by scripts; see the foundation issue.
  const WorkloadSpec wl = load_workload_text(
      "workload:\n"
      "  name: gemm-example\n"
      "  ops:\n"
      "    - {op: matmul, name: g0, m: 4096, k: 4096, n: 4096, dtype: bf16}\n",
      "wl.yaml");
  ASSERT_EQ(wl.ops.size(), 1u);
  EXPECT_EQ(wl.name, "gemm-example");
  const auto& mm = std::get<MatmulOp>(wl.ops[0].body);
  EXPECT_EQ(mm.m, 4096u);
  EXPECT_EQ(mm.dtype, DType::bf16);
  EXPECT_EQ(wl.ops[0].repeat, 1u);
  EXPECT_EQ(wl.total_flops(), 2ull * 4096 * 4096 * 4096);
}

TEST(WorkloadConfig, ShippedExampleLoads) {
  EXPECT_NO_THROW(load_workload(test::source_path("workloads/gemm-example.yaml")));
}

TEST(WorkloadConfig, RepeatAndDtypesAndDefaultNames) {
  const WorkloadSpec wl = load_workload_text(
      "workload:\n  ops:\n"
      "    - {op: matmul, m: 8, k: 16, n: 32, dtype: int8, repeat: 3}\n"
      "    - {op: matmul, m: 1, k: 1, n: 1, dtype: fp32}\n",
      "wl.yaml");
  EXPECT_EQ(wl.ops[0].name, "op0");
  EXPECT_EQ(wl.ops[1].name, "op1");
  EXPECT_EQ(wl.ops[0].repeat, 3u);
  EXPECT_EQ(std::get<MatmulOp>(wl.ops[1].body).dtype, DType::fp32);
  EXPECT_EQ(wl.total_macs(), 3u * 8 * 16 * 32 + 1);
}

TEST(WorkloadConfig, ErrorsNameTheOpAndField) {
  ConfigError e = load_error("workload:\n  ops:\n    - {op: matmul, m: 8, k: 8, n: 8, dtyp: bf16}\n");
  EXPECT_EQ(e.key_path(), "workload.ops[0].dtyp");
  EXPECT_EQ(e.where().line, 3);
  EXPECT_NE(e.problem().find("did you mean 'dtype'"), std::string::npos) << e.what();

  e = load_error("workload:\n  ops:\n    - {op: matmul, m: 8, k: 8, n: 8}\n");
  EXPECT_EQ(e.key_path(), "workload.ops[0].dtype");
  EXPECT_NE(e.problem().find("missing"), std::string::npos);

  e = load_error("workload:\n  ops:\n    - {op: matmul, m: 8, k: 0, n: 8, dtype: bf16}\n");
  EXPECT_EQ(e.key_path(), "workload.ops[0].k");
  EXPECT_NE(e.problem().find("out of range"), std::string::npos);

  e = load_error("workload:\n  ops:\n    - {op: matmul, m: 8, k: 8, n: 8.5, dtype: bf16}\n");
  EXPECT_EQ(e.key_path(), "workload.ops[0].n");

  e = load_error("workload:\n  ops:\n    - {op: conv9, m: 8}\n");
  EXPECT_EQ(e.key_path(), "workload.ops[0].op");
  EXPECT_NE(e.problem().find("unknown op 'conv9'"), std::string::npos);
}

// A field only another template reads is refused at that field, not silently ignored.
TEST(WorkloadConfig, ATemplateRefusesAnotherTemplatesFields) {
  ConfigError e = load_error(
      "workload:\n  ops:\n    - {op: template, template: mlp, batch: 8, widths: [64, 64], rope: true, dtype: bf16}\n");
  EXPECT_EQ(e.key_path(), "workload.ops[0].rope");
  EXPECT_EQ(e.where().line, 3);
  EXPECT_NE(e.problem().find("the mlp template does not read 'rope'"), std::string::npos) << e.what();
  // decode and kv_len are the decoder's alone.
  e = load_error("workload:\n  ops:\n    - {op: template, template: transformer_encoder, batch: 2, seq: 16, d_model: 64,"
                 " heads: 4, d_ff: 128, decode: true, dtype: bf16}\n");
  EXPECT_EQ(e.key_path(), "workload.ops[0].decode");
  e = load_error("workload:\n  ops:\n    - {op: template, template: resnet50, batch: 2, widths: [8, 8], dtype: bf16}\n");
  EXPECT_EQ(e.key_path(), "workload.ops[0].widths");
  EXPECT_NE(e.problem().find("its own: image"), std::string::npos) << e.what();
  // Each template's own fields still parse.
  EXPECT_NO_THROW(load_workload_text(
      "workload:\n  ops:\n    - {op: template, template: transformer_decoder, batch: 2, seq: 16, d_model: 64,"
      " heads: 4, d_ff: 128, decode: true, kv_len: 32, rope: true, fused_attention: false, dtype: bf16}\n",
      testing::TempDir() + "wl.yaml"));
}

TEST(WorkloadConfig, StructuralErrors) {
  EXPECT_NE(load_error("workload:\n  ops: []\n").problem().find("non-empty"), std::string::npos);
  EXPECT_NE(load_error("workload:\n  name: x\n").problem().find("missing"), std::string::npos);
  EXPECT_NE(load_error("ops: []\n").problem().find("unknown key"), std::string::npos);
  EXPECT_NE(load_error("").problem().find("empty"), std::string::npos);
  EXPECT_EQ(load_error("workload:\n  ops:\n    - {op: matmul, name: a, m: 1, k: 1, n: 1, dtype: bf16}\n"
                       "    - {op: matmul, name: a, m: 1, k: 1, n: 1, dtype: bf16}\n")
                .where()
                .line,
            4);
}

TEST(WorkloadConfig, Conv2dParsesAndChecksItsShape) {
  const WorkloadSpec wl = load_workload_text(
      "workload:\n  ops:\n    - {op: conv2d, n: 2, h: 224, w: 224, c_in: 3, c_out: 64, kernel: 7, stride: 2, padding: 3,"
      " dtype: bf16}\n",
      "wl.yaml");
  const auto& c = std::get<Conv2dOp>(wl.ops[0].body);
  EXPECT_EQ(c.h_out(), 112u);  // (224 + 2*3 - 1*(7-1) - 1) / 2 + 1
  EXPECT_EQ(wl.ops[0].macs_once(), 2ull * 112 * 112 * 64 * 3 * 49);
  EXPECT_EQ(load_error("workload:\n  ops:\n    - {op: conv2d, n: 1, h: 8, w: 8, c_in: 6, c_out: 4, kernel: 3,"
                       " groups: 4, dtype: bf16}\n")
                .key_path(),
            "workload.ops[0].groups");
  EXPECT_EQ(load_error("workload:\n  ops:\n    - {op: conv2d, n: 1, h: 2, w: 2, c_in: 1, c_out: 1, kernel: 5,"
                       " dtype: bf16}\n")
                .key_path(),
            "workload.ops[0].kernel");
}

TEST(WorkloadConfig, EveryDtypeParses) {
  for (const char* t : {"int8", "fp8", "bf16", "fp16", "fp32"}) {
    const WorkloadSpec wl = load_workload_text(
        std::string("workload:\n  ops:\n    - {op: matmul, m: 1, k: 1, n: 1, dtype: ") + t + "}\n", "wl.yaml");
    EXPECT_STREQ(dtype_name(wl.ops[0].dtype()), t);
  }
}

TEST(WorkloadConfig, HugeOpsAreRefusedNotOverflowed) {
  // 2^24 per dimension is allowed, but 2^24^3 = 2^72 MACs would overflow the counters.
  const ConfigError e =
      load_error("workload:\n  ops:\n    - {op: matmul, m: 16777216, k: 16777216, n: 16777216, dtype: bf16}\n");
  EXPECT_NE(e.problem().find("too large"), std::string::npos) << e.what();
}

TEST(WorkloadConfig, APoolWindowLargerThanItsInputIsRefusedAtTheWindow) {
  const ConfigError e = load_error(
      "workload:\n  ops:\n    - {op: pool, n: 1, h: 4, w: 4, c: 8, window: 7, dtype: bf16}\n");
  EXPECT_EQ(e.key_path(), "workload.ops[0].window");
  EXPECT_EQ(e.where().line, 3);
  EXPECT_NE(e.problem().find("does not fit the padded 4x4 input"), std::string::npos) << e.what();
  // Padding up to half the window is allowed (as in PyTorch); more is refused.
  EXPECT_NO_THROW(load_workload_text(
      "workload:\n  ops:\n    - {op: pool, n: 1, h: 8, w: 8, c: 4, window: 2, padding: 1, dtype: bf16}\n", "p.yaml"));
  const ConfigError p = load_error(
      "workload:\n  ops:\n    - {op: pool, n: 1, h: 8, w: 8, c: 4, window: 2, padding: 2, dtype: bf16}\n");
  EXPECT_EQ(p.key_path(), "workload.ops[0].padding");
}

TEST(WorkloadConfig, IndexFileErrorsNameTheFileLineAndColumn) {
  const std::string dir = testing::TempDir();
  std::ofstream(dir + "bad-idx.txt") << "1 2 3\n4 x7 5\n";
  std::ofstream(dir + "far-idx.txt") << "1\n  12\n";
  std::ofstream(dir + "empty-idx.txt") << "# nothing\n";
  auto op = [&](const std::string& file) {
    return "workload:\n  ops:\n    - {op: embedding_lookup, table_rows: 10, dim: 8, batch: 2, distribution: file, "
           "indices: " + dir + file + ", dtype: fp32}\n";
  };
  ConfigError e = load_error(op("bad-idx.txt"));
  EXPECT_EQ(e.where().file, dir + "bad-idx.txt");
  EXPECT_EQ(e.where().line, 2);
  EXPECT_EQ(e.where().column, 3);
  EXPECT_EQ(e.key_path(), "workload.ops[0].indices");
  EXPECT_NE(e.problem().find("'x7'"), std::string::npos) << e.what();
  e = load_error(op("far-idx.txt"));
  EXPECT_EQ(e.where().line, 2);
  EXPECT_EQ(e.where().column, 3);
  EXPECT_NE(e.problem().find("outside the table"), std::string::npos) << e.what();
  e = load_error(op("empty-idx.txt"));
  EXPECT_NE(e.problem().find("holds no indices"), std::string::npos) << e.what();
  e = load_error(op("missing-idx.txt"));
  EXPECT_EQ(e.where().line, 3);
  EXPECT_NE(e.problem().find("cannot open"), std::string::npos) << e.what();
  e = load_error("workload:\n  ops:\n    - {op: embedding_lookup, table_rows: 10, dim: 8, batch: 2, "
                 "distribution: file, dtype: fp32}\n");
  EXPECT_EQ(e.key_path(), "workload.ops[0].indices");
}

TEST(WorkloadConfig, AReshapeMustKeepItsElements) {
  const ConfigError e = load_error(
      "workload:\n  ops:\n    - {op: reshape, rows: 6, cols: 10, to_cols: 7, dtype: bf16}\n");
  EXPECT_EQ(e.key_path(), "workload.ops[0].to_cols");
  EXPECT_NE(e.problem().find("must divide the 60 elements"), std::string::npos) << e.what();
}

}  // namespace
}  // namespace podsim
