// The configuration's keys as one table: for each its name, type, default, validation,
// effective value and a line of documentation. Validation (parse_config), the effective
// configuration (config_to_json), the unknown-key suggestions (closest_key) and the
// reference table in docs/configuration.md (checked by a unit test) all come from it, so
// a key cannot be added to one of them and forgotten in another.
// Pure, like config.hpp.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/config.hpp"

namespace dailysync {

struct ConfigField {
    // Whether the key may be left out; `nullable`: also given as null, meaning the same.
    enum class Presence { required, optional, nullable };
    // Validates the key's value and sets its part of the Config. The keys before it in the
    // table are set already, so it may be checked against them. Never called for a key
    // left out, nor for a nullable one given as null.
    using Apply = std::function<void(const nlohmann::json &value, const std::string &pointer, Config &config)>;
    // A rule the key's value must keep whether it was given or not (`given` null: the
    // default is checked). Most keys need none.
    using Check = std::function<void(const Config &config, const nlohmann::json *given, const std::string &pointer)>;
    // The key's value in the effective configuration; `mask_secrets` as config_to_json.
    using Effective = std::function<nlohmann::ordered_json(const Config &config, bool mask_secrets)>;

    std::string name;
    std::string type;      // as the reference table's type column writes it, without its backticks
    std::string summary;   // how the reference table's meaning starts, without backticks or bold
    Presence presence;
    Apply apply;
    Effective effective;
    Check check;

    std::string pointer() const;        // its JSON pointer: "/name"
    // As the reference table's default column writes it (without backticks): "required",
    // or the effective value of a Config nothing was set in, on one line.
    std::string default_text() const;
};

// Every top-level key, in the effective configuration's order, which is also the order
// they are validated in (a key's checks may use the keys before it).
const std::vector<ConfigField> &config_fields();

// What validation throws at the first problem; parse_config returns its error.
struct InvalidConfig {
    ConfigError error;
};

// Validates a parsed document key by key; throws InvalidConfig.
Config config_from_document(const nlohmann::json &document);

// RFC 6901 escaping of one reference token ("a/b" -> "a~1b").
std::string pointer_token(const std::string &key);

}  // namespace dailysync
