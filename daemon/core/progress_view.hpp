// What the terminal shows during a run: a live multi-line view for a TTY, a plain line
// for logs and pipes. Pure: the caller draws the lines.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/run_model.hpp"

namespace dailysync {

std::string progress_bar(double fraction, std::size_t width);   // "[#####.....]"

// Line 1: overall bar, %, bytes, files, rate, ETA. Then one line per running unit.
// Every line fits in `width` columns.
std::vector<std::string> live_view(const RunModel &run, std::size_t width);

// "progress 45% 1.20 GB/2.60 GB 1234/5000 files 35.2 MB/s eta 1:20 running: alpha, beta"
std::string plain_progress_line(const RunModel &run);

}  // namespace dailysync
