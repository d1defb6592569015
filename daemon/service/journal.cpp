#define SD_JOURNAL_SUPPRESS_LOCATION
#include "service/journal.hpp"

#include <cstdio>
#include <cstdlib>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

namespace dailysync {

namespace {
bool stderr_is_journal() {
    const char *stream = std::getenv("JOURNAL_STREAM");
    if (!stream) return false;
    unsigned long long device = 0, inode = 0;
    if (std::sscanf(stream, "%llu:%llu", &device, &inode) != 2) return false;
    struct stat st {};
    if (::fstat(STDERR_FILENO, &st) != 0) return false;
    return st.st_dev == device && st.st_ino == inode;
}
}  // namespace

Journal::Journal() : to_journal_(stderr_is_journal()) {}

void Journal::log(int priority, std::string_view message, const LogFields &fields, const char *message_id) {
    if (!to_journal_) {
        std::string line = "<" + std::to_string(priority) + ">";
        for (char c : message) line += (c == '\n') ? ' ' : c;
        line += "\n";
        ::write(STDERR_FILENO, line.data(), line.size());
        return;
    }
    std::vector<std::string> items;
    items.push_back("MESSAGE=" + std::string(message));
    items.push_back("PRIORITY=" + std::to_string(priority));
    items.push_back("SYSLOG_IDENTIFIER=dailysyncd");
    if (message_id) items.push_back(std::string("MESSAGE_ID=") + message_id);
    for (const auto &[name, value] : fields) items.push_back(name + "=" + value);
    std::vector<struct iovec> iov;
    for (auto &item : items) iov.push_back({item.data(), item.size()});
    sd_journal_sendv(iov.data(), static_cast<int>(iov.size()));
}

}  // namespace dailysync
