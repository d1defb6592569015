// Drawing a block of lines that is redrawn in place on a terminal (the live progress of
// `dailysyncd --once` and `dailysyncctl watch`).
#pragma once

#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

namespace dailysync {

bool is_terminal(int fd);
std::size_t terminal_width(int fd);   // columns; 80 when unknown

class LiveArea {
public:
    explicit LiveArea(std::ostream &out) : out_(out) {}
    void draw(const std::vector<std::string> &lines);   // replaces what was drawn before
    void clear();                                        // erases it; the cursor goes back to its start

private:
    std::ostream &out_;
    std::size_t drawn_ = 0;
};

}  // namespace dailysync
