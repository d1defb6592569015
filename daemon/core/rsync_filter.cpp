#include "core/rsync_filter.hpp"

#include <algorithm>
#include <optional>

namespace dailysync {

namespace {
// One "[...]" set at pattern[i] (just past the '['): whether `c` is in it, and where the
// pattern goes on. nullopt: the set is never closed (rsync: nothing matches then).
struct SetMatch {
    bool matched;
    std::size_t next;
};
std::optional<SetMatch> match_set(std::string_view pattern, std::size_t i, unsigned char c) {
    bool negated = false;
    if (i < pattern.size() && (pattern[i] == '!' || pattern[i] == '^')) {
        negated = true;
        ++i;
    }
    bool matched = false;
    unsigned char previous = 0;
    // The first character is a member even when it is ']' (do ... while in wildmatch.c).
    bool first = true;
    for (;;) {
        if (i >= pattern.size()) return std::nullopt;
        unsigned char p = static_cast<unsigned char>(pattern[i]);
        if (!first && p == ']') break;
        first = false;
        if (p == '\\') {
            if (++i >= pattern.size()) return std::nullopt;
            p = static_cast<unsigned char>(pattern[i]);
            if (c == p) matched = true;
        } else if (p == '-' && previous != 0 && i + 1 < pattern.size() && pattern[i + 1] != ']') {
            p = static_cast<unsigned char>(pattern[++i]);
            if (p == '\\') {
                if (++i >= pattern.size()) return std::nullopt;
                p = static_cast<unsigned char>(pattern[i]);
            }
            if (c <= p && c >= previous) matched = true;
            p = 0;   // a range's end starts no range
        } else if (c == p) {
            matched = true;
        }
        previous = p;
        ++i;
    }
    return SetMatch{matched != negated && c != '/', i + 1};
}
}  // namespace

bool wildmatch(std::string_view pattern, std::string_view text) {
    std::size_t p = 0, t = 0;
    while (p < pattern.size()) {
        const char c = pattern[p];
        if (t >= text.size() && c != '*') return false;
        switch (c) {
        case '\\':
            if (p + 1 < pattern.size()) ++p;
            if (text[t] != pattern[p]) return false;
            break;
        case '?':
            if (text[t] == '/') return false;
            break;
        case '*': {
            std::size_t stars = 0;
            while (p < pattern.size() && pattern[p] == '*') ++p, ++stars;
            const bool any = stars >= 2;   // "**" crosses '/'
            const std::string_view rest = pattern.substr(p);
            const std::string_view left = text.substr(t);
            if (rest.empty()) return any || left.find('/') == std::string_view::npos;
            for (std::size_t i = 0; i <= left.size(); ++i) {
                if (wildmatch(rest, left.substr(i))) return true;
                if (i < left.size() && !any && left[i] == '/') return false;
            }
            return false;
        }
        case '[': {
            const auto set = match_set(pattern, p + 1, static_cast<unsigned char>(text[t]));
            if (!set || !set->matched) return false;
            p = set->next;
            ++t;
            continue;
        }
        default:
            if (text[t] != c) return false;
        }
        ++p;
        ++t;
    }
    return t == text.size();
}

std::variant<ExcludeRules, std::string> ExcludeRules::compile(const std::vector<std::string> &patterns) {
    ExcludeRules rules;
    for (const auto &written : patterns) {
        Rule rule;
        std::string pattern = written;
        if (pattern.empty()) return "an empty exclude pattern";
        if (pattern.front() == '/') {
            rule.anchored = true;
            pattern.erase(0, 1);
            if (pattern.empty() || pattern.front() == '/') return "the exclude pattern \"" + written + "\" (no name after the '/')";
        }
        if (pattern.find("***") != std::string::npos) return "the exclude pattern \"" + written + "\" (\"***\")";
        if (pattern.size() > 1 && pattern.back() == '/') {
            rule.dirs_only = true;
            pattern.pop_back();
        }
        rule.wild = pattern.find_first_of("*?[") != std::string::npos;
        if (rule.wild && pattern.find("[:") != std::string::npos)
            return "the exclude pattern \"" + written + "\" (a \"[:class:]\" set)";
        rule.double_star = pattern.find("**") != std::string::npos;
        rule.leading_double_star = pattern.rfind("**", 0) == 0;
        rule.slashes = static_cast<int>(std::count(pattern.begin(), pattern.end(), '/'));
        rule.pattern = std::move(pattern);
        rules.rules_.push_back(std::move(rule));
    }
    return rules;
}

bool ExcludeRules::matches(const Rule &rule, std::string_view path, bool is_dir) const {
    if (rule.dirs_only && !is_dir) return false;
    auto compare = [&rule](std::string_view text) { return rule.wild ? wildmatch(rule.pattern, text) : text == rule.pattern; };
    if (rule.anchored) return compare(path);   // the whole path from the source's top
    if (rule.slashes == 0 && !rule.double_star) {
        const auto slash = path.rfind('/');
        return compare(slash == std::string_view::npos ? path : path.substr(slash + 1));
    }
    if (!rule.double_star) {
        // The last (slashes + 1) elements; a shorter path cannot match.
        int count = rule.slashes + 1;
        for (std::size_t i = path.size(); i-- > 0;)
            if (path[i] == '/' && --count == 0) return compare(path.substr(i + 1));
        return count == 1 && compare(path);
    }
    // A leading "**" is matched against the path with a '/' in front (rsync's
    // WILD2_PREFIX), so that "**/x" matches "x" at the top too.
    if (rule.leading_double_star) return compare("/" + std::string(path));
    if (compare(path)) return true;
    for (std::size_t i = 0; i < path.size(); ++i)
        if (path[i] == '/' && compare(path.substr(i + 1))) return true;
    return false;
}

bool ExcludeRules::excluded(std::string_view path, bool is_dir) const {
    if (path.empty()) return false;   // the root is never excluded
    return std::any_of(rules_.begin(), rules_.end(), [&](const Rule &rule) { return matches(rule, path, is_dir); });
}

}  // namespace dailysync
