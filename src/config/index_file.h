// Reading a file of embedding indices (embedding_lookup with distribution: file). Private
// to src/config.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "podsim/config/config_error.h"

namespace podsim::detail {

// Whole numbers below `table_rows`, separated by spaces, commas or newlines; `#` starts a
// comment to the end of the line. `path` is relative to the directory of `workload_file`.
// Errors name the index file's line and column (a bad entry) or `where` (a missing or
// empty file), with `key_path`.
// The indices in `text` (`file` names it in errors); no size limit on the text itself.
std::vector<std::uint64_t> parse_index_text(const std::string& text, const std::string& file, std::uint64_t table_rows,
                                            const std::string& key_path);

// The file must lie inside the workload's folder (after resolving symlinks and '..')
// unless PODSIM_INDEX_FILES_ANYWHERE=1 is set.
std::shared_ptr<const std::vector<std::uint64_t>> read_index_file(const std::string& path,
                                                                 const std::string& workload_file,
                                                                 std::uint64_t table_rows,
                                                                 const SourceLocation& where,
                                                                 const std::string& key_path);

}  // namespace podsim::detail
