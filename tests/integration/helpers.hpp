// Shared helpers for the integration tests: temporary trees, running the real dailysyncd
// binary, and comparing two trees entry by entry (type, mode, size, mtime, content, link).
#pragma once

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace testing_support {

class TempDir {
public:
    TempDir();
    ~TempDir();
    const std::string &path() const { return path_; }
    std::string operator/(const std::string &relative) const { return path_ + "/" + relative; }

private:
    std::string path_;
};

void write_file(const std::string &path, const std::string &content, mode_t mode = 0644);
std::string read_file(const std::string &path);
void make_dirs(const std::string &path);
void set_mtime(const std::string &path, long seconds);   // does not follow symlinks
void remove_tree(const std::string &path);
// The names in a folder, sorted (none when it cannot be read).
std::vector<std::string> list_dir(const std::string &path);
// Gives every entry below root (root included, symlinks themselves) a distinct mtime in the
// past, as on a real NAS. rsync leaves a folder's or symlink's mtime alone when it falls in
// the same second as the copy's own, so trees built moments before a run need this.
void age_tree(const std::string &root);

struct Result {
    int exit_code = -1;   // or 128 + signal
    std::string out, err;
    std::string hang;     // when the process had to be killed at the deadline: what it was doing
};
struct Spawned {
    pid_t pid;
    std::string out_path, err_path;
};
// Runs a program (no shell) with extra environment entries; optionally as another user.
Spawned spawn(const std::vector<std::string> &argv, const std::vector<std::string> &env = {},
              std::optional<uid_t> as_user = std::nullopt);
// Waits for the process; past `deadline` it records what the process was doing (in
// `hang`, also appended to `err`) and kills it, so a hang fails one test with a reason
// instead of stalling the suite into ctest's timeout.
Result wait_for(const Spawned &spawned, std::chrono::seconds deadline = std::chrono::seconds(150));
Result run(const std::vector<std::string> &argv, const std::vector<std::string> &env = {},
           std::optional<uid_t> as_user = std::nullopt);
std::string dailysyncd();     // paths of the binaries under test
std::string dailysyncctl();
// Runs a program on a pseudo-terminal of `columns` columns (TERM=xterm); `out` holds what
// it drew (stdout and stderr both go to the terminal).
Result run_in_pty(const std::vector<std::string> &argv, const std::vector<std::string> &env = {}, unsigned short columns = 100);
// The widest line of what a program drew on a terminal, in columns (escape sequences and
// UTF-8 continuation bytes take none).
std::size_t widest_drawn_line(const std::string &drawn);

struct Entry {
    char type;            // f d l o
    unsigned mode;
    long long size;
    long long mtime_ns;   // directories and files; symlinks keep theirs too
    std::string content;  // file content or symlink target
    bool operator==(const Entry &) const = default;
};
using Snapshot = std::map<std::string, Entry>;
Snapshot snapshot(const std::string &root);
// "" when equal, else a readable list of differences.
std::string differences(const Snapshot &expected, const Snapshot &actual);

// A run report's text read with the daemon's own reader (core/report's parse_report): the
// document, or an empty object after failing the test with the reader's error.
nlohmann::json parsed_report(const std::string &text);
// Text that must be JSON (dailysyncctl --json output): the document, failing the test otherwise.
nlohmann::json parse_json(const std::string &text);

// pids of processes whose command line mentions `needle`.
std::vector<pid_t> processes_mentioning(const std::string &needle);
// Waits up to 10 s for a process (an rsync) whose command line mentions `needle`; fails
// the test if none came. Judged on the last look, not a new one: a short unit's rsync may
// be gone by the time anyone looks again.
void wait_for_rsync(const std::string &needle);

std::string write_config(const TempDir &dir, const std::string &json_body);

}  // namespace testing_support
