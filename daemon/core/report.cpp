#include "core/report.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/format.hpp"
#include "core/names.hpp"
#include "core/tree_stats.hpp"

namespace dailysync {

using nlohmann::ordered_json;

namespace {

double seconds_between(const std::optional<WallClock::time_point> &from, const std::optional<WallClock::time_point> &to) {
    if (!from || !to) return 0;
    return std::chrono::duration<double>(*to - *from).count();
}

std::int64_t epoch_seconds(WallClock::time_point when) {
    return std::chrono::duration_cast<std::chrono::seconds>(when.time_since_epoch()).count();
}

}  // namespace

std::vector<std::string> affected_projects(const UnitStatus &unit, const std::string &source) {
    std::vector<std::string> projects;
    auto add = [&](const std::string &project) {
        if (std::find(projects.begin(), projects.end(), project) == projects.end()) projects.push_back(project);
    };
    const std::string prefix = printable_name(source) + "/";
    for (const auto &path : unit.errors.failed_paths) {
        if (path.compare(0, prefix.size(), prefix) != 0) continue;
        const std::string relative = path.substr(prefix.size());
        const auto slash = relative.find('/');
        add(slash == std::string::npos ? "." : relative.substr(0, slash));
    }
    if (!projects.empty()) return projects;
    const std::string &base = unit.unit.base;
    if (!base.empty()) {
        add(printable_name(base.substr(0, base.find('/'))));
    } else if (!unit.unit.members.empty()) {
        for (const auto &member : unit.unit.members) add(printable_name(member));
    } else {
        add(".");
    }
    return projects;
}

std::vector<std::string> members_not_copied(const UnitStatus &unit) {
    std::vector<std::string> out;
    if (unit.unit.members.empty() || unit.state == UnitState::success || unit.state == UnitState::warning || !is_final(unit.state))
        return out;
    for (const auto &member : unit.unit.members) {
        const std::string relative = printable_name(join_path(unit.unit.base, member)), own = printable_name(member);
        // rsync names paths absolute or relative to the unit's folder.
        auto names_member = [&](const std::string &path) {
            return path == relative || path.rfind(relative + "/", 0) == 0 || path == own || path.rfind(own + "/", 0) == 0 ||
                   path.find("/" + relative + "/") != std::string::npos ||
                   (path.size() > relative.size() && path.compare(path.size() - relative.size() - 1, std::string::npos, "/" + relative) == 0);
        };
        const auto &paths = unit.errors.failed_paths;
        if (unit.state != UnitState::partial || std::any_of(paths.begin(), paths.end(), names_member)) out.push_back(relative);
    }
    return out;
}

std::vector<std::string> covered_projects(const UnitStatus &status) {
    const WorkUnit &unit = status.unit;
    if (!unit.base.empty()) return {printable_name(unit.base.substr(0, unit.base.find('/')))};
    std::vector<std::string> projects;
    for (const auto &member : unit.members) projects.push_back(printable_name(member));
    if (unit.members.empty() && unit.recursive)
        for (const auto &project : status.projects) projects.push_back(printable_name(project));
    return projects;
}

int exit_status_for(RunResult result) {
    switch (result) {
    case RunResult::success: return 0;
    case RunResult::warning: return 1;
    case RunResult::failed:
    case RunResult::cancelled: return 2;
    }
    return 2;
}

namespace {
// "would copy        alpha/new.mov", one line per change a dry run found, then how many
// more there were.
std::string changes_text(const nlohmann::json &changes) {
    std::string out;
    std::uint64_t listed = 0;
    if (changes.contains("listed") && changes["listed"].is_array()) {
        for (const auto &change : changes["listed"]) {
            if (!change.is_object()) continue;
            const std::string action = change.value("action", "");
            out += pad(action == "attributes" ? "would set attributes" : "would " + action, 22) + change.value("path", "") + "\n";
            ++listed;
        }
    }
    const std::uint64_t omitted = changes.contains("omitted") && changes["omitted"].is_number_unsigned() ? changes["omitted"].get<std::uint64_t>() : 0;
    if (omitted > 0)
        out += "... and " + count_of(omitted, "more change", "more changes") + " (the report lists the first " + std::to_string(listed) + ")\n";
    if (listed == 0) out += "nothing would change\n";
    return out;
}
}  // namespace

std::string report_json(const RunModel &run, const ReportContext &context) {
    const RunTotals totals = run.totals();
    ordered_json doc;
    doc["schema_version"] = kReportSchemaVersion;
    doc["run_id"] = run.run_id();
    doc["result"] = std::string(to_string(run.result()));
    if (!run.run_error().empty()) doc["error"] = run.run_error();
    for (const Problem &failure : run.failures()) {
        // The same failures as data: what kind, on which side, where (the error reads them joined).
        ordered_json item{{"kind", std::string(to_string(failure.kind))}};
        if (failure.side != Side::none) item["side"] = std::string(to_string(failure.side));
        if (!failure.path.empty()) item["path"] = printable_name(failure.path);
        if (failure.error_number != 0) item["errno"] = failure.error_number;
        item["text"] = failure.text;
        doc["failures"].push_back(std::move(item));
    }
    if (!run.warnings().empty()) doc["warnings"] = run.warnings();
    doc["dry_run"] = run.dry_run();
    if (!context.retry_of.empty()) doc["retry_of"] = context.retry_of;
    if (context.compare) {
        const CompareOutcome &c = *context.compare;
        if (c.used) {
            const double total = run.finished() ? seconds_between(run.started(), run.finished()) : 0;
            doc["compare"] = {{"used", true},
                              {"seconds", c.seconds},
                              {"copy_seconds", std::max(0.0, total - c.seconds)},
                              {"cpu_seconds", c.cpu_seconds},
                              {"threads", c.threads},
                              {"entries_compared", c.compared},
                              {"created", c.created},
                              {"updated", c.updated},
                              {"attributes", c.attributes},
                              {"replaced", c.replaced},
                              {"deleted", c.deleted},
                              {"bytes_to_send", c.bytes},
                              {"unreadable", c.unreadable},
                              {"unreadable_count", c.unreadable_count},
                              {"whole_trees", c.whole}};
        } else {
            doc["compare"] = {{"used", false}, {"why_not", c.why_not}};
        }
    }
    if (context.verify)
        doc["verify"] = {{"scope", context.verify->scope},
                         {"differing", context.verify->differing},
                         {"differing_paths", context.verify->paths},
                         {"marked", context.verify->marked},
                         {"mark_errors", context.verify->mark_errors},
                         {"mirror", context.verify->mirror},
                         {"missing", context.verify->missing},
                         {"missing_paths", context.verify->missing_paths},
                         {"extraneous", context.verify->extraneous},
                         {"extraneous_paths", context.verify->extraneous_paths},
                         {"outdated", context.verify->outdated},
                         {"outdated_paths", context.verify->outdated_paths}};
    doc["source"] = context.source;
    doc["destination"] = context.destination;
    doc["concurrency"] = context.concurrency;
    if (!run.concurrency_notes().empty()) {
        ordered_json notes = ordered_json::array();
        for (const auto &n : run.concurrency_notes())
            notes.push_back({{"seconds", n.seconds}, {"from", n.from}, {"to", n.to}, {"evidence", n.evidence}});
        doc["concurrency_changes"] = std::move(notes);
    }
    doc["started"] = format_utc(run.started());
    doc["started_epoch"] = epoch_seconds(run.started());
    if (run.finished()) {
        doc["finished"] = format_utc(*run.finished());
        doc["finished_epoch"] = epoch_seconds(*run.finished());
        doc["seconds"] = seconds_between(run.started(), run.finished());
    }
    if (context.cpu_self_seconds >= 0)
        doc["cpu"] = {{"self_seconds", context.cpu_self_seconds}, {"children_seconds", context.cpu_children_seconds}};
    if (context.peak_rss_bytes > 0) doc["memory"] = {{"daemon_peak_rss_bytes", context.peak_rss_bytes}};
    if (context.versions)
        doc["versions"] = {{"point", context.versions->point},
                           {"kept_in", context.versions->kept_in},
                           {"pruned", context.versions->pruned},
                           {"error", context.versions->error},
                           {"set_aside", context.versions->set_aside},
                           {"prepare_seconds", context.versions->prepare_seconds},
                           {"finish_seconds", context.versions->finish_seconds}};
    if (!context.hooks.empty()) doc["hooks"] = hooks_json(context.hooks);
    if (context.bottleneck)
        doc["bottleneck"] = {{"resource", context.bottleneck->resource},
                             {"evidence", context.bottleneck->evidence},
                             {"advice", context.bottleneck->advice}};
    if (const auto &d = run.deletion_summary(); d && d->pending > 0) {
        doc["deletion_guard"] = {{"max_delete", d->limit},
                                 {"pending", d->pending},
                                 {"before_copying", d->before_copying},
                                 {"allowed", d->allowed},
                                 {"destination_entries", d->destination_entries},
                                 {"refused", d->refused}};
        if (!d->not_deleted_because.empty()) doc["deletion_guard"]["not_deleted_because"] = d->not_deleted_because;
    }
    if (run.dry_run()) {
        const ChangeList &c = run.changes();
        ordered_json listed = ordered_json::array();
        for (const auto &change : c.listed) listed.push_back({{"action", std::string(to_string(change.kind))}, {"path", change.path}});
        ordered_json counts = ordered_json::object();
        for (auto kind : {ChangeKind::copy, ChangeKind::update, ChangeKind::attributes, ChangeKind::remove, ChangeKind::differs})
            counts[std::string(to_string(kind))] = c.counts[static_cast<int>(kind)];
        doc["changes"] = {{"counts", std::move(counts)}, {"listed", std::move(listed)}, {"omitted", c.omitted}};
    }
    doc["totals"] = {
        {"files", totals.files_total},
        {"bytes", totals.bytes_total},
        {"files_transferred", totals.files_transferred},
        {"bytes_transferred", totals.bytes_transferred},
        {"deletions", totals.deletions},
        {"units", totals.units_total},
        {"units_failed", totals.units_failed},
    };
    ordered_json units = ordered_json::array();
    for (const auto &u : run.units()) {
        ordered_json unit;
        unit["name"] = u.unit.name;
        unit["path"] = printable_name(u.unit.base);
        if (!u.unit.members.empty()) {
            nlohmann::ordered_json members = nlohmann::ordered_json::array();
            for (const auto &m : u.unit.members) members.push_back(printable_name(m));
            unit["members"] = std::move(members);
        }
        unit["recursive"] = u.unit.recursive;
        if (u.unit.expand) unit["expand"] = true;
        if (u.unit.listed()) {
            // A daily run's list: the folders whose changes it carried (a retry copies
            // their trees again; the list itself is not kept).
            ordered_json folders = ordered_json::array(), raw = ordered_json::array();
            for (const auto &f : u.unit.folders) {
                folders.push_back(f.empty() ? std::string(".") : printable_name(f));
                raw.push_back(to_hex(f));
            }
            unit["listed"] = {{"entries", u.unit.files.size()}, {"deletions", u.unit.deletions}, {"folders", std::move(folders)},
                              {"raw_folders", std::move(raw)}};
        }
        // Names that do not read back as they are (bytes that are not UTF-8, control
        // characters, a backslash) also go in hexadecimal, for dailysyncctl retry.
        auto exact = [](const std::string &raw) { return printable_name(raw) == raw && raw.find('\\') == std::string::npos; };
        if (!exact(u.unit.base) || !std::all_of(u.unit.members.begin(), u.unit.members.end(), exact)) {
            nlohmann::ordered_json members = nlohmann::ordered_json::array();
            for (const auto &m : u.unit.members) members.push_back(to_hex(m));
            unit["raw"] = {{"path", to_hex(u.unit.base)}, {"members", std::move(members)}};
        }
        unit["result"] = std::string(to_string(u.state));
        unit["exit_code"] = u.exit_code;
        if (u.exit_code >= 0) unit["exit_meaning"] = std::string(interpret_exit_code(u.exit_code).description);
        unit["attempts"] = u.attempts;
        unit["seconds"] = seconds_between(u.started, u.finished);
        unit["files"] = u.files_total;
        unit["bytes"] = u.bytes_total;
        unit["files_transferred"] = u.files_transferred;
        unit["bytes_transferred"] = u.bytes_transferred;
        unit["deletions"] = u.deletions;
        if (u.pending_deletions) unit["pending_deletions"] = u.pending_deletions;
        if (!u.message.empty()) unit["message"] = u.message;
        if (const auto missing = members_not_copied(u); !missing.empty()) unit["members_not_copied"] = missing;
        if (u.errors.failed_count) {
            unit["failed_paths"] = u.errors.failed_paths;
            unit["failed_count"] = u.errors.failed_count;
        }
        if (u.errors.vanished_count) {
            unit["vanished_paths"] = u.errors.vanished_paths;
            unit["vanished_count"] = u.errors.vanished_count;
        }
        units.push_back(std::move(unit));
    }
    doc["units"] = std::move(units);
    return doc.dump(2, ' ', false, ordered_json::error_handler_t::replace) + "\n";
}

std::string interrupted_report_json(const std::string &run_id, std::int64_t started_epoch, std::int64_t found_epoch,
                                    const ReportContext &context) {
    ordered_json doc;
    doc["schema_version"] = kReportSchemaVersion;
    doc["run_id"] = run_id;
    doc["result"] = "interrupted";
    doc["error"] = "dailysyncd stopped during this run without finishing it (killed, crashed or the machine went down); "
                   "what it copied is in place, the next run completes the backup";
    doc["dry_run"] = false;
    doc["source"] = context.source;
    doc["destination"] = context.destination;
    doc["started"] = format_utc(WallClock::time_point(std::chrono::seconds(started_epoch)));
    doc["started_epoch"] = started_epoch;
    doc["finished"] = format_utc(WallClock::time_point(std::chrono::seconds(found_epoch)));
    doc["finished_epoch"] = found_epoch;
    doc["totals"] = ordered_json::object();
    doc["units"] = ordered_json::array();
    return doc.dump(2) + "\n";
}

ParsedReport parse_report(const std::string &text) {
    ParsedReport parsed;
    parsed.doc = nlohmann::json::parse(text, nullptr, false);
    if (parsed.doc.is_discarded()) parsed.error = "not JSON";
    else if (!parsed.doc.is_object()) parsed.error = "not a JSON object";
    else if (parsed.doc.contains("schema_version") && !parsed.doc["schema_version"].is_number_integer())
        parsed.error = "its schema_version is not a number";
    else if (const auto version = parsed.doc.value("schema_version", std::int64_t{1}); version > kReportSchemaVersion)
        parsed.error = "written by a newer dailysyncd (schema_version " + std::to_string(version) + ", this one reads up to " +
                       std::to_string(kReportSchemaVersion) + ")";
    if (!parsed.error.empty()) parsed.doc = nlohmann::json::object();
    return parsed;
}

std::string report_text(const nlohmann::json &report) {
    const auto &units = report.contains("units") && report["units"].is_array() ? report["units"] : nlohmann::json::array();
    auto text = [](const nlohmann::json &object, const char *key) {
        return object.contains(key) && object[key].is_string() ? object[key].get<std::string>() : std::string();
    };
    auto count = [](const nlohmann::json &object, const char *key) -> std::uint64_t {
        return object.contains(key) && object[key].is_number_unsigned() ? object[key].get<std::uint64_t>() : 0;
    };
    auto seconds = [](const nlohmann::json &object) {
        return object.contains("seconds") && object["seconds"].is_number() ? object["seconds"].get<double>() : 0.0;
    };
    auto strings = [](const nlohmann::json &object, const char *key) {
        std::vector<std::string> out;
        if (object.contains(key) && object[key].is_array())
            for (const auto &item : object[key])
                if (item.is_string()) out.push_back(item.get<std::string>());
        return out;
    };
    std::size_t name_width = 4;
    for (const auto &u : units) name_width = std::max(name_width, std::min<std::size_t>(text(u, "name").size(), 40));
    auto row = [&](std::string name, const std::string &result, std::uint64_t files, std::uint64_t bytes, std::uint64_t copied,
                   std::uint64_t deleted, double secs) {
        if (name.size() > 40) name = name.substr(0, 39) + "~";
        return pad(name, name_width) + "  " + pad(result, 9) + pad(std::to_string(files), 10, true) +
               pad(format_bytes(bytes), 11, true) + pad(format_bytes(copied), 11, true) + pad(std::to_string(deleted), 9, true) +
               pad(format_duration(secs), 11, true) + "\n";
    };
    std::string out = pad("UNIT", name_width) + "  " + pad("RESULT", 9) + pad("FILES", 10, true) + pad("BYTES", 11, true) +
                      pad("COPIED", 11, true) + pad("DELETED", 9, true) + pad("TIME", 11, true) + "\n";
    for (const auto &u : units) {
        out += row(text(u, "name"), text(u, "result"), count(u, "files"), count(u, "bytes"), count(u, "bytes_transferred"),
                   count(u, "deletions"), seconds(u));
        if (!text(u, "message").empty()) out += "    " + text(u, "message") + "\n";
        for (const auto &member : strings(u, "members_not_copied")) out += "    not copied (whole folder): " + member + "\n";
        const auto failed = strings(u, "failed_paths");
        for (const auto &path : failed) out += "    not copied: " + path + "\n";
        if (count(u, "failed_count") > failed.size())
            out += "    ... and " + std::to_string(count(u, "failed_count") - failed.size()) + " more\n";
        for (const auto &path : strings(u, "vanished_paths")) out += "    vanished: " + path + "\n";
    }
    const auto &totals = report.contains("totals") && report["totals"].is_object() ? report["totals"] : nlohmann::json::object();
    const std::string result = text(report, "result");
    out += row("TOTAL", result, count(totals, "files"), count(totals, "bytes"), count(totals, "bytes_transferred"),
               count(totals, "deletions"), seconds(report));
    if (!text(report, "error").empty()) out += "error: " + text(report, "error") + "\n";
    for (const auto &warning : strings(report, "warnings")) out += "warning: " + warning + "\n";
    if (report.contains("hooks") && report["hooks"].is_array())
        for (const auto &hook : report["hooks"]) {
            if (!hook.is_object() || (hook.contains("ok") && hook["ok"].is_boolean() && hook["ok"].get<bool>())) continue;
            std::string command;
            for (const auto &arg : strings(hook, "command")) command += (command.empty() ? "" : " ") + arg;
            out += "hook failed: " + text(hook, "stage") + " " + std::to_string(count(hook, "index")) + " (" + command + ")";
            if (!text(hook, "start_error").empty()) out += ": " + text(hook, "start_error");
            else if (hook.value("timed_out", false)) out += ": timed out";
            else if (count(hook, "signal") > 0) out += ": signal " + std::to_string(count(hook, "signal"));
            else out += ": exit status " + std::to_string(count(hook, "exit_code"));
            out += "\n";
        }
    if (report.contains("bottleneck") && report["bottleneck"].is_object()) {
        const auto &b = report["bottleneck"];
        out += "bottleneck: " + text(b, "resource") + " (" + text(b, "evidence") + ")";
        if (!text(b, "advice").empty()) out += "; " + text(b, "advice");
        out += "\n";
    }
    if (report.contains("compare") && report["compare"].is_object()) {
        const auto &c = report["compare"];
        auto number = [&c](const char *key) {
            char buffer[32];
            std::snprintf(buffer, sizeof buffer, "%.1f", c.contains(key) && c[key].is_number() ? c[key].get<double>() : 0.0);
            return std::string(buffer);
        };
        if (c.value("used", false))
            out += "compare: " + std::to_string(count(c, "entries_compared")) + " entries in " + number("seconds") + " s (" +
                   std::to_string(count(c, "threads")) + " threads, " + number("cpu_seconds") + " s CPU): " +
                   std::to_string(count(c, "created") + count(c, "updated") + count(c, "replaced")) + " to copy, " +
                   std::to_string(count(c, "attributes")) + " to fix, " + std::to_string(count(c, "deleted")) +
                   " to delete; then " + number("copy_seconds") + " s copying\n";
        else
            out += "compare: by each rsync (" + text(c, "why_not") + ")\n";
    }
    if (report.contains("deletion_guard") && report["deletion_guard"].is_object()) {
        const auto &guard = report["deletion_guard"];
        const bool refused = guard.contains("refused") && guard["refused"].is_boolean() && guard["refused"].get<bool>();
        const std::uint64_t early = count(guard, "before_copying");   // a compared run's, deleted by its first pass
        const std::string stopped = text(guard, "not_deleted_because");   // the run halted, was cancelled...
        std::string verdict = refused ? "refused, nothing deleted" : report.value("dry_run", false) ? "a real run would delete them" : "deleted";
        if (early > 0) verdict = refused ? "refused all but the " + std::to_string(early) + " allowed before copying"
                                         : "deleted (" + std::to_string(early) + " allowed before copying)";
        if (!stopped.empty() && !report.value("dry_run", false)) {
            // Stopped before all were made: what was, by the run's own count.
            const std::uint64_t done = report.contains("totals") ? count(report["totals"], "deletions") : 0;
            verdict = (done == 0 ? std::string("nothing deleted") : std::to_string(done) + " deleted") + " (" + stopped + ")";
        }
        out += "deletion guard: " + count_of(count(guard, "pending"), "deletion", "deletions") + " found, max_delete " +
               text(guard, "max_delete") + " allows " + std::to_string(count(guard, "allowed")) + " of the " +
               std::to_string(count(guard, "destination_entries")) + " entries the backup held before the run: " + verdict + "\n";
    }
    const bool dry_run = report.contains("dry_run") && report["dry_run"].is_boolean() && report["dry_run"].get<bool>();
    // A verify is a dry run too; its findings are listed below by what they mean.
    if (dry_run && !report.contains("verify") && report.contains("changes") && report["changes"].is_object())
        out += changes_text(report["changes"]);
    if (report.contains("verify") && report["verify"].is_object()) {
        const auto &verify = report["verify"];
        out += "verify of " + text(verify, "scope") + ": " + count_of(count(verify, "differing"), "file differs", "files differ") +
               " in content from the source\n";
        for (const auto &path : strings(verify, "differing_paths")) out += "    differs: " + path + "\n";
        for (const auto &error : strings(verify, "mark_errors")) out += "    not marked: " + error + "\n";
        const bool mirror = verify.value("mirror", false);
        const struct {
            const char *key, *one, *many, *tag;
        } kinds[] = {{"missing", "entry missing from the backup", "entries missing from the backup", "missing"},
                     {"extraneous", mirror ? "entry the source no longer has (not deleted)" : "entry the source no longer has (kept: delete is off)",
                      mirror ? "entries the source no longer has (not deleted)" : "entries the source no longer has (kept: delete is off)",
                      "extraneous"},
                     {"outdated", "file changed since the last run", "files changed since the last run", "outdated"}};
        for (const auto &kind : kinds) {
            if (count(verify, kind.key) == 0) continue;
            out += "verify: " + count_of(count(verify, kind.key), kind.one, kind.many) + "\n";
            for (const auto &path : strings(verify, (std::string(kind.key) + "_paths").c_str())) out += std::string("    ") + kind.tag + ": " + path + "\n";
        }
    }
    if (!text(report, "retry_of").empty()) out += "retry of run " + text(report, "retry_of") + ": only its units that did not succeed\n";
    out += "run " + text(report, "run_id") + (dry_run ? " (dry run: nothing was changed)" : "") + ": " + result + ", " +
           count_of(count(totals, "units"), "unit", "units") + ", " + std::to_string(count(totals, "units_failed")) + " failed, " +
           count_of(count(totals, "files_transferred"), "file", "files") + (dry_run ? " to copy, " : " copied, ") +
           std::to_string(count(totals, "deletions")) + (dry_run ? " to delete\n" : " deleted\n");
    return out;
}

}  // namespace dailysync
