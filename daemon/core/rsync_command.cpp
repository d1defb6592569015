#include "core/rsync_command.hpp"

#include "core/versions.hpp"

namespace dailysync {

namespace {
std::string folder(const std::string &root, const std::string &relative) {
    return relative.empty() ? root + "/" : root + "/" + relative + "/";
}
}  // namespace

std::vector<std::string> unit_sources(const Config &config, const WorkUnit &unit) {
    if (unit.listed()) return {folder(config.source, "")};
    if (unit.members.empty()) return {folder(config.source, unit.base)};
    std::vector<std::string> sources;
    for (const auto &member : unit.members) sources.push_back(folder(config.source, unit.base) + member);
    return sources;
}

std::vector<std::string> rsync_arguments(const Config &config, const WorkUnit &unit, bool dry_run, const std::string &backup_dir) {
    std::vector<std::string> args = {
        "--archive",                       // -rlptgoD: what a backup must preserve
        "--itemize-changes", "--itemize-changes",   // one line per entry, unchanged ones too
        "--out-format=%i %l %n",           // code, size, name: progress by entry and byte
        "--info=progress2,stats2",         // running byte count; the closing statistics
        "--no-human-readable",             // plain digits
        "--outbuf=L",                      // flush every line into our pipe
        "--checksum-choice=xxh128",        // the whole-file check of each copy: xxHash, not MD5 (CPU)
    };
    if (config.preserve.hard_links) args.push_back("--hard-links");
    if (config.preserve.acls) args.push_back("--acls");
    if (config.preserve.xattrs) args.push_back("--xattrs");
    if (config.preserve.sparse) args.push_back("--sparse");
    if (unit.listed()) {
        // The entries on stdin, NUL-separated, each with its path from the source's top
        // (--relative is implied: so are their parent folders, which exist on both sides
        // or are listed). No recursion: a listed folder is itself, its new contents are
        // listed one by one.
        // A recursive one (a folder's whole tree) deletes like every recursive unit.
        args.insert(args.end(), {"--files-from=-", "--from0", unit.recursive ? "--recursive" : "--no-recursive"});
    } else if (!unit.recursive) {
        args.push_back("--no-recursive");
        args.push_back("--dirs");          // the folder's own entries, not below
    }
    // Below the top level the parent folder exists in a real run (its non-recursive unit
    // made it); in a dry run nothing was made, so let rsync imagine it. The destination
    // root itself is never created.
    if (!unit.base.empty()) args.push_back("--mkpath");
    if (dry_run) args.push_back("--dry-run");
    if (!backup_dir.empty() && !dry_run) {
        // Renamed there, not copied: the versions live on the destination's filesystem.
        args.push_back("--backup");
        args.push_back("--backup-dir=" + (unit.base.empty() ? backup_dir : backup_dir + "/" + unit.base));
    }
    // The versions folder at the destination's top is neither sent nor deleted: the first
    // rule that matches wins, so it comes before every other. Always, so that turning
    // "versions" off never deletes the versions kept so far.
    if (unit.base.empty()) args.push_back("--filter=- /" + std::string(kVersionsFolder));
    // With delete off, every name is protected by a rule before the patterns (rsync takes
    // the first rule that matches, so no later include can win) and again after them (a
    // "!" clears only the rules before it). The configuration refuses both forms anyway;
    // this holds even against a rule form it does not know.
    if (!unit.deletion_pass && !config.delete_extraneous) args.push_back("--filter=protect *");
    for (const auto &pattern : config.exclude) args.push_back("--exclude=" + pattern);
    for (const auto &extra : config.rsync_extra_args) args.push_back(extra);
    if (unit.listed() && !unit.recursive) {
        // What the compare found gone is listed: --delete-missing-args deletes it, and
        // --force lets a folder go for a file of the same name. The guard holds as for
        // every unit: the first pass deletes what the guard allowed before copying (the
        // compare counted it), holds back the rest, and the second pass deletes its share.
        if (unit.deletion_pass) {
            args.insert(args.end(), {"--delete-missing-args", "--force", "--max-delete=" + std::to_string(unit.max_delete)});
        } else if (config.delete_extraneous) {
            args.insert(args.end(), {"--delete-missing-args", "--force"});
            if (config.max_delete.kind != DeleteLimit::Kind::unlimited && !dry_run)
                args.push_back("--max-delete=" + std::to_string(unit.max_delete));
        } else {
            // Without deletions, an entry gone since the compare is no error (as a file
            // vanishing under a recursive rsync is none).
            args.push_back("--ignore-missing-args");
        }
    } else if (unit.deletion_pass) {
        // The guard's second pass: deletions allowed, within the unit's share of max_delete
        // (it also finishes type changes, which need a deletion first).
        args.insert(args.end(), {"--delete", "--max-delete=" + std::to_string(unit.max_delete)});
    } else if (config.delete_extraneous) {
        args.push_back("--delete");
        // Guarded: count what would be deleted, delete nothing (rsync exits 25 if any). A
        // dry run deletes nothing anyway, and without the limit rsync lists each deletion.
        if (config.max_delete.kind != DeleteLimit::Kind::unlimited && !dry_run) args.push_back("--max-delete=0");
    } else {
        // No deletions, yet --delete with everything protected: rsync then reads each
        // destination folder in one listing before checking its entries, instead of
        // looking every entry up on its own. On a network filesystem the listing brings
        // the attributes along (NFS READDIRPLUS, SFTP READDIR), so the checks need no
        // round trip of their own: the daily benchmark run takes 2.4x less time.
        // Deletes nothing ("protect" wins over --delete); type changes behave as without it.
        // The second protect rule, after every pattern (see above).
        args.insert(args.end(), {"--delete", "--filter=protect *"});
    }
    args.push_back("--");
    for (auto &source : unit_sources(config, unit)) args.push_back(std::move(source));
    args.push_back(folder(config.destination, unit.base));
    return args;
}

}  // namespace dailysync
