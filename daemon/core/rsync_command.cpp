#include "core/rsync_command.hpp"

#include "core/versions.hpp"

namespace dailysync {

namespace {
std::string folder(const std::string &root, const std::string &relative) {
    return relative.empty() ? root + "/" : root + "/" + relative + "/";
}
}  // namespace

std::string rsync_name_prefix(const WorkUnit &unit) {
    return unit.listed() || unit.base.empty() ? std::string() : unit.base + "/";
}

std::string files_from_input(const std::vector<std::string> &files) {
    std::string input;
    for (const auto &file : files) {
        // rsync skips an entry starting with '#' or ';' as a comment, NUL-separated or
        // not; "./" in front is the same path to it and starts with neither.
        if (!file.empty() && (file.front() == '#' || file.front() == ';')) input += "./";
        (input += file) += '\0';
    }
    return input;
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
    } else {
        // Every unit's names start at the source's top, whatever the split: each unit's
        // folder or members follow "/./" (--relative), so an exclude pattern (anchored,
        // with a '/' or "**") and --backup-dir mean what they mean to one rsync of the
        // whole tree. The folders above them are not sent again (--no-implied-dirs): they
        // exist (their own non-recursive unit made them first), and where they do not (a
        // dry run) rsync makes or imagines them.
        args.insert(args.end(), {"--relative", "--no-implied-dirs"});
        if (!unit.recursive) args.insert(args.end(), {"--no-recursive", "--dirs"});   // the folder's own entries, not below
    }
    if (dry_run) args.push_back("--dry-run");
    if (!backup_dir.empty() && !dry_run) {
        // Renamed there, not copied: the versions live on the destination's filesystem.
        args.push_back("--backup");
        args.push_back("--backup-dir=" + backup_dir);
    }
    // The versions folder at the destination's top is neither sent nor deleted: the first
    // rule that matches wins, so it comes before every other. Always, so that turning
    // "versions" off never deletes the versions kept so far.
    args.push_back("--filter=- /" + std::string(kVersionsFolder));
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
    if (unit.listed()) {
        args.push_back(folder(config.source, ""));
    } else {
        const std::string from_top = config.source + "/./";
        if (unit.members.empty()) args.push_back(unit.base.empty() ? from_top : from_top + unit.base + "/");
        for (const auto &member : unit.members) args.push_back(from_top + join_path(unit.base, member));
    }
    args.push_back(folder(config.destination, ""));
    return args;
}

}  // namespace dailysync
