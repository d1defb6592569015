#include "core/rsync_command.hpp"

namespace dailysync {

namespace {
std::string join(const std::string &root, const std::string &relative) {
    return relative.empty() ? root + "/" : root + "/" + relative + "/";
}
}  // namespace

std::string unit_source(const Config &config, const WorkUnit &unit) { return join(config.source, unit.path); }

std::string unit_destination(const Config &config, const WorkUnit &unit) { return join(config.destination, unit.path); }

std::vector<std::string> rsync_arguments(const Config &config, const WorkUnit &unit, bool dry_run) {
    std::vector<std::string> args = {
        "--archive",                       // -rlptgoD: what a backup must preserve
        "--itemize-changes", "--itemize-changes",   // one line per entry, unchanged ones too
        "--out-format=%i %l %n",           // code, size, name: progress by entry and byte
        "--info=progress2,stats2",         // running byte count; the closing statistics
        "--no-human-readable",             // plain digits
        "--outbuf=L",                      // flush every line into our pipe
    };
    if (!unit.recursive) {
        args.push_back("--no-recursive");
        args.push_back("--dirs");          // the folder's own entries, not below
    }
    if (config.delete_extraneous) args.push_back("--delete");
    if (dry_run) args.push_back("--dry-run");
    for (const auto &pattern : config.exclude) args.push_back("--exclude=" + pattern);
    for (const auto &extra : config.rsync_extra_args) args.push_back(extra);
    args.push_back("--");
    args.push_back(unit_source(config, unit));
    args.push_back(unit_destination(config, unit));
    return args;
}

}  // namespace dailysync
