#include "ctl/client.hpp"
#include "ctl/command_line.hpp"
#include "core/dbus_names.hpp"

#include <cerrno>
#include <cstring>

namespace dailysync::ctl {

namespace {

constexpr const char *kName = dbus::kBusName;
constexpr const char *kPath = dbus::kObjectPath;
constexpr const char *kInterface = dbus::kInterface;

// Reads one variant holding s, t or a(sstttti); other types are skipped (nullopt).
std::optional<PropertyValue> read_variant(sd_bus_message *m) {
    const char *contents = nullptr;
    if (sd_bus_message_peek_type(m, nullptr, &contents) < 0 || !contents) return std::nullopt;
    const std::string type = contents;
    if (sd_bus_message_enter_container(m, 'v', contents) < 0) return std::nullopt;
    std::optional<PropertyValue> value;
    if (type == "s") {
        const char *text = nullptr;
        if (sd_bus_message_read(m, "s", &text) >= 0) value = std::string(text);
    } else if (type == "t") {
        uint64_t number = 0;
        if (sd_bus_message_read(m, "t", &number) >= 0) value = static_cast<std::uint64_t>(number);
    } else if (type == "a(sstttti)") {
        std::vector<UnitProgress> units;
        if (sd_bus_message_enter_container(m, 'a', "(sstttti)") >= 0) {
            const char *name = nullptr, *state = nullptr;
            uint64_t bytes_done, bytes_total, files_done, files_total;
            int32_t exit_code;
            while (sd_bus_message_read(m, "(sstttti)", &name, &state, &bytes_done, &bytes_total, &files_done, &files_total,
                                       &exit_code) > 0)
                units.push_back({name, state, bytes_done, bytes_total, files_done, files_total});
            sd_bus_message_exit_container(m);
            value = std::move(units);
        }
    } else {
        sd_bus_message_skip(m, contents);
    }
    sd_bus_message_exit_container(m);
    return value;
}

// Reads an a{sv} of properties, calling `apply` for each one we understand.
int read_properties(sd_bus_message *m, const std::function<void(std::string_view, const PropertyValue &)> &apply) {
    int r = sd_bus_message_enter_container(m, 'a', "{sv}");
    if (r < 0) return r;
    while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
        const char *name = nullptr;
        if ((r = sd_bus_message_read(m, "s", &name)) < 0) return r;
        if (auto value = read_variant(m)) apply(name, *value);
        if ((r = sd_bus_message_exit_container(m)) < 0) return r;
    }
    if (r < 0) return r;
    return sd_bus_message_exit_container(m);
}

}  // namespace

Client::~Client() {
    if (bus_) sd_bus_flush_close_unref(bus_);
}

std::optional<Failure> Client::connect() {
    const int r = user_bus_ ? sd_bus_open_user(&bus_) : sd_bus_open_system(&bus_);
    if (r < 0) {
        bus_ = nullptr;
        return explain_connect_error(std::strerror(-r), user_bus_);
    }
    return std::nullopt;
}

Failure Client::failure_of(const sd_bus_error &error, int r, const char *method) const {
    if (error.name) return explain_bus_error(error.name, error.message ? error.message : "", method, user_bus_);
    return explain_connect_error(std::strerror(-r), user_bus_);
}

int Client::call(const char *method, sd_bus_message **reply, sd_bus_error *error, const char *signature, const char *arg) {
    return arg ? sd_bus_call_method(bus_, kName, kPath, kInterface, method, error, reply, signature, arg)
               : sd_bus_call_method(bus_, kName, kPath, kInterface, method, error, reply, signature);
}

Outcome<DaemonStatus> Client::status() {
    Outcome<DaemonStatus> out;
    sd_bus_error error = SD_BUS_ERROR_NULL;
    sd_bus_message *reply = nullptr;
    int r = sd_bus_call_method(bus_, kName, kPath, "org.freedesktop.DBus.Properties", "GetAll", &error, &reply, "s", kInterface);
    if (r < 0) {
        out.failure = failure_of(error, r, "read the status");
    } else {
        r = read_properties(reply, [&](std::string_view name, const PropertyValue &value) { apply_property(out.value, name, value); });
        if (r < 0) out.failure = Failure{kExitRefused, std::string("cannot decode the properties: ") + std::strerror(-r)};
    }
    sd_bus_message_unref(reply);
    sd_bus_error_free(&error);
    if (out.failure) return out;
    // The last run is the daemon's LastRunId; ListRuns only adds its times.
    auto runs = list_runs();
    if (runs.failure) out.failure = runs.failure;
    else out.value.last_run = find_run(runs.value, out.value.last_run_id);
    return out;
}

