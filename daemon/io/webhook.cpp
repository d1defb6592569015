#include "io/webhook.hpp"

#include <curl/curl.h>
#include <memory>
#include <mutex>

namespace dailysync {

namespace {
std::size_t discard(char *, std::size_t size, std::size_t count, void *) { return size * count; }
}  // namespace

WebhookResult post_json(const std::string &url, const std::string &body, int timeout_seconds) {
    static std::once_flag init;
    std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    WebhookResult result;
    std::unique_ptr<CURL, void (*)(CURL *)> curl(curl_easy_init(), curl_easy_cleanup);
    if (!curl) {
        result.error = "libcurl could not start a request";
        return result;
    }
    std::unique_ptr<curl_slist, void (*)(curl_slist *)> headers(
        curl_slist_append(curl_slist_append(nullptr, "Content-Type: application/json"), "User-Agent: dailysyncd"), curl_slist_free_all);
    char error[CURL_ERROR_SIZE] = "";
    CURL *c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    // An https URL never follows a redirect to plain http (the body would go in clear).
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, url.rfind("https://", 0) == 0 ? "https" : "http,https");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(c, CURLOPT_TIMEOUT, static_cast<long>(timeout_seconds));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, static_cast<long>(timeout_seconds));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);   // on a worker thread: no SIGALRM for name lookups
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 3L);
    curl_easy_setopt(c, CURLOPT_POSTREDIR, static_cast<long>(CURL_REDIR_POST_ALL));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
    const CURLcode code = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &result.status);
    if (code != CURLE_OK) {
        result.error = error[0] ? error : curl_easy_strerror(code);
        return result;
    }
    result.ok = result.status >= 200 && result.status < 300;
    if (!result.ok) result.error = "the server answered HTTP " + std::to_string(result.status);
    return result;
}

}  // namespace dailysync
