#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/config.hpp"
#include "core/config_fields.hpp"

using namespace dailysync;

namespace {

// One row of the reference table in docs/configuration.md, its markup taken out.
struct DocumentedKey {
    std::string type, default_text, meaning;
};

std::string trimmed(const std::string &text) {
    const auto first = text.find_first_not_of(' ');
    if (first == std::string::npos) return {};
    return text.substr(first, text.find_last_not_of(' ') - first + 1);
}

// Backticks and bold go: the descriptors hold plain text.
std::string without_markup(std::string text) {
    std::erase(text, '`');
    for (auto bold = text.find("**"); bold != std::string::npos; bold = text.find("**")) text.erase(bold, 2);
    return trimmed(text);
}

// The table under "| key | type | default | meaning |", up to the first line that is not a row.
// A key that appears twice is recorded in `repeated`.
std::map<std::string, DocumentedKey> documented_keys(std::vector<std::string> &repeated) {
    std::ifstream in(std::string(SOURCE_DIR) + "/docs/configuration.md");
    EXPECT_TRUE(in) << "cannot read docs/configuration.md";
    std::map<std::string, DocumentedKey> keys;
    std::string line;
    while (std::getline(in, line) && line != "| key | type | default | meaning |") {
    }
    std::getline(in, line);   // |---|---|...
    while (std::getline(in, line) && line.rfind("| ", 0) == 0) {
        std::vector<std::string> cells;
        std::stringstream row(line.substr(1));
        for (std::string cell; std::getline(row, cell, '|');) cells.push_back(cell);
        EXPECT_GE(cells.size(), 4u) << line;
        if (cells.size() < 4) continue;
        // The meaning is the rest: prose may hold a '|' of its own.
        std::string meaning = cells[3];
        for (std::size_t i = 4; i < cells.size(); ++i) meaning += "|" + cells[i];
        const std::string key = without_markup(cells[0]);
        if (keys.contains(key)) repeated.push_back(key);
        keys[key] = DocumentedKey{without_markup(cells[1]), without_markup(cells[2]), without_markup(meaning)};
    }
    return keys;
}

}  // namespace

// The reference table is written by hand for people; the descriptors are what the daemon
// does. Each key in one is in the other, with the same type and default, and the meaning
// starts with the descriptor's summary.
TEST(ConfigFields, TheDocumentedReferenceTableMatchesTheDescriptors) {
    std::vector<std::string> repeated;
    const auto documented = documented_keys(repeated);
    EXPECT_TRUE(repeated.empty()) << "documented twice: " << ::testing::PrintToString(repeated);
    ASSERT_FALSE(documented.empty()) << "no reference table found in docs/configuration.md";
    for (const auto &field : config_fields()) {
        const auto row = documented.find(field.name);
        if (row == documented.end()) {
            ADD_FAILURE() << field.name << " is a configuration key but has no row in docs/configuration.md's reference table";
            continue;
        }
        EXPECT_EQ(row->second.type, field.type) << field.name << ": the type in docs/configuration.md";
        EXPECT_EQ(row->second.default_text, field.default_text()) << field.name << ": the default in docs/configuration.md";
        EXPECT_EQ(row->second.meaning.rfind(field.summary, 0), 0u)
            << field.name << ": docs/configuration.md's meaning does not start with the summary \"" << field.summary << "\": "
            << row->second.meaning.substr(0, 200);
    }
    for (const auto &row : documented) {
        const std::string &name = row.first;
        const auto &fields = config_fields();
        EXPECT_TRUE(std::any_of(fields.begin(), fields.end(), [&](const ConfigField &field) { return field.name == name; }))
            << name << " is documented in docs/configuration.md but is no configuration key";
    }
}

TEST(ConfigFields, TheEffectiveConfigurationAndTheSuggestionsHaveEveryKey) {
    const auto config = parse_config(R"({"source": "/data/prod", "destination": "/data/prod_backup"})").config;
    ASSERT_TRUE(config);
    const auto effective = nlohmann::ordered_json::parse(config_to_json(*config));
    std::vector<std::string> names;
    for (const auto &[name, value] : effective.items()) names.push_back(name);
    std::vector<std::string> described;
    for (const auto &field : config_fields()) {
        described.push_back(field.name);
        EXPECT_EQ(closest_key(field.name), field.name);
        EXPECT_EQ(field.pointer(), "/" + field.name);
        // What a key left out becomes is what its default says.
        if (field.presence != ConfigField::Presence::required) {
            EXPECT_EQ(effective[field.name], nlohmann::ordered_json::parse(field.default_text())) << field.name;
        }
        // A key whose null means its default says so in its type, and only such a key.
        const bool says_null = field.type.ends_with(" or null");
        EXPECT_EQ(says_null, field.presence == ConfigField::Presence::nullable) << field.name << ": " << field.type;
    }
    EXPECT_EQ(names, described);
}
