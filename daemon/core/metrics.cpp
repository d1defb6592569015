#include "core/metrics.hpp"

#include <cstdio>

namespace dailysync {

namespace {

std::string label_value(const std::string &raw) {
    std::string out;
    for (char c : raw) {
        if (c == '\\') out += "\\\\";
        else if (c == '"') out += "\\\"";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    return out;
}

std::string number(double value) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.17g", value);
    return buffer;
}

void header(std::string &out, const char *name, const char *help) {
    out += std::string("# HELP ") + name + " " + help + "\n";
    out += std::string("# TYPE ") + name + " gauge\n";
}

}  // namespace

std::string format_metrics(const MetricsSnapshot &s) {
    std::string out;
    header(out, "dailysync_last_success_timestamp_seconds", "Unix time at which the last successful backup run finished (0: none yet).");
    out += "dailysync_last_success_timestamp_seconds " + number(s.last_success ? static_cast<double>(*s.last_success) : 0) + "\n";
    header(out, "dailysync_last_run_duration_seconds", "Duration of the last finished backup run.");
    out += "dailysync_last_run_duration_seconds " + number(s.last_duration_seconds.value_or(0)) + "\n";
    header(out, "dailysync_last_run_bytes", "Bytes copied by the last finished backup run.");
    out += "dailysync_last_run_bytes " + number(static_cast<double>(s.last_bytes)) + "\n";
    header(out, "dailysync_last_run_files", "Files copied by the last finished backup run.");
    out += "dailysync_last_run_files " + number(static_cast<double>(s.last_files)) + "\n";
    header(out, "dailysync_last_run_result", "1 for the result of the last finished backup run, 0 for the others.");
    for (const char *result : {"success", "warning", "failed", "cancelled", "interrupted"})
        out += std::string("dailysync_last_run_result{result=\"") + result + "\"} " + (s.last_result == result ? "1" : "0") + "\n";
    header(out, "dailysync_project_last_success_timestamp_seconds", "Unix time at which each project was last backed up completely.");
    for (const auto &[project, when] : s.project_last_success)
        out += "dailysync_project_last_success_timestamp_seconds{project=\"" + label_value(project) + "\"} " +
               number(static_cast<double>(when)) + "\n";
    header(out, "dailysync_last_verify_timestamp_seconds", "Unix time at which the last verify of the backup at rest finished (0: none yet).");
    out += "dailysync_last_verify_timestamp_seconds " + number(s.last_verify ? static_cast<double>(*s.last_verify) : 0) + "\n";
    header(out, "dailysync_last_verify_differing_files",
           "Files the last verify found differing in content from the source though size and time matched (damaged at rest).");
    out += "dailysync_last_verify_differing_files " + number(static_cast<double>(s.last_verify_differing)) + "\n";
    return out;
}

}  // namespace dailysync
