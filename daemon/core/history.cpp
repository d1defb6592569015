#include "core/history.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/report.hpp"

namespace dailysync {

namespace {
bool older(const RunSummary &a, const RunSummary &b) { return a.started != b.started ? a.started < b.started : a.id < b.id; }

std::optional<RunSummary> summary_of(const nlohmann::json &doc, const char *id_key) {
    if (!doc.is_object() || !doc.contains(id_key) || !doc[id_key].is_string()) return std::nullopt;
    try {
        return RunSummary{doc[id_key].get<std::string>(), doc.value("result", ""), doc.value("started_epoch", std::int64_t{0}),
                          doc.value("finished_epoch", std::int64_t{0}), doc.value("dry_run", false)};
    } catch (const nlohmann::json::exception &) {
        return std::nullopt;   // a field of the wrong type
    }
}
}  // namespace

std::optional<RunSummary> summary_of_report(const std::string &report_text) {
    const ParsedReport parsed = parse_report(report_text);
    if (!parsed.error.empty()) return std::nullopt;
    return summary_of(parsed.doc, "run_id");
}

std::string index_json(const std::vector<RunSummary> &runs) {
    nlohmann::json doc = nlohmann::json::array();
    for (const auto &r : runs)
        doc.push_back({{"id", r.id}, {"result", r.result}, {"started_epoch", r.started}, {"finished_epoch", r.finished}, {"dry_run", r.dry_run}});
    return doc.dump(0, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::optional<std::vector<RunSummary>> parse_index(const std::string &text) {
    const auto doc = nlohmann::json::parse(text, nullptr, false);
    if (!doc.is_array()) return std::nullopt;
    std::vector<RunSummary> runs;
    for (const auto &entry : doc) {
        auto run = summary_of(entry, "id");
        if (!run) return std::nullopt;
        runs.push_back(std::move(*run));
    }
    std::sort(runs.begin(), runs.end(), older);
    return runs;
}

void record_run(std::vector<RunSummary> &runs, RunSummary run) {
    std::erase_if(runs, [&](const RunSummary &r) { return r.id == run.id; });
    runs.insert(std::upper_bound(runs.begin(), runs.end(), run, older), std::move(run));
}

std::vector<std::string> runs_to_prune(const std::vector<RunSummary> &runs, const Config &config, std::int64_t now) {
    std::vector<std::string> prune;
    if (runs.empty()) return prune;
    const std::int64_t oldest_kept = now - static_cast<std::int64_t>(config.history_keep_days) * 86400;
    const std::size_t keep = static_cast<std::size_t>(config.history_keep_runs);
    for (std::size_t i = 0; i + 1 < runs.size(); ++i) {   // the newest (last) always stays
        const bool beyond_count = runs.size() - i > keep;
        const std::int64_t when = runs[i].finished ? runs[i].finished : runs[i].started;
        if (beyond_count || when < oldest_kept) prune.push_back(runs[i].id);
    }
    return prune;
}

}  // namespace dailysync
