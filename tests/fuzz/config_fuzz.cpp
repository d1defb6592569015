// libFuzzer target: arbitrary bytes as the configuration file. parse_config must never
// crash or throw; it returns either a config that survives a round trip through its own
// effective JSON, or one error with a message.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char *>(data), size);
    const auto result = dailysync::parse_config(text);
    if (result.config.has_value() == result.error.has_value()) std::abort();
    if (result.error) {
        if (result.error->message.empty()) std::abort();
        (void)dailysync::format_config_error("fuzz.json", *result.error);
        return 0;
    }
    const std::string effective = dailysync::config_to_json(*result.config);
    const auto again = dailysync::parse_config(effective);
    if (!again.config || dailysync::config_to_json(*again.config) != effective) std::abort();
    return 0;
}
