// Printable names: file names are arbitrary bytes, reports and logs are UTF-8 text.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace dailysync {

// Escapes control bytes and bytes that are not valid UTF-8 as "\#ooo" (octal), the
// convention rsync uses in its own output, so names from our scan and names quoted by
// rsync read the same. Valid UTF-8 passes through unchanged.
std::string printable_name(std::string_view raw);

// Reverses rsync's "\#ooo" escapes, giving back the raw bytes of a name.
std::string unescape_rsync_name(std::string_view escaped);

// A path below the source as units name it: "" (the source itself) or relative, without
// "." or ".." components, empty components, a leading or trailing '/', or NUL.
bool is_safe_relative_path(std::string_view path);

// Raw bytes as lowercase hexadecimal, and back (nullopt when `hex` is not that).
std::string to_hex(std::string_view raw);
std::optional<std::string> from_hex(std::string_view hex);

}  // namespace dailysync
