#include "ctl/status_view.hpp"

#include "core/dbus_names.hpp"

#include <algorithm>
#include <limits>

#include "ctl/command_line.hpp"
#include "core/format.hpp"

namespace dailysync::ctl {

namespace {

constexpr const char *kGreen = "\x1b[32m", *kYellow = "\x1b[33m", *kRed = "\x1b[31m", *kBlue = "\x1b[34m",
                     *kBold = "\x1b[1m", *kReset = "\x1b[0m";

std::string paint(const std::string &text, const char *color, bool enabled) {
    return enabled ? std::string(color) + text + kReset : text;
}

std::uint64_t count(const nlohmann::json &object, const char *key) {
    return object.contains(key) && object[key].is_number_unsigned() ? object[key].get<std::uint64_t>() : 0;
}

}  // namespace

void apply_property(DaemonStatus &s, std::string_view name, const PropertyValue &value) {
    if (const auto *text = std::get_if<std::string>(&value)) {
        if (name == "State") s.state = *text;
        else if (name == "LastResult") s.last_result = *text;
        else if (name == "LastRunId") s.last_run_id = *text;
        else if (name == "CurrentRunId") s.current_run_id = *text;
        else if (name == "Bottleneck") s.bottleneck = *text;
        else if (name == "BottleneckEvidence") s.bottleneck_evidence = *text;
    } else if (const auto *number = std::get_if<std::uint64_t>(&value)) {
        ProgressSnapshot &p = s.progress;
        if (name == "NextRun") s.next_run_us = *number;
        else if (name == "BytesDone") p.bytes_done = *number;
        else if (name == "BytesTotal") p.bytes_total = *number;
        else if (name == "FilesDone") p.files_done = *number;
        else if (name == "FilesTotal") p.files_total = *number;
        else if (name == "RateBytesPerSecond") p.bytes_per_second = static_cast<double>(*number);
        else if (name == "EtaSeconds") {
            if (*number == std::numeric_limits<std::uint64_t>::max()) p.eta_seconds.reset();
            else p.eta_seconds = static_cast<double>(*number);
        }
    } else if (const auto *units = std::get_if<std::vector<UnitProgress>>(&value)) {
        if (name == "Units") s.progress.units = *units;
    }
}

std::optional<RunListing> find_run(const std::vector<RunListing> &runs, const std::string &id) {
    if (id.empty()) return std::nullopt;
    for (auto it = runs.rbegin(); it != runs.rend(); ++it)
        if (it->id == id) return *it;
    return std::nullopt;
}

std::string colored_result(const std::string &result, bool color) {
    if (result == "success") return paint(result, kGreen, color);
    if (result == "warning") return paint(result, kYellow, color);
    if (result == "failed" || result == "cancelled" || result == "interrupted") return paint(result, kRed, color);
    return result;
}

std::string relative_time(std::int64_t when, std::int64_t now) {
    const std::int64_t delta = when >= now ? when - now : now - when;
    if (delta == 0) return "just now";
    std::string amount;
    if (delta < 60) amount = std::to_string(delta) + "s";
    else if (delta < 3600) amount = std::to_string(delta / 60) + "m";
    else if (delta < 86400) amount = std::to_string(delta / 3600) + "h " + std::to_string(delta % 3600 / 60) + "m";
    else amount = std::to_string(delta / 86400) + "d " + std::to_string(delta % 86400 / 3600) + "h";
    return when >= now ? "in " + amount : amount + " ago";
}

std::string status_text(const DaemonStatus &s, const Style &style) {
    std::string out;
    const bool running = s.state == "running" || s.state == "stopping";
    out += paint("dailysyncd", kBold, style.color) + ": " + paint(s.state, running ? kBlue : kReset, style.color && running);
    if (!s.current_run_id.empty()) out += ", run " + s.current_run_id;
    out += "\n";
    if (running) {
        if (s.progress.units.empty()) {
            out += "  progress:   before copying: checking, scanning or comparing the trees (systemctl status dailysyncd shows how far)\n";
        } else {
            const auto lines = live_view(s.progress, 100);
            out += "  progress:   " + lines.front() + "\n";
            for (std::size_t i = 1; i < lines.size(); ++i) out += "            " + lines[i] + "\n";
        }
    }
    if (s.last_run) {
        const RunListing &r = *s.last_run;
        out += "  last run:   " + r.id + " " + colored_result(r.result, style.color) + ", started " + style.time(r.started) + " (" +
               relative_time(r.started, style.now) + "), took " + format_duration(static_cast<double>(r.finished - r.started)) + "\n";
    } else if (!s.last_run_id.empty()) {
        out += "  last run:   " + s.last_run_id + " " + colored_result(s.last_result, style.color) + "\n";
    } else {
        out += "  last run:   none yet\n";
    }
    if (s.next_run_us) {
        const auto next = static_cast<std::int64_t>(s.next_run_us / 1'000'000ULL);
        out += "  next run:   " + style.time(next) + " (" + relative_time(next, style.now) + ")\n";
    }
    if (s.bottleneck && !s.bottleneck->empty()) {
        out += "  bottleneck: " + *s.bottleneck + "\n";
        if (s.bottleneck_evidence && !s.bottleneck_evidence->empty()) out += "              " + *s.bottleneck_evidence + "\n";
    }
    return out;
}

nlohmann::ordered_json status_json(const DaemonStatus &s) {
    nlohmann::ordered_json doc;
    doc["state"] = s.state;
    doc["current_run_id"] = s.current_run_id;
    doc["last_run_id"] = s.last_run_id;
    doc["last_result"] = s.last_result;
    if (s.last_run) {
        doc["last_run_started"] = s.last_run->started;
        doc["last_run_finished"] = s.last_run->finished;
    }
    doc["next_run"] = s.next_run_us ? nlohmann::ordered_json(s.next_run_us / 1'000'000ULL) : nlohmann::ordered_json(nullptr);
    if (s.bottleneck) doc["bottleneck"] = *s.bottleneck;
    if (s.bottleneck_evidence) doc["bottleneck_evidence"] = *s.bottleneck_evidence;
    if (s.state == "running" || s.state == "stopping") {
        const ProgressSnapshot &p = s.progress;
        nlohmann::ordered_json units = nlohmann::ordered_json::array();
        for (const auto &u : p.units)
            units.push_back({{"name", u.name}, {"state", u.state}, {"bytes_done", u.bytes_done}, {"bytes_total", u.bytes_total},
                             {"files_done", u.files_done}, {"files_total", u.files_total}});
        doc["progress"] = {{"bytes_done", p.bytes_done},
                           {"bytes_total", p.bytes_total},
                           {"files_done", p.files_done},
                           {"files_total", p.files_total},
                           {"bytes_per_second", p.bytes_per_second},
                           {"eta_seconds", p.eta_seconds ? nlohmann::ordered_json(*p.eta_seconds) : nlohmann::ordered_json(nullptr)},
                           {"units", std::move(units)}};
    }
    return doc;
}

std::vector<std::string> problems_of(const nlohmann::json &report, std::size_t limit) {
    std::vector<std::string> lines;
    if (!report.is_object()) return lines;
    auto first_line = [](std::string text) { return text.substr(0, text.find('\n')); };
    if (report.contains("error") && report["error"].is_string()) lines.push_back("  error: " + first_line(report["error"].get<std::string>()));
    // A verify's findings by path (the report has the first ones of each kind).
    if (report.contains("verify") && report["verify"].is_object()) {
        const auto &verify = report["verify"];
        std::size_t listed = 0;
        for (const auto &[key, tag] : {std::pair{"differing_paths", "differs"}, std::pair{"missing_paths", "missing"},
                                       std::pair{"extraneous_paths", "extraneous"}}) {
            if (std::string_view(key) == "extraneous_paths" && !verify.value("mirror", false)) continue;
            if (!verify.contains(key) || !verify[key].is_array()) continue;
            for (const auto &path : verify[key])
                if (path.is_string() && listed++ < limit) lines.push_back(std::string("  ") + tag + ": " + path.get<std::string>());
        }
        if (listed > limit) lines.push_back("  ... (dailysyncctl report " + report.value("run_id", std::string("RUN_ID")) + " lists more)");
    }
    if (!report.contains("units") || !report["units"].is_array()) return lines;
    std::size_t shown = 0, more = 0;
    for (const auto &unit : report["units"]) {
        if (!unit.is_object()) continue;
        const std::string result = unit.value("result", "");
        if (result != "failed" && result != "partial" && result != "warning") continue;
        if (shown == limit) {
            ++more;
            continue;
        }
        ++shown;
        std::string line = "  unit " + unit.value("name", "?") + ": " + result;
        if (const std::string message = first_line(unit.value("message", "")); !message.empty()) line += ": " + message;
        lines.push_back(std::move(line));
    }
    if (more > 0) lines.push_back("  ... and " + std::to_string(more) + (more == 1 ? " more unit" : " more units"));
    return lines;
}

HistoryRow history_row(const RunListing &run, const std::optional<nlohmann::json> &report) {
    HistoryRow row{run, {}, {}, {}};
    if (report && report->contains("totals") && (*report)["totals"].is_object()) {
        const auto &totals = (*report)["totals"];
        row.files = count(totals, "files");
        row.bytes = count(totals, "bytes");
        row.bytes_copied = count(totals, "bytes_transferred");
    }
    return row;
}

std::string history_text(const std::vector<HistoryRow> &rows, const Style &style) {
    if (rows.empty()) return "no runs yet\n";
    std::size_t time_width = 7;
    for (const auto &row : rows) time_width = std::max(time_width, style.time(row.run.started).size());
    std::string out = pad("RUN ID", 20) + pad("STARTED", time_width + 2) + pad("DURATION", 11, true) + "  " + pad("RESULT", 10) +
                      pad("FILES", 10, true) + pad("BYTES", 11, true) + pad("COPIED", 11, true) + "\n";
    auto number = [](const std::optional<std::uint64_t> &value, bool bytes) {
        if (!value) return std::string("-");
        return bytes ? format_bytes(*value) : std::to_string(*value);
    };
    for (const auto &row : rows) {
        // Padding is measured on the plain word; the color codes go around it.
        const std::string result = pad(row.run.result, 10);
        out += pad(row.run.id, 20) + pad(style.time(row.run.started), time_width + 2) +
               pad(format_duration(static_cast<double>(row.run.finished - row.run.started)), 11, true) + "  " +
               colored_result(row.run.result, style.color) + result.substr(row.run.result.size()) +
               pad(number(row.files, false), 10, true) + pad(number(row.bytes, true), 11, true) +
               pad(number(row.bytes_copied, true), 11, true) + (row.run.dry_run ? "  dry run" : "") + "\n";
    }
    return out;
}

nlohmann::ordered_json history_json(const std::vector<HistoryRow> &rows) {
    nlohmann::ordered_json runs = nlohmann::ordered_json::array();
    for (const auto &row : rows) {
        nlohmann::ordered_json run = {{"run_id", row.run.id},
                                      {"result", row.run.result},
                                      {"started", row.run.started},
                                      {"finished", row.run.finished},
                                      {"seconds", row.run.finished - row.run.started},
                                      {"dry_run", row.run.dry_run}};
        auto optional = [](const std::optional<std::uint64_t> &v) { return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr); };
        run["files"] = optional(row.files);
        run["bytes"] = optional(row.bytes);
        run["bytes_copied"] = optional(row.bytes_copied);
        runs.push_back(std::move(run));
    }
    return runs;
}

