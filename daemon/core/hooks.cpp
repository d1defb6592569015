#include "core/hooks.hpp"

#include <algorithm>
#include <csignal>
#include <cstring>

#include "core/names.hpp"

namespace dailysync {

std::string_view to_string(HookStage stage) {
    switch (stage) {
    case HookStage::before_run: return "before_run";
    case HookStage::after_run: return "after_run";
    case HookStage::on_failure: return "on_failure";
    }
    return "before_run";
}

std::vector<std::string> hook_environment(HookStage stage, const HookContext &context) {
    return {"PATH=" + std::string(kHookPath),
            "LANG=C.UTF-8",
            "DAILYSYNC_HOOK=" + std::string(to_string(stage)),
            "DAILYSYNC_RUN_ID=" + context.run_id,
            "DAILYSYNC_RESULT=" + context.result,
            "DAILYSYNC_REPORT=" + context.report_path,
            "DAILYSYNC_SOURCE=" + context.source,
            "DAILYSYNC_DESTINATION=" + context.destination,
            "DAILYSYNC_RUN_KIND=" + context.run_kind};
}

void HookOutput::keep(std::string_view bytes) {
    tail_.append(bytes);
    if (tail_.size() > kMaxTailBytes) tail_.erase(0, tail_.size() - kMaxTailBytes);
}

std::vector<std::string> HookOutput::feed(std::string_view bytes) {
    keep(bytes);
    std::vector<std::string> lines;
    for (char c : bytes) {
        if (c != '\n') {
            // A line without an end (a progress bar) is cut, not grown without limit.
            if (partial_.size() < kMaxTailBytes) partial_ += c;
            continue;
        }
        if (lines_ < kMaxJournalLines) lines.push_back(printable_name(partial_));
        else ++dropped_;
        ++lines_;
        partial_.clear();
    }
    return lines;
}

std::vector<std::string> HookOutput::finish() {
    std::vector<std::string> lines;
    if (!partial_.empty()) {
        if (lines_ < kMaxJournalLines) lines.push_back(printable_name(partial_));
        else ++dropped_;
        ++lines_;
        partial_.clear();
    }
    if (dropped_ > 0) lines.push_back("(" + std::to_string(dropped_) + " more lines not logged; the report keeps the last " +
                                      std::to_string(kMaxTailBytes) + " bytes)");
    dropped_ = 0;
    return lines;
}

std::string HookOutput::last_line() const {
    std::size_t end = tail_.find_last_not_of("\n\r \t");
    if (end == std::string::npos) return {};
    const std::size_t begin = tail_.rfind('\n', end);
    return printable_name(tail_.substr(begin == std::string::npos ? 0 : begin + 1, end + 1 - (begin == std::string::npos ? 0 : begin + 1)));
}

std::string HookOutcome::name() const {
    std::string command;
    for (const auto &arg : argv) {
        if (!command.empty()) command += ' ';
        command += arg;
    }
    if (command.size() > 80) command = command.substr(0, 77) + "...";
    return std::string(to_string(stage)) + " hook " + std::to_string(index + 1) + " (" + printable_name(command) + ")";
}

std::string HookOutcome::describe() const {
    std::string text = name();
    if (!started) return text + " could not be started: " + start_error;
    if (cancelled) text += " was stopped: the run was cancelled";
    else if (timed_out) text += " was killed after its timeout (hooks.timeout_seconds)";
    else if (signal != 0) text += std::string(" was killed by signal ") + (sigabbrev_np(signal) ? sigabbrev_np(signal) : std::to_string(signal).c_str());
    else if (exit_code != 0) text += " failed: exit status " + std::to_string(exit_code);
    else return text + " succeeded";
    HookOutput output_view;
    output_view.feed(output);
    const std::string last = output_view.last_line();
    return last.empty() ? text : text + ": " + last;
}

namespace {
// Output as UTF-8 text that keeps its line breaks (each line made printable).
std::string printable_lines(std::string_view text) {
    std::string out;
    std::size_t begin = 0;
    while (begin <= text.size()) {
        const std::size_t end = std::min(text.find('\n', begin), text.size());
        out += printable_name(text.substr(begin, end - begin));
        if (end == text.size()) break;
        out += '\n';
        begin = end + 1;
    }
    return out;
}
}  // namespace

nlohmann::json hooks_json(const std::vector<HookOutcome> &outcomes) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto &o : outcomes) {
        nlohmann::json item = {{"stage", to_string(o.stage)}, {"index", o.index + 1}, {"command", o.argv},
                               {"ok", o.ok()}, {"seconds", o.seconds}, {"output", printable_lines(o.output)}};
        if (!o.started) item["start_error"] = o.start_error;
        else if (o.signal != 0) item["signal"] = o.signal;
        else item["exit_code"] = o.exit_code;
        if (o.timed_out) item["timed_out"] = true;
        if (o.cancelled) item["cancelled"] = true;
        list.push_back(std::move(item));
    }
    return list;
}

}  // namespace dailysync
