// HttpClient: the libcurl HttpTransport (http_transport.h states the
// contract): one easy handle, i.e. one keep-alive connection, for the Swift
// and identity requests of one thread.
//
// TLS peers are verified by default against the system CA store or
// TlsOptions::ca_file. Request headers (tokens, keys) are never logged;
// error messages name the method and URL only, and URLs carry no secrets.
// At most 16 MiB of a response body are kept.
#ifndef VHDSM_UPLOAD_HTTP_CLIENT_H_
#define VHDSM_UPLOAD_HTTP_CLIENT_H_

#include <memory>

#include "base/status.h"
#include "upload/http_transport.h"

typedef void CURL;

namespace upload {

class HttpClient : public HttpTransport {
 public:
  explicit HttpClient(const HttpOptions& options);
  ~HttpClient() override;
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  base::Status Perform(const HttpRequest& request,
                       HttpResponse* response) override;

 private:
  HttpOptions options_;
  CURL* curl_;
};

// The factory of HttpClients: the default wherever a factory is optional.
std::unique_ptr<HttpTransport> NewHttpClient(const HttpOptions& options);

}  // namespace upload

#endif  // VHDSM_UPLOAD_HTTP_CLIENT_H_