int exit_status_for_result(std::string_view result) {
    if (result == "success") return kExitOk;
    if (result == "warning") return kExitRunWarning;
    return kExitRunFailed;
}

Failure explain_bus_error(std::string_view name, std::string_view message, std::string_view method, bool user_bus) {
    const std::string bus = user_bus ? "session bus" : "system bus";
    if (name == "org.freedesktop.DBus.Error.ServiceUnknown" || name == "org.freedesktop.DBus.Error.NameHasNoOwner")
        return {kExitNoDaemon, "dailysyncd is not running (nobody owns io.dailysync1 on the " + bus + ")" +
                                   (user_bus ? std::string() : "; start it with: systemctl start dailysyncd")};
    if (name == "org.freedesktop.DBus.Error.AccessDenied" || name == "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired")
        return {kExitDenied, "not authorized to " + std::string(method) +
                                 ": run it as root (or get the polkit action io.dailysync1.manage granted)"};
    if (name == "org.freedesktop.DBus.Error.NoReply" || name == "org.freedesktop.DBus.Error.Timeout")
        return {kExitNoDaemon, "dailysyncd did not answer " + std::string(method) + " in time"};
    if (name.rfind(dbus::kErrorPrefix, 0) == 0) return {kExitRefused, std::string(message)};
    return {kExitRefused, std::string(method) + " failed: " + std::string(message) + " (" + std::string(name) + ")"};
}

Failure explain_connect_error(std::string_view reason, bool user_bus) {
    return {kExitNoDaemon, "cannot connect to the " + std::string(user_bus ? "session" : "system") + " bus: " + std::string(reason)};
}

}  // namespace dailysync::ctl
