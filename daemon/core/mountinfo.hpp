// /proc/self/mountinfo text -> the mounts it lists, and where a path really is: which
// filesystem (device) and which folder of it, seen through bind mounts. Pure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dailysync {

// Field 5 of every line, with the kernel's octal escapes (\040 for a space, \011, \012,
// \134) decoded.
std::vector<std::string> parse_mount_points(std::string_view mountinfo);

struct Mount {
    std::string device;        // "major:minor"
    std::string root;          // the folder of that filesystem mounted here ("/" for a whole one)
    std::string mount_point;
};
std::vector<Mount> parse_mounts(std::string_view mountinfo);

// Where an absolute, resolved path (no symlinks, no "..") lives: the device and the path
// inside that filesystem. A bind mount of /data/prod/x at /mnt/x gives /mnt/x/y the same
// location as /data/prod/x/y. Later mounts over the same point win, as in the kernel.
struct FilesystemLocation {
    std::string device;
    std::string path;
};
FilesystemLocation locate(const std::vector<Mount> &mounts, const std::string &resolved_path);

// "" when the two locations are apart, else a sentence saying which holds which.
// `a_role`/`b_role`: "source", "destination".
std::string overlap_of(const FilesystemLocation &a, const std::string &a_role, const FilesystemLocation &b, const std::string &b_role);

}  // namespace dailysync
