// Why something could not be done, as data: what kind of failure, on which side, at which
// path, with which system error, and the sentence an admin reads. Code decides on the kind
// and the side (a NAS that does not answer is retried tomorrow, a defect is a bug to
// report, a refusal is a safety rule that held); people read the text. A run keeps a list
// of them (core/run_model.hpp) and its result and report derive from that list.
#pragma once

#include <string>
#include <string_view>

namespace dailysync {

enum class ProblemKind {
    unavailable,     // a tree or folder is not there, not a folder, not mounted
    unreadable,      // it is there but could not be read (an I/O error, no permission)
    unwritable,      // what had to be written could not be (the state folder, the versions)
    not_answering,   // a call on it made no progress for its deadline (a hung NAS)
    refused,         // a safety rule stopped the run (sentinel, overlap, mass change, a hook that must pass)
    copy_failed,     // units of the copy failed
    damage_found,    // a verify found the backup damaged
    defect,          // dailysyncd itself failed (an exception): a bug to report, never a hung NAS
    interrupted,     // the run was stopped before it knew it was complete
};
std::string_view to_string(ProblemKind kind);

// Where it happened: the tree copied from, the tree written to, the daemon's state folder,
// or nowhere in particular (this host, the configuration, a hook).
enum class Side { none, source, destination, state };
std::string_view to_string(Side side);

struct Problem {
    ProblemKind kind = ProblemKind::copy_failed;
    Side side = Side::none;
    std::string path;           // the file or folder at fault, "" when none
    int error_number = 0;       // errno when a system call said why, else 0
    std::string text;           // one sentence for the admin, naming the side and the path
    bool operator==(const Problem &) const = default;
};

// The sentence for a call on `what` ("the destination /data/prod_backup") that made no
// progress for `seconds` (filesystem_timeout_seconds), and that problem.
std::string no_answer_message(const std::string &what, int seconds);
Problem not_answering(Side side, const std::string &path, const std::string &what, int seconds);
// The sentence for a call on `what` that failed with an exception: a defect, named as one.
Problem defect(Side side, const std::string &path, const std::string &what, const std::string &exception_text);

}  // namespace dailysync