Outcome<std::string> Client::call_for_string(const char *method, const char *arg) {
    Outcome<std::string> out;
    sd_bus_error error = SD_BUS_ERROR_NULL;
    sd_bus_message *reply = nullptr;
    int r = arg ? call(method, &reply, &error, "s", arg) : call(method, &reply, &error);
    const char *text = nullptr;
    if (r >= 0) r = sd_bus_message_read(reply, "s", &text);
    if (r < 0) out.failure = failure_of(error, r, method);
    else out.value = text;
    sd_bus_message_unref(reply);
    sd_bus_error_free(&error);
    return out;
}

Outcome<std::string> Client::start_run_allowing_mass_change() {
    Outcome<std::string> out;
    sd_bus_error error = SD_BUS_ERROR_NULL;
    sd_bus_message *reply = nullptr;
    int r = sd_bus_call_method(bus_, kName, kPath, kInterface, "StartRunWithOptions", &error, &reply, "a{sv}", 1, "allow_mass_change",
                               "b", 1);
    const char *text = nullptr;
    if (r >= 0) r = sd_bus_message_read(reply, "s", &text);
    if (r < 0) out.failure = failure_of(error, r, "StartRunWithOptions");
    else out.value = text;
    sd_bus_message_unref(reply);
    sd_bus_error_free(&error);
    return out;
}

std::optional<Failure> Client::call_for_nothing(const char *method) {
    sd_bus_error error = SD_BUS_ERROR_NULL;
    std::optional<Failure> failure;
    if (int r = call(method, nullptr, &error); r < 0) failure = failure_of(error, r, method);
    sd_bus_error_free(&error);
    return failure;
}

Outcome<std::vector<RunListing>> Client::list_runs() {
    Outcome<std::vector<RunListing>> out;
    sd_bus_error error = SD_BUS_ERROR_NULL;
    sd_bus_message *reply = nullptr;
    int r = call("ListRuns", &reply, &error);
    if (r >= 0) r = sd_bus_message_enter_container(reply, 'a', "(ssttb)");
    if (r >= 0) {
        const char *id = nullptr, *result = nullptr;
        uint64_t started = 0, finished = 0;
        int dry_run = 0;
        while ((r = sd_bus_message_read(reply, "(ssttb)", &id, &result, &started, &finished, &dry_run)) > 0)
            out.value.push_back({id, result, static_cast<std::int64_t>(started / 1'000'000ULL),
                                 static_cast<std::int64_t>(finished / 1'000'000ULL), dry_run != 0});
    }
    if (r < 0) out.failure = failure_of(error, r, "ListRuns");
    sd_bus_message_unref(reply);
    sd_bus_error_free(&error);
    return out;
}

std::optional<Failure> Client::subscribe(Handlers handlers) {
    handlers_ = std::move(handlers);
    int r = sd_bus_match_signal(bus_, nullptr, kName, kPath, "org.freedesktop.DBus.Properties", "PropertiesChanged",
                                &Client::on_properties_changed, this);
    if (r >= 0) r = sd_bus_match_signal(bus_, nullptr, kName, kPath, kInterface, "RunFinished", &Client::on_run_finished, this);
    if (r >= 0) {
        const std::string rule = std::string("type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',"
                                             "member='NameOwnerChanged',arg0='") + kName + "'";
        r = sd_bus_add_match(bus_, nullptr, rule.c_str(), &Client::on_name_owner_changed, this);
    }
    if (r < 0) return Failure{kExitNoDaemon, std::string("cannot subscribe to the daemon's signals: ") + std::strerror(-r)};
    return std::nullopt;
}

std::optional<Failure> Client::process(std::chrono::milliseconds wait) {
    for (;;) {
        int r = sd_bus_process(bus_, nullptr);
        if (r < 0) return explain_connect_error(std::strerror(-r), user_bus_);
        if (r == 0) break;
    }
    int r = sd_bus_wait(bus_, static_cast<uint64_t>(wait.count()) * 1000ULL);
    if (r < 0 && r != -EINTR) return explain_connect_error(std::strerror(-r), user_bus_);
    return std::nullopt;
}

int Client::on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *) {
    auto *self = static_cast<Client *>(userdata);
    const char *interface = nullptr;
    if (sd_bus_message_read(m, "s", &interface) < 0 || std::string_view(interface) != kInterface) return 0;
    if (self->handlers_.property_changed) read_properties(m, self->handlers_.property_changed);
    return 0;
}

int Client::on_run_finished(sd_bus_message *m, void *userdata, sd_bus_error *) {
    auto *self = static_cast<Client *>(userdata);
    const char *run_id = nullptr, *result = nullptr;
    if (sd_bus_message_read(m, "ss", &run_id, &result) >= 0 && self->handlers_.run_finished) self->handlers_.run_finished(run_id, result);
    return 0;
}

int Client::on_name_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *) {
    auto *self = static_cast<Client *>(userdata);
    const char *name = nullptr, *old_owner = nullptr, *new_owner = nullptr;
    if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) >= 0 && new_owner && !*new_owner && self->handlers_.daemon_gone)
        self->handlers_.daemon_gone();
    return 0;
}

}  // namespace dailysync::ctl
