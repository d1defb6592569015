// libFuzzer target: arbitrary bytes as rsync's stdout and stderr, fed in pieces of
// arbitrary sizes. The parsers must never crash, hang or read out of bounds, and their
// counters must stay consistent.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/rsync_output.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    if (size == 0) return 0;
    // The first byte chooses how the stream is cut into reads (as pipes deliver it).
    const std::size_t chunk = 1 + data[0] % 64;
    const std::string_view bytes(reinterpret_cast<const char *>(data + 1), size - 1);
    dailysync::RsyncStdoutParser out((data[0] & 0x80) != 0);
    dailysync::RsyncStderrParser err;
    std::uint64_t items = 0;
    out.on_item([&](const dailysync::ItemLine &item) {
        ++items;
        if (item.code.empty()) std::abort();
    });
    for (std::size_t at = 0; at < bytes.size(); at += chunk) {
        out.feed(bytes.substr(at, chunk));
        err.feed(bytes.substr(at, chunk));
    }
    out.finish();
    err.finish();
    const auto &c = out.counters();
    if (c.entries_seen + c.deletions > items) std::abort();
    if (err.summary().failed_paths.size() > dailysync::ErrorSummary::kMaxListed) std::abort();
    if (err.summary().failed_paths.size() > err.summary().failed_count) std::abort();
    (void)dailysync::interpret_exit_code(static_cast<int>(size % 300) - 20);
    return 0;
}
