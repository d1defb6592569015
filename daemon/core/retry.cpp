#include "core/retry.hpp"

#include <algorithm>
#include <optional>

#include "core/names.hpp"

namespace dailysync {

namespace {

// A daily run's listed unit, again: the whole trees of the folders whose changes it
// carried (what changed there since is copied too), each once, by one recursive rsync
// from the source's top.
std::optional<WorkUnit> listed_unit_of(const nlohmann::json &u) {
    const auto &listed = u["listed"];
    if (!listed.is_object() || !listed.contains("raw_folders") || !listed["raw_folders"].is_array()) return std::nullopt;
    std::vector<std::string> folders;
    for (const auto &f : listed["raw_folders"]) {
        auto folder = f.is_string() ? from_hex(f.get<std::string>()) : std::nullopt;
        if (!folder || !is_safe_relative_path(*folder)) return std::nullopt;
        folders.push_back(*folder);
    }
    if (folders.empty()) return std::nullopt;
    std::sort(folders.begin(), folders.end());
    std::vector<std::string> cover;   // none below another
    for (const auto &f : folders) {
        const bool covered = std::any_of(cover.begin(), cover.end(), [&f](const std::string &c) {
            return c.empty() || f == c || f.rfind(c + "/", 0) == 0;
        });
        if (!covered) cover.push_back(f);
    }
    WorkUnit unit;
    unit.name = u.value("name", "") + " (whole folders)";
    unit.base = "";
    unit.recursive = true;
    unit.folders = cover;
    for (const auto &f : cover) unit.files.push_back(f.empty() ? "." : f);
    return unit;
}

// The unit as it was planned; nullopt when the report does not say it exactly.
std::optional<WorkUnit> unit_of(const nlohmann::json &u) {
    if (u.contains("listed")) return listed_unit_of(u);
    WorkUnit unit;
    unit.name = u.value("name", "");
    unit.recursive = u.value("recursive", true);
    unit.expand = u.value("expand", false);
    if (u.contains("raw")) {
        const auto &raw = u["raw"];
        if (!raw.is_object() || !raw.contains("path") || !raw["path"].is_string()) return std::nullopt;
        auto base = from_hex(raw["path"].get<std::string>());
        if (!base) return std::nullopt;
        unit.base = *base;
        if (raw.contains("members") && raw["members"].is_array())
            for (const auto &m : raw["members"]) {
                auto member = m.is_string() ? from_hex(m.get<std::string>()) : std::nullopt;
                if (!member) return std::nullopt;
                unit.members.push_back(*member);
            }
    } else {
        if (!u.contains("path") || !u["path"].is_string()) return std::nullopt;
        unit.base = u["path"].get<std::string>();
        if (u.contains("members") && u["members"].is_array())
            for (const auto &m : u["members"]) {
                if (!m.is_string()) return std::nullopt;
                unit.members.push_back(m.get<std::string>());
            }
    }
    if (!is_safe_relative_path(unit.base)) return std::nullopt;
    for (const auto &member : unit.members)
        if (member.empty() || member.find('/') != std::string::npos || member == "." || member == "..") return std::nullopt;
    return unit;
}

}  // namespace

RetryPlan plan_retry(const std::string &run_id, const nlohmann::json &report) {
    RetryPlan plan;
    plan.of = run_id;
    const std::string result = report.value("result", "");
    if (report.contains("verify")) {
        plan.error = "run " + run_id + " was a verify: it copies nothing, so there is nothing to retry (the next run copies what it "
                                       "found missing or marked; dailysyncctl verify checks again)";
        return plan;
    }
    if (report.value("dry_run", false)) {
        plan.error = "run " + run_id + " was a dry run: nothing to retry";
        return plan;
    }
    if (result == "success" || result == "warning") {
        plan.error = "run " + run_id + " ended " + result + ": no unit failed, nothing to retry";
        return plan;
    }
    const auto units = report.contains("units") && report["units"].is_array() ? report["units"] : nlohmann::json::array();
    for (const auto &u : units) {
        if (!u.is_object()) continue;
        const std::string state = u.value("result", "");
        if (state == "success" || state == "warning") continue;
        auto unit = unit_of(u);
        if (!unit) {
            plan.units.clear();
            plan.error = "the report of run " + run_id + " does not say exactly which folders unit \"" + printable_name(u.value("name", "?")) +
                         "\" covered: start a whole run instead (dailysyncctl start)";
            return plan;
        }
        plan.units.push_back(std::move(*unit));
    }
    if (plan.units.empty()) {
        const std::string error = report.value("error", "");
        plan.error = "run " + run_id + " " + (result.empty() ? "has no result" : "ended " + result) + " before any unit of it failed" +
                     (error.empty() ? "" : " (" + error + ")") + ": nothing to retry; start a whole run instead (dailysyncctl start)";
    }
    return plan;
}

}  // namespace dailysync
