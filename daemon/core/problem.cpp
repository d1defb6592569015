#include "core/problem.hpp"

namespace dailysync {

std::string_view to_string(ProblemKind kind) {
    switch (kind) {
    case ProblemKind::unavailable: return "unavailable";
    case ProblemKind::unreadable: return "unreadable";
    case ProblemKind::unwritable: return "unwritable";
    case ProblemKind::not_answering: return "not_answering";
    case ProblemKind::refused: return "refused";
    case ProblemKind::copy_failed: return "copy_failed";
    case ProblemKind::damage_found: return "damage_found";
    case ProblemKind::defect: return "defect";
    case ProblemKind::interrupted: return "interrupted";
    }
    return "copy_failed";
}

std::string_view to_string(Side side) {
    switch (side) {
    case Side::none: return "";
    case Side::source: return "source";
    case Side::destination: return "destination";
    case Side::state: return "state";
    }
    return "";
}

std::string no_answer_message(const std::string &what, int seconds) {
    return what + " did not answer for " + std::to_string(seconds) + " s (filesystem_timeout_seconds): is the NAS hung or its network down?";
}

Problem not_answering(Side side, const std::string &path, const std::string &what, int seconds) {
    return Problem{ProblemKind::not_answering, side, path, 0, no_answer_message(what, seconds)};
}

Problem defect(Side side, const std::string &path, const std::string &what, const std::string &exception_text) {
    return Problem{ProblemKind::defect, side, path, 0,
                   "dailysyncd failed while working on " + what + ": " + exception_text +
                       " (a defect in dailysyncd, not a problem of the NAS: please report it with the journal)"};
}

}  // namespace dailysync
