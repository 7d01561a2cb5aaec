// POSIX file helpers for the file backend (see files.h).
#include "datastore/file/files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/status.h"
#include "common/strings.h"
#include "fmt/format.h"

namespace coral::datastore::file {

Fd& Fd::operator=(Fd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.release();
  }
  return *this;
}

Fd::~Fd() {
  if (fd_ >= 0) ::close(fd_);
}

absl::Status errnoStatus(std::string_view what, std::string_view path) {
  const int err = errno;
  const std::string message = fmt::format("{} {}: {}", what, path, std::strerror(err));
  if (err == ENOENT) return absl::NotFoundError(message);
  return absl::UnavailableError(message);
}

std::string snapshotName(uint64_t generation) { return fmt::format("snapshot.{}", generation); }
std::string logName(uint64_t generation) { return fmt::format("log.{}", generation); }
std::string joinPath(std::string_view dir, std::string_view name) {
  return fmt::format("{}/{}", dir, name);
}

absl::StatusOr<std::vector<uint64_t>> listGenerations(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return errnoStatus("opendir", dir);
  std::vector<uint64_t> out;
  while (const dirent* entry = ::readdir(d)) {
    const std::string_view name = entry->d_name;
    constexpr std::string_view kPrefix = "snapshot.";
    if (!name.starts_with(kPrefix)) continue;
    if (auto gen = parseInt<uint64_t>(name.substr(kPrefix.size()))) out.push_back(*gen);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

absl::StatusOr<std::string> readRange(int fd, uint64_t offset, uint64_t length,
                                      std::string_view path) {
  std::string out(length, '\0');
  uint64_t done = 0;
  while (done < length) {
    const ssize_t n = ::pread(fd, out.data() + done, length - done, offset + done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errnoStatus("read", path);
    }
    if (n == 0) break;
    done += n;
  }
  out.resize(done);
  return out;
}

absl::StatusOr<std::string> readWholeFile(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return errnoStatus("open", path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return errnoStatus("stat", path);
  return readRange(fd.get(), 0, st.st_size, path);
}

absl::Status writeAll(int fd, uint64_t offset, std::string_view bytes, std::string_view path) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::pwrite(fd, bytes.data() + done, bytes.size() - done, offset + done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errnoStatus("write", path);
    }
    done += n;
  }
  return absl::OkStatus();
}

absl::Status syncDirectory(const std::string& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return errnoStatus("open directory", dir);
  if (::fsync(fd.get()) != 0) return errnoStatus("fsync directory", dir);
  return absl::OkStatus();
}

absl::Status replaceFileAtomically(const std::string& dir, std::string_view name,
                                   std::string_view bytes) {
  const std::string path = joinPath(dir, name);
  const std::string tmp = path + ".tmp";
  {
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd.valid()) return errnoStatus("create", tmp);
    CORAL_RETURN_IF_ERROR(writeAll(fd.get(), 0, bytes, tmp));
    if (::fsync(fd.get()) != 0) return errnoStatus("fsync", tmp);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) return errnoStatus("rename", tmp);
  return syncDirectory(dir);
}

absl::Status makeDirectories(const std::string& dir) {
  std::string partial;
  for (std::string_view piece : split(dir, '/')) {
    partial += piece;
    partial += '/';
    if (piece.empty() || piece == ".") continue;
    if (::mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST) {
      return errnoStatus("mkdir", partial);
    }
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return errnoStatus("stat", dir);
  if (!S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(fmt::format("datastore directory {}: not a directory", dir));
  }
  return absl::OkStatus();
}

bool fileExists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace coral::datastore::file
