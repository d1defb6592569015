#include "io/terminal.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

namespace dailysync {

bool is_terminal(int fd) { return ::isatty(fd) == 1; }

std::size_t terminal_width(int fd) {
    struct winsize ws {};
    if (::ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20) return ws.ws_col;
    return 80;
}

void LiveArea::draw(const std::vector<std::string> &lines) {
    std::string out;
    if (drawn_ > 0) out += "\x1b[" + std::to_string(drawn_) + "A";
    for (const auto &line : lines) out += "\r\x1b[2K" + line + "\n";
    for (std::size_t i = lines.size(); i < drawn_; ++i) out += "\r\x1b[2K\n";
    if (drawn_ > lines.size()) out += "\x1b[" + std::to_string(drawn_ - lines.size()) + "A";
    drawn_ = lines.size();
    out_ << out << std::flush;
}

void LiveArea::clear() {
    if (drawn_ == 0) return;
    std::string out = "\x1b[" + std::to_string(drawn_) + "A";
    for (std::size_t i = 0; i < drawn_; ++i) out += "\r\x1b[2K\n";
    out += "\x1b[" + std::to_string(drawn_) + "A";
    drawn_ = 0;
    out_ << out << std::flush;
}

}  // namespace dailysync
