// Left-aligned text tables in kubectl's style: upper-case headers, columns separated by
// three spaces, no borders.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace coral::ctl {

class Table {
 public:
  explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
  void addRow(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  bool empty() const { return rows_.empty(); }
  void print(std::ostream& out) const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace coral::ctl
