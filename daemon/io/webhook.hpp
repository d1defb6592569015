// HTTP POST of a JSON body (the alerts webhook), with libcurl: TLS, proxies from the
// environment, redirects and timeouts done by a well-kept library rather than by us.
// Blocking: call it on a worker.
#pragma once

#include <string>

namespace dailysync {

struct WebhookResult {
    bool ok = false;
    long status = 0;      // HTTP status, 0 when there was no answer
    std::string error;    // why not ok, for the journal
};

WebhookResult post_json(const std::string &url, const std::string &body, int timeout_seconds);

}  // namespace dailysync
