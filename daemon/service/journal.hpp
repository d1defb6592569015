// Logging: structured journal entries when stderr is connected to journald
// (JOURNAL_STREAM matches), plain "<N>message" lines on stderr otherwise.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dailysync {

// Stable MESSAGE_IDs, explained in systemd/dailysyncd.catalog.
inline constexpr const char *kMessageRunStarted = "b8b4206e60d547f6a074c5b6a79eaa06";
inline constexpr const char *kMessageRunFinished = "82f7f69e85c04d3b8321b8d47d995504";
inline constexpr const char *kMessageUnitFailed = "b94b35e88f974001a6758e2331b74b5a";

using LogFields = std::vector<std::pair<std::string, std::string>>;   // NAME (upper case) -> value

class Journal {
public:
    Journal();   // decides once where entries go
    void log(int priority, std::string_view message, const LogFields &fields = {}, const char *message_id = nullptr);
    bool to_journal() const { return to_journal_; }

private:
    bool to_journal_;
};

}  // namespace dailysync
