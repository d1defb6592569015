// What an admin's hook commands ("hooks" in the configuration) are given and what became
// of them: their environment, their outcome, the report's "hooks" field. Pure: the
// process is io/hook_process's, the order and the run's decisions service/hook_runner's.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace dailysync {

enum class HookStage { before_run, after_run, on_failure };
std::string_view to_string(HookStage stage);

// What a hook is told about the run, as environment variables.
struct HookContext {
    std::string run_id;        // DAILYSYNC_RUN_ID
    std::string result;        // DAILYSYNC_RESULT: "" before the run, then success, warning, failed, cancelled
    std::string report_path;   // DAILYSYNC_REPORT: the report JSON ("" before the run, or when it could not be written)
    std::string source;        // DAILYSYNC_SOURCE
    std::string destination;   // DAILYSYNC_DESTINATION
    std::string run_kind = "backup";   // DAILYSYNC_RUN_KIND: backup, retry or verify
};

// The whole environment of a hook ("NAME=value" strings): nothing of the daemon's own,
// a fixed PATH, LANG=C.UTF-8, DAILYSYNC_HOOK and the context above.
std::vector<std::string> hook_environment(HookStage stage, const HookContext &context);
// The PATH hooks get (and their program names are looked up in).
inline constexpr std::string_view kHookPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
// The hook's program is looked up by its reaper (a process of its own: the path may be on
// a NAS that does not answer). Not found, the reaper prints this, then why, and exits 127;
// the daemon reads that as "could not be started".
inline constexpr std::string_view kHookCannotStart = "dailysyncd: this hook cannot be started: ";

// A command's output as the report and the journal keep it: every line goes to the
// journal up to a cap, the report keeps the last kMaxTailBytes bytes.
class HookOutput {
public:
    static constexpr std::size_t kMaxTailBytes = 4096;
    static constexpr std::size_t kMaxJournalLines = 100;
    // Adds output; returns the complete lines to log now (at most kMaxJournalLines in all).
    std::vector<std::string> feed(std::string_view bytes);
    // At EOF: the unterminated last line (if any and still under the cap) and, once, how
    // many lines went unlogged.
    std::vector<std::string> finish();
    const std::string &tail() const { return tail_; }
    std::string last_line() const;   // the last non-empty line, for one-line messages

private:
    void keep(std::string_view bytes);
    std::string partial_, tail_;
    std::size_t lines_ = 0, dropped_ = 0;
};

// How one command ended.
struct HookOutcome {
    HookStage stage = HookStage::before_run;
    std::size_t index = 0;             // in its list, from 0
    std::vector<std::string> argv;
    bool started = true;
    std::string start_error;           // when !started (program not found, not executable)
    int exit_code = -1;                // when it exited
    int signal = 0;                    // when a signal ended it
    bool timed_out = false;            // killed at timeout_seconds
    bool cancelled = false;            // killed because the run was cancelled
    double seconds = 0;
    std::string output;                // the tail of stdout and stderr together

    bool ok() const { return started && !timed_out && !cancelled && signal == 0 && exit_code == 0; }
    // "before_run hook 1 (pg_dump -f /x prod)": names the command for people.
    std::string name() const;
    // "before_run hook 1 (pg_dump ...) failed: exit status 1: <last output line>"
    std::string describe() const;
};

nlohmann::json hooks_json(const std::vector<HookOutcome> &outcomes);

}  // namespace dailysync
