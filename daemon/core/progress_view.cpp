#include "core/progress_view.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/format.hpp"

namespace dailysync {

namespace {

std::string percent_text(double fraction) {
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, "%3d%%", static_cast<int>(std::floor(fraction * 100.0)));
    return buffer;
}

// Cuts to `width` display columns; names may hold multi-byte UTF-8, so count code points.
std::string fit(const std::string &text, std::size_t width) {
    std::size_t columns = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;
        if (columns == width) return text.substr(0, i);
        ++columns;
    }
    return text;
}

// A name in at most `width` columns: cut with "..." at the end when longer.
std::string elide(const std::string &name, std::size_t width) {
    if (fit(name, width) == name) return name;
    if (width <= 3) return fit(name, width);
    return fit(name, width - 3) + "...";   // fit() cuts between characters, never inside one
}

// The mean of the byte and entry fractions, as RunModel computes it.
double fraction(std::uint64_t bytes_done, std::uint64_t bytes_total, std::uint64_t files_done, std::uint64_t files_total) {
    const double b = bytes_total ? static_cast<double>(bytes_done) / static_cast<double>(bytes_total) : 1.0;
    const double f = files_total ? static_cast<double>(files_done) / static_cast<double>(files_total) : 1.0;
    return std::clamp((b + f) / 2.0, 0.0, 1.0);
}

bool is_running(const UnitProgress &u) { return u.state == to_string(UnitState::running); }

bool is_finished(const UnitProgress &u) {
    for (auto state : {UnitState::success, UnitState::warning, UnitState::partial, UnitState::failed, UnitState::cancelled})
        if (u.state == to_string(state)) return true;
    return false;
}

std::size_t finished_units(const ProgressSnapshot &p) {
    return static_cast<std::size_t>(std::count_if(p.units.begin(), p.units.end(), is_finished));
}

double overall_fraction(const ProgressSnapshot &p) {
    if (!p.units.empty() && finished_units(p) == p.units.size()) return 1.0;
    return fraction(p.bytes_done, p.bytes_total, p.files_done, p.files_total);
}

}  // namespace

std::string progress_bar(double fraction, std::size_t width) {
    if (width < 3) return {};
    const std::size_t inner = width - 2;
    const auto filled = static_cast<std::size_t>(std::floor(std::clamp(fraction, 0.0, 1.0) * static_cast<double>(inner)));
    return "[" + std::string(filled, '#') + std::string(inner - filled, '.') + "]";
}

ProgressSnapshot snapshot_of(const RunModel &run) {
    const RunTotals t = run.totals();
    ProgressSnapshot p{t.bytes_done, t.bytes_total, t.files_done, t.files_total, t.bytes_per_second, t.eta_seconds, {}};
    for (const auto &u : run.units())
        p.units.push_back({u.unit.name, std::string(to_string(u.state)), u.bytes_done, u.bytes_total, u.files_done, u.files_total});
    return p;
}

std::vector<std::string> live_view(const ProgressSnapshot &p, std::size_t width) {
    const std::size_t finished = finished_units(p);
    const double overall = overall_fraction(p);
    // Every field has a fixed width for the run (numbers padded to their total's width), so
    // the line does not jitter; fields that do not fit are left out whole, least useful
    // first, never cut.
    const std::string total_files = std::to_string(p.files_total), total_units = std::to_string(p.units.size());
    struct Field {
        std::string text;
        int drop_order;   // higher goes first
    };
    constexpr int kBarOrder = 5;   // the bar goes after the units count, before the rate
    std::vector<Field> fields = {
        {percent_text(overall), 0},
        {pad(format_bytes(p.bytes_done), 7, true) + "/" + pad(format_bytes(p.bytes_total), 7), 3},
        {pad(std::to_string(p.files_done), total_files.size(), true) + "/" + total_files + " files", 2},
        {pad(format_rate(p.bytes_per_second), 9, true), 4},
        {"eta " + pad(format_eta(p.eta_seconds), 7), 1},
        {"units " + pad(std::to_string(finished), total_units.size(), true) + "/" + total_units, 6},
    };
    auto joined = [&] {
        std::string text;
        for (const auto &f : fields) text += (text.empty() ? "" : "  ") + f.text;
        return text;
    };
    constexpr std::size_t kMinBar = 12, kMaxBar = 40;
    bool with_bar = true;
    std::string numbers = joined();
    while (numbers.size() + (with_bar ? 1 + kMinBar : 0) > width && (fields.size() > 1 || with_bar)) {
        const auto last = std::max_element(fields.begin(), fields.end(), [](const Field &a, const Field &b) { return a.drop_order < b.drop_order; });
        if (with_bar && (fields.size() == 1 || last->drop_order < kBarOrder)) with_bar = false;
        else fields.erase(last);
        numbers = joined();
    }
    std::vector<std::string> lines;
    if (with_bar)
        lines.push_back(progress_bar(overall, std::min(kMaxBar, width - numbers.size() - 1)) + " " + numbers);
    else
        lines.push_back(fit(numbers, width));
    for (const auto &u : p.units) {
        if (!is_running(u)) continue;
        const double f = fraction(u.bytes_done, u.bytes_total, u.files_done, u.files_total);
        const std::string head = "  " + progress_bar(f, kMinBar) + " " + percent_text(f) + " " + std::to_string(u.files_done) + "/" +
                                 std::to_string(u.files_total) + " files " + format_bytes(u.bytes_done) + "  ";
        lines.push_back(head.size() < width ? head + elide(u.name, width - head.size()) : fit("  " + u.name, width));
    }
    return lines;
}

std::string plain_progress_line(const ProgressSnapshot &p) {
    const double overall = overall_fraction(p);
    std::string line = "progress " + percent_text(overall) + " " + format_bytes(p.bytes_done) + "/" +
                       format_bytes(p.bytes_total) + " " + std::to_string(p.files_done) + "/" +
                       std::to_string(p.files_total) + " files " + format_rate(p.bytes_per_second) + " eta " +
                       format_eta(p.eta_seconds);
    std::string running;
    for (const auto &u : p.units) {
        if (!is_running(u)) continue;
        running += (running.empty() ? "" : ", ") + u.name;
    }
    if (!running.empty()) line += " running: " + running;
    return line;
}

}  // namespace dailysync
