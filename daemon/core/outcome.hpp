// Results the compiler makes the caller look at. A write is Done or says why not; a read
// gives the value, or says the thing is missing (normal: no report of that run, no
// statistics yet) or unreadable (a damaged file: an error worth telling the admin).
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace dailysync {

class [[nodiscard]] Done {
public:
    static Done success() { return Done({}); }
    static Done failure(std::string why) { return Done(std::move(why)); }
    bool ok() const { return error_.empty(); }
    const std::string &error() const { return error_; }   // "" when ok

private:
    explicit Done(std::string error) : error_(std::move(error)) {}
    std::string error_;
};

template <class T>
class [[nodiscard]] Loaded {
public:
    enum class Status { found, missing, unreadable };
    static Loaded found(T value) { return Loaded(Status::found, std::move(value), {}); }
    static Loaded missing() { return Loaded(Status::missing, std::nullopt, {}); }
    static Loaded unreadable(std::string why) { return Loaded(Status::unreadable, std::nullopt, std::move(why)); }

    Status status() const { return status_; }
    bool has_value() const { return value_.has_value(); }
    const T &value() const { return *value_; }
    T &value() { return *value_; }
    std::optional<T> take() && { return std::move(value_); }
    const std::string &error() const { return error_; }   // why it is unreadable

private:
    Loaded(Status status, std::optional<T> value, std::string error)
        : status_(status), value_(std::move(value)), error_(std::move(error)) {}
    Status status_;
    std::optional<T> value_;
    std::string error_;
};

}  // namespace dailysync
