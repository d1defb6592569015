// The D-Bus names of dailysyncd, defined once for the daemon (service/bus.cpp) and its
// client (ctl/client.cpp). Stable: admins' scripts and monitoring depend on them
// (docs/dbus-api.md).
#pragma once

namespace dailysync::dbus {

inline constexpr const char *kBusName = "io.dailysync1";
inline constexpr const char *kObjectPath = "/io/dailysync1";
inline constexpr const char *kInterface = "io.dailysync1.Manager";

inline constexpr const char *kErrorAlreadyRunning = "io.dailysync1.Error.AlreadyRunning";
inline constexpr const char *kErrorNotRunning = "io.dailysync1.Error.NotRunning";
inline constexpr const char *kErrorStopping = "io.dailysync1.Error.Stopping";
inline constexpr const char *kErrorLocked = "io.dailysync1.Error.Locked";
inline constexpr const char *kErrorNothingToRetry = "io.dailysync1.Error.NothingToRetry";
inline constexpr const char *kErrorInvalidConfig = "io.dailysync1.Error.InvalidConfig";
inline constexpr const char *kErrorNoSuchRun = "io.dailysync1.Error.NoSuchRun";
inline constexpr const char *kErrorUnreadable = "io.dailysync1.Error.Unreadable";
inline constexpr const char *kErrorPrefix = "io.dailysync1.Error.";

}  // namespace dailysync::dbus
