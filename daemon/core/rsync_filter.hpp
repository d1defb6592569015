// The configured excludes as rsync applies them (each rsync's names start at the source's
// top, see rsync_command.hpp), for the daemon's own compare of the two
// trees (core/tree_compare.hpp): the compare must skip exactly the entries rsync skips.
// Pure.
//
// What rsync does with an --exclude PATTERN (exclude.c rule_matches, wildmatch.c), and so
// what is done here, on a path relative to the transfer root (the source):
//   - a trailing '/' makes the rule match folders only;
//   - a pattern starting with '/' (anchored) is matched against the whole path, '/' and
//     "**" inside or not;
//   - a pattern with no '/' and no "**" is matched against the entry's name only;
//   - one with an inner '/' and no "**" against the path's last (slashes + 1) elements;
//   - one with "**" (not leading) against the whole path and every tail after a '/';
//     one starting with "**" against the whole path with a '/' in front ("**/x"
//     matches "x" at the top);
//   - '*' matches any run of characters but '/', "**" any run at all, '?' one character
//     but '/', "[...]" one character of a set ('!' or '^' negates, ranges, '\' escapes),
//     never '/'; '\' escapes the next character — all only when the pattern holds one of
//     "*?[": otherwise it is compared as plain text, backslashes included.
// An excluded folder is not entered, and an excluded entry on the destination is not
// deleted (rsync protects it without --delete-excluded).
// Forms matched differently or not at all here are refused by compile(): "***", the
// "[:class:]" sets, "/" or "//..." alone.
#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace dailysync {

class ExcludeRules {
public:
    // The rules, or why one of them cannot be matched exactly as rsync would.
    static std::variant<ExcludeRules, std::string> compile(const std::vector<std::string> &patterns);
    // `path`: relative to the source, no leading or trailing '/'.
    bool excluded(std::string_view path, bool is_dir) const;
    bool empty() const { return rules_.empty(); }

private:
    struct Rule {
        std::string pattern;      // without the trailing '/'
        bool dirs_only = false;
        bool anchored = false;    // started with '/' (taken off the pattern)
        bool wild = false;        // holds one of "*?["
        bool double_star = false; // holds "**"
        bool leading_double_star = false;
        int slashes = 0;
    };
    bool matches(const Rule &rule, std::string_view path, bool is_dir) const;
    std::vector<Rule> rules_;
};

// rsync's wildmatch (the subset above): true when `pattern` matches all of `text`.
bool wildmatch(std::string_view pattern, std::string_view text);

}  // namespace dailysync
