#include "core/mountinfo.hpp"

namespace dailysync {

namespace {

std::string unescape_octal(std::string_view field) {
    std::string out;
    for (std::size_t i = 0; i < field.size(); ++i) {
        if (field[i] == '\\' && i + 4 <= field.size()) {
            const std::string_view digits = field.substr(i + 1, 3);
            if (digits.size() == 3 && digits.find_first_not_of("01234567") == std::string_view::npos) {
                out += static_cast<char>((digits[0] - '0') * 64 + (digits[1] - '0') * 8 + (digits[2] - '0'));
                i += 3;
                continue;
            }
        }
        out += field[i];
    }
    return out;
}

}  // namespace

std::vector<Mount> parse_mounts(std::string_view mountinfo) {
    std::vector<Mount> mounts;
    while (!mountinfo.empty()) {
        const auto end = mountinfo.find('\n');
        std::string_view line = mountinfo.substr(0, end);
        mountinfo = end == std::string_view::npos ? std::string_view() : mountinfo.substr(end + 1);
        // mount-id parent-id major:minor root mount-point options ...
        std::vector<std::string_view> fields;
        std::size_t start = 0;
        for (std::size_t i = 0; i <= line.size() && fields.size() < 5; ++i) {
            if (i < line.size() && line[i] != ' ') continue;
            fields.push_back(line.substr(start, i - start));
            start = i + 1;
        }
        if (fields.size() == 5) mounts.push_back({std::string(fields[2]), unescape_octal(fields[3]), unescape_octal(fields[4])});
    }
    return mounts;
}

std::vector<std::string> parse_mount_points(std::string_view mountinfo) {
    std::vector<std::string> points;
    for (auto &mount : parse_mounts(mountinfo)) points.push_back(std::move(mount.mount_point));
    return points;
}

namespace {
// `inner` is `outer` or below it, comparing whole components.
bool within(std::string_view inner, std::string_view outer) {
    if (outer == "/") return !inner.empty() && inner.front() == '/';
    return inner.substr(0, outer.size()) == outer && (inner.size() == outer.size() || inner[outer.size()] == '/');
}
}  // namespace

FilesystemLocation locate(const std::vector<Mount> &mounts, const std::string &resolved_path) {
    const Mount *best = nullptr;
    for (const auto &mount : mounts)
        if (within(resolved_path, mount.mount_point) && (!best || mount.mount_point.size() >= best->mount_point.size())) best = &mount;
    if (!best) return {"", resolved_path};
    const std::string rest = best->mount_point == "/" ? resolved_path : resolved_path.substr(best->mount_point.size());
    std::string path = best->root == "/" ? std::string() : best->root;
    path.append(rest);
    return {best->device, path.empty() ? std::string(1, '/') : path};
}

std::string overlap_of(const FilesystemLocation &a, const std::string &a_role, const FilesystemLocation &b, const std::string &b_role) {
    if (a.device != b.device) return {};
    if (within(a.path, b.path) && within(b.path, a.path)) return "the " + a_role + " and the " + b_role + " are the same folder";
    if (within(a.path, b.path)) return "the " + a_role + " is inside the " + b_role;
    if (within(b.path, a.path)) return "the " + b_role + " is inside the " + a_role;
    return {};
}

}  // namespace dailysync
