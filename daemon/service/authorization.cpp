#include "service/authorization.hpp"

#include <cstring>
#include <memory>

namespace dailysync {

namespace {

constexpr const char *kAccessDenied = "org.freedesktop.DBus.Error.AccessDenied";

// One check in flight: owns the pending call's slot and the reply callback.
struct Pending {
    sd_bus *bus = nullptr;
    std::string sender;
    bool interactive = false;
    std::function<void(std::optional<Denial>)> done;
    sd_bus_slot *slot = nullptr;
    ~Pending() { sd_bus_slot_unref(slot); }
};

void finish(Pending *raw, std::optional<Denial> denial) {
    std::unique_ptr<Pending> pending(raw);
    auto done = std::move(pending->done);
    done(std::move(denial));
}

int on_polkit_reply(sd_bus_message *reply, void *userdata, sd_bus_error *) {
    auto *pending = static_cast<Pending *>(userdata);
    if (const sd_bus_error *error = sd_bus_message_get_error(reply)) {
        finish(pending, Denial{kAccessDenied, std::string("Not authorized: polkit did not answer (") +
                                                  (error->message ? error->message : error->name) + ")"});
        return 0;
    }
    int authorized = 0, challenge = 0;
    if (sd_bus_message_enter_container(reply, 'r', "bba{ss}") < 0 || sd_bus_message_read(reply, "bb", &authorized, &challenge) < 0) {
        finish(pending, Denial{kAccessDenied, "Not authorized: polkit's answer could not be read"});
        return 0;
    }
    if (authorized) finish(pending, std::nullopt);
    else if (challenge)
        finish(pending, Denial{"org.freedesktop.DBus.Error.InteractiveAuthorizationRequired",
                               std::string("Authentication is required for ") + kManageAction});
    else finish(pending, Denial{kAccessDenied, std::string("Not authorized by polkit for ") + kManageAction});
    return 0;
}

void ask_polkit(Pending *pending) {
    sd_bus_message *m = nullptr;
    int r = sd_bus_message_new_method_call(pending->bus, &m, "org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority",
                                           "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization");
    // subject: the caller's bus name; details: none; flags: 1 = allow user interaction.
    if (r >= 0) r = sd_bus_message_append(m, "(sa{sv})sa{ss}us", "system-bus-name", 1, "name", "s", pending->sender.c_str(),
                                          kManageAction, 0, pending->interactive ? 1u : 0u, "");
    // polkit may wait for the admin to type a password: allow it time.
    if (r >= 0) r = sd_bus_call_async(pending->bus, &pending->slot, m, on_polkit_reply, pending, 120'000'000);
    sd_bus_message_unref(m);
    if (r < 0) finish(pending, Denial{kAccessDenied, std::string("Not authorized: cannot ask polkit: ") + std::strerror(-r)});
}

int on_uid_reply(sd_bus_message *reply, void *userdata, sd_bus_error *) {
    auto *pending = static_cast<Pending *>(userdata);
    uint32_t uid = 0;
    if (sd_bus_message_is_method_error(reply, nullptr) || sd_bus_message_read(reply, "u", &uid) < 0) {
        finish(pending, Denial{kAccessDenied, "Not authorized: the caller's identity is unknown"});
        return 0;
    }
    if (uid == 0) {
        finish(pending, std::nullopt);
        return 0;
    }
    sd_bus_slot_unref(pending->slot);
    pending->slot = nullptr;
    ask_polkit(pending);
    return 0;
}

}  // namespace

void Authorizer::check(sd_bus_message *call, std::function<void(std::optional<Denial>)> done) {
    if (!check_polkit_) {
        done(std::nullopt);
        return;
    }
    auto *pending = new Pending;
    pending->bus = bus_;
    pending->sender = sd_bus_message_get_sender(call) ? sd_bus_message_get_sender(call) : "";
    pending->interactive = sd_bus_message_get_allow_interactive_authorization(call) > 0;
    pending->done = std::move(done);
    const int r = sd_bus_call_method_async(bus_, &pending->slot, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                           "GetConnectionUnixUser", on_uid_reply, pending, "s", pending->sender.c_str());
    if (r < 0) finish(pending, Denial{kAccessDenied, std::string("Not authorized: cannot identify the caller: ") + std::strerror(-r)});
}

}  // namespace dailysync
