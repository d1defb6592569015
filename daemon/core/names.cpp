#include "core/names.hpp"

#include <algorithm>

namespace dailysync {

namespace {

// Length of the valid UTF-8 sequence starting at text[i], or 0 when invalid.
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
    const auto lead = static_cast<unsigned char>(text[i]);
    std::size_t length;
    unsigned min_value;
    unsigned value;
    if (lead < 0x80) return 1;
    if ((lead & 0xE0) == 0xC0) { length = 2; value = lead & 0x1F; min_value = 0x80; }
    else if ((lead & 0xF0) == 0xE0) { length = 3; value = lead & 0x0F; min_value = 0x800; }
    else if ((lead & 0xF8) == 0xF0) { length = 4; value = lead & 0x07; min_value = 0x10000; }
    else return 0;
    if (i + length > text.size()) return 0;
    for (std::size_t k = 1; k < length; ++k) {
        const auto byte = static_cast<unsigned char>(text[i + k]);
        if ((byte & 0xC0) != 0x80) return 0;
        value = (value << 6) | (byte & 0x3F);
    }
    if (value < min_value || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) return 0;
    return length;
}

void append_escape(std::string &out, unsigned char byte) {
    out += "\\#";
    out += static_cast<char>('0' + ((byte >> 6) & 7));
    out += static_cast<char>('0' + ((byte >> 3) & 7));
    out += static_cast<char>('0' + (byte & 7));
}

}  // namespace

std::string printable_name(std::string_view raw) {
    std::string out;
    out.reserve(raw.size());
    std::size_t i = 0;
    while (i < raw.size()) {
        const auto byte = static_cast<unsigned char>(raw[i]);
        // A backslash before '#' too, as rsync does: else "\\#101" in a name would read
        // as the escape of 'A'.
        if (byte < 0x20 || byte == 0x7F || (byte == '\\' && i + 1 < raw.size() && raw[i + 1] == '#')) {
            append_escape(out, byte);
            ++i;
            continue;
        }
        std::size_t length = utf8_sequence_length(raw, i);
        if (length == 0) {
            append_escape(out, byte);
            ++i;
            continue;
        }
        out.append(raw.substr(i, length));
        i += length;
    }
    return out;
}

namespace {
// The byte that starts at escaped[i] ("\\#ooo" or itself), and where the next begins.
std::pair<char, std::size_t> next_rsync_byte(std::string_view escaped, std::size_t i) {
    if (escaped[i] == '\\' && i + 4 < escaped.size() && escaped[i + 1] == '#' && escaped[i + 2] >= '0' && escaped[i + 2] <= '3' &&
        escaped[i + 3] >= '0' && escaped[i + 3] <= '7' && escaped[i + 4] >= '0' && escaped[i + 4] <= '7')
        return {static_cast<char>(((escaped[i + 2] - '0') << 6) | ((escaped[i + 3] - '0') << 3) | (escaped[i + 4] - '0')), i + 5};
    return {escaped[i], i + 1};
}
}  // namespace

std::string unescape_rsync_name(std::string_view escaped) {
    std::string out;
    out.reserve(escaped.size());
    for (std::size_t i = 0; i < escaped.size();) {
        const auto [byte, next] = next_rsync_byte(escaped, i);
        out += byte;
        i = next;
    }
    return out;
}

std::optional<std::string> strip_raw_prefix(std::string_view escaped, std::string_view raw_prefix) {
    std::size_t i = 0;
    for (const char wanted : raw_prefix) {
        if (i >= escaped.size()) return std::nullopt;
        const auto [byte, next] = next_rsync_byte(escaped, i);
        if (byte != wanted) return std::nullopt;
        i = next;
    }
    return std::string(escaped.substr(i));
}

bool is_safe_relative_path(std::string_view path) {
    if (path.empty()) return true;
    if (path.front() == '/' || path.back() == '/' || path.find('\0') != std::string_view::npos) return false;
    std::size_t begin = 0;
    while (begin <= path.size()) {
        const std::size_t end = std::min(path.find('/', begin), path.size());
        const std::string_view part = path.substr(begin, end - begin);
        if (part.empty() || part == "." || part == "..") return false;
        begin = end + 1;
    }
    return true;
}

std::string to_hex(std::string_view raw) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(raw.size() * 2);
    for (unsigned char c : raw) {
        out += kDigits[c >> 4];
        out += kDigits[c & 15];
    }
    return out;
}

std::optional<std::string> from_hex(std::string_view hex) {
    if (hex.size() % 2 != 0) return std::nullopt;
    auto value = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return -1;
    };
    std::string out;
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        const int high = value(hex[i]), low = value(hex[i + 1]);
        if (high < 0 || low < 0) return std::nullopt;
        out += static_cast<char>(high * 16 + low);
    }
    return out;
}

}  // namespace dailysync
