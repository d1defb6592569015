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

double unit_fraction(const UnitStatus &u) {
    const double b = u.bytes_total ? static_cast<double>(u.bytes_done) / static_cast<double>(u.bytes_total) : 1.0;
    const double f = u.files_total ? static_cast<double>(u.files_done) / static_cast<double>(u.files_total) : 1.0;
    return std::min(1.0, (b + f) / 2.0);
}

}  // namespace

std::string progress_bar(double fraction, std::size_t width) {
    if (width < 3) return {};
    const std::size_t inner = width - 2;
    const auto filled = static_cast<std::size_t>(std::floor(std::clamp(fraction, 0.0, 1.0) * static_cast<double>(inner)));
    return "[" + std::string(filled, '#') + std::string(inner - filled, '.') + "]";
}

std::vector<std::string> live_view(const RunModel &run, std::size_t width) {
    const RunTotals t = run.totals();
    std::vector<std::string> lines;
    const std::string numbers = " " + percent_text(t.fraction) + "  " + format_bytes(t.bytes_done) + "/" +
                                format_bytes(t.bytes_total) + "  " + std::to_string(t.files_done) + "/" +
                                std::to_string(t.files_total) + " files  " + format_rate(t.bytes_per_second) +
                                "  eta " + format_eta(t.eta_seconds) + "  units " + std::to_string(t.units_finished) +
                                "/" + std::to_string(t.units_total);
    const std::size_t bar_width = width > numbers.size() + 12 ? std::min<std::size_t>(40, width - numbers.size()) : 12;
    lines.push_back(fit(progress_bar(t.fraction, bar_width) + numbers, width));
    for (const auto &u : run.units()) {
        if (u.state != UnitState::running) continue;
        const std::string tail = " " + percent_text(unit_fraction(u)) + " " + std::to_string(u.files_done) + "/" +
                                 std::to_string(u.files_total) + " files " + format_bytes(u.bytes_done);
        lines.push_back(fit("  " + progress_bar(unit_fraction(u), 12) + tail + "  " + u.unit.name, width));
    }
    return lines;
}

std::string plain_progress_line(const RunModel &run) {
    const RunTotals t = run.totals();
    std::string line = "progress " + percent_text(t.fraction) + " " + format_bytes(t.bytes_done) + "/" +
                       format_bytes(t.bytes_total) + " " + std::to_string(t.files_done) + "/" +
                       std::to_string(t.files_total) + " files " + format_rate(t.bytes_per_second) + " eta " +
                       format_eta(t.eta_seconds);
    std::string running;
    for (const auto &u : run.units()) {
        if (u.state != UnitState::running) continue;
        running += (running.empty() ? "" : ", ") + u.unit.name;
    }
    if (!running.empty()) line += " running: " + running;
    return line;
}

}  // namespace dailysync
