// Small POSIX file helpers for the file backend: an owning fd, whole-file reads,
// crash-safe replacement of a file (temp + fsync + rename + fsync of the directory),
// and the names of a store's generation files.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace coral::datastore::file {

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd();
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_ = -1;
};

// An error status for a failed system call: "<what> <path>: <strerror(errno)>".
absl::Status errnoStatus(std::string_view what, std::string_view path);

std::string snapshotName(uint64_t generation);  // "snapshot.<gen>"
std::string logName(uint64_t generation);       // "log.<gen>"
std::string joinPath(std::string_view dir, std::string_view name);

// Generations that have a snapshot file in `dir`, ascending.
absl::StatusOr<std::vector<uint64_t>> listGenerations(const std::string& dir);

// kNotFound when the file does not exist.
absl::StatusOr<std::string> readWholeFile(const std::string& path);
// Reads [offset, offset+length) of an open file; fewer bytes when it ends early.
absl::StatusOr<std::string> readRange(int fd, uint64_t offset, uint64_t length,
                                      std::string_view path);
absl::Status writeAll(int fd, uint64_t offset, std::string_view bytes, std::string_view path);
absl::Status syncDirectory(const std::string& dir);
// Writes `bytes` to dir/name so that after a crash the file is either the old one or the
// complete new one.
absl::Status replaceFileAtomically(const std::string& dir, std::string_view name,
                                   std::string_view bytes);
// mkdir -p.
absl::Status makeDirectories(const std::string& dir);
bool fileExists(const std::string& path);

}  // namespace coral::datastore::file
