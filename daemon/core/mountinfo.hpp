// /proc/self/mountinfo text -> the mount points it lists. Pure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dailysync {

// Field 5 of every line, with the kernel's octal escapes (\040 for a space, \011, \012,
// \134) decoded.
std::vector<std::string> parse_mount_points(std::string_view mountinfo);

}  // namespace dailysync
