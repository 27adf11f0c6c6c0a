// Walks a text line by line ('\n' separated; a last line without one counts), numbering
// the lines from 1 for error messages. Shared by the readers of traces, index files and
// YAML document markers.
#pragma once

#include <algorithm>
#include <string_view>

namespace podsim {

class TextLines {
 public:
  explicit TextLines(std::string_view text) : text_(text) {}
  // The next line, without its '\n'; false at the end of the text.
  bool next(std::string_view* line) {
    if (pos_ >= text_.size()) return false;
    const std::size_t end = std::min(text_.find('\n', pos_), text_.size());
    *line = text_.substr(pos_, end - pos_);
    pos_ = end + 1;
    ++number_;
    return true;
  }
  int number() const { return number_; }  // of the line next() gave last

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
  int number_ = 0;
};

}  // namespace podsim
