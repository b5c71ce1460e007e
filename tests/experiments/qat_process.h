#pragma once
// Running the real `qat` binary (QAT_BINARY) from a test: to completion with its output, or in the
// background to be killed; and the files of a directory, to check what a run changed.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace qat::test {

/// How a qat process ended.
struct Outcome {
  int exit_code = -1;  ///< 128 + signal when killed by one
  std::string output;  ///< stdout and stderr together
};

/// Starts qat with `args`, its stdout and stderr going to `output_fd`; `file_size_limit` (bytes) caps
/// every file the process writes, as a full disk would (SIGXFSZ ignored, so writes fail with EFBIG
/// instead of killing the process). Returns the child's pid.
inline pid_t spawn_qat(const std::vector<std::string>& args, int output_fd,
                       std::optional<rlim_t> file_size_limit = std::nullopt) {
  const pid_t pid = fork();
  if (pid != 0) return pid;
  dup2(output_fd, 1);
  dup2(output_fd, 2);
  if (file_size_limit) {
    signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{*file_size_limit, *file_size_limit};
    setrlimit(RLIMIT_FSIZE, &limit);
  }
  std::vector<char*> argv{const_cast<char*>(QAT_BINARY)};
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  execv(QAT_BINARY, argv.data());
  _exit(127);
}

/// The exit code of a finished child: its status, or 128 + the signal that ended it.
inline int exit_code_of(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/// Runs qat with `args` to the end (see spawn_qat for `file_size_limit`).
inline Outcome run_qat(const std::vector<std::string>& args,
                       std::optional<rlim_t> file_size_limit = std::nullopt) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return {};
  const pid_t pid = spawn_qat(args, pipe_fds[1], file_size_limit);
  close(pipe_fds[1]);
  Outcome outcome;
  char buffer[4096];
  for (ssize_t n; (n = read(pipe_fds[0], buffer, sizeof buffer)) > 0;) outcome.output.append(buffer, n);
  close(pipe_fds[0]);
  outcome.exit_code = exit_code_of(pid);
  return outcome;
}

// Every file under `dir` with its bytes.
inline std::map<std::string, std::string> snapshot(const std::filesystem::path& dir) {
  std::map<std::string, std::string> files;
  if (!std::filesystem::exists(dir)) return files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) {
      files[entry.path().string()] = "<dir>";
      continue;
    }
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    files[entry.path().string()] = bytes.str();
  }
  return files;
}

/// The paths whose presence or bytes differ between two snapshots, one per line ("" when none).
inline std::string changed_files(const std::map<std::string, std::string>& before,
                                 const std::map<std::string, std::string>& after) {
  std::string changed;
  for (const auto& [path, bytes] : before)
    if (!after.count(path) || after.at(path) != bytes)
      changed += path + (after.count(path) ? " changed\n" : " removed\n");
  for (const auto& [path, bytes] : after)
    if (!before.count(path)) changed += path + " added\n";
  return changed;
}

}  // namespace qat::test
