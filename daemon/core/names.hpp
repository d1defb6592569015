// Printable names: file names are arbitrary bytes, reports and logs are UTF-8 text.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace dailysync {

// Escapes control bytes, bytes that are not valid UTF-8 and a backslash before '#' as
// "\#ooo" (octal), the convention rsync uses in its own output, so names from our scan
// and names quoted by rsync read the same, and unescape_rsync_name gives the bytes back.
// Other valid UTF-8 passes through unchanged.
std::string printable_name(std::string_view raw);

// Reverses rsync's "\#ooo" escapes, giving back the raw bytes of a name.
std::string unescape_rsync_name(std::string_view escaped);
// `escaped` (as rsync printed it) without the leading `raw_prefix` (unescaped bytes), still
// escaped; nullopt when it does not start with them.
std::optional<std::string> strip_raw_prefix(std::string_view escaped, std::string_view raw_prefix);

// A path below the source as units name it: "" (the source itself) or relative, without
// "." or ".." components, empty components, a leading or trailing '/', or NUL.
bool is_safe_relative_path(std::string_view path);

// Raw bytes as lowercase hexadecimal, and back (nullopt when `hex` is not that).
std::string to_hex(std::string_view raw);
std::optional<std::string> from_hex(std::string_view hex);

}  // namespace dailysync
