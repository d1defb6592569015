// Who may call the privileged methods (StartRun, CancelRun, Reload): root always; anyone
// else when polkit grants the action io.dailysync1.manage (shipped in
// systemd/io.dailysync1.policy, auth_admin_keep). Asynchronous from start to end: the
// caller's uid comes from the bus (GetConnectionUnixUser), the verdict from polkit
// (CheckAuthorization), both as non-blocking calls, so the loop never waits. No answer
// from polkit (not installed, not running, an error) means no.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <systemd/sd-bus.h>

namespace dailysync {

inline constexpr const char *kManageAction = "io.dailysync1.manage";

struct Denial {
    std::string error_name;   // org.freedesktop.DBus.Error.AccessDenied or ...InteractiveAuthorizationRequired
    std::string message;
};

class Authorizer {
public:
    // `check_polkit`: false on the session bus (everyone there is the session's user).
    Authorizer(sd_bus *bus, bool check_polkit) : bus_(bus), check_polkit_(check_polkit) {}
    // Calls `done` (later, from the bus's own processing) with nullopt when the sender of
    // `call` may act, else with why not.
    void check(sd_bus_message *call, std::function<void(std::optional<Denial>)> done);

private:
    sd_bus *bus_;
    bool check_polkit_;
};

}  // namespace dailysync
