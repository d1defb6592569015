// Files under state_dir: run reports (runs/RUN_ID.json), written atomically.
#pragma once

#include <chrono>
#include <string>

namespace dailysync {

class StateStore {
public:
    explicit StateStore(std::string state_dir) : dir_(std::move(state_dir)) {}
    const std::string &dir() const { return dir_; }
    std::string runs_dir() const { return dir_ + "/runs"; }
    std::string report_path(const std::string &run_id) const { return runs_dir() + "/" + run_id + ".json"; }

    // "20261126T153100Z", with "-2", "-3"... when a report of that name already exists.
    std::string allocate_run_id(std::chrono::system_clock::time_point now) const;
    // Writes the report; returns "" or what went wrong.
    std::string write_report(const std::string &run_id, const std::string &json) const;

private:
    std::string dir_;
};

// mkdir -p with mode 0755; returns "" or what went wrong.
std::string make_directories(const std::string &path);
// temp file in the same folder, fsync, rename over `path`, fsync the folder; "" or the error.
std::string write_file_atomically(const std::string &path, const std::string &content);

}  // namespace dailysync
